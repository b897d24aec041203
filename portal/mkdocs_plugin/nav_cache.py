"""mkdocs-material's site navigation rendered once per distinct input, not once per page, while pages are built
ahead (:mod:`portal.mkdocs_plugin.theme_pages`).

Every page mkdocs-material builds carries the whole site navigation (``partials/nav.html``): about half the time
its template takes for a generated page. Yet the navigation of a page that is not itself in it (an event page, a
domain page) depends on nothing of that page but the links MkDocs' ``url`` filter makes relative to it, and on
which sections are open (none, for such a page). So, while pages are built, the navigation is rendered once for
each distinct set of those relative links and open sections, and reused for every other page with the same set.

This holds only for mkdocs-material's own navigation templates, whose inputs are the site's navigation, its
configuration and the page's relative links. It is used only when the site does not override any of them (a
``custom_dir`` partial may read anything), and only for pages outside the navigation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import jinja2
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.nav import Navigation
from mkdocs.utils import normalize_url

NAV_TEMPLATE = "partials/nav.html"
#: The templates the navigation is made of: each must be mkdocs-material's own for the navigation to be cached.
NAV_TEMPLATES = (NAV_TEMPLATE, "partials/nav-item.html", "partials/logo.html", "partials/source.html",
                 "partials/toc.html", "partials/toc-item.html")


@contextmanager
def cached_navigation(env: jinja2.Environment, config: MkDocsConfig, nav: Navigation) -> Iterator[None]:
    """Within the block, ``env`` renders mkdocs-material's navigation once per distinct input (see the module
    docstring); outside it, as ever. Does nothing unless the navigation is mkdocs-material's own."""
    template = _material_navigation(env)
    if template is None:
        yield
        return
    render = template.root_render_func
    template.root_render_func = _Cached(render, config, nav)  # type: ignore[method-assign]
    try:
        yield
    finally:
        template.root_render_func = render  # type: ignore[method-assign]


def _material_navigation(env: jinja2.Environment) -> jinja2.Template | None:
    """The compiled ``partials/nav.html`` if it and every partial it includes come from mkdocs-material's own
    templates folder."""
    try:
        import material
    except ImportError:
        return None
    if env.is_async or env.loader is None:
        return None
    own = Path(material.__file__).resolve().parent / "templates"
    for name in NAV_TEMPLATES:
        try:
            _, filename, _ = env.loader.get_source(env, name)
        except jinja2.TemplateNotFound:
            return None
        if filename is None or Path(filename).resolve().parent.parent != own:
            return None
    return env.get_template(NAV_TEMPLATE)


class _Cached:
    """A template's render function that keeps its output per :meth:`key`."""

    def __init__(self, render: Callable[[Any], Iterator[str]], config: MkDocsConfig, nav: Navigation) -> None:
        self._render = render
        self._in_nav = {id(page) for page in nav.pages}
        items: list[Any] = []
        urls: list[str] = []

        def walk(children: list[Any]) -> None:
            for item in children:
                items.append(item)
                if getattr(item, "children", None):
                    walk(item.children)
                elif getattr(item, "url", None) is not None:
                    urls.append(str(item.url))

        walk(nav.items)
        if nav.homepage is not None:
            urls.append(str(nav.homepage.url))
        extra_config: Any = config.extra or {}
        for extra in (extra_config.get("homepage"), config.theme.get("logo")):
            if extra:
                urls.append(str(extra))
        self._items = items
        self._urls = urls
        self._outputs: dict[tuple[Any, ...], str] = {}

    def key(self, context: jinja2.runtime.Context) -> tuple[Any, ...] | None:
        """What the navigation's output depends on for this page; ``None`` for a page in the navigation (it is
        shown open, with its table of contents)."""
        page = context.get("page")
        if page is None or id(page) in self._in_nav:
            return None
        base = context.get("base_url", "")
        return (tuple(normalize_url(url, page=page, base=base) for url in self._urls),
                tuple(bool(getattr(item, "active", False)) for item in self._items))

    def __call__(self, context: jinja2.runtime.Context) -> Iterator[str]:
        key = self.key(context)
        if key is None:
            yield from self._render(context)
            return
        output = self._outputs.get(key)
        if output is None:
            output = self._outputs[key] = "".join(self._render(context))
        yield output
