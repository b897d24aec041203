"""The contract's own sample internal events (``x-enrichment.samples``), as producer input.

Used by ``eventdeck seal --samples``, the local demo and the benchmarks: each sample internal event once (a sample
may be listed under several messages), and the canned look-up results that replace running the look-ups.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pipeline.contract.model import Catalogue


@dataclass(frozen=True)
class SampleInputs:
    """``events``: (label, internal event) pairs; ``lookups``: canned look-up results by internal event id."""

    events: list[tuple[str, Mapping[str, Any]]] = field(default_factory=list)
    lookups: dict[Any, dict[str, Any]] = field(default_factory=dict)

    def lookup_results(self, internal: Mapping[str, Any]) -> Mapping[str, Any] | None:
        """The canned look-up results for ``internal`` (pass as the producer's ``lookup_results``)."""
        return self.lookups.get(internal.get("id"))


def sample_inputs(catalogue: Catalogue) -> SampleInputs:
    inputs = SampleInputs()
    for event in catalogue.events:
        for sample in event.enrichment.samples if event.enrichment is not None else ():
            internal_id = sample.event.get("id")
            if internal_id not in inputs.lookups:
                inputs.events.append((f"sample {sample.example}", sample.event))
            inputs.lookups[internal_id] = {**inputs.lookups.get(internal_id, {}), **(sample.lookups or {})}
    return inputs
