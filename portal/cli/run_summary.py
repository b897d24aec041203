"""What ``eventdeck run``, ``replay`` and ``dlq redrive`` report at the end: counts, failures by stage and reason,
as text for people or JSON for machines (one object, schema below), and the exit code they imply.

JSON (``--format json``), every key always present::

    {"command": "run", "state": ".eventdeck", "bus": ".eventdeck/bus.sqlite",
     "read": 22, "unreadable": 0, "unrouted": 0, "published": 24, "failed": 0,
     "failed_by_stage": {"validate": 1},              # input, route, enrich, validate, seal, size, publish
     "delivered": 24, "dead_lettered": 0, "pending": 0,
     "dead_lettered_by_reason": {"HTTP 400": 1},
     "consumer": {"url": "http://127.0.0.1:PORT/events", "opened": 24, "duplicates": 0,
                  "rejected_by_reason": {}},           # null when no consumer was started
     "exit_code": 0}
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

#: The exit codes of ``run``, ``replay`` and ``dlq``: documented in each command's ``--help``.
EXIT_OK = 0
EXIT_FAILED = 1  # something failed, was dead-lettered or is still pending
EXIT_USAGE = 2  # bad options or paths (argparse's own code for usage errors)

EXIT_CODES_HELP = ("exit codes: 0 every event was published and delivered; 1 an event could not be read, failed "
                   "in the pipeline, was refused by the bus, dead-lettered or left undelivered; 2 bad options or "
                   "paths (nothing was run)")


@dataclass
class ConsumerFigures:
    url: str
    opened: int = 0
    duplicates: int = 0
    rejected_by_reason: Counter[str] = field(default_factory=Counter)


@dataclass
class RunSummary:
    """The counts of one command; ``delivered`` and ``dead_lettered`` count deliveries (an event and a target)."""

    command: str
    state: str
    bus: str
    read: int = 0
    unreadable: int = 0
    unrouted: int = 0
    published: int = 0
    failed_by_stage: Counter[str] = field(default_factory=Counter)
    delivered: int = 0
    dead_lettered: int = 0
    pending: int = 0
    dead_lettered_by_reason: Counter[str] = field(default_factory=Counter)
    consumer: ConsumerFigures | None = None

    @property
    def failed(self) -> int:
        return sum(self.failed_by_stage.values())

    @property
    def exit_code(self) -> int:
        bad = self.unreadable or self.failed or self.dead_lettered or self.pending
        return EXIT_FAILED if bad else EXIT_OK

    def as_json(self) -> dict[str, Any]:
        consumer = None if self.consumer is None else {
            "url": self.consumer.url, "opened": self.consumer.opened, "duplicates": self.consumer.duplicates,
            "rejected_by_reason": dict(sorted(self.consumer.rejected_by_reason.items()))}
        return {"command": self.command, "state": self.state, "bus": self.bus, "read": self.read,
                "unreadable": self.unreadable, "unrouted": self.unrouted, "published": self.published,
                "failed": self.failed, "failed_by_stage": dict(sorted(self.failed_by_stage.items())),
                "delivered": self.delivered, "dead_lettered": self.dead_lettered, "pending": self.pending,
                "dead_lettered_by_reason": dict(sorted(self.dead_lettered_by_reason.items())),
                "consumer": consumer, "exit_code": self.exit_code}

    def as_text(self) -> str:
        lines = []
        if self.command == "run":
            read = f"{self.read} internal event(s) read"
            if self.unreadable:
                read += f", {self.unreadable} unreadable"
            if self.unrouted:
                read += f", {self.unrouted} unrouted (no message is made from them)"
            lines.append(read)
            failed = f", {self.failed} failed ({_by(self.failed_by_stage)})" if self.failed else ""
            onto = self.bus if self.bus.startswith("eventbridge ") else f"the local bus {self.bus}"
            lines.append(f"{self.published} published onto {onto}{failed}")
            if self.bus.startswith("eventbridge "):  # delivery is EventBridge's: its rules and targets
                mark = "✓" if self.exit_code == EXIT_OK else "✗"
                return "\n".join(f"{mark if i == 0 else ' '} {line}" for i, line in enumerate(lines))
        delivered = f"{self.delivered} delivered"
        if self.dead_lettered:
            delivered += (f", {self.dead_lettered} dead-lettered ({_by(self.dead_lettered_by_reason)}; see "
                          f"`eventdeck dlq list --state {self.state}`)")
        if self.pending:
            delivered += f", {self.pending} still pending (delivery resumes on the next run)"
        lines.append(delivered)
        if self.consumer is not None:
            consumer = (f"consumer {self.consumer.url}: {self.consumer.opened} opened (verified, decrypted, "
                        f"validated), {self.consumer.duplicates} duplicate(s) dropped")
            if self.consumer.rejected_by_reason:
                consumer += f", rejected: {_by(self.consumer.rejected_by_reason)}"
            lines.append(consumer)
        mark = "✓" if self.exit_code == EXIT_OK else "✗"
        return "\n".join(f"{mark if i == 0 else ' '} {line}" for i, line in enumerate(lines))

    def render(self, form: str) -> str:
        return json.dumps(self.as_json(), ensure_ascii=False) if form == "json" else self.as_text()


def _by(counts: Counter[str]) -> str:
    return ", ".join(f"{reason} {n}" for reason, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
