"""Benchmark the catalogue at organisation scale (issue 13's Proof); prints figures next to targets, asserts nothing.

On the realistic synthetic catalogue (``scripts/synthetic_catalogue.py``: about 11 KB of YAML per event, 20 events
per document, AsyncAPI 2.6 and 3.0, shared ``$ref`` files), for each size in ``--sizes``:

1. cold ``mkdocs build`` of the eventdeck site in a fresh process (new site folder, nothing cached): wall time; the
   largest RSS of any one process of the build (``wait4``'s ``ru_maxrss``: the build and its reaped forked workers);
   and the largest *total* of the process tree, sampled from /proc every 50 ms, as RSS (pages shared copy-on-write
   by forked workers counted in each) and as PSS (shared pages split between their sharers: what the machine
   really holds);
2. the same build of the reference: a bare mkdocs-material site with one page per event (its name and title only),
   the navigation MkDocs makes on its own (every page in the sidebar, as a bare site has it), and the ratio; at
   sizes up to ``--bare-max`` (1,000: that navigation makes the bare build grow with the square of the size);
3. the size of material's search index (``site/search/search_index.json``) in MB and MB per 1,000 events.

Then, once per run:

4. at 1,000 events (else the smallest size), one document changed under a live ``mkdocs serve --dirty``: time from
   saving the file to the new text being served (3 edits);
5. on the 5,000-event site when ``--sizes`` has it (else 1,000, else the smallest), in headless Chromium (the system
   ``/usr/bin/chromium`` through Playwright, as the browser tests drive it) with the site served from 127.0.0.1: open
   the home page, type an event's name into the search box, time until the first result is shown (from opening the
   page: the index is downloaded and indexed on the way; and from the last keystroke);
6. with the realistic shape, the small (earlier) shape at 1,000 events (``--small-compare``): the eventdeck cold
   build, briefly.

Targets (issue 13), on 2 cores: 1,000 realistic events cold in <= 7 s and <= 250 MB and at least 2x faster than the
bare site; 10,000 events <= 80 s and <= 1 GB; an edit visible in <= 1 s at 1,000 events; search index <= 2 MB per
1,000 events. Memory targets are judged on the tree's PSS (what the machine holds) and on its RSS (which counts the
pages forked workers share once per worker): both verdicts are printed. The absolute time targets were set on the
issue's machine, where the bare reference at 1,000 events took 14.9 s; when this run builds that reference, each time
target is also printed scaled by how much slower (or faster) it is here ("machine scale"). Figures are medians of
``--runs`` runs. The machine may be shared: the load average is printed with the figures.

    .venv/bin/python scripts/bench_portal.py                          # 1,000 events (about 2 minutes)
    .venv/bin/python scripts/bench_portal.py --sizes 1000,5000,10000 --runs 3
    .venv/bin/python scripts/bench_portal.py --small                  # the small shape instead
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import glob
import http.server
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synthetic_catalogue import EVENTS_PER_DOCUMENT, document, write_catalogue

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
THEME = {"name": "material", "font": False}
MARKDOWN = ["attr_list", "md_in_html", "tables", {"toc": {"permalink": True}}, "admonition", "pymdownx.details",
            "pymdownx.superfences"]
CONFIG = {"site_name": "synthetic catalogue", "theme": THEME,
          "plugins": ["search", {"eventdeck": {"asyncapi": ["asyncapi"]}}], "markdown_extensions": MARKDOWN}
BARE_CONFIG = {"site_name": "bare catalogue", "theme": THEME, "plugins": ["search"], "markdown_extensions": MARKDOWN}
MARKER = "Benchmark edit"
SAMPLE_SECONDS = 0.05
SEARCH_TIMEOUT = 180

TARGETS = {  # events: (seconds, MB); the 2x and the per-1,000 index targets are checked apart
    1000: (7.0, 250.0),
    10000: (80.0, 1000.0),
}
SPEEDUP = 2.0
EDIT_SECONDS = 1.0
#: The issue's bare reference at 1,000 events on the machine its absolute targets were set on (2 cores): the
#: same build here, divided by this, scales the targets to this machine.
ISSUE_BARE_SECONDS = 14.9
INDEX_MB_PER_1000 = 2.0


# -- the two sites ----------------------------------------------------------------------------------------------------

def _documents(events: int, per_document: int) -> int:
    return max(1, -(-events // per_document))


def project(folder: Path, events: int, *, realistic: bool = True, per_document: int = EVENTS_PER_DOCUMENT) -> Path:
    """The eventdeck site of a synthetic catalogue of ``events`` events in ``folder``; returns its mkdocs.yml."""
    write_catalogue(folder / "asyncapi", _documents(events, per_document), per_document, realistic=realistic)
    (folder / "docs").mkdir(parents=True, exist_ok=True)
    (folder / "docs" / "index.md").write_text("# Synthetic catalogue\n", encoding="utf-8")
    config = folder / "mkdocs.yml"
    config.write_text(yaml.safe_dump(CONFIG, sort_keys=False), encoding="utf-8")
    return config


def event_names(events: int, *, realistic: bool = True,
                per_document: int = EVENTS_PER_DOCUMENT) -> list[tuple[str, str]]:
    """(name, title) of every event of the catalogue ``project`` writes, in document order."""
    out = []
    for doc in range(_documents(events, per_document)):
        messages = document(doc, per_document, realistic=realistic)["components"]["messages"]
        out.extend((m["name"], m["title"]) for m in messages.values())
    return out


def bare_project(folder: Path, events: int, *, realistic: bool = True,
                 per_document: int = EVENTS_PER_DOCUMENT) -> Path:
    """The reference: a mkdocs-material site with one page per event, its name and title only."""
    pages = folder / "docs" / "events"
    pages.mkdir(parents=True, exist_ok=True)
    (folder / "docs" / "index.md").write_text("# Bare catalogue\n", encoding="utf-8")
    for name, title in event_names(events, realistic=realistic, per_document=per_document):
        (pages / f"{name}.md").write_text(f"# {name}\n\n{title}\n", encoding="utf-8")
    config = folder / "mkdocs.yml"
    config.write_text(yaml.safe_dump(BARE_CONFIG, sort_keys=False), encoding="utf-8")
    return config


def mkdocs(*args: str) -> list[str]:
    return [sys.executable, "-m", "mkdocs", *args]


# -- a cold build and its memory -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Build:
    seconds: float
    single_mb: float  # the largest RSS of one process (the build or a reaped worker)
    tree_rss_mb: float  # the largest sampled sum of RSS over the process tree
    tree_pss_mb: float  # the same with shared pages split between their sharers
    pages: int  # index.html files written
    index_mb: float  # site/search/search_index.json


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants (through /proc/<pid>/task/<tid>/children)."""
    out, stack = [], [pid]
    while stack:
        current = stack.pop()
        out.append(current)
        for children in glob.glob(f"/proc/{current}/task/*/children"):
            with contextlib.suppress(OSError, ValueError):
                stack.extend(int(p) for p in Path(children).read_text().split())
    return out


def _memory(pid: int) -> tuple[int, int]:
    """(RSS, PSS) of one process in bytes; zeros for a process that is gone."""
    rss = pss = 0
    with contextlib.suppress(OSError, ValueError, IndexError):
        rss = int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                pss = int(line.split()[1]) * 1024
                break
    return rss, pss


class TreeSampler:
    """Samples the total RSS and PSS of a process tree every ``SAMPLE_SECONDS`` until stopped."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.rss = self.pss = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            figures = [_memory(pid) for pid in _tree(self.pid)]
            self.rss = max(self.rss, sum(r for r, _ in figures))
            self.pss = max(self.pss, sum(p for _, p in figures))
            self._stop.wait(SAMPLE_SECONDS)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def cold_build(config: Path, site: Path) -> Build:
    """``mkdocs build`` in a fresh process into an empty ``site``."""
    shutil.rmtree(site, ignore_errors=True)
    start = time.perf_counter()
    process = subprocess.Popen(mkdocs("build", "-q", "-f", str(config), "-d", str(site)),
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    sampler = TreeSampler(process.pid)
    assert process.stderr is not None
    errors = process.stderr.read()  # drained while the build runs, so a chatty build never blocks on the pipe
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    sampler.stop()
    process.returncode = os.waitstatus_to_exitcode(status)
    process.stderr.close()
    if process.returncode != 0:
        raise RuntimeError(f"mkdocs build of {config} failed:\n{errors.decode('utf-8', 'replace')[-2000:]}")
    index = site / "search" / "search_index.json"
    return Build(seconds=elapsed, single_mb=usage.ru_maxrss / 1024, tree_rss_mb=sampler.rss / 2**20,
                 tree_pss_mb=sampler.pss / 2**20, pages=sum(1 for _ in site.rglob("index.html")),
                 index_mb=index.stat().st_size / 1e6 if index.exists() else 0.0)


def median_build(config: Path, site: Path, runs: int) -> Build:
    builds = [cold_build(config, site) for _ in range(runs)]
    return Build(*(statistics.median(getattr(b, field) for b in builds) for field in Build.__dataclass_fields__))


# -- an edit under `mkdocs serve --dirty` -----------------------------------------------------------------------------

def _changed(folder: Path) -> tuple[Path, str]:
    """The document and message key the edit changes: the 8th document's 4th message (or the last ones)."""
    paths = sorted((folder / "asyncapi").rglob("domain-*.yaml"))
    path = paths[min(7, len(paths) - 1)]
    messages = list(yaml.safe_load(path.read_text(encoding="utf-8"))["components"]["messages"])
    return path, messages[min(3, len(messages) - 1)]


def edit(folder: Path, n: int) -> str:
    """Change one event's summary in one document; returns the text the rebuilt page must show."""
    path, key = _changed(folder)
    content = yaml.safe_load(path.read_text(encoding="utf-8"))
    text = f"{MARKER} {n}."
    content["components"]["messages"][key]["summary"] = text
    path.write_text(yaml.safe_dump(content, sort_keys=False, width=120), encoding="utf-8")
    return text


def event_url(folder: Path) -> str:
    path, key = _changed(folder)
    return f"events/{yaml.safe_load(path.read_text(encoding='utf-8'))['components']['messages'][key]['name']}/"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _fetch(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return str(response.read().decode("utf-8", "replace"))
    except OSError:
        return ""


def serve_rebuild(config: Path, folder: Path, *, rounds: int = 3, dirty: bool = True) -> list[float]:
    """Seconds from saving an edited document to the served event page showing the edit, ``rounds`` times."""
    port = _free_port()
    args = ["serve", "-f", str(config), "-a", f"127.0.0.1:{port}"] + (["--dirty"] if dirty else [])
    process = subprocess.Popen(mkdocs(*args), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=folder)
    url = f"http://127.0.0.1:{port}/" + event_url(folder)
    times = []
    try:
        deadline = time.monotonic() + 600
        while "<article" not in _fetch(url):
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(f"mkdocs serve did not come up (or never served {url})")
            time.sleep(0.2)
        for n in range(rounds):
            time.sleep(1.0)  # let the watcher settle
            expected = edit(folder, n + 100 * (len(times) + 1))
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
            process.wait()
    return times


# -- the first search answer in Chromium ------------------------------------------------------------------------------

class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@contextlib.contextmanager
def served(site: Path) -> Iterator[str]:
    """``site`` over HTTP on 127.0.0.1 (a free port) for as long as the block runs; yields its base URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()


@dataclass(frozen=True)
class SearchAnswer:
    from_open: float  # seconds from opening the home page to the first result shown
    from_typing: float  # seconds from the last keystroke to the first result shown
    found: bool  # the event's own page is among the results shown


def first_search_answer(site: Path, query: str, *, runs: int = 1) -> SearchAnswer | str:
    """Median time to the first search answer for ``query``; a sentence instead when Chromium cannot run."""
    if not Path(CHROMIUM).exists():
        return f"skipped: {CHROMIUM} is not installed"
    try:
        from playwright.sync_api import TimeoutError as PlaywrightTimeout
        from playwright.sync_api import sync_playwright
    except ImportError:
        return "skipped: playwright is not installed"
    answers = []
    with served(site) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for _ in range(runs):
                context = browser.new_context(viewport={"width": 1280, "height": 900})  # a cold browser cache
                page = context.new_page()
                start = time.perf_counter()
                page.goto(base, wait_until="domcontentloaded")
                box = page.locator("input.md-search__input")
                box.click()
                box.press_sequentially(query, delay=20)  # key by key, as a reader types
                typed = time.perf_counter()
                try:
                    page.locator(".md-search-result__item a").first.wait_for(timeout=SEARCH_TIMEOUT * 1000)
                except PlaywrightTimeout:
                    return f"no result for {query!r} within {SEARCH_TIMEOUT} s"
                shown = time.perf_counter()
                try:  # the first results may answer a prefix typed earlier; the full name's come next
                    page.locator(f'.md-search-result__item a[href*="events/{query}/"]').first.wait_for(timeout=30_000)
                    found = True
                except PlaywrightTimeout:
                    found = False
                answers.append(SearchAnswer(shown - start, shown - typed, found))
                context.close()
        finally:
            browser.close()
    return SearchAnswer(statistics.median(a.from_open for a in answers),
                        statistics.median(a.from_typing for a in answers), all(a.found for a in answers))


# -- the report -------------------------------------------------------------------------------------------------------

def _verdict(ok: bool) -> str:
    return "meets" if ok else "MISSES"


def _row(events: int, label: str, build: Build) -> str:
    per_1000 = build.index_mb / events * 1000
    return (f"{events:>7,}  {label:<10} {build.seconds:8.2f} {build.single_mb:9.0f} {build.tree_rss_mb:9.0f} "
            f"{build.tree_pss_mb:9.0f} {build.pages:7,} {build.index_mb:9.2f} {per_1000:8.2f}")


def machine_scale(bare: Build) -> float:
    """How much slower than the issue's machine this one builds the bare reference at 1,000 events."""
    return bare.seconds / ISSUE_BARE_SECONDS


def _targets(events: int, ours: Build, bare: Build | None, scale: float | None = None) -> list[str]:
    """The verdicts at ``events``; ``scale``: :func:`machine_scale` of this run, which also prints each time target
    scaled to this machine (the absolute targets were set where the bare reference took 14.9 s)."""
    lines = []
    if events in TARGETS:
        seconds, mb = TARGETS[events]
        scaled = "" if scale is None else \
            f"; scaled: <= {seconds * scale:.1f} s ({_verdict(ours.seconds <= seconds * scale)})"
        lines.append(f"         targets at {events:,}: <= {seconds:.0f} s ({_verdict(ours.seconds <= seconds)}"
                     f"{scaled}), "
                     f"<= {mb:,.0f} MB ({_verdict(ours.tree_pss_mb <= mb)} on tree PSS, what the machine holds; "
                     f"{_verdict(ours.tree_rss_mb <= mb)} on tree RSS, which counts the pages forked workers share "
                     f"once per worker)")
    if bare is not None:
        speedup = bare.seconds / ours.seconds
        target = f" (target >= {SPEEDUP:.0f}x: {_verdict(speedup >= SPEEDUP)})" if events == 1000 else ""
        lines.append(f"         eventdeck/bare time ratio {ours.seconds / bare.seconds:.2f}: eventdeck {speedup:.2f}x "
                     f"as fast as the bare site{target}")
    per_1000 = ours.index_mb / events * 1000
    lines.append(f"         search index {per_1000:.2f} MB per 1,000 events "
                 f"(target <= {INDEX_MB_PER_1000:.0f}: {_verdict(per_1000 <= INDEX_MB_PER_1000)})")
    return lines


HEADER = (f"{'events':>7}  {'site':<10} {'build s':>8} {'proc MB':>9} {'tree RSS':>9} {'tree PSS':>9} "
          f"{'pages':>7} {'index MB':>9} {'MB/1,000':>8}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000", help="events, comma-separated (default 1000; the issue: "
                                                         "1000,5000,10000)")
    parser.add_argument("--runs", type=int, default=1, help="cold builds per figure; medians are printed (default 1)")
    parser.add_argument("--small", action="store_true", help="the small (earlier) shape instead of the realistic one")
    parser.add_argument("--bare-max", type=int, default=1000, metavar="EVENTS",
                        help="build the bare reference at sizes up to this (default 1000; 0: never). Its navigation "
                             "lists every page on every page, so it grows with the square of the size (an "
                             "estimated 15 minutes and 10 GB of HTML at 10,000)")
    parser.add_argument("--no-serve", action="store_true", help="skip the edit under mkdocs serve --dirty")
    parser.add_argument("--no-browser", action="store_true", help="skip the first search answer in Chromium")
    parser.add_argument("--small-compare", type=int, default=1000, metavar="EVENTS",
                        help="with the realistic shape, one build of the small shape at this size (0: none)")
    parser.add_argument("--keep", type=Path, help="build in this folder and keep it")
    args = parser.parse_args()
    try:
        asked = {int(size) for size in args.sizes.split(",")}
    except ValueError:
        parser.error(f"--sizes: a comma-separated list of event counts, not {args.sizes!r}")
    if min(asked) < 1 or args.runs < 1:
        parser.error("--sizes and --runs must be positive")
    # Whole documents: a size is rounded up to a multiple of the events per document.
    sizes = sorted({_documents(size, EVENTS_PER_DOCUMENT) * EVENTS_PER_DOCUMENT for size in asked})
    realistic = not args.small
    edit_size = 1000 if 1000 in sizes else sizes[0]
    search_size = next((size for size in (5000, 1000) if size in sizes), sizes[0])
    root = args.keep or Path(tempfile.mkdtemp(prefix="eventdeck-bench-"))
    shape = "realistic (about 11 KB of YAML per event)" if realistic else "small (about 2.7 KB of YAML per event)"
    print(f"{shape} synthetic catalogue, {EVENTS_PER_DOCUMENT} events per document, in {root}")
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the start; "
          f"median of {args.runs} run(s); MB = 2^20 bytes of memory, 10^6 bytes of file")
    print("proc MB: largest RSS of one process; tree RSS / PSS: largest sampled total of the build's process tree")
    print(HEADER)
    scale: float | None = None  # this machine against the issue's, once the bare reference at 1,000 is built
    try:
        for events in sizes:
            folder = root / f"{'realistic' if realistic else 'small'}-{events}"
            config = project(folder / "eventdeck", events, realistic=realistic)
            ours = median_build(config, folder / "eventdeck" / "site", args.runs)
            print(_row(events, "eventdeck", ours), flush=True)
            bare = None
            if events <= args.bare_max:
                bare_config = bare_project(folder / "bare", events, realistic=realistic)
                bare = median_build(bare_config, folder / "bare" / "site", args.runs)
                print(_row(events, "bare", bare), flush=True)
            if bare is None:
                print(f"         (no bare reference at {events:,} events: --bare-max {args.bare_max})")
            if bare is not None and events == 1000:
                scale = machine_scale(bare)
                print(f"         machine scale: the bare reference takes {bare.seconds:.1f} s here, "
                      f"{ISSUE_BARE_SECONDS} s where the issue set its targets: x{scale:.2f}", flush=True)
            print("\n".join(_targets(events, ours, bare, scale)), flush=True)
            if events == search_size and not args.no_browser:
                name = event_names(events, realistic=realistic)[events // 2][0]
                answer = first_search_answer(folder / "eventdeck" / "site", name, runs=args.runs)
                if isinstance(answer, str):
                    print(f"         first search answer in Chromium: {answer}")
                else:
                    print(f"         first search answer in Chromium at {events:,} events ({name!r}): "
                          f"{answer.from_open:.2f} s from opening the home page, {answer.from_typing:.2f} s after "
                          f"the last keystroke; the event's page {'is' if answer.found else 'is NOT'} among the "
                          f"results", flush=True)
            if events == edit_size and not args.no_serve:
                times = serve_rebuild(config, folder / "eventdeck", rounds=max(3, args.runs))
                median = statistics.median(times)
                print(f"         mkdocs serve --dirty at {events:,} events: an edit visible in {median:.2f} s "
                      f"(median; {min(times):.2f}-{max(times):.2f} s; target <= {EDIT_SECONDS:.0f} s: "
                      f"{_verdict(median <= EDIT_SECONDS)}"
                      + ("" if scale is None else f"; scaled: <= {EDIT_SECONDS * scale:.1f} s: "
                                                  f"{_verdict(median <= EDIT_SECONDS * scale)}")
                      + ")", flush=True)
            if args.keep is None:
                shutil.rmtree(folder, ignore_errors=True)
        if realistic and args.small_compare > 0:
            events = _documents(args.small_compare, EVENTS_PER_DOCUMENT) * EVENTS_PER_DOCUMENT
            folder = root / f"small-{events}"
            small = median_build(project(folder, events, realistic=False), folder / "site", args.runs)
            print("the small shape (about 2.7 KB of YAML per event), for comparison:")
            print(_row(events, "eventdeck", small))
            if args.keep is None:
                shutil.rmtree(folder, ignore_errors=True)
        print(f"load average {os.getloadavg()[0]:.1f} at the end")
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
