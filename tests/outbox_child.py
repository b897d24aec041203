"""A producer process with an outbox, killed (SIGKILL, by itself, at a chosen point) for the crash tests.

``python tests/outbox_child.py OUTBOX BUS COUNT MODE``: COUNT CloudEvent-shaped entries (fixed ids and idempotency
keys, as the producer seals them) go through the outbox at OUTBOX onto the local bus at BUS. MODE:

* ``kill-after-add`` — store every entry, then die before publishing;
* ``kill-after-put`` — publish in batches of 10; die right after the bus accepted the third batch, before the
  outbox records it;
* ``publish`` — (the restart) add the same entries again (a re-run producer) and publish everything pending.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from pipeline.bus.local import LocalBus
from pipeline.bus.port import EntryResult
from pipeline.outbox import Outbox


def entries(count: int) -> list[dict[str, Any]]:
    return [{"Source": "com.example.outbox", "DetailType": "Outbox.Test", "Time": "2026-01-01T00:00:00Z",
             "Detail": json.dumps({"specversion": "1.0", "id": f"01JOUTBOX{n:017d}", "source": "com.example.outbox",
                                   "type": "Outbox.Test", "idempotencykey": f"key-{n:05d}", "data": {"n": n}})}
            for n in range(count)]


class DyingBus:
    """The local bus, but the process dies (SIGKILL) right after the ``die_after``-th batch was accepted."""

    def __init__(self, bus: LocalBus, die_after: int) -> None:
        self.name = bus.name
        self._bus = bus
        self._calls = 0
        self._die_after = die_after

    def put_events(self, batch: Sequence[Mapping[str, Any]]) -> list[EntryResult]:
        results = self._bus.put_events(batch)
        self._calls += 1
        if self._calls == self._die_after:
            os.kill(os.getpid(), signal.SIGKILL)
        return results


def main(outbox_path: str, bus_path: str, count: int, mode: str) -> None:
    outbox = Outbox.open(outbox_path)
    bus = LocalBus.open(bus_path)
    outbox.add(entries(count))
    if mode == "kill-after-add":
        os.kill(os.getpid(), signal.SIGKILL)
    elif mode == "kill-after-put":
        outbox.publish(DyingBus(bus, 3), batch=10)
    else:
        report = outbox.publish(bus, batch=10)
        print(json.dumps({"sent": report.sent, "failed": report.failed}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4])
