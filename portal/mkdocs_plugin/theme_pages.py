"""Generated pages built with the theme's template in forked workers, instead of in MkDocs' one-by-one loop.

Once every page is read, MkDocs builds each page with the theme's ``main.html``, one after the other in one
process; for mkdocs-material that is several milliseconds a page, the largest single part of a large catalogue's
build after eventdeck's own rendering. So, once the theme's environment is final (the plugin's ``on_env`` runs after
every other plugin's), :func:`build_ahead` builds the generated pages exactly as MkDocs' ``_build_page`` does (the
page active, MkDocs' template context, every plugin's ``on_page_context``, the page's template, every plugin's
``on_post_page``, the file written) in forked workers, replays here what they logged, and takes the pages out of
the files MkDocs is about to build. The plugin puts them back in the list of pages the theme's own templates
(``sitemap.xml``) see (:attr:`BuiltAhead.all_pages`), back among the files once MkDocs has chosen what to build,
and validates their links to anchors as MkDocs would have.

A plugin's ``on_page_context`` and ``on_post_page`` then see these pages in a worker, not in the build's own
process: anything it gathers from them there is lost. So pages are built ahead only when no plugin but eventdeck and
mkdocs-material's search (which leaves the generated pages out of its index: the plugin indexes them) has those
hooks (:func:`hooks_allow`); on any other site MkDocs builds them itself, as ever. A page that fails in a worker is
left to MkDocs, which reports the error the usual way.

Two shortcuts apply while the workers build, each giving the very page the theme would: mkdocs-material's site
navigation is rendered once per distinct input (:mod:`.nav_cache`), and its search plugin is not called for an
excluded page it would leave as it is (:func:`_search_skips_excluded_pages`). Together they halve a page's build.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import jinja2
from mkdocs import utils
from mkdocs.commands.build import get_context
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files
from mkdocs.structure.nav import Navigation
from mkdocs.structure.pages import Page

from pipeline.forking import fork_map, worker_count
from portal.mkdocs_plugin.generated_pages import captured_logs
from portal.mkdocs_plugin.nav_cache import cached_navigation

PARALLEL_THRESHOLD = 200
#: Plugins whose page hooks may run in a worker: they gather nothing from the generated pages.
SAFE_HOOK_MODULES = ("portal.mkdocs_plugin.", "material.plugins.search.")
_PAGE_HOOKS = ("page_context", "post_page")
#: What mkdocs-material's search plugin removes from every page (with ``\s?`` before it), found fast.
_SEARCH_ATTRIBUTE = re.compile(r'data-search-\w+="[^"]+"')

log = logging.getLogger("mkdocs.commands.build")  # MkDocs' own messages about the pages it builds


@dataclass
class BuiltAhead:
    """The pages built ahead, taken out of MkDocs' files until MkDocs has chosen which files it builds."""

    files: Files
    pages: list[Page] = field(default_factory=list)
    all_pages: list[File] = field(default_factory=list)  # what the theme's templates list, as before
    restored: bool = False

    def restore(self) -> None:
        """Put the pages back among the files (MkDocs' list of pages to build is made by then)."""
        if not self.restored:
            self.restored = True
            for page in self.pages:
                self.files.append(page.file)

    def validate_anchor_links(self, config: MkDocsConfig) -> None:
        """What MkDocs does for every page it built: warn of links to anchors that are not there."""
        for page in self.pages:
            page.validate_anchor_links(files=self.files, log_level=config.validation.links.anchors)


def hooks_allow(config: MkDocsConfig) -> bool:
    """Whether every plugin's per-page build hooks may run in a worker (see the module docstring)."""
    return all(type(getattr(method, "__self__", method)).__module__.startswith(SAFE_HOOK_MODULES)
               for hook in _PAGE_HOOKS for method in config.plugins.events[hook])


def build_ahead(config: MkDocsConfig, files: Files, doc_files: Sequence[File], nav: Navigation,
                env: jinja2.Environment, pages: Sequence[Page], *, workers: int | None) -> BuiltAhead | None:
    """Build ``pages`` in forked workers and take them out of ``files``; ``None`` when that would not pay (few pages,
    no fork, threads) or is not safe (:func:`hooks_allow`)."""
    if worker_count(len(pages), PARALLEL_THRESHOLD, workers) < 2 or not hooks_allow(config):
        return None
    ahead = BuiltAhead(files, all_pages=list(files.documentation_pages()))
    src_uris = [page.file.src_uri for page in pages]
    # Set up before the fork, so that every worker inherits them (and the navigation the warm-up rendered).
    with cached_navigation(env, config, nav), _search_skips_excluded_pages(config):
        _warm(config, doc_files, nav, env, pages[0])
        results = fork_map(_build_slice, src_uris, (config, files, doc_files, nav, env),
                           min_items=PARALLEL_THRESHOLD, workers=workers)
    for page, (ok, records) in zip(pages, results, strict=True):
        for record in records:
            logging.getLogger(record.name).handle(record)
        if ok:
            files.remove(page.file)
            ahead.pages.append(page)
    return ahead


def _warm(config: MkDocsConfig, doc_files: Sequence[File], nav: Navigation, env: jinja2.Environment,
          page: Page) -> None:
    """Render one page here, output dropped, so that the theme's templates (and the partials they include) are
    compiled once, before the fork, rather than in every worker."""
    config._current_page = page
    page.active = True
    try:
        with captured_logs():
            env.get_template(page.meta.get("template", "main.html")).render(get_context(nav, doc_files, config, page))
    except Exception:  # the page's own build reports it
        pass
    finally:
        page.active = False
        config._current_page = None


def _build_slice(state: tuple[MkDocsConfig, Files, Sequence[File], Navigation, jinja2.Environment],
                 src_uris: Sequence[str]) -> list[tuple[bool, tuple[logging.LogRecord, ...]]]:
    config, files, doc_files, nav, env = state
    return [_build_one(config, files, doc_files, nav, env, src_uri) for src_uri in src_uris]


@contextmanager
def _search_skips_excluded_pages(config: MkDocsConfig) -> Iterator[None]:
    """Within the block, mkdocs-material's search plugin is not called for a page it would leave as it is.

    Its ``on_page_context`` indexes the page unless the page's metadata excludes it (the plugin excludes its own
    pages: it indexes them itself), then removes ``data-search-*`` attributes from the page's HTML with a regular
    expression: about 3 ms on a generated event page, the largest single cost of building one with the theme.
    For an excluded page whose HTML has no such attribute, neither step changes anything; whether it has one is
    found without the expression's leading optional space, which makes it slow and cannot change whether it
    matches."""
    events = config.plugins.events["page_context"]
    origins = config.plugins._event_origins
    saved = list(events)
    for index, method in enumerate(events):
        if type(getattr(method, "__self__", None)).__module__.startswith("material.plugins.search."):
            wrapper = _unless_left_as_is(method)
            origins[wrapper] = origins.get(method, "<unknown>")
            events[index] = wrapper
    try:
        yield
    finally:
        for method in set(events) - set(saved):
            origins.pop(method, None)
        events[:] = saved


def _unless_left_as_is(method: Callable[..., Any]) -> Callable[..., Any]:
    def on_page_context(context: Any, *, page: Page, **kwargs: Any) -> Any:
        if (page.meta.get("search") or {}).get("exclude") and not _SEARCH_ATTRIBUTE.search(page.content or ""):
            return None
        return method(context, page=page, **kwargs)

    return on_page_context


def _build_one(config: MkDocsConfig, files: Files, doc_files: Sequence[File], nav: Navigation,
               env: jinja2.Environment, src_uri: str) -> tuple[bool, tuple[logging.LogRecord, ...]]:
    """Build one page as mkdocs.commands.build._build_page does; whether it was built, and what it logged."""
    file = files.get_file_from_path(src_uri)
    page = file.page if file is not None else None
    if page is None:
        return False, ()
    config._current_page = page
    page.active = True
    with captured_logs() as records:
        try:
            context = get_context(nav, doc_files, config, page)
            template = env.get_template(page.meta.get("template", "main.html"))
            context = config.plugins.on_page_context(context, page=page, config=config, nav=nav)
            output = template.render(context)
            output = config.plugins.on_post_page(output, page=page, config=config)
            if output.strip():
                utils.write_file(output.encode("utf-8", errors="xmlcharrefreplace"), page.file.abs_dest_path)
            else:
                log.info("Page skipped: '%s'. Generated empty output.", page.file.src_uri)
        except Exception:  # left to MkDocs, which builds the page again and reports the error
            return False, ()
        finally:
            page.active = False
            config._current_page = None
    return True, tuple(records)
