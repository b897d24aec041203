"""Extensions well formed, and personal data never published in the clear.

The eventdeck extensions' values are checked against their JSON Schemas by the loader (reported here); lint adds
what a schema of one value cannot see: an extension in a place where it means nothing (``x-enrichment`` on the
document), and a near-miss of a known name (``x-sealling``), which would otherwise be ignored silently.

Personal data is marked in payload schemas with ``x-pii: true`` on the property (or any subschema). An event
whose payload holds any must be sealed with encryption: a signature alone leaves the data readable on the bus.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..errors import Location
from ..extensions import EXTENSIONS_BY_PLACE, KNOWN_EXTENSIONS
from .diagnostics import _mapped
from .findings import LintSeverity
from .messages import _events, _payload
from .payloads import subschemas
from .registry import rule
from .target import LintTarget

Findings = Iterator[tuple[str, Location]]
PII = "x-pii"
_ALL_NAMES = (*KNOWN_EXTENSIONS, PII)


def _edits(a: str, b: str) -> int:
    """Levenshtein distance: insertions, deletions and substitutions that turn ``a`` into ``b``."""
    previous = list(range(len(b) + 1))
    for i, char in enumerate(a, 1):
        current = [i]
        for j, other in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char != other)))
        previous = current
    return previous[-1]


def near_miss(key: str) -> str | None:
    """The known extension ``key`` is probably a misspelling of: at most one edit in five characters. The same
    measure as ``spectral/functions/eventdeckExtensions.js``, so both tools agree."""
    best = min(_ALL_NAMES, key=lambda name: _edits(key, name))
    distance = _edits(key, best)
    return best if distance > 0 and distance * 5 <= max(len(key), len(best)) else None


def _places(target: LintTarget) -> Iterator[tuple[str, Any]]:
    """(kind of object, object) for every object an eventdeck extension may stand on, or be misplaced on."""
    yield "document", target.view
    yield "info", target.member("info")
    for server in target.mapping("servers").values():
        yield "server", server
    for message in target.messages():
        yield "message", message
    for _, channel in target.channels():
        yield "channel", channel
    for _, op in target.operations():
        yield "operation", op


@rule("eventdeck-extensions", LintSeverity.ERROR, "house",
      "eventdeck extensions are well formed, stand where they mean something, and are spelt right.")
def extensions(target: LintTarget) -> Findings:
    yield from _mapped(target, "eventdeck-extensions")
    seen: set[int] = set()
    for kind, node in _places(target):
        if not isinstance(node, dict) or id(node) in seen:
            continue
        seen.add(id(node))
        allowed = EXTENSIONS_BY_PLACE.get(kind, ())
        for key in node:
            if not isinstance(key, str) or not key.startswith("x-") or key in allowed:
                continue
            if key in KNOWN_EXTENSIONS:
                homes = [place for place, names in EXTENSIONS_BY_PLACE.items() if key in names]
                yield f"{key} has no meaning on a {kind} object; it belongs on: {', '.join(homes)}", \
                    target.where(node, key)
            elif key == PII:
                yield f"{PII} marks a payload property, not a {kind} object", target.where(node, key)
            else:
                close = near_miss(key)
                if close:
                    yield f"unknown extension {key}: did you mean {close}? (an unknown extension is ignored)", \
                        target.where(node, key)


@rule("eventdeck-pii-sealed", LintSeverity.ERROR, "house",
      "An event whose payload holds personal data (x-pii: true) is sealed with encryption.")
def pii_sealed(target: LintTarget) -> Findings:
    for event in _events(target):
        found = _payload(target, event)
        if found is None:
            continue
        marked: list[dict[str, Any]] = []
        for node in subschemas(found[0]):
            if PII not in node:
                continue
            if not isinstance(node[PII], bool):
                yield f"{PII} must be true or false, not {node[PII]!r}", target.where(node, PII)
            elif node[PII]:
                marked.append(node)
        if not marked:
            continue
        sealing = event.sealing
        where = target.where(marked[0], PII)
        if sealing is None:
            yield f"event {event.name} holds personal data ({len(marked)} field(s) marked {PII}) but declares no " \
                  "x-sealing; seal it with encryption", where
        elif sealing.problem is not None:
            continue  # malformed x-sealing: eventdeck-extensions reports it
        elif sealing.unsealed:
            yield f"event {event.name} holds personal data ({len(marked)} field(s) marked {PII}) but is published " \
                  f"unsealed (x-sealing: none, on the {sealing.declared_on})", where
        elif sealing.policy is not None and sealing.policy.encrypt is None:
            yield f"event {event.name} holds personal data ({len(marked)} field(s) marked {PII}) but its x-sealing " \
                  "only signs; add 'encrypt' so the data is not readable on the bus", where
