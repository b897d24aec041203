#!/usr/bin/env python3
"""Entries per second the EventBridge adapter puts on a bus in moto (server mode, its own process, 127.0.0.1).

    .venv/bin/python scripts/bench_eventbridge.py            # ~20 s
    .venv/bin/python scripts/bench_eventbridge.py --quick    # a smoke check

Sealed-size entries (a ~1.6 KB ``Detail``, what an HS256 → dir+A256GCM+DEF event weighs) go through
:class:`~pipeline.bus.eventbridge.EventBridgeBus` — local checks, batches of 10, per-entry results — and, for
comparison, through bare ``client.put_events`` batches of 10 with the same client (the adapter's own cost is the
difference), on a bus with no rule: moto delivering to an SQS target slows down as the queue grows (to ~10
entries/s after a few thousand messages), which would measure moto's SQS, not the adapter. moto is an emulator in
Python: these figures say what the adapter costs and that it keeps the emulator busy, not what EventBridge does
(its default quota in eu-west-1 is 10,000 PutEvents calls per second, each of up to 10 entries).

``measure()`` returns the figures as a dict; ``scripts/bench_bus.py`` imports it.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.bus.eventbridge import EventBridgeBus, eventbridge_client  # noqa: E402
from pipeline.bus.port import Accepted  # noqa: E402

REGION = "eu-west-1"
SOURCE = "com.example.bench"
DETAIL_BYTES = 1600


@contextmanager
def moto_server() -> Iterator[str]:
    """moto's server in its own process on a free loopback port (so it does not share the client's GIL)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{url}/moto-api/", timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("moto server did not start") from None
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _session() -> Any:
    import boto3

    return boto3.session.Session(aws_access_key_id="bench", aws_secret_access_key="bench", region_name=REGION)


def _entries(bus: str, count: int) -> list[dict[str, Any]]:
    pad = "x" * (DETAIL_BYTES - 40)
    return [{"Source": SOURCE, "DetailType": "Bench.Event", "EventBusName": bus,
             "Detail": json.dumps({"n": n, "token": pad})} for n in range(count)]


def _rate(count: int, run: Any) -> float:
    started = time.perf_counter()
    run()
    return count / (time.perf_counter() - started)


def measure(*, quick: bool = False) -> dict[str, float]:
    """The adapter's and bare boto3's entries/s against moto (a bus without rules), and the adapter's own cost."""
    count = 300 if quick else 2000
    results: dict[str, float] = {}
    with moto_server() as url:
        session = _session()
        client = eventbridge_client(endpoint_url=url, session=session)
        session.client("events", endpoint_url=url).create_event_bus(Name="bench")
        entries = _entries("bench", count)
        adapter = EventBridgeBus(client)
        adapter.put_events(entries[:20])  # warm the connection pool and moto's code paths

        def through_adapter() -> None:
            answers = adapter.put_events(entries)
            assert all(isinstance(a, Accepted) for a in answers), "the bench expects every entry accepted"

        def through_boto3() -> None:
            for start in range(0, len(entries), 10):
                client.put_events(Entries=entries[start:start + 10])

        results["adapter entries/s"] = _rate(count, through_adapter)
        results["boto3 put_events entries/s"] = _rate(count, through_boto3)
        checks = 20_000 if not quick else 2_000  # the local work per entry, no network: size, fields, batching
        offline = EventBridgeBus(eventbridge_client(endpoint_url="http://127.0.0.1:9", session=session))
        sample = entries[:1] * checks
        started = time.perf_counter()
        for entry in sample:
            offline._refusal(entry)
        offline._batches(list(range(checks)), {i: (sample[i], 1650) for i in range(checks)})
        results["adapter local checks, us/entry"] = (time.perf_counter() - started) / checks * 1e6
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer entries, for a smoke check")
    args = parser.parse_args()
    print(f"EventBridge adapter against moto server (127.0.0.1, its own process), {DETAIL_BYTES} B details, "
          f"cpus={os.cpu_count()}")
    for name, value in measure(quick=args.quick).items():
        print(f"  {name:<34} {value:>10,.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
