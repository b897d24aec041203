#!/usr/bin/env python3
"""Every figure issue 10 asks for, against its targets (a benchmark that prints, not a timed test).

    .venv/bin/python scripts/bench_bus.py            # a few minutes
    .venv/bin/python scripts/bench_bus.py --quick    # smaller runs, a smoke check
    .venv/bin/python scripts/bench_bus.py --json out.json

It imports and prints ``measure()`` of the other helpers' benchmarks — ``scripts/bench_patterns.py`` (pattern
matches per second), ``scripts/bench_local_bus.py`` (durable events/s accepted by the local bus, batched and one by
one; delivered to a local HTTP consumer), ``scripts/bench_eventbridge.py`` (the EventBridge adapter's entries/s
against moto) — skipping with a note any that is not there, and measures ``eventdeck run`` itself:

* ``run_examples_s``: ``eventdeck run`` on the examples end to end, in a fresh process and a fresh state folder
  (imports, contract, keys, producer, outbox, bus, the local consumer opening every event): the median wall time
  of ``--repeat`` runs, from the AsyncAPI documents (as a user runs it) and from the bundled contract artefact (as
  ``scripts/start`` runs it). Target <= 3 s. The child's CPU time is printed next to it: on a machine shared with
  other work the wall time includes waiting for a core, the CPU time does not;
* ``run_events_per_s``: the samples repeated to a few thousand internal events on stdin, through the whole local
  pipeline (seal, outbox, bus, HTTP, open + de-duplicate at the consumer), events published per second of wall
  time, start-up excluded (the run's time minus the examples run's).

Numbers depend on the machine and on what else runs on it: treat differences under ~30 % as noise.
"""

from __future__ import annotations

import argparse
import importlib.util
import inspect
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
EVENTDECK = Path(sys.executable).with_name("eventdeck")

#: (benchmark script, figure) -> (comparison, target, unit), as the issue states them.
TARGETS: dict[tuple[str, str], tuple[str, float, str]] = {
    ("bench_local_bus", "accepted_batched_full"): (">=", 5_000, "events/s"),
    ("bench_local_bus", "delivered_http"): (">=", 2_000, "events/s"),
    ("bench_bus", "run_examples_s"): ("<=", 3.0, "s"),
}
OTHERS = ("bench_patterns", "bench_local_bus", "bench_eventbridge")


def _load(name: str) -> Any | None:
    path = ROOT / "scripts" / f"{name}.py"
    if not path.is_file():
        return None
    sys.path.insert(0, str(path.parent))
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _call(measure: Callable[..., Any], quick: bool) -> Any:
    accepts_quick = "quick" in inspect.signature(measure).parameters
    return measure(quick=quick) if accepts_quick else measure()


def _timed_run(args: list[str], cwd: Path, stdin: bytes = b"") -> tuple[float, float, dict[str, Any]]:
    """(wall seconds, child CPU seconds, the JSON summary) of one ``eventdeck run``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([str(EVENTDECK), "run", "--format", "json", *args], cwd=cwd, input=stdin,
                          capture_output=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"eventdeck run failed ({done.returncode}):\n{done.stderr.decode()[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, json.loads(done.stdout)


def measure(*, quick: bool = False, repeat: int | None = None) -> dict[str, float]:
    """``eventdeck run`` on the examples end to end (seconds), and the local pipeline's events/s."""
    repeat = repeat or (2 if quick else 5)
    copies = 20 if quick else 100
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "asyncapi").symlink_to(ROOT / "asyncapi")
        (work / "docs").symlink_to(ROOT / "docs")
        (work / "mkdocs.yml").symlink_to(ROOT / "mkdocs.yml")
        subprocess.run([str(EVENTDECK), "keys", "new", "--out", "keys"], cwd=work, check=True, capture_output=True)
        subprocess.run([str(EVENTDECK), "bundle", "-o", "contract.json"], cwd=work, check=True, capture_output=True)
        for label, contract in (("documents", []), ("artefact", ["--contract", "contract.json"])):
            walls, cpus = [], []
            for n in range(repeat):
                wall, cpu, summary = _timed_run([*contract, "--state", f"state-{label}-{n}"], work)
                assert summary["consumer"]["opened"] == summary["published"] > 0, summary
                walls.append(wall)
                cpus.append(cpu)
            figures[f"run_examples_s[{label}]"] = statistics.median(walls)
            figures[f"run_examples_cpu_s[{label}]"] = statistics.median(cpus)
        from pipeline.contract.artefact import load_artefact
        from pipeline.enrichment.samples import sample_inputs

        internal = [event for _, event in sample_inputs(load_artefact(work / "contract.json")).events]
        lines = b"".join(json.dumps(event).encode() + b"\n" for event in internal) * copies
        wall, _, summary = _timed_run(["--contract", "contract.json", "--state", "state-many", "-"], work, lines)
        baseline = figures["run_examples_s[artefact]"]
        figures["run_events_per_s"] = summary["published"] / max(wall - baseline, 1e-3)
        figures["run_events"] = summary["published"]
    return figures


def _verdict(name: str, figure: str, value: float) -> str:
    base = figure.split("[")[0].replace("_cpu", "")  # a rate per CPU second answers to the same target
    goal = TARGETS.get((name, base))
    if goal is None:
        return ""
    comparison, target, unit = goal
    met = value >= target if comparison == ">=" else value <= target
    return f"   target {comparison} {target:,g} {unit}: {'met' if met else 'NOT met'}"


def _show(name: str, figures: Any) -> None:
    if not isinstance(figures, dict):
        print(f"  {figures}")
        return
    for figure, value in figures.items():
        text = f"{value:>12,.2f}" if isinstance(value, float) and value < 100 else f"{value:>12,.0f}"
        print(f"  {figure:42} {text}{_verdict(name, figure, value)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller runs, a smoke check")
    parser.add_argument("--repeat", type=int, help="runs of `eventdeck run` per figure (default 5, quick 2)")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write every figure to FILE as JSON")
    args = parser.parse_args()
    results: dict[str, Any] = {}
    for name in OTHERS:
        module = _load(name)
        print(f"{name}:")
        if module is None or not hasattr(module, "measure"):
            print(f"  skipped: scripts/{name}.py is not there yet (or has no measure())")
            results[name] = None
            continue
        try:
            results[name] = _call(module.measure, args.quick)
        except SystemExit as exc:  # a benchmark that cannot run here says why
            print(f"  skipped: {exc}")
            results[name] = None
            continue
        _show(name, results[name])
    print("bench_bus (eventdeck run):")
    results["bench_bus"] = measure(quick=args.quick, repeat=args.repeat)
    _show("bench_bus", results["bench_bus"])
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str) + "\n")


if __name__ == "__main__":
    main()
