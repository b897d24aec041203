"""Benchmark the contract loader: examples and a synthetic 1,000-event catalogue, cold, warm and after one change.

Prints figures; asserts nothing (machines here are shared and noisy). Targets from issue #2: 1,000 events loaded
and strictly validated in <= 1.5 s cold and <= 300 MB; re-loading after one document changed <= 0.2 s.

Also the runtime artefact (issue #8): ``eventdeck bundle`` of the examples and of the synthetic catalogue, then its
load in a fresh process — cold, imports excluded (target <= 50 ms for the examples).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

CHILD = r"""
import json, os, resource, sys, time
t0 = time.perf_counter()
from pipeline.contract import ContractLoader
t_import = time.perf_counter() - t0
paths = sys.argv[1:]
loader = ContractLoader()
t1 = time.perf_counter()
catalogue = loader.load(paths)
cold = time.perf_counter() - t1
t2 = time.perf_counter()
loader.load(paths)
warm = time.perf_counter() - t2
changed = None
synthetic = [os.path.join(p, f) for p in paths if os.path.isdir(p) for f in sorted(os.listdir(p))
             if f.startswith("domain-")]
if synthetic:
    target = synthetic[0]
    text = open(target).read()
    open(target, "w").write(text.replace("Synthetic domain", "Synthetic  domain", 1))
    t3 = time.perf_counter()
    loader.load(paths)
    changed = time.perf_counter() - t3
# The largest single process: this one, or a worker it forked to load documents in parallel.
usage = [resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
peak = max(usage) / 1024
print(json.dumps({"import": t_import, "cold": cold, "warm": warm, "changed": changed, "peak_mb": peak,
                  "events": len(catalogue.events), "documents": len(catalogue.documents),
                  "errors": len(catalogue.errors)}))
"""


def measure(paths: list[str]) -> dict[str, float]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", CHILD, *paths], capture_output=True, text=True, env=env)
    if out.returncode:
        raise SystemExit(f"benchmark child failed:\n{out.stderr}")
    return json.loads(out.stdout)


ARTEFACT_CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
from pipeline.contract.artefact import read_artefact
t_import = time.perf_counter() - t0
t1 = time.perf_counter()
artefact = read_artefact(sys.argv[1])
load = time.perf_counter() - t1
print(json.dumps({"import": t_import, "load": load, "events": len(artefact.catalogue.events)}))
"""


def artefact_figures(label: str, paths: list[str], repeats: int) -> None:
    """Bundle ``paths`` once, then load the artefact ``repeats`` times, each in a fresh process."""
    from pipeline.contract import ContractLoader
    from pipeline.contract.artefact import artefact_bytes
    from pipeline.contract.registry import RegistryLayout

    catalogue = ContractLoader().load(paths, strict=False)
    if catalogue.errors:
        print(f"{label}: artefact skipped ({len(catalogue.errors)} contract errors)")
        return
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "contract.json"
        target.write_bytes(artefact_bytes(catalogue, RegistryLayout.for_catalogue(catalogue)))
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        runs = []
        for _ in range(max(repeats, 5)):
            out = subprocess.run([sys.executable, "-c", ARTEFACT_CHILD, str(target)], capture_output=True, text=True,
                                 env=env)
            if out.returncode:
                raise SystemExit(f"artefact child failed:\n{out.stderr}")
            runs.append(json.loads(out.stdout))
        loads = sorted(r["load"] for r in runs)
        imports = sorted(r["import"] for r in runs)
        print(f"{label}: runtime artefact {target.stat().st_size / 1e6:.2f} MB, {runs[0]['events']} events")
        print(f"  cold load in a fresh process  : {loads[len(loads) // 2] * 1000:.1f} ms median, "
              f"{loads[-1] * 1000:.1f} ms worst of {len(loads)}  (+ {imports[len(imports) // 2] * 1000:.0f} ms "
              "imports)")


def report(label: str, runs: list[dict[str, float]]) -> None:
    def median(key: str) -> float:
        values = sorted(r[key] for r in runs if r[key] is not None)
        return values[len(values) // 2] if values else float("nan")

    first = runs[0]
    print(f"{label}: {first['documents']} documents, {first['events']} events, {first['errors']} errors")
    print(f"  cold load + strict validation : {median('cold'):.3f} s  (+ {median('import'):.3f} s imports)")
    print(f"  warm reload, nothing changed  : {median('warm') * 1000:.1f} ms")
    if first["changed"] is not None:
        print(f"  reload after one doc changed  : {median('changed') * 1000:.1f} ms")
    print(f"  peak memory (RSS)             : {median('peak_mb'):.0f} MB")


def main() -> None:
    from synthetic_catalogue import write_catalogue

    repeats = int(os.environ.get("BENCH_REPEATS", "3"))
    if any((ROOT / "asyncapi").glob("*.yaml")):
        report("examples (asyncapi/)", [measure([str(ROOT / "asyncapi")]) for _ in range(repeats)])
        artefact_figures("examples (asyncapi/)", [str(ROOT / "asyncapi")], repeats)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "synthetic"
        runs = []
        for _ in range(repeats):
            write_catalogue(folder)
            runs.append(measure([str(folder)]))
        size = sum(p.stat().st_size for p in folder.iterdir())
        report(f"synthetic catalogue (50 x 20, {size / 1e6:.1f} MB of YAML, {size / 1000 / 1000:.1f} KB per event)",
               runs)
        write_catalogue(folder)
        artefact_figures("synthetic catalogue", [str(folder)], repeats)
    print("targets: cold <= 1.5 s and <= 300 MB for 1,000 events; one-document change <= 0.2 s; "
          "artefact of the examples <= 50 ms cold, imports excluded")


if __name__ == "__main__":
    t = time.perf_counter()
    main()
    print(f"(benchmark took {time.perf_counter() - t:.1f} s)")
