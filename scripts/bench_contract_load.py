"""Benchmark contract loading on synthetic catalogues: the fast YAML reader against the checking one.

For each catalogue (realistic at 1,000 and 5,000 events, and the small shape at 1,000 for comparison), in a fresh
process per figure: the time to read every file (``parse_text``, one process, the reading alone), and the time
and peak RSS of a whole cold ``ContractLoader.load`` (reading, ``$ref``s, validation; workers forked as the loader
does by default). "old" runs with ``pipeline.contract.source.FAST_PATH`` off (every document through the
node-graph reader, as before), "new" with it on; "no GC" is "new" with Python's cyclic garbage collector off for
the whole process (the loader itself pauses it while it loads, so this should be close to "new"). "CPU" is
the processor time of a whole figure, forked workers included: on a shared machine it moves less than the wall
clock. Prints figures; asserts nothing (the machine is shared and noisy).

    .venv/bin/python scripts/bench_contract_load.py                  # 1000 and 5000 realistic, 1000 small
    .venv/bin/python scripts/bench_contract_load.py --sizes 1000 --runs 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from synthetic_catalogue import EVENTS_PER_DOCUMENT, documents_for, write_catalogue  # noqa: E402

CHILD = r"""
import gc, json, resource, sys, time
from pathlib import Path
from pipeline.contract import ContractLoader, source
source.FAST_PATH = sys.argv[1] != "old"
if sys.argv[1] == "nogc":
    gc.disable()
mode, folder = sys.argv[2], Path(sys.argv[3])
def cpu():
    return sum(u.ru_utime + u.ru_stime for u in map(resource.getrusage, (resource.RUSAGE_SELF,
                                                                        resource.RUSAGE_CHILDREN)))
cpu0 = cpu()
if mode == "parse":
    files = sorted(p for p in folder.rglob("*.yaml"))
    texts = [(p.read_text("utf-8"), str(p)) for p in files]
    t0 = time.perf_counter()
    for text, uri in texts:
        source.parse_text(text, uri)
    elapsed = time.perf_counter() - t0
    events = None
else:
    t0 = time.perf_counter()
    catalogue = ContractLoader().load([folder])
    elapsed = time.perf_counter() - t0
    events = len(catalogue.events)
    if catalogue.errors:
        raise SystemExit(f"{len(catalogue.errors)} errors in the synthetic catalogue: {catalogue.errors[0]}")
cpu_seconds = cpu() - cpu0
usage = [resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
print(json.dumps({"seconds": elapsed, "cpu": cpu_seconds, "peak_mb": max(usage) / 1024, "events": events}))
"""


def measure(path: str, mode: str, folder: Path) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", CHILD, path, mode, str(folder)], capture_output=True, text=True,
                         env=env, cwd=ROOT)
    if out.returncode:
        raise SystemExit(f"benchmark child failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def median_of(runs: int, path: str, mode: str, folder: Path) -> dict:
    figures = [measure(path, mode, folder) for _ in range(runs)]
    return {"seconds": statistics.median(f["seconds"] for f in figures),
            "cpu": statistics.median(f["cpu"] for f in figures),
            "peak_mb": statistics.median(f["peak_mb"] for f in figures), "events": figures[0]["events"]}


def size_of(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*.yaml"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,5000", help="realistic catalogue sizes in events (comma-separated)")
    parser.add_argument("--small", type=int, default=1000, help="events of the small catalogue (0: none)")
    parser.add_argument("--runs", type=int, default=1, help="runs per figure (the median is printed)")
    parser.add_argument("--parse-only", action="store_true", help="only the reading, not the whole load")
    args = parser.parse_args()
    catalogues = [(f"realistic {int(n):,}", int(n), True) for n in args.sizes.split(",") if n.strip()]
    if args.small:
        catalogues.append((f"small {args.small:,}", args.small, False))
    print(f"contract loading, {os.cpu_count()} CPUs, {args.runs} run(s) per figure (median); old = node-graph "
          "reader for every file, new = fast reader first")
    print(f"{'catalogue':<16} {'YAML':>8} {'KB/event':>8} {'what':<6} {'old s':>8} {'new s':>8} {'speed-up':>8} "
          f"{'old MB':>7} {'new MB':>7} {'no GC s':>8} {'old CPU':>8} {'new CPU':>8}")
    with tempfile.TemporaryDirectory(prefix="eventdeck-bench-load-") as tmp:
        for label, events, realistic in catalogues:
            folder = Path(tmp) / label.replace(" ", "-").replace(",", "")
            write_catalogue(folder, documents_for(events), EVENTS_PER_DOCUMENT, realistic=realistic)
            size = size_of(folder)
            for mode in ("parse",) if args.parse_only else ("parse", "load"):
                old = median_of(args.runs, "old", mode, folder)
                new = median_of(args.runs, "new", mode, folder)
                nogc = f"{median_of(args.runs, 'nogc', mode, folder)['seconds']:>8.2f}" if mode == "load" else \
                    f"{'':>8}"
                print(f"{label:<16} {size / 1e6:>6.1f}MB {size / events / 1024:>8.1f} {mode:<6} "
                      f"{old['seconds']:>8.2f} {new['seconds']:>8.2f} {old['seconds'] / new['seconds']:>7.2f}x "
                      f"{old['peak_mb']:>7.0f} {new['peak_mb']:>7.0f} {nogc} {old['cpu']:>8.2f} {new['cpu']:>8.2f}",
                      flush=True)


if __name__ == "__main__":
    main()
