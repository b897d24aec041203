"""The producer's outbox: entries stored before publishing, sent once accepted, failed for good with the reason,
pending through an outage; and under SIGKILL of a real process between write and publish, every event reaches
the bus, re-sent byte-identically, so de-duplicating by CloudEvent id leaves each exactly once."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from outbox_child import entries

from pipeline.bus.local import LocalBus
from pipeline.bus.port import Bus, BusUnavailable, EntryResult, Rejected
from pipeline.outbox import Outbox, OutboxError

CHILD = Path(__file__).with_name("outbox_child.py")


@pytest.fixture
def outbox(tmp_path: Path):
    with Outbox.open(tmp_path / "outbox.db") as opened:
        yield opened


@pytest.fixture
def bus(tmp_path: Path):
    with LocalBus.open(tmp_path / "bus.db", durability="process") as opened:
        yield opened


class FlakyBus:
    """A Bus in front of the local bus that is down for its first ``outages`` calls, then throttles the entries
    whose index is in ``throttled`` once (a retryable rejection, as EventBridge's ThrottlingException)."""

    def __init__(self, bus: LocalBus, *, outages: int = 0, throttled: Sequence[int] = ()) -> None:
        self.name = bus.name
        self._bus = bus
        self._outages = outages
        self._throttled = set(throttled)
        self.calls: list[list[Mapping[str, Any]]] = []

    def put_events(self, batch: Sequence[Mapping[str, Any]]) -> list[EntryResult]:
        self.calls.append(list(batch))
        if self._outages:
            self._outages -= 1
            raise BusUnavailable("the bus is down (test outage)")
        results: list[EntryResult] = []
        for item in batch:
            n = json.loads(item["Detail"])["data"]["n"]
            if n in self._throttled:
                self._throttled.discard(n)
                results.append(Rejected("ThrottlingException", "Rate exceeded", retryable=True))
            else:
                results.append(self._bus.put_events([item])[0])
        return results


def detail_ids(bus: LocalBus) -> list[str]:
    return [event["detail"]["id"] for event in bus.archived()]


def test_entries_are_published_once_and_marked_sent(outbox: Outbox, bus: LocalBus) -> None:
    assert isinstance(FlakyBus(bus), Bus)
    assert outbox.add(entries(25)) == 25
    assert outbox.stats().pending == 25 and detail_ids(bus) == []  # stored, not yet published
    report = outbox.publish(bus, batch=10)
    assert (report.sent, report.failed, report.retrying, report.unavailable) == (25, 0, 0, None)
    assert detail_ids(bus) == [f"01JOUTBOX{n:017d}" for n in range(25)]
    sent = outbox.entries("sent")
    assert {e.bus_event_id for e in sent} == {e["id"] for e in bus.archived()}
    assert sent[0].idempotency_key == "key-00000"
    assert outbox.publish(bus).sent == 0  # nothing left to send


def test_adding_the_same_cloudevents_again_stores_them_once(outbox: Outbox, bus: LocalBus) -> None:
    outbox.add(entries(5))
    outbox.publish(bus)
    assert outbox.add(entries(8)) == 3  # a re-run producer: the first five are already there
    outbox.publish(bus)
    assert sorted(detail_ids(bus)) == [f"01JOUTBOX{n:017d}" for n in range(8)]


def test_an_outage_leaves_every_entry_pending_then_they_are_sent(outbox: Outbox, bus: LocalBus) -> None:
    outbox.add(entries(12))
    flaky = FlakyBus(bus, outages=1)
    down = outbox.publish(flaky, batch=5)
    assert down.unavailable == "the bus is down (test outage)" and down.sent == 0
    assert outbox.stats().pending == 12
    up = outbox.publish(flaky, batch=5)
    assert up.sent == 12 and len(detail_ids(bus)) == 12


def test_a_retryable_rejection_stays_pending_and_is_resent_identically(outbox: Outbox, bus: LocalBus) -> None:
    outbox.add(entries(4))
    flaky = FlakyBus(bus, throttled=[2])
    first = outbox.publish(flaky)
    assert (first.sent, first.retrying) == (3, 1)
    (waiting,) = outbox.entries("pending")
    assert (waiting.code, waiting.reason, waiting.attempts) == ("ThrottlingException", "Rate exceeded", 1)
    second = outbox.publish(flaky)
    assert second.sent == 1
    assert flaky.calls[1] == [flaky.calls[0][2]]  # the same entry, field for field
    assert sorted(detail_ids(bus)) == sorted(f"01JOUTBOX{n:017d}" for n in range(4))


def test_a_permanent_rejection_is_recorded_failed_with_the_reason_not_retried(tmp_path: Path,
                                                                              outbox: Outbox) -> None:
    good = entries(2)
    too_big = {**good[1], "Detail": json.dumps({"id": "big", "data": "x" * 600})}
    not_json = {**good[0], "Detail": json.dumps({"id": "bad"})[:-1]}
    with LocalBus.open(tmp_path / "small.db", max_entry_bytes=500) as small:
        outbox.add([good[0], too_big, not_json])
        report = outbox.publish(small)
        assert (report.sent, report.failed) == (1, 2)
        failed = outbox.entries("failed")
        assert [(f.event_id, f.code) for f in failed] == [("big", "EntryTooLarge"), (None, "MalformedDetail")]
        assert "the limit is 500" in (failed[0].reason or "")
        assert outbox.publish(small).failed == 0  # failed entries are not sent again
    assert outbox.stats() == type(outbox.stats())(pending=0, sent=1, failed=2)


def test_an_entry_that_is_no_json_is_refused_and_nothing_of_the_call_is_stored(outbox: Outbox) -> None:
    with pytest.raises(OutboxError, match=r"outbox\.db: entry 1 cannot be stored as JSON"):
        outbox.add([entries(1)[0], {"Source": "s", "DetailType": "T", "Detail": object()}])
    with pytest.raises(OutboxError, match="entry 0 is a list"):
        outbox.add([["not", "an", "entry"]])  # type: ignore[list-item]
    assert outbox.stats().pending == 0


def test_a_bus_answering_the_wrong_number_of_results_records_nothing(outbox: Outbox, bus: LocalBus) -> None:
    class ShortBus:
        name = "short"

        def put_events(self, batch: Sequence[Mapping[str, Any]]) -> list[EntryResult]:
            return bus.put_events(batch)[:-1]

    outbox.add(entries(3))
    with pytest.raises(OutboxError, match="answered 2 results for 3 entries"):
        outbox.publish(ShortBus())
    assert outbox.stats().pending == 3


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_bad_outbox_files_are_refused_naming_them(tmp_path: Path) -> None:
    corrupt = tmp_path / "corrupt.db"
    corrupt.write_bytes(os.urandom(2048))
    foreign = tmp_path / "foreign.db"
    db = sqlite3.connect(foreign)
    db.execute("CREATE TABLE t (x)")
    db.commit()
    db.close()
    before = _digest(corrupt), _digest(foreign)
    with pytest.raises(OutboxError, match=r"corrupt\.db: is not a usable eventdeck outbox"):
        Outbox.open(corrupt)
    with pytest.raises(OutboxError, match=r"foreign\.db: is a SQLite database of another application"):
        Outbox.open(foreign)
    assert (_digest(corrupt), _digest(foreign)) == before
    with pytest.raises(OutboxError, match="does not exist"):
        Outbox.open(tmp_path / "missing" / "outbox.db")
    with pytest.raises(OutboxError, match="is a folder"):
        Outbox.open(tmp_path)
    bus_file = tmp_path / "bus.db"
    LocalBus.open(bus_file).close()
    with pytest.raises(OutboxError, match="another application"):  # a bus file is not an outbox
        Outbox.open(bus_file)


def _run(outbox_path: Path, bus_path: Path, count: int, mode: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(CHILD), str(outbox_path), str(bus_path), str(count), mode],
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("mode", ["kill-after-add", "kill-after-put"])
def test_kill_9_between_write_and_publish_then_a_restart_publishes_each_event_once_per_id(tmp_path: Path,
                                                                                           mode: str) -> None:
    outbox_path, bus_path, count = tmp_path / "outbox.db", tmp_path / "bus.db", 45
    crashed = _run(outbox_path, bus_path, count, mode)
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr
    with LocalBus.open(bus_path) as bus:
        on_bus_before = detail_ids(bus)
    if mode == "kill-after-add":
        assert on_bus_before == []  # written, never published
    else:
        assert len(on_bus_before) == 30  # three batches of ten accepted, the third never recorded as sent

    restarted = _run(outbox_path, bus_path, count, "publish")
    assert restarted.returncode == 0, restarted.stderr
    assert json.loads(restarted.stdout) == {"sent": count - (20 if mode == "kill-after-put" else 0), "failed": 0}

    with LocalBus.open(bus_path) as bus:
        events = bus.archived()
    expected = {f"01JOUTBOX{n:017d}" for n in range(count)}
    by_id: dict[str, list[dict[str, Any]]] = {}
    for event in events:
        by_id.setdefault(event["detail"]["id"], []).append(event)
    assert set(by_id) == expected  # none lost
    duplicates = {ident: copies for ident, copies in by_id.items() if len(copies) > 1}
    if mode == "kill-after-put":
        assert len(duplicates) == 10  # exactly the batch accepted but not recorded before the kill
    else:
        assert duplicates == {}
    for copies in duplicates.values():  # a re-sent event is the same event: same id, key, payload, time
        assert all({k: v for k, v in c.items() if k != "id"} == {k: v for k, v in copies[0].items() if k != "id"}
                   for c in copies)
        assert len({c["detail"]["idempotencykey"] for c in copies}) == 1
    with Outbox.open(outbox_path) as outbox:
        stats = outbox.stats()
    assert (stats.pending, stats.sent, stats.failed) == (0, count, 0)


def test_purging_sent_entries_keeps_pending_and_failed_ones(tmp_path: Path, bus: LocalBus) -> None:
    now = [1_800_000_000.0]
    with Outbox.open(tmp_path / "purge.db", clock=lambda: now[0]) as outbox:
        outbox.add(entries(3))
        outbox.publish(bus, limit=2)
        now[0] += 100
        assert outbox.purge(sent_before=now[0] - 50) == 2
        assert outbox.stats() == type(outbox.stats())(pending=1, sent=0, failed=0)
