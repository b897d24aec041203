"""The producer end to end on the example domains: internal sample → enriched, validated, sealed entry → opened."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from cloudevents.v1.http import from_json
from ulid import ULID

from pipeline.bus import entry_size
from pipeline.consumer import open_event
from pipeline.contract import Catalogue
from pipeline.envelope.cloudevent import rfc3339_utc
from pipeline.produce import Failed, Producer, ProducerError, Published, Unrouted, required_keys
from pipeline.schemas.registry import SchemaRegistry
from pipeline.sealing.keys import KeySet, keyset_for


@pytest.fixture(scope="module")
def keys(examples_catalogue: Catalogue) -> KeySet:
    return keyset_for(required_keys(examples_catalogue))


@pytest.fixture(scope="module")
def producer(examples_catalogue: Catalogue, keys: KeySet) -> Producer:
    return Producer(examples_catalogue, keys, schema_base_url="https://events.example.com/schemas/")


def samples(catalogue: Catalogue) -> Iterator[tuple[Any, dict[str, Any]]]:
    for event in catalogue.events:
        for sample in event.extension("x-enrichment")["samples"]:
            yield event, sample


def publish(producer: Producer, event_name: str, sample: dict[str, Any]) -> Published:
    outcomes = producer.process_one(sample["event"], lookup_results=lambda _: sample.get("lookups"))
    (mine,) = [o for o in outcomes if getattr(o, "event", None) == event_name]
    assert isinstance(mine, Published), mine
    return mine


def test_every_sample_becomes_its_documented_payload_in_a_valid_cloud_event(
        examples_catalogue: Catalogue, producer: Producer, keys: KeySet) -> None:
    registry = SchemaRegistry.for_catalogue(examples_catalogue, base_url="https://events.example.com/schemas/")
    for event, sample in samples(examples_catalogue):
        published = publish(producer, event.name, sample)
        expected = next(e.payload for e in event.examples if e.name == sample["example"])
        entry = published.entry
        assert (entry["DetailType"], entry["Source"]) == (event.name, event_source(examples_catalogue, event))
        parsed = from_json(entry["Detail"])  # the official CloudEvents SDK accepts the envelope
        assert parsed["type"] == event.name and parsed["specversion"] == "1.0"
        assert parsed["dataschema"] == f"https://events.example.com/schemas/{event.name}/{event.version}.json"
        cloud_event = json.loads(entry["Detail"])
        opened = open_event(cloud_event, keys, allow_unsealed=True,
                            validate=registry.for_dataschema(cloud_event["dataschema"], event.name))
        assert opened.data == expected
        subject_pointer = event.extension("x-enrichment")["subject"]
        assert parsed["subject"] == str(expected[subject_pointer.lstrip("/")])
        assert opened.sealed == (cloud_event["datacontenttype"] == "application/jwt")
        # The Detail is written by the fast encoder: it must be the envelope exactly, and its size as AWS counts it.
        assert cloud_event == published.cloud_event
        route = next(r for r in producer.routes if r.event.name == event.name)
        assert route.entry_overhead + len(entry["Detail"].encode()) == entry_size(entry)


def event_source(catalogue: Catalogue, event: Any) -> str:
    document = next(d for d in catalogue.documents if d.id == event.document_id)
    return document.extensions["x-eventbridge"]["source"]


def test_sealed_events_keep_routing_attributes_clear(examples_catalogue: Catalogue, producer: Producer) -> None:
    event, sample = next((e, s) for e, s in samples(examples_catalogue) if e.name == "Payment.AuthorisedV2.Ecom")
    cloud_event = json.loads(publish(producer, event.name, sample).entry["Detail"])
    assert cloud_event["datacontenttype"] == "application/jwt"
    assert cloud_event["data"].count(".") == 4  # compact JWE
    assert {"id", "type", "source", "time", "idempotencykey", "dataschema"} <= set(cloud_event)


def test_idempotency_key_is_stable_and_ids_sort_in_creation_order(examples_catalogue: Catalogue,
                                                                   producer: Producer) -> None:
    event, sample = next(samples(examples_catalogue))
    first = json.loads(publish(producer, event.name, sample).entry["Detail"])
    second = json.loads(publish(producer, event.name, sample).entry["Detail"])
    assert first["idempotencykey"] == second["idempotencykey"]
    assert first["id"] < second["id"]


def test_one_internal_event_can_feed_the_old_and_the_new_version(examples_catalogue: Catalogue,
                                                                  producer: Producer) -> None:
    sample = next(s for e, s in samples(examples_catalogue) if e.name == "Payment.Authorised.Ecom")
    names = {o.event for o in producer.process_one(sample["event"], lookup_results=lambda _: sample.get("lookups"))}
    assert {"Payment.Authorised.Ecom", "Payment.AuthorisedV2.Ecom"} <= names


def test_an_unknown_internal_event_is_unrouted_not_an_exception(producer: Producer) -> None:
    (outcome,) = producer.process_one({"id": "i-1", "source": "elsewhere", "detail-type": "X", "detail": {}})
    assert isinstance(outcome, Unrouted) and outcome.internal_id == "i-1"
    assert "'elsewhere'" in outcome.reason


def test_malformed_input_is_a_dead_letter_record(producer: Producer) -> None:
    (outcome,) = producer.process_one({"id": "i-2", "detail": "not an object"})
    assert isinstance(outcome, Failed) and outcome.stage == "input"
    assert outcome.internal_event == {"id": "i-2", "detail": "not an object"}


@pytest.mark.parametrize("time", ["2026-03-14T10:15:03Z", "2026-03-14T11:15:03+01:00"])
def test_the_internal_event_time_becomes_the_cloud_event_time_in_utc(examples_catalogue: Catalogue,
                                                                    producer: Producer, time: str) -> None:
    sample = _sample(examples_catalogue, "Order.Created.Uk")
    sample["event"]["time"] = time
    published = publish(producer, "Order.Created.Uk", sample)
    assert published.cloud_event["time"] == "2026-03-14T10:15:03.000Z" == published.entry["Time"]


@pytest.mark.parametrize("time", ["yesterday", "2026-03-14T10:15:03", 1710411303, None])
def test_an_unusable_internal_time_falls_back_to_the_id_instant(examples_catalogue: Catalogue,
                                                                producer: Producer, time: Any) -> None:
    # Not a dead letter: the time is metadata, and the ULID's own millisecond is when the event was made.
    sample = _sample(examples_catalogue, "Order.Created.Uk")
    sample["event"]["time"] = time
    published = publish(producer, "Order.Created.Uk", sample)
    instant = ULID.from_str(published.cloud_event["id"]).datetime
    assert published.cloud_event["time"] == rfc3339_utc(instant)


def test_the_fallback_time_is_the_ids_millisecond_even_when_the_clock_moves_on(examples_catalogue: Catalogue,
                                                                              keys: KeySet) -> None:
    ticks = iter(range(1_773_000_000_000, 1_773_000_010_000, 7))  # every read of the clock is 7 ms later
    producer = Producer(examples_catalogue, keys, clock=lambda: next(ticks))
    sample = _sample(examples_catalogue, "Order.Created.Uk")
    sample["event"].pop("time", None)
    published = publish(producer, "Order.Created.Uk", sample)
    assert published.cloud_event["time"] == rfc3339_utc(ULID.from_str(published.cloud_event["id"]).datetime)


def _sample(catalogue: Catalogue, name: str) -> dict[str, Any]:
    return json.loads(json.dumps(next(s for e, s in samples(catalogue) if e.name == name)))


def test_a_failing_patch_is_a_dead_letter_record_naming_the_event(examples_catalogue: Catalogue,
                                                                  producer: Producer) -> None:
    checked = 0
    for event, sample in samples(examples_catalogue):
        ops = event.extension("x-enrichment")["patch"]
        tests = [(i, op) for i, op in enumerate(ops) if op["op"] == "test"]
        if not tests:
            continue
        index, op = tests[0]
        internal = json.loads(json.dumps(sample["event"]))
        internal["id"] = "i-3"
        *parents, leaf = op["path"].lstrip("/").split("/")
        target = internal["detail"]
        for token in parents:
            target = target[token]
        target[leaf] = "NOT-WHAT-THE-TEST-EXPECTS"
        mine = [o for o in producer.process_one(internal, lookup_results=lambda _, s=sample: s.get("lookups"))
                if getattr(o, "event", None) == event.name]
        if not mine:
            continue  # the pattern itself filters on that field: the event is simply not routed here
        (outcome,) = mine
        assert isinstance(outcome, Failed) and outcome.stage == "enrich"
        assert "i-3" in outcome.reason and f"#{index}" in outcome.reason
        checked += 1
    assert checked


def test_an_enriched_payload_that_violates_the_schema_is_refused(examples_catalogue: Catalogue) -> None:
    from dataclasses import replace

    from pipeline.contract.model import Catalogue as Model

    event = examples_catalogue.event("Basket.Abandoned.Eu")
    assert event.enrichment is not None
    broken = replace(event, enrichment=replace(event.enrichment, patch=(
        *event.enrichment.patch, {"op": "add", "path": "/itemCount", "value": -5})))
    catalogue = Model(examples_catalogue.documents, (), {broken.key: broken})
    sample = event.enrichment.samples[0]
    (outcome,) = Producer(catalogue).process_one(sample.event)
    assert isinstance(outcome, Failed) and outcome.stage == "validate"
    assert "/itemCount" in outcome.reason and "minimum" in outcome.reason


def test_an_oversized_event_is_a_dead_letter_record_not_a_publish(tmp_path) -> None:
    from pipeline.contract import ContractLoader

    (tmp_path / "big.yaml").write_text("""\
asyncapi: 3.0.0
info: {title: Big, version: 1.0.0}
x-eventbridge: {bus: big-bus, source: com.example.big}
x-sealing: none
components:
  messages:
    Big:
      name: Note.Written.Uk
      payload: {type: object, properties: {text: {type: string}}}
      examples: [{name: small, payload: {text: hi}}]
      x-enrichment:
        from: {source: [com.example.internal]}
        patch: [{op: move, from: /body, path: /text}]
""")
    producer = Producer(ContractLoader().load([tmp_path], strict=True))
    small = producer.process_one({"id": "s-1", "source": "com.example.internal", "detail": {"body": "hi"}})
    assert isinstance(small[0], Published)
    big = {"id": "b-1", "source": "com.example.internal", "detail": {"body": "x" * (256 * 1024)}}
    (outcome,) = producer.process_one(big)
    assert isinstance(outcome, Failed) and outcome.stage == "size"
    assert "b-1" in outcome.reason and "262,144" in outcome.reason
    assert outcome.internal_event is big  # kept whole for the dead-letter record


def test_sealed_contract_without_keys_is_refused_up_front(examples_catalogue: Catalogue) -> None:
    with pytest.raises(ProducerError, match="no key set"):
        Producer(examples_catalogue)


def test_required_keys_come_from_the_contract(examples_catalogue: Catalogue) -> None:
    needed = required_keys(examples_catalogue)
    assert ("payments-sign-2026-01", "ES256") in needed
    assert ("orders-aes-2026-01", "dir") in needed


def test_the_pipeline_stamps_the_urls_the_catalogue_publishes(examples_catalogue: Catalogue, keys: KeySet) -> None:
    from conftest import ROOT

    producer = Producer(examples_catalogue, keys)  # the default base URL: the example catalogue's site_url
    for route in producer.routes:
        published = ROOT / "docs" / "schemas" / route.event.name / f"{route.event.version}.json"
        assert json.loads(published.read_text())["$id"] == route.dataschema


def test_a_pattern_eventbridge_would_reject_is_a_contract_error_naming_file_line_and_pointer(tmp_path) -> None:
    from pipeline.contract import ContractInvalid, ContractLoader

    (tmp_path / "bad.yaml").write_text("""\
asyncapi: 3.0.0
info: {title: Bad, version: 1.0.0}
x-eventbridge: {bus: bad-bus, source: com.example.bad}
x-sealing: none
components:
  messages:
    Note:
      name: Note.Written.Uk
      payload: {type: object, properties: {text: {type: string}}}
      x-enrichment:
        from: {detail: {text: [{no-such-operator: 1}]}}
        patch: [{op: move, from: /body, path: /text}]
""")
    with pytest.raises(ContractInvalid) as caught:
        ContractLoader().load([tmp_path], strict=True)
    (diagnostic,) = [d for d in caught.value.diagnostics if "x-enrichment" in d.location.pointer]
    assert diagnostic.location.pointer.startswith("/components/messages/Note/x-enrichment/from")
    assert diagnostic.location.line is not None and "no-such-operator" in diagnostic.message
