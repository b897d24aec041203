"""Deliver what the local bus has queued, to the end or to a deadline, with a progress bar, and account for it:
the shared last step of ``eventdeck run``, ``replay`` and ``dlq redrive``.

The rules ``run`` writes use a short retry policy (a local consumer that fails keeps failing within seconds), so a
command ends promptly: every delivery is made, dead-lettered, or still waiting at the deadline (``--wait``), which
the summary reports as pending; the next command on the same state folder resumes it.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Final

from pipeline.bus.local import DeadLetter, DeliveryReport, HttpTarget, LocalBus, RetryPolicy
from pipeline.consumer.http_server import ConsumerServer
from portal.cli.local_state import CONSUMER_RULE
from portal.cli.progress import Progress
from portal.cli.run_summary import ConsumerFigures, RunSummary

#: The retry policy of the rules ``run`` writes: EventBridge's shortest event age, five retries within ~5 s.
LOCAL_RETRY: Final = RetryPolicy(maximum_event_age_s=60, maximum_retry_attempts=5, base_delay_s=0.2, max_delay_s=2.0)
#: How long the local consumer may take to answer. It runs in the command's own process, so on a busy machine an
#: answer can wait seconds for the CPU; a time-out would send the event again while the first delivery is still
#: being handled (a 409 from the de-duplication store), so wait as long as a target may (60 s at most).
CONSUMER_TIMEOUT_S: Final = 30.0


def consumer_target(url: str) -> HttpTarget:
    """The target of the consumer rule: the local consumer at ``url``."""
    return HttpTarget(url, id="consumer", retry=LOCAL_RETRY, timeout_s=CONSUMER_TIMEOUT_S)
DEFAULT_WAIT_S: Final = 30.0


@dataclass
class Delivery:
    """What one command delivered: the bus's totals and the dead letters it added."""

    report: DeliveryReport = field(default_factory=DeliveryReport)
    dead_letters: list[DeadLetter] = field(default_factory=list)


def last_dead_letter(bus: LocalBus) -> int:
    """The id of the newest dead letter (0: none), to tell this command's dead letters from older ones."""
    letters = bus.dead_letters()
    return letters[-1].id if letters else 0


def deliver(bus: LocalBus, *, wait_s: float, after_dead_letter: int, label: str = "delivered") -> Delivery:
    """Deliver until nothing is queued or ``wait_s`` has passed; sleeping until each retry falls due."""
    deadline = time.monotonic() + wait_s
    total = DeliveryReport()
    queued = bus.stats().pending
    with Progress(label) as progress:
        while True:
            total = total + bus.deliver_pending()
            progress.update(total.delivered + total.dead_lettered, max(queued, total.delivered + total.waiting))
            if total.next_due is None or total.waiting <= total.detached:
                break
            left = deadline - time.monotonic()
            if left <= 0:
                break
            time.sleep(max(0.0, min(total.next_due - bus.now(), left, 0.5)))
    letters = [d for d in bus.dead_letters() if d.id > after_dead_letter]  # reported after the bar is gone
    return Delivery(total, letters)


def account(summary: RunSummary, delivery: Delivery, consumer: ConsumerServer | None) -> None:
    """Add ``delivery`` and the consumer's figures to ``summary``; report each dead letter on stderr."""
    summary.delivered += delivery.report.delivered
    summary.pending = delivery.report.waiting
    summary.dead_lettered += len(delivery.dead_letters)
    reasons: Counter[str] = Counter()
    for letter in delivery.dead_letters:
        reasons[letter.code + (f" ({letter.condition})" if letter.condition else "")] += 1
        print(f"eventdeck: dead-lettered: {describe(letter)}", file=sys.stderr)
    summary.dead_lettered_by_reason.update(reasons)
    if consumer is not None:
        stats = consumer.stats
        summary.consumer = ConsumerFigures(consumer.url, len(stats.opened), stats.duplicates, Counter(stats.rejected))


def describe(letter: DeadLetter) -> str:
    """One line for a dead letter: its number, the CloudEvent id and type it carried, where to, and why."""
    detail = letter.event.get("detail")
    cloud_id = detail.get("id") if isinstance(detail, dict) else None
    kind = letter.event.get("detail-type")
    about = f"event {cloud_id} ({kind})" if cloud_id else f"bus event {letter.event_id}"
    where = "the local consumer" if letter.rule == CONSUMER_RULE else f"rule {letter.rule} target {letter.target}"
    return f"#{letter.id} {about} to {where}: {letter.reason}"
