"""The quick proof of an example's validity never differs from jsonschema: whenever it says "valid", the loader's
jsonschema validator finds no error and raises nothing, on hostile schemas too; and on real contracts it does
decide, so examples cost less without a diagnostic changing."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import EXAMPLES, ROOT, require_corpus, write
from pipeline.contract import ContractLoader, checks
from pipeline.contract.schemas import DIALECTS, DRAFT7, validator_for
from pipeline.contract.surely_valid import surely_valid, surely_valid_at

sys.path.insert(0, str(ROOT / "scripts"))
from synthetic_catalogue import write_catalogue

# -- values and schemas built from the keywords it decides, the ones it leaves to jsonschema, and broken ones --

KEYS = ["a", "b", "id", "$id"]
STRINGS = ["", "a", "ab", "abc", "1", "12", "A1", "é", "2026-11-01T10:00:00Z", "2026-02-30", "not-a-uuid",
           "0652be59-18a4-4db9-a792-4342218883ba", "x@example.com", "http://example.com/a", "10.0.0.1", "256.1.1.1"]
scalars = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.sampled_from([0.0, 1.0, 1.5, -2.5, 3.0]),
                    st.sampled_from(STRINGS))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
    st.sampled_from(KEYS), inner, max_size=3), max_leaves=8)
numbers = st.one_of(st.integers(-3, 3), st.sampled_from([0.5, 1.5, True, "2", None]))
sizes = st.one_of(st.integers(0, 3), st.sampled_from([1.5, True, "x", None]))
TYPES = ["string", "integer", "number", "boolean", "null", "object", "array", "bogus"]

keyword_values: dict[str, Any] = {
    "type": st.sampled_from(TYPES) | st.lists(st.sampled_from(TYPES), max_size=3) | st.just(5),
    "enum": st.lists(values, max_size=3) | st.just("ab"),
    "const": values,
    "minLength": sizes, "maxLength": sizes, "minItems": sizes, "maxItems": sizes,
    "minProperties": sizes, "maxProperties": sizes,
    "minimum": numbers, "maximum": numbers, "exclusiveMinimum": numbers, "exclusiveMaximum": numbers,
    "multipleOf": st.sampled_from([2, 3, 0.5, 0.1, True, 0, "2"]),
    "uniqueItems": st.booleans() | st.just(1),
    "pattern": st.sampled_from(["^a", "b$", "^[0-9]+$", "(", "[[:alpha:]]", "\\d", 5]),
    "format": st.sampled_from(["uuid", "date-time", "date", "email", "uri", "ipv4", "bogus", 5]),
    "required": st.lists(st.sampled_from(KEYS), max_size=3) | st.just("ab"),
    "$ref": st.sampled_from(["#/$defs/A", "#/$defs/B", "#", "#/$defs/missing", "#/$defs/A/properties/a",
                             "#/definitions/C", "other.json#/x", "#/$defs/A%20", "#/$defs/L/0", 5]),
    "title": st.just("annotation"), "x-unresolved-ref": st.just("elsewhere.yaml"),
    "$schema": st.sampled_from([DRAFT7, DIALECTS["2020-12"], DIALECTS["draft-04"]]),
    "$id": st.sampled_from(["https://example.com/s", "#anchor"]),
    "dependencies": st.just({"a": ["b"]}), "propertyNames": st.just({"maxLength": 1}),
    "contains": st.just({"type": "string"}), "if": st.just({"required": ["a"]}), "then": st.just(False),
    "patternProperties": st.just({"^a": {"type": "integer"}}),
}


def schema_dicts(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    nested = {
        "properties": st.dictionaries(st.sampled_from(KEYS), children, max_size=3) | st.just(["a"]),
        "items": children | st.lists(children, max_size=2) | st.just("x"),
        "additionalProperties": children | st.booleans() | st.just("x"),
        "allOf": st.lists(children, max_size=2), "anyOf": st.lists(children, max_size=2),
        "oneOf": st.lists(children, max_size=2), "not": children,
    }
    options = {**keyword_values, **nested}
    return st.lists(st.sampled_from(sorted(options)), max_size=4, unique=True).flatmap(
        lambda names: st.fixed_dictionaries({name: options[name] for name in names}))


def leaf_schemas() -> st.SearchStrategy[Any]:
    return st.booleans() | schema_dicts(st.just({}))


schemas = st.recursive(leaf_schemas(), schema_dicts, max_leaves=6)
roots = st.tuples(schemas, schemas, schemas, schemas, st.booleans()).map(
    lambda parts: ({"$defs": {"A": parts[1], "B": parts[2], "L": [parts[3]]}, "definitions": {"C": parts[3]},
                    **({"$schema": DRAFT7} if parts[4] else {}), **parts[0]}) if isinstance(parts[0], dict) else
    {"$defs": {"A": parts[1]}, "allOf": [parts[0]]})


def jsonschema_errors(root: Any, instance: Any, node: Any = None) -> list[str]:
    """What the loader's validator finds (an exception is a finding too: the loader reports a broken schema)."""
    validator = validator_for(root, DRAFT7)
    if node is not None:
        validator = validator.evolve(schema=node)
    try:
        return [error.message for error in validator.iter_errors(instance)]
    except Exception as exc:  # any exception is a verdict the quick proof must not hide
        return [f"raised {type(exc).__name__}"]


@settings(max_examples=1500, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(root=roots, instance=values)
def test_what_it_proves_valid_jsonschema_finds_valid(root: dict[str, Any], instance: Any) -> None:
    if surely_valid(root, instance, DRAFT7):
        assert jsonschema_errors(root, instance) == []


@settings(max_examples=800, suppress_health_check=[HealthCheck.too_slow])
@given(root=roots, instance=values, which=st.sampled_from(["A", "B", "root"]))
def test_what_it_proves_valid_at_a_subschema_jsonschema_finds_valid(root: dict[str, Any], instance: Any,
                                                                     which: str) -> None:
    node = root if which == "root" else root["$defs"].get(which, root)
    if surely_valid_at(root, node, instance, DRAFT7):
        assert jsonschema_errors(root, instance, node) == []


# -- the cases where a careless proof would differ, each stated once -----------------------------------------

@settings(max_examples=1500)
@given(schema=st.lists(st.sampled_from(sorted(keyword_values)), min_size=1, max_size=2, unique=True).flatmap(
    lambda names: st.fixed_dictionaries({name: keyword_values[name] for name in names})), instance=scalars)
def test_each_keyword_it_decides_is_decided_as_jsonschema_does(schema: dict[str, Any], instance: Any) -> None:
    # One or two keywords and a scalar: every combination of a keyword's value and a value's type is met often.
    root = {"$defs": {"A": {"type": "integer"}, "A%20": {}}, **schema}
    if surely_valid(root, instance, DRAFT7):
        assert jsonschema_errors(root, instance) == []


INVALID = [
    ({"enum": [1]}, True),  # jsonschema tells booleans from numbers
    ({"const": 0}, False),
    ({"type": "integer"}, True),
    ({"type": "integer"}, 1.5),
    ({"$ref": "#/$defs/A", "$defs": {"A": {"$schema": DIALECTS["draft-04"], "type": "integer"}}}, 1.0),  # 1.0 is
    # an integer in draft-07, not in draft-04: jsonschema switches validators at a $schema
    ({"$ref": "#/$defs/A%20", "$defs": {"A%20": {}}}, 1),  # referencing unquotes the pointer: no such schema
    ({"properties": {"a": {"$id": "https://example.com/x", "properties": {"b": {"$ref": "#/$defs/A"}}}},
      "$defs": {"A": {}}}, {"a": {"b": 1}}),  # an $id moves the base: "#/$defs/A" is in the property, not found
    ({"$ref": "#/$defs/A", "$defs": {"A": {"allOf": [{"$ref": "#/$defs/A"}]}}}, 1),  # a loop of references
    ({"oneOf": [{"type": "string"}, {"maxLength": 3}]}, "ab"),  # valid under both
    ({"type": "string", "format": "uuid"}, "not-a-uuid"),
    ({"items": [{"type": "string"}]}, [5]),
    ({"required": "ab"}, {"a": 1}),  # jsonschema iterates the string
    ({"additionalProperties": False, "patternProperties": {"^a": {}}}, {"b": 1}),
    ({"type": "string", "pattern": "(a+)+$"}, "a" * 32 + "!"),  # out of time: jsonschema refuses the value
    ({"anyOf": [{"type": 5}, {}]}, 1),  # the first branch raises before the second is tried
    ({"$schema": DRAFT7, "anyOf": [{"$ref": "#"}, {}]}, 1),  # the first branch recurses without end
]


@pytest.mark.parametrize(("schema", "instance"), INVALID, ids=range(len(INVALID)))
def test_it_never_proves_what_jsonschema_refuses(schema: dict[str, Any], instance: Any) -> None:
    assert jsonschema_errors(schema, instance), "not a case jsonschema refuses"
    assert not surely_valid(schema, instance, DRAFT7)


def test_another_dialect_is_left_to_jsonschema() -> None:
    assert surely_valid({"type": "string"}, "a", DRAFT7)
    assert not surely_valid({"type": "string"}, "a", DIALECTS["2020-12"])


# -- on real contracts ----------------------------------------------------------------------------------------

def test_every_example_of_the_realistic_synthetic_catalogue_is_proven_valid(tmp_path: Path) -> None:
    # The proof is what makes a large catalogue load fast: it must decide the schemas real events have (nested
    # objects, arrays of objects, enums, formats, patterns, shared $refs), not only toy ones.
    write_catalogue(tmp_path / "catalogue", 2, 20, realistic=True)
    catalogue = ContractLoader(workers=1).load([tmp_path / "catalogue"])
    pairs = [(schema, value) for event in catalogue.events for example in event.examples
             for schema, value in ((event.payload, example.payload), (event.headers, example.headers))
             if schema is not None and value is not None]
    assert len(pairs) == 160 and not catalogue.errors
    assert all(surely_valid(schema.document, value, schema.dialect) for schema, value in pairs)


def test_diagnostics_are_the_same_with_and_without_the_proof(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    # Valid and invalid examples of every kind the proof meets, in the examples and a sample of the corpus.
    write(tmp_path / "own", "doc.yaml", """\
asyncapi: 3.0.0
info: {title: Own, version: 1.0.0}
components:
  schemas:
    Money:
      type: object
      required: [amount]
      properties: {amount: {type: integer, minimum: 0}, currency: {enum: [GBP, EUR]}}
  messages:
    Paid:
      name: Order.Paid.Web
      payload:
        type: object
        additionalProperties: false
        properties:
          total: {$ref: '#/components/schemas/Money'}
          code: {type: string, pattern: '^[A-Z]{3}$', examples: [ABC, abc]}
          when: {type: string, format: date-time}
          tags: {type: array, uniqueItems: true, items: {type: string}}
      examples:
      - payload: {total: {amount: 5, currency: GBP}, code: ABC, when: '2026-11-01T10:00:00Z', tags: [a, b]}
      - payload: {total: {amount: -1, currency: USD}, code: abc, when: yesterday, tags: [a, a], extra: 1}
      - payload: {total: {amount: 1.0}, code: 5}
""")
    corpus = require_corpus()
    documents = [tmp_path / "own" / "doc.yaml", *sorted(EXAMPLES.glob("*.yaml")),
                 *[p for p in sorted((corpus / "valid").rglob("*")) if p.suffix in (".yaml", ".yml", ".json")
                   and "examples" in p.read_text("utf-8", errors="replace")]]

    def diagnostics() -> list[str]:
        found: list[str] = []
        for document in documents:
            try:
                found.extend(map(str, ContractLoader(workers=1).load([document]).all_diagnostics))
            except Exception as exc:  # a document the loader refuses is refused the same way
                found.append(f"{document}: {type(exc).__name__}: {exc}")
        return found

    with_proof = diagnostics()
    monkeypatch.setattr(checks, "surely_valid", lambda *args: False)
    monkeypatch.setattr(checks, "surely_valid_at", lambda *args: False)
    without = diagnostics()
    assert with_proof == without
    assert len(documents) > 20 and sum("example-invalid" in d for d in with_proof) >= 6


LOOP = """\
asyncapi: 3.0.0
info: {title: Loop, version: 1.0.0}
components:
  schemas:
    S:
      anyOf:
      - $ref: '#/components/schemas/S'
      - type: object
  messages:
    M:
      name: Loop.Made.Uk
      payload:
        $ref: '#/components/schemas/S'
      examples:
      - payload: {a: 1}
"""


def test_a_schema_whose_refs_loop_back_is_reported_at_the_schema_not_a_traceback(tmp_path: Path) -> None:
    catalogue = ContractLoader().load([write(tmp_path, "doc.yaml", LOOP)])
    (problem,) = catalogue.errors
    assert problem.code == "schema-invalid" and problem.location.pointer == "/components/schemas/S"
    assert "its $refs loop back to themselves" in problem.message and problem.location.line == 5
