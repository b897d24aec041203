"""The installed theme's file listing, kept for the life of a `mkdocs serve`.

On every build MkDocs lists every file of the theme to find the static ones it copies
(``Files.add_files_from_theme``): mkdocs-material ships about 14,500 files (its icons), so each serve rebuild walks
them and matches every name against a dozen patterns again, about 0.15 s of a one-page rebuild. An installed
package's files do not change while the server runs, so for the theme folders inside the interpreter's package
directories the filtered listing is kept; any other folder (a ``custom_dir``, a theme installed in editable mode) is
listed afresh every time, as MkDocs does. Only MkDocs' own listing call is served from the cache: any other caller of
``list_templates`` (with another filter) gets Jinja's answer.
"""

from __future__ import annotations

import os
import sysconfig
from collections.abc import Callable
from typing import Any

import jinja2
from mkdocs.config.defaults import MkDocsConfig

#: MkDocs' filter of theme files in ``Files.add_files_from_theme`` (a closure defined there).
_MKDOCS_FILTER = ("mkdocs.structure.files", "Files.add_files_from_theme.<locals>.filter")

Listing = dict[tuple[Any, ...], list[str]]


def installed_folders() -> tuple[str, ...]:
    """The interpreter's package directories: what is under them is an installed package."""
    paths = sysconfig.get_paths()
    return tuple(sorted({os.path.realpath(paths[name]) + os.sep for name in ("purelib", "platlib") if name in paths}))


def _is_installed(folder: str, packages: tuple[str, ...]) -> bool:
    return (os.path.realpath(folder) + os.sep).startswith(packages)


def keep_theme_listing(config: MkDocsConfig, cache: Listing, packages: tuple[str, ...] | None = None) -> None:
    """Make ``config.theme.get_env()`` give environments whose MkDocs listing of the installed theme folders comes
    from ``cache`` (filled on first use); ``packages``: the folders counted as installed (default: the
    interpreter's)."""
    theme = config.theme
    packages = installed_folders() if packages is None else packages
    made = theme.get_env

    def get_env() -> jinja2.Environment:
        env = made()
        loader = env.loader
        if not isinstance(loader, jinja2.FileSystemLoader):
            return env
        list_templates = env.list_templates

        def listed(extensions: Any = None, filter_func: Callable[[str], bool] | None = None) -> list[str]:
            if extensions is not None or filter_func is None or \
                    (filter_func.__module__, filter_func.__qualname__) != _MKDOCS_FILTER:
                return list_templates(extensions, filter_func)
            names: set[str] = set()
            for folder in loader.searchpath:
                # What the filter lets through depends on the theme's static templates (and MkDocs' constants).
                key = (folder, tuple(theme.static_templates), filter_func.__code__)
                found = cache.get(key)
                if found is None:
                    found = [name for name in _names(folder) if filter_func(name)]
                    if _is_installed(folder, packages):
                        cache[key] = found
                names.update(found)
            return sorted(names)

        env.list_templates = listed  # type: ignore[method-assign]
        return env

    theme.get_env = get_env  # type: ignore[method-assign]


def _names(folder: str) -> list[str]:
    """The template names under one folder, as ``jinja2.FileSystemLoader.list_templates`` gives them."""
    return jinja2.FileSystemLoader(folder).list_templates()
