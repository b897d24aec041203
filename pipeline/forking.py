"""Spread CPU-bound work over forked worker processes when that is safe and pays; otherwise run it here.

Loading a large catalogue and rendering its pages are pure-Python, CPU-bound and independent per item, so on a
multi-core machine they go faster in worker processes. Forking hands the workers the parent's state by memory
(no pickling of caches); it is only done while this process runs a single thread, because a forked child
inherits any lock another thread holds (``mkdocs serve`` has server threads: it works sequentially).
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

S = TypeVar("S")
T = TypeVar("T")
R = TypeVar("R")

WORKERS_ENV = "EVENTDECK_WORKERS"
SLICES_PER_WORKER = 8

_TASK: tuple[Callable[[Any, Sequence[Any]], list[Any]], Any, Sequence[Any]] | None = None


def workers_from_environment(environ: Mapping[str, str] | None = None) -> int | None:
    """The worker count ``EVENTDECK_WORKERS`` asks for (``None``: not set, use every core). Read by the edges
    (CLI, MkDocs plugin), which pass it down."""
    configured = (os.environ if environ is None else environ).get(WORKERS_ENV, "")
    return int(configured) if configured.isdigit() and int(configured) > 0 else None


def worker_count(items: int, min_items: int, workers: int | None = None) -> int:
    """How many processes to use for ``items`` pieces of work (1: this process only); ``workers`` caps it
    (``None``: the cores this process may run on)."""
    if items < min_items or "fork" not in multiprocessing.get_all_start_methods():
        return 1
    if threading.active_count() > 1:
        return 1
    if workers is None:
        workers = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(workers, items // max(1, min_items // 2)))


def fork_map(function: Callable[[S, Sequence[T]], list[R]], items: Sequence[T], state: S, *,
             min_items: int, workers: int | None = None) -> list[R]:
    """``function(state, items)``, computed in contiguous slices by forked workers when worthwhile (a worker may
    compute several slices, one after the other, and keeps what it cached between them).

    ``function`` must return one result per item, in order, and results must be picklable. ``workers`` caps the
    number of processes (``None``: every core)."""
    workers = worker_count(len(items), min_items, workers)
    if workers < 2:
        return function(state, items)
    # Several slices per worker, handed back one by one: a worker holds the results of one slice at a time, not
    # of its share of the whole job, and the parent unpickles them as they come.
    # Workers get the items by fork too; only the bounds of a slice travel.
    size = -(-len(items) // (workers * SLICES_PER_WORKER))
    slices = [(start, min(start + size, len(items))) for start in range(0, len(items), size)]
    global _TASK
    _TASK = (function, state, items)
    # Objects that exist before the fork are moved out of the collector's sight: a worker's collections would
    # otherwise write to every one of them and so copy the parent's whole heap into each worker.
    gc.freeze()
    try:
        with multiprocessing.get_context("fork").Pool(min(workers, len(slices))) as pool:
            parts = list(pool.imap(_run_slice, slices))
    finally:
        gc.unfreeze()
        _TASK = None
    return [result for part in parts for result in part]


def _run_slice(bounds: tuple[int, int]) -> list[Any]:
    assert _TASK is not None, "fork_map's task is handed to workers by fork"
    function, state, items = _TASK
    return function(state, items[bounds[0]:bounds[1]])
