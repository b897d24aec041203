#!/usr/bin/env python3
"""Pattern matches per second for a realistic rule set (the EventBridge pattern engine, one core).

    .venv/bin/python scripts/bench_patterns.py           # ~10 s
    .venv/bin/python scripts/bench_patterns.py --quick   # a smoke check

The rule set mixes what routing rules look like in practice: a few hundred rules with exact ``source`` and
``detail-type`` values, prefix hierarchies, numeric ranges, ``anything-but``, wildcards, ``$or``, and fields inside
arrays of objects (which need the array-consistency search). The events are the internal events of the example
contract's samples (``asyncapi/``: orders, payments, baskets), plus variations of them so that most rules see both
matching and non-matching events. Every rule is evaluated on every event (no index), so ``pattern matches/s`` is
the raw cost of one ``EventPattern.matches`` call, averaged over the mix.

``measure()`` returns the figures (the lead's scripts/bench_bus.py imports and prints it). Numbers depend on the
machine and on what else runs on it: treat differences under ~30 % as noise.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import os
import random
import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from pipeline.patterns import EventPattern, compile_pattern  # noqa: E402

DOMAINS = ["orders", "payments", "baskets", "returns", "shipping", "loyalty", "catalogue", "pricing", "stock",
           "customers"]
VERBS = ["Placed", "Cancelled", "Updated", "Created", "Authorised", "Refunded", "Shipped", "Expired", "Opened",
         "CheckedOut"]


def sample_events() -> list[dict[str, Any]]:
    """The example contract's sample internal events (falls back to one built-in order if it cannot be loaded)."""
    try:
        from pipeline.contract import ContractLoader

        catalogue = ContractLoader().load([ROOT / "asyncapi"])
        events = [dict(sample.event) for event in catalogue.events if event.enrichment is not None
                  for sample in event.enrichment.samples]
    except Exception:  # the benchmark measures patterns; a contract problem must not stop it
        events = []
    if not events:
        events = [{"version": "0", "id": "1", "source": "com.retailer.orders.internal", "detail-type": "OrderPlaced",
                   "account": "444455556666", "time": "2026-03-14T10:14:41Z", "region": "eu-west-1",
                   "resources": [],
                   "detail": {"state": "PLACED", "market": "GB", "customer": {"loyaltyTier": "gold"},
                              "lines": [{"sku": "TRN40021BLK9", "quantity": 1,
                                         "productUrl": "https://shop.retailer.example/uk/p/TRN40021BLK9"}],
                              "totals": {"grandTotal": {"amountMinor": 4999, "currency": "GBP"}}}}]
    return events


def event_mix(samples: list[dict[str, Any]], size: int, rng: random.Random) -> list[dict[str, Any]]:
    """The samples plus variations: other domains, detail-types, markets and amounts."""
    events = []
    for number in range(size):
        event = copy.deepcopy(samples[number % len(samples)])
        if number % 3:
            domain = rng.choice(DOMAINS)
            event["source"] = f"com.retailer.{domain}.internal"
            event["detail-type"] = f"{domain[:-1].capitalize()}{rng.choice(VERBS)}"
        detail = event.setdefault("detail", {})
        if isinstance(detail, dict):
            detail["market"] = rng.choice(["GB", "IE", "FR", "DE"])
            detail.setdefault("totals", {}).setdefault("grandTotal", {})["amountMinor"] = rng.randrange(100, 50_000)
        event["id"] = f"evt-{number}"
        events.append(event)
    return events


def rule_set(rng: random.Random, size: int = 300) -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = []
    while len(rules) < size:
        domain = rng.choice(DOMAINS)
        source = f"com.retailer.{domain}.internal"
        detail_type = f"{domain[:-1].capitalize()}{rng.choice(VERBS)}"
        kind = len(rules) % 10
        if kind < 4:    # the bulk: exact source and detail-type, as routing rules are
            rules.append({"source": [source], "detail-type": [detail_type, f"{detail_type}V2"]})
        elif kind == 4:  # prefix hierarchies
            rules.append({"source": [{"prefix": f"com.retailer.{domain}"}],
                          "detail-type": [{"prefix": detail_type[:5]}]})
        elif kind == 5:  # numeric ranges on a nested amount
            low = rng.randrange(0, 20_000)
            amount = [{"numeric": [">=", low, "<", low * 2 + 1]}]
            rules.append({"source": [{"prefix": "com.retailer."}],
                          "detail": {"totals": {"grandTotal": {"amountMinor": amount}}}})
        elif kind == 6:  # anything-but
            rules.append({"source": [source], "detail": {"market": [{"anything-but": ["GB", "IE"]}]}})
        elif kind == 7:  # wildcard inside an array of objects
            glob = f"https://shop.retailer.example/{rng.choice(['uk', 'ie'])}/p/*"
            rules.append({"detail": {"lines": {"productUrl": [{"wildcard": glob}]}}})
        elif kind == 8:  # $or across fields
            rules.append({"source": [source], "$or": [{"detail": {"state": ["PLACED", "AUTHORISED"]}},
                                                      {"detail": {"customer": {"loyaltyTier": ["gold"]}}}]})
        else:            # two fields of one array element: the array-consistency search
            rules.append({"detail": {"lines": {"sku": [{"prefix": "TRN"}], "quantity": [{"numeric": [">=", 1]}]}}})
    return rules


@contextlib.contextmanager
def _one_core() -> Iterator[None]:
    """Pin to one CPU while measuring, then give the caller (e.g. bench_bus.py) its CPUs back."""
    before = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    if before:
        with contextlib.suppress(OSError):  # a restricted container: measure unpinned
            os.sched_setaffinity(0, {min(before)})
    try:
        yield
    finally:
        if before:
            with contextlib.suppress(OSError):
                os.sched_setaffinity(0, before)


def _timed(run: Any, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def measure(*, quick: bool = False) -> dict[str, float]:
    """Figures for the pattern engine: pattern matches/s over the mixed rule set, events/s through all the rules,
    patterns compiled/s, and matches/s of the typical routing rule (exact source and detail-type)."""
    with _one_core():
        return _measure(quick)


def _measure(quick: bool) -> dict[str, float]:
    rng = random.Random(7)
    rules = rule_set(rng)
    events = event_mix(sample_events(), 60 if quick else 200, rng)
    repeat = 3 if quick else 5
    compiled: list[EventPattern] = [compile_pattern(rule) for rule in rules]

    def all_rules() -> None:
        for event in events:
            for pattern in compiled:
                pattern.matches(event)

    seconds = _timed(all_rules, repeat)
    matched = sum(pattern.matches(event) for event in events for pattern in compiled)
    compile_seconds = _timed(lambda: [compile_pattern(rule) for rule in rules], repeat)
    routing = compiled[0]
    loops = 20_000 if quick else 100_000

    def one_rule() -> None:
        for index in range(loops):
            routing.matches(events[index % len(events)])

    routing_seconds = _timed(one_rule, repeat)
    evaluations = len(events) * len(compiled)
    return {
        "rules": float(len(compiled)),
        "events": float(len(events)),
        "match share %": round(100 * matched / evaluations, 1),
        "pattern matches/s (mixed rules)": round(evaluations / seconds),
        "events/s through all rules": round(len(events) / seconds),
        "patterns compiled/s": round(len(rules) / compile_seconds),
        "pattern matches/s (exact source + detail-type)": round(loops / routing_seconds),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="shorter runs, for a smoke check")
    args = parser.parse_args(argv)
    for name, value in measure(quick=args.quick).items():
        print(f"{name:>48}: {value:,.1f}" if isinstance(value, float) and not value.is_integer()
              else f"{name:>48}: {value:,.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
