"""Replay: archived events of a time window scheduled again for delivery, as EventBridge's ``StartReplay`` does.

The window is on the events' ``time`` (start inclusive, end exclusive); the rules are the bus's current ones (all,
or one); each replayed delivery carries the replay's name, and the delivered event a ``replay-name`` field, so a
consumer can tell a replay from the original."""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from datetime import datetime

import orjson

from pipeline.bus.local.errors import ReplayError
from pipeline.bus.local.rules import RuleBook

__all__ = ["ReplayReport", "schedule_replay"]

_NAME = re.compile(r"^[\w.\-]{1,64}$")


@dataclass(frozen=True, slots=True)
class ReplayReport:
    """A replay scheduled: its ``name``, the window, how many archived ``events`` it covered and how many
    ``deliveries`` (event x matching target) it queued."""

    name: str
    start: datetime
    end: datetime
    rule: str | None
    events: int
    deliveries: int


def schedule_replay(db: sqlite3.Connection, book: RuleBook, *, name: str, start: datetime, end: datetime,
                    rule: str | None, now_ms: int) -> ReplayReport:
    """Queue the window's events for their matching targets (inside the caller's transaction)."""
    if not _NAME.match(name):
        raise ReplayError(f"replay name {name!r} is not 1 to 64 letters, digits, '.', '-' or '_'")
    if end <= start:
        raise ReplayError(f"the replay window ends ({end.isoformat()}) before it starts ({start.isoformat()})")
    if db.execute("SELECT 1 FROM replays WHERE name = ?", (name,)).fetchone():
        raise ReplayError(f"a replay named {name!r} already exists on this bus")
    start_ms, end_ms = int(start.timestamp() * 1000), int(end.timestamp() * 1000)
    events = 0
    deliveries: list[tuple[int, str, str, int, int, str]] = []
    for seq, body in db.execute("SELECT seq, body FROM events WHERE time_ms >= ? AND time_ms < ? ORDER BY seq",
                                (start_ms, end_ms)):
        events += 1
        event = orjson.loads(body)
        deliveries.extend((seq, r, t, now_ms, now_ms, name) for r, t in book.routes(event, only=rule))
    db.executemany("INSERT INTO deliveries (seq, rule, target, since_ms, due_ms, replay) VALUES (?, ?, ?, ?, ?, ?)",
                   deliveries)
    db.execute("INSERT INTO replays (name, start_ms, end_ms, rule, events, deliveries, created_ms) "
               "VALUES (?, ?, ?, ?, ?, ?, ?)", (name, start_ms, end_ms, rule, events, len(deliveries), now_ms))
    return ReplayReport(name, start, end, rule, events, len(deliveries))
