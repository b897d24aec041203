"""Generated pages converted ahead in forked workers and streamed through files build the very site MkDocs builds
from the pre-rendered pages: same HTML, table of contents, titles, anchors and warnings."""

from __future__ import annotations

import copy
import dataclasses
import logging
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from markupsafe import Markup

from conftest import ROOT
from pipeline import forking
from portal.cli.main import main


def _copy_example(target: Path, *, plugin: bool) -> Path:
    for name in ("docs", "asyncapi", "subscriptions"):
        shutil.copytree(ROOT / name, target / name)
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    if not plugin:
        config["plugins"] = [p for p in config["plugins"] if not (isinstance(p, dict) and "eventdeck" in p)]
    path = target / "mkdocs.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def _build(config_file: Path, *, command: str = "build") -> Path:
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    config = load_config(str(config_file), site_dir=str(config_file.parent / "site"))
    config.plugins.on_startup(command=command, dirty=False)
    try:
        build(config)
    finally:
        config.plugins.on_shutdown()
    return config_file.parent / "site"


def _pages(site: Path) -> dict[str, str]:
    """Every generated page's HTML; lines of only whitespace are left out (the plugin excludes its pages from
    material's own indexer with page metadata, and material's templates print a few more blank lines then)."""
    return {str(p.relative_to(site)): "\n".join(line for line in p.read_text(encoding="utf-8").split("\n")
                                                if line.strip())
            for p in sorted((site / "events").rglob("*.html"))}


def _sitemap(site: Path) -> list[str]:
    import re

    return sorted(re.findall(r"<url>.*?</url>", (site / "sitemap.xml").read_text(encoding="utf-8"), re.S))


@pytest.fixture
def in_workers(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Every page goes through two forked workers, as in a large catalogue; yields the worker counts used."""
    import portal.mkdocs_plugin.generated_pages as generated_pages
    import portal.mkdocs_plugin.theme_pages as theme_pages
    import portal.render.site as site

    monkeypatch.setattr(forking.threading, "active_count", lambda: 1)
    monkeypatch.setattr(site, "PARALLEL_THRESHOLD", 4)
    monkeypatch.setattr(generated_pages, "PARALLEL_THRESHOLD", 4)
    monkeypatch.setattr(theme_pages, "PARALLEL_THRESHOLD", 4)
    monkeypatch.setenv(forking.WORKERS_ENV, "2")
    counts: list[int] = []
    count = forking.worker_count

    def counted(*args: Any, **kwargs: Any) -> int:
        counts.append(count(*args, **kwargs))
        return counts[-1]

    monkeypatch.setattr(forking, "worker_count", counted)
    yield counts
    assert counts.count(2) >= 2, "the pages were not rendered and converted in forked workers"


def _built_ahead(monkeypatch: pytest.MonkeyPatch) -> list[set[str]]:
    """Records the pages each build built ahead in workers (theme_pages)."""
    import portal.mkdocs_plugin.plugin as plugin

    built: list[set[str]] = []
    build_ahead = plugin.build_ahead

    def counted(*args: Any, **kwargs: Any) -> Any:
        ahead = build_ahead(*args, **kwargs)
        built.append({page.file.src_uri for page in ahead.pages} if ahead is not None else set())
        return ahead

    monkeypatch.setattr(plugin, "build_ahead", counted)
    return built


def test_pages_converted_and_built_in_workers_are_byte_identical_to_a_stock_build_of_the_pre_rendered_pages(
        tmp_path: Path, in_workers: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    import portal.mkdocs_plugin.plugin as plugin

    built = _built_ahead(monkeypatch)
    converted_later: list[str] = []
    convert_pages = plugin.convert_pages

    def recorded(config: Any, files: Any, src_uris: Any, *args: Any, **kwargs: Any) -> None:
        converted_later.extend(src_uris)
        convert_pages(config, files, src_uris, *args, **kwargs)

    monkeypatch.setattr(plugin, "convert_pages", recorded)
    plain = _copy_example(tmp_path / "plain", plugin=False)
    assert main(["docs", "-f", str(plain), "--docs-dir", str(plain.parent / "docs")]) == 0
    plain_site = _build(plain)
    expected = _pages(plain_site)
    plugin_site = _build(_copy_example(tmp_path / "plugin", plugin=True))
    got = _pages(plugin_site)
    assert len(got) > 30
    assert built and len(built[0]) > len(got) * 3 // 4  # the generated pages (not those an explicit nav names)
    # Event pages, and the document, group and level pages, were converted by the workers that rendered them
    # (pages that are no skeleton of headings and raw HTML blocks, later, with MkDocs' files).
    assert converted_later and "events/Payment.Captured.Ecom.md" not in converted_later
    assert not [uri for uri in converted_later if uri.startswith("events/levels/")]
    assert (plugin_site / "events" / "levels").is_dir()
    assert got.keys() == expected.keys()
    for name, text in expected.items():
        assert got[name] == text, name
    # The theme's own templates still list every page, those built ahead too (the plugin's files come in
    # another order).
    assert len(_sitemap(plain_site)) > 30 and _sitemap(plugin_site) == _sitemap(plain_site)


def test_a_dirty_serve_rebuild_converts_in_workers_and_shows_the_edit_on_the_page_and_in_search(
        tmp_path: Path, in_workers: list[int]) -> None:
    from test_cache_invalidation import Serve, examples_copy, reword_shows_on_the_page_and_in_search
    from test_portal_build import project

    examples_copy(tmp_path / "asyncapi")
    serve = Serve(project(tmp_path, {}), tmp_path / "site", dirty=True)
    try:
        reword_shows_on_the_page_and_in_search(serve)
    finally:
        serve.close()


def test_warnings_of_pages_converted_in_workers_are_logged_by_the_build_and_fail_a_strict_build(
        tmp_path: Path, in_workers: list[int], monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    from mkdocs.exceptions import Abort

    import portal.render.site as site

    tidy = site._tidy
    monkeypatch.setattr(site, "_tidy", lambda markdown: tidy(markdown + "\n\nSee [nowhere](nowhere.md).\n"))
    config = _copy_example(tmp_path / "plugin", plugin=True)
    with caplog.at_level(logging.WARNING, logger="mkdocs"), pytest.raises(Abort, match="strict mode"):
        from mkdocs.commands.build import build
        from mkdocs.config import load_config
        build(load_config(str(config), site_dir=str(tmp_path / "site"), strict=True))
    broken = [record.getMessage() for record in caplog.records if "nowhere.md" in record.getMessage()]
    assert any("events/Payment.Captured.Ecom.md" in message for message in broken)
    assert len(broken) > 30 and len(set(broken)) == len(broken)  # every generated page's warning, logged once


def test_a_page_folder_holds_the_same_pages_and_rewrites_only_what_changed(
        tmp_path: Path, in_workers: list[int]) -> None:
    from pipeline.contract import ContractLoader
    from portal.render import PageFolder, SiteRenderer

    catalogue = ContractLoader().load([ROOT / "asyncapi"])
    expected = SiteRenderer().render(catalogue).pages
    folder = PageFolder(tmp_path / "pages")
    renderer = SiteRenderer(folder=folder)
    site = renderer.render(catalogue)
    assert dict(site.pages) == expected
    assert {str(p.relative_to(folder.root)) for p in folder.root.rglob("*.md")} == set(expected)
    written = {p: p.stat().st_mtime_ns for p in folder.root.rglob("*.md")}
    again = SiteRenderer(folder=folder)  # a fresh renderer: no cache, every page rendered again
    assert dict(again.render(catalogue).pages) == expected
    assert {p: p.stat().st_mtime_ns for p in folder.root.rglob("*.md")} == written  # same text: not rewritten
    fewer = again.render(ContractLoader().load([ROOT / "asyncapi" / "baskets.yaml"]))
    gone = set(expected) - set(fewer.pages)
    assert gone and not any((folder.root / src_uri).exists() for src_uri in gone)
    assert {str(p.relative_to(folder.root)) for p in folder.root.rglob("*.md")} == set(fewer.pages)


def test_a_generated_page_keeps_its_html_in_a_file_not_in_memory(tmp_path: Path) -> None:
    from mkdocs.config import load_config
    from mkdocs.structure.files import File

    from portal.mkdocs_plugin.generated_pages import GeneratedPage, HtmlFiles

    config = load_config(str(_copy_example(tmp_path, plugin=False)))
    html = HtmlFiles(tmp_path / "html")
    file = File("events/x.md", src_dir=str(tmp_path / "docs"), dest_dir=str(tmp_path / "site"),
                use_directory_urls=True)
    page = GeneratedPage(file, config, html, index_search=False)
    assert page.content is None
    page.content = "<p>one</p>"
    assert html.read("events/x.md") == "<p>one</p>" and page.content == "<p>one</p>"
    page.release()
    html.write("events/x.md", "<p>two</p>")
    assert page.content == "<p>two</p>"  # read from the file when asked for
    page.content = page.content  # handed back unchanged: nothing to write
    assert html.read("events/x.md") == "<p>two</p>"


def test_pages_are_built_ahead_only_when_no_other_plugin_looks_at_pages_as_they_are_built(tmp_path: Path) -> None:
    from mkdocs.config import load_config

    from portal.mkdocs_plugin.theme_pages import hooks_allow

    config = load_config(str(_copy_example(tmp_path, plugin=True)))
    assert hooks_allow(config)  # mkdocs-material's search and eventdeck

    class Counting:
        def on_page_context(self, context: Any, **kwargs: Any) -> Any:
            return context

    config.plugins.events["page_context"].append(Counting().on_page_context)
    assert not hooks_allow(config)
    mkdocs_theme = yaml.safe_load((tmp_path / "mkdocs.yml").read_text(encoding="utf-8"))
    mkdocs_theme["theme"] = {"name": "mkdocs"}  # its search plugin indexes every page as it is built
    (tmp_path / "mkdocs.yml").write_text(yaml.safe_dump(mkdocs_theme), encoding="utf-8")
    assert not hooks_allow(load_config(str(tmp_path / "mkdocs.yml")))


@pytest.mark.parametrize("edit", ["description", "summary", "rename", "drop-example"])
def test_a_render_after_an_edit_gives_the_pages_a_fresh_render_gives_and_rewrites_only_what_changed(
        tmp_path: Path, edit: str) -> None:
    import sys

    from pipeline.contract import ContractLoader
    from portal.render import PageFolder, SiteRenderer

    sys.path.insert(0, str(ROOT / "scripts"))
    from synthetic_catalogue import write_catalogue

    folder = tmp_path / "asyncapi"
    write_catalogue(folder, 4, 5, realistic=True)
    loader = ContractLoader()
    pages = PageFolder(tmp_path / "pages")
    renderer = SiteRenderer(folder=pages)
    renderer.render(loader.load([folder]))
    before = {p: p.stat().st_mtime_ns for p in pages.root.rglob("*.md")}
    path = sorted(folder.rglob("domain-*.yaml"))[1]
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    message = next(iter(document["components"]["messages"].values()))
    if edit == "description":
        message["description"] = "Reworded for the test."
    elif edit == "summary":
        message["summary"] = "A new summary, shown in the tables of its level and group pages."
    elif edit == "rename":
        message["name"] = message["name"] + "Renamed"
    else:
        message["examples"] = message["examples"][:1]
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    catalogue = loader.load([folder])
    again = renderer.render(catalogue)
    fresh = SiteRenderer().render(catalogue)
    assert dict(again.pages) == dict(fresh.pages)
    assert again.files == fresh.files
    after = {p: p.stat().st_mtime_ns for p in pages.root.rglob("*.md")}
    rewritten = {p for p in after if before.get(p) != after[p]}
    assert rewritten and len(rewritten) < len(after) // 2  # the edited document's pages, not the whole site


def test_a_page_that_fails_in_a_worker_is_left_to_mkdocs_which_builds_it(
        tmp_path: Path, in_workers: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    import portal.mkdocs_plugin.theme_pages as theme_pages

    built = _built_ahead(monkeypatch)
    failing = "events/Payment.Captured.Ecom.md"
    get_context = theme_pages.get_context

    def fails_for_one(nav: Any, files: Any, config: Any, page: Any = None, **kwargs: Any) -> Any:
        if page is not None and page.file.src_uri == failing:
            raise RuntimeError("a worker's failure")
        return get_context(nav, files, config, page, **kwargs)

    monkeypatch.setattr(theme_pages, "get_context", fails_for_one)  # the workers' context only, not MkDocs'
    site = _build(_copy_example(tmp_path / "plugin", plugin=True))
    page = (site / "events" / "Payment.Captured.Ecom" / "index.html").read_text(encoding="utf-8")
    assert "Payment.<wbr>Captured.<wbr>Ecom" in page and "</html>" in page
    assert built and len(built[0]) > 20 and failing not in built[0]


def _every_page(site: Path) -> dict[str, bytes]:
    return {str(p.relative_to(site)): p.read_bytes() for p in sorted(site.rglob("*.html"))}


def test_pages_built_with_the_navigation_rendered_once_are_byte_identical_to_pages_built_without(
        tmp_path: Path, in_workers: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    """mkdocs-material's navigation is rendered once per distinct set of relative links (nav_cache), and the
    search plugin skipped where it would change nothing: every page of the site, at every depth, in the
    navigation (shown open) or not, is what the theme renders for it page by page."""
    from contextlib import nullcontext

    import portal.mkdocs_plugin.nav_cache as nav_cache
    import portal.mkdocs_plugin.theme_pages as theme_pages

    built = _built_ahead(monkeypatch)
    log = tmp_path / "nav.log"  # the workers are forked: they append what they did to a file
    call = nav_cache._Cached.__call__

    def logged(self: Any, context: Any) -> Any:
        key = self.key(context)
        with log.open("a", encoding="utf-8") as out:
            out.write("open\n" if key is None else "reused\n" if key in self._outputs else "rendered\n")
        return call(self, context)


    monkeypatch.setattr(nav_cache._Cached, "__call__", logged)
    cached = _every_page(_build(_copy_example(tmp_path / "cached", plugin=True)))
    monkeypatch.setattr(theme_pages, "cached_navigation", lambda *args: nullcontext())
    monkeypatch.setattr(theme_pages, "_search_skips_excluded_pages", lambda *args: nullcontext())
    plain = _every_page(_build(_copy_example(tmp_path / "plain", plugin=True)))
    assert len(built) == 2 and built[0] == built[1] and len(built[0]) > 20
    assert {"events/Payment.Captured.Ecom.md", "events/domains/orders.md"} <= built[0]  # at two depths
    uses = log.read_text(encoding="utf-8").split()
    # One use per page, and one for the warm-up before the fork, whose navigation the workers inherit; rendered
    # at most once per folder (what the links are relative to) in each of the two workers.
    folders = {name.rpartition("/")[0] for name in built[0]}
    assert len(uses) == len(built[0]) + 1 and uses.count("rendered") <= 2 * len(folders) < len(uses) // 2
    assert cached.keys() == plain.keys()
    for name, html in plain.items():
        assert cached[name] == html, name


def test_the_navigation_of_a_page_in_it_is_rendered_for_that_page(tmp_path: Path) -> None:
    from mkdocs.config import load_config
    from mkdocs.structure.files import get_files
    from mkdocs.structure.nav import get_navigation

    from portal.mkdocs_plugin.nav_cache import _Cached

    config = load_config(str(_copy_example(tmp_path, plugin=True)))
    files = get_files(config)
    nav = get_navigation(files, config)
    cache = _Cached(lambda context: iter(()), config, nav)
    in_nav = nav.pages[1]
    assert cache.key({"page": in_nav, "base_url": ".."}) is None  # shown open, with its table of contents
    other = files.get_file_from_path("events/Basket.Abandoned.Eu.md").page  # not in the navigation
    key = cache.key({"page": other, "base_url": "../.."})
    assert key is not None and key[0][0] == "../.."  # links relative to the page (the home page)
    in_nav.active = True
    try:
        assert cache.key({"page": other, "base_url": "."}) != key  # a section open is another navigation
    finally:
        in_nav.active = False


def test_the_navigation_is_rendered_page_by_page_when_the_site_overrides_one_of_its_templates(
        tmp_path: Path) -> None:
    from mkdocs.config import load_config

    from portal.mkdocs_plugin.nav_cache import NAV_TEMPLATES, _material_navigation

    config_file = _copy_example(tmp_path, plugin=True)
    assert _material_navigation(load_config(str(config_file)).theme.get_env()) is not None
    for name in NAV_TEMPLATES:
        settings = yaml.safe_load(config_file.read_text(encoding="utf-8"))
        overrides = tmp_path / f"overrides-{name.replace('/', '-')}"
        (overrides / "partials").mkdir(parents=True)
        (overrides / name).write_text("{{ page.meta.anything }}", encoding="utf-8")
        settings["theme"]["custom_dir"] = str(overrides)
        config_file.write_text(yaml.safe_dump(settings, sort_keys=False), encoding="utf-8")
        assert _material_navigation(load_config(str(config_file)).theme.get_env()) is None, name


def test_the_search_plugin_is_skipped_only_for_an_excluded_page_it_would_leave_as_it_is(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mkdocs.config import load_config
    from mkdocs.structure.files import File
    from mkdocs.structure.pages import Page

    from portal.mkdocs_plugin.theme_pages import _search_skips_excluded_pages

    config = load_config(str(_copy_example(tmp_path, plugin=True)))
    search = config.plugins["material/search"]
    indexed: list[str] = []
    monkeypatch.setattr(search.search_index, "add_entry_from_context", lambda page: indexed.append(page.url))
    before = list(config.plugins.events["page_context"])

    def built(content: str, *, exclude: bool) -> str:
        page = Page("T", File("t.md", config.docs_dir, config.site_dir, True), config)
        page.meta = {"search": {"exclude": True}} if exclude else {}
        page.content = content
        with _search_skips_excluded_pages(config):
            config.plugins.on_page_context({}, page=page, config=config, nav=None)  # type: ignore[arg-type]
        return page.content

    plain = '<p class="x" data-search-exclude>Text</p>'
    assert built(plain, exclude=True) == plain and indexed == []  # skipped: it would have changed nothing
    assert built(plain, exclude=False) == plain and indexed == ["t/"]  # indexed
    boosted = '<h2 id="a" data-search-boost="2">A</h2>'
    assert built(boosted, exclude=True) == '<h2 id="a">A</h2>' and indexed == ["t/", "t/"]  # attribute removed
    assert config.plugins.events["page_context"] == before


def test_a_process_that_builds_two_sites_with_mkdocs_api_renders_the_second_afresh(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """MkDocs keeps a plugin that has on_startup for the life of the process, and its API builds without
    on_startup/on_shutdown: the second site must not get the first one's rendered pages from the renderer's caches
    (here, pages the first build rendered with a marker)."""
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    import portal.render.site as site

    tidy = site._tidy
    monkeypatch.setattr(site, "_tidy", lambda markdown: tidy(markdown + "\n\nFIRST-SITE-MARKER\n"))
    first = load_config(str(_copy_example(tmp_path / "first", plugin=True)), site_dir=str(tmp_path / "first/site"))
    build(first)
    monkeypatch.setattr(site, "_tidy", tidy)
    second = load_config(str(_copy_example(tmp_path / "second", plugin=True)),
                         site_dir=str(tmp_path / "second/site"))
    assert second.plugins["eventdeck"] is first.plugins["eventdeck"]  # the premise: one instance
    build(second)
    assert "FIRST-SITE-MARKER" in (tmp_path / "first/site/events/levels/Payment/index.html").read_text("utf-8")
    pages = [p for p in (tmp_path / "second/site/events").rglob("*.html")]
    assert len(pages) > 30 and not [p for p in pages if "FIRST-SITE-MARKER" in p.read_text(encoding="utf-8")]


def test_links_to_anchors_of_generated_pages_are_checked_as_mkdocs_checks_them(
        tmp_path: Path, in_workers: list[int], caplog: pytest.LogCaptureFixture) -> None:
    """A page's anchors are held joined in one string and made a set only when a link to the page is checked; its
    links to its own anchors that exist are not checked at all (they can only pass). A link to an anchor that is
    not there is still reported, to another page or to the page itself."""
    config_file = _copy_example(tmp_path, plugin=True)
    settings = yaml.safe_load(config_file.read_text(encoding="utf-8"))
    settings["validation"] = {"anchors": "warn"}
    settings["nav"].append({"Links": "links.md"})
    config_file.write_text(yaml.safe_dump(settings, sort_keys=False), encoding="utf-8")
    (tmp_path / "docs" / "links.md").write_text(
        "# Links\n\n[payload](events/Payment.Captured.Ecom.md#payload) "
        "[missing](events/Payment.Captured.Ecom.md#no-such-anchor) [here](#links) [nowhere](#nowhere)\n",
        encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="mkdocs"):
        _build(config_file)
    warnings = sorted(record.getMessage() for record in caplog.records if "anchor" in record.getMessage())
    assert len(warnings) == 2, warnings
    assert any("'events/Payment.Captured.Ecom.md' does not contain an anchor '#no-such-anchor'" in w for w in warnings)
    assert any("'#nowhere'" in w and "no such anchor on this page" in w for w in warnings)


def test_a_generated_page_checks_only_the_links_to_its_own_anchors_that_are_not_there() -> None:
    from mkdocs.structure.files import File

    from portal.mkdocs_plugin.generated_pages import _checkable, anchor_set, joined_anchors

    own, other = File("a.md", "docs", "site", True), File("b.md", "docs", "site", True)
    links = {own: {"x": "#x", "gone": "#gone"}, other: {"x": "b.md#x"}}
    assert _checkable(links, own, {"x"}) == {own: {"gone": "#gone"}, other: {"x": "b.md#x"}}
    assert _checkable({own: {"x": "#x"}}, own, {"x"}) == {}
    assert anchor_set(joined_anchors({"b", "a-1", "c_2"})) == {"a-1", "b", "c_2"} and anchor_set("") == set()


def test_registry_files_are_made_when_read_and_keep_their_source_while_their_schema_is_unchanged(
        tmp_path: Path) -> None:
    import json
    import sys

    from pipeline.contract import ContractLoader
    from portal.render import SiteRenderer

    sys.path.insert(0, str(ROOT / "scripts"))
    from synthetic_catalogue import write_catalogue

    folder = tmp_path / "asyncapi"
    write_catalogue(folder, 2, 3, realistic=True)
    loader, renderer = ContractLoader(), SiteRenderer()
    first = renderer.render(loader.load([folder]))
    schemas = [src_uri for src_uri in first.files if src_uri.endswith(".json")]
    assert len(schemas) == 12 and all(not isinstance(first.files.source(s), bytes) for s in schemas)
    for src_uri in schemas:
        published = json.loads(first.files[src_uri])
        assert published["$id"].endswith(src_uri.rpartition("/")[2]) and published["type"] == "object"
    path = sorted(folder.rglob("domain-*.yaml"))[0]
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    message = next(iter(document["components"]["messages"].values()))
    message["payload"]["description"] = "Reworded for the test."
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    again = renderer.render(loader.load([folder]))
    same = [s for s in schemas if again.files.source(s) is first.files.source(s)]
    assert 0 < len(same) < len(schemas)  # the other document's schemas: not made again, nor written again
    assert dict(again.files) == dict(SiteRenderer().render(loader.load([folder])).files)


def test_an_edit_to_one_event_renders_its_page_again_and_not_its_siblings(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The loader reads an edited document anew, so its other events come with new, equal objects: their pages are
    not rendered (nor written) again."""
    import sys

    import portal.render.site as site
    from pipeline.contract import ContractLoader
    from portal.render import PageFolder, SiteRenderer

    sys.path.insert(0, str(ROOT / "scripts"))
    from synthetic_catalogue import write_catalogue

    folder = tmp_path / "asyncapi"
    write_catalogue(folder, 2, 5, realistic=True)
    loader, pages = ContractLoader(), PageFolder(tmp_path / "pages")
    renderer = SiteRenderer(folder=pages)
    renderer.render(loader.load([folder]))
    before = {p: p.stat().st_mtime_ns for p in (pages.root / "events").glob("*.*.*.md")}  # the event pages
    assert len(before) == 10
    path = sorted(folder.rglob("domain-*.yaml"))[0]
    text = path.read_text(encoding="utf-8")
    message = next(iter(yaml.safe_load(text)["components"]["messages"].values()))
    start = text.index("summary:", text.index("messages:"))  # the first message's one-line summary, in place
    text = text[:start] + "summary: Reworded for the test." + text[text.index("\n", start):]
    path.write_text(text, encoding="utf-8")
    catalogue = loader.load([folder])
    rendered: list[str] = []
    render = site.Template.render

    def counted(self: Any, *args: Any, **kwargs: Any) -> str:
        rendered.append(str(kwargs.get("here")))
        return str(render(self, *args, **kwargs))

    monkeypatch.setattr(site.Template, "render", counted)
    renderer.render(catalogue)
    monkeypatch.undo()
    rewritten = [p.name for p, mtime in before.items() if p.stat().st_mtime_ns != mtime]
    assert rewritten == [f"{message['name']}.md"]
    # Document, group and level pages whose view is unchanged are not rendered again either.
    views = [here for here in renderer._page_views if here not in rendered]
    assert len(views) > len(renderer._page_views) // 2, rendered
    assert dict(renderer.render(catalogue).pages) == dict(SiteRenderer().render(catalogue).pages)


def test_parts_of_the_model_are_equal_only_when_they_are_the_same_value_of_the_same_types() -> None:
    from portal.render.site import _exactly_equal

    assert _exactly_equal({"a": [1, "x", None, 2.5]}, {"a": [1, "x", None, 2.5]})
    for a, b in [({"v": 1}, {"v": True}), ({"v": 1}, {"v": 1.0}), ({"a": 1, "b": 2}, {"b": 2, "a": 1}),
                 ([1, 2], (1, 2)), (frozenset({1}), frozenset({True})), ({"v": float("nan")}, {"v": float("nan")}),
                 (object(), object())]:
        assert not _exactly_equal(a, b), (a, b)
    looped_a: dict[str, object] = {}
    looped_a["self"] = looped_a
    looped_b: dict[str, object] = {}
    looped_b["self"] = looped_b
    assert _exactly_equal(looped_a, looped_b)
    shared_a: object = "leaf"  # a deep value whose parts are shared: compared once per pair, not 2**60 times
    shared_b: object = "leaf"
    for _ in range(60):
        shared_a, shared_b = [shared_a, shared_a], [shared_b, shared_b]
    assert _exactly_equal(shared_a, shared_b)
    deep_a: object = "leaf"
    deep_b: object = "leaf"
    for _ in range(300):
        deep_a, deep_b = [deep_a], [deep_b]
    assert not _exactly_equal(deep_a, deep_b)  # beyond a sane depth: different (rendered again)


def _reference_equal(a: Any, b: Any, depth: int = 0, seen: set[tuple[int, int]] | None = None) -> bool:
    """The plain recursive definition `_exactly_equal` must agree with (each leaf by a call of its own)."""
    if a is b:
        return True
    if type(a) is not type(b) or depth > 200:
        return False
    if isinstance(a, (str, int, float, bytes, type(None))):
        return bool(a == b)
    seen = set() if seen is None else seen
    if (id(a), id(b)) in seen:
        return True
    seen.add((id(a), id(b)))
    if isinstance(a, dict):
        return len(a) == len(b) and list(a) == list(b) and all(
            _reference_equal(value, b[name], depth + 1, seen) for name, value in a.items())
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_reference_equal(x, y, depth + 1, seen) for x, y in zip(a, b, strict=True))
    if isinstance(a, frozenset):
        return {(type(x), x) for x in a} == {(type(x), x) for x in b}
    if dataclasses.is_dataclass(a) and not isinstance(a, type):
        return all(_reference_equal(getattr(a, f.name), getattr(b, f.name), depth + 1, seen)
                   for f in dataclasses.fields(a))
    return False


@dataclasses.dataclass
class _Pair:
    left: Any
    right: Any


_leaves = st.one_of(st.none(), st.booleans(), st.integers(-2, 2), st.sampled_from([0.0, 1.0, float("nan")]),
                    st.sampled_from(["", "a", "b"]), st.builds(Markup, st.sampled_from(["a", "<b>"])))
_values = st.recursive(_leaves, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.lists(inner, max_size=3).map(tuple),
    st.dictionaries(st.sampled_from(["k", "l", "m"]), inner, max_size=3),
    st.builds(_Pair, inner, inner)), max_leaves=12)


@given(_values, _values)
@settings(max_examples=400, deadline=None)
def test_strict_equality_agrees_with_its_plain_definition(a: Any, b: Any) -> None:
    from portal.render.site import _exactly_equal

    assert _exactly_equal(a, b) == _reference_equal(a, b)
    assert _exactly_equal(a, copy.deepcopy(a)) == _reference_equal(a, copy.deepcopy(a))


def test_the_registry_written_by_forked_workers_is_the_one_written_here(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import portal.mkdocs_plugin.plugin as plugin

    here = _build(_copy_example(tmp_path / "here", plugin=True))
    monkeypatch.setattr(forking.threading, "active_count", lambda: 1)
    monkeypatch.setattr(plugin, "REGISTRY_PARALLEL", 4)
    monkeypatch.setenv(forking.WORKERS_ENV, "2")
    forked: list[int] = []
    count = forking.worker_count

    def counted(items: int, min_items: int, workers: int | None = None) -> int:
        if min_items == 4:
            forked.append(count(items, min_items, workers))
        return count(items, min_items, workers)

    monkeypatch.setattr(forking, "worker_count", counted)
    there = _build(_copy_example(tmp_path / "there", plugin=True))
    assert forked == [2], "the registry was not written by two workers"

    def schemas(site: Path) -> dict[str, bytes]:
        return {str(p.relative_to(site)): p.read_bytes() for p in sorted((site / "schemas").rglob("*.json"))}

    assert len(schemas(here)) > 20 and schemas(there) == schemas(here)


def test_a_plugin_that_changes_a_generated_pages_markdown_gets_it_converted_again(tmp_path: Path) -> None:
    # The conversion done ahead is used only while the Markdown is the very text of the page's file.
    config_file = _copy_example(tmp_path, plugin=True)
    (tmp_path / "hook.py").write_text(
        "def on_page_markdown(markdown, page, **kwargs):\n"
        "    if page.file.src_uri == 'events/Payment.Captured.Ecom.md':\n"
        "        return markdown + '\\n\\nAdded by a hook: **bold**.\\n'\n"
        "    return markdown\n", encoding="utf-8")
    config = yaml.safe_load(config_file.read_text(encoding="utf-8"))
    config["hooks"] = ["hook.py"]
    config_file.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    site = _build(config_file)
    page = (site / "events" / "Payment.Captured.Ecom" / "index.html").read_text(encoding="utf-8")
    assert "Added by a hook: <strong>bold</strong>." in page
    other = (site / "events" / "Payment.Declined.Ecom" / "index.html").read_text(encoding="utf-8")
    assert "Added by a hook" not in other and "Payment.Declined.Ecom" in other
