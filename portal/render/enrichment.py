"""Where each field of a published event comes from: the ``x-enrichment`` JSON Patch read as a source → target
table (RFC 6902 operations on the internal event's ``detail``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pipeline.contract import Enrichment as EnrichmentSpec
from pipeline.contract import Lookup

from .markup import json_inline


@dataclass(frozen=True, slots=True)
class PatchRow:
    op: str
    source: str | None  # a JSON Pointer into the internal detail, or None
    value: str | None  # a literal value (JSON) for add/replace/test
    target: str | None  # a JSON Pointer into the public payload, or None (removed / asserted)
    meaning: str


@dataclass(frozen=True, slots=True)
class Enrichment:
    internal_pattern: Any
    rows: tuple[PatchRow, ...]
    lookups: tuple[Lookup, ...]
    prune: bool
    samples: int

    @property
    def internal_sources(self) -> tuple[str, ...]:
        return _strings(self.internal_pattern.get("source")) if isinstance(self.internal_pattern, dict) else ()

    @property
    def internal_types(self) -> tuple[str, ...]:
        return _strings(self.internal_pattern.get("detail-type")) if isinstance(self.internal_pattern, dict) else ()


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()


def _row(op: dict[str, Any]) -> PatchRow:
    kind = str(op.get("op", "?"))
    path = op.get("path") if isinstance(op.get("path"), str) else None
    origin = op.get("from") if isinstance(op.get("from"), str) else None
    value = json_inline(op["value"]) if "value" in op else None
    if kind in ("move", "copy") and origin is not None and origin.startswith("/_lookups/"):
        return PatchRow(kind, origin, None, path, f"from the look-up {origin.split('/')[2]}")
    if kind == "move":
        return PatchRow(kind, origin, None, path, "renamed (moved) from the internal field")
    if kind == "copy":
        return PatchRow(kind, origin, None, path, "copied from the internal field")
    if kind == "add":
        return PatchRow(kind, None, value, path, "added with this value")
    if kind == "replace":
        return PatchRow(kind, None, value, path, "replaced with this value")
    if kind == "remove":
        return PatchRow(kind, path, None, None, "removed: never published")
    if kind == "test":
        return PatchRow(kind, path, value, None, "asserted: an internal event without it fails (dead-letter queue)")
    return PatchRow(kind, origin, value, path, "")


def enrichment_of(spec: EnrichmentSpec | None) -> Enrichment | None:
    """The table view of an event's typed ``x-enrichment`` (``None`` when the message has none)."""
    if spec is None:
        return None
    return Enrichment(internal_pattern=dict(spec.source_pattern),
                      rows=tuple(_row(dict(op)) for op in spec.patch),
                      lookups=spec.lookups,
                      prune=spec.prune, samples=len(spec.samples))
