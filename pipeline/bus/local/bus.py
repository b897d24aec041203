"""The embedded local bus: EventBridge's semantics in one SQLite file, the default bus when no AWS endpoint is set.

``put_events`` checks each entry as EventBridge does, stores the accepted events in the archive and queues one
delivery per matching rule target **in the same transaction**: once an entry is answered ``Accepted`` it is on disk
with its deliveries, so a crash between "accepted" and "delivered" loses nothing; delivery resumes when any
process opens the file again and delivers (at least once: a delivery interrupted after the target took the event
but before the bus recorded it is delivered again).
"""

from __future__ import annotations

import os
import random
import sqlite3
import threading
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from pipeline.bus.local.dead_letters import DeadLetter, list_dead_letters, redrive_dead_letters
from pipeline.bus.local.delivery import AGE_EXCEEDED, Deliverer, DeliveryReport, verdict
from pipeline.bus.local.delivery import DeadLetter as GiveUp
from pipeline.bus.local.entries import AcceptedEvent, event_from_entry, parse_time
from pipeline.bus.local.errors import BusStoreError, ReplayError, RuleError, UnknownRule
from pipeline.bus.local.replay import ReplayReport, schedule_replay
from pipeline.bus.local.retry import RetryPolicy
from pipeline.bus.local.rules import Rule, RuleBook, check_rule, load_rules, store_rule
from pipeline.bus.local.senders import Senders, SendFailure
from pipeline.bus.local.store import Durability, open_store
from pipeline.bus.local.targets import BusTarget, Target
from pipeline.bus.port import DEFAULT_MAX_ENTRY_BYTES, Accepted, BusUnavailable, EntryResult

__all__ = ["BusStats", "LocalBus"]

Clock = Callable[[], float]
EventCallable = Callable[[dict[str, Any]], object]


@dataclass(frozen=True, slots=True)
class BusStats:
    """Counts for a summary: archived ``events``, ``rules``, deliveries ``pending``, ``dead_letters``, and
    deliveries ``delivered`` since the file was created."""

    events: int
    rules: int
    pending: int
    dead_letters: int
    delivered: int


class LocalBus:
    """A handle on a local bus file. Open with :meth:`open`; safe to share between threads; several processes may
    open the same file (SQLite serialises the writers)."""

    def __init__(self, db: sqlite3.Connection, path: str, *, name: str, account: str, region: str,
                 max_entry_bytes: int, bus_names: Collection[str] | None, clock: Clock, rng: random.Random,
                 durability: Durability, concurrency: int) -> None:
        self.name = name
        self.path = path
        self.account = account
        self.region = region
        self.max_entry_bytes = max_entry_bytes
        self.bus_names = None if bus_names is None else frozenset(bus_names) | {name}
        self.durability = durability
        self._db = db
        self._lock = threading.RLock()
        # One delivery round at a time per handle: a drain() beside a Deliverer would send the same rows twice.
        self._delivering = threading.Lock()
        self._clock = clock
        self._rng = rng
        self._book: RuleBook | None = None
        self._generation = -1
        self._callables: dict[str, EventCallable] = {}
        self._senders = Senders(self._callables, concurrency=concurrency, open_bus=self._open_target_bus)
        self._deliverers: list[Deliverer] = []

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, name: str = "default", account: str = "000000000000",
             region: str = "us-east-1", max_entry_bytes: int = DEFAULT_MAX_ENTRY_BYTES,
             bus_names: Collection[str] | None = None, clock: Clock = time.time, rng: random.Random | None = None,
             durability: Durability = "full", concurrency: int = 8) -> LocalBus:
        """Open the bus file at ``path``, creating it when absent.

        :param name: the bus's name (an entry's ``EventBusName`` may give it, or its ARN).
        :param account: the ``account`` stamped on events; ``region`` likewise.
        :param max_entry_bytes: the entry size limit (EventBridge's 256 KiB by default; AWS raises it per account).
        :param bus_names: other bus names this file answers for; ``None`` accepts entries for any bus (one local
            file standing in for every bus of a contract); else others are refused ``ResourceNotFoundException``.
        :param clock: epoch seconds (tests pass a fake to drive retries and ages); ``rng`` the back-off jitter.
        :param durability: ``full`` (each commit synced: survives power loss) or ``process`` (survives kill -9).
        :param concurrency: HTTP deliveries in flight at once (one keep-alive connection each).
        :raises BusStoreError: the file cannot be used as a bus (see :func:`open_store`)."""
        where = os.path.abspath(os.fspath(path))
        if isinstance(max_entry_bytes, bool) or not isinstance(max_entry_bytes, int) or max_entry_bytes < 1:
            raise BusStoreError(f"max_entry_bytes must be a positive integer, not {max_entry_bytes!r}", path=where)
        db = open_store(where, durability=durability)
        return cls(db, where, name=name, account=account, region=region, max_entry_bytes=max_entry_bytes,
                   bus_names=bus_names, clock=clock, rng=rng or random.Random(), durability=durability,
                   concurrency=concurrency)

    # ------------------------------------------------------------------------------------------- plumbing

    def now(self) -> float:
        """The bus's clock, epoch seconds."""
        return self._clock()

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (``BEGIN IMMEDIATE``: the writer lock is taken up front, so no deadlock later); a
        SQLite failure (disk full, file locked too long) is a :class:`BusStoreError` and nothing is written."""
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise BusStoreError(f"cannot write ({exc})", path=self.path) from exc
            try:
                yield self._db
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                self._db.execute("ROLLBACK")
                raise BusStoreError(f"cannot write ({exc})", path=self.path) from exc
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def _rules(self, db: sqlite3.Connection, generation: int | None = None) -> RuleBook:
        """The compiled rules, re-read only when some handle changed them (a generation counter in ``meta``)."""
        if generation is None:
            row = db.execute("SELECT value FROM meta WHERE key = 'rules_generation'").fetchone()
            generation = int(row[0]) if row else 0
        if self._book is None or generation != self._generation:
            self._book = load_rules(db, self.path)
            self._generation = generation
        return self._book

    def _bump_rules(self, db: sqlite3.Connection) -> None:
        db.execute("INSERT INTO meta (key, value) VALUES ('rules_generation', '1') ON CONFLICT (key) DO UPDATE "
                   "SET value = CAST(value AS INTEGER) + 1")

    def _open_target_bus(self, path: str) -> LocalBus:
        return LocalBus.open(path, clock=self._clock, durability=self.durability)

    # ------------------------------------------------------------------------------------------- events

    def put_events(self, entries: Sequence[Mapping[str, Any]]) -> list[EntryResult]:
        """Check, archive and route the entries, all in one transaction; one result per entry, in order.

        :raises BusUnavailable: the file could not be written (nothing of this call was accepted)."""
        now = self._clock()
        moment = datetime.fromtimestamp(now, UTC)
        now_ms = int(now * 1000)
        results: list[EntryResult | AcceptedEvent] = [
            event_from_entry(entry, now=moment, account=self.account, region=self.region,
                             max_entry_bytes=self.max_entry_bytes, bus_names=self.bus_names)
            for entry in entries]
        accepted = [a for a in results if isinstance(a, AcceptedEvent)]
        if accepted:
            try:
                with self._write() as db:
                    # One round trip for both: the rules' generation and the next sequence number.
                    generation, last = db.execute(
                        "SELECT coalesce((SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'rules_generation'), "
                        "0), coalesce((SELECT max(seq) FROM events), 0)").fetchone()
                    book = self._rules(db, generation)
                    first = last + 1
                    deliveries: list[tuple[int, str, str, int, int]] = []
                    for seq, a in enumerate(accepted, first):
                        deliveries.extend((seq, r, t, now_ms, now_ms) for r, t in book.routes(a.event))
                    db.executemany("INSERT INTO events (seq, id, time_ms, accepted_ms, body) VALUES (?, ?, ?, ?, ?)",
                                   [(seq, a.event["id"], a.time_ms, now_ms, a.body)
                                    for seq, a in enumerate(accepted, first)])
                    db.executemany("INSERT INTO deliveries (seq, rule, target, since_ms, due_ms) "
                                   "VALUES (?, ?, ?, ?, ?)", deliveries)
            except BusStoreError as exc:
                raise BusUnavailable(f"the bus could not store the events: {exc}") from exc
            for deliverer in self._deliverers:
                deliverer.wake()
        return [Accepted(r.event["id"]) if isinstance(r, AcceptedEvent) else r for r in results]

    def archived(self, start: Any = None, end: Any = None, *, limit: int | None = None) -> list[dict[str, Any]]:
        """Archived events (as delivered, without ``replay-name``) whose ``time`` is in [start, end), oldest first."""
        start_ms = -(2**62) if start is None else _ms(parse_time(start))
        end_ms = 2**62 if end is None else _ms(parse_time(end))
        with self._lock:
            rows = self._db.execute("SELECT body FROM events WHERE time_ms >= ? AND time_ms < ? ORDER BY seq "
                                    "LIMIT ?", (start_ms, end_ms, -1 if limit is None else limit)).fetchall()
        return [orjson.loads(body) for (body,) in rows]

    # ------------------------------------------------------------------------------------------- rules

    def put_rule(self, name: str, pattern: Mapping[str, Any], targets: Sequence[Target], *,
                 retry: RetryPolicy | None = None, enabled: bool = True, description: str = "") -> Rule:
        """Create or replace a rule with its targets (EventBridge ``PutRule`` + ``PutTargets``).

        Events already accepted keep the deliveries they were given; deliveries queued for a target the new
        version drops are removed. ``retry`` is the policy of targets that carry none.

        :raises RuleError: an invalid name, pattern (EventBridge's rejection, from the pattern engine), target
            or retry policy."""
        compiled, rule = check_rule(name, pattern, targets, retry)
        for target in rule.targets.values():
            if isinstance(target, BusTarget) and os.path.realpath(target.path) == os.path.realpath(self.path):
                raise RuleError("a bus target cannot be this bus itself (its events would loop)",
                                where=f"rule {name!r}")
        rule = Rule(rule.name, rule.pattern, rule.targets, rule.retries, bool(enabled), str(description))
        del compiled
        with self._write() as db:
            store_rule(db, rule, self._now_ms())
            keep = list(rule.targets)
            db.execute(f"DELETE FROM deliveries WHERE rule = ? AND target NOT IN ({','.join('?' * len(keep))})",
                       (name, *keep))
            self._bump_rules(db)
        return rule

    def delete_rule(self, name: str) -> None:
        """Remove a rule, its targets and its queued deliveries (dead letters stay, for the record).

        :raises UnknownRule: no such rule."""
        with self._write() as db:
            if db.execute("DELETE FROM rules WHERE name = ?", (name,)).rowcount == 0:
                raise UnknownRule(f"{self.path}: no rule named {name!r}")
            db.execute("DELETE FROM deliveries WHERE rule = ?", (name,))
            self._bump_rules(db)

    def rules(self) -> list[Rule]:
        """Every rule, oldest first."""
        with self._lock:
            return list(self._rules(self._db).rules)

    def attach(self, name: str, function: EventCallable) -> None:
        """Attach the function behind :class:`CallableTarget` ``name`` in this process (functions are not stored
        in the file; deliveries to an unattached callable wait)."""
        if not callable(function):
            raise TypeError(f"callable target {name!r}: {function!r} is not callable")
        self._callables[name] = function

    # ------------------------------------------------------------------------------------------- delivery

    def deliver_pending(self, *, limit: int = 1000) -> DeliveryReport:
        """Try every delivery that is due (up to ``limit``), then record each outcome in one transaction.

        Nothing here raises for a target's failure: it is retried or dead-lettered by the target's policy."""
        with self._delivering:
            return self._deliver_round(limit)

    def _deliver_round(self, limit: int) -> DeliveryReport:
        now_ms = self._now_ms()
        with self._lock:
            book = self._rules(self._db)
            detached = [(r.name, ident) for r in book.rules for ident, t in r.targets.items()
                        if not self._senders.ready(t)]
            skip = " ".join("AND NOT (d.rule = ? AND d.target = ?)" for _ in detached)
            rows = self._db.execute(
                "SELECT d.id, d.rule, d.target, d.attempts, d.since_ms, d.replay, e.body FROM deliveries d "
                f"JOIN events e ON e.seq = d.seq WHERE d.due_ms <= ? {skip} ORDER BY d.due_ms, d.id LIMIT ?",
                (now_ms, *[v for pair in detached for v in pair], limit)).fetchall()
        groups: dict[tuple[str, str], list[tuple[int, int, int, bytes]]] = {}
        dropped: list[int] = []
        for ident, rule, target, attempts, since_ms, replay, body in rows:
            if book.target(rule, target) is None:
                dropped.append(ident)  # its rule or target was removed meanwhile
                continue
            if replay is not None:
                body = body[:-1] + b',"replay-name":' + orjson.dumps(replay) + b"}"
            groups.setdefault((rule, target), []).append((ident, attempts, since_ms, body))
        delivered: list[int] = []
        retries: list[tuple[int, int, str, int]] = []
        dead: list[tuple[int, int, str, str, str | None, int, int]] = []
        for (rule, target_name), items in groups.items():
            found = book.target(rule, target_name)
            assert found is not None
            target, policy = found
            fresh = []
            for ident, attempts, since_ms, body in items:
                if now_ms - since_ms > policy.maximum_event_age_s * 1000:
                    dead.append((ident, attempts, "EVENT_EXPIRED", "the event outlived the retry policy's "
                                 "maximum event age before it could be tried", AGE_EXCEEDED, now_ms, 0))
                else:
                    fresh.append((ident, attempts, since_ms, body))
            answers = self._senders.send(target, [body for *_, body in fresh]) if fresh else []
            done_ms = self._now_ms()
            for (ident, attempts, since_ms, _), answer in zip(fresh, answers, strict=True):
                if answer is None:
                    delivered.append(ident)
                    continue
                decision = verdict(answer, attempts=attempts + 1, since_ms=since_ms, now_ms=done_ms, policy=policy,
                                   rng=self._rng)
                if isinstance(decision, GiveUp):
                    dead.append((ident, attempts + 1, decision.failure.code, decision.failure.message,
                                 decision.condition, done_ms, 0))
                else:
                    retries.append((attempts + 1, decision.due_ms, _error(answer), ident))
        with self._write() as db:
            db.executemany("DELETE FROM deliveries WHERE id = ?", [(i,) for i in delivered + dropped])
            db.executemany("UPDATE deliveries SET attempts = ?, due_ms = ?, last_error = ? WHERE id = ?", retries)
            db.executemany(
                "INSERT INTO dead_letters (seq, rule, target, attempts, code, message, condition, replay, failed_ms) "
                "SELECT seq, rule, target, ?, ?, ?, ?, replay, ? FROM deliveries WHERE id = ?",
                [(attempts, code, message, condition, failed_ms, ident)
                 for ident, attempts, code, message, condition, failed_ms, _ in dead])
            db.executemany("DELETE FROM deliveries WHERE id = ?", [(d[0],) for d in dead])
            if delivered:
                db.execute("INSERT INTO meta (key, value) VALUES ('delivered', ?) ON CONFLICT (key) DO UPDATE "
                           "SET value = CAST(value AS INTEGER) + excluded.value", (len(delivered),))
            # The next due time of what this handle can deliver: a detached callable's rows wait for an attach.
            ready, next_due = db.execute(f"SELECT count(*), min(d.due_ms) FROM deliveries d WHERE 1 {skip}",
                                         [v for pair in detached for v in pair]).fetchone()
            waiting = db.execute("SELECT count(*) FROM deliveries").fetchone()[0]
        return DeliveryReport(len(delivered), len(retries), len(dead), waiting, waiting - ready,
                              None if next_due is None else next_due / 1000)

    def drain(self, *, timeout_s: float | None = None, sleep: Callable[[float], None] = time.sleep,
              limit: int = 1000) -> DeliveryReport:
        """Deliver until no delivery is left (except those waiting for an unattached callable), sleeping until
        each retry falls due; stop after ``timeout_s`` of the bus's clock. Returns the totals."""
        deadline = None if timeout_s is None else self._clock() + timeout_s
        total = DeliveryReport()
        while True:
            total = total + self.deliver_pending(limit=limit)
            if total.next_due is None or total.waiting <= total.detached:
                return total
            now = self._clock()
            if deadline is not None and now >= deadline:
                return total
            wait = total.next_due - now
            if deadline is not None:
                wait = min(wait, deadline - now)
            if wait > 0:
                sleep(wait)

    def deliverer(self, *, poll_s: float = 0.2, batch: int = 200) -> Deliverer:
        """A background deliverer for this handle (call ``start()``; ``stop()`` when done)."""
        deliverer = Deliverer(self, poll_s=poll_s, batch=batch)
        self._deliverers.append(deliverer)
        return deliverer

    # ------------------------------------------------------------------------------------------- replay, DLQ

    def replay(self, start: Any, end: Any, *, rule: str | None = None, name: str | None = None) -> ReplayReport:
        """Queue again the archived events whose ``time`` is in [start, end) for the targets of every rule they
        match now (only ``rule`` if given). ``start``/``end``: datetime, epoch seconds or ISO 8601 text.

        :raises ReplayError: a bad window or a name already used; :raises UnknownRule: no such rule."""
        try:
            start_at, end_at = parse_time(start), parse_time(end)
        except (ValueError, OverflowError, OSError) as exc:
            raise ReplayError(f"the replay window is not a pair of date-times ({exc})") from None
        now_ms = self._now_ms()
        with self._write() as db:
            book = self._rules(db)
            if rule is not None and all(r.name != rule for r in book.rules):
                raise UnknownRule(f"{self.path}: no rule named {rule!r}")
            report = schedule_replay(db, book, name=name or f"replay-{now_ms}", start=start_at, end=end_at,
                                     rule=rule, now_ms=now_ms)
        for deliverer in self._deliverers:
            deliverer.wake()
        return report

    def dead_letters(self, *, rule: str | None = None, limit: int | None = None) -> list[DeadLetter]:
        """The dead letters, oldest first (of one rule if given)."""
        with self._lock:
            return list_dead_letters(self._db, rule=rule, limit=limit)

    def redrive(self, ids: Iterable[int] | None = None, *, rule: str | None = None) -> int:
        """Queue dead letters (all, those of ``rule``, or those with the given ids) for delivery again, with a fresh
        retry budget; returns how many were queued (those whose rule or target is gone stay dead letters)."""
        with self._write() as db:
            book = self._rules(db)
            known = {(r.name, t) for r in book.rules for t in r.targets}
            moved = redrive_dead_letters(db, ids=ids, rule=rule, known_targets=known, now_ms=self._now_ms())
        for deliverer in self._deliverers:
            deliverer.wake()
        return moved

    def purge_archive(self, before: Any) -> int:
        """Delete archived events whose ``time`` is before ``before`` (an archive's retention), except those a
        queued delivery or a dead letter still needs; returns how many were deleted. They can no longer be
        replayed.

        :raises ReplayError: ``before`` is not a date-time."""
        try:
            cutoff = _ms(parse_time(before))
        except (ValueError, OverflowError, OSError) as exc:
            raise ReplayError(f"the archive cut-off is not a date-time ({exc})") from None
        with self._write() as db:
            return db.execute("DELETE FROM events WHERE time_ms < ? AND seq NOT IN (SELECT seq FROM deliveries) "
                              "AND seq NOT IN (SELECT seq FROM dead_letters)", (cutoff,)).rowcount

    def stats(self) -> BusStats:
        with self._lock:
            db = self._db
            events = db.execute("SELECT count(*) FROM events").fetchone()[0]
            rules = db.execute("SELECT count(*) FROM rules").fetchone()[0]
            pending = db.execute("SELECT count(*) FROM deliveries").fetchone()[0]
            dead = db.execute("SELECT count(*) FROM dead_letters").fetchone()[0]
            row = db.execute("SELECT value FROM meta WHERE key = 'delivered'").fetchone()
        return BusStats(events, rules, pending, dead, int(row[0]) if row else 0)

    # ------------------------------------------------------------------------------------------- lifetime

    def close(self) -> None:
        """Stop this handle's deliverers, close its connections. Queued deliveries stay in the file."""
        failures = []
        for deliverer in self._deliverers:
            try:
                deliverer.stop()
            except Exception as exc:  # raised below, once the file is closed
                failures.append(exc)
        self._deliverers.clear()
        self._senders.close()
        with self._lock:
            self._db.close()
        if failures:
            raise failures[0]

    def __enter__(self) -> LocalBus:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _error(failure: SendFailure) -> str:
    return f"{failure.code}: {failure.message}"
