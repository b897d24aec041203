"""The embedded local bus: PutEvents validation, routing, HTTP delivery with EventBridge's retry policy, dead
letters and redrive, replay, persistence across handles, and bad bus files. Delivery goes to a real HTTP server
on 127.0.0.1 (tests/http_sink.py); time is a fake clock the bus's retries sleep on, so no test waits."""

from __future__ import annotations

import hashlib
import json
import os
import random
import sqlite3
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from http_sink import HttpSink

from pipeline.bus.local import (
    AGE_EXCEEDED,
    ATTEMPTS_EXCEEDED,
    BusStoreError,
    BusTarget,
    CallableTarget,
    DeliveryRefused,
    FileTarget,
    HttpTarget,
    LocalBus,
    ReplayError,
    RetryPolicy,
    RuleError,
    UnknownRule,
)
from pipeline.bus.local.senders import http_status_failure
from pipeline.bus.port import Accepted, Bus, Rejected, entry_size

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC).timestamp()


class FakeClock:
    """The bus's clock; ``sleep`` advances it (what ``drain`` waits with)."""

    def __init__(self, now: float = T0) -> None:
        self.now = now
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def bus(tmp_path: Path, clock: FakeClock):
    with LocalBus.open(tmp_path / "bus.db", name="test-bus", clock=clock, rng=random.Random(7)) as opened:
        yield opened


def entry(n: int = 0, source: str = "com.example.orders", **extra: Any) -> dict[str, Any]:
    return {"Source": source, "DetailType": "Order.Created", "Detail": json.dumps({"n": n}), **extra}


# ------------------------------------------------------------------------------------------------ put_events


def test_the_local_bus_implements_the_bus_port(bus: LocalBus) -> None:
    assert isinstance(bus, Bus)
    assert bus.name == "test-bus"


def test_accepted_entries_become_eventbridge_events_with_uuid_ids(bus: LocalBus) -> None:
    results = bus.put_events([entry(1, Time="2026-02-03T04:05:06.789Z", Resources=["arn:aws:x:1"]), entry(2)])
    assert all(isinstance(r, Accepted) for r in results)
    first, second = bus.archived()
    assert list(first) == ["version", "id", "detail-type", "source", "account", "time", "region", "resources",
                           "detail"]
    assert first == {"version": "0", "id": results[0].event_id, "detail-type": "Order.Created",  # type: ignore
                     "source": "com.example.orders", "account": "000000000000", "time": "2026-02-03T04:05:06Z",
                     "region": "us-east-1", "resources": ["arn:aws:x:1"], "detail": {"n": 1}}
    assert uuid.UUID(first["id"]).version == 4
    assert second["time"] == "2026-03-01T12:00:00Z"  # no Time: the bus's clock, as EventBridge stamps it
    assert first["id"] != second["id"]


@pytest.mark.parametrize(("bad", "code", "words"), [
    ({"DetailType": "T", "Detail": "{}"}, "InvalidArgument", "Source is a required argument"),
    ({"Source": "s", "Detail": "{}"}, "InvalidArgument", "DetailType is a required argument"),
    ({"Source": "s", "DetailType": "T"}, "InvalidArgument", "Detail is a required argument"),
    ({"Source": 5, "DetailType": "T", "Detail": "{}"}, "InvalidArgument", "Source must be a non-empty string"),
    ({"Source": "s", "DetailType": "", "Detail": "{}"}, "InvalidArgument", "DetailType must be a non-empty"),
    ({"Source": "s", "DetailType": "T", "Detail": {"a": 1}}, "InvalidArgument", "Detail must be a non-empty"),
    ({"Source": "s", "DetailType": "T", "Detail": "{not json"}, "MalformedDetail", "malformed"),
    ({"Source": "s", "DetailType": "T", "Detail": "[1, 2]"}, "MalformedDetail", "JSON object"),
    ({"Source": "s", "DetailType": "T", "Detail": '"text"'}, "MalformedDetail", "JSON object"),
    ({"Source": "s", "DetailType": "T", "Detail": '{"big": 99999999999999999999999}'}, "MalformedDetail", "64 bits"),
    ({"Source": "s", "DetailType": "T", "Detail": '{"x": NaN}'}, "MalformedDetail", "malformed"),
    ({"Source": "aws.s3", "DetailType": "T", "Detail": "{}"}, "NotAuthorizedForSourceException", "aws.s3"),
    ({"Source": "s", "DetailType": "T", "Detail": "{}", "Extra": 1}, "InvalidArgument", "unknown entry field"),
    ({"Source": "s", "DetailType": "T", "Detail": "{}", "Resources": "arn"}, "InvalidArgument", "Resources"),
    ({"Source": "s", "DetailType": "T", "Detail": "{}", "Resources": [1]}, "InvalidArgument", "Resources"),
    ({"Source": "s", "DetailType": "T", "Detail": "{}", "TraceHeader": "x" * 501}, "InvalidArgument", "500"),
    ({"Source": "s", "DetailType": "T", "Detail": "{}", "Time": "yesterday"}, "InvalidArgument", "Time"),
    ({"Source": "s", "DetailType": "T", "Detail": "{}", "Time": True}, "InvalidArgument", "Time"),
    ("not an entry", "InvalidArgument", "must be an object"),
])
def test_each_bad_entry_is_rejected_alone_and_in_place(bus: LocalBus, bad: Any, code: str, words: str) -> None:
    results = bus.put_events([entry(1), bad, entry(2)])
    assert isinstance(results[0], Accepted) and isinstance(results[2], Accepted)
    rejected = results[1]
    assert isinstance(rejected, Rejected)
    assert (rejected.code, rejected.retryable) == (code, False)
    assert words in rejected.message
    assert [e["detail"]["n"] for e in bus.archived()] == [1, 2]  # the bad one is not stored


def test_a_deeply_nested_detail_is_malformed_not_a_crash(bus: LocalBus) -> None:
    detail = "[" * 5000 + "]" * 5000
    (result,) = bus.put_events([{"Source": "s", "DetailType": "T", "Detail": '{"a": ' + detail + "}"}])
    assert isinstance(result, Rejected) and result.code == "MalformedDetail"


def test_the_size_limit_is_entry_size_against_the_configured_maximum(tmp_path: Path) -> None:
    at_limit = {"Source": "s", "DetailType": "T", "Detail": json.dumps({"p": "x" * 80}), "Time": "2026-01-01T00:00:00Z"}
    limit = entry_size(at_limit)
    over = {**at_limit, "Detail": json.dumps({"p": "x" * 81})}
    with LocalBus.open(tmp_path / "b.db", max_entry_bytes=limit) as small:
        fits, too_big = small.put_events([at_limit, over])
    assert isinstance(fits, Accepted)
    assert isinstance(too_big, Rejected) and too_big.code == "EntryTooLarge"
    assert f"{limit + 1:,} bytes; the limit is {limit:,}" in too_big.message


def test_an_entry_for_another_bus_is_refused_when_the_bus_names_are_given(tmp_path: Path) -> None:
    with LocalBus.open(tmp_path / "b.db", name="orders", bus_names={"payments"}) as strict:
        results = strict.put_events([entry(EventBusName="orders"), entry(EventBusName="payments"),
                                     entry(EventBusName="arn:aws:events:eu-west-1:1:event-bus/orders"),
                                     entry(EventBusName="baskets")])
    assert [type(r) for r in results] == [Accepted, Accepted, Accepted, Rejected]
    assert results[3].code == "ResourceNotFoundException"  # type: ignore[union-attr]


def test_without_bus_names_the_file_stands_in_for_every_bus(bus: LocalBus) -> None:
    assert isinstance(bus.put_events([entry(EventBusName="payments-public")])[0], Accepted)


# ------------------------------------------------------------------------------------------------ routing


def test_only_events_matching_a_rule_reach_its_targets(bus: LocalBus, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    bus.put_rule("orders", {"source": ["com.example.orders"], "detail": {"n": [{"numeric": [">", 1]}]}},
                 [FileTarget(out)])
    bus.put_events([entry(1), entry(2), entry(3, source="com.example.payments"), entry(4)])
    report = bus.drain()
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [e["detail"]["n"] for e in lines] == [2, 4]
    assert report.delivered == 2 and bus.stats().pending == 0


def test_a_rule_with_a_pattern_eventbridge_rejects_is_refused_naming_the_rule(bus: LocalBus) -> None:
    with pytest.raises(RuleError, match=r"rule 'bad'.*event pattern"):
        bus.put_rule("bad", {"source": []}, [CallableTarget("f")])
    assert bus.rules() == []


@pytest.mark.parametrize(("name", "targets", "words"), [
    ("with space", [CallableTarget("f")], "rule name"),
    ("r", [], "1 to 5 targets"),
    ("r", [CallableTarget("f", id=str(i)) for i in range(6)], "allows 5"),
    ("r", [CallableTarget("f", id="a"), CallableTarget("g", id="a")], "two targets"),
    ("r", ["http://127.0.0.1/"], "not a target"),
    ("r", [CallableTarget("f", id="bad id!")], "target id"),
])
def test_bad_rules_are_refused(bus: LocalBus, name: str, targets: list[Any], words: str) -> None:
    with pytest.raises(RuleError, match=words):
        bus.put_rule(name, {"source": ["s"]}, targets)


@pytest.mark.parametrize(("make", "words"), [
    (lambda: HttpTarget("ftp://example.org/x"), "not an http"),
    (lambda: HttpTarget("http:///nohost"), "not an http"),
    (lambda: HttpTarget("http://127.0.0.1:port/"), "port"),
    (lambda: HttpTarget("http://127.0.0.1/", headers={"X-Bad": "a\r\nInjected: 1"}), "header"),
    (lambda: HttpTarget("http://127.0.0.1/", timeout_s=0), "timeout_s"),
    (lambda: RetryPolicy(maximum_event_age_s=59), "maximum_event_age_s.*60 to 86400"),
    (lambda: RetryPolicy(maximum_event_age_s=86_401), "maximum_event_age_s"),
    (lambda: RetryPolicy(maximum_retry_attempts=186), "maximum_retry_attempts.*0 to 185"),
    (lambda: RetryPolicy(maximum_retry_attempts=-1), "maximum_retry_attempts"),
    (lambda: RetryPolicy(base_delay_s=-1), "base_delay_s"),
])
def test_bad_targets_and_retry_policies_are_refused(make: Any, words: str) -> None:
    with pytest.raises(RuleError, match=words):
        make()


def test_a_bus_cannot_target_itself(bus: LocalBus) -> None:
    with pytest.raises(RuleError, match="loop"):
        bus.put_rule("loop", {"source": ["s"]}, [BusTarget(bus.path)])


def test_replacing_a_rule_drops_the_queued_deliveries_of_removed_targets(bus: LocalBus, tmp_path: Path) -> None:
    bus.put_rule("r", {"source": ["com.example.orders"]}, [FileTarget(tmp_path / "a", id="a"),
                                                         FileTarget(tmp_path / "b", id="b")])
    bus.put_events([entry(1)])
    assert bus.stats().pending == 2
    bus.put_rule("r", {"source": ["com.example.orders"]}, [FileTarget(tmp_path / "a", id="a")])
    assert bus.stats().pending == 1
    bus.drain()
    assert (tmp_path / "a").exists() and not (tmp_path / "b").exists()
    bus.delete_rule("r")
    with pytest.raises(UnknownRule):
        bus.delete_rule("r")


# ------------------------------------------------------------------------------------------------ HTTP delivery


def test_an_http_target_answering_500_then_200_gets_the_event_after_a_retry(bus: LocalBus, clock: FakeClock) -> None:
    with HttpSink(lambda n, event: 500 if n == 0 else 200) as sink:
        bus.put_rule("to-sink", {"source": ["com.example.orders"]}, [HttpTarget(sink.url)])
        (accepted,) = bus.put_events([entry(1)])
        first = bus.deliver_pending()
        assert (first.delivered, first.retried) == (0, 1)
        assert first.next_due is not None and first.next_due > clock.now  # backing off, not hammering
        total = bus.drain(sleep=clock.sleep)
    assert total.delivered == 1
    assert [e["id"] for e in sink.requests] == [accepted.event_id] * 2  # type: ignore[union-attr]
    assert sink.delivered_ids() == [accepted.event_id]  # type: ignore[union-attr]
    assert bus.dead_letters() == [] and bus.stats().pending == 0
    assert 0.5 <= clock.slept[0] <= 1.0  # the first retry waits half to all of base_delay_s


def test_an_http_target_answering_400_dead_letters_the_event_with_the_reason(bus: LocalBus) -> None:
    with HttpSink(lambda n, event: 400) as sink:
        bus.put_rule("to-sink", {"source": ["com.example.orders"]}, [HttpTarget(sink.url, id="consumer")])
        (accepted,) = bus.put_events([entry(1)])
        report = bus.drain()
    assert (report.delivered, report.dead_lettered) == (0, 1)
    assert len(sink.requests) == 1  # a 400 is not retried
    (dead,) = bus.dead_letters()
    assert (dead.event_id, dead.rule, dead.target, dead.attempts, dead.code, dead.condition) == (
        accepted.event_id, "to-sink", "consumer", 1, "HTTP_400", None)  # type: ignore[union-attr]
    assert f"POST {sink.url} answered 400 Bad Request" in dead.message and "scripted failure" in dead.message
    assert dead.event["detail"] == {"n": 1}
    assert "HTTP_400" in dead.reason


@pytest.mark.parametrize(("status", "retried"), [
    (200, None), (204, None), (301, False), (400, False), (401, True), (403, False), (404, False), (407, True),
    (409, True), (410, False), (413, False), (429, True), (500, True), (502, True), (503, True), (599, True),
])
def test_http_statuses_are_classified_as_eventbridge_api_destinations_do(status: int, retried: bool | None) -> None:
    failure = http_status_failure(status, "Reason", "http://h/", b"")
    assert (None if failure is None else failure.retryable) == retried


def test_a_429_from_a_real_server_is_retried(bus: LocalBus, clock: FakeClock) -> None:
    with HttpSink(lambda n, event: 429 if n < 2 else 200) as sink:
        bus.put_rule("r", {"source": ["com.example.orders"]}, [HttpTarget(sink.url)])
        bus.put_events([entry(1)])
        assert bus.drain(sleep=clock.sleep).delivered == 1
    assert len(sink.requests) == 3


def test_retries_stop_at_the_maximum_attempts_and_dead_letter(bus: LocalBus, clock: FakeClock) -> None:
    with HttpSink(lambda n, event: 503) as sink:
        bus.put_rule("r", {"source": ["com.example.orders"]}, [HttpTarget(sink.url)],
                     retry=RetryPolicy(maximum_retry_attempts=2))
        bus.put_events([entry(1)])
        report = bus.drain(sleep=clock.sleep)
    assert len(sink.requests) == 3  # the try and two retries
    (dead,) = bus.dead_letters()
    assert (report.dead_lettered, dead.attempts, dead.code, dead.condition) == (1, 3, "HTTP_503", ATTEMPTS_EXCEEDED)


def test_zero_retry_attempts_means_one_try(bus: LocalBus, clock: FakeClock) -> None:
    with HttpSink(lambda n, event: 500) as sink:
        bus.put_rule("r", {"source": ["com.example.orders"]}, [HttpTarget(sink.url)],
                     retry=RetryPolicy(maximum_retry_attempts=0))
        bus.put_events([entry(1)])
        bus.drain(sleep=clock.sleep)
    assert len(sink.requests) == 1 and bus.dead_letters()[0].condition == ATTEMPTS_EXCEEDED


def test_retries_stop_at_the_maximum_event_age_and_dead_letter(bus: LocalBus, clock: FakeClock) -> None:
    start = clock.now
    with HttpSink(lambda n, event: 500) as sink:
        bus.put_rule("r", {"source": ["com.example.orders"]}, [HttpTarget(sink.url)],
                     retry=RetryPolicy(maximum_event_age_s=60, base_delay_s=4))
        bus.put_events([entry(1)])
        bus.drain(sleep=clock.sleep)
    (dead,) = bus.dead_letters()
    assert dead.condition == AGE_EXCEEDED and dead.code == "HTTP_500"
    assert 3 <= len(sink.requests) < 10  # delays 4, 8, 16, 32 (jittered): a handful of tries fit in 60 s
    assert clock.now - start <= 60


def test_an_event_older_than_the_maximum_age_is_dead_lettered_without_a_try(bus: LocalBus, clock: FakeClock) -> None:
    with HttpSink() as sink:
        bus.put_rule("r", {"source": ["com.example.orders"]}, [HttpTarget(sink.url)],
                     retry=RetryPolicy(maximum_event_age_s=60))
        bus.put_events([entry(1)])
        clock.now += 61  # e.g. the process was down for a while
        bus.drain(sleep=clock.sleep)
    assert sink.requests == []
    (dead,) = bus.dead_letters()
    assert (dead.code, dead.condition, dead.attempts) == ("EVENT_EXPIRED", AGE_EXCEEDED, 0)


def test_a_refused_connection_is_retried_until_the_consumer_is_up(bus: LocalBus, clock: FakeClock) -> None:
    with HttpSink() as sink:
        url = sink.url
    bus.put_rule("r", {"source": ["com.example.orders"]}, [HttpTarget(url)])  # nothing listens there now
    bus.put_events([entry(1)])
    report = bus.deliver_pending()
    assert report.retried == 1
    (row,) = bus._db.execute("SELECT last_error FROM deliveries").fetchall()
    assert row[0].startswith("CONNECTION_ERROR")
    assert bus.dead_letters() == []


def test_redrive_delivers_dead_letters_once_the_consumer_is_fixed(bus: LocalBus) -> None:
    broken = True
    with HttpSink(lambda n, event: 400 if broken else 200) as sink:
        bus.put_rule("r", {"source": ["com.example.orders"]}, [HttpTarget(sink.url)])
        ids = [r.event_id for r in bus.put_events([entry(1), entry(2), entry(3)])]  # type: ignore[union-attr]
        bus.drain()
        assert len(bus.dead_letters()) == 3
        broken = False
        first = bus.dead_letters()[0]
        assert bus.redrive([first.id]) == 1
        bus.drain()
        assert sink.delivered_ids() == [ids[0]] and len(bus.dead_letters()) == 2
        assert bus.redrive(rule="r") == 2
        bus.drain()
    assert sorted(sink.delivered_ids()) == sorted(ids)
    assert bus.dead_letters() == [] and bus.stats().delivered == 3


def test_redrive_leaves_dead_letters_whose_rule_is_gone(bus: LocalBus) -> None:
    with HttpSink(lambda n, event: 400) as sink:
        bus.put_rule("r", {"source": ["com.example.orders"]}, [HttpTarget(sink.url)])
        bus.put_events([entry(1)])
        bus.drain()
    bus.delete_rule("r")
    assert bus.redrive() == 0 and len(bus.dead_letters()) == 1


# ------------------------------------------------------------------------------------------------ replay


def test_replay_redelivers_exactly_the_archived_events_of_the_window(bus: LocalBus) -> None:
    times = ["2026-01-01T10:00:00Z", "2026-01-01T11:00:00Z", "2026-01-01T11:30:00Z", "2026-01-01T12:00:00Z",
             "2026-01-01T13:00:00Z"]
    with HttpSink() as sink:
        bus.put_rule("r", {"source": ["com.example.orders"]}, [HttpTarget(sink.url)])
        bus.put_rule("other", {"source": ["com.example.payments"]}, [HttpTarget(sink.url)])
        ids = [r.event_id for r in bus.put_events([entry(n, Time=t) for n, t in enumerate(times)])]  # type: ignore
        bus.drain()
        assert sorted(sink.delivered_ids()) == sorted(ids)
        report = bus.replay("2026-01-01T11:00:00Z", datetime(2026, 1, 1, 12, tzinfo=UTC), name="late-morning")
        assert (report.events, report.deliveries) == (2, 2)
        bus.drain()
        replayed = sink.delivered[len(ids):]
    assert sorted(e["id"] for e in replayed) == sorted(ids[1:3])  # start inclusive, end exclusive
    assert {e["replay-name"] for e in replayed} == {"late-morning"}
    originals = {e["id"]: e for e in bus.archived()}
    for event in replayed:
        assert {k: v for k, v in event.items() if k != "replay-name"} == originals[event["id"]]


def test_replay_to_one_rule_reaches_only_its_targets(bus: LocalBus, tmp_path: Path) -> None:
    bus.put_rule("a", {"source": ["com.example.orders"]}, [FileTarget(tmp_path / "a.jsonl")])
    bus.put_rule("b", {"source": ["com.example.orders"]}, [FileTarget(tmp_path / "b.jsonl")])
    bus.put_events([entry(1), entry(2)])
    bus.drain()
    report = bus.replay(T0 - 60, T0 + 60, rule="b")
    bus.drain()
    assert (report.events, report.deliveries) == (2, 2)
    assert len((tmp_path / "a.jsonl").read_text().splitlines()) == 2
    assert len((tmp_path / "b.jsonl").read_text().splitlines()) == 4


def test_replay_refuses_bad_windows_names_and_rules(bus: LocalBus) -> None:
    with pytest.raises(ReplayError, match="before it starts"):
        bus.replay(T0, T0 - 1)
    with pytest.raises(ReplayError, match="not a pair of date-times"):
        bus.replay("last tuesday", T0)
    with pytest.raises(UnknownRule, match="nope"):
        bus.replay(T0 - 1, T0, rule="nope")
    bus.replay(T0 - 1, T0, name="once")
    with pytest.raises(ReplayError, match="already exists"):
        bus.replay(T0 - 1, T0, name="once")
    with pytest.raises(ReplayError, match="replay name"):
        bus.replay(T0 - 1, T0, name="no spaces allowed")


# ------------------------------------------------------------------------------------------------ other targets


def test_callable_targets_are_reattached_by_name_after_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "bus.db"
    with LocalBus.open(path) as first:
        first.put_rule("r", {"source": ["com.example.orders"]}, [CallableTarget("handler")])
        first.put_events([entry(1)])
        report = first.drain()  # nothing attached in this process: the delivery waits, it is not failed
        assert (report.delivered, report.waiting, report.detached) == (0, 1, 1)
    got: list[dict[str, Any]] = []
    with LocalBus.open(path) as second:
        second.attach("handler", got.append)
        assert second.drain().delivered == 1
    assert [e["detail"] for e in got] == [{"n": 1}]


def test_a_callable_refusing_an_event_dead_letters_it_and_other_errors_retry(bus: LocalBus, clock: FakeClock) -> None:
    calls: list[int] = []

    def handler(event: dict[str, Any]) -> None:
        calls.append(event["detail"]["n"])
        if event["detail"]["n"] == 1:
            raise DeliveryRefused("no thanks")
        if len(calls) < 4:
            raise RuntimeError("flaky")

    bus.attach("h", handler)
    bus.put_rule("r", {"source": ["com.example.orders"]}, [CallableTarget("h")])
    bus.put_events([entry(1), entry(2)])
    report = bus.drain(sleep=clock.sleep)
    assert report.delivered == 1
    (dead,) = bus.dead_letters()
    assert (dead.code, dead.event["detail"]) == ("REFUSED", {"n": 1}) and "no thanks" in dead.message


def test_a_bus_target_forwards_events_to_another_bus_with_new_ids(bus: LocalBus, tmp_path: Path,
                                                                  clock: FakeClock) -> None:
    other_path = tmp_path / "other.db"
    with LocalBus.open(other_path, clock=clock) as other:
        other.put_rule("sink", {"detail-type": ["Order.Created"]}, [FileTarget(tmp_path / "other.jsonl")])
    bus.put_rule("forward", {"source": ["com.example.orders"]}, [BusTarget(other_path)])
    (accepted,) = bus.put_events([entry(7, Time="2026-01-01T00:00:00Z")])
    assert bus.drain().delivered == 1
    with LocalBus.open(other_path, clock=clock) as other:
        assert other.drain().delivered == 1
        (forwarded,) = other.archived()
    assert forwarded["detail"] == {"n": 7} and forwarded["time"] == "2026-01-01T00:00:00Z"
    assert forwarded["id"] != accepted.event_id  # type: ignore[union-attr]


def test_a_bus_target_that_is_no_bus_file_is_dead_lettered(bus: LocalBus, tmp_path: Path) -> None:
    foreign = tmp_path / "foreign.db"
    foreign.write_bytes(b"this is no database at all" * 100)
    bus.put_rule("forward", {"source": ["com.example.orders"]}, [BusTarget(foreign)])
    bus.put_events([entry(1)])
    bus.drain()
    (dead,) = bus.dead_letters()
    assert dead.code == "BUS_UNUSABLE" and str(foreign) in dead.message


def test_a_file_target_in_a_missing_folder_is_dead_lettered(bus: LocalBus, tmp_path: Path) -> None:
    bus.put_rule("r", {"source": ["com.example.orders"]}, [FileTarget(tmp_path / "missing" / "out.jsonl")])
    bus.put_events([entry(1)])
    bus.drain()
    (dead,) = bus.dead_letters()
    assert dead.code == "FILE_UNWRITABLE" and "missing" in dead.message


def test_the_background_deliverer_delivers_what_is_put(tmp_path: Path) -> None:
    with HttpSink() as sink, LocalBus.open(tmp_path / "bus.db") as bus:
        bus.put_rule("r", {"source": ["com.example.orders"]}, [HttpTarget(sink.url)])
        deliverer = bus.deliverer(poll_s=0.05).start()
        ids = [r.event_id for r in bus.put_events([entry(n) for n in range(25)])]  # type: ignore[union-attr]
        deadline = time.monotonic() + 30
        while len(sink.delivered) < 25 and time.monotonic() < deadline:
            time.sleep(0.02)
        report = deliverer.stop()
    assert sorted(sink.delivered_ids()) == sorted(ids)
    assert report.delivered == 25


# ------------------------------------------------------------------------------------------------ persistence


def test_rules_and_pending_deliveries_survive_closing_the_bus(tmp_path: Path) -> None:
    path = tmp_path / "bus.db"
    with HttpSink() as sink:
        with LocalBus.open(path) as first:
            first.put_rule("r", {"source": ["com.example.orders"]}, [HttpTarget(sink.url)],
                           retry=RetryPolicy(maximum_retry_attempts=3))
            ids = [r.event_id for r in first.put_events([entry(1), entry(2)])]  # type: ignore[union-attr]
        with LocalBus.open(path) as second:
            (rule,) = second.rules()
            assert rule.retries["1"].maximum_retry_attempts == 3
            assert second.drain().delivered == 2
    assert sorted(sink.delivered_ids()) == sorted(ids)


def test_a_rule_change_by_another_handle_is_seen(tmp_path: Path) -> None:
    path = tmp_path / "bus.db"
    with LocalBus.open(path) as one, LocalBus.open(path) as two:
        one.put_events([entry(1)])
        two.put_rule("r", {"source": ["com.example.orders"]}, [FileTarget(tmp_path / "out.jsonl")])
        one.put_events([entry(2)])
        assert one.stats().pending == 1  # only the event put after the rule existed is routed
        assert [r.name for r in one.rules()] == ["r"]


# ------------------------------------------------------------------------------------------------ bad bus files


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_file_that_is_not_sqlite_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    path.write_bytes(os.urandom(4096))
    before = _digest(path)
    with pytest.raises(BusStoreError, match=r"events\.db.*not a usable eventdeck bus file"):
        LocalBus.open(path)
    assert _digest(path) == before


def test_a_foreign_sqlite_database_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE customers (name TEXT)")
    db.commit()
    db.close()
    before = _digest(path)
    with pytest.raises(BusStoreError, match=r"app\.db: is a SQLite database of another application"):
        LocalBus.open(path)
    assert _digest(path) == before


def test_a_bus_file_from_a_newer_eventdeck_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bus.db"
    LocalBus.open(path).close()
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version = 99")
    db.commit()
    db.close()
    with pytest.raises(BusStoreError, match="newer eventdeck"):
        LocalBus.open(path)


def test_a_damaged_bus_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bus.db"
    LocalBus.open(path).close()
    db = sqlite3.connect(path)
    db.execute("DROP TABLE deliveries")
    db.commit()
    db.close()
    with pytest.raises(BusStoreError, match=r"damaged.*deliveries"):
        LocalBus.open(path)


def test_a_missing_folder_or_a_folder_path_is_refused(tmp_path: Path) -> None:
    with pytest.raises(BusStoreError, match="does not exist"):
        LocalBus.open(tmp_path / "nowhere" / "bus.db")
    with pytest.raises(BusStoreError, match="is a folder"):
        LocalBus.open(tmp_path)
    assert not (tmp_path / "nowhere").exists()


def test_an_unwritable_place_is_refused(tmp_path: Path) -> None:
    if os.geteuid() == 0:  # root writes in any folder; /proc takes no files, whoever asks
        with pytest.raises(BusStoreError, match=r"/proc/eventdeck-bus\.db: cannot be created"):
            LocalBus.open("/proc/eventdeck-bus.db")
        return
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(BusStoreError, match="not writable"):
            LocalBus.open(locked / "bus.db")
    finally:
        locked.chmod(0o700)


def test_a_bad_maximum_entry_size_is_refused(tmp_path: Path) -> None:
    with pytest.raises(BusStoreError, match="max_entry_bytes"):
        LocalBus.open(tmp_path / "b.db", max_entry_bytes=0)


def test_a_consumers_answer_is_bounded_and_printable_in_the_dead_letter_reason() -> None:
    failure = http_status_failure(400, "Bad\x1b[31m Request", "http://h/", b"\x1b[2J\x07evil" + b"x" * 10_000)
    assert failure is not None and not failure.retryable
    assert "\x1b" not in failure.message and "\x07" not in failure.message
    assert len(failure.message) < 400


def test_a_pattern_nested_too_deeply_is_a_rule_error_not_a_crash(bus: LocalBus) -> None:
    pattern: dict[str, Any] = {"source": ["s"]}
    for _ in range(5000):
        pattern = {"detail": pattern}
    with pytest.raises(RuleError, match="rule 'deep'"):
        bus.put_rule("deep", pattern, [CallableTarget("f")])


def test_a_detached_callable_does_not_keep_drain_from_waiting_for_other_retries(bus: LocalBus,
                                                                                clock: FakeClock) -> None:
    with HttpSink(lambda n, event: 503 if n == 0 else 200) as sink:
        bus.put_rule("r", {"source": ["com.example.orders"]}, [HttpTarget(sink.url, id="http"),
                                                              CallableTarget("nobody", id="callable")])
        bus.put_events([entry(1)])
        report = bus.drain(sleep=clock.sleep)  # must sleep until the HTTP retry, not spin on the detached row
    assert (report.delivered, report.waiting, report.detached) == (1, 1, 1)
    assert len(clock.slept) == 1 and len(sink.delivered) == 1


def test_purging_the_archive_keeps_what_deliveries_and_dead_letters_need(bus: LocalBus, tmp_path: Path) -> None:
    with HttpSink(lambda n, event: 400) as sink:
        bus.put_rule("r", {"detail-type": ["Order.Created"]}, [HttpTarget(sink.url)])
        bus.put_events([entry(1, Time="2026-01-01T00:00:00Z"), entry(2, Time="2026-01-02T00:00:00Z",
                                                                   source="com.example.other")])
        bus.drain()
    bus.put_rule("r2", {"source": ["com.example.orders"]}, [CallableTarget("later")])
    bus.put_events([entry(3, Time="2026-01-03T00:00:00Z"), entry(4, Time="2026-02-01T00:00:00Z")])
    # 1 and 2 are dead letters (the 400), 3 waits for its callable, 4 is after the cut-off.
    assert bus.purge_archive("2026-01-15T00:00:00Z") == 0
    bus.redrive()
    bus.delete_rule("r")
    assert bus.purge_archive("2026-01-15T00:00:00Z") == 2  # 1 and 2: nothing needs them any more
    assert [e["detail"]["n"] for e in bus.archived()] == [3, 4]
    assert bus.stats().events == 2
    with pytest.raises(ReplayError, match="cut-off"):
        bus.purge_archive("soon")


def test_stopping_the_deliverer_with_drain_delivers_everything_due_first(tmp_path: Path) -> None:
    got: list[int] = []
    with LocalBus.open(tmp_path / "bus.db", durability="process") as bus:
        bus.attach("h", lambda event: got.append(event["detail"]["n"]))
        bus.put_rule("r", {"source": ["com.example.orders"]}, [CallableTarget("h")])
        deliverer = bus.deliverer(poll_s=5.0, batch=7).start()
        bus.put_events([entry(n) for n in range(50)])
        report = deliverer.stop(drain=True)
        assert bus.stats().pending == 0
    assert sorted(got) == list(range(50)) and report.delivered == 50
