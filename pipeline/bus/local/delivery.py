"""Delivery policy: what happens to one delivery after a try (delivered, retried later, dead-lettered), and the
background :class:`Deliverer` that keeps a bus delivering.

The decision follows EventBridge's target retry policy: a failure the target calls final is dead-lettered at once;
a retryable one is tried again after an exponential, jittered back-off until the policy's attempts or event age run
out, then dead-lettered with the condition that ended it (``MaximumRetryAttemptsExceeded`` or
``MaximumEventAgeExceeded``, the names EventBridge puts in a DLQ message's ``EXHAUSTED_RETRY_CONDITION``).
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from pipeline.bus.local.retry import RetryPolicy
from pipeline.bus.local.senders import SendFailure

if TYPE_CHECKING:
    from pipeline.bus.local.bus import LocalBus

__all__ = ["AGE_EXCEEDED", "ATTEMPTS_EXCEEDED", "Deliverer", "DeliveryReport", "Retry", "Verdict", "verdict"]

ATTEMPTS_EXCEEDED: Final = "MaximumRetryAttemptsExceeded"
AGE_EXCEEDED: Final = "MaximumEventAgeExceeded"


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """What one round of delivery did. ``next_due`` is when (epoch seconds) the earliest delivery still waiting
    falls due, ``None`` when none waits; ``waiting`` counts deliveries left, ``detached`` those waiting for a
    callable no one attached in this process."""

    delivered: int = 0
    retried: int = 0
    dead_lettered: int = 0
    waiting: int = 0
    detached: int = 0
    next_due: float | None = None

    def __add__(self, other: DeliveryReport) -> DeliveryReport:
        return DeliveryReport(self.delivered + other.delivered, self.retried + other.retried,
                              self.dead_lettered + other.dead_lettered, other.waiting, other.detached,
                              other.next_due)


@dataclass(frozen=True, slots=True)
class Retry:
    """Try again at ``due_ms``."""

    due_ms: int


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """Give up: the failure and the retry condition that ended it (``None`` for a final failure)."""

    failure: SendFailure
    condition: str | None


Verdict = Retry | DeadLetter


def verdict(failure: SendFailure, *, attempts: int, since_ms: int, now_ms: int, policy: RetryPolicy,
            rng: random.Random) -> Verdict:
    """Decide after a failed try; ``attempts`` counts the tries so far, this one included."""
    if not failure.retryable:
        return DeadLetter(failure, None)
    if attempts > policy.maximum_retry_attempts:
        return DeadLetter(failure, ATTEMPTS_EXCEEDED)
    due_ms = now_ms + int(policy.delay_s(attempts, rng) * 1000)
    if due_ms - since_ms > policy.maximum_event_age_s * 1000:
        return DeadLetter(failure, AGE_EXCEEDED)
    return Retry(due_ms)


class Deliverer:
    """Delivers a bus's pending events on a background thread until :meth:`stop`.

    It sleeps until the next delivery falls due (at most ``poll_s``, so events put by other processes are seen),
    and wakes at once on :meth:`wake` (``put_events`` on the same handle calls it). Each round delivers at most
    ``batch`` events and records them in one transaction: a crash repeats at most one round's deliveries."""

    def __init__(self, bus: LocalBus, *, poll_s: float = 0.2, batch: int = 200) -> None:
        self._bus = bus
        self._poll_s = poll_s
        self._batch = batch
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self.report = DeliveryReport()
        self.error: BaseException | None = None

    def start(self) -> Deliverer:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name=f"eventdeck-deliver-{self._bus.name}",
                                            daemon=True)
            self._thread.start()
        return self

    def wake(self) -> None:
        self._wake.set()

    def stop(self, *, drain: bool = False, timeout_s: float | None = None) -> DeliveryReport:
        """Stop the thread (after delivering everything due, when ``drain``); returns the totals delivered."""
        if self._thread is not None:
            if drain:
                self._draining = True
            self._stop.set()
            self._wake.set()
            self._thread.join(timeout_s)
            self._thread = None
        if self.error is not None:
            raise self.error
        return self.report

    _draining = False

    def _run(self) -> None:
        try:
            while True:
                round_ = self._bus.deliver_pending(limit=self._batch)
                self.report = self.report + round_
                busy = round_.delivered or round_.retried or round_.dead_lettered
                if self._stop.is_set() and not (self._draining and busy):
                    return
                if busy:
                    continue
                wait = self._poll_s
                if round_.next_due is not None:
                    wait = max(0.0, min(wait, round_.next_due - self._bus.now()))
                self._wake.wait(wait)
                self._wake.clear()
        except BaseException as exc:  # kept for stop() to raise in the caller's thread
            self.error = exc

    def __enter__(self) -> Deliverer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
