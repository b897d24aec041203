"""The fast YAML reader (libyaml's events, one pass) gives exactly what the checking reader (node graph) gives, and
hands everything unusual to it, so every diagnostic keeps its message and its line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conftest import EXAMPLES, require_corpus
from pipeline.contract import SourceError
from pipeline.contract import source as source_module
from pipeline.contract.source import MAX_NESTING_DEPTH, _construct, _construct_fast, parse_text

ROOT = Path(__file__).resolve().parent.parent


def _typed(value: Any) -> Any:
    """``value`` with each scalar's type made visible (``True == 1`` and ``1 == 1.0`` in Python)."""
    if isinstance(value, dict):
        return {key: _typed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_typed(item) for item in value]
    return (type(value).__name__, value)


def _positions_by_pointer(data: Any, positions: dict[int, Any]) -> dict[str, Any]:
    """Positions keyed by JSON pointer instead of by the id of a container (ids differ between two readings)."""
    out: dict[str, Any] = {}
    stack: list[tuple[Any, str]] = [(data, "")]
    while stack:
        value, pointer = stack.pop()
        if isinstance(value, dict | list):
            own = positions.get(id(value))
            out[pointer] = (own[0], dict(own[1]) if isinstance(value, dict) else list(own[1])) if own else None
            items = value.items() if isinstance(value, dict) else enumerate(value)
            stack.extend((child, f"{pointer}/{key}") for key, child in items)
    return out


def _assert_same_reading(text: str, uri: str) -> None:
    fast = _construct_fast(text)
    assert fast is not None, f"{uri}: the fast reader gave up on an ordinary document"
    data, positions, diagnostics = _construct(text, uri)
    assert not diagnostics
    assert _typed(fast[0]) == _typed(data), uri
    assert _positions_by_pointer(fast[0], fast[1]) == _positions_by_pointer(data, positions), uri


def _yaml_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())


def test_examples_read_the_same_both_ways() -> None:
    files = _yaml_files(EXAMPLES)
    assert len(files) >= 3
    for path in files:
        _assert_same_reading(path.read_text("utf-8"), str(path))


def test_corpus_reads_the_same_both_ways() -> None:
    corpus = require_corpus()
    same = unusual = 0
    for path in _yaml_files(corpus):
        text = path.read_text("utf-8")
        try:
            data, positions, diagnostics = _construct(text, str(path))
        except SourceError:
            assert _construct_fast(text) is None, f"{path}: the fast reader accepted what the checker refuses"
            unusual += 1
            continue
        fast = _construct_fast(text)
        if fast is None:  # anchors, merge keys, tags, duplicates: the checking reader's business
            unusual += 1
            continue
        assert not diagnostics, f"{path}: the fast reader missed what the checker reports"
        assert _typed(fast[0]) == _typed(data), path
        assert _positions_by_pointer(fast[0], fast[1]) == _positions_by_pointer(data, positions), path
        same += 1
    assert same > 20 and same > unusual  # the fast path is the common one on real documents


def test_synthetic_catalogue_reads_the_same_both_ways(tmp_path: Path) -> None:
    import sys
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        from synthetic_catalogue import write_catalogue
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    paths = write_catalogue(tmp_path, 2, 3, realistic=True)
    for path in [*paths, *sorted((tmp_path / "shared").glob("*.yaml"))]:
        _assert_same_reading(path.read_text("utf-8"), str(path))


SCALARS = """\
a: on
b: off
c: yes
d: 2026-01-01
e: 1:20
f: 0x1F
g: 0o17
h: 1.5e3
i: ~
j:
k: 'true'
l: "12"
m: True
n: -7
o: .5
p: [1, 2.0, "3", null, false, y, NO]
q: |
  block
  text
"""


def test_yaml_1_2_scalars_read_the_same_both_ways() -> None:
    _assert_same_reading(SCALARS, "t.yaml")
    data = parse_text(SCALARS, "t.yaml").data
    assert data["c"] == "yes" and data["f"] == 31 and data["j"] is None and data["m"] is True
    assert data["p"] == [1, 2.0, "3", None, False, "y", "NO"]


def test_fast_positions_name_the_right_lines() -> None:
    doc = parse_text("info:\n  title: T\nlist:\n  - a\n  - {b: 1}\n", "t.yaml")
    assert _construct_fast(doc.text) is not None
    assert (doc.locate("/list/1").line, doc.locate("/list/1").column) == (5, 5)
    assert doc.locate("/list/1/b").line == 5
    assert doc.locate("/info/title").line == 2


UNUSUAL = [
    "base: &b {x: 1}\nuse: *b\n",  # anchors and aliases: the bomb and recursion checks
    "a: &x\n  b: *x\n",
    "base: &b {x: 1}\nuse:\n  <<: *b\n  y: 2\n",  # merge keys
    "a: !custom x\n",  # tags
    "a: !!str 1\n",
    "a: 1\nb: 2\na: 3\n",  # duplicate keys
    "a: .inf\n",  # not JSON numbers
    "a: 1e400\n",
    "a: 1\n---\nb: 2\n",  # two documents
    "# only a comment\n",  # empty
    "just a scalar\n",
    "? [a, b]\n: c\n",  # a collection as a key
    "info:\n  title: x\n   bad: [\n",  # broken
]


@pytest.mark.parametrize("text", UNUSUAL)
def test_unusual_documents_go_to_the_checking_reader(text: str) -> None:
    assert _construct_fast(text) is None


def _nested(levels: int) -> str:
    return "".join("  " * i + "a:\n" for i in range(levels - 1)) + "  " * (levels - 1) + "a: 1\n"


def test_nesting_limit_is_the_same_both_ways() -> None:
    deepest = _nested(MAX_NESTING_DEPTH)
    assert _construct_fast(deepest) is not None
    _assert_same_reading(deepest, "deep.yaml")
    assert _construct_fast(_nested(MAX_NESTING_DEPTH + 1)) is None
    with pytest.raises(SourceError, match="nested more than") as caught:
        parse_text(_nested(MAX_NESTING_DEPTH + 1), "deep.yaml")
    assert caught.value.location.line == MAX_NESTING_DEPTH + 1


def test_a_diagnostic_after_the_fast_path_names_its_line() -> None:
    """A duplicate key deep in an otherwise ordinary document: the message and the line are the checker's."""
    text = "asyncapi: 3.0.0\ninfo:\n  title: T\n  version: '1'\n  title: again\n"
    (problem,) = parse_text(text, "dup.yaml").diagnostics
    assert problem.code == "duplicate-key"
    assert problem.location.line == 5
    assert problem.location.pointer == "/info/title"
    assert "first at line 3" in problem.message


def test_an_alias_bomb_is_still_refused_with_the_fast_path_on() -> None:
    assert source_module.FAST_PATH
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    previous = "a"
    for name in "bcdefghi":
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 9) + "]")
        previous = name
    with pytest.raises(SourceError, match="alias bomb") as caught:
        parse_text("\n".join(lines) + "\n", "bomb.yaml")
    assert caught.value.location.line is not None


def test_parse_text_gives_the_same_document_with_the_fast_path_off(monkeypatch: pytest.MonkeyPatch) -> None:
    path = _yaml_files(EXAMPLES)[0]
    text = path.read_text("utf-8")
    fast = parse_text(text, str(path))
    monkeypatch.setattr(source_module, "FAST_PATH", False)
    slow = parse_text(text, str(path))
    assert json.dumps(fast.data) == json.dumps(slow.data)
    for pointer in ("/info", "/info/title", "/channels"):
        assert fast.locate(pointer) == slow.locate(pointer)


@pytest.mark.parametrize("text", ["a: 1\n", "a: [\n", "a: &x 1\n"])
def test_the_garbage_collector_is_left_as_the_caller_had_it(text: str) -> None:
    import gc
    assert gc.isenabled()
    _construct_fast(text)
    assert gc.isenabled()
    gc.disable()
    try:
        _construct_fast(text)
        assert not gc.isenabled()
    finally:
        gc.enable()
