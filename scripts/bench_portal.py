"""Benchmark the catalogue on a synthetic 50 x 20 (1,000-event) catalogue; prints figures, asserts nothing.

1. cold `mkdocs build` in a fresh process: wall time and peak memory (largest RSS of the build's processes);
2. one document changed under a live `mkdocs serve --dirty` (and plain `mkdocs serve`): time from saving the file
   to the new text being served;
3. the same rebuild through MkDocs' API with the same plugin instance (no file watcher in the way).

Targets (issue 4): cold build <= 10 s and <= 600 MB on a 2-core machine; a one-document change visible <= 2 s.

    .venv/bin/python scripts/bench_portal.py [--keep DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synthetic_catalogue import write_catalogue

CONFIG = {
    "site_name": "synthetic catalogue",
    "theme": {"name": "material", "font": False},
    "plugins": ["search", {"eventdeck": {"asyncapi": ["asyncapi"]}}],
    "markdown_extensions": ["attr_list", "md_in_html", "tables", {"toc": {"permalink": True}}, "admonition",
                            "pymdownx.details", "pymdownx.superfences"],
}
CHANGED = "domain-07.yaml"
MARKER = "Benchmark edit"


def project(folder: Path) -> Path:
    write_catalogue(folder / "asyncapi", 50, 20)
    (folder / "docs").mkdir(parents=True, exist_ok=True)
    (folder / "docs" / "index.md").write_text("# Synthetic catalogue\n", encoding="utf-8")
    config = folder / "mkdocs.yml"
    config.write_text(yaml.safe_dump(CONFIG, sort_keys=False), encoding="utf-8")
    return config


def mkdocs(*args: str) -> list[str]:
    return [sys.executable, "-m", "mkdocs", *args]


def cold_build(config: Path, site: Path) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    subprocess.run(mkdocs("build", "-q", "-f", str(config), "-d", str(site)), check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    elapsed = time.perf_counter() - start
    peak = max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
    return elapsed, peak


def edit(folder: Path, n: int) -> str:
    """Change one event's summary in one document; returns the text the rebuilt page must show."""
    path = folder / "asyncapi" / CHANGED
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    text = f"{MARKER} {n}."
    document["components"]["messages"]["m3"]["summary"] = text
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return text


def event_url(folder: Path) -> str:
    document = yaml.safe_load((folder / "asyncapi" / CHANGED).read_text(encoding="utf-8"))
    return f"events/{document['components']['messages']['m3']['name']}/"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _fetch(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.read().decode("utf-8", "replace")
    except OSError:
        return ""


def serve_rebuild(config: Path, folder: Path, *, dirty: bool, rounds: int = 3) -> list[float]:
    port = _free_port()
    args = ["serve", "-f", str(config), "-a", f"127.0.0.1:{port}", "--no-livereload"]
    # --no-livereload only drops the browser reload script; files are still watched and rebuilt.
    args = ["serve", "-f", str(config), "-a", f"127.0.0.1:{port}"] + (["--dirty"] if dirty else [])
    process = subprocess.Popen(mkdocs(*args), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               cwd=folder)
    base = f"http://127.0.0.1:{port}/"
    url = base + event_url(folder)
    times = []
    try:
        deadline = time.monotonic() + 180
        while "<article" not in _fetch(url):
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("mkdocs serve did not come up")
            time.sleep(0.2)
        for n in range(rounds):
            time.sleep(1.0)  # let the watcher settle
            expected = edit(folder, n + (100 if dirty else 0))
            start = time.monotonic()
            while expected not in _fetch(url):
                if time.monotonic() - start > 120:
                    raise RuntimeError("the change never became visible")
                time.sleep(0.05)
            times.append(time.monotonic() - start)
    finally:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=10)
        if process.poll() is None:
            process.kill()
    return times


def api_rebuild(config: Path, folder: Path) -> tuple[float, float]:
    """First build and one-document rebuild with one plugin instance, as `mkdocs serve --dirty` runs them."""
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    site = Path(tempfile.mkdtemp(prefix="bench-api-"))
    first_config = load_config(str(config), site_dir=str(site))
    first_config.plugins.on_startup(command="serve", dirty=True)
    try:
        start = time.perf_counter()
        build(first_config, dirty=True)
        first = time.perf_counter() - start
        edit(folder, 999)
        # `mkdocs serve` loads the configuration again for every rebuild; plugins with on_startup are kept.
        again = load_config(str(config), site_dir=str(site))
        start = time.perf_counter()
        build(again, dirty=True)
        rebuild = time.perf_counter() - start
    finally:
        first_config.plugins.on_shutdown()
        shutil.rmtree(site, ignore_errors=True)
    return first, rebuild


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keep", type=Path, help="build in this folder and keep it")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="eventdeck-bench-"))
    try:
        config = project(folder)
        print(f"synthetic catalogue: 50 documents x 20 events in {folder} ({os.cpu_count()} CPUs)")
        cold, peak = cold_build(config, folder / "site")
        pages = sum(1 for _ in (folder / "site" / "events").rglob("index.html"))
        size = sum(p.stat().st_size for p in (folder / "site").rglob("*") if p.is_file()) / 1e6
        print(f"cold mkdocs build          {cold:6.2f} s   (target <= 10 s)   {pages} pages, {size:.0f} MB written")
        print(f"peak memory                {peak:6.0f} MB  (target <= 600 MB)")
        first, rebuild = api_rebuild(config, folder)
        print(f"API: first build           {first:6.2f} s   one document changed: {rebuild:.2f} s (same plugin)")
        for dirty in (True, False):
            times = serve_rebuild(config, folder, dirty=dirty)
            label = "mkdocs serve --dirty" if dirty else "mkdocs serve        "
            print(f"{label}: change visible in {min(times):.2f}-{max(times):.2f} s "
                  f"(median {sorted(times)[len(times) // 2]:.2f} s; target <= 2 s)")
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
