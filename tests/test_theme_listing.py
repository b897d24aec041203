"""The installed theme's listing kept across `mkdocs serve` rebuilds (portal/mkdocs_plugin/theme_listing.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from mkdocs.config import load_config
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import Files

from portal.mkdocs_plugin.plugin import EventdeckPlugin
from portal.mkdocs_plugin.theme_listing import Listing, installed_folders, keep_theme_listing


def _config(tmp_path: Path) -> MkDocsConfig:
    (tmp_path / "docs").mkdir(parents=True, exist_ok=True)
    (tmp_path / "docs" / "index.md").write_text("# Home\n", encoding="utf-8")
    custom = tmp_path / "overrides"
    (custom / "assets").mkdir(parents=True, exist_ok=True)
    (custom / "assets" / "own.css").write_text("body {}\n", encoding="utf-8")
    (tmp_path / "mkdocs.yml").write_text(
        "site_name: t\ntheme:\n  name: material\n  custom_dir: overrides\n", encoding="utf-8")
    return load_config(str(tmp_path / "mkdocs.yml"), site_dir=str(tmp_path / "site"))


def _theme_files(config: MkDocsConfig) -> list[tuple[str, str]]:
    files = Files([])
    files.add_files_from_theme(config.theme.get_env(), config)
    return [(file.src_uri, file.abs_src_path or "") for file in files]


def test_the_listing_is_mkdocs_own_and_the_installed_theme_is_listed_once(tmp_path: Path) -> None:
    expected = _theme_files(_config(tmp_path))
    assert ("assets/own.css", str(tmp_path / "overrides" / "assets" / "own.css")) in expected
    assert any(uri.startswith("assets/javascripts/") for uri, _ in expected)  # mkdocs-material's own

    config, cache = _config(tmp_path), Listing()
    keep_theme_listing(config, cache)
    assert _theme_files(config) == expected
    installed = [d for d in config.theme.dirs if d != config.theme.custom_dir]
    assert installed and sorted(key[0] for key in cache) == sorted(installed)  # the custom_dir is not kept
    assert _theme_files(config) == expected  # from the cache


def test_the_custom_dir_is_listed_afresh_and_an_installed_folder_is_not(tmp_path: Path) -> None:
    config, cache = _config(tmp_path), Listing()
    keep_theme_listing(config, cache)
    _theme_files(config)
    (tmp_path / "overrides" / "assets" / "added.css").write_text("p {}\n", encoding="utf-8")
    assert "assets/added.css" in [uri for uri, _ in _theme_files(config)]

    # A folder counted as installed is not walked again: what is added there (which does not happen to an
    # installed package while a server runs) is not seen until the process starts again.
    config, cache = _config(tmp_path / "second"), Listing()
    custom = str(tmp_path / "second" / "overrides")
    keep_theme_listing(config, cache, packages=(*installed_folders(), os.path.realpath(custom) + os.sep))
    first = _theme_files(config)
    assert custom in [key[0] for key in cache]
    (tmp_path / "second" / "overrides" / "assets" / "added.css").write_text("p {}\n", encoding="utf-8")
    assert _theme_files(config) == first


def test_other_listings_are_jinja_own(tmp_path: Path) -> None:
    config, cache = _config(tmp_path), Listing()
    expected = config.theme.get_env().list_templates(filter_func=lambda name: name.endswith(".css"))
    keep_theme_listing(config, cache)
    env = config.theme.get_env()
    assert env.list_templates(filter_func=lambda name: name.endswith(".css")) == expected
    assert env.list_templates(extensions=["html"]) == _config(tmp_path).theme.get_env().list_templates(["html"])
    assert not cache


@pytest.mark.parametrize("command, kept", [("serve", True), ("build", False)])
def test_the_plugin_keeps_the_listing_only_while_serving(tmp_path: Path, command: str, kept: bool) -> None:
    (tmp_path / "asyncapi").mkdir()
    config = _config(tmp_path)
    plugin = EventdeckPlugin()
    plugin.load_config({})
    plugin.on_startup(command=command, dirty=False)
    plugin.on_config(config)
    _theme_files(config)
    assert bool(plugin._theme_listing) is kept
