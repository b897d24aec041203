"""Generated pages converted from their skeleton (headings and raw HTML blocks, no Markdown run over the page) are
exactly what MkDocs' own conversion gives: HTML, table of contents, title, anchors and links, page by page."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from mkdocs.config import load_config
from mkdocs.structure.nav import get_navigation
from mkdocs.structure.toc import AnchorLink

from conftest import ROOT
from portal.mkdocs_plugin.generated_pages import GeneratedPage
from portal.mkdocs_plugin.html_stash import stash
from portal.mkdocs_plugin.skeleton import SkeletonConverter

sys.path.insert(0, str(ROOT / "scripts"))
from synthetic_catalogue import write_catalogue

TOC_SETTINGS = [
    {"permalink": True},
    {"permalink": "#", "permalink_class": "anchor", "toc_depth": 2},
    {"anchorlink": True, "baselevel": 2},
    {},
]


def _site(folder: Path, toc: dict[str, Any], *, realistic: bool) -> Path:
    if realistic:
        write_catalogue(folder / "asyncapi", 2, 6, realistic=True)
        (folder / "docs").mkdir()
        (folder / "docs" / "index.md").write_text("# Home\n", encoding="utf-8")
        config: dict[str, Any] = {"site_name": "x", "theme": {"name": "material", "font": False},
                                  "plugins": ["search", {"eventdeck": {"asyncapi": ["asyncapi"]}}]}
    else:
        for name in ("docs", "asyncapi", "subscriptions"):
            shutil.copytree(ROOT / name, folder / name)
        config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    extensions = [e for e in config.get("markdown_extensions", ["attr_list", "md_in_html", "tables"])
                  if not (e == "toc" or (isinstance(e, dict) and "toc" in e))]
    config["markdown_extensions"] = [*extensions, {"toc": toc}]
    path = folder / "mkdocs.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def _toc(items: Any) -> list[Any]:
    return [(item.title, item.url, item.level, _toc(item.children)) for item in items
            if isinstance(item, AnchorLink)]


def _both_ways(config_file: Path) -> tuple[int, int]:
    """Converts every generated page both ways and compares; returns (pages, pages taken from the skeleton)."""
    config = load_config(str(config_file), site_dir=str(config_file.parent / "site"))
    config.plugins.on_startup(command="build", dirty=False)
    try:
        config = config.plugins.on_config(config)
        config.plugins.on_pre_build(config=config)
        from mkdocs.structure.files import get_files

        files = config.plugins.on_files(get_files(config), config=config)
        get_navigation(files, config)
        pages = [f.page for f in files.documentation_pages() if isinstance(f.page, GeneratedPage)]
        fast_count = 0
        for page in pages:
            page.read_source(config)
            converter = page._html.skeletons(config)
            assert converter.works()
            fast = converter.convert(*stash(page.markdown or ""))
            fast_count += fast is not None
            quick = page.convert(config, files)
            quick_html = page._html.read(page.file.src_uri)
            page.markdown = page.file.content_string
            converter._works = False  # the usual way, Python-Markdown over the stashed page
            try:
                slow = page.convert(config, files)
            finally:
                converter._works = True
            slow_html = page._html.read(page.file.src_uri)
            where = page.file.src_uri
            assert quick_html == slow_html, where
            assert _toc(quick.toc) == _toc(slow.toc), where
            assert (quick.title, quick.anchors, quick.links, quick.search) == \
                   (slow.title, slow.anchors, slow.links, slow.search), where
        return len(pages), fast_count
    finally:
        config.plugins.on_shutdown()


@pytest.mark.parametrize("toc", TOC_SETTINGS, ids=["permalink", "symbol-depth2", "anchorlink-baselevel", "plain"])
def test_skeleton_conversion_equals_mkdocs_conversion_on_a_realistic_catalogue(tmp_path: Path,
                                                                              toc: dict[str, Any]) -> None:
    pages, fast = _both_ways(_site(tmp_path, toc, realistic=True))
    events = 12
    assert pages > events and fast >= events  # every event page at least takes the fast way


def test_skeleton_conversion_equals_mkdocs_conversion_on_the_example_site(tmp_path: Path) -> None:
    pages, fast = _both_ways(_site(tmp_path, {"permalink": True}, realistic=False))
    assert pages > 20 and fast > pages // 2


def _converter(tmp_path: Path, extensions: list[Any]) -> SkeletonConverter:
    (tmp_path / "docs").mkdir(parents=True, exist_ok=True)
    config = tmp_path / "mkdocs.yml"
    config.write_text(yaml.safe_dump({"site_name": "x", "markdown_extensions": extensions}), encoding="utf-8")
    return SkeletonConverter(load_config(str(config)))


def test_a_skeleton_with_other_markdown_or_a_heading_without_id_or_with_a_link_takes_the_usual_way(
        tmp_path: Path) -> None:
    converter = _converter(tmp_path, ["attr_list", {"toc": {"permalink": True}}])
    block = '<div class="x">a</div>'
    assert converter.convert(*stash(f"{block}\n\n## Fine {{ #fine }}\n\n{block}")) is not None
    assert converter.convert(*stash(f"{block}\n\n## No id\n\n{block}")) is None
    assert converter.convert(*stash(f"{block}\n\nA paragraph.\n\n## Fine {{ #fine }}")) is None
    assert converter.convert(*stash("## See [there](other.md) { #see }")) is None
    assert converter.convert(*stash("## Two\nlines { #two }")) is None


def test_a_site_whose_extensions_join_the_parts_differently_takes_the_usual_way(tmp_path: Path) -> None:
    # pymdownx.striphtml drops HTML comments, which the skeleton would keep.
    assert _converter(tmp_path, ["attr_list", "toc", "pymdownx.striphtml"]).works() is False
    assert _converter(tmp_path / "plain", ["attr_list", "toc"]).works() is True
