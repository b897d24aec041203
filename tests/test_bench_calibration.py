"""The benchmark's calibration contract stays a valid contract whose sample enriches into its documented payload,
so `scripts/bench_pipeline.py` measures a real, working chain (the benchmark itself is not run in CI)."""

from __future__ import annotations

import sys
from pathlib import Path

from pipeline.contract import ContractLoader
from pipeline.produce import Producer, Published, required_keys
from pipeline.sealing.keys import keyset_for

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
import bench_calibration


def test_the_calibration_event_loads_strictly_and_publishes_its_example(tmp_path: Path) -> None:
    bench_calibration.write(tmp_path)
    catalogue = ContractLoader().load([tmp_path], strict=True)
    producer = Producer(catalogue, keyset_for(required_keys(catalogue)))
    event, lookups = bench_calibration.internal_event()
    (outcome,) = producer.process_one(event, lookup_results=lambda _: lookups)
    assert isinstance(outcome, Published), outcome
    assert outcome.cloud_event["datacontenttype"] == "application/jwt"  # sealed, as the targets assume
    route = producer.routes[0]
    assert route.validator.engine == "fastjsonschema"
    assert route.enrichment.apply(event["detail"], lookup_results=lookups) == bench_calibration.public_payload()
    assert len(route.event.extension("x-enrichment")["patch"]) == 5
