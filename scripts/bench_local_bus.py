#!/usr/bin/env python3
"""Throughput of the embedded local bus (pipeline.bus.local), as the issue's targets state them.

    .venv/bin/python scripts/bench_local_bus.py            # ~30 s
    .venv/bin/python scripts/bench_local_bus.py --quick    # smaller runs, a smoke check

Prints events/s for:

* ``accepted_batched_full``: ``put_events`` of 100 entries per call, durability ``full`` (one synced WAL commit per
  call: survives power loss); target >= 5,000/s on one core. ``accepted_batch10_full`` is the same with
  EventBridge's 10 entries per call, where the disk's sync latency dominates;
* ``accepted_one_by_one_full`` / ``accepted_one_by_one_process``: one entry per call, synced (``full``) or only
  crash-safe against kill -9 (``process``, SQLite ``synchronous=NORMAL``);
* ``delivered_http``: events delivered to a local HTTP consumer (a separate process on 127.0.0.1, keep-alive)
  from the bus file, each recorded delivered (target >= 2,000/s).

Entries carry a ~1.6 KB Detail (the size of a sealed CloudEvent) and every event matches one rule. The
putting process is pinned to one CPU (the consumer to the other, when there is one). Numbers depend on the disk
(``full`` is bound by fsync latency) and on what else runs: treat differences under ~30 % as noise.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.bus.local import HttpTarget, LocalBus  # noqa: E402


def _entries(count: int) -> list[dict[str, Any]]:
    token = "e" * 1400  # a sealed token's worth of text
    return [{"Source": "com.retailer.payments", "DetailType": "Payment.Authorised.Ecom",
             "Time": "2026-01-01T00:00:00Z",
             "Detail": json.dumps({"specversion": "1.0", "id": f"01JBENCH{n:018d}", "type": "Payment.Authorised.Ecom",
                                   "source": "com.retailer.payments",
                                   "idempotencykey": hashlib.md5(str(n).encode()).hexdigest(),
                                   "datacontenttype": "application/jwt", "data": token})}
            for n in range(count)]


def _pin(cpu: int) -> None:
    if hasattr(os, "sched_setaffinity") and cpu < (os.cpu_count() or 1):
        os.sched_setaffinity(0, {cpu})


def _accept_rate(folder: Path, *, count: int, batch: int, durability: str) -> tuple[float, float]:
    path = folder / f"accept-{batch}-{durability}.db"
    with LocalBus.open(path, durability=durability) as bus:  # type: ignore[arg-type]
        bus.put_rule("all", {"source": ["com.retailer.payments"]}, [HttpTarget("http://127.0.0.1:9/unused")])
        entries = _entries(count)
        started, cpu = time.perf_counter(), time.process_time()
        for start in range(0, count, batch):
            bus.put_events(entries[start:start + batch])
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        assert bus.stats().events == count
    return count / elapsed, count / cpu


def _start_consumer() -> tuple[subprocess.Popen[bytes], str]:
    port_file = Path(tempfile.mkdtemp()) / "port"
    process = subprocess.Popen([sys.executable, __file__, "--consumer", str(port_file)])
    deadline = time.monotonic() + 30
    while not port_file.exists():
        if time.monotonic() > deadline or process.poll() is not None:
            process.kill()
            raise RuntimeError("the benchmark's HTTP consumer did not start")
        time.sleep(0.02)
    return process, port_file.read_text()


def _deliver_rate(folder: Path, *, count: int) -> tuple[float, float]:
    consumer, url = _start_consumer()
    try:
        with LocalBus.open(folder / "deliver.db", durability="full") as bus:
            bus.put_rule("to-consumer", {"source": ["com.retailer.payments"]}, [HttpTarget(url)])
            entries = _entries(count)
            for start in range(0, count, 500):
                bus.put_events(entries[start:start + 500])
            started, cpu = time.perf_counter(), time.process_time()
            report = bus.drain(limit=500)
            elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
            if report.delivered != count or bus.stats().pending:
                raise RuntimeError(f"delivered {report.delivered} of {count}: {bus.dead_letters(limit=1)}")
    finally:
        consumer.terminate()
        consumer.wait()
    return count / elapsed, count / cpu


def measure(*, quick: bool = False) -> dict[str, float]:
    """Events per second of the local bus: accepted (batched and one by one, durable) and delivered over HTTP.

    Each figure is wall-clock events/s; the ``…_cpu`` twin divides by the CPU time the bus's process used instead
    (what one idle core would reach if the disk's sync latency were zero), which stays meaningful on a busy
    machine."""
    scale = 0.2 if quick else 1.0
    _pin(0)
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        runs = {
            "accepted_batched_full": lambda: _accept_rate(folder, count=int(20_000 * scale), batch=100,
                                                          durability="full"),
            "accepted_batch10_full": lambda: _accept_rate(folder, count=int(4_000 * scale), batch=10,
                                                          durability="full"),
            "accepted_one_by_one_full": lambda: _accept_rate(folder, count=int(600 * scale), batch=1,
                                                             durability="full"),
            "accepted_one_by_one_process": lambda: _accept_rate(folder, count=int(5_000 * scale), batch=1,
                                                                durability="process"),
            "delivered_http": lambda: _deliver_rate(folder, count=int(10_000 * scale)),
        }
        for name, run in runs.items():
            figures[name], figures[f"{name}_cpu"] = run()
    return figures


def _consume(port_file: str) -> None:
    """The HTTP consumer: answers 200 to every POST, keep-alive, on 127.0.0.1 (a process of its own)."""
    _pin(1)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            self.send_response_only(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    Path(port_file + ".tmp").write_text(f"http://127.0.0.1:{server.server_address[1]}/events")
    os.replace(port_file + ".tmp", port_file)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    threading.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller runs, a smoke check")
    parser.add_argument("--consumer", metavar="PORT_FILE", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.consumer:
        _consume(args.consumer)
        return
    targets = {"accepted_batched_full": 5_000, "delivered_http": 2_000}
    for name, rate in measure(quick=args.quick).items():
        goal = f"   (target >= {targets[name]:,})" if name in targets else ""
        print(f"{name:30} {rate:>10,.0f} events/s{goal}")


if __name__ == "__main__":
    main()
