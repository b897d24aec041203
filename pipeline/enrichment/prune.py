"""Pruning: drop the object properties a payload schema does not declare, planned once per schema.

The schema is planned into a graph of functions, one per place in it (the union across ``allOf``/``$ref``, the
first valid ``oneOf``/``anyOf`` branch chosen per value, ``patternProperties``, recursion); places that can never
drop anything get no function, so scalars are never visited, and wherever nothing is dropped the very same object
is returned.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pipeline.contract.model import Schema
from pipeline.contract.schemas import validator_for


def prune(value: Any, schema: Schema) -> Any:
    """``value`` without the object properties its schema does not declare.

    A property is kept if any schema that applies declares it (the union across ``allOf`` and ``$ref``s); for
    ``oneOf``/``anyOf`` the first branch the value is valid against applies; objects whose schemas declare no
    properties at all are left as they are. Where nothing is dropped the very same object is returned, so the
    result shares objects with ``value``: treat both as read-only. One-shot: to prune many values, build a
    :class:`Pruner` once (the enrichment does) and call its ``prune``.
    """
    return Pruner(schema).prune(value)


_ABSENT: Any = object()
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
