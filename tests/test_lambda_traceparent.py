"""The W3C ``traceparent`` the handler carries from an internal event into the CloudEvent: which values are one
(W3C Trace Context, "traceparent Header"), where the producer finds it, and that an invalid one is left out."""

from __future__ import annotations

from typing import Any

import pytest

from pipeline.contract.model import Catalogue
from pipeline.envelope.cloudevent import traceparent_problem
from pipeline.produce import Producer, Published, required_keys, trace_context
from pipeline.sealing.keys import keyset_for

VALID = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


@pytest.mark.parametrize("value", [
    VALID,
    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00",  # not sampled
    "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  # a later version, four fields
    "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-the-future-adds",  # a later version adds fields
])
def test_valid_traceparents(value: str) -> None:
    assert traceparent_problem(value) is None


@pytest.mark.parametrize(("value", "why"), [
    ("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "version ff"),
    ("00-00000000000000000000000000000000-00f067aa0ba902b7-01", "trace id"),
    ("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", "parent id"),
    ("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", "lower-case hex"),
    ("00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01", "lower-case hex"),
    ("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra", "exactly four fields"),
    ("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7", "lower-case hex"),
    ("00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01", "lower-case hex"),
    (" " + VALID, "lower-case hex"),
    (VALID + "\n", "lower-case hex"),
    ("", "lower-case hex"),
    ("00-" + "a" * 10_000, "characters is not one"),
    (42, "text, not int"),
    (["00"], "text, not list"),
])
def test_invalid_traceparents_say_why(value: Any, why: str) -> None:
    problem = traceparent_problem(value)
    assert problem is not None and why in problem


def test_the_producer_reads_the_events_own_member_before_its_details() -> None:
    other = VALID.replace("4bf9", "abcd")
    assert trace_context({"traceparent": VALID, "detail": {"traceparent": other}}) == (VALID, None)
    assert trace_context({"detail": {"traceparent": other}}) == (other, None)
    assert trace_context({"detail": {}}) == (None, None)
    value, problem = trace_context({"traceparent": "nonsense", "detail": {}})
    assert value is None and problem is not None


def _published(catalogue: Catalogue, internal: dict[str, Any]) -> list[Published]:
    producer = Producer(catalogue, keyset_for(required_keys(catalogue)))
    outcomes = producer.process_one(internal)
    assert outcomes and all(isinstance(o, Published) for o in outcomes), outcomes
    return outcomes  # type: ignore[return-value]


def _order_sample(catalogue: Catalogue) -> dict[str, Any]:
    event = catalogue.event("Order.Created.Uk")
    assert event is not None and event.enrichment is not None
    return dict(event.enrichment.samples[0].event)


def test_a_valid_traceparent_becomes_the_cloud_events_extension_attribute(examples_catalogue: Catalogue) -> None:
    internal = _order_sample(examples_catalogue)
    for published in _published(examples_catalogue, {**internal, "traceparent": VALID}):
        assert published.cloud_event["traceparent"] == VALID
        assert f'"traceparent":"{VALID}"' in published.entry["Detail"]


def test_an_invalid_or_absent_traceparent_is_left_out(examples_catalogue: Catalogue) -> None:
    internal = _order_sample(examples_catalogue)
    for candidate in (internal, {**internal, "traceparent": VALID.upper()}):
        for published in _published(examples_catalogue, candidate):
            assert "traceparent" not in published.cloud_event
