"""Benchmark the memory a loaded contract model holds: what ``ContractLoader.load`` leaves in the main process.

For realistic synthetic catalogues (1,000 and 5,000 events; 10,000 with ``--large``), each in a fresh process: the
growth of the resident set (RSS) from just before to just after a cold ``load`` (a small catalogue is loaded first,
so the modules and caches every load needs are already there), in MB and MB per 1,000 events; the load time; the
peak RSS of the forked workers; and what holds the memory: every object reachable from the catalogue and the
loader, counted once, by what it belongs to (payload schemas, examples, the loader's cache of prepared documents,
its cache of parsed files...) and by type. "forked" loads as ``mkdocs build`` does (workers forked, results sent
back); "in-process" loads in one process, as happens with one core or when threads run (``mkdocs serve``).

``--trace`` adds, for the first size, the top allocation sites (``tracemalloc``, file and line) of an in-process
load: where the memory was allocated, not only what holds it (slow: tracing costs several times the load).

Prints figures; asserts nothing (the machine is shared and noisy).

    .venv/bin/python scripts/bench_contract_memory.py                 # 1,000 and 5,000 events
    .venv/bin/python scripts/bench_contract_memory.py --sizes 1000 --trace
    .venv/bin/python scripts/bench_contract_memory.py --large          # and 10,000
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from synthetic_catalogue import EVENTS_PER_DOCUMENT, documents_for, write_catalogue  # noqa: E402

CHILD = r"""
import gc, json, resource, sys, time, tracemalloc
from collections import Counter
from pathlib import Path
from pipeline.contract import ContractLoader

mode, folder, warm, top = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4])

def rss_mb():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0

workers = 1 if mode in ("in-process", "trace") else None
ContractLoader(workers=workers).load([warm])  # modules, compiled validators, parser caches: not the catalogue's
gc.collect()
before = rss_mb()
if mode == "trace":
    tracemalloc.start(1)
loader = ContractLoader(workers=workers)
t0 = time.perf_counter()
catalogue = loader.load([folder])
seconds = time.perf_counter() - t0
if catalogue.errors:
    raise SystemExit(f"{len(catalogue.errors)} errors in the synthetic catalogue: {catalogue.errors[0]}")
gc.collect()
after = rss_mb()
result = {"seconds": seconds, "before": before, "after": after, "events": len(catalogue.events),
          "workers_peak": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}
if mode == "trace":
    snapshot = tracemalloc.take_snapshot()
    tracemalloc.stop()
    result["sites"] = [(str(s.traceback[0]).replace(str(Path.cwd()) + "/", ""), s.size, s.count)
                       for s in snapshot.statistics("lineno")[:top]]
else:
    # Every object reachable from the model and the loader, counted once, under the first part that reaches it.
    seen = set()
    by_part = Counter()
    by_type = Counter()
    counts = Counter()
    strings = Counter()
    def walk(obj, part):
        stack = [obj]
        while stack:
            o = stack.pop()
            if o is None or o is True or o is False or isinstance(o, type) or id(o) in seen:
                continue
            seen.add(id(o))
            size = sys.getsizeof(o)
            kind = type(o).__name__
            by_part[part] += size
            by_type[(part, kind)] += size
            counts[(part, kind)] += 1
            if kind == "str":
                strings[o] += 1
            if isinstance(o, dict):
                stack.extend(o.keys())
                stack.extend(o.values())
            elif isinstance(o, (list, tuple, set, frozenset)):
                stack.extend(o)
            elif not isinstance(o, (str, bytes, int, float)):
                if hasattr(o, "__dict__"):
                    stack.append(o.__dict__)
                for cls in type(o).__mro__:
                    slots = getattr(cls, "__slots__", ())
                    for name in (slots,) if isinstance(slots, str) else slots:
                        if hasattr(o, name):
                            stack.append(getattr(o, name))
    for event in catalogue.events:
        walk(event.payload, "payload schemas")
        walk(event.headers, "headers schemas")
        walk(event.examples, "examples")
        walk(event.extensions, "message extensions")
        walk(event.operations, "operations")
        walk(event.location, "locations")
        walk(event, "events (the rest)")
    for document in catalogue.documents:
        walk(document.diagnostics, "diagnostics")
        walk(document, "documents (the rest)")
    walk(catalogue, "catalogue (the rest)")
    walk(loader._prepared, "loader: prepared documents")
    walk(loader.sources, "loader: parsed files")
    result["parts"] = by_part.most_common()
    result["types"] = [(part, kind, size, counts[(part, kind)]) for (part, kind), size in by_type.most_common(top)]
    result["strings"] = [len(strings), sum(strings.values()),
                         sum(sys.getsizeof(s) * (n - 1) for s, n in strings.items())]
print(json.dumps(result))
"""


def measure(mode: str, folder: Path, warm: Path, top: int) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", CHILD, mode, str(folder), str(warm), str(top)], capture_output=True,
                         text=True, env=env, cwd=ROOT)
    if out.returncode:
        raise SystemExit(f"benchmark child failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def report(label: str, events: int, mode: str, figures: dict, top: int) -> None:
    grown = figures["after"] - figures["before"]
    print(f"\n{label}, {mode}: load {figures['seconds']:.2f} s; RSS {figures['before']:.0f} -> "
          f"{figures['after']:.0f} MB: +{grown:.0f} MB = {grown / events * 1000:.1f} MB per 1,000 events"
          + (f"; forked workers' peak {figures['workers_peak']:.0f} MB" if mode == "forked" else ""), flush=True)
    if "parts" in figures:
        total = sum(size for _, size in figures["parts"])
        print(f"  reachable from the model and the loader: {total / 1e6:.1f} MB "
              f"({total / events * 1000 / 1e6:.1f} MB per 1,000 events)")
        for part, size in figures["parts"]:
            if size >= total / 200:
                print(f"    {part:<30} {size / 1e6:8.1f} MB")
        print("  by part and type:")
        for part, kind, size, count in figures["types"][:top]:
            print(f"    {part:<30} {kind:<12} {size / 1e6:8.1f} MB {count:>10,} objects")
        distinct, objects, duplicated = figures["strings"]
        print(f"  strings: {objects:,} objects, {distinct:,} distinct values; copies of equal strings hold "
              f"{duplicated / 1e6:.1f} MB")
    if "sites" in figures:
        print("  top allocation sites still alive after the load (tracemalloc):")
        for site, size, count in figures["sites"]:
            print(f"    {size / 1e6:8.1f} MB {count:>10,} blocks  {site}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,5000", help="catalogue sizes in events (comma-separated)")
    parser.add_argument("--large", action="store_true", help="also 10,000 events")
    parser.add_argument("--modes", default="forked,in-process", help="forked, in-process (comma-separated)")
    parser.add_argument("--trace", action="store_true", help="tracemalloc sites for the first size (slow)")
    parser.add_argument("--top", type=int, default=15, help="rows of the breakdowns")
    args = parser.parse_args()
    sizes = [int(n) for n in args.sizes.split(",") if n.strip()] + ([10_000] if args.large else [])
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    print(f"contract model memory, realistic synthetic catalogues, {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory(prefix="eventdeck-bench-memory-") as tmp:
        warm = Path(tmp) / "warm"
        write_catalogue(warm, 1, 2, realistic=True)
        for index, events in enumerate(sizes):
            folder = Path(tmp) / f"realistic-{events}"
            write_catalogue(folder, documents_for(events), EVENTS_PER_DOCUMENT, realistic=True)
            size = sum(p.stat().st_size for p in folder.rglob("*.yaml"))
            label = f"{events:,} events ({size / 1e6:.1f} MB of YAML)"
            for mode in modes + (["trace"] if args.trace and index == 0 else []):
                report(label, events, mode, measure(mode, folder, warm, args.top), args.top)


if __name__ == "__main__":
    main()
