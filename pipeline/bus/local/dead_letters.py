"""The dead-letter table: deliveries the bus gave up on, with the reason, and redrive back into the queue."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

__all__ = ["DeadLetter", "list_dead_letters", "redrive_dead_letters"]


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """One undelivered event for one target.

    ``code`` and ``message`` are the last failure (``HTTP_400``, ``TIMEOUT``…); ``condition`` is what ended the
    retries (``MaximumRetryAttemptsExceeded``, ``MaximumEventAgeExceeded``) or ``None`` when the failure was
    final; ``attempts`` counts tries; ``replay`` names the replay it came from, if any; ``event`` is the event."""

    id: int
    event_id: str
    rule: str
    target: str
    attempts: int
    code: str
    message: str
    condition: str | None
    replay: str | None
    failed_at: datetime
    event: dict[str, Any]

    @property
    def reason(self) -> str:
        """One line: the failure and the condition, as a person reads it."""
        return f"{self.code}: {self.message}" + (f" ({self.condition})" if self.condition else "")


def list_dead_letters(db: sqlite3.Connection, *, rule: str | None, limit: int | None) -> list[DeadLetter]:
    query = ("SELECT d.id, e.id, d.rule, d.target, d.attempts, d.code, d.message, d.condition, d.replay, "
             "d.failed_ms, e.body FROM dead_letters d JOIN events e ON e.seq = d.seq")
    params: list[Any] = []
    if rule is not None:
        query += " WHERE d.rule = ?"
        params.append(rule)
    query += " ORDER BY d.id"
    if limit is not None:
        query += " LIMIT ?"
        params.append(limit)
    return [DeadLetter(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], row[8],
                       datetime.fromtimestamp(row[9] / 1000, UTC), orjson.loads(row[10]))
            for row in db.execute(query, params)]


def redrive_dead_letters(db: sqlite3.Connection, *, ids: Iterable[int] | None, rule: str | None,
                         known_targets: set[tuple[str, str]], now_ms: int) -> int:
    """Move dead letters back into the delivery queue with a fresh retry budget (inside the caller's
    transaction). Only those whose rule and target still exist move; the rest stay. Returns how many moved."""
    query = "SELECT id, seq, rule, target, replay FROM dead_letters"
    clauses, params = [], []
    if rule is not None:
        clauses.append("rule = ?")
        params.append(rule)
    wanted = None if ids is None else {int(i) for i in ids}
    if clauses:
        query += " WHERE " + " AND ".join(clauses)
    moved = [(row[0], row[1], row[2], row[3], row[4]) for row in db.execute(query, params)
             if (wanted is None or row[0] in wanted) and (row[2], row[3]) in known_targets]
    db.executemany("INSERT INTO deliveries (seq, rule, target, since_ms, due_ms, replay) VALUES (?, ?, ?, ?, ?, ?)",
                   [(seq, r, t, now_ms, now_ms, replay) for _, seq, r, t, replay in moved])
    db.executemany("DELETE FROM dead_letters WHERE id = ?", [(ident,) for ident, *_ in moved])
    return len(moved)
