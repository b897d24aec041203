"""The house style guide for messages: every event is documented (title, summary, an example) and its payload
says what is required and what every property means.

Title, summary and examples are read from the model, traits merged, as a consumer sees the event. The payload is
read in the dereferenced view so each finding points at the property's own file and line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from ..errors import Location
from ..model import Event
from .findings import LintSeverity
from .registry import rule
from .target import LintTarget, is_schema_format_json

Findings = Iterator[tuple[str, Location]]
ERROR = LintSeverity.ERROR


def _events(target: LintTarget) -> Iterator[Event]:
    yield from target.document.events


@rule("eventdeck-message-title", ERROR, "house", "Every message has a title (the event's heading in the catalogue).")
def message_title(target: LintTarget) -> Findings:
    for event in _events(target):
        if not (event.title or "").strip():
            yield f"event {event.name} has no 'title'", event.location


@rule("eventdeck-message-summary", ERROR, "house", "Every message has a summary (one line: when it is published).")
def message_summary(target: LintTarget) -> Findings:
    for event in _events(target):
        if not (event.summary or "").strip():
            yield f"event {event.name} has no 'summary'", event.location


@rule("eventdeck-message-examples", ERROR, "house", "Every message has at least one example with a payload.")
def message_has_examples(target: LintTarget) -> Findings:
    for event in _events(target):
        if not any(example.has_payload for example in event.examples):
            yield f"event {event.name} has no example with a payload", event.location


def _payload(target: LintTarget, event: Event) -> tuple[Any, Location] | None:
    """The event's payload schema in the dereferenced view (and where it is), or ``None`` when it has none that
    is JSON Schema."""
    message = target.node_at(event.location)
    if isinstance(message, dict) and "payload" in message:
        payload = message["payload"]
        schema_format = message.get("schemaFormat")
        if target.major >= 3 and isinstance(payload, dict) and "schemaFormat" in payload and "schema" in payload:
            schema_format, payload = payload.get("schemaFormat"), payload.get("schema")
        if not is_schema_format_json(schema_format):
            return None
        return payload, target.where(message, "payload")
    if event.payload is not None and event.payload.is_json_schema:  # from a trait: the bundled schema
        return event.payload.document, event.payload.location
    return None


def _has_required(schema: Any, seen: set[int]) -> bool:
    """``required`` is declared on the object, or on an ``allOf`` part, or on every ``oneOf``/``anyOf`` branch."""
    if not isinstance(schema, dict) or id(schema) in seen:
        return False
    seen.add(id(schema))
    required = schema.get("required")
    if isinstance(required, list) and required:
        return True
    parts = schema.get("allOf")
    if isinstance(parts, list) and any(_has_required(p, seen) for p in parts):
        return True
    for key in ("oneOf", "anyOf"):
        branches = schema.get(key)
        if isinstance(branches, list) and branches and all(_has_required(b, set(seen)) for b in branches):
            return True
    return False


@rule("eventdeck-payload-required", ERROR, "house",
      "Every message has a payload schema that says which fields are required.")
def payload_required(target: LintTarget) -> Findings:
    for event in _events(target):
        found = _payload(target, event)
        if found is None:
            if event.payload is None:
                yield f"event {event.name} has no payload schema", event.location
            continue
        payload, where = found
        if not _has_required(payload, set()):
            yield f"the payload of {event.name} declares no 'required' fields (a consumer cannot tell what is " \
                  "always there)", where


def _described(schema: Any, seen: set[int]) -> bool:
    if not isinstance(schema, dict) or "$ref" in schema or id(schema) in seen:
        return True  # a kept $ref is a recursive schema, described where it is defined
    seen.add(id(schema))
    if isinstance(schema.get("description"), str) and schema["description"].strip():
        return True
    parts = schema.get("allOf")
    return isinstance(parts, list) and any(_described(p, seen) for p in parts if isinstance(p, dict) and p)


_WALK_ONE = ("items", "additionalProperties", "contains", "not", "if", "then", "else")
_WALK_MANY = ("anyOf", "oneOf", "prefixItems")


def _occurrences(schema: Any, seen: set[int]) -> Iterator[tuple[dict[str, Any], str, Any]]:
    """``(properties object, name, property schema)`` declared by ``schema`` or any of its ``allOf`` parts: the
    properties of the object it describes, wherever in the composition they are written."""
    if not isinstance(schema, dict) or id(schema) in seen:
        return
    seen.add(id(schema))
    properties = schema.get("properties")
    if isinstance(properties, dict):
        for name, child in properties.items():
            yield properties, name, child
    parts = schema.get("allOf")
    for part in parts if isinstance(parts, list) else ():
        yield from _occurrences(part, seen)


def undescribed_properties(schema: Any) -> Iterator[tuple[dict[str, Any], str]]:
    """``(properties object, name)`` of every property, at any depth, that no part of the composition describes.

    A property written in several ``allOf`` parts (a base schema and a refinement that narrows it) is one
    property: described when any of its declarations is."""
    stack: list[list[Any]] = [[schema]]
    done: set[frozenset[int]] = set()
    while stack:
        group = [s for s in stack.pop() if isinstance(s, dict)]
        key = frozenset(id(s) for s in group)
        if not group or key in done:
            continue
        done.add(key)
        by_name: dict[str, list[tuple[dict[str, Any], Any]]] = {}
        seen: set[int] = set()
        for member in group:
            for properties, name, child in _occurrences(member, seen):
                by_name.setdefault(name, []).append((properties, child))
            parts = member.get("allOf")
            for part in parts if isinstance(parts, list) else ():
                stack.extend([[part.get(k)] for k in _WALK_ONE] if isinstance(part, dict) else [])
            stack.extend([member.get(k)] for k in _WALK_ONE)
            for k in _WALK_MANY:
                value = member.get(k)
                stack.extend([item] for item in (value if isinstance(value, list) else ()))
            patterns = member.get("patternProperties")
            stack.extend([p] for p in (patterns.values() if isinstance(patterns, dict) else ()))
        for name, declarations in by_name.items():
            if not any(_described(child, set()) for _, child in declarations):
                yield declarations[0][0], name
            stack.append([child for _, child in declarations])


@rule("eventdeck-property-description", LintSeverity.WARN, "house",
      "Every property of a payload, at any depth, has a description.")
def property_description(target: LintTarget) -> Findings:
    reported: set[tuple[int, str]] = set()
    for event in _events(target):
        found = _payload(target, event)
        if found is None:
            continue
        for properties, name in undescribed_properties(found[0]):
            if (id(properties), name) not in reported:
                reported.add((id(properties), name))
                yield f"property '{name}' (payload of {event.name}) has no description", \
                    target.where(properties, name)


_VERSION = re.compile(r"(?<=[^0-9])V([0-9]+)$")
_SPELLED = re.compile(r"(Version|Ver)[0-9]+$")


@rule("eventdeck-versioned-types", ERROR, "house",
      "A breaking evolution is a new event type, named with a V<n> suffix on the event part "
      "(Payment.AuthorisedV2.Ecom); a deprecated event names its successor, which exists.")
def versioned_types(target: LintTarget) -> Findings:
    names = {event.name for event in target.catalogue.events}
    for event in _events(target):
        parts = event.parts
        if len(parts) >= 2:
            for index, part in enumerate(parts):
                version = _VERSION.search(part)
                if _SPELLED.search(part):
                    yield f"event {event.name}: spell a version as V<n> on the event part (e.g. " \
                          f"'{parts[0]}.{_SPELLED.sub('', parts[1])}V2')", event.location
                elif version and index != 1:
                    yield f"event {event.name}: the version suffix belongs on the event part ({{Entity}}." \
                          "{Event}V<n>.{Metadata}), so consumers can still filter by entity and metadata", \
                        event.location
                elif version and int(version.group(1)) < 2:
                    yield f"event {event.name}: the first version of an event has no suffix; a breaking " \
                          "evolution starts at V2", event.location
        lifecycle = event.lifecycle
        if lifecycle is not None and lifecycle.superseded_by and lifecycle.superseded_by not in names:
            yield f"event {event.name} is superseded by '{lifecycle.superseded_by}', which no document of the " \
                  "catalogue defines", event.location
