"""Turn an internal event's ``detail`` into the public payload, as the message's ``x-enrichment`` declares.

Order (documented in docs/reference/extensions.md): copy the detail; run the look-ups and place their results at
``/_lookups/<name>``; apply the JSON Patch (RFC 6902) operation by operation; drop ``/_lookups``; prune properties
the payload schema does not declare (when ``prune: true``). Patches and look-ups are parsed, checked and compiled
once, when the contract is loaded; a failure while enriching one event is an :class:`EnrichmentFailed` naming the
event id and the operation index.

Both the patch and the pruner are compiled into closures because enrichment runs for every event on the
producer's hot path: the patch copies only the containers it writes to (copy-on-write), and the pruner returns
the very objects it was given wherever nothing is dropped.
"""

from __future__ import annotations

import importlib
import json
import re
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping, Sequence
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
    patch: Patch
    lookups: tuple[tuple[str, Lookup], ...]
    prune_schema: Schema | None
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
        if self.prune_schema is not None:
            document = pruner_for(self.prune_schema).prune(document)
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
        patch = compile_patch(spec["patch"])
    except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException) as exc:
        raise EnrichmentError(event.name, f"invalid JSON Patch: {exc}") from None
    lookups = tuple((item["name"], _compile_lookup(event.name, item)) for item in spec.get("lookups") or ())
    prune_schema = event.payload if spec.get("prune") and event.payload is not None else None
    return Enrichment(event.name, patch, lookups, prune_schema, subject_pointer(event))


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


# -- JSON Patch, compiled -----------------------------------------------------------------------------------------
# A patched document shares every subtree it does not write to with its input. ``owned`` holds the ids of the
# containers this application made itself and may therefore change in place; any other container on the way to a
# write is copied first (and its copy owned). A container that is not owned never holds an owned one, which is what
# lets ``copy`` share a value instead of deep-copying it: it just gives up ownership of the value's owned part.
# The ids stay meaningful for the whole application: the caller's objects outlive it, so an id is only ever reused
# by an object made during the application, which is ours either way.

_Token = tuple[str, int | None]  # an RFC 6901 reference token, unescaped, and its value as an array index if any
_Step = Callable[[Any, set[int]], Any]  # (document, owned) -> the document after one operation

_ARRAY_INDEX = re.compile("0|[1-9][0-9]*")  # as jsonpointer: no sign, no leading zero
_ABSENT: Any = object()
_PLAIN_SCALARS = (str, int, float)  # not bool: equal to 1 and 0 in Python, not in JSON


class PatchFailed(ValueError):
    """Operation ``index`` (``op`` at ``path``) of a compiled patch cannot be applied to this document."""

    def __init__(self, index: int, op: str, path: str, reason: str) -> None:
        self.index = index
        self.op = op
        self.path = path
        self.reason = reason
        super().__init__(f"{op} {path}: {reason}")


class _Conflict(Exception):
    """Raised by a compiled step; :meth:`Patch.apply` turns it into :class:`PatchFailed` naming the operation."""


@dataclass(frozen=True)
class Patch:
    """A JSON Patch (RFC 6902, as ``jsonpatch`` applies it) compiled into one function per operation."""

    steps: tuple[tuple[str, str, _Step], ...]  # (op, path, step)

    def apply(self, document: Any, owned: set[int] | None = None) -> Any:
        """``document`` patched; raises :class:`PatchFailed`.

        Only containers whose ids are in ``owned`` (the caller's own scratch copies) are changed in place; every
        other container is copied before it is written to, and ``owned`` grows by those copies. The result may share
        unchanged subtrees with ``document``, and values copied by a ``copy`` operation may appear twice in it."""
        owned = set() if owned is None else owned
        for index, (op, path, step) in enumerate(self.steps):
            try:
                document = step(document, owned)
            except _Conflict as exc:
                raise PatchFailed(index, op, path, str(exc)) from None
        return document


def compile_patch(operations: Any) -> Patch:
    """The compiled form of a list of RFC 6902 operations.

    ``jsonpatch`` parses and checks them; malformed operations raise its ``JsonPatchException`` (or jsonpointer's
    ``JsonPointerException``) here, including a missing ``value`` or ``from``, which jsonpatch itself only reports
    when applying (such an operation would fail every document)."""
    patch = jsonpatch.JsonPatch(operations)
    return Patch(tuple((op["op"], op["path"], _compile_operation(op)) for op in patch.patch))


def _tokens(pointer: Any) -> tuple[_Token, ...]:
    try:
        parts = jsonpointer.JsonPointer(pointer).parts
    except TypeError:
        raise jsonpatch.InvalidJsonPatch(f"invalid JSON pointer {pointer!r}") from None
    return tuple((part, int(part) if _ARRAY_INDEX.fullmatch(part) else None) for part in parts)


def _compile_operation(operation: Mapping[str, Any]) -> _Step:
    op = operation["op"]
    path = _tokens(operation["path"])
    for member, ops in (("value", ("add", "replace", "test")), ("from", ("move", "copy"))):
        if op in ops and member not in operation:
            raise jsonpatch.InvalidJsonPatch(f"'{op}' operation without a '{member}' member", op=operation)
    if op == "test":
        return _test(path, operation["value"])
    if op in ("move", "copy"):
        source = _tokens(operation["from"])
        return _move(source, path) if op == "move" else _copy(source, path)
    if op == "remove":
        return _remove(path)
    return _add(path, _constant(operation["value"]), replace=op == "replace")


def _constant(value: Any) -> Callable[[], Any]:
    """A fresh copy of an operation's ``value`` per document, so no payload shares objects with the contract."""
    if isinstance(value, dict | list):
        return lambda: _json_copy(value)
    return lambda: value


def _json_copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _json_copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_json_copy(item) for item in value]
    return value


def _child(node: Any, key: str, index: int | None) -> Any:
    """One step down, as ``JsonPointer.walk`` takes it (``-`` of an array is no element)."""
    if isinstance(node, dict):
        child = node.get(key, _ABSENT)
        if child is _ABSENT:
            raise _Conflict(f"member '{key}' not found")
        return child
    if isinstance(node, list):
        if index is None:
            raise _Conflict(f"'{key}' is not a valid array index")
        if index >= len(node):
            raise _Conflict(f"index '{index}' is out of bounds")
        return node[index]
    # Not JSON, but readable by jsonpointer: a look-up callable may return other mappings and sequences.
    if isinstance(node, Mapping):
        return _child(dict(node), key, index)
    if isinstance(node, Sequence) and not isinstance(node, str | bytes):
        return _child(list(node), key, index)
    raise _Conflict(f"cannot resolve '{key}' in {type(node).__name__} value")


def _resolve(document: Any, tokens: tuple[_Token, ...]) -> Any:
    for key, index in tokens:
        child = document.get(key, _ABSENT) if isinstance(document, dict) else _ABSENT  # the common case inline
        document = _child(document, key, index) if child is _ABSENT else child
    return document


def _owned(node: Any, owned: set[int]) -> Any:
    """An owned shallow copy of ``node``, which this application does not own (anything but a container as is)."""
    if isinstance(node, dict) or (not isinstance(node, list) and isinstance(node, Mapping)):
        node = dict(node)
    elif isinstance(node, list) or (isinstance(node, Sequence) and not isinstance(node, str | bytes)):
        node = list(node)
    else:
        return node
    owned.add(id(node))
    return node


def _writable_parent(document: Any, parents: tuple[_Token, ...], owned: set[int]) -> tuple[Any, Any]:
    """(document, the container at ``parents``), with that container and all above it owned (copy-on-write)."""
    if id(document) not in owned:
        document = _owned(document, owned)
    node = document
    for key, index in parents:
        child = node.get(key, _ABSENT) if isinstance(node, dict) else _ABSENT
        if child is _ABSENT:
            child = _child(node, key, index)
        if id(child) not in owned:
            copy = _owned(child, owned)
            if copy is not child:
                node[key if isinstance(node, dict) else index] = copy
            child = copy
        node = child
    return document, node


def _disown(value: Any, owned: set[int]) -> None:
    """Give up ownership of ``value``'s owned containers: it is about to be shared, so neither place may change it."""
    if id(value) in owned:
        owned.discard(id(value))
        for child in value.values() if isinstance(value, dict) else value:
            _disown(child, owned)


def _not_a_container(node: Any, key: str) -> _Conflict:
    return _Conflict(f"cannot resolve '{key}' in {type(node).__name__} value")


def _add(path: tuple[_Token, ...], value_of: Callable[[], Any], *, replace: bool) -> _Step:
    """``add`` or ``replace`` of a constant."""
    if not path:
        return lambda document, owned: value_of()  # the whole document, whatever it was
    parents, (key, index) = path[:-1], path[-1]
    insert = _insertion(parents, key, index)
    if not replace:
        return lambda document, owned: insert(document, owned, value_of())

    def step(document: Any, owned: set[int]) -> Any:
        document, parent = _writable_parent(document, parents, owned)
        if isinstance(parent, dict):
            if key not in parent:
                raise _Conflict(f"can't replace a non-existent object '{key}'")
            parent[key] = value_of()
        elif isinstance(parent, list):
            if index is None:
                raise _Conflict("'path' with '-' can't be applied to 'replace' operation" if key == "-"
                                else f"'{key}' is not a valid array index")
            if index >= len(parent):
                raise _Conflict("can't replace outside of list")
            parent[index] = value_of()
        else:
            raise _not_a_container(parent, key)
        return document

    return step


def _insertion(parents: tuple[_Token, ...], key: str, index: int | None) -> Callable[[Any, set[int], Any], Any]:
    """RFC 6902 ``add`` of a given value below the root: set a member, insert into an array, or append (``-``)."""
    def insert(document: Any, owned: set[int], value: Any) -> Any:
        document, parent = _writable_parent(document, parents, owned)
        if isinstance(parent, dict):
            parent[key] = value
        elif isinstance(parent, list):
            if index is None:
                if key != "-":
                    raise _Conflict(f"'{key}' is not a valid array index")
                parent.append(value)
            elif index > len(parent):
                raise _Conflict("can't insert outside of list")
            else:
                parent.insert(index, value)
        else:
            raise _not_a_container(parent, key)
        return document

    return insert


def _placing(path: tuple[_Token, ...]) -> Callable[[Any, set[int], Any], Any]:
    """``add`` of a given value anywhere, the root included (the target half of ``move`` and ``copy``)."""
    if not path:
        return lambda document, owned, value: value
    return _insertion(path[:-1], *path[-1])


def _remove(path: tuple[_Token, ...]) -> _Step:
    parents, (key, index) = path[:-1], path[-1] if path else ("", None)

    def step(document: Any, owned: set[int]) -> Any:
        if not path:
            raise _Conflict("can't remove the whole document")
        document, parent = _writable_parent(document, parents, owned)
        if isinstance(parent, dict):
            if key not in parent:
                raise _Conflict(f"can't remove a non-existent object '{key}'")
            del parent[key]
        elif isinstance(parent, list):
            if index is None:
                raise _Conflict(f"invalid array index '{key}'")
            if index >= len(parent):
                raise _Conflict(f"can't remove a non-existent object '{index}'")
            del parent[index]
        else:
            raise _not_a_container(parent, key)
        return document

    return step


def _move(source: tuple[_Token, ...], path: tuple[_Token, ...]) -> _Step:
    into_itself = path != source and path[:len(source)] == source  # checked first, as jsonpatch does
    detach = _remove(source)
    place = _placing(path)

    def step(document: Any, owned: set[int]) -> Any:
        if into_itself:
            raise _Conflict("Cannot move values into their own children")
        if not source:
            return document  # the whole document onto itself
        value = _resolve(document, source)  # it must exist
        if path == source:
            return document
        # The value keeps its identity, and so whether it is owned: it is only in one place afterwards.
        return place(detach(document, owned), owned, value)

    return step


def _copy(source: tuple[_Token, ...], path: tuple[_Token, ...]) -> _Step:
    place = _placing(path)

    def step(document: Any, owned: set[int]) -> Any:
        value = _resolve(document, source)  # it must exist
        _disown(value, owned)  # shared, not deep-copied: a later write to either place copies on write
        return place(document, owned, value)

    return step


def _test(path: tuple[_Token, ...], expected: Any) -> _Step:
    equal: Callable[[Any], bool]
    if isinstance(expected, str):
        equal = expected.__eq__  # a string equals strings only, so plain == is already JSON equality
    else:
        def equal(actual: Any) -> bool:
            return _json_equal(actual, expected)

    def step(document: Any, owned: set[int]) -> Any:
        actual = _resolve(document, path)
        if equal(actual) is not True:
            raise _Conflict(f"{actual} ({type(actual)}) is not equal to tested value {expected} ({type(expected)})")
        return document

    return step


def _json_equal(first: Any, second: Any) -> bool:
    """Equality as RFC 6902 4.6 and jsonpatch define it: numbers by value (``1`` equals ``1.0``), but ``true`` and
    ``false`` only equal themselves (Python has ``True == 1``); arrays and objects member by member."""
    if type(first) is type(second) and type(first) in _PLAIN_SCALARS:
        return bool(first == second)
    if isinstance(first, bool) or isinstance(second, bool):
        return isinstance(first, bool) and isinstance(second, bool) and first == second
    if isinstance(first, Mapping) and isinstance(second, Mapping):
        return len(first) == len(second) and all(
            key in second and _json_equal(item, second[key]) for key, item in first.items())
    if (isinstance(first, Sequence) and isinstance(second, Sequence)
            and not isinstance(first, str | bytes) and not isinstance(second, str | bytes)):
        return len(first) == len(second) and all(map(_json_equal, first, second))
    return bool(first == second)


# -- pruning ------------------------------------------------------------------------------------------------------
def prune(value: Any, schema: Schema) -> Any:
    """``value`` without the object properties its schema does not declare.

    A property is kept if any schema that applies declares it (the union across ``allOf`` and ``$ref``s); for
    ``oneOf``/``anyOf`` the first branch the value is valid against applies; objects whose schemas declare no
    properties at all are left as they are. Where nothing is dropped the very same object is returned, so the
    result shares objects with ``value``: treat both as read-only.
    """
    return pruner_for(schema).prune(value)


_PRUNERS: dict[int, tuple[Schema, Pruner]] = {}


def pruner_for(schema: Schema) -> Pruner:
    """The compiled :class:`Pruner` of ``schema``, made once per schema object."""
    found = _PRUNERS.get(id(schema))
    if found is None or found[0] is not schema:
        found = _PRUNERS[id(schema)] = (schema, Pruner(schema))
    return found[1]


_Prune = Callable[[Any], Any]  # a dict or list -> it pruned (the same object when nothing changes)
_CONTAINERS = (dict, list)
_DROP: Any = object()
_PROBE: Any = object()  # "no value": plan without choosing oneOf/anyOf branches
_ROUTES_PER_OBJECT = 1024  # patternProperties may match unbounded key sets (ids); cache only so many keys


@dataclass(frozen=True)
class _Plan:
    """What applies at one place of the schema once oneOf/anyOf branches are chosen."""

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
    """Prunes values of one schema, planned once into a graph of closures, one per place of the schema.

    A place whose schemas can never drop anything (no ``properties`` anywhere along its ``items``) gets no closure
    at all, so scalars and free-form values are not even visited. Places that branch on ``oneOf``/``anyOf`` choose
    per value and compile each choice on first use. Recursive schemas (``$ref`` to an enclosing schema) become
    cycles in the graph.
    """

    def __init__(self, schema: Schema) -> None:
        self.schema = schema
        self.root = schema.document
        self.defs = self.root.get("$defs", {}) if isinstance(self.root, dict) else {}
        self._validators: dict[int, Any] = {}
        # All keyed by the ids of schema objects inside ``self.root``, which lives as long as this pruner.
        self._nodes: dict[tuple[int, ...], _Prune | None] = {}  # by the schemas at a place, before $ref/allOf
        self._built: dict[tuple[int, ...], _Prune | None] = {}  # by all schemas that apply there
        self._plans: dict[tuple[int, ...], _Plan] = {}
        self._changes: dict[tuple[int, ...], bool] = {}
        # Closures compiled while pruning (a branch choice, a patternProperties key) are published only once
        # complete; a closure that is still being built must never run in another thread.
        self._lock = threading.Lock()
        self._ready_nodes: dict[tuple[int, ...], _Prune | None] = {}
        self._ready_built: dict[tuple[int, ...], _Prune | None] = {}
        with self._lock:
            self._root = self._node((self.root,))

    def prune(self, value: Any) -> Any:
        """``value`` pruned; see :func:`prune`."""
        if self._root is None or not isinstance(value, _CONTAINERS):
            return value
        return self._root(value)

    # -- compiling ---------------------------------------------------------------------------------------------
    def _node(self, schemas: tuple[Any, ...]) -> _Prune | None:
        """The closure for a place where ``schemas`` apply, or None if pruning there never changes a value."""
        key = tuple(map(id, schemas))
        if key not in self._nodes:
            applicable, branching = self._walk(schemas)
            self._nodes[key] = self._branching(schemas) if branching else self._build(applicable)
        return self._nodes[key]

    def _build(self, applicable: list[Any]) -> _Prune | None:
        key = tuple(map(id, applicable))
        if key in self._built:
            return self._built[key]
        if not self._may_change(applicable):
            self._built[key] = None
            return None
        plan = self._plan(applicable)
        names = frozenset(plan.declared) if plan.declared is not None else None
        route = self._router(plan) if plan.patterns else None
        prune, complete = _place_pruner(names, route)
        self._built[key] = prune  # before its children, which may refer back to it
        children: tuple[tuple[str, _Prune], ...] = ()
        if plan.declared is not None and route is None:
            children = tuple((name, child) for name, subschemas in plan.declared.items()
                             if (child := self._node(subschemas)) is not None)
        complete(children, self._node(plan.items) if plan.items else None)
        return prune

    def _may_change(self, applicable: list[Any]) -> bool:
        """Whether pruning can drop anything here: properties are declared here or, following ``items``, below.

        A place has at most one ``items`` successor, so this follows a single path, which may end in a cycle
        (arrays of arrays of themselves); every place on the path shares the answer."""
        path: list[tuple[int, ...]] = []
        result = False
        while True:
            key = tuple(map(id, applicable))
            if key in self._changes:
                result = self._changes[key]
                break
            if key in path:
                break
            path.append(key)
            plan = self._plan(applicable)
            if plan.declared is not None:
                result = True
                break
            if not plan.items:
                break
            applicable, branching = self._walk(plan.items)
            if branching:
                result = True
                break
        for key in path:
            self._changes[key] = result
        return result

    def _plan(self, applicable: list[Any]) -> _Plan:
        key = tuple(map(id, applicable))
        plan = self._plans.get(key)
        if plan is not None:
            return plan
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
        plan = self._plans[key] = _Plan(
            {k: tuple(v) for k, v in declared.items()} if declared is not None else None, items, tuple(patterns))
        return plan

    def _branching(self, schemas: tuple[Any, ...]) -> _Prune:
        """A place whose schemas depend on the value (oneOf/anyOf): choose, then run that choice's closure."""
        def prune(value: Any) -> Any:
            applicable = self._walk(schemas, value)[0]
            chosen = self._ready(self._ready_built, applicable, lambda: self._build(applicable))
            return value if chosen is None else chosen(value)

        return prune

    def _router(self, plan: _Plan) -> Callable[[str], Any]:
        """Which closure prunes the member ``key`` of an object with ``patternProperties``: ``_DROP``, None (keep as
        is) or a closure. Keys are only known when pruning, so this compiles on first sight and caches."""
        routes: dict[str, Any] = {}

        def route(key: str) -> Any:
            found = routes.get(key, _ABSENT)
            if found is _ABSENT:
                schemas = plan.schemas_for(key)
                found = _DROP if schemas is None else self._ready(self._ready_nodes, schemas,
                                                                  lambda: self._node(schemas))
                if len(routes) < _ROUTES_PER_OBJECT:
                    routes[key] = found
            return found

        return route

    def _ready(self, ready: dict[tuple[int, ...], _Prune | None], schemas: Sequence[Any],
               build: Callable[[], _Prune | None]) -> _Prune | None:
        """``build()`` for ``schemas``, run under the lock on first use so other threads only see complete closures."""
        key = tuple(map(id, schemas))
        found = ready.get(key, _ABSENT)
        if found is _ABSENT:
            with self._lock:
                found = build()
            ready[key] = found
        return found  # type: ignore[no-any-return]

    # -- which schemas apply -----------------------------------------------------------------------------------
    def _walk(self, schemas: tuple[Any, ...], value: Any = _PROBE) -> tuple[list[Any], bool]:
        """Every schema that applies through $ref, allOf and the first valid oneOf/anyOf branch (with ``_PROBE``:
        no branch), and whether a branch choice was involved."""
        out: list[Any] = []
        seen: set[int] = set()
        branching = False
        stack = list(schemas)
        while stack:
            schema = self._resolve(stack.pop())
            if not isinstance(schema, dict) or id(schema) in seen:
                continue
            seen.add(id(schema))
            out.append(schema)
            stack.extend(schema.get("allOf") or ())
            for keyword in ("oneOf", "anyOf"):
                for branch in schema.get(keyword) or ():
                    branching = True
                    if value is _PROBE:
                        break
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
                schema = self.defs.get(ref[len("#/$defs/"):].replace("~1", "/").replace("~0", "~"))
            else:
                return None
        return None

    def _valid(self, branch: Any, value: Any) -> bool:
        validator = self._validators.get(id(branch))
        if validator is None:
            validator = validator_for(self.root, self.schema.dialect).evolve(schema=branch)
            self._validators[id(branch)] = validator
        return bool(validator.is_valid(value))


def _place_pruner(names: frozenset[str] | None,
                  route: Callable[[str], Any] | None) -> tuple[_Prune, Callable[..., None]]:
    """The closure for one place of the schema, and the function that completes it with its children's closures
    (compiled after it, since they may be the place itself). ``names``: the declared properties (None: free-form);
    ``route``: per-key closures when ``patternProperties`` apply."""
    children: tuple[tuple[str, _Prune], ...] = ()
    items: _Prune | None = None

    def prune(value: Any) -> Any:
        if isinstance(value, dict):
            if names is None:
                return value
            if route is not None:
                return _prune_routed(value, route)
            kept = value if names.issuperset(value) else {k: v for k, v in value.items() if k in names}
            for name, child in children:
                if name not in kept:
                    continue
                member = kept[name]
                if isinstance(member, _CONTAINERS):
                    pruned = child(member)
                    if pruned is not member:
                        if kept is value:
                            kept = dict(value)
                        kept[name] = pruned
            return kept
        if items is not None and isinstance(value, list):
            result = value
            for position, member in enumerate(value):
                if isinstance(member, _CONTAINERS):
                    pruned = items(member)
                    if pruned is not member:
                        if result is value:
                            result = list(value)
                        result[position] = pruned
            return result
        return value

    def complete(new_children: tuple[tuple[str, _Prune], ...], new_items: _Prune | None) -> None:
        nonlocal children, items
        children, items = new_children, new_items

    return prune, complete


def _prune_routed(value: dict[str, Any], route: Callable[[str], Any]) -> dict[str, Any]:
    kept: dict[str, Any] = {}
    changed = False
    for key, member in value.items():
        child = route(key)
        if child is _DROP:
            changed = True
            continue
        if child is not None and isinstance(member, _CONTAINERS):
            pruned = child(member)
            if pruned is not member:
                changed = True
                member = pruned
        kept[key] = member
    return kept if changed else value
