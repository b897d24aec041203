"""Limits become messages: event names have a maximum length, documents a maximum nesting depth, and each breach
is a contract error with file, line and pointer — never a ``RecursionError``, an ``OSError`` or any traceback.

At the limits themselves every stage still works: loading (parse, ``$ref``, the official schema, the checks),
bundling, validating examples and events, pruning, and rendering the catalogue.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conftest import write
from pipeline.contract import Catalogue, ContractError, ContractLoader, SourceError
from pipeline.contract.checks import MAX_EVENT_NAME_LENGTH
from pipeline.contract.schemas import data_problems, validator_for
from pipeline.contract.source import MAX_NESTING_DEPTH
from pipeline.enrichment.prune import Pruner
from pipeline.schemas.validate import compile_validator
from portal.cli.main import main
from portal.render import render_site

DOC = """\
asyncapi: 3.0.0
info:
  title: Limits
  version: 1.0.0
{extra}components:
  messages:
    Thing:
      name: {name}
      payload: {payload}
      examples: {examples}
"""
NAME_LINE, PAYLOAD_LINE = 8, 9
# The payload schema is the 5th level (document, components, messages, Thing, payload); an example's payload the 7th.
PAYLOAD_LEVEL = 5
EXAMPLE_LEVEL = 7


def doc(payload: Any = None, examples: Any = (), name: str = "Thing.Created.Uk", extra: str = "") -> str:
    return DOC.format(payload=payload if isinstance(payload, str) else json.dumps(payload or {"type": "object"}),
                      examples=json.dumps(list(examples)), name=name, extra=extra)


def schema(kind: str, height: int) -> dict[str, Any]:
    """A schema that is exactly ``height`` objects/arrays deep, nested through ``kind``."""
    if height == 1:
        return {"type": "string"}
    if kind == "items":
        return {"type": "array", "items": schema(kind, height - 1)}
    if height == 2:
        return {"type": "string", "enum": ["x"]}
    if kind == "properties":
        return {"type": "object", "properties": {"a": schema(kind, height - 2)}}
    return {kind: [schema(kind, height - 2)]}  # allOf, anyOf, oneOf


def instance(height: int) -> Any:
    """A value exactly ``height`` objects deep: {"child": {"child": ... {"id": 1}}}."""
    value: Any = {"id": 1}
    for _ in range(height - 1):
        value = {"child": value}
    return value


def every_stage(catalogue: Catalogue) -> None:
    """Bundle (done by the load), validate, prune and render: none may fail on what the loader accepted."""
    for event in catalogue.events:
        payload = event.payload
        assert payload is not None
        validator = validator_for(payload.document, payload.dialect)
        pruner = Pruner(payload)
        runtime = compile_validator(payload)
        for example in event.examples:
            assert data_problems(validator, example.payload) == []
            assert pruner.prune(example.payload) == example.payload
            runtime.validate(example.payload)
    site = render_site(catalogue)
    assert site.event_pages


def too_deep(exc: ContractError) -> None:
    problem = exc.diagnostics[0]
    assert f"nested more than {MAX_NESTING_DEPTH} levels deep" in problem.message
    assert problem.location.line is not None and problem.location.pointer, str(problem)
    assert "\n" not in str(problem)


# ------------------------------------------------------------------------------------------------ nesting depth
@pytest.mark.parametrize("kind", ["properties", "allOf", "anyOf", "items"])
def test_every_stage_works_at_the_deepest_schema_allowed(tmp_path: Path, kind: str) -> None:
    deepest = schema(kind, MAX_NESTING_DEPTH - PAYLOAD_LEVEL + 1)
    catalogue = ContractLoader().load([write(tmp_path, "doc.yaml", doc(deepest))], strict=True)
    every_stage(catalogue)


@pytest.mark.parametrize("kind", ["properties", "allOf", "anyOf", "items"])
def test_one_level_deeper_is_a_contract_error_with_its_place(tmp_path: Path, kind: str) -> None:
    path = write(tmp_path, "doc.yaml", doc(schema(kind, MAX_NESTING_DEPTH - PAYLOAD_LEVEL + 2)))
    with pytest.raises(SourceError) as caught:
        ContractLoader().load([path])
    too_deep(caught.value)
    assert caught.value.location.file == str(path.resolve()) and caught.value.location.line == PAYLOAD_LINE
    assert caught.value.location.pointer.startswith("/components/messages/Thing/payload/")


def test_a_recursive_schema_with_the_deepest_example_allowed(tmp_path: Path) -> None:
    node = {"type": "object", "properties": {"id": {"type": "integer"}, "child": {"$ref": "#/components/schemas/Node"}}}
    text = doc({"$ref": "#/components/schemas/Node"}, [{"payload": instance(MAX_NESTING_DEPTH - EXAMPLE_LEVEL + 1)}])
    text += "  schemas:\n    Node: " + json.dumps(node) + "\n"
    catalogue = ContractLoader().load([write(tmp_path, "doc.yaml", text)], strict=True)
    every_stage(catalogue)
    deeper = text.replace('"id": 1}', '"child": {"id": 1}}', 1)
    with pytest.raises(SourceError) as caught:
        ContractLoader().load([write(tmp_path, "deeper/doc.yaml", deeper)])
    too_deep(caught.value)
    assert caught.value.location.pointer.startswith("/components/messages/Thing/examples/0/payload/child/")


def test_the_300_level_schema_of_the_issue_is_a_message(tmp_path: Path) -> None:
    path = write(tmp_path, "doc.yaml", doc('{"properties": {"a": ' * 300 + "{}" + "}}" * 300))
    with pytest.raises(SourceError) as caught:
        ContractLoader().load([path])
    too_deep(caught.value)


def test_depth_is_counted_through_refs_across_files(tmp_path: Path) -> None:
    # Each file is 4 levels deep; followed one into the next, 16 of them nest past the limit.
    files = 16
    for n in range(files):
        inner = {"$ref": f"./part{n + 1}.yaml"} if n + 1 < files else {"type": "string"}
        write(tmp_path, f"specs/part{n}.yaml", json.dumps(
            {"type": "object", "properties": {"a": {"type": "object", "properties": {"b": inner}}}}))
    path = write(tmp_path, "specs/doc.yaml", doc({"$ref": "./part0.yaml"}))
    with pytest.raises(SourceError) as caught:
        ContractLoader().load([path.parent])
    too_deep(caught.value)
    assert "with its $refs followed" in caught.value.message
    # The $ref that went one level too deep, in its file.
    assert (Path(caught.value.location.file).name, caught.value.location.pointer) == (
        "part14.yaml", "/properties/a/properties/b/$ref")


def test_depth_through_refs_at_the_limit_loads_and_renders(tmp_path: Path) -> None:
    # part0 -> part1 -> part2: 3 files of 4 levels, +1 for the leaf, below the payload's own level.
    for n in range(3):
        inner = {"$ref": f"./part{n + 1}.yaml"} if n < 2 else schema("properties", MAX_NESTING_DEPTH - PAYLOAD_LEVEL
                                                                               - 4 * 3 + 1)
        write(tmp_path, f"specs/part{n}.yaml", json.dumps(
            {"type": "object", "properties": {"a": {"type": "object", "properties": {"b": inner}}}}))
    write(tmp_path, "specs/doc.yaml", doc({"$ref": "./part0.yaml"}))
    every_stage(ContractLoader().load([tmp_path / "specs"], strict=True))


def test_a_shared_schema_placed_deeper_the_second_time_is_measured_there(tmp_path: Path) -> None:
    shared = schema("properties", 40)
    deep_place = schema("properties", 30)
    leaf = deep_place
    while "properties" in leaf:
        leaf = leaf["properties"]["a"]
    leaf.clear()
    leaf["$ref"] = "#/components/schemas/Shared"
    text = doc({"$ref": "#/components/schemas/Shared"}) + "    Other:\n      name: Thing.Other.Uk\n" \
        f"      payload: {json.dumps(deep_place)}\n  schemas:\n    Shared: {json.dumps(shared)}\n"
    with pytest.raises(SourceError) as caught:
        ContractLoader().load([write(tmp_path, "doc.yaml", text)])
    too_deep(caught.value)


def test_yaml_aliases_that_nest_too_deep_are_refused(tmp_path: Path) -> None:
    deep = json.dumps(schema("items", 40))
    deeper = json.dumps(schema("items", 30)).replace('{"type": "string"}', "*deep")
    text = doc() + f"x-deep: &deep {deep}\nx-deeper: {deeper}\n"
    with pytest.raises(SourceError) as caught:
        ContractLoader().load([write(tmp_path, "doc.yaml", text)])
    too_deep(caught.value)
    assert "aliases" in caught.value.message


@pytest.mark.parametrize("name", ["deep.json", "deep.yaml"])
@pytest.mark.parametrize("levels", [MAX_NESTING_DEPTH + 1, 5_000, 100_000])
def test_a_deep_file_is_refused_with_its_place(tmp_path: Path, name: str, levels: int) -> None:
    text = '{"asyncapi": "3.0.0", "x-deep": ' + '{"a": ' * levels + "1" + "}" * levels + "}"
    path = write(tmp_path, name, text)
    with pytest.raises(SourceError) as caught:
        ContractLoader().load([path])
    problem = caught.value.diagnostics[0]
    assert f"more than {MAX_NESTING_DEPTH} levels" in problem.message and problem.location.line == 1


def test_a_deep_shared_file_is_a_problem_of_the_document_that_refers_to_it(tmp_path: Path) -> None:
    write(tmp_path, "specs/deep.json", json.dumps(schema("items", MAX_NESTING_DEPTH + 1)))
    write(tmp_path, "specs/doc.yaml", doc({"$ref": "./deep.json"}))
    catalogue = ContractLoader().load([tmp_path / "specs"])  # lenient: modelled, with the problem listed
    (problem,) = catalogue.errors
    assert problem.location.file.endswith("deep.json") and problem.location.pointer.startswith("/items/items")
    render_site(catalogue)


@pytest.mark.parametrize("levels", [400, 5_000])
def test_validate_reports_a_deep_document_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                      levels: int) -> None:
    path = write(tmp_path, "doc.yaml", doc('{"allOf": [' * levels + "{}" + "]}" * levels))
    assert main(["validate", str(path)]) == 1
    err = capsys.readouterr().err
    first = err.splitlines()[0]
    assert f"doc.yaml:{PAYLOAD_LINE}:" in first and f"nested more than {MAX_NESTING_DEPTH} levels" in first
    if levels < 1_000:  # deeper, libyaml stops first and knows only the line and column
        assert "(#/components/messages/Thing/payload/allOf/0/" in first
    assert "Traceback" not in err and "RecursionError" not in err


# ------------------------------------------------------------------------------------------------ name length
@pytest.mark.parametrize("eventdeck_document", [True, False])
def test_an_event_name_longer_than_128_characters_is_an_error_with_its_place(
        tmp_path: Path, eventdeck_document: bool) -> None:
    extra = "x-eventbridge: {source: com.example.things, bus: things}\n" if eventdeck_document else ""
    longest = "Thing.Created." + "U" * (MAX_EVENT_NAME_LENGTH - len("Thing.Created."))
    ok = ContractLoader().load([write(tmp_path, "ok.yaml", doc(name=longest, extra=extra))])
    assert not [d for d in ok.all_diagnostics if d.code == "name-too-long"]
    path = write(tmp_path, "long/doc.yaml", doc(name=longest + "k", extra=extra))
    catalogue = ContractLoader().load([path])
    (problem,) = [d for d in catalogue.errors if d.code == "name-too-long"]
    line = NAME_LINE + extra.count("\n")
    assert (problem.location.file, problem.location.line) == (str(path.resolve()), line)
    assert problem.location.pointer == "/components/messages/Thing/name"
    assert "129 characters; at most 128" in problem.message


def test_a_258_character_name_is_reported_and_the_catalogue_still_renders(tmp_path: Path) -> None:
    name = "Thing." + "A" * 249 + ".Uk"
    catalogue = ContractLoader().load([write(tmp_path, "doc.yaml", doc(name=name))])
    assert [d.code for d in catalogue.errors] == ["name-too-long"]
    site = render_site(catalogue)
    for path in [*site.pages, *site.files]:
        assert all(len(part.encode()) <= 255 for part in path.split("/")), path
    with pytest.raises(ContractError, match="258 characters"):
        ContractLoader().load([tmp_path / "doc.yaml"], strict=True)


# ------------------------------------------------------------------------------------------------ hostile patterns
@pytest.mark.parametrize("keyword", ["pattern", "patternProperties"])
def test_a_catastrophic_pattern_is_a_diagnostic_not_a_hang(tmp_path: Path, keyword: str) -> None:
    evil, value = "^(a|aa)+$", "a" * 64 + "!"  # exponential backtracking, in `re` and in `regex` alike
    if keyword == "pattern":
        payload = {"type": "object", "properties": {"code": {"type": "string", "pattern": evil}}}
        example: dict[str, Any] = {"code": value}
    else:
        payload, example = {"type": "object", "patternProperties": {evil: {"type": "string"}}}, {value: "x"}
    write(tmp_path, "limits.yaml", doc(payload, [{"payload": example}]))
    catalogue = ContractLoader().load([tmp_path / "limits.yaml"])
    (problem,) = [d for d in catalogue.all_diagnostics if "catastrophic backtracking" in d.message]
    assert problem.location.file.endswith("limits.yaml") and problem.location.line is not None, str(problem)


def test_an_ordinary_pattern_still_decides_examples(tmp_path: Path) -> None:
    payload = {"type": "object", "properties": {"code": {"type": "string", "pattern": "^[A-Z]{3}$"}}}
    write(tmp_path, "limits.yaml", doc(payload, [{"payload": {"code": "EUR"}}, {"payload": {"code": "euro"}}]))
    catalogue = ContractLoader().load([tmp_path / "limits.yaml"])
    (problem,) = catalogue.errors
    assert "'euro' does not match '^[A-Z]{3}$'" in problem.message and "/examples/1" in problem.location.pointer


def test_a_ref_bomb_is_checked_in_time_linear_in_the_document(tmp_path: Path) -> None:
    # 25 levels of schemas that each refer twice to the next: 2^25 objects once expanded; checked in one pass, and
    # the shared schema's own mistake is still reported, once, where the document defines it.
    levels = 25  # within the nesting limit (two levels per schema)
    schemas: dict[str, Any] = {f"L{i}": {"type": "object", "properties": {
        "a": {"$ref": f"#/components/schemas/L{i + 1}"}, "b": {"$ref": f"#/components/schemas/L{i + 1}"}}}
        for i in range(levels)}
    schemas[f"L{levels}"] = {"type": "strin"}
    text = doc({"$ref": "#/components/schemas/L0"}, extra="")
    text = text.replace("components:\n", "components:\n  schemas: " + json.dumps(schemas) + "\n", 1)
    write(tmp_path, "limits.yaml", text)
    catalogue = ContractLoader().load([tmp_path / "limits.yaml"])
    official = [d for d in catalogue.errors if d.code == "asyncapi-schema"]
    assert official and all(d.location.pointer.startswith(f"/components/schemas/L{levels}") for d in official), \
        [str(d) for d in official]
