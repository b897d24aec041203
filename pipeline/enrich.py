"""Turn an internal event's ``detail`` into the public payload, as the message's ``x-enrichment`` declares.

Order (documented in docs/reference/extensions.md): copy the detail; run the look-ups and place their results at
``/_lookups/<name>``; apply the JSON Patch (RFC 6902) operation by operation; drop ``/_lookups``; prune properties
the payload schema does not declare (when ``prune: true``). Patches and look-ups are parsed and checked once, when
the contract is loaded; a failure while enriching one event is an :class:`EnrichmentFailed` naming the event id
and the operation index.
"""

from __future__ import annotations

import importlib
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import jsonpatch
import jsonpointer

from .contract.model import Event, Schema
from .contract.schemas import validator_for

LOOKUPS_KEY = "_lookups"
_MAX_LOOKUP_BYTES = 1024 * 1024


class EnrichmentError(ValueError):
    """The ``x-enrichment`` of a message cannot be used (found when the contract is loaded)."""

    def __init__(self, event: str, message: str) -> None:
        self.event = event
        super().__init__(f"x-enrichment of {event}: {message}")


class EnrichmentFailed(ValueError):
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
    operations: tuple[jsonpatch.PatchOperation, ...]
    lookups: tuple[tuple[str, Lookup], ...]
    prune_schema: Schema | None
    # Per operation, the parent paths it mutates: only containers along those are copied (copy-on-write).
    writes: tuple[tuple[tuple[str, ...], ...], ...] = ()
    subject: jsonpointer.JsonPointer | None = None

    def subject_of(self, payload: Any) -> str | None:
        """The CloudEvents ``subject``: the payload value ``x-enrichment.subject`` points at, as text."""
        return _subject(self.subject, payload)

    def apply(self, detail: Mapping[str, Any], *, event_id: str | None = None,
              lookup_results: Mapping[str, Any] | None = None) -> Any:
        """The public payload for ``detail``. ``lookup_results`` replaces running the look-ups (tests, replays).

        ``detail`` is never modified; the result may share the subtrees no operation touched with it (and with the
        look-up results), so treat both as read-only."""
        if not isinstance(detail, Mapping):
            raise EnrichmentFailed(event_id, self.event, "the internal event's detail is not an object")
        document: Any = dict(detail)
        copied = {id(document)}
        if self.lookups:
            results = dict(lookup_results) if lookup_results is not None else self._run_lookups(detail, event_id)
            document[LOOKUPS_KEY] = results
            copied.add(id(results))
        for index, operation in enumerate(self.operations):
            for parent in self.writes[index]:
                _copy_along(document, parent, copied)
            try:
                document = operation.apply(document)
            except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException) as exc:
                raise EnrichmentFailed(event_id, self.event, f"{operation.operation['op']} "
                                       f"{operation.operation['path']}: {exc}", index) from None
        if isinstance(document, dict):
            document.pop(LOOKUPS_KEY, None)
        if self.prune_schema is not None:
            document = prune(document, self.prune_schema)
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
    spec = event.extension("x-enrichment")
    text = spec.get("subject") if isinstance(spec, Mapping) else None
    if not text:
        return None
    try:
        return jsonpointer.JsonPointer(text)
    except jsonpointer.JsonPointerException as exc:
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
    spec = event.extension("x-enrichment")
    if spec is None:
        return None
    if not isinstance(spec, Mapping) or not isinstance(spec.get("patch"), list):
        raise EnrichmentError(event.name, "expected an object with a 'patch' list")
    try:
        patch = jsonpatch.JsonPatch(spec["patch"])
        # Parsed once here; jsonpatch exposes parsed operations only through this long-lived method.
        operations = tuple(patch._get_operation(op) for op in patch.patch)  # type: ignore[attr-defined]
    except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException, TypeError, KeyError) as exc:
        raise EnrichmentError(event.name, f"invalid JSON Patch: {exc}") from None
    lookups = tuple((item["name"], _compile_lookup(event.name, item)) for item in spec.get("lookups") or ())
    prune_schema = event.payload if spec.get("prune") and event.payload is not None else None
    writes = tuple(_written_parents(op) for op in spec["patch"])
    return Enrichment(event.name, operations, lookups, prune_schema, writes, subject_pointer(event))


def _written_parents(op: Mapping[str, Any]) -> tuple[tuple[str, ...], ...]:
    """The parent containers an RFC 6902 operation mutates (``test`` none, ``move`` two)."""
    if op["op"] == "test":
        return ()
    paths = [op["path"]] + ([op["from"]] if op["op"] == "move" else [])
    return tuple(tuple(jsonpointer.JsonPointer(path).parts[:-1]) for path in paths)


def _copy_along(document: Any, parts: tuple[str, ...], copied: set[int]) -> None:
    """Shallow-copy each container on the way down ``parts`` (once), so the operation mutates only our copies."""
    node = document
    for token in parts:
        if isinstance(node, dict):
            if token not in node:
                return
            child = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            child = node[int(token)]
        else:
            return  # the operation itself will report the missing path
        if isinstance(child, dict | list) and id(child) not in copied:
            child = dict(child) if isinstance(child, dict) else list(child)
            copied.add(id(child))
            node[token if isinstance(node, dict) else int(token)] = child
        node = child


def _compile_lookup(event: str, item: Mapping[str, Any]) -> Lookup:
    if "callable" in item:
        module_name, _, attribute = str(item["callable"]).partition(":")
        try:
            function = getattr(importlib.import_module(module_name), attribute)
        except (ImportError, AttributeError, ValueError) as exc:
            raise EnrichmentError(event, f"look-up '{item['name']}': cannot import {item['callable']}: {exc}") from None
        return function  # type: ignore[no-any-return]
    template = str(item["url"])
    timeout = float(item.get("timeout", 2.0))

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


# -- pruning ------------------------------------------------------------------------------------------------------
def prune(value: Any, schema: Schema) -> Any:
    """``value`` without the object properties its schema does not declare.

    A property is kept if any schema that applies declares it (the union across ``allOf`` and ``$ref``s); for
    ``oneOf``/``anyOf`` the first branch the value is valid against applies; objects whose schemas declare no
    properties at all are left as they are.
    """
    return pruner_for(schema).prune(value)


_PRUNERS: dict[int, tuple[Schema, Pruner]] = {}


def pruner_for(schema: Schema) -> Pruner:
    found = _PRUNERS.get(id(schema))
    if found is None or found[0] is not schema:
        found = _PRUNERS[id(schema)] = (schema, Pruner(schema))
    return found[1]


@dataclass(frozen=True)
class _Plan:
    """What applies at one place of the schema, when that does not depend on the value (no oneOf/anyOf)."""

    declared: dict[str, tuple[Any, ...]] | None  # None: free-form object, keep as is
    items: tuple[Any, ...]
    patterns: tuple[tuple[re.Pattern[str], Any], ...] = ()

    def schemas_for(self, key: str) -> tuple[Any, ...] | None:
        """The subschemas that declare ``key`` (by name or ``patternProperties``), or None if none does."""
        named = self.declared.get(key) if self.declared is not None else None
        matched = tuple(sub for pattern, sub in self.patterns if pattern.search(key))
        if named is None and not matched:
            return None
        return (named or ()) + matched


class Pruner:
    """Prunes values of one schema; the walk through ``$ref``/``allOf`` is planned once per place and reused."""

    def __init__(self, schema: Schema) -> None:
        self.schema = schema
        self.root = schema.document
        self.defs = self.root.get("$defs", {}) if isinstance(self.root, dict) else {}
        self._plans: dict[tuple[int, ...], _Plan | None] = {}
        self._validators: dict[int, Any] = {}

    def prune(self, value: Any) -> Any:
        return self._prune(value, (self.root,))

    def _prune(self, value: Any, schemas: tuple[Any, ...]) -> Any:
        if not isinstance(value, dict | list):
            return value
        key = tuple(map(id, schemas))
        if key in self._plans:
            plan = self._plans[key]
        else:
            applicable, branching = self._applicable(schemas, value)
            plan = None if branching else self._plan(applicable)
            self._plans[key] = plan
        if plan is None:  # value-dependent (oneOf/anyOf): plan this value alone
            plan = self._plan(self._applicable(schemas, value)[0])
        if isinstance(value, dict):
            if plan.declared is None:
                return value
            if not plan.patterns:
                declared = plan.declared
                return {k: self._prune(v, declared[k]) for k, v in value.items() if k in declared}
            kept = {}
            for key, child in value.items():
                applies = plan.schemas_for(key)
                if applies is not None:
                    kept[key] = self._prune(child, applies)
            return kept
        return [self._prune(v, plan.items) for v in value] if plan.items else value

    def _plan(self, applicable: list[Any]) -> _Plan:
        declared: dict[str, list[Any]] | None = None
        patterns: list[tuple[re.Pattern[str], Any]] = []
        for schema in applicable:
            properties = schema.get("properties")
            pattern_properties = schema.get("patternProperties")
            if isinstance(properties, dict) or isinstance(pattern_properties, dict):
                declared = declared if declared is not None else {}
            if isinstance(properties, dict):
                for name, sub in properties.items():
                    declared.setdefault(name, []).append(sub)  # type: ignore[union-attr]
            if isinstance(pattern_properties, dict):
                patterns.extend((re.compile(p), sub) for p, sub in pattern_properties.items())
        items = tuple(s["items"] for s in applicable if isinstance(s.get("items"), dict))
        return _Plan({k: tuple(v) for k, v in declared.items()} if declared is not None else None, items,
                     tuple(patterns))

    def _applicable(self, schemas: tuple[Any, ...], value: Any) -> tuple[list[Any], bool]:
        """Every schema that applies to ``value`` through $ref, allOf and the first valid oneOf/anyOf branch, and
        whether a branch choice was involved."""
        out: list[Any] = []
        branching = False
        stack = list(schemas)
        while stack:
            schema = self._resolve(stack.pop())
            if not isinstance(schema, dict):
                continue
            out.append(schema)
            stack.extend(schema.get("allOf") or ())
            for keyword in ("oneOf", "anyOf"):
                for branch in schema.get(keyword) or ():
                    branching = True
                    if self._valid(branch, value):
                        stack.append(branch)
                        break
        return out, branching

    def _resolve(self, schema: Any) -> Any:
        for _ in range(64):
            if not (isinstance(schema, dict) and isinstance(schema.get("$ref"), str)):
                return schema
            ref = schema["$ref"]
            if ref == "#":
                schema = self.root
            elif ref.startswith("#/$defs/"):
                schema = self.defs.get(ref[len("#/$defs/"):].replace("~1", "/").replace("~0", "~"), {})
            else:
                return {}
        return {}

    def _valid(self, branch: Any, value: Any) -> bool:
        validator = self._validators.get(id(branch))
        if validator is None:
            validator = validator_for(self.root, self.schema.dialect).evolve(schema=branch)
            self._validators[id(branch)] = validator
        return bool(validator.is_valid(value))
