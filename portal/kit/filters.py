"""Content filters a consumer may add to a rule: the payload fields whose schema fixes the values (``enum`` or
``const``), where the bus can read them — ``detail.data.<field>`` of an unsealed event. A sealed event's ``data`` is
a JWE/JWS token, so the bus can read none of its fields and the kit says so instead."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pipeline.contract.model import Event
from portal.kit.examples import is_sealed

#: Where an unsealed payload sits in the EventBridge event: ``detail`` is the CloudEvent, ``data`` its payload.
PAYLOAD_PATH = ("detail", "data")
_MAX_DEPTH = 8  # object nesting followed into a payload schema (deeper fields are no filter anyone writes)

Scalar = str | int | float | bool


@dataclass(frozen=True)
class FilterField:
    """A payload field (``path`` inside ``data``) and every value the schema allows for it."""

    path: tuple[str, ...]
    values: tuple[Scalar, ...]

    @property
    def name(self) -> str:
        return ".".join(self.path)


@dataclass(frozen=True)
class FilterOffer:
    """The content filters offered for an event or level: ``fields``, or ``unavailable`` saying why there are none."""

    fields: tuple[FilterField, ...] = ()
    unavailable: str | None = None

    def field(self, name: str) -> FilterField | None:
        return next((f for f in self.fields if f.name == name), None)


def sealed_reason(event: Event) -> str:
    return (f"{event.name} is sealed (x-sealing): the bus sees its payload (detail.data) only as a JWE/JWS compact "
            "token, so a rule cannot filter on payload fields; filter in the consumer after opening the event")


def filter_offer(event: Event) -> FilterOffer:
    """The content filters a rule on ``event`` can apply."""
    if is_sealed(event):
        return FilterOffer(unavailable=sealed_reason(event))
    document = event.payload.document if event.payload is not None and event.payload.is_json_schema else None
    fields = _fields(document, document, (), 0, frozenset()) if isinstance(document, Mapping) else {}
    if not fields:
        return FilterOffer(unavailable=f"no field of {event.name}'s payload has enum or const values to filter on")
    return FilterOffer(tuple(FilterField(path, tuple(values)) for path, values in fields.items()))


def common_offer(events: list[Event]) -> FilterOffer:
    """The filters every one of ``events`` offers (a field's values: those any of them allows)."""
    offers = [filter_offer(event) for event in events]
    sealed = [e for e, o in zip(events, offers, strict=True) if is_sealed(e)]
    if sealed:
        return FilterOffer(unavailable=sealed_reason(sealed[0]))
    if not offers:
        return FilterOffer(unavailable="no event to filter")
    names = [f.name for f in offers[0].fields if all(o.field(f.name) for o in offers[1:])]
    fields = []
    for name in names:
        values: dict[Any, None] = {}
        for offer in offers:
            found = offer.field(name)
            values.update(dict.fromkeys(found.values if found else ()))
        fields.append(FilterField(tuple(name.split(".")), tuple(values)))
    if not fields:
        return FilterOffer(unavailable="these events share no payload field with enum or const values")
    return FilterOffer(tuple(fields))


def filter_pattern(field: FilterField, values: list[Scalar]) -> dict[str, Any]:
    """The pattern fragment that keeps events whose ``field`` is one of ``values``."""
    node: dict[str, Any] = {field.path[-1]: list(values)}
    for key in reversed((*PAYLOAD_PATH, *field.path[:-1])):
        node = {key: node}
    return node


def merged(pattern: Mapping[str, Any], fragment: Mapping[str, Any]) -> dict[str, Any]:
    """``pattern`` with ``fragment``'s fields added (both are patterns: objects of objects, leaves are lists)."""
    result = dict(pattern)
    for key, value in fragment.items():
        if isinstance(value, Mapping) and isinstance(result.get(key), Mapping):
            result[key] = merged(result[key], value)
        else:
            result[key] = value
    return result


def _fields(root: Mapping[str, Any], node: Any, path: tuple[str, ...], depth: int,
            refs: frozenset[str]) -> dict[tuple[str, ...], list[Scalar]]:
    """Fields with enum/const values under ``node``, following local ``$ref`` and ``allOf`` (not ``oneOf``/``anyOf``:
    a field of one branch may be absent from an event)."""
    found: dict[tuple[str, ...], list[Scalar]] = {}
    if not isinstance(node, Mapping) or depth > _MAX_DEPTH:
        return found
    ref = node.get("$ref")
    if isinstance(ref, str):
        target = _resolve(root, ref)
        if target is not None and ref not in refs:
            found.update(_fields(root, target, path, depth + 1, refs | {ref}))
    values = _allowed(node)
    if values and path:
        found[path] = values
    for part in node.get("allOf") or ():
        for key, allowed in _fields(root, part, path, depth + 1, refs).items():
            found.setdefault(key, allowed)
    properties = node.get("properties")
    if isinstance(properties, Mapping):
        for name, child in properties.items():
            if isinstance(name, str) and name and "." not in name:
                for key, allowed in _fields(root, child, (*path, name), depth + 1, refs).items():
                    found.setdefault(key, allowed)
    return found


def _allowed(node: Mapping[str, Any]) -> list[Scalar]:
    if "const" in node:
        candidates = [node["const"]]
    elif isinstance(node.get("enum"), list):
        candidates = node["enum"]
    else:
        return []
    values = [v for v in candidates if isinstance(v, (str, int, float)) and not isinstance(v, bool)]
    return values if len(values) == len(candidates) else []  # a null or object value: no filter offered


def _resolve(root: Mapping[str, Any], ref: str) -> Any:
    if not ref.startswith("#"):
        return None
    node: Any = root
    for token in ref[1:].split("/")[1:]:
        token = token.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, Mapping) or token not in node:
            return None
        node = node[token]
    return node
