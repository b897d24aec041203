"""Runtime state belongs to objects: an envelope's clock and ids are parameters, a producer owns its clock, its
id generator, its time texts and its sealers, and two producers share none of them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from pipeline.consumer import Opener
from pipeline.contract import Catalogue
from pipeline.envelope.cloudevent import EventTimes, MonotonicUlid, cloud_event_dict, rfc3339_utc, ulid_text
from pipeline.produce import Producer, Published, required_keys
from pipeline.sealing.keys import KeySet, keyset_for

AT = 1_748_781_296_789  # 2025-06-01T12:34:56.789Z
RANDOM = bytes(range(10))


def fixed_ids() -> MonotonicUlid:
    return MonotonicUlid(clock=lambda: AT, randomness=lambda n: RANDOM[:n])


# ---------------------------------------------------------------------------------------- envelope


def test_a_fixed_clock_and_id_generator_give_the_same_cloud_event_every_time() -> None:
    def build() -> dict[str, Any]:
        return cloud_event_dict(type="Order.Created.Uk", source="urn:eventdeck:orders", data={"orderId": "o-1"},
                                clock=lambda: AT, new_id=fixed_ids())

    first = build()
    assert build() == first
    assert first["id"] == ulid_text((AT << 80) | int.from_bytes(RANDOM, "big"))
    assert first["time"] == "2025-06-01T12:34:56.789Z"


def test_the_id_generator_is_asked_once_per_event_and_a_given_id_is_kept() -> None:
    issued = iter(["first", "second"])

    def build(**extra: Any) -> str:
        event = cloud_event_dict(type="Order.Created.Uk", source="urn:eventdeck:orders", data={},
                                 new_id=lambda: next(issued), **extra)
        return event["id"]

    assert [build(), build(id="a-retry-keeps-its-id"), build()] == ["first", "a-retry-keeps-its-id", "second"]


@pytest.mark.parametrize(
    ("given", "text"),
    [
        ("2025-06-01T12:34:56Z", "2025-06-01T12:34:56.000Z"),  # EventBridge's form
        ("2025-06-01T14:34:56.789123+02:00", "2025-06-01T12:34:56.789Z"),
        ("2025-06-01T12:34:56", None),  # no zone: the instant is unknown
        ("yesterday", None),
    ],
)
def test_event_times_give_the_envelope_text_of_an_aware_time(given: str, text: str | None) -> None:
    times = EventTimes()
    assert times.text_of(given) == text
    assert times.text_of(given) == text  # and the same once remembered


def test_event_times_stay_bounded() -> None:
    times = EventTimes(max_entries=8)
    start = datetime(2025, 6, 1, tzinfo=UTC)
    for second in range(50):
        moment = start + timedelta(seconds=second)
        assert times.text_of(moment.isoformat()) == rfc3339_utc(moment)
        assert len(times) <= 8


# ---------------------------------------------------------------------------------------- producer


@pytest.fixture(scope="module")
def keys(examples_catalogue: Catalogue) -> KeySet:
    return keyset_for(required_keys(examples_catalogue))


def sample_of(catalogue: Catalogue, name: str) -> tuple[dict[str, Any], Any]:
    enrichment = catalogue.event(name).enrichment
    assert enrichment is not None
    sample = enrichment.samples[0]
    return dict(sample.event), sample.lookups


def published(producer: Producer, name: str, internal: dict[str, Any], lookups: Any) -> Published:
    (outcome,) = [o for o in producer.process_one(internal, lookup_results=lambda _: lookups)
                  if getattr(o, "event", None) == name]
    assert isinstance(outcome, Published), outcome
    return outcome


def test_a_producer_given_a_clock_stamps_its_time_on_events_without_one(
        examples_catalogue: Catalogue, keys: KeySet) -> None:
    producer = Producer(examples_catalogue, keys, clock=lambda: AT)
    internal, lookups = sample_of(examples_catalogue, "Order.Created.Uk")
    internal.pop("time", None)
    outcome = published(producer, "Order.Created.Uk", internal, lookups)
    assert outcome.cloud_event["time"] == outcome.entry["Time"] == "2025-06-01T12:34:56.789Z"
    # The token's iat is the producer's time too.
    opened = Opener(keys).open(json.loads(outcome.entry["Detail"]), now=AT / 1000)
    assert opened.issued_at == AT // 1000


def test_an_internal_event_time_wins_over_the_producers_clock(examples_catalogue: Catalogue, keys: KeySet) -> None:
    producer = Producer(examples_catalogue, keys, clock=lambda: AT)
    internal, lookups = sample_of(examples_catalogue, "Order.Created.Uk")
    internal["time"] = "2024-02-29T23:59:59Z"
    assert published(producer, "Order.Created.Uk", internal, lookups).cloud_event["time"] == "2024-02-29T23:59:59.000Z"


def test_a_producer_with_a_fixed_clock_and_ids_makes_the_same_events_every_time(
        examples_catalogue: Catalogue, keys: KeySet) -> None:
    internal, lookups = sample_of(examples_catalogue, "Basket.Created.Eu")  # plain JSON: no random IV or key

    def run() -> list[dict[str, Any]]:
        producer = Producer(examples_catalogue, keys, clock=lambda: AT, new_id=fixed_ids())
        return [published(producer, "Basket.Created.Eu", internal, lookups).cloud_event for _ in range(3)]

    first = run()
    assert run() == first
    assert [event["id"] for event in first] == sorted({event["id"] for event in first})  # increasing, distinct


def test_each_producer_owns_its_ids(examples_catalogue: Catalogue, keys: KeySet) -> None:
    internal, lookups = sample_of(examples_catalogue, "Basket.Created.Eu")
    one = Producer(examples_catalogue, keys, new_id=fixed_ids())
    other = Producer(examples_catalogue, keys, new_id=fixed_ids())
    ids = [published(p, "Basket.Created.Eu", internal, lookups).cloud_event["id"] for p in (one, other, one)]
    assert ids[0] == ids[1] != ids[2]  # the second producer's sequence starts afresh


def test_routes_under_one_policy_share_the_producers_sealer_and_producers_share_none(
        examples_catalogue: Catalogue, keys: KeySet) -> None:
    first, second = Producer(examples_catalogue, keys), Producer(examples_catalogue, keys)
    by_policy: dict[Any, set[int]] = {}
    for route in first.routes:
        if route.sealer is not None:
            by_policy.setdefault(route.policy, set()).add(id(route.sealer))
    assert len(by_policy) >= 2 and all(len(sealers) == 1 for sealers in by_policy.values())
    assert not {id(r.sealer) for r in first.routes if r.sealer} & {id(r.sealer) for r in second.routes if r.sealer}
