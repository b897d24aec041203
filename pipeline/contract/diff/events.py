"""Compare two versions of a catalogue event by event: schemas, sealing, bus, content type and annotations.

Events are paired by their catalogue key (the event name, unless two documents use the same name).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from ..model import Catalogue, Document, Event, Schema
from .changes import CatalogueDiff, Change, EventDiff, Kind
from .schema import canonical, schema_changes, short


@dataclass(frozen=True, slots=True)
class Placed:
    """An event with the document it is defined in (its bus and default sealing come from there)."""

    event: Event
    document: Document | None


def placed(catalogue: Catalogue, document_ids: Iterable[str] | None = None) -> dict[str, Placed]:
    """The events of ``catalogue`` (only those of ``document_ids`` when given), by key."""
    documents = {d.id: d for d in catalogue.documents}
    wanted = set(document_ids) if document_ids is not None else None
    return {e.key: Placed(e, documents.get(e.document_id)) for e in catalogue.events
            if wanted is None or e.document_id in wanted}


def diff_catalogues(old: Catalogue, new: Catalogue) -> CatalogueDiff:
    """Every event's classified changes from ``old`` to ``new``, and each document's versions."""
    # Two single documents are two versions of one document, whatever their files are called (v1.yaml, v2.yaml).
    same = {new.documents[0].id: old.documents[0].id} if len(old.documents) == len(new.documents) == 1 else {}
    versions: dict[str, tuple[str | None, str | None]] = {d.id: (d.info.version, None) for d in old.documents}
    for document in new.documents:
        key = same.get(document.id, document.id)
        versions[key] = (versions.get(key, (None, None))[0], document.info.version)
    events = tuple(replace(e, document=same.get(e.document, e.document)) if e.document in same else e
                   for e in diff_events(placed(old), placed(new)))
    return CatalogueDiff(events, versions)


def diff_events(old: Mapping[str, Placed], new: Mapping[str, Placed]) -> tuple[EventDiff, ...]:
    """The changes of every event present in ``old`` or ``new`` (unchanged events have no changes)."""
    diffs = []
    for key in sorted(set(old) | set(new)):
        before, after = old.get(key), new.get(key)
        if after is None:
            assert before is not None
            lifecycle = before.event.lifecycle
            diffs.append(EventDiff(before.event.name, before.event.document_id, (
                Change(Kind.EVENT_REMOVED, before.event.name, "", f"event {before.event.name} removed"),),
                before.event.version, None, lifecycle is not None and lifecycle.retiring))
        elif before is None:
            diffs.append(EventDiff(after.event.name, after.event.document_id, (
                Change(Kind.EVENT_ADDED, after.event.name, "", f"new event {after.event.name}"),),
                None, after.event.version))
        else:
            lifecycle = before.event.lifecycle
            diffs.append(EventDiff(after.event.name, after.event.document_id,
                                   tuple(event_changes(before, after)), before.event.version, after.event.version,
                                   lifecycle is not None and lifecycle.retiring))
    return tuple(diffs)


def event_changes(old: Placed, new: Placed) -> list[Change]:
    """The classified differences between two versions of one event."""
    name = new.event.name
    changes: list[Change] = []
    changes += _schema(name, "payload", old.event.payload, new.event.payload)
    changes += _schema(name, "headers", old.event.headers, new.event.headers)
    if old.event.content_type != new.event.content_type:
        changes.append(Change(Kind.CONTENT_TYPE_CHANGED, name, "/contentType",
                              f"content type changed from {old.event.content_type} to {new.event.content_type}",
                              old.event.content_type, new.event.content_type))
    changes += _sealing(name, old.event, new.event)
    before, after = _routing(old.document), _routing(new.document)
    if before != after:
        changes.append(Change(Kind.BUS_CHANGED, name, "/bus",
                              f"published elsewhere: {_describe_routing(before)} → {_describe_routing(after)}",
                              _describe_routing(before), _describe_routing(after)))
    for attribute in ("title", "summary", "description"):
        was, now = getattr(old.event, attribute), getattr(new.event, attribute)
        if was != now:
            verb = "added" if was is None else "removed" if now is None else "changed"
            changes.append(Change(Kind.ANNOTATION_CHANGED, name, f"/{attribute}", f"{attribute} {verb}",
                                  short(was), short(now)))
    if canonical([t.name for t in old.event.tags]) != canonical([t.name for t in new.event.tags]):
        changes.append(Change(Kind.ANNOTATION_CHANGED, name, "/tags", "tags changed",
                              [t.name for t in old.event.tags], [t.name for t in new.event.tags]))
    if _examples(old.event) != _examples(new.event):
        changes.append(Change(Kind.EXAMPLES_CHANGED, name, "/examples", "examples changed",
                              len(old.event.examples), len(new.event.examples)))
    was, now = old.event.lifecycle, new.event.lifecycle
    if was != now:
        changes.append(Change(Kind.LIFECYCLE_CHANGED, name, "/x-lifecycle",
                              f"lifecycle {_lifecycle(was)} → {_lifecycle(now)}", _lifecycle(was), _lifecycle(now)))
    return changes


def _schema(name: str, part: str, old: Schema | None, new: Schema | None) -> list[Change]:
    if old is None and new is None:
        return []
    if new is None:
        return [Change(Kind.PAYLOAD_REMOVED, name, f"/{part}", f"{part} schema removed")]
    if old is None:
        kind = Kind.PAYLOAD_ADDED if part == "payload" else Kind.CONSTRAINT_TIGHTENED
        return [Change(kind, name, f"/{part}", f"{part} schema added")]
    if not (old.is_json_schema and new.is_json_schema):
        if old.format != new.format or canonical(old.document) != canonical(new.document):
            return [Change(Kind.SCHEMA_CHANGED, name, f"/{part}",
                           f"{part} schema ({new.format}) changed; eventdeck compares JSON Schema only")]
        return []
    return schema_changes(name, old.document, new.document, f"/{part}")


def _sealing(name: str, old: Event, new: Event) -> list[Change]:
    before, after = _sealing_shape(old), _sealing_shape(new)
    if before == after:
        return []
    if before[0] == after[0]:
        return [Change(Kind.KEY_ROTATED, name, "/sealing", f"key ids changed: {_kids(old)} → {_kids(new)}",
                       _kids(old), _kids(new))]
    return [Change(Kind.SEALING_CHANGED, name, "/sealing",
                   f"sealing changed: {_describe_sealing(old)} → {_describe_sealing(new)}",
                   _describe_sealing(old), _describe_sealing(new))]


def _sealing_shape(event: Event) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    """(what a consumer must do to open the event, which key ids it needs)."""
    sealing = event.sealing
    policy = sealing.policy if sealing is not None else None
    if policy is None:
        return (("none" if sealing is None or sealing.unsealed else f"invalid: {sealing.problem}",), ())
    encrypt = policy.encrypt
    return ((policy.sign.alg, encrypt.alg if encrypt else None, encrypt.enc if encrypt else None,
             bool(policy.compress and encrypt), policy.issuer), policy.kids)


def _describe_sealing(event: Event) -> str:
    shape = _sealing_shape(event)[0]
    if len(shape) == 1:
        return str(shape[0])
    sign, alg, enc, compress, issuer = shape
    text = f"signed {sign}"
    if alg:
        text += f", encrypted {alg}/{enc}" + (", compressed" if compress else "")
    return text + f", issuer {issuer}"


def _kids(event: Event) -> str:
    return ", ".join(kid for kid, _ in _sealing_shape(event)[1]) or "none"


def _routing(document: Document | None) -> tuple[Any, ...]:
    if document is None:
        return ()
    bridges = [document.eventbridge, *(s.eventbridge for s in document.servers)]
    return tuple(sorted({(b.bus, b.source, b.region, b.account) for b in bridges if b is not None}, key=str))


def _describe_routing(routing: tuple[Any, ...]) -> str:
    if not routing:
        return "no x-eventbridge"
    return "; ".join(f"bus {bus}, source {source}" + (f", {region}" if region else "") +
                     (f", account {account}" if account else "") for bus, source, region, account in routing)


def _examples(event: Event) -> str:
    return canonical([[x.name, x.summary, x.payload, x.headers] for x in event.examples])


def _lifecycle(value: Any) -> str:
    if value is None:
        return "none"
    parts = [value.status or "?"]
    if value.superseded_by:
        parts.append(f"superseded by {value.superseded_by}")
    if value.sunset:
        parts.append(f"sunset {value.sunset}")
    return ", ".join(parts)
