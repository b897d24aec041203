"""The kit's patterns, proven with eventdeck's pattern engine: every pattern of every hierarchy level matches every
example of the events it lists and no example of any other event — including the producer's real (sealed) output —
and content filters are offered exactly where the bus can read the payload."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cli_runner import Workspace, workspace
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import EXAMPLES
from pipeline.contract import load_catalogue
from pipeline.contract.model import Catalogue
from pipeline.patterns import compile_pattern
from portal.kit.errors import KitError
from portal.kit.examples import example_events, is_sealed
from portal.kit.filters import filter_offer, filter_pattern, merged
from portal.kit.patterns import all_levels, event_named, level_pattern, levels, patterns_for


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue([EXAMPLES])


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return workspace(tmp_path_factory.mktemp("kit"))


def _under(label: str, name: str) -> bool:
    """The oracle the engine's verdicts are checked against: the name hierarchy as the page promises it."""
    return name == label if not label.endswith(".*") else name.startswith(label[:-1])


def test_every_level_pattern_matches_all_examples_of_its_events_and_nothing_else(catalogue: Catalogue) -> None:
    examples = example_events(catalogue)
    assert {e.event_key for e in examples} == {e.key for e in catalogue.events}  # every event has examples
    labels = all_levels(catalogue)
    assert len(labels) >= len(catalogue.events) + 6
    for label in labels:
        kit = level_pattern(catalogue, label, examples)
        engine = compile_pattern(kit.pattern)
        expected = {e.key for e in catalogue.events if _under(label, e.name)}
        assert set(kit.matches) == expected, label
        for example in examples:
            assert engine.matches(example.event) == (example.event_key in expected), (label, example.label)


def test_each_event_gets_exact_then_each_shorter_level(catalogue: Catalogue) -> None:
    event = catalogue.event("Payment.Authorised.Ecom")
    assert levels(event) == ["Payment.Authorised.Ecom", "Payment.Authorised.*", "Payment.*"]
    exact, middle, top = patterns_for(catalogue, event)
    assert exact.pattern == {"source": ["com.retailer.payments"], "detail-type": ["Payment.Authorised.Ecom"]}
    assert exact.also_matches(event.key) == ()
    assert middle.pattern["detail-type"] == [{"prefix": "Payment.Authorised."}]
    # A prefix on "Payment.Authorised." keeps the V2 events out (the engine says so, not a string comparison).
    assert middle.also_matches(event.key) == ("Payment.Authorised.Pos",)
    assert "Payment.AuthorisedV2.Ecom" in top.also_matches(event.key)
    assert exact.eventbridge is not None and exact.eventbridge.bus == "payments-public"
    assert json.loads(json.dumps(middle.as_json(event.key)))["alsoMatches"] == ["Payment.Authorised.Pos"]


def test_patterns_match_what_the_producer_really_publishes(catalogue: Catalogue, ws: Workspace) -> None:
    """The examples stand in for the producer's entries; here the real sealed and unsealed entries of the
    contract's samples (``eventdeck seal --samples``) meet every exact pattern."""
    exact = {e.name: compile_pattern(level_pattern(catalogue, e.name).pattern) for e in catalogue.events}
    seen = set()
    for line in ws.sealed:
        record = json.loads(line)
        entry = record["entry"]
        event = {"version": "0", "id": "x", "detail-type": entry["DetailType"], "source": entry["Source"],
                 "account": "111122223333", "time": entry["Time"], "region": "eu-west-1", "resources": [],
                 "detail": json.loads(entry["Detail"])}
        verdicts = {name for name, engine in exact.items() if engine.matches(event)}
        assert verdicts == {entry["DetailType"]}, entry["DetailType"]
        seen.add(entry["DetailType"])
        if is_sealed(catalogue.event(entry["DetailType"])):
            assert isinstance(event["detail"]["data"], str)  # what the example stand-in imitates
    assert len(seen) >= 10


def test_sealed_events_offer_no_content_filter_and_say_why(catalogue: Catalogue) -> None:
    sealed = [e for e in catalogue.events if is_sealed(e)]
    assert sealed
    for event in sealed:
        offer = filter_offer(event)
        assert offer.fields == ()
        assert offer.unavailable is not None and "JWE/JWS" in offer.unavailable and event.name in offer.unavailable
    top = level_pattern(catalogue, "Basket.*")  # one sealed event under it is enough to rule filters out
    assert top.filters.fields == () and "Basket.Paid.Eu is sealed" in str(top.filters.unavailable)


def test_unsealed_events_offer_their_enum_and_const_fields(catalogue: Catalogue) -> None:
    offer = filter_offer(catalogue.event("Basket.Created.Eu"))
    assert {f.name: f.values for f in offer.fields} == {
        "market": ("DE", "FR", "NL", "IE", "ES", "IT"), "channel": ("web", "app")}
    plain = filter_offer(catalogue.event("Basket.Abandoned.Eu"))
    assert plain.fields == () and "no field" in str(plain.unavailable)


def test_a_content_filter_keeps_exactly_the_examples_with_that_value(catalogue: Catalogue) -> None:
    kit = level_pattern(catalogue, "Basket.Created.Eu")
    market = kit.filters.field("market")
    assert market is not None
    examples = [e for e in example_events(catalogue) if e.event_key == "Basket.Created.Eu"]
    for value in ("DE", "FR"):
        engine = compile_pattern(merged(kit.pattern, filter_pattern(market, [value])))
        for example in examples:
            assert engine.matches(example.event) == (example.event["detail"]["data"]["market"] == value)
            changed: dict[str, Any] = json.loads(json.dumps(example.event))
            changed["detail"]["data"]["market"] = value
            assert engine.matches(changed)
    assert compile_pattern(merged(kit.pattern, filter_pattern(market, ["DE"]))).matches(examples[0].event) == (
        examples[0].event["detail"]["data"]["market"] == "DE")


def test_unknown_names_get_close_matches(catalogue: Catalogue) -> None:
    with pytest.raises(KitError, match=r"did you mean Payment\.Authorised\.Ecom"):
        event_named(catalogue, "Payment.Authorized.Ecom")
    with pytest.raises(KitError, match=r"sits under 'Shipment\.\*'"):
        level_pattern(catalogue, "Shipment.*")
    with pytest.raises(KitError):
        level_pattern(catalogue, "*")


_NAMES = st.lists(st.sampled_from(["A", "B", "Ab", ".", "*"]), min_size=1, max_size=6).map("".join)


@settings(max_examples=300, deadline=None)
@given(st.lists(_NAMES, max_size=12), st.lists(st.one_of(_NAMES, _NAMES.map(lambda n: n + ".*")), max_size=8))
def test_the_level_index_chooses_what_scanning_every_name_chooses(names: list[str], labels: list[str]) -> None:
    from types import SimpleNamespace

    from portal.kit.patterns import LevelIndex, levels

    events = [SimpleNamespace(name=name, parts=tuple(name.split("."))) for name in names]
    examples = [SimpleNamespace(event={"detail-type": name}) for name in names] + \
        [SimpleNamespace(event={"detail-type": 7}), SimpleNamespace(event={})]
    index = LevelIndex(SimpleNamespace(events=events), examples)  # type: ignore[arg-type]
    for label in labels + [level for e in events for level in levels(e)]:  # type: ignore[arg-type]
        exact, prefix = not label.endswith(".*"), label[:-1]
        assert index.events(label) == [e for e in events if (e.name == label if exact else e.name.startswith(prefix))]
        assert index.examples(label) == [x for x in examples if isinstance(x.event.get("detail-type"), str) and (
            x.event["detail-type"] == label if exact else x.event["detail-type"].startswith(prefix))]
