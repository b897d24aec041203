"""What a diff finds: one :class:`Change` per difference, classified as breaking, non-breaking or annotation-only.

Classification is from the consumer's side: a change is *breaking* when a consumer built (or a validator compiled)
for the old contract may fail on events of the new one — a field it reads is gone, a value it was promised is no
longer promised, a value it accepts may now be refused, or it can no longer open or find the event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Impact(StrEnum):
    """How a change affects consumers, most severe first in :data:`IMPACT_ORDER`."""

    BREAKING = "breaking"
    NON_BREAKING = "non-breaking"
    ANNOTATION = "annotation"


IMPACT_ORDER = (Impact.BREAKING, Impact.NON_BREAKING, Impact.ANNOTATION)


class Kind(StrEnum):
    """Every kind of change the differ reports (the ``kind`` of a :class:`Change`)."""

    EVENT_REMOVED = "event-removed"
    EVENT_ADDED = "event-added"
    FIELD_REMOVED = "field-removed"
    FIELD_RENAMED = "field-renamed"
    FIELD_ADDED_REQUIRED = "field-added-required"
    FIELD_ADDED_OPTIONAL = "field-added-optional"
    FIELD_NOW_REQUIRED = "field-now-required"
    FIELD_NOW_OPTIONAL = "field-now-optional"
    TYPE_NARROWED = "type-narrowed"
    TYPE_WIDENED = "type-widened"
    ENUM_VALUE_REMOVED = "enum-value-removed"
    ENUM_WIDENED = "enum-widened"
    CONSTRAINT_TIGHTENED = "constraint-tightened"
    CONSTRAINT_RELAXED = "constraint-relaxed"
    ADDITIONAL_PROPERTIES_CLOSED = "additional-properties-closed"
    ADDITIONAL_PROPERTIES_OPENED = "additional-properties-opened"
    VARIANT_REMOVED = "variant-removed"
    VARIANT_ADDED = "variant-added"
    SCHEMA_CHANGED = "schema-changed"
    PAYLOAD_REMOVED = "payload-removed"
    PAYLOAD_ADDED = "payload-added"
    SEALING_CHANGED = "sealing-changed"
    KEY_ROTATED = "key-rotated"
    BUS_CHANGED = "bus-changed"
    CONTENT_TYPE_CHANGED = "content-type-changed"
    ANNOTATION_CHANGED = "annotation-changed"
    EXAMPLES_CHANGED = "examples-changed"
    LIFECYCLE_CHANGED = "lifecycle-changed"


#: The impact of each kind; the differ never decides an impact anywhere else.
IMPACT: dict[Kind, Impact] = {
    Kind.EVENT_REMOVED: Impact.BREAKING,
    Kind.EVENT_ADDED: Impact.NON_BREAKING,
    Kind.FIELD_REMOVED: Impact.BREAKING,
    Kind.FIELD_RENAMED: Impact.BREAKING,
    Kind.FIELD_ADDED_REQUIRED: Impact.BREAKING,
    Kind.FIELD_ADDED_OPTIONAL: Impact.NON_BREAKING,
    Kind.FIELD_NOW_REQUIRED: Impact.BREAKING,
    # A consumer reads what it was promised: a field that may now be missing breaks it as a removed one would.
    Kind.FIELD_NOW_OPTIONAL: Impact.BREAKING,
    Kind.TYPE_NARROWED: Impact.BREAKING,
    Kind.TYPE_WIDENED: Impact.NON_BREAKING,
    Kind.ENUM_VALUE_REMOVED: Impact.BREAKING,
    Kind.ENUM_WIDENED: Impact.NON_BREAKING,
    Kind.CONSTRAINT_TIGHTENED: Impact.BREAKING,
    Kind.CONSTRAINT_RELAXED: Impact.NON_BREAKING,
    Kind.ADDITIONAL_PROPERTIES_CLOSED: Impact.BREAKING,
    Kind.ADDITIONAL_PROPERTIES_OPENED: Impact.NON_BREAKING,
    Kind.VARIANT_REMOVED: Impact.BREAKING,
    Kind.VARIANT_ADDED: Impact.NON_BREAKING,
    # A keyword the differ cannot order (not, if/then/else, patternProperties...): assume the worst.
    Kind.SCHEMA_CHANGED: Impact.BREAKING,
    Kind.PAYLOAD_REMOVED: Impact.BREAKING,
    Kind.PAYLOAD_ADDED: Impact.NON_BREAKING,
    Kind.SEALING_CHANGED: Impact.BREAKING,
    # A new key id under the same algorithms is a rotation: consumers fetch keys by kid from the JWKS.
    Kind.KEY_ROTATED: Impact.NON_BREAKING,
    Kind.BUS_CHANGED: Impact.BREAKING,
    Kind.CONTENT_TYPE_CHANGED: Impact.BREAKING,
    Kind.ANNOTATION_CHANGED: Impact.ANNOTATION,
    Kind.EXAMPLES_CHANGED: Impact.ANNOTATION,
    Kind.LIFECYCLE_CHANGED: Impact.ANNOTATION,
}


@dataclass(frozen=True, slots=True)
class Change:
    """One difference between two versions of an event.

    ``where`` is a JSON pointer into the event: ``/payload/properties/amount``, ``/headers/...``, ``/sealing``,
    ``/bus``, ``/description``; empty for the event as a whole. ``old``/``new`` are the values compared (plain
    JSON, or ``None`` when absent), kept short for display."""

    kind: Kind
    event: str
    where: str
    message: str
    old: Any = None
    new: Any = None

    @property
    def impact(self) -> Impact:
        return IMPACT[self.kind]

    def to_dict(self) -> dict[str, Any]:
        return {"event": self.event, "impact": self.impact.value, "kind": self.kind.value, "where": self.where,
                "message": self.message, "old": self.old, "new": self.new}


@dataclass(frozen=True, slots=True)
class EventDiff:
    """The changes of one event (by name) between two versions; ``document`` is the id of its document in the new
    version (the old one's for a removed event)."""

    event: str
    document: str
    changes: tuple[Change, ...]
    old_version: str | None = None
    new_version: str | None = None
    old_retiring: bool = False
    """The old version had marked the event deprecated or retired (``x-lifecycle``)."""

    @property
    def impact(self) -> Impact | None:
        """The most severe impact among the changes (``None``: unchanged)."""
        impacts = {c.impact for c in self.changes}
        return next((i for i in IMPACT_ORDER if i in impacts), None)

    @property
    def added(self) -> bool:
        return any(c.kind is Kind.EVENT_ADDED for c in self.changes)

    @property
    def removed(self) -> bool:
        return any(c.kind is Kind.EVENT_REMOVED for c in self.changes)


@dataclass(frozen=True, slots=True)
class CatalogueDiff:
    """Every event's changes between two versions of a catalogue, and each document's ``info.version`` in both."""

    events: tuple[EventDiff, ...]
    versions: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    """document id -> (old ``info.version``, new ``info.version``); ``None`` where the document does not exist."""

    @property
    def changes(self) -> tuple[Change, ...]:
        return tuple(c for e in self.events for c in e.changes)

    def of_impact(self, impact: Impact) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.impact is impact)

    @property
    def changed(self) -> tuple[EventDiff, ...]:
        return tuple(e for e in self.events if e.changes)
