"""JSON is read as strictly as YAML, and everything eventdeck publishes as JSON is strict JSON.

Python's ``json`` keeps the last of two equal keys without a word and reads ``NaN``, ``Infinity`` and numbers too
large for a float (``1e400`` becomes ``inf``); a schema carrying one would be published as a file no strict
parser accepts. Each is a contract error with its file, line and pointer.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from conftest import EXAMPLES, ROOT, write
from pipeline.contract import ContractInvalid, ContractLoader, SourceError
from portal.render import render_site


def strict_json(text: str | bytes) -> Any:
    """Parse as RFC 8259 JSON only: no NaN/Infinity, no duplicate keys, no number that overflows a float."""
    def refuse(name: str) -> Any:
        raise ValueError(f"{name} is not JSON")

    def unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [k for k, _ in pairs]
        if len(set(keys)) != len(keys):
            raise ValueError(f"duplicate keys in {keys}")
        return dict(pairs)

    def finite(number: str) -> float:
        value = float(number)
        if value in (float("inf"), float("-inf")):
            raise ValueError(f"{number} overflows")
        return value

    return json.loads(text, parse_constant=refuse, object_pairs_hook=unique, parse_float=finite)


def document(payload: dict[str, Any]) -> str:
    return json.dumps({
        "asyncapi": "3.0.0", "info": {"title": "Numbers", "version": "1.0.0"},
        "components": {"messages": {"Measured": {"name": "Meter.Measured.Uk", "payload": payload}}},
    }, indent=2)


AMOUNT = {"type": "object", "required": ["amount"], "properties": {"amount": {"type": "integer"}}}


# ------------------------------------------------------------------------------------------------ duplicate keys
def test_a_duplicate_key_in_a_json_document_is_an_error_with_its_position(tmp_path: Path) -> None:
    text = document(AMOUNT).replace('"required": [\n', '"required": [],\n          "required": [\n', 1)
    path = write(tmp_path, "doc.json", text)
    with pytest.raises(ContractInvalid) as caught:
        ContractLoader().load([path], strict=True)
    (problem,) = [d for d in caught.value.diagnostics if d.code == "duplicate-key"]
    assert problem.location.file == str(path.resolve())
    assert (problem.location.line, problem.location.pointer) == (14, "/components/messages/Measured/payload/required")
    assert "first at line 13" in problem.message


def test_a_duplicate_key_is_reported_in_a_referenced_json_file_too(tmp_path: Path) -> None:
    write(tmp_path, "schemas/amount.json", '{"type": "object", "type": "string"}')
    write(tmp_path, "doc.json", document({"$ref": "schemas/amount.json"}))
    catalogue = ContractLoader().load([tmp_path])
    (problem,) = [d for d in catalogue.all_diagnostics if d.code == "duplicate-key"]
    assert problem.location.file.endswith("amount.json") and problem.location.pointer == "/type"
    assert problem.location.line == 1


# ------------------------------------------------------------------------------------------------ NaN, Infinity
@pytest.mark.parametrize(("literal", "shown"), [("NaN", "'NaN' is not a JSON number"),
                                                ("Infinity", "'Infinity' is not a JSON number"),
                                                ("-Infinity", "'-Infinity' is not a JSON number"),
                                                ("1e400", "'1e400' is too large for a JSON number"),
                                                ("-2.5E+999", "'-2.5E+999' is too large for a JSON number")])
@pytest.mark.parametrize("name", ["doc.json", "doc.JSON"])
def test_non_finite_numbers_are_refused_with_their_place(tmp_path: Path, literal: str, shown: str,
                                                         name: str) -> None:
    text = document({"type": "number", "maximum": 0, "description": "NaN and 1e400 in a string are fine"})
    path = write(tmp_path, name, text.replace('"maximum": 0', f'"maximum": {literal}'))
    with pytest.raises(SourceError) as caught:
        ContractLoader().load([path])
    problem = caught.value.diagnostics[0]
    assert shown in problem.message
    assert (problem.location.line, problem.location.column) == (13, 22)
    assert problem.location.pointer == "/components/messages/Measured/payload/maximum"


@pytest.mark.parametrize("literal", [".nan", ".inf", "-.Inf", "1e400", "-1.0e+999"])
def test_yaml_refuses_the_same_numbers(tmp_path: Path, literal: str) -> None:
    path = write(tmp_path, "doc.yaml", "asyncapi: 3.0.0\ninfo:\n  title: T\n  version: 1.0.0\n"
                                       f"x-limits:\n  top: {literal}\n")
    with pytest.raises(SourceError) as caught:
        ContractLoader().load([path])
    assert caught.value.location.line == 6 and caught.value.location.pointer == "/x-limits/top"


def test_nan_in_a_yaml_document_written_as_json_is_a_string(tmp_path: Path) -> None:
    # YAML 1.2 reads a bare NaN as text; only .json files are held to JSON's own number grammar.
    path = write(tmp_path, "doc.yaml", '{"asyncapi": "3.0.0", "info": {"title": "T", "version": "1"}, "x-n": NaN}')
    assert ContractLoader().load([path]).documents[0].extensions["x-n"] == "NaN"


# ------------------------------------------------------------------------------------------------ what is published
def test_the_json_files_eventdeck_ships_are_strict_json() -> None:
    shipped = [p for folder in ("pipeline", "portal") for p in (ROOT / folder).rglob("*.json")]
    assert shipped
    for path in shipped:
        strict_json(path.read_bytes())


def test_every_published_json_file_is_strict_json(tmp_path: Path) -> None:
    large = {
        "type": "object",
        "properties": {
            "big": {"type": "integer", "maximum": 2 ** 70, "minimum": -(2 ** 64) - 1, "examples": [2 ** 65]},
            "huge": {"type": "number", "maximum": 1.7976931348623157e308, "minimum": -1.7976931348623157e308},
            "tiny": {"type": "number", "multipleOf": 5e-324, "exclusiveMinimum": 2.2250738585072014e-308},
            "exact": {"type": "number", "const": 12345678901234567890.5},
        },
    }
    numbers = write(tmp_path, "numbers/numbers.json", document(large))
    shutil.copytree(EXAMPLES, tmp_path / "asyncapi")
    catalogue = ContractLoader().load([tmp_path / "asyncapi", numbers.parent])
    site = render_site(catalogue)
    published = [path for path in site.files if path.endswith(".json")]
    assert any("Meter.Measured.Uk" in path for path in published)
    for path in published:
        strict_json(site.files[path])
    schema = strict_json(site.files[next(p for p in published if "Meter.Measured.Uk" in p)])
    assert schema["properties"]["big"]["maximum"] == 2 ** 70
