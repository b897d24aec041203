"""Properties of local delivery, whatever a target answers: every accepted event ends delivered once or
dead-lettered once, within the retry policy; and concurrent writers through separate handles lose nothing."""

from __future__ import annotations

import json
import random
import threading
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.bus.local import ATTEMPTS_EXCEEDED, CallableTarget, DeliveryRefused, LocalBus, RetryPolicy
from pipeline.bus.port import Accepted

T0 = 1_780_000_000.0

# Per event, what the target answers on each try: "ok", "retry" (a retryable error) or "final" (refused).
Script = st.lists(st.sampled_from(["ok", "retry", "final"]), min_size=1, max_size=6)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(scripts=st.lists(Script, min_size=1, max_size=8), attempts=st.integers(0, 4))
def test_every_event_ends_delivered_or_dead_lettered_exactly_once(tmp_path_factory: Any, scripts: list[list[str]],
                                                                  attempts: int) -> None:
    now = [T0]
    tries: dict[int, int] = {}
    delivered: list[int] = []

    def target(event: dict[str, Any]) -> None:
        n = event["detail"]["n"]
        step = tries.get(n, 0)
        tries[n] = step + 1
        answer = scripts[n][min(step, len(scripts[n]) - 1)]
        if answer == "final":
            raise DeliveryRefused("no")
        if answer == "retry":
            raise RuntimeError("later")
        delivered.append(n)

    def sleep(seconds: float) -> None:
        now[0] += seconds

    path = tmp_path_factory.mktemp("bus") / "bus.db"
    with LocalBus.open(path, clock=lambda: now[0], rng=random.Random(0), durability="process") as bus:
        bus.attach("t", target)
        bus.put_rule("r", {"source": ["s"]}, [CallableTarget("t")],
                     retry=RetryPolicy(maximum_retry_attempts=attempts))
        results = bus.put_events([{"Source": "s", "DetailType": "T", "Detail": json.dumps({"n": n})}
                                  for n in range(len(scripts))])
        assert all(isinstance(r, Accepted) for r in results)
        bus.drain(sleep=sleep)
        dead = {d.event["detail"]["n"]: d for d in bus.dead_letters()}
        assert bus.stats().pending == 0
    assert sorted(delivered) == sorted(set(delivered))  # nobody delivered twice
    assert set(delivered) | set(dead) == set(range(len(scripts)))  # nobody lost
    assert not set(delivered) & set(dead)
    for n, script in enumerate(scripts):
        plays = [script[min(i, len(script) - 1)] for i in range(attempts + 1)]
        first_end = next((i for i, a in enumerate(plays) if a != "retry"), None)
        if first_end is not None and plays[first_end] == "ok":
            assert n in delivered and tries[n] == first_end + 1
        elif first_end is not None:
            assert dead[n].code == "REFUSED" and dead[n].condition is None and tries[n] == first_end + 1
        else:
            assert dead[n].condition == ATTEMPTS_EXCEEDED and tries[n] == attempts + 1


def test_concurrent_writers_through_separate_handles_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "bus.db"
    LocalBus.open(path).close()
    accepted: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def writer(w: int) -> None:
        try:
            with LocalBus.open(path, durability="process") as bus:
                for batch in range(15):
                    results = bus.put_events([{"Source": "s", "DetailType": "T",
                                               "Detail": json.dumps({"w": w, "b": batch, "i": i})}
                                              for i in range(10)])
                    with lock:
                        accepted.extend(r.event_id for r in results if isinstance(r, Accepted))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with LocalBus.open(path) as bus:
        archived = [e["id"] for e in bus.archived()]
    assert len(accepted) == 450 and sorted(archived) == sorted(accepted)
