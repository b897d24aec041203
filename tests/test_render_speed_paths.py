"""The fast paths of an event page's rendering and conversion give exactly what the slow ones give.

Each shortcut that cut the CPU of an event page (a memo of plain leaf schemas shared by a catalogue's trees, ids
found with ``str.find``, headings converted once per shape) is compared here with the code it stands in for: on the
realistic synthetic catalogue, on the example documents, and on hostile input (markup in descriptions and names,
words that read like the shortcut's own stand-ins, schemas shared at different depths and under different names).
"""

from __future__ import annotations

import html
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from markupsafe import Markup
from mkdocs.config import load_config
from mkdocs.utils.meta import get_data

from conftest import ROOT
from pipeline.contract import load_catalogue
from portal.mkdocs_plugin.generated_pages import with_meta_data
from portal.mkdocs_plugin.html_stash import _ID, Stash, stash
from portal.mkdocs_plugin.skeleton import SkeletonConverter
from portal.render import Options, schema_html
from portal.render.markup import converted_description, description_html
from portal.render.schema_html import tree_html
from portal.render.schema_tree import MAX_DEPTH, MAX_ENUM, LeafMemo, schema_tree
from portal.render.site import SiteRenderer

sys.path.insert(0, str(ROOT / "scripts"))
from synthetic_catalogue import write_catalogue


@pytest.fixture(scope="module")
def realistic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("realistic")
    write_catalogue(folder, 3, 10, realistic=True)
    return folder


# ------------------------------------------------------------------------------------------ the leaf memo


def _trees_both_ways(schemas: list[tuple[Any, str]]) -> None:
    """Every tree built with one memo shared by all (as a catalogue's view does) equals the tree built alone."""
    memo: LeafMemo = {}
    for document, prefix in schemas:
        assert schema_tree(document, prefix, memo) == schema_tree(document, prefix)
    for document, prefix in reversed(schemas):  # the memo full, in the other order
        assert schema_tree(document, prefix, memo) == schema_tree(document, prefix)


@pytest.mark.parametrize("folder", ["realistic", "examples"])
def test_trees_with_the_leaf_memo_equal_trees_without_it_on_whole_catalogues(folder: str, realistic: Path) -> None:
    catalogue = load_catalogue([realistic if folder == "realistic" else ROOT / "asyncapi"])
    schemas = [(schema.document, prefix) for event in catalogue.events
               for schema, prefix in ((event.payload, "payload"), (event.headers, "headers"))
               if schema is not None and schema.is_json_schema]
    assert len(schemas) >= len(catalogue.events)
    _trees_both_ways(schemas)


def test_a_shared_schema_is_shown_by_where_it_is_used() -> None:
    # One dict under two names (its title is one of them), and one whose fields are only patternProperties, used
    # once below the depth limit (not expanded there) and once near the root (expanded): a memo that took either
    # for a plain leaf the first time would show it wrongly the second.
    amount = {"type": "integer", "title": "amount", "description": "<script>x</script> *minor* units",
              "minimum": 0, "x-unit": "cents", "enum": list(range(MAX_ENUM + 5))}
    patterned = {"patternProperties": {"^[a-z]+$": {"type": "string"}}}
    deep: dict[str, Any] = {"type": "object", "properties": {"tags": patterned, "amount": amount}}
    nested = {}
    for depth in range(MAX_DEPTH + 1):  # one of them puts "tags" at the depth limit
        deep = {"type": "object", "properties": {"next": deep}}
        nested[f"deep{depth}"] = deep
    nested = dict(reversed(nested.items()))  # the deepest first: what the memo sees first
    document = {"type": "object", "properties": {**nested, "total": amount, "amount": amount, "tags": patterned,
                                                 "<b>odd name</b>": amount, "x.y": {"type": "array", "items": amount}}}
    assert any(node.anchor.endswith(".tags") and not node.children and node.link is None
               for node in schema_tree(document).root.walk())
    shallow_first = {"type": "object", "properties": {"tags": patterned, "total": amount}}
    _trees_both_ways([(document, "payload"), (shallow_first, "payload"), (document, "headers")])
    _trees_both_ways([(shallow_first, "payload"), (document, "payload")])
    tree = schema_tree(document, "payload", {})
    shown = {node.anchor: node for node in tree.root.walk()}
    assert shown["payload.total"].title == "amount" and shown["payload.amount"].title is None
    assert shown["payload.tags"].children  # expanded near the root, whatever the memo saw deep down


@pytest.mark.parametrize("folder", ["realistic", "examples"])
def test_tree_html_with_remembered_fact_lists_is_the_html_written_afresh(folder: str, realistic: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    catalogue = load_catalogue([realistic if folder == "realistic" else ROOT / "asyncapi"])
    memo: LeafMemo = {}
    trees = [schema_tree(event.payload.document, "payload", memo) for event in catalogue.events
             if event.payload is not None and event.payload.is_json_schema]
    schema_html._FACT_LISTS.clear()
    remembered = [tree_html(tree) for tree in trees]
    assert schema_html._FACT_LISTS  # shared leaves' lists were remembered...
    again = [tree_html(tree) for tree in trees]  # ...and are now taken from there
    monkeypatch.setattr(schema_html, "_FACT_LISTS_SIZE", 0)
    schema_html._FACT_LISTS.clear()
    afresh = [tree_html(tree) for tree in trees]
    assert remembered == afresh and again == afresh


def test_tree_html_of_hostile_facts_is_the_same_remembered_or_not(monkeypatch: pytest.MonkeyPatch) -> None:
    shared = {"type": "string", "pattern": "<script>[a-z]{2}</script>", "enum": ["<b>", "`x`", "{y}", "&amp;"],
              "examples": ["</li>"], "x-note": {"a": "<i>"}, "default": "|"}
    document = {"type": "object", "properties": {name: shared for name in ("a", "<b>b</b>", "c&d", "e")}}
    memo: LeafMemo = {}
    trees = [schema_tree(document, prefix, memo) for prefix in ("payload", "headers", "payload")]
    schema_html._FACT_LISTS.clear()
    remembered = [tree_html(tree) for tree in trees]
    monkeypatch.setattr(schema_html, "_FACT_LISTS_SIZE", 0)
    assert remembered == [tree_html(tree) for tree in trees]
    assert "<script>" not in remembered[0] and "&lt;script&gt;" in remembered[0]


def test_the_leaf_memo_stays_within_its_bound_and_shows_the_same(realistic: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    catalogue = load_catalogue([realistic])
    documents = [event.payload.document for event in catalogue.events if event.payload is not None]
    expected = [schema_tree(document) for document in documents]
    monkeypatch.setattr(sys.modules[schema_tree.__module__], "MAX_LEAVES", 5)
    memo: LeafMemo = {}
    for document, tree in zip(documents, expected, strict=True):
        assert schema_tree(document, "payload", memo) == tree
        assert len(memo) <= 6  # cleared when full, then one added
    assert memo


_NAMES = st.sampled_from(["id", "amount", "Amount", "a b", "<i>x</i>", "&amp;", "{x}", ""])
_LEAVES = st.builds(
    lambda kind, title, description, extra: {"type": kind, **({"title": title} if title is not None else {}),
                                             "description": description, **extra},
    st.sampled_from(["string", "integer", "number", "boolean"]), st.none() | _NAMES,
    st.sampled_from(["plain", "<img src=x onerror=alert(1)>", "[a](javascript:b)", "**bold**\n\n- list"]),
    st.sampled_from([{}, {"format": "date-time"}, {"enum": ["a", "<b>"]}, {"const": 3}, {"pattern": "^[a-z]$"},
                     {"x-pii": True}, {"deprecated": True, "examples": ["e"]}, {"nullable": True}]))


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_trees_with_the_leaf_memo_equal_trees_without_it_on_schemas_that_share_dicts(data: st.DataObject) -> None:
    pool = data.draw(st.lists(_LEAVES, min_size=1, max_size=4))
    pool.append({"patternProperties": {"^x": {"type": "string"}}})
    pool.append({"$ref": "#/$defs/Shared"})
    pool.append({"allOf": [{"$ref": "#/$defs/Shared"}, {"description": "more"}]})
    shared = st.sampled_from(pool)  # the same dict objects, wherever they are drawn

    def objects(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
        return st.dictionaries(_NAMES, inner, min_size=1, max_size=3).map(
            lambda properties: {"type": "object", "properties": properties}) | inner.map(
            lambda item: {"type": "array", "items": item})

    documents = data.draw(st.lists(st.recursive(shared, objects, max_leaves=12), min_size=1, max_size=3))
    shared_definition = data.draw(shared)
    schemas = [({**document, "$defs": {"Shared": shared_definition}} if isinstance(document, dict) else document,
                "payload") for document in documents]
    _trees_both_ways(schemas)


# --------------------------------------------------------------------------------------------- block ids

_MARKUP = st.lists(st.sampled_from([" ", "\t", "\n", "\u2003", "\xa0", "x", "id=", '"', 'id="', "&amp;", "&lt;",
                                    "<div", ">", "data-", "é"]), max_size=30).map("".join)


@settings(max_examples=600, deadline=None)
@given(st.lists(_MARKUP, min_size=1, max_size=3))
def test_block_ids_are_what_the_regular_expression_finds(blocks: list[str]) -> None:
    assert Stash(blocks).anchor_ids() == {html.unescape(found) for block in blocks for found in _ID.findall(block)}


def test_block_ids_of_whole_event_pages_are_what_the_regular_expression_finds(realistic: Path) -> None:
    pages = SiteRenderer(Options(), workers=1).render(load_catalogue([realistic]), ()).pages
    count = 0
    for text in pages.values():
        blocks = stash(text)[1].blocks
        found = Stash(blocks).anchor_ids()
        assert found == {html.unescape(value) for block in blocks for value in _ID.findall(block)}
        count += len(found)
    assert count > 1000


# ------------------------------------------------------------------------------------ headings by shape


def _converter(folder: Path, extensions: list[Any]) -> SkeletonConverter:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "docs").mkdir(exist_ok=True)
    (folder / "mkdocs.yml").write_text(yaml.safe_dump({"site_name": "x", "markdown_extensions": extensions}),
                                       encoding="utf-8")
    return SkeletonConverter(load_config(str(folder / "mkdocs.yml")))


_WORDS = st.sampled_from(["Payment", "AuthorisedV2", "Ie7x15", "1", "21st", "Edw00q", "Edw01q", "edanchorq", "API",
                          "x", "example"])
_SEPARATORS = st.sampled_from([" ", "-", ".<wbr>"])
_HEADINGS = st.builds(
    lambda level, first, rest, anchor: f"{'#' * level} {first}{''.join(s + w for s, w in rest)} {{ #{anchor} }}",
    st.integers(1, 6), _WORDS, st.lists(st.tuples(_SEPARATORS, _WORDS), max_size=4),
    st.sampled_from(["a", "payment-authorised", "edanchorq", "Edw00q", "x1-2"]))
_SITES = [["attr_list", {"toc": {"permalink": True}}], ["attr_list", {"toc": {"permalink": "#", "toc_depth": 2}}],
          ["attr_list", "md_in_html", {"toc": {"anchorlink": True, "baselevel": 2}}], ["attr_list", "toc"],
          ["attr_list", {"toc": {"permalink": True}}, "pymdownx.smartsymbols", "abbr"]]


@pytest.mark.parametrize("site", range(len(_SITES)))
def test_headings_converted_by_shape_are_headings_converted_alone(site: int, tmp_path: Path) -> None:
    fast = _converter(tmp_path, _SITES[site])
    assert fast._word_blind is (site < 4)  # smartsymbols writes 21st as 21<sup>st</sup>: every heading as it is

    @settings(max_examples=150, deadline=None)
    @given(st.lists(_HEADINGS, min_size=1, max_size=6))
    def check(lines: list[str]) -> None:
        for line in lines:
            assert fast.heading(line) == fast._converted(line), line

    check()
    if site < 4:
        assert fast._shapes and all(shape is not None for shape in fast._shapes.values())


def test_an_event_page_skeleton_converts_the_same_with_headings_by_shape(realistic: Path, tmp_path: Path) -> None:
    pages = SiteRenderer(Options(), workers=1).render(load_catalogue([realistic]), ()).pages
    fast = _converter(tmp_path, ["attr_list", "md_in_html", "tables", {"toc": {"permalink": True}}, "admonition"])
    slow = _converter(tmp_path / "slow", ["attr_list", "md_in_html", "tables", {"toc": {"permalink": True}},
                                          "admonition"])
    slow._word_blind = False
    taken = 0
    for where, text in pages.items():
        one, other = fast.convert(*stash(text)), slow.convert(*stash(text))
        assert (one is None) is (other is None), where
        if one is not None and other is not None:
            taken += 1
            assert (one.html, one.title, one.anchors, one.self_links, one.toc.items == [] or str(one.toc)) == \
                   (other.html, other.title, other.anchors, other.self_links, other.toc.items == [] or str(other.toc))
    assert taken >= 30


# ----------------------------------------------------------------------------------------- page meta-data

_LINES = st.lists(st.sampled_from(["---", "...", "title: x", "Title:", "  key: v", "    more", "\tmore", "", " ",
                                   "\u2003", "<!-- Generated -->", "# Heading", "a: [1", "---x", "\r", "é"]),
                  max_size=8)


@settings(max_examples=600, deadline=None)
@given(_LINES, st.sampled_from(["\n", "\r\n", "\r"]))
def test_page_meta_data_is_what_mkdocs_reads(lines: list[str], newline: str) -> None:
    text = newline.join(lines)
    assert with_meta_data(text) == get_data(text)


def test_meta_data_of_generated_pages_is_what_mkdocs_reads(realistic: Path, tmp_path: Path) -> None:
    pages = SiteRenderer(Options(), workers=1).render(load_catalogue([realistic]), ()).pages
    for text in [*pages.values(), "---\ntitle: T\n---\n# x\n", "title: T\n\n# x\n", "\n\n# x\r\n"]:
        assert with_meta_data(text) == get_data(text)


# --------------------------------------------------------------------------------------------- descriptions

_PROSE_WORDS = st.lists(st.sampled_from(["Order", "é", "straße", "1", "2nd", "a", "x-y", "5%", "(ok)", "it's", "\"q\"",
                                         "a/b", "c:", "d;", "e.", "f,", "g?", "=", "+", "-", "---", "*", "_x_", "<b>",
                                         "&amp;", "[l](javascript:x)", "`c`", "|", "\xa0", "\u200b", "\t", "#", "1.",
                                         "!", "~", "\\", "{x}", "\x01", "\ufeff"]),
                        min_size=1, max_size=6)
_PARAGRAPH = st.tuples(_PROSE_WORDS, st.sampled_from([" ", "  ", "\n", " \n"])).map(lambda p: p[1].join(p[0]))


@settings(max_examples=800, deadline=None)
@given(st.lists(_PARAGRAPH, min_size=1, max_size=4), st.sampled_from(["\n\n", "\n\n\n", "\n \n", "\n"]),
       st.sampled_from(["", " ", "\n"]))
def test_descriptions_of_prose_paragraphs_are_what_markdown_and_the_sanitiser_write(
        paragraphs: list[str], between: str, around: str) -> None:
    text = around + between.join(paragraphs) + around
    if "\n\n" in text.strip():  # (a single line of plain text has its own, older shortcut)
        assert description_html.__wrapped__(text) == converted_description(text.strip())


def test_descriptions_of_the_realistic_catalogue_are_what_markdown_and_the_sanitiser_write(realistic: Path) -> None:
    texts = {text.strip() for event in load_catalogue([realistic]).events
             for text in (event.description, event.summary) if text and text.strip()}
    fast = sum(1 for text in texts if "\n\n" in text and description_html.__wrapped__(text) == Markup(
        "<p>" + "</p>\n<p>".join(text.split("\n\n")) + "</p>"))
    assert fast >= 10  # the catalogue's descriptions take the fast way
    for text in texts:
        if "\n\n" in text:
            assert description_html.__wrapped__(text) == converted_description(text)
