"""The compiled JSON Patch and pruner behave exactly like their references: jsonpatch, and the planner they replaced.

Each property compares outcomes as exact JSON text, so ``1``/``1.0``/``true`` and member order count, and checks that
the input is left exactly as it was.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from typing import Any

import jsonpatch
import jsonpointer
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.contract.errors import Location
from pipeline.contract.extensions import Enrichment
from pipeline.contract.model import Catalogue, Event, Schema
from pipeline.contract.schemas import validator_for
from pipeline.enrichment.enrich import compile_enrichment
from pipeline.enrichment.patch import PatchFailed, compile_patch
from pipeline.enrichment.prune import Pruner

SETTINGS = settings(max_examples=200, deadline=None)
DRAFT7 = "http://json-schema.org/draft-07/schema#"


def _exact(value: Any) -> str:
    return json.dumps(value)


def _outcome(run: Callable[[], Any]) -> str:
    """The result as exact JSON text, or "failed" for any patch error either implementation reports."""
    try:
        return _exact(run())
    except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException, PatchFailed):
        return "failed"


# -- JSON Patch -----------------------------------------------------------------------------------------------------
KEYS = st.sampled_from(["a", "b", "c", "0", "1", "-", "", "~", "/", "a/b"])
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-2, 2), st.sampled_from([0.0, 1.0, -0.0, 2.5]),
                    st.text(alphabet="ab", max_size=2))
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=3),
                    max_leaves=10)
DOCUMENTS = st.one_of(st.dictionaries(KEYS, JSON, min_size=1, max_size=5), JSON)
SUFFIXES = ["/-", "/0", "/1", "/2", "/a", "/b", "/x", "/~0", "/~1", "/01"]
MALFORMED = [{"op": "jump", "path": "/a"}, {"op": "add", "path": "/a"}, {"op": "copy", "path": "/a"},
             {"op": "move", "path": "/a", "from": "a"}, {"op": "remove", "path": "/~2"}, {"op": "test", "path": 1}]


def _pointers(value: Any, prefix: str = "") -> list[str]:
    """Every location in ``value``, escaped."""
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _pointers(item, prefix + "/" + key.replace("~", "~0").replace("/", "~1"))
    elif isinstance(value, list):
        for position, item in enumerate(value):
            found += _pointers(item, f"{prefix}/{position}")
    return found


def _lookalike(value: Any) -> Any:
    """A value RFC 6902 may or may not consider equal to ``value`` (1 and 1.0, true and 1)."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return float(value)
    return value


@st.composite
def documents_and_patches(draw: Any) -> tuple[Any, list[Any]]:
    """A document and a patch that mostly works on it: its operations mostly name locations that exist (or, for
    ``add``, ``move`` and ``copy``, ones just below), and ``test`` mostly the value that is there."""
    document = draw(DOCUMENTS)
    chance = draw(st.randoms(use_true_random=True)).random  # unbiased odds: hypothesis favours edge values
    known = _pointers(document)

    def pointer(new: bool = False) -> str:
        if chance() < 0.1:
            return draw(st.sampled_from(known)) + draw(st.sampled_from(["", *SUFFIXES]))
        base = draw(st.sampled_from(known[1:] or known))
        return base + draw(st.sampled_from(SUFFIXES)) if new else base

    operations: list[Any] = []
    for _ in range(draw(st.integers(1, 5))):
        op = draw(st.sampled_from(["add", "remove", "replace", "move", "copy", "test"]))
        operation = {"op": op, "path": pointer(new=op in ("add", "move", "copy") and chance() < 0.5)}
        if op in ("move", "copy"):
            operation["from"] = pointer()
        if op in ("add", "replace"):
            operation["value"] = draw(JSON)
        if op == "test":
            present = jsonpointer.resolve_pointer(document, operation["path"], None)
            present = None if isinstance(present, jsonpointer.EndOfList) else present
            odds = chance()
            operation["value"] = present if odds < 0.7 else _lookalike(present) if odds < 0.85 else draw(JSON)
        known.append(operation["path"])  # later operations reach into what earlier ones made
        operations.append(operation)
    if chance() < 0.05:
        operations.insert(draw(st.integers(0, len(operations))), draw(st.sampled_from(MALFORMED)))
    return document, operations


@SETTINGS
@given(documents_and_patches())
def test_the_compiled_patch_gives_what_jsonpatch_gives_and_never_changes_its_input(case: Any) -> None:
    document, operations = case
    before = _exact(document)
    expected = _outcome(lambda: jsonpatch.apply_patch(document, operations))
    assert _outcome(lambda: compile_patch(operations).apply(document)) == expected
    assert _exact(document) == before
    if isinstance(document, dict) and expected != "failed":
        # As enrichment runs it: the root is the caller's own copy, changed in place; the rest stays shared.
        root = dict(document)
        assert _exact(compile_patch(operations).apply(root, {id(root)})) == expected
        assert _exact(document) == before


EDGE_CASES = [
    ({"a": 1}, [{"op": "remove", "path": ""}]),
    ({"a": {"b": 1}}, [{"op": "move", "from": "/a", "path": "/a/b/c"}]),
    ({"a": {"b": 1}}, [{"op": "move", "from": "/a", "path": "/a"}]),
    ({"a": [{"x": 1}, {}]}, [{"op": "move", "from": "/a/0", "path": "/a/0/y"}]),
    ({"a": 1}, [{"op": "move", "from": "", "path": "/b"}]),
    ({"a": 1}, [{"op": "move", "from": "", "path": ""}]),
    ({"a": {"b": 1}}, [{"op": "move", "from": "/a", "path": ""}]),
    ({"a": {"b": 1}}, [{"op": "copy", "from": "", "path": "/a/c"}]),
    ({"a": {"b": [1]}}, [{"op": "copy", "from": "/a", "path": "/a/b/-"}]),
    ({"a": [1]}, [{"op": "copy", "from": "/a/-", "path": "/b"}]),
    ({"a": [1]}, [{"op": "test", "path": "/a/-", "value": None}]),
    ({"a": [1]}, [{"op": "replace", "path": "/a/-", "value": 2}]),
    ({"a": [1]}, [{"op": "remove", "path": "/a/-"}]),
    ({"a": [1]}, [{"op": "add", "path": "/a/1", "value": 2}]),
    ({"a": [1]}, [{"op": "add", "path": "/a/2", "value": 2}]),
    ({"a": [1]}, [{"op": "add", "path": "/a/01", "value": 2}]),
    ({"a": [[1]]}, [{"op": "add", "path": "/a/-/0", "value": 2}]),
    ({"-": 1}, [{"op": "replace", "path": "/-", "value": 2}]),
    ({"a/b": {"~": 1}}, [{"op": "move", "from": "/a~1b/~0", "path": "/c"}]),
    ({"a": "text"}, [{"op": "add", "path": "/a/0", "value": 1}]),
    ({"a": 1}, [{"op": "add", "path": "", "value": [1]}, {"op": "add", "path": "/-", "value": 2}]),
    ([1, 2, 3], [{"op": "move", "from": "/0", "path": "/2"}]),
    ([1, 2, 3], [{"op": "move", "from": "/2", "path": "/0"}]),
    ({"v": True}, [{"op": "test", "path": "/v", "value": 1}]),
    ({"v": 1}, [{"op": "test", "path": "/v", "value": 1.0}]),
    ({"v": {"a": [1, True]}}, [{"op": "test", "path": "/v", "value": {"a": [1.0, True]}}]),
    ({"v": 1}, [{"op": "test", "path": "", "value": {"v": 1}}]),
]


@pytest.mark.parametrize(("document", "operations"), EDGE_CASES)
def test_edge_cases_of_rfc_6902_come_out_as_jsonpatch_has_them(document: Any, operations: list[Any]) -> None:
    before = _exact(document)
    expected = _outcome(lambda: jsonpatch.apply_patch(document, operations))
    assert _outcome(lambda: compile_patch(operations).apply(document)) == expected
    assert _exact(document) == before


def test_a_compiled_patch_applies_to_many_documents_independently() -> None:
    patch = compile_patch([{"op": "add", "path": "/list/-", "value": {"n": []}},
                           {"op": "add", "path": "/list/0/n/-", "value": 1}])
    first, second = patch.apply({"list": []}), patch.apply({"list": []})
    assert first == second == {"list": [{"n": [1]}]}
    first["list"][0]["n"].append(2)
    assert second == {"list": [{"n": [1]}]} and patch.apply({"list": []}) == {"list": [{"n": [1]}]}


def test_a_copied_value_is_not_changed_through_its_copy() -> None:
    source = {"a": {"x": [1]}}
    out = compile_patch([{"op": "copy", "from": "/a", "path": "/b"},
                         {"op": "add", "path": "/b/x/-", "value": 2},
                         {"op": "add", "path": "/a/y", "value": 3}]).apply(source)
    assert out == {"a": {"x": [1], "y": 3}, "b": {"x": [1, 2]}} and source == {"a": {"x": [1]}}


def test_a_value_made_by_the_patch_is_not_changed_through_its_copy() -> None:
    out = compile_patch([{"op": "add", "path": "/a", "value": {"x": {"n": 1}}},
                         {"op": "add", "path": "/a/x/m", "value": 2},
                         {"op": "copy", "from": "/a", "path": "/b"},
                         {"op": "replace", "path": "/b/x/n", "value": 9},
                         {"op": "remove", "path": "/a/x/m"}]).apply({})
    assert out == {"a": {"x": {"n": 1}}, "b": {"x": {"n": 9, "m": 2}}}


def test_test_compares_numbers_by_value_but_booleans_only_with_booleans() -> None:
    def passes(actual: Any, expected: Any) -> bool:
        return _outcome(lambda: compile_patch([{"op": "test", "path": "/v", "value": expected}]).apply(
            {"v": actual})) != "failed"

    assert passes(1, 1.0) and passes([1, {"a": 2}], [1.0, {"a": 2.0}])
    assert not passes(True, 1) and not passes(1, True) and not passes([0], [False])


def test_a_failing_operation_is_named_with_its_index_op_and_path() -> None:
    patch = compile_patch([{"op": "test", "path": "/a", "value": 1}, {"op": "replace", "path": "/b", "value": 2}])
    try:
        patch.apply({"a": 1})
    except PatchFailed as exc:
        assert (exc.index, exc.op, exc.path) == (1, "replace", "/b") and str(exc).startswith("replace /b: ")
    else:
        raise AssertionError("replacing a missing member must fail")


def test_enrichment_leaves_detail_and_lookup_results_as_they_were(examples_catalogue: Catalogue) -> None:
    from dataclasses import replace

    event = examples_catalogue.event("Order.Shipped.Uk")
    spec = {"from": {"source": ["x"]}, "lookups": [{"name": "m", "callable": "json:loads"}],
            "patch": [{"op": "copy", "from": "/_lookups/m", "path": "/merchant"},
                      {"op": "add", "path": "/merchant/tags/-", "value": "new"},
                      {"op": "move", "from": "/order/lines", "path": "/lines"},
                      {"op": "add", "path": "/lines/0/seen", "value": True},
                      {"op": "copy", "from": "", "path": "/snapshot"}]}
    enrichment = compile_enrichment(replace(event, enrichment=Enrichment.parse(spec)))
    assert enrichment is not None
    detail = {"order": {"lines": [{"sku": "A"}]}}
    lookups = {"m": {"tags": ["old"]}}
    detail_before, lookups_before = copy.deepcopy(detail), copy.deepcopy(lookups)
    out = enrichment.apply(detail, lookup_results=lookups)
    assert detail == detail_before and lookups == lookups_before
    assert out["merchant"] == {"tags": ["old", "new"]} and out["lines"] == [{"sku": "A", "seen": True}]
    assert "_lookups" not in out and out["snapshot"]["order"] == {}


def test_a_move_within_one_array_leaves_the_detail_as_it_was(examples_catalogue: Catalogue) -> None:
    # Removing /l/0 shifts /l/1 onto what was /l/2, a container the move did not copy beforehand (the planner
    # before the compiled patch wrote into the caller's detail here).
    from dataclasses import replace

    event = examples_catalogue.event("Order.Shipped.Uk")
    spec = {"from": {"source": ["x"]}, "patch": [{"op": "move", "from": "/l/0", "path": "/l/1/c"}]}
    enrichment = compile_enrichment(replace(event, enrichment=Enrichment.parse(spec)))
    assert enrichment is not None
    detail = {"l": [1, {"a": 0}, {"b": 0}]}
    assert enrichment.apply(detail) == {"l": [{"a": 0}, {"b": 0, "c": 1}]}
    assert detail == {"l": [1, {"a": 0}, {"b": 0}]}


# -- pruning --------------------------------------------------------------------------------------------------------
class _ReferencePruner:
    """The planner the compiled pruner replaced, kept as the oracle (without its per-place plan cache)."""

    def __init__(self, schema: Schema) -> None:
        self.schema = schema
        self.root = schema.document
        self.defs = self.root.get("$defs", {}) if isinstance(self.root, dict) else {}

    def prune(self, value: Any, schemas: tuple[Any, ...] | None = None) -> Any:
        if not isinstance(value, dict | list):
            return value
        declared, items, patterns = self._plan(self._applicable(schemas or (self.root,), value))
        if isinstance(value, dict):
            if declared is None:
                return value
            kept = {}
            for key, child in value.items():
                named = declared.get(key)
                matched = tuple(sub for pattern, sub in patterns if pattern.search(key))
                if named is not None or matched:
                    kept[key] = self.prune(child, (named or ()) + matched)
            return kept
        return [self.prune(v, items) for v in value] if items else value

    def _plan(self, applicable: list[Any]) -> tuple[dict[str, tuple[Any, ...]] | None, tuple[Any, ...], list[Any]]:
        declared: dict[str, list[Any]] | None = None
        patterns: list[tuple[re.Pattern[str], Any]] = []
        for schema in applicable:
            properties = schema.get("properties")
            pattern_properties = schema.get("patternProperties")
            if isinstance(properties, dict) or isinstance(pattern_properties, dict):
                declared = declared if declared is not None else {}
            if isinstance(properties, dict):
                for name, sub in properties.items():
                    declared.setdefault(name, []).append(sub)  # type: ignore[union-attr]
            if isinstance(pattern_properties, dict):
                patterns.extend((re.compile(p), sub) for p, sub in pattern_properties.items())
        items = tuple(s["items"] for s in applicable if isinstance(s.get("items"), dict))
        return ({k: tuple(v) for k, v in declared.items()} if declared is not None else None), items, patterns

    def _applicable(self, schemas: tuple[Any, ...], value: Any) -> list[Any]:
        out: list[Any] = []
        stack = list(schemas)
        while stack:
            schema = self._resolve(stack.pop())
            if not isinstance(schema, dict):
                continue
            out.append(schema)
            stack.extend(schema.get("allOf") or ())
            for keyword in ("oneOf", "anyOf"):
                for branch in schema.get(keyword) or ():
                    if validator_for(self.root, self.schema.dialect).evolve(schema=branch).is_valid(value):
                        stack.append(branch)
                        break
        return out

    def _resolve(self, schema: Any) -> Any:
        for _ in range(64):
            if not (isinstance(schema, dict) and isinstance(schema.get("$ref"), str)):
                return schema
            ref = schema["$ref"]
            if ref == "#":
                schema = self.root
            elif ref.startswith("#/$defs/"):
                schema = self.defs.get(ref[len("#/$defs/"):].replace("~1", "/").replace("~0", "~"), {})
            else:
                return {}
        return {}


DEFS = {
    "node": {"type": "object", "properties": {"a": {"type": "string"},
                                              "kids": {"type": "array", "items": {"$ref": "#/$defs/node"}}}},
    "money": {"type": "object", "required": ["amount"], "properties": {"amount": {"type": "integer"},
                                                                      "currency": {"type": "string"}}},
    "nested": {"type": "array", "items": {"$ref": "#/$defs/nested"}},
}
NAMES = st.sampled_from(["a", "b", "kids", "amount", "x-1"])
LEAVES = st.sampled_from([{"type": "string"}, {"type": "integer"}, {}, {"type": "object"}, {"$ref": "#/$defs/node"},
                          {"$ref": "#/$defs/money"}, {"$ref": "#/$defs/nested"},
                          {"type": "object", "properties": {"a": {"$ref": "#"}}}])


def _branch(schema: Any, required: str | None) -> Any:
    return {**schema, "required": [required]} if required is not None and "$ref" not in schema else schema


def _schemas(inner: Any) -> Any:
    branch = st.builds(_branch, inner, st.none() | NAMES)
    return st.one_of(
        st.builds(lambda p: {"type": "object", "properties": p}, st.dictionaries(NAMES, inner, max_size=3)),
        st.builds(lambda p, x: {"properties": p, "patternProperties": {"^x-": x}},
                  st.dictionaries(NAMES, inner, max_size=2), inner),
        st.builds(lambda i: {"type": "array", "items": i}, inner),
        st.builds(lambda a, b: {"allOf": [a, b]}, inner, inner),
        st.builds(lambda a, b: {"oneOf": [a, b]}, branch, branch),
        st.builds(lambda a, b: {"anyOf": [a, b]}, branch, branch),
    )


SCHEMAS = st.recursive(LEAVES, _schemas, max_leaves=8)
VALUES = st.recursive(st.one_of(st.none(), st.integers(0, 3), st.text(alphabet="ab", max_size=2)),
                      lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
                          st.sampled_from(["a", "b", "kids", "amount", "currency", "x-1", "x-2", "y"]), inner,
                          max_size=4),
                      max_leaves=8)


@st.composite
def schemas_and_values(draw: Any) -> tuple[Any, Any]:
    """A schema and a value roughly of its shape, with undeclared members here and there, so pruning has work."""
    document = draw(SCHEMAS)
    chance = draw(st.randoms(use_true_random=True)).random  # unbiased odds: hypothesis favours edge values

    def like(schema: Any, depth: int) -> Any:
        while isinstance(schema, dict) and "$ref" in schema:
            ref = schema["$ref"]
            schema = document if ref == "#" else DEFS[ref.removeprefix("#/$defs/")]
        if depth > 4 or chance() < 0.1:
            return draw(VALUES)
        for keyword in ("oneOf", "anyOf"):
            if keyword in schema:
                return like(draw(st.sampled_from(schema[keyword])), depth)
        if "allOf" in schema:
            parts = [like(sub, depth) for sub in schema["allOf"]]
            if all(isinstance(part, dict) for part in parts):
                return {key: item for part in parts for key, item in part.items()}
            return draw(st.sampled_from(parts))
        if "items" in schema:
            return [like(schema["items"], depth + 1) for _ in range(draw(st.integers(0, 3)))]
        if "properties" in schema or "patternProperties" in schema:
            value = {name: like(sub, depth + 1) for name, sub in schema.get("properties", {}).items()
                     if chance() < 0.8}
            for name in ("x-1", "x-2", "y", "kids"):
                if chance() < 0.3:
                    value[name] = like(schema.get("patternProperties", {}).get("^x-", {}), depth + 1)
            return value
        return draw(VALUES)

    return document, like(document, 0)


def _schema(document: Any) -> Schema:
    return Schema({"$schema": DRAFT7, **document, "$defs": DEFS}, "application/schema+json;version=draft-07",
                  DRAFT7, Location("test"))


@SETTINGS
@given(schemas_and_values())
def test_the_compiled_pruner_prunes_like_the_reference_planner(case: tuple[Any, Any]) -> None:
    document, value = case
    schema = _schema(document)
    before = _exact(value)
    pruner = Pruner(schema)
    expected = _exact(_ReferencePruner(schema).prune(value))
    assert _exact(pruner.prune(value)) == expected
    assert _exact(pruner.prune(value)) == expected  # again, through the closures compiled on first use
    assert _exact(value) == before


def _prune_spec(event: Event) -> Event:
    from dataclasses import replace

    spec = {"from": {"source": ["x"]}, "patch": [], "prune": True}
    return replace(event, enrichment=Enrichment.parse(spec))


def test_pruning_what_has_nothing_to_drop_returns_the_very_same_objects(examples_catalogue: Catalogue) -> None:
    for event in examples_catalogue.events:
        pruner = Pruner(event.payload)
        for example in event.examples:
            assert pruner.prune(example.payload) is example.payload


def test_pruning_follows_recursive_line_items_to_any_depth(examples_catalogue: Catalogue) -> None:
    event = examples_catalogue.event("Order.Created.Uk")
    example = next(e.payload for e in event.examples if any("components" in line for line in e.payload["lines"]))
    noisy = copy.deepcopy(example)
    bundle = next(line for line in noisy["lines"] if "components" in line)
    deepest = bundle["components"][-1].get("components", bundle["components"])[-1]
    deepest["warehouseBin"] = "B-12"
    deepest["unitPrice"]["fx"] = 1.1
    enrichment = compile_enrichment(_prune_spec(event))
    assert enrichment is not None
    assert enrichment.apply(noisy) == example
