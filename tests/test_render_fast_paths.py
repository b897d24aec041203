"""The renderer's fast paths write exactly what the straightforward code they replace wrote.

Event pages are rendered thousands of times per build, so a few helpers are hand-written instead of calling the
general tool (``json.dumps`` with ``indent``, MarkupSafe's escaping through the templates' ``finalize``). Each is
held here, property-based, to the general tool's output, byte for byte: the committed pages and every page of a
catalogue must not change with the speed of their rendering.
"""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markupsafe import Markup, escape

from portal.render.markup import inert, json_block, json_inline, json_text, written
from portal.render.schema_tree import Fact, FieldNode, schema_tree

_TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=12) | st.sampled_from(
    ["", "<b>&amp;</b>", "[x](javascript:alert(1))", "{% dot %}", "`|\\\n\r\t", "\u2028\u202e\ufeff", "\x00\x1f"])
_SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True) | _TEXT
_JSON = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_TEXT, inner, max_size=4),
                     max_leaves=30)
#: What a YAML document can also hold, which the fast path leaves to ``json.dumps``: keys that are not strings,
#: tuples, values only ``default=str`` can write.
_UNUSUAL = st.recursive(
    _SCALARS | st.dates() | st.just(math.pi),
    lambda inner: st.lists(inner, max_size=3) | st.tuples(inner, inner)
    | st.dictionaries(_TEXT | st.integers() | st.booleans() | st.none() | st.floats(allow_nan=False), inner,
                      max_size=3),
    max_leaves=12)


def _dumps(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False, default=str)


@settings(max_examples=400, deadline=None)
@given(_JSON)
def test_pretty_json_is_json_dumps_with_indent(value: Any) -> None:
    assert json_text(value) == _dumps(value)


@settings(max_examples=300, deadline=None)
@given(_UNUSUAL)
def test_pretty_json_of_unusual_values_is_json_dumps_or_its_error(value: Any) -> None:
    try:
        expected = _dumps(value)
    except (TypeError, ValueError) as exc:
        try:
            json_text(value)
        except type(exc) as mine:
            assert str(mine) == str(exc)
        else:
            raise AssertionError(f"json.dumps refuses {value!r} but the fast path wrote it") from None
    else:
        assert json_text(value) == expected


def test_pretty_json_of_deep_and_shared_values() -> None:
    deep: Any = "leaf"
    for n in range(200):
        deep = {"k": deep} if n % 2 else [deep]
    assert json_text(deep) == _dumps(deep)
    shared = {"a": 1.5, "b": [None, True]}
    twice = {"x": shared, "y": [shared, shared]}
    assert json_text(twice) == _dumps(twice)
    loop: dict[str, Any] = {}
    loop["self"] = loop
    try:
        _dumps(loop)
    except ValueError as exc:
        expected = str(exc)
    try:
        json_text(loop)
    except ValueError as exc:
        assert str(exc) == expected
    else:
        raise AssertionError("a circular value was written")


@settings(max_examples=200, deadline=None)
@given(_JSON)
def test_json_blocks_escape_as_translate_did(value: Any) -> None:
    table = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;",
                           **{char: f"&#{ord(char)};" for char in "[]{}`|\\"}})
    expected = _dumps(value).translate(table)
    assert str(json_block(value)) == ('<div class="language-json highlight" data-search-exclude><pre><code>'
                                      f'{expected}</code></pre></div>')


@settings(max_examples=300, deadline=None)
@given(_JSON | _UNUSUAL)
def test_inline_json_is_json_dumps(value: Any) -> None:
    try:
        expected = json.dumps(value, ensure_ascii=False, separators=(", ", ": "), default=str)
    except (TypeError, ValueError) as exc:
        try:
            json_inline(value)
        except type(exc) as mine:
            assert str(mine) == str(exc)
        else:
            raise AssertionError(f"json.dumps refuses {value!r} but json_inline wrote it") from None
    else:
        assert json_inline(value) == expected


@settings(max_examples=300, deadline=None)
@given(_TEXT | st.integers() | st.none() | _TEXT.map(Markup) | st.floats())
def test_written_text_is_finalize_then_autoescape(value: Any) -> None:
    assert written(value) == str(escape(inert(value)))


@settings(max_examples=200, deadline=None)
@given(_JSON, _JSON)
def test_a_value_written_again_from_the_memo_is_json_dumps(shown: Any, other: Any) -> None:
    """A value a page shows again inside a larger one (an example payload inside the envelopes) is copied from
    the memo, indented to its depth: the same text as writing it again."""
    memo: dict[int, tuple[Any, str]] = {}
    assert json_text(shown, memo=memo) == _dumps(shown)
    for outer in ({"data": shown, "other": other}, [other, {"detail": {"data": shown}}], [[[shown]]], shown):
        assert json_text(outer, memo=memo) == _dumps(outer)


def test_tree_nodes_built_without_init_are_ordinary_frozen_dataclasses() -> None:
    tree = schema_tree({"type": "object", "required": ["a"], "properties": {
        "a": {"type": "string", "maxLength": 3, "x-note": [1]}, "b": {"type": "array", "items": {"enum": [1, 2]}}}})
    nodes = list(tree.root.walk())
    assert len(nodes) == 3
    for node in nodes:
        again = FieldNode(**{f.name: getattr(node, f.name) for f in dataclasses.fields(FieldNode)})
        assert again == node and hash(again) == hash(node) and repr(again) == repr(node)
        for fact in node.facts:
            made = Fact(fact.label, fact.value, fact.code)
            assert made == fact and hash(made) == hash(fact)
        with pytest.raises(dataclasses.FrozenInstanceError):
            node.name = "changed"  # type: ignore[misc]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(["\n", "\n" * 7, " ", "a", "\r", "\t"]), max_size=40).map("".join))
def test_tidy_collapses_blank_runs_as_the_regular_expression_does(markdown: str) -> None:
    import re

    from portal.render.site import _tidy

    assert _tidy(markdown) == re.sub(r"\n{3,}", "\n\n", markdown).strip() + "\n"


_PART = st.sampled_from(["a", "b", "events", "x.md", "index.md", "a.b", ".", "..", ""])


@settings(max_examples=500, deadline=None)
@given(st.lists(_PART, min_size=1, max_size=4).map("/".join), st.lists(_PART, min_size=1, max_size=4).map("/".join))
def test_relative_paths_between_site_paths_are_posixpath_relpath(path: str, start: str) -> None:
    import posixpath

    from portal.render.paths import _relpath

    def outcome(function: Any) -> str:
        try:
            return str(function(path, start))
        except ValueError as exc:
            return f"ValueError: {exc}"

    assert outcome(_relpath.__wrapped__) == outcome(posixpath.relpath)


_PAGE = st.lists(st.sampled_from(["a", "b", "events", "x.md", "index.md", "a.b", "y.json"]), min_size=1,
                 max_size=4).map("/".join)


@settings(max_examples=500, deadline=None)
@given(_PAGE, _PAGE, st.booleans())
def test_final_urls_between_pages_are_what_posixpath_relpath_makes(here: str, target: str,
                                                                   directory_urls: bool) -> None:
    """relative_url hands _relpath directory URLs without their trailing slash (its fast path); the URL is the one
    posixpath.relpath gives between the pages' URLs as MkDocs makes them."""
    import posixpath

    from mkdocs.structure.files import File

    from portal.render.paths import relative_url

    def built(path: str) -> str:
        url = File(path, "/docs", "/site", directory_urls).url
        return "" if url == "./" else url

    source, goal = built(here), built(target)
    source_dir = source if source.endswith("/") or source == "" else posixpath.dirname(source)
    expected = posixpath.relpath(goal or ".", source_dir or ".")
    if goal.endswith("/") or goal == "":
        expected = expected.rstrip("/") + "/" if expected != "." else "./"
    assert relative_url(here, target, directory_urls=directory_urls) == expected
