"""A process that puts events on a local bus and delivers them to an HTTP target, until it is killed.

``python tests/local_bus_child.py BUS_FILE URL COUNT``: creates the rule, starts background delivery, puts COUNT
events in batches of 10 and prints each accepted event id (flushed) as it goes, then keeps delivering forever.
tests/test_local_bus_crash.py kills it with SIGKILL mid-delivery and restarts delivery from the file."""

from __future__ import annotations

import json
import sys
import threading

from pipeline.bus.local import HttpTarget, LocalBus, RetryPolicy


def main(path: str, url: str, count: int) -> None:
    bus = LocalBus.open(path, concurrency=2)
    bus.put_rule("to-sink", {"source": ["com.example.crash"]}, [HttpTarget(url)],
                 retry=RetryPolicy(base_delay_s=0.05, max_delay_s=0.2))
    deliverer = bus.deliverer(poll_s=0.05).start()
    for start in range(0, count, 10):
        entries = [{"Source": "com.example.crash", "DetailType": "Crash.Test",
                    "Detail": json.dumps({"n": n})} for n in range(start, min(start + 10, count))]
        for result in bus.put_events(entries):
            print(result.event_id, flush=True)  # type: ignore[union-attr]
    print("all-accepted", flush=True)
    threading.Event().wait()
    deliverer.stop()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
