"""The CloudEvent envelope: valid for the official SDK, ULID ids that sort in creation order."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta, timezone

import pytest
from cloudevents.core.exceptions import CloudEventValidationError
from cloudevents.core.formats.json import JSONFormat
from cloudevents.v1 import conversion
from cloudevents.v1.http import from_json
from hypothesis import given, settings
from hypothesis import strategies as st
from ulid import ULID

from pipeline.envelope.canonical import idempotency_key
from pipeline.envelope.cloudevent import (
    CloudEvent,
    MonotonicUlid,
    build_cloud_event,
    new_event_id,
    rfc3339_utc,
    ulid_ms,
    ulid_text,
)
from pipeline.errors import UlidOverflow
from pipeline.sealing.keys import new_keyset
from pipeline.sealing.seal import EncryptSpec, SealingPolicy, SignSpec, seal_event

PAYMENT = {"paymentId": "pay_1", "amount": {"value": 129999, "currency": "GBP"}, "merchant": "Zoë's Café"}
SCHEMA = "https://schemas.example.com/payments/Payment.Authorised.Ecom/1.2.0.json"


def payment_event(**overrides: object) -> CloudEvent:
    arguments: dict = {
        "type": "Payment.Authorised.Ecom",
        "source": "urn:eventdeck:payments",
        "subject": "Payment.Authorised.Ecom",
        "data": PAYMENT,
        "dataschema": SCHEMA,
        "dataversion": "1.2.0",
    }
    arguments.update(overrides)
    return build_cloud_event(**arguments)


# ---------------------------------------------------------------------------------------- valid CloudEvents


def test_built_event_parses_with_the_sdk_core_json_format() -> None:
    event = payment_event()
    parsed = JSONFormat().read(None, event.to_json())
    attributes = parsed.get_attributes()
    assert attributes["specversion"] == "1.0"
    assert attributes["id"] == event.id
    assert attributes["source"] == "urn:eventdeck:payments"
    assert attributes["type"] == "Payment.Authorised.Ecom"
    assert attributes["subject"] == "Payment.Authorised.Ecom"
    assert attributes["datacontenttype"] == "application/json"
    assert attributes["dataschema"] == SCHEMA
    assert attributes["dataversion"] == "1.2.0"
    assert attributes["idempotencykey"] == idempotency_key("Payment.Authorised.Ecom", PAYMENT)
    assert attributes["time"] == datetime.fromisoformat(event.time)
    assert parsed.get_data() == PAYMENT


def test_built_event_parses_with_the_sdk_http_from_json_and_round_trips_via_conversion() -> None:
    event = payment_event()
    parsed = from_json(event.to_json())
    assert parsed.data == PAYMENT
    assert conversion.to_dict(parsed) == event.to_dict()


def test_the_sdk_would_refuse_a_bad_extension_name() -> None:
    # Control for the tests above: the SDK does validate extension names, so ours passing means something.
    bad = {**payment_event().to_dict(), "idempotency_key": "x"}
    with pytest.raises(CloudEventValidationError):
        JSONFormat().read(None, json.dumps(bad))


def test_sealed_event_is_still_a_valid_cloud_event_with_a_jwt_payload() -> None:
    keys = new_keyset()
    policy = SealingPolicy(
        sign=SignSpec("HS256", keys.kids_for("HS256")[0]),
        encrypt=EncryptSpec("dir", keys.kids_for("dir")[0]),
        issuer="urn:eventdeck:payments",
    )
    sealed = seal_event(payment_event(), policy, keys)
    parsed = JSONFormat().read(None, json.dumps(sealed))
    assert parsed.get_attributes()["datacontenttype"] == "application/jwt"
    assert parsed.get_data() == sealed["data"]
    assert sealed["data"].count(".") == 4


def test_optional_attributes_that_are_absent_are_left_out() -> None:
    event = build_cloud_event(type="Order.Created.Uk", source="urn:eventdeck:orders", data={"orderId": "o-1"})
    assert set(event.to_dict()) == {
        "specversion", "id", "source", "type", "time", "datacontenttype", "idempotencykey", "data",
    }  # fmt: skip


def test_to_json_is_compact_utf8_json() -> None:
    text = payment_event().to_json()
    assert "Zoë" in text and ": " not in text
    assert json.loads(text)["data"] == PAYMENT


def test_from_dict_rebuilds_the_same_event() -> None:
    event = payment_event()
    assert CloudEvent.from_dict(event.to_dict()) == event


def test_sealing_returns_a_new_envelope_and_leaves_the_event_as_built() -> None:
    keys = new_keyset()
    policy = SealingPolicy(sign=SignSpec("HS256", keys.kids_for("HS256")[0]), encrypt=None,
                           issuer="urn:eventdeck:payments")
    event = payment_event()
    built = event.to_json()

    sealed = seal_event(event, policy, keys)

    assert event.to_json() == built
    assert sealed["id"] == event.id and sealed["data"] != event.data


# ---------------------------------------------------------------------------------------- time


def test_default_time_is_the_clocks_instant_in_rfc3339_utc() -> None:
    assert payment_event(clock=lambda: 1_748_781_296_789).time == "2025-06-01T12:34:56.789Z"


def test_given_time_is_converted_to_utc() -> None:
    paris = timezone(timedelta(hours=2))
    event = payment_event(time=datetime(2025, 6, 1, 14, 34, 56, 789123, tzinfo=paris))
    assert event.time == "2025-06-01T12:34:56.789Z"


def test_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        payment_event(time=datetime(2025, 6, 1, 12, 0, 0))


def test_rfc3339_accepts_epoch_milliseconds() -> None:
    assert rfc3339_utc(0) == "1970-01-01T00:00:00.000Z"
    assert rfc3339_utc(datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2025-01-02T03:04:05.000Z"


# ---------------------------------------------------------------------------------------- ids


def test_given_id_is_kept_so_a_retry_keeps_its_identity() -> None:
    first = payment_event()
    retry = payment_event(id=first.id)
    assert retry.id == first.id and retry.idempotencykey == first.idempotencykey


def test_ids_are_canonical_ulids_of_the_moment_they_were_made() -> None:
    before = time.time_ns() // 1_000_000
    ids = [new_event_id(), payment_event().id]
    after = time.time_ns() // 1_000_000
    for made in ids:
        ulid = ULID.from_str(made)
        assert str(ulid) == made  # 26 upper-case Crockford base32 characters, as python-ulid writes them
        assert before <= ulid.milliseconds <= after


def test_ulids_sort_in_creation_order_within_one_millisecond() -> None:
    frozen = MonotonicUlid(clock=lambda: 1_717_245_296_789)
    ids = [str(frozen()) for _ in range(5000)]
    assert len({i[:10] for i in ids}) == 1  # one millisecond
    assert ids == sorted(ids) and len(set(ids)) == len(ids)


def test_consecutive_ulids_in_one_millisecond_differ_by_one() -> None:
    frozen = MonotonicUlid(clock=lambda: 1_717_245_296_789)
    first, second = frozen.next_value(), frozen.next_value()
    assert second == first + 1


def test_process_ids_sort_in_creation_order() -> None:
    ids = [new_event_id() for _ in range(20_000)]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)


def test_a_new_millisecond_gets_fresh_randomness() -> None:
    now = [1_000]
    generator = MonotonicUlid(clock=lambda: now[0], randomness=lambda n: bytes([7] * n))
    generator.next_value()
    now[0] = 1_001
    assert generator.next_value() == (1_001 << 80) | int.from_bytes(bytes([7] * 10), "big")


def test_ids_keep_increasing_when_the_clock_steps_back() -> None:
    now = [2_000]
    generator = MonotonicUlid(clock=lambda: now[0])
    before = generator.next_value()
    now[0] = 1_000
    assert generator.next_value() > before


def test_exhausted_randomness_within_a_millisecond_fails() -> None:
    generator = MonotonicUlid(clock=lambda: 5, randomness=lambda n: b"\xff" * n)
    generator.next_value()
    with pytest.raises(UlidOverflow):
        generator.next_value()


def test_generator_is_thread_safe() -> None:
    generator = MonotonicUlid(clock=lambda: 1_717_245_296_789)
    start = threading.Barrier(4)
    results: list[list[int]] = [[] for _ in range(4)]

    def work(slot: int) -> None:
        start.wait()
        results[slot].extend(generator.next_value() for _ in range(3000))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [value for chunk in results for value in chunk]
    assert len(set(every)) == len(every) == 12_000
    assert all(chunk == sorted(chunk) for chunk in results)


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=2**128 - 1))
def test_ulid_text_is_what_python_ulid_writes(value: int) -> None:
    assert ulid_text(value) == str(ULID.from_bytes(value.to_bytes(16, "big")))


@given(st.integers(min_value=0, max_value=2**128 - 1))
def test_ulid_ms_is_what_python_ulid_reads(value: int) -> None:
    assert ulid_ms(ulid_text(value)) == ULID.from_bytes(value.to_bytes(16, "big")).milliseconds


@pytest.mark.parametrize("text", ["", "not-a-ulid", "8ZZZZZZZZZZZZZZZZZZZZZZZZZ", "01ARZ3NDEKTSV4RRFFQ69G5FAu",
                                  "x" * 26])
def test_ulid_ms_refuses_what_is_not_a_ulid(text: str) -> None:
    assert ulid_ms(text) is None
