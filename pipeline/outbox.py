"""The producer's outbox: sealed entries written durably before they are published, marked sent only once the bus
accepted them.

``add`` stores entries in one SQLite transaction (synced, like the local bus); ``publish`` sends the pending ones
to any :class:`~pipeline.bus.port.Bus` and records each answer in one transaction per batch. So:

* a crash after ``add`` loses nothing: the entries wait, pending, for the next ``publish``;
* a crash or an outage (``BusUnavailable``) between the bus's answer and its record sends those entries again —
  byte-identical, since the stored entry is resent as it was written: the same CloudEvent ``id`` and
  ``idempotencykey``, which a consumer de-duplicates on (:mod:`pipeline.consumer`). At least once on the bus,
  exactly once per id at the consumer;
* an entry the bus rejects for good (``Rejected(retryable=False)``: malformed, too large…) is recorded ``failed``
  with its reason instead of being retried forever; a retryable rejection (throttling, internal error) stays
  pending for the next ``publish``.

Adding the same CloudEvent twice stores it once (a re-run producer does not double its events).
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

import orjson

from pipeline.bus.port import Accepted, Bus, BusUnavailable
from pipeline.errors import EventdeckError
from pipeline.sqlite_files import Durability, FileKind, open_sqlite

__all__ = ["Outbox", "OutboxEntry", "OutboxError", "OutboxStats", "PublishReport"]

#: "EVOB" — marks a file as an eventdeck outbox.
APPLICATION_ID: Final = 0x45564F42
SCHEMA_VERSION: Final = 1
SCHEMA: Final = (
    "CREATE TABLE outbox (seq INTEGER PRIMARY KEY, event_id TEXT UNIQUE, idempotency_key TEXT, entry BLOB NOT NULL,"
    " state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, bus_event_id TEXT, code TEXT, reason TEXT,"
    " added_ms INTEGER NOT NULL, sent_ms INTEGER)",
    "CREATE INDEX outbox_pending ON outbox (seq) WHERE state = 'pending'",
)
OUTBOX_FILE: Final = FileKind(noun="eventdeck outbox", short="outbox", application_id=APPLICATION_ID,
                               schema_version=SCHEMA_VERSION, statements=SCHEMA, tables=frozenset({"outbox"}))
State = Literal["pending", "sent", "failed"]


class OutboxError(EventdeckError):
    """The outbox file cannot be used, or an entry cannot be stored (``path`` names the file)."""

    def __init__(self, message: str, *, path: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """A stored entry: ``event_id`` and ``idempotency_key`` are the CloudEvent's (``None`` when the Detail is no
    CloudEvent); ``bus_event_id`` the id the bus assigned once sent; ``code``/``reason`` the last rejection."""

    seq: int
    event_id: str | None
    idempotency_key: str | None
    entry: dict[str, Any]
    state: State
    attempts: int
    bus_event_id: str | None
    code: str | None
    reason: str | None


@dataclass(frozen=True, slots=True)
class PublishReport:
    """One ``publish``: entries ``sent``, ``failed`` for good, ``retrying`` (rejected retryably, still pending),
    and ``unavailable`` (the bus's error) when it stopped early because the bus could not answer."""

    sent: int = 0
    failed: int = 0
    retrying: int = 0
    unavailable: str | None = None


@dataclass(frozen=True, slots=True)
class OutboxStats:
    pending: int
    sent: int
    failed: int


def _keys(entry: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """The CloudEvent ``id`` and ``idempotencykey`` in an entry's Detail, when it is one."""
    detail = entry.get("Detail")
    if not isinstance(detail, str):
        return None, None
    try:
        event = orjson.loads(detail)
    except orjson.JSONDecodeError:
        return None, None
    if not isinstance(event, dict):
        return None, None
    ident, key = event.get("id"), event.get("idempotencykey")
    return (ident if isinstance(ident, str) else None), (key if isinstance(key, str) else None)


class Outbox:
    """A handle on an outbox file; open with :meth:`open`. Safe to share between threads. One publisher per file
    at a time (two would both send the pending entries: harmless duplicates, but wasted work)."""

    def __init__(self, db: sqlite3.Connection, path: str, clock: Callable[[], float]) -> None:
        self.path = path
        self._db = db
        self._clock = clock
        self._lock = threading.RLock()

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, durability: Durability = "full",
             clock: Callable[[], float] = time.time) -> Outbox:
        """Open (creating it if absent) the outbox at ``path``.

        :param durability: ``full`` (each commit synced: survives power loss) or ``process`` (survives kill -9).
        :raises OutboxError: the folder is missing or not writable, or the file is not an outbox (another SQLite
            database, not SQLite at all, a newer version)."""
        where = os.path.abspath(os.fspath(path))
        db = open_sqlite(where, OUTBOX_FILE, durability=durability,
                         error=lambda message, at: OutboxError(message, path=at))
        return cls(db, where, clock)

    def add(self, entries: Iterable[Mapping[str, Any]]) -> int:
        """Store the entries, pending, in one synced transaction; returns how many were new (an entry whose
        CloudEvent id is already in the outbox is not stored twice).

        :raises OutboxError: an entry cannot be stored as JSON (nothing of the call is stored)."""
        now_ms = int(self._clock() * 1000)
        rows = []
        for index, entry in enumerate(entries):
            if not isinstance(entry, Mapping):
                raise OutboxError(f"entry {index} is a {type(entry).__name__}, not a PutEvents entry", path=self.path)
            try:
                body = orjson.dumps(entry)
            except TypeError as exc:
                raise OutboxError(f"entry {index} cannot be stored as JSON ({exc})", path=self.path) from None
            rows.append((*_keys(entry), body, now_ms))
        with self._write() as db:
            before = db.total_changes
            db.executemany("INSERT OR IGNORE INTO outbox (event_id, idempotency_key, entry, state, added_ms) "
                           "VALUES (?, ?, ?, 'pending', ?)", rows)
            return db.total_changes - before

    def publish(self, bus: Bus, *, batch: int = 100, limit: int | None = None) -> PublishReport:
        """Send pending entries (oldest first, each at most once per call) in batches of ``batch``; record each
        answer. Stops early, leaving the rest pending, when the bus is unavailable (see ``unavailable``).

        :raises OutboxError: the bus answered a batch with the wrong number of results (nothing is recorded)."""
        sent = failed = retrying = 0
        after = 0
        while limit is None or sent + failed + retrying < limit:
            size = batch if limit is None else min(batch, limit - sent - failed - retrying)
            with self._lock:
                rows = self._db.execute("SELECT seq, entry FROM outbox WHERE state = 'pending' AND seq > ? "
                                        "ORDER BY seq LIMIT ?", (after, size)).fetchall()
            if not rows:
                break
            after = rows[-1][0]
            try:
                answers = bus.put_events([orjson.loads(body) for _, body in rows])
            except BusUnavailable as exc:
                return PublishReport(sent, failed, retrying, str(exc))
            if len(answers) != len(rows):
                raise OutboxError(f"bus {bus.name!r} answered {len(answers)} results for {len(rows)} entries; "
                                  "nothing was recorded", path=self.path)
            now_ms = int(self._clock() * 1000)
            done, dead, again = [], [], []
            for (seq, _), answer in zip(rows, answers, strict=True):
                if isinstance(answer, Accepted):
                    done.append((answer.event_id, now_ms, seq))
                elif answer.retryable:
                    again.append((answer.code, answer.message, seq))
                else:
                    dead.append((answer.code, answer.message, seq))
            with self._write() as db:
                db.executemany("UPDATE outbox SET state = 'sent', attempts = attempts + 1, bus_event_id = ?, "
                               "sent_ms = ?, code = NULL, reason = NULL WHERE seq = ?", done)
                db.executemany("UPDATE outbox SET attempts = attempts + 1, code = ?, reason = ? WHERE seq = ?", again)
                db.executemany("UPDATE outbox SET state = 'failed', attempts = attempts + 1, code = ?, reason = ? "
                               "WHERE seq = ?", dead)
            sent, failed, retrying = sent + len(done), failed + len(dead), retrying + len(again)
        return PublishReport(sent, failed, retrying)

    def entries(self, state: State | None = None, *, limit: int | None = None) -> list[OutboxEntry]:
        """Stored entries (of one ``state`` if given), oldest first."""
        query = ("SELECT seq, event_id, idempotency_key, entry, state, attempts, bus_event_id, code, reason "
                 "FROM outbox")
        params: list[Any] = []
        if state is not None:
            query += " WHERE state = ?"
            params.append(state)
        query += " ORDER BY seq LIMIT ?"
        params.append(-1 if limit is None else limit)
        with self._lock:
            rows = self._db.execute(query, params).fetchall()
        return [OutboxEntry(r[0], r[1], r[2], orjson.loads(r[3]), r[4], r[5], r[6], r[7], r[8]) for r in rows]

    def purge(self, sent_before: float) -> int:
        """Delete entries sent before ``sent_before`` (epoch seconds); returns how many. Adding one of their
        CloudEvents again afterwards stores and sends it again (the outbox no longer remembers it)."""
        with self._write() as db:
            return db.execute("DELETE FROM outbox WHERE state = 'sent' AND sent_ms < ?",
                              (int(sent_before * 1000),)).rowcount

    def stats(self) -> OutboxStats:
        with self._lock:
            counts = dict(self._db.execute("SELECT state, count(*) FROM outbox GROUP BY state").fetchall())
        return OutboxStats(counts.get("pending", 0), counts.get("sent", 0), counts.get("failed", 0))

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Outbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _write(self) -> _Transaction:
        return _Transaction(self._db, self._lock, self.path)


class _Transaction:
    """``BEGIN IMMEDIATE`` … ``COMMIT`` under the handle's lock; a SQLite failure becomes :class:`OutboxError`."""

    def __init__(self, db: sqlite3.Connection, lock: threading.RLock, path: str) -> None:
        self._db, self._lock, self._path = db, lock, path

    def __enter__(self) -> sqlite3.Connection:
        self._lock.acquire()
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            self._lock.release()
            raise OutboxError(f"cannot write ({exc})", path=self._path) from exc
        return self._db

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        try:
            if kind is None:
                try:
                    self._db.execute("COMMIT")
                except sqlite3.Error as error:
                    self._db.execute("ROLLBACK")
                    raise OutboxError(f"cannot write ({error})", path=self._path) from error
            else:
                self._db.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise OutboxError(f"cannot write ({exc})", path=self._path) from exc
        finally:
            self._lock.release()


