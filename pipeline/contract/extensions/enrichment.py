"""``x-enrichment``, typed: how a public event is made from an internal one.

Parsed and checked when the contract loads — the internal-event pattern compiles, every patch operation is a
well-formed RFC 6902 operation (``jsonpatch`` parses it), the subject is a JSON Pointer — so the producer compiles
what is already known to be valid, and a malformed value is a diagnostic with its file, line and pointer, never a
failure on the first event.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jsonpatch
import jsonpointer

from pipeline.patterns import PatternError, compile_pattern

from ..errors import Location

_NEEDS = {"add": "value", "replace": "value", "test": "value", "move": "from", "copy": "from"}


class EnrichmentSpecError(ValueError):
    """A malformed ``x-enrichment`` member; ``member`` is its JSON pointer below the extension."""

    def __init__(self, message: str, member: str) -> None:
        super().__init__(message)
        self.member = member


@dataclass(frozen=True, slots=True)
class Lookup:
    """One look-up: an HTTP GET of ``url`` (a template with ``{/json/pointer}`` placeholders) or a call of
    ``callable`` (``package.module:function``), whose result is placed at ``/_lookups/<name>``."""

    name: str
    url: str | None = None
    callable: str | None = None
    timeout: float = 2.0


@dataclass(frozen=True, slots=True)
class Sample:
    """A sample internal event that must enrich (with the canned look-up results) into the named example."""

    example: str
    event: Mapping[str, Any]
    lookups: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Enrichment:
    """A message's ``x-enrichment``: the EventBridge pattern selecting its internal events (``source_pattern``,
    the extension's ``from``), the RFC 6902 operations, look-ups, whether undeclared fields are pruned, the JSON
    Pointer of the CloudEvents ``subject``, and the samples."""

    source_pattern: Mapping[str, Any]
    patch: tuple[Mapping[str, Any], ...]
    lookups: tuple[Lookup, ...] = ()
    prune: bool = False
    subject: str | None = None
    samples: tuple[Sample, ...] = ()
    location: Location | None = None

    @classmethod
    def parse(cls, value: Any, location: Location | None = None) -> Enrichment:
        """The typed extension. :raises EnrichmentSpecError: naming the member (a pointer below the extension)."""
        if not isinstance(value, Mapping):
            raise EnrichmentSpecError("expected an object with 'from' and 'patch'", "")
        pattern = value.get("from")
        if not isinstance(pattern, Mapping):
            raise EnrichmentSpecError("expected an EventBridge event pattern (an object)", "/from")
        try:
            compile_pattern(pattern)
        except PatternError as exc:
            raise EnrichmentSpecError(str(exc), "/from" + exc.path) from None
        operations = value.get("patch")
        if not isinstance(operations, list):
            raise EnrichmentSpecError("expected a list of JSON Patch operations", "/patch")
        for index, operation in enumerate(operations):
            op = operation.get("op") if isinstance(operation, Mapping) else None
            needed = _NEEDS.get(op) if isinstance(op, str) else None
            if needed is not None and needed not in operation:
                raise EnrichmentSpecError(f"'{operation['op']}' operation without a '{needed}' member",
                                          f"/patch/{index}")
        try:
            jsonpatch.JsonPatch(operations)
        except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException, TypeError, KeyError) as exc:
            raise EnrichmentSpecError(f"invalid JSON Patch: {exc}", "/patch") from None
        subject = value.get("subject")
        if subject is not None:
            try:
                jsonpointer.JsonPointer(subject)
            except (jsonpointer.JsonPointerException, TypeError, AttributeError) as exc:
                raise EnrichmentSpecError(f"not a JSON Pointer: {exc}", "/subject") from None
        return cls(source_pattern=pattern, patch=tuple(operations), lookups=_lookups(value.get("lookups")),
                   prune=value.get("prune") is True, subject=subject, samples=_samples(value.get("samples")),
                   location=location)


def _lookups(value: Any) -> tuple[Lookup, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise EnrichmentSpecError("expected a list of look-ups", "/lookups")
    out = []
    for index, item in enumerate(value):
        name = item.get("name") if isinstance(item, Mapping) else None
        url, target = (item.get("url"), item.get("callable")) if isinstance(item, Mapping) else (None, None)
        if not isinstance(name, str) or (url is None) == (target is None):
            raise EnrichmentSpecError("a look-up has a 'name' and exactly one of 'url' or 'callable'",
                                      f"/lookups/{index}")
        timeout = item.get("timeout", 2.0)
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 0 < timeout <= 30:
            raise EnrichmentSpecError("timeout is a number of seconds in (0, 30]", f"/lookups/{index}/timeout")
        out.append(Lookup(name, url if isinstance(url, str) else None,
                          target if isinstance(target, str) else None, float(timeout)))
    return tuple(out)


def _samples(value: Any) -> tuple[Sample, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise EnrichmentSpecError("expected a list of samples", "/samples")
    out = []
    for index, item in enumerate(value):
        if not (isinstance(item, Mapping) and isinstance(item.get("example"), str)
                and isinstance(item.get("event"), Mapping)):
            raise EnrichmentSpecError("a sample has an 'example' name and an internal 'event' object",
                                      f"/samples/{index}")
        lookups = item.get("lookups")
        out.append(Sample(item["example"], item["event"], lookups if isinstance(lookups, Mapping) else None))
    return tuple(out)
