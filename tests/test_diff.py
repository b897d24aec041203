"""`eventdeck diff`: every change kind of issue 12 classified on a fixture pair (through $ref, allOf, oneOf and
recursion), the examples' own evolution (Payment.Authorised → Payment.AuthorisedV2), and the version policy
accepting the right bump and rejecting a wrong one or a breaking change made in place."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path
from typing import Any

import jsonpatch
import pytest
import yaml
from cli_runner import run

from conftest import EXAMPLES
from pipeline.contract import ContractLoader
from pipeline.contract.diff import (
    IMPACT,
    Bump,
    Impact,
    Kind,
    VersionPolicy,
    bump_between,
    check,
    diff_catalogues,
    schema_changes,
    successor_name,
)
from pipeline.contract.source import parse_text

FIXTURES = Path(__file__).parent / "fixtures" / "diff"
BASE = yaml.safe_load((FIXTURES / "base.yaml").read_text(encoding="utf-8"))
S = "/components/schemas"
F = "/components/schemas/OrderPlacedPayload/allOf/1"  # the payload's own fields (an allOf member)
M = "/components/messages/OrderPlaced"
SHIPPED_GONE = [{"op": "remove", "path": "/channels/orderShipped"},
                {"op": "remove", "path": "/operations/sendOrderShipped"},
                {"op": "remove", "path": "/components/messages/OrderShipped"}]
SEALED = {"sign": {"alg": "ES256", "kid": "shop-sign-1"}, "issuer": "com.example.shop"}
SEALED_ROTATED = {"sign": {"alg": "ES256", "kid": "shop-sign-2"}, "issuer": "com.example.shop"}


def add(path: str, value: Any) -> dict[str, Any]:
    return {"op": "add", "path": path, "value": value}


def replace(path: str, value: Any) -> dict[str, Any]:
    return {"op": "replace", "path": path, "value": value}


def remove(path: str) -> dict[str, Any]:
    return {"op": "remove", "path": path}


# (case id, patch making the old side, patch making the new side, the kinds expected, a pointer one change is at)
CASES: list[tuple[str, list[dict[str, Any]], list[dict[str, Any]], set[Kind], str | None]] = [
    ("event-removed", [], SHIPPED_GONE, {Kind.EVENT_REMOVED}, ""),
    ("event-added", SHIPPED_GONE, [], {Kind.EVENT_ADDED}, ""),
    ("field-removed", [], [remove(f"{F}/properties/note")], {Kind.FIELD_REMOVED}, "/payload/properties/note"),
    ("field-renamed", [], [{"op": "move", "from": f"{F}/properties/note", "path": f"{F}/properties/comment"}],
     {Kind.FIELD_RENAMED}, "/payload/properties/note"),
    ("new-required-field", [], [add(f"{F}/properties/channel", {"type": "string", "description": "Sales channel."}),
                                add(f"{F}/required/-", "channel")],
     {Kind.FIELD_ADDED_REQUIRED}, "/payload/properties/channel"),
    ("new-optional-field", [], [add(f"{F}/properties/coupon", {"type": "string", "description": "Coupon code."})],
     {Kind.FIELD_ADDED_OPTIONAL}, "/payload/properties/coupon"),
    ("field-now-required", [], [add(f"{F}/required/-", "note")], {Kind.FIELD_NOW_REQUIRED}, "/payload/required"),
    ("field-now-optional", [], [remove(f"{F}/required/1")], {Kind.FIELD_NOW_OPTIONAL}, "/payload/required"),
    ("type-narrowed", [], [replace(f"{F}/properties/weight/type", "integer")], {Kind.TYPE_NARROWED},
     "/payload/properties/weight/type"),
    ("type-widened", [], [replace(f"{F}/properties/quantity/type", "number")], {Kind.TYPE_WIDENED},
     "/payload/properties/quantity/type"),
    ("enum-value-removed", [], [replace(f"{F}/properties/status/enum", ["placed"])], {Kind.ENUM_VALUE_REMOVED},
     "/payload/properties/status/enum"),
    ("enum-widened", [], [add(f"{F}/properties/status/enum/-", "cancelled")], {Kind.ENUM_WIDENED},
     "/payload/properties/status/enum"),
    ("pattern-tightened-through-ref", [], [replace(f"{S}/Money/properties/currency/pattern", "^(GBP|EUR)$")],
     {Kind.CONSTRAINT_TIGHTENED}, "/payload/properties/total/properties/currency/pattern"),
    ("pattern-added", [], [add(f"{F}/properties/note/pattern", "^[a-z ]*$")], {Kind.CONSTRAINT_TIGHTENED},
     "/payload/properties/note/pattern"),
    ("format-added", [], [add(f"{F}/properties/contact/format", "email")], {Kind.CONSTRAINT_TIGHTENED},
     "/payload/properties/contact/format"),
    ("minimum-tightened", [], [replace(f"{F}/properties/quantity/minimum", 2)], {Kind.CONSTRAINT_TIGHTENED},
     "/payload/properties/quantity/minimum"),
    ("maximum-tightened", [], [replace(f"{F}/properties/quantity/maximum", 50)], {Kind.CONSTRAINT_TIGHTENED},
     "/payload/properties/quantity/maximum"),
    ("length-tightened", [], [replace(f"{F}/properties/note/maxLength", 100)], {Kind.CONSTRAINT_TIGHTENED},
     "/payload/properties/note/maxLength"),
    ("length-relaxed", [], [replace(f"{F}/properties/note/maxLength", 500)], {Kind.CONSTRAINT_RELAXED},
     "/payload/properties/note/maxLength"),
    ("minimum-relaxed-through-ref", [], [remove(f"{S}/Money/properties/amountMinor/minimum")],
     {Kind.CONSTRAINT_RELAXED}, "/payload/properties/total/properties/amountMinor/minimum"),
    ("additional-properties-closed-through-ref", [], [add(f"{S}/Money/additionalProperties", False)],
     {Kind.ADDITIONAL_PROPERTIES_CLOSED}, "/payload/properties/total/additionalProperties"),
    ("additional-properties-opened", [add(f"{S}/Money/additionalProperties", False)], [],
     {Kind.ADDITIONAL_PROPERTIES_OPENED}, "/payload/properties/total/additionalProperties"),
    ("new-required-field-through-allOf", [],
     [add(f"{S}/BaseEvent/properties/source", {"type": "string", "description": "Producer."}),
      add(f"{S}/BaseEvent/required/-", "source")], {Kind.FIELD_ADDED_REQUIRED}, "/payload/properties/source"),
    ("type-narrowed-through-allOf", [], [replace(f"{S}/BaseEvent/properties/occurredAt/type", "integer")],
     {Kind.TYPE_NARROWED}, "/payload/properties/occurredAt/type"),
    ("enum-value-removed-through-oneOf", [], [replace(f"{S}/Wallet/properties/provider/enum", ["apple_pay"])],
     {Kind.ENUM_VALUE_REMOVED}, "/payload/properties/payment/oneOf/1/properties/provider/enum"),
    ("oneOf-variant-removed", [], [remove(f"{F}/properties/payment/oneOf/1")], {Kind.VARIANT_REMOVED},
     "/payload/properties/payment/oneOf/1"),
    ("oneOf-variant-added", [], [
        add(f"{S}/BankTransfer", {"type": "object", "required": ["type"], "properties": {"type": {"const": "bank"}}}),
        add(f"{F}/properties/payment/oneOf/-", {"$ref": "#/components/schemas/BankTransfer"})],
     {Kind.VARIANT_ADDED}, "/payload/properties/payment/oneOf/2"),
    ("change-inside-recursion", [], [add(f"{S}/Category/properties/name/maxLength", 40)],
     {Kind.CONSTRAINT_TIGHTENED}, "/payload/properties/category/properties/name/maxLength"),
    ("schema-keyword-the-differ-cannot-order", [], [add(f"{F}/properties/note/not", {"const": ""})],
     {Kind.SCHEMA_CHANGED}, "/payload/properties/note/not"),
    ("payload-removed", [], [remove(f"{M}/payload"), remove(f"{M}/examples")],
     {Kind.PAYLOAD_REMOVED, Kind.EXAMPLES_CHANGED}, "/payload"),
    ("sealing-changed", [], [replace("/x-sealing", SEALED)], {Kind.SEALING_CHANGED}, "/sealing"),
    ("sealing-key-rotated", [replace("/x-sealing", SEALED)], [replace("/x-sealing", SEALED_ROTATED)],
     {Kind.KEY_ROTATED}, "/sealing"),
    ("bus-changed", [], [replace("/x-eventbridge/bus", "shop-internal")], {Kind.BUS_CHANGED}, "/bus"),
    ("content-type-changed", [], [replace(f"{M}/contentType", "application/xml")], {Kind.CONTENT_TYPE_CHANGED},
     "/contentType"),
    ("field-description-changed", [], [replace(f"{F}/properties/note/description", "Free text.")],
     {Kind.ANNOTATION_CHANGED}, "/payload/properties/note/description"),
    ("message-description-changed", [], [replace(f"{M}/description", "Published once per order.")],
     {Kind.ANNOTATION_CHANGED}, "/description"),
    ("examples-changed", [], [replace(f"{M}/examples/0/summary", "Two books.")], {Kind.EXAMPLES_CHANGED},
     "/examples"),
    ("schema-example-added", [], [add(f"{F}/properties/note/examples", ["Leave at the door"])],
     {Kind.EXAMPLES_CHANGED}, "/payload/properties/note/examples"),
    ("deprecated", [], [add(f"{M}/x-lifecycle", {"status": "deprecated", "sunset": "2027-01-31"})],
     {Kind.LIFECYCLE_CHANGED}, "/x-lifecycle"),
    ("unchanged", [], [], set(), None),
]
#: Kinds no case needs a pair of its own for: said why.
NOT_IN_TABLE = {
    Kind.PAYLOAD_ADDED: "the reverse of payload-removed; covered by test_a_payload_added_is_non_breaking",
}


def document(patch: list[dict[str, Any]]) -> dict[str, Any]:
    return jsonpatch.apply_patch(copy.deepcopy(BASE), patch)


def write_pair(folder: Path, name: str, old_patch: list[dict[str, Any]],
               new_patch: list[dict[str, Any]]) -> tuple[Path, Path]:
    """The two sides as files; an empty patch is the base fixture itself (loaded once, from the loader's cache)."""
    sides = []
    for side, patch in (("old", old_patch), ("new", new_patch)):
        path = FIXTURES / "base.yaml" if not patch else folder / f"{name}.{side}.yaml"
        if patch:
            path.write_text(yaml.safe_dump(document(patch), sort_keys=False), encoding="utf-8")
        sides.append(path)
    return sides[0], sides[1]


@pytest.fixture(scope="module")
def loader() -> ContractLoader:
    return ContractLoader()


@pytest.fixture(scope="module")
def pairs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Path]]:
    folder = tmp_path_factory.mktemp("pairs")
    return {case: write_pair(folder, case, old, new) for case, old, new, _, _ in CASES}


@pytest.mark.parametrize(("case", "expected", "where"), [(c[0], c[3], c[4]) for c in CASES],
                         ids=[c[0] for c in CASES])
def test_each_change_kind_is_classified(case: str, expected: set[Kind], where: str | None, loader: ContractLoader,
                                        pairs: dict[str, tuple[Path, Path]]) -> None:
    old, new = pairs[case]
    diff = diff_catalogues(loader.load([old]), loader.load([new]))
    assert {c.kind for c in diff.changes} == expected, [c.message for c in diff.changes]
    if where is not None:
        assert where in {c.where for c in diff.changes}, [c.where for c in diff.changes]
    impacts = {IMPACT[k] for k in expected}
    for event in diff.changed:
        assert event.impact in impacts


def test_the_table_covers_every_change_kind() -> None:
    covered = set().union(*(expected for _, _, _, expected, _ in CASES))
    assert set(Kind) - covered == set(NOT_IN_TABLE)


def test_the_issue_classification_holds_for_each_kind() -> None:
    breaking = {Kind.EVENT_REMOVED, Kind.FIELD_REMOVED, Kind.FIELD_RENAMED, Kind.FIELD_ADDED_REQUIRED,
                Kind.TYPE_NARROWED, Kind.ENUM_VALUE_REMOVED, Kind.CONSTRAINT_TIGHTENED,
                Kind.ADDITIONAL_PROPERTIES_CLOSED, Kind.SEALING_CHANGED, Kind.BUS_CHANGED}
    non_breaking = {Kind.FIELD_ADDED_OPTIONAL, Kind.ENUM_WIDENED, Kind.CONSTRAINT_RELAXED, Kind.EVENT_ADDED}
    annotation = {Kind.ANNOTATION_CHANGED, Kind.EXAMPLES_CHANGED}
    assert {IMPACT[k] for k in breaking} == {Impact.BREAKING}
    assert {IMPACT[k] for k in non_breaking} == {Impact.NON_BREAKING}
    assert {IMPACT[k] for k in annotation} == {Impact.ANNOTATION}


def test_a_payload_added_is_non_breaking(loader: ContractLoader, tmp_path: Path) -> None:
    old, new = write_pair(tmp_path, "payload-added", [remove(f"{M}/payload"), remove(f"{M}/examples")], [])
    diff = diff_catalogues(loader.load([old]), loader.load([new]))
    assert {c.kind for c in diff.changes} == {Kind.PAYLOAD_ADDED, Kind.EXAMPLES_CHANGED}
    assert all(c.impact is not Impact.BREAKING for c in diff.changes)


def test_recursion_is_compared_once_and_terminates(loader: ContractLoader, tmp_path: Path) -> None:
    old, new = write_pair(tmp_path, "recursive", [], [add(f"{S}/Category/properties/name/maxLength", 40)])
    diff = diff_catalogues(loader.load([old]), loader.load([new]))
    assert [c.where for c in diff.changes] == ["/payload/properties/category/properties/name/maxLength"]


def test_a_shared_definition_referenced_many_times_is_compared_once() -> None:
    # 40 layers, each referring to the next one twice: 2^40 paths if every reference were followed everywhere.
    # (Bundled schemas are given directly: the loader's own cost on such a schema is not what is tested here.)
    def bundle(leaf: dict[str, Any]) -> dict[str, Any]:
        defs: dict[str, Any] = {f"L{i}": {"type": "object", "properties": {
            "a": {"$ref": f"#/$defs/L{i + 1}"}, "b": {"$ref": f"#/$defs/L{i + 1}"}}} for i in range(40)}
        defs["L40"] = leaf
        return {"$ref": "#/$defs/L0", "$defs": defs}

    changes = schema_changes("Deep.Thing.Made", bundle({"type": "string"}),
                             bundle({"type": "string", "maxLength": 3}), "/payload")
    assert [(c.kind, c.where) for c in changes] == [(Kind.CONSTRAINT_TIGHTENED, "/payload" + "/properties/a" * 40 +
                                                     "/maxLength")]


def test_a_reference_loop_ends() -> None:
    loop = {"$ref": "#/$defs/A", "$defs": {"A": {"$ref": "#/$defs/B"}, "B": {"$ref": "#/$defs/A"}}}
    assert schema_changes("Loop.Thing.Made", loop, {"allOf": [loop, {"allOf": [{"$ref": "#"}]}]}, "/payload") == []


# --------------------------------------------------------------------------------------------- version policy
def test_bumps_are_read_as_semantic_versions() -> None:
    assert bump_between("1.2.3", "2.0.0") is Bump.MAJOR
    assert bump_between("1.2.3", "1.3.0") is Bump.MINOR
    assert bump_between("1.2.3", "1.2.4") is Bump.PATCH
    assert bump_between("1.2.3", "1.2.3") is Bump.NONE
    assert bump_between("1.3.0-rc.1", "1.3.0") is Bump.PATCH
    assert bump_between("1.2.3", "1.2.2") is None
    assert bump_between("one", "1.2.2") is None


def test_the_successor_of_an_event_type_versions_its_event_segment() -> None:
    assert successor_name("Payment.Authorised.Ecom") == "Payment.AuthorisedV2.Ecom"
    assert successor_name("Payment.AuthorisedV2.Ecom") == "Payment.AuthorisedV3.Ecom"


def test_a_policy_file_is_checked_key_by_key() -> None:
    assert VersionPolicy.from_mapping({"breaking": "major", "new-event": "minor"}, "p.yaml") == \
        VersionPolicy(breaking="major", new_event=Bump.MINOR)
    for bad in ({"breaking": "sometimes"}, {"new-event": "huge"}, {"typo": 1}, ["major"]):
        with pytest.raises(Exception, match=r"p\.yaml"):
            VersionPolicy.from_mapping(bad, "p.yaml")


def with_version(folder: Path, name: str, patch: list[dict[str, Any]], version: str) -> Path:
    path = folder / name
    path.write_text(yaml.safe_dump(document([*patch, replace("/info/version", version)]), sort_keys=False),
                    encoding="utf-8")
    return path


@pytest.mark.parametrize(("case", "new_patch", "right", "wrong"), [
    ("new event", [], "2.0.0", "1.1.0"),
    ("non-breaking change", [add(f"{F}/properties/coupon", {"type": "string", "description": "Code."})],
     "1.1.0", "1.0.1"),
    ("fix", [replace(f"{M}/description", "Published once per order.")], "1.0.1", "1.0.0"),
])
def test_the_policy_accepts_the_right_bump_and_rejects_a_wrong_one(case: str, new_patch: list[dict[str, Any]],
                                                                   right: str, wrong: str, tmp_path: Path) -> None:
    old_patch = SHIPPED_GONE if case == "new event" else []
    old = with_version(tmp_path, "old.yaml", old_patch, "1.0.0")
    ok = run("diff", old, with_version(tmp_path, "right.yaml", new_patch, right))
    assert ok.code == 0, ok.output
    assert "✓ the version policy is satisfied" in ok.out
    refused = run("diff", old, with_version(tmp_path, "wrong.yaml", new_patch, wrong))
    assert refused.code == 3, refused.output
    assert "✗ version: old: info.version 1.0.0 → " in refused.out or "✗ version:" in refused.out


def test_a_breaking_change_in_place_is_refused_whatever_the_bump(tmp_path: Path) -> None:
    old = with_version(tmp_path, "old.yaml", [], "1.0.0")
    new = with_version(tmp_path, "new.yaml", [remove(f"{F}/properties/note")], "2.0.0")
    result = run("diff", old, new)
    assert result.code == 1, result.output
    assert "publish them as a new type (Order.PlacedV2.Web)" in result.out


def test_a_semver_policy_file_allows_a_breaking_change_with_a_major_bump(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("breaking: major\nnew-event: minor\n", encoding="utf-8")
    old = with_version(tmp_path, "old.yaml", [], "1.0.0")
    for version, code in (("2.0.0", 0), ("1.1.0", 3)):
        new = with_version(tmp_path, f"new-{version}.yaml", [remove(f"{F}/properties/note")], version)
        result = run("diff", "--policy", policy, old, new)
        assert result.code == code, result.output


def test_removing_an_event_needs_a_deprecation_first(tmp_path: Path) -> None:
    active = with_version(tmp_path, "active.yaml", [], "1.0.0")
    gone = with_version(tmp_path, "gone.yaml", SHIPPED_GONE, "2.0.0")
    refused = run("diff", active, gone)
    assert refused.code == 1 and "removed without being deprecated first" in refused.out
    deprecated = with_version(tmp_path, "deprecated.yaml", [
        add("/components/messages/OrderShipped/x-lifecycle", {"status": "deprecated", "sunset": "2026-12-31"})],
        "1.1.0")
    assert run("diff", deprecated, gone).code == 0
    assert run("diff", deprecated, with_version(tmp_path, "gone-minor.yaml", SHIPPED_GONE, "1.2.0")).code == 3


# ------------------------------------------------------------------------------ the examples' own evolution
def payments_v1(folder: Path) -> Path:
    """asyncapi/ as it was before Payment.AuthorisedV2: the V2 events do not exist yet, Payment.Authorised.* is
    active, and the document is at 1.3.0."""
    shutil.copytree(EXAMPLES, folder)
    path = folder / "payments.yaml"
    # Read as eventdeck reads it (YAML 1.2) and written back as JSON (which is YAML): nothing else changes.
    doc = parse_text(path.read_text(encoding="utf-8"), str(path)).data
    for section in ("channels", "operations"):
        doc[section] = {k: v for k, v in doc[section].items() if "V2" not in k}
    for section in ("messages", "schemas"):
        doc["components"][section] = {k: v for k, v in doc["components"][section].items() if "V2" not in k}
    for name in ("PaymentAuthorisedEcom", "PaymentAuthorisedPos"):
        doc["components"]["messages"][name]["x-lifecycle"] = {"status": "active"}
    doc["info"]["version"] = "1.3.0"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return folder


def test_the_examples_evolution_to_v2_is_non_breaking_and_a_major_bump(loader: ContractLoader,
                                                                       tmp_path: Path) -> None:
    old = payments_v1(tmp_path / "v1")
    diff = diff_catalogues(loader.load([old]), loader.load([EXAMPLES]))
    by_event = {e.event: e for e in diff.changed}
    assert set(by_event) == {"Payment.Authorised.Ecom", "Payment.Authorised.Pos", "Payment.AuthorisedV2.Ecom",
                             "Payment.AuthorisedV2.Pos"}
    assert by_event["Payment.AuthorisedV2.Ecom"].added and by_event["Payment.AuthorisedV2.Pos"].added
    assert {c.kind for c in by_event["Payment.Authorised.Ecom"].changes} == {Kind.LIFECYCLE_CHANGED}
    assert not diff.of_impact(Impact.BREAKING)
    verdict = check(diff)
    assert verdict.violations == ()
    payments = next(d for d in verdict.documents if d.document == "payments")
    assert (payments.old_version, payments.new_version, payments.required, payments.actual) == \
        ("1.3.0", "2.0.0", Bump.MAJOR, Bump.MAJOR)
    result = run("diff", old, EXAMPLES, "--format", "json")
    assert result.code == 0, result.output
    assert json.loads(result.out)["summary"] == {"breaking": 0, "non-breaking": 2, "annotation": 2}


def test_the_examples_evolution_with_a_minor_bump_is_a_wrong_bump(tmp_path: Path) -> None:
    old = payments_v1(tmp_path / "v1")
    new = tmp_path / "v2"
    shutil.copytree(EXAMPLES, new)
    text = (new / "payments.yaml").read_text(encoding="utf-8")
    (new / "payments.yaml").write_text(text.replace("version: '2.0.0'", "version: '1.4.0'", 1), encoding="utf-8")
    result = run("diff", old, new)
    assert result.code == 3, result.output
    assert "payments: info.version 1.3.0 → 1.4.0 is a minor bump; the changes need a major bump" in result.out


def test_changing_payment_authorised_in_place_instead_of_v2_is_refused(tmp_path: Path) -> None:
    old = payments_v1(tmp_path / "v1")
    new = payments_v1(tmp_path / "in-place")
    path = new / "payments.yaml"
    doc = json.loads(path.read_text(encoding="utf-8"))
    fields = doc["components"]["schemas"]["PaymentAuthorisedV1Fields"]
    fields["properties"]["amount"] = {"$ref": "./schemas/money.yaml"}
    del fields["properties"]["currency"]
    fields["required"].remove("currency")
    doc["info"]["version"] = "2.0.0"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    result = run("diff", old, new, "--format", "json")
    assert result.code == 1, result.output
    report = json.loads(result.out)
    refused = {v["event"] for v in report["violations"] if v["rule"] == "breaking"}
    assert refused == {"Payment.Authorised.Ecom", "Payment.Authorised.Pos"}
    kinds = {c["kind"] for e in report["events"] for c in e["changes"]}
    assert {"field-removed", "type-narrowed"} <= kinds
    assert "Payment.AuthorisedV2.Ecom" in " ".join(v["message"] for v in report["violations"])
