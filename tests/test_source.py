"""Reading YAML/JSON safely: YAML 1.2 values, positions, and refusing what is dangerous or malformed."""

from __future__ import annotations

import pytest

from pipeline.contract import SourceError
from pipeline.contract.source import MAX_DOCUMENT_BYTES, parse_text


def test_yaml_1_1_booleans_and_dates_stay_strings() -> None:
    doc = parse_text("a: on\nb: off\nc: yes\nd: no\ne: 2026-01-01\nf: 1:20\ng: y\n", "t.yaml")
    assert doc.data == {"a": "on", "b": "off", "c": "yes", "d": "no", "e": "2026-01-01", "f": "1:20", "g": "y"}


def test_yaml_1_2_core_schema_values() -> None:
    doc = parse_text("a: true\nb: False\nc: 0x1F\nd: 0o17\ne: 1.5e3\nf: ~\ng: null\nh: -7\ni: '12'\n", "t.yaml")
    assert doc.data == {"a": True, "b": False, "c": 31, "d": 15, "e": 1500.0, "f": None, "g": None, "h": -7,
                        "i": "12"}


def test_numeric_keys_keep_their_text() -> None:
    assert parse_text("200: ok\non: x\n", "t.yaml").data == {"200": "ok", "on": "x"}


def test_positions_of_keys_and_items() -> None:
    doc = parse_text("info:\n  title: T\nlist:\n  - a\n  - b\n", "t.yaml")
    where = doc.locate("/list/1")
    assert (where.line, where.column) == (5, 5)
    assert doc.locate("/info/title").line == 2


def test_json_positions_are_found_on_demand() -> None:
    doc = parse_text('{\n  "a": {\n    "b": [1,\n      2]\n  }\n}\n', "t.json")
    assert doc.data == {"a": {"b": [1, 2]}}
    assert doc.locate("/a/b/1").line == 4


def test_malformed_yaml_names_line_and_column() -> None:
    with pytest.raises(SourceError) as caught:
        parse_text("info:\n  title: x\n   bad: [\n", "broken.yaml")
    assert caught.value.location.file == "broken.yaml"
    assert caught.value.location.line == 3
    assert "invalid YAML" in str(caught.value)


def test_malformed_json_names_line() -> None:
    with pytest.raises(SourceError) as caught:
        parse_text('{\n "a": 1,\n}', "broken.json")
    assert caught.value.location.line == 3


def test_alias_bomb_is_refused() -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    previous = "a"
    for name in "bcdefghi":
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 9) + "]")
        previous = name
    with pytest.raises(SourceError, match="alias bomb"):
        parse_text("\n".join(lines) + "\n", "bomb.yaml")


def test_recursive_alias_is_refused() -> None:
    with pytest.raises(SourceError, match="recursive alias"):
        parse_text("a: &x\n  b: *x\n", "loop.yaml")


def test_harmless_aliases_are_shared_values() -> None:
    doc = parse_text("base: &b {x: 1}\nuse: *b\n", "t.yaml")
    assert doc.data["use"] == {"x": 1}
    assert doc.data["use"] is doc.data["base"]  # one value, not an expanded copy per alias


@pytest.mark.parametrize("tag", ["!!python/object/apply:os.system ['true']", "!custom x", "!!binary aGk="])
def test_non_json_tags_are_refused(tag: str) -> None:
    with pytest.raises(SourceError, match="not allowed"):
        parse_text(f"a: {tag}\n", "tags.yaml")


def test_duplicate_keys_are_reported_with_both_lines() -> None:
    doc = parse_text("a: 1\nb: 2\na: 3\n", "dup.yaml")
    (problem,) = doc.diagnostics
    assert problem.code == "duplicate-key"
    assert problem.location.line == 3
    assert "first at line 1" in problem.message


def test_oversized_document_is_refused_before_parsing() -> None:
    with pytest.raises(SourceError, match="refuses documents over"):
        parse_text("a: " + "x" * (MAX_DOCUMENT_BYTES + 1), "big.yaml")


def test_two_yaml_documents_in_one_file_are_refused() -> None:
    with pytest.raises(SourceError, match="exactly one YAML document"):
        parse_text("a: 1\n---\nb: 2\n", "two.yaml")


def test_empty_document_is_refused() -> None:
    with pytest.raises(SourceError, match="empty"):
        parse_text("# only a comment\n", "empty.yaml")
