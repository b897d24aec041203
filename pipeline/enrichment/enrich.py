"""Turn an internal event's ``detail`` into the public payload, as the message's ``x-enrichment`` declares.

Order (documented in docs/reference/extensions.md): copy the detail; run the look-ups and place their results at
``/_lookups/<name>``; apply the JSON Patch (RFC 6902) operation by operation; drop ``/_lookups``; prune properties
the payload schema does not declare (when ``prune: true``). Patches and look-ups are parsed, checked and compiled
once, when the contract is loaded; a failure while enriching one event is an :class:`EnrichmentFailed` naming the
event id and the operation index.

Both the patch (:mod:`.patch`) and the pruner (:mod:`.prune`) are compiled into closures because enrichment runs
for every event on the producer's hot path: the patch copies only the containers it writes to (copy-on-write), and
the pruner returns the very objects it was given wherever nothing is dropped.
"""

from __future__ import annotations

import importlib
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import jsonpatch
import jsonpointer

from pipeline.contract.extensions import Lookup as LookupSpec
from pipeline.contract.model import Event
from pipeline.enrichment.patch import Patch, PatchFailed, compile_patch
from pipeline.enrichment.prune import Pruner
from pipeline.errors import EventdeckError

LOOKUPS_KEY = "_lookups"
_MAX_LOOKUP_BYTES = 1024 * 1024


class EnrichmentError(EventdeckError, ValueError):
    """The ``x-enrichment`` of a message cannot be used (found when the contract is loaded)."""

    def __init__(self, event: str, message: str) -> None:
        self.event = event
        super().__init__(f"x-enrichment of {event}: {message}")


class EnrichmentFailed(EventdeckError, ValueError):
    """Enriching one internal event failed; the event goes to the dead-letter record, not lost."""

    def __init__(self, event_id: str | None, event: str, message: str, operation: int | None = None) -> None:
        self.event_id = event_id
        self.event = event
        self.operation = operation
        where = f" (patch operation #{operation})" if operation is not None else ""
        super().__init__(f"event {event_id}: enriching into {event} failed{where}: {message}")


Lookup = Callable[[Mapping[str, Any]], Any]


@dataclass(frozen=True)
class Enrichment:
    """One message's compiled enrichment. ``apply`` is pure: the internal event is never modified."""

    event: str
    patch: Patch
    lookups: tuple[tuple[str, Lookup], ...]
    pruner: Pruner | None
    subject: jsonpointer.JsonPointer | None = None

    def subject_of(self, payload: Any) -> str | None:
        """The CloudEvents ``subject``: the payload value ``x-enrichment.subject`` points at, as text."""
        return _subject(self.subject, payload)

    def apply(self, detail: Mapping[str, Any], *, event_id: str | None = None,
              lookup_results: Mapping[str, Any] | None = None) -> Any:
        """The public payload for ``detail``. ``lookup_results`` replaces running the look-ups (tests, replays).

        ``detail`` is never modified; the result may share the subtrees no operation touched with it (and with the
        look-up results), so treat both as read-only."""
        if not (isinstance(detail, (dict, Mapping))):
            raise EnrichmentFailed(event_id, self.event, "the internal event's detail is not an object")
        document: Any = dict(detail)
        owned = {id(document)}
        if self.lookups:
            if lookup_results is not None and not isinstance(lookup_results, (dict, Mapping)):
                raise EnrichmentFailed(event_id, self.event, "the canned look-up results are not an object")
            results = dict(lookup_results) if lookup_results is not None else self._run_lookups(detail, event_id)
            document[LOOKUPS_KEY] = results
            owned.add(id(results))
        try:
            document = self.patch.apply(document, owned)
        except PatchFailed as exc:
            raise EnrichmentFailed(event_id, self.event, str(exc), exc.index) from None
        if isinstance(document, dict) and LOOKUPS_KEY in document:
            if id(document) in owned:
                del document[LOOKUPS_KEY]
            else:  # the patch put a shared object at the root (``copy`` to ""): leave that object alone
                document = {key: value for key, value in document.items() if key != LOOKUPS_KEY}
        if self.pruner is not None:
            document = self.pruner.prune(document)
        return document

    def _run_lookups(self, detail: Mapping[str, Any], event_id: str | None) -> dict[str, Any]:
        results = {}
        for name, lookup in self.lookups:
            try:
                results[name] = lookup(detail)
            except Exception as exc:
                raise EnrichmentFailed(event_id, self.event, f"look-up '{name}' failed: {exc}") from None
        return results


def subject_pointer(event: Event) -> jsonpointer.JsonPointer | None:
    """The compiled ``x-enrichment.subject`` pointer of ``event``, if it declares one."""
    text = event.enrichment.subject if event.enrichment is not None else None
    if not text:
        return None
    try:
        return jsonpointer.JsonPointer(text)
    except jsonpointer.JsonPointerException as exc:  # checked when the contract loaded; kept for hand-made events
        raise EnrichmentError(event.name, f"subject: {exc}") from None


def event_subject(event: Event, payload: Any) -> str | None:
    """The CloudEvents ``subject`` the pipeline stamps on ``event`` carrying ``payload`` (for documentation)."""
    return _subject(subject_pointer(event), payload)


def _subject(pointer: jsonpointer.JsonPointer | None, payload: Any) -> str | None:
    value = pointer.resolve(payload, None) if pointer is not None else None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None  # absent, or not an identifier: CloudEvents `subject` is left out
    return str(value)


def compile_enrichment(event: Event) -> Enrichment | None:
    """The compiled ``x-enrichment`` of ``event``, or None when it has none. Raises :class:`EnrichmentError`."""
    spec = event.enrichment
    if spec is None:
        return None
    try:
        patch = compile_patch(list(spec.patch))
    except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException) as exc:
        raise EnrichmentError(event.name, f"invalid JSON Patch: {exc}") from None
    lookups = tuple((item.name, _compile_lookup(event.name, item)) for item in spec.lookups)
    pruner = Pruner(event.payload) if spec.prune and event.payload is not None else None
    return Enrichment(event.name, patch, lookups, pruner, subject_pointer(event))


def _compile_lookup(event: str, item: LookupSpec) -> Lookup:
    if item.callable is not None:
        module_name, _, attribute = item.callable.partition(":")
        try:
            function = getattr(importlib.import_module(module_name), attribute)
        except (ImportError, AttributeError, ValueError) as exc:
            raise EnrichmentError(event, f"look-up '{item.name}': cannot import {item.callable}: {exc}") from None
        return function  # type: ignore[no-any-return]
    template = str(item.url)
    timeout = item.timeout

    def fetch(detail: Mapping[str, Any]) -> Any:
        url = _expand(template, detail)
        request = urllib.request.Request(url, headers={"Accept": "application/json"})
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read(_MAX_LOOKUP_BYTES + 1)
        if len(body) > _MAX_LOOKUP_BYTES:
            raise ValueError(f"response from {url} is over {_MAX_LOOKUP_BYTES} bytes")
        return json.loads(body)

    return fetch


def _expand(template: str, detail: Mapping[str, Any]) -> str:
    """Fill ``{/json/pointer}`` placeholders from the internal detail, each as one percent-encoded path segment."""
    out, rest = [], template
    while "{" in rest:
        before, _, after = rest.partition("{")
        pointer, _, rest = after.partition("}")
        value = jsonpointer.resolve_pointer(detail, pointer)
        out += [before, urllib.parse.quote(str(value), safe="")]
    return "".join(out) + rest


# -- JSON Patch, compiled -----------------------------------------------------------------------------------------
