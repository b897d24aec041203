"""Forked workers give the same results, in the same order, as doing the work in this process."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import pytest

from conftest import write
from pipeline import forking
from pipeline.contract import ContractError, ContractLoader


def doc(name: str) -> str:
    return f"""\
asyncapi: 3.0.0
info: {{title: T, version: 1.0.0}}
components:
  messages:
    M:
      name: {name}
      payload: {{type: object, properties: {{id: {{type: integer}}}}}}
      examples: [{{name: one, payload: {{id: 7}}}}]
"""


def _squares(offset: int, items: Sequence[int]) -> list[tuple[int, int]]:
    return [(os.getpid(), offset + n * n) for n in items]


@pytest.fixture
def forking_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    # The test runner may have helper threads; the code under test refuses to fork then, as it should.
    monkeypatch.setattr(forking.threading, "active_count", lambda: 1)


def test_fork_map_keeps_order_and_uses_other_processes(forking_allowed: None) -> None:
    results = forking.fork_map(_squares, list(range(40)), 1, min_items=8, workers=2)
    assert [value for _, value in results] == [1 + n * n for n in range(40)]
    assert {pid for pid, _ in results} - {os.getpid()}  # the work really ran in forked workers


def test_small_jobs_and_threaded_hosts_stay_in_this_process(monkeypatch: pytest.MonkeyPatch) -> None:
    assert forking.worker_count(3, min_items=8) == 1
    monkeypatch.setattr(forking.threading, "active_count", lambda: 3)
    assert forking.worker_count(1000, min_items=8) == 1


def test_parallel_loading_equals_sequential_loading_errors_included(tmp_path: Path, forking_allowed: None,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    for n in range(11):
        write(tmp_path, f"doc{n:02d}.yaml", doc(f"Thing.Created.N{n}"))
    write(tmp_path, "doc99.yaml", "asyncapi: 3.0.0\ninfo: [\n")
    with pytest.raises(ContractError) as parallel:
        ContractLoader(workers=2).load([tmp_path])
    with pytest.raises(ContractError) as sequential:
        ContractLoader(workers=1).load([tmp_path])
    assert parallel.value.diagnostics == sequential.value.diagnostics
    assert parallel.value.location is not None and parallel.value.location.file.endswith("doc99.yaml")
    (tmp_path / "doc99.yaml").unlink()
    fast = ContractLoader(workers=2).load([tmp_path])
    slow = ContractLoader(workers=1).load([tmp_path])
    assert [e.key for e in fast.events] == [e.key for e in slow.events]
    assert [e.payload.document for e in fast.events] == [e.payload.document for e in slow.events]


def test_the_worker_count_comes_from_the_environment_only_at_the_edges() -> None:
    assert forking.workers_from_environment({forking.WORKERS_ENV: "3"}) == 3
    assert forking.workers_from_environment({}) is None
    assert forking.workers_from_environment({forking.WORKERS_ENV: "lots"}) is None
    assert forking.workers_from_environment({forking.WORKERS_ENV: "0"}) is None
    assert forking.worker_count(1000, min_items=8, workers=1) == 1


def test_objects_are_frozen_for_the_workers_only_while_they_run(forking_allowed: None) -> None:
    import gc

    before = gc.get_freeze_count()
    seen = forking.fork_map(_freeze_counts, list(range(16)), None, min_items=8, workers=2)
    assert all(count > before for count in seen)  # the workers' collector leaves the parent's objects alone
    assert gc.get_freeze_count() == before


def _freeze_counts(_: None, items: Sequence[int]) -> list[int]:
    import gc

    return [gc.get_freeze_count() for _ in items]
