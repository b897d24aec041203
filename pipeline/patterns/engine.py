"""EventBridge event patterns: compile once, match many events.

Semantics follow event-ruler (the engine behind EventBridge) and the EventBridge user guide:

* a pattern is a tree of fields (AND) whose leaves are arrays of alternatives (OR); ``$or`` (at any level) ORs whole
  sub-patterns and is expanded, like event-ruler does, into at most :data:`MAX_COMBINATIONS` alternatives;
* an event field is seen as its *leaves*: the JSON scalars at the field's path, looking through arrays (arrays of
  values and arrays of objects alike, nested arrays flattened); a field matches when one leaf satisfies one
  alternative; ``{"exists": false}`` matches when no leaf exists (a missing key, an object, an empty array);
* array consistency: the leaves chosen for the fields of one (expanded) pattern must not come from different
  elements of the same array — ``{"a": {"x": [1], "y": [2]}}`` does not match ``{"a": [{"x": 1}, {"x": 3, "y": 2}]}``.

Matching is compiled: each field becomes a closure that walks its path with dict look-ups and applies one predicate
(:mod:`pipeline.patterns.operators`). The exact, slower search over leaf combinations (array consistency) runs only
when an event actually puts an array where two fields of the pattern share a path.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pipeline.patterns.errors import PatternError
from pipeline.patterns.operators import OPERATORS, FieldSpec, Test, compile_field

# EventBridge expands "$or" into the combinations of its branches and caps how many one rule may produce.
MAX_COMBINATIONS = 1000
# event-ruler's Constants.RESERVED_FIELD_NAMES_IN_OR_RELATIONSHIP: operator names, and names kept for future ones
_RESERVED_IN_OR = OPERATORS | {"=", "<", "<=", ">", ">=", "regex", "not-wildcard", "not-equals-ignore-case",
                               "date-after", "date-on-or-after", "date-before", "date-on-or-before", "in-date-range",
                               "ip-address-in-range", "ip-address-not-in-range"}

_MISSING: Any = object()
_GENERAL: Any = object()  # "this event needs the array-consistency search"
Check = Callable[[Any], Any]  # event -> True | False | _GENERAL


@dataclass(frozen=True, eq=False)
class _Field:
    path: tuple[str, ...]
    spec: FieldSpec
    pointer: str


@dataclass(eq=False)
class _Node:
    """A conjunction: fields (absolute paths) and ``$or`` groups (each a list of alternative conjunctions)."""

    fields: list[_Field] = field(default_factory=list)
    ors: list[list[_Node]] = field(default_factory=list)
    combinations: int = 1


@dataclass(frozen=True, eq=False)
class _Compiled:
    checks: tuple[Check, ...]
    ors: tuple[tuple[_Compiled, ...], ...]


class EventPattern:
    """A compiled pattern; ``matches(event)`` takes an EventBridge-shaped event (``source``, ``detail-type``,
    ``detail``…) and never raises for any JSON value (a non-object event simply does not match)."""

    def __init__(self, pattern: Mapping[str, Any]) -> None:
        self.pattern = pattern
        root = _Node()
        _parse(pattern, (), "", root, in_or=False)
        _count(root, "")
        self._subrules = _expand(root)
        shared = _shared_depths(self._subrules)
        self._root = _compile(root, shared)
        self._checks = self._root.checks if not self._root.ors else None

    def matches(self, event: Any) -> bool:
        if event.__class__ is not dict and not isinstance(event, Mapping):
            return False
        checks = self._checks
        if checks is not None:  # no "$or": a flat conjunction, inlined
            for check in checks:
                verdict = check(event)
                if verdict is not True:
                    break
            else:
                return True
        else:
            verdict = _evaluate(self._root, event)
        if verdict is _GENERAL:
            return any(_consistent_match(subrule, event) for subrule in self._subrules)
        return bool(verdict)

    def __repr__(self) -> str:
        return f"EventPattern({self.pattern!r})"


def compile_pattern(pattern: Mapping[str, Any]) -> EventPattern:
    """Compile an EventBridge event pattern. :raises PatternError: for a pattern EventBridge would reject."""
    return EventPattern(pattern)


# --- parsing -------------------------------------------------------------------------------------------------------

def _pointer(base: str, key: str) -> str:
    return f"{base}/{key.replace('~', '~0').replace('/', '~1')}"


def _parse(obj: Any, prefix: tuple[str, ...], pointer: str, node: _Node, *, in_or: bool) -> None:
    if not isinstance(obj, Mapping):
        raise PatternError("Filter is not an object", pointer)
    if not obj:
        raise PatternError("Empty objects are not allowed", pointer)
    for key, value in obj.items():
        if not isinstance(key, str):
            raise PatternError(f"field names are strings, not {type(key).__name__}", pointer)
        child = _pointer(pointer, key)
        if key == "$or":
            node.ors.append(_alternatives(value, prefix, child))
            continue
        if in_or and key in _RESERVED_IN_OR:
            raise PatternError(f"{key} is Ruler reserved fieldName which cannot be used inside $or.", child)
        if isinstance(value, Mapping):
            _parse(value, (*prefix, key), child, node, in_or=in_or)
        elif isinstance(value, list):
            node.fields.append(_Field((*prefix, key), compile_field(value, child), child))
        else:
            raise PatternError(f'"{key}" must be an object or an array', child)


def _alternatives(value: Any, prefix: tuple[str, ...], pointer: str) -> list[_Node]:
    if not isinstance(value, list):
        raise PatternError("It must be an Array followed with $or.", pointer)
    alternatives = []
    for index, alternative in enumerate(value):
        where = f"{pointer}/{index}"
        if not isinstance(alternative, Mapping):
            raise PatternError("Only JSON object is allowed in array of $or relationship.", where)
        sub = _Node()
        _parse(alternative, prefix, where, sub, in_or=True)
        _count(sub, where)  # as soon as possible: a hostile pattern can describe astronomically many combinations
        alternatives.append(sub)
    if len(alternatives) < 2:
        raise PatternError("There must have at least 2 Objects in $or relationship.", pointer)
    return alternatives


def _count(node: _Node, pointer: str) -> None:
    """Record how many sub-rules the node expands to (its alternatives were counted already); refuse too many."""
    total = 1
    for alternatives in node.ors:
        total *= sum(alternative.combinations for alternative in alternatives)
    if total > MAX_COMBINATIONS:
        raise PatternError(f"the '$or' alternatives expand to {total} combinations; EventBridge allows at most "
                           f"{MAX_COMBINATIONS}", pointer)
    node.combinations = total


def _expand(node: _Node) -> list[tuple[_Field, ...]]:
    """The sub-rules event-ruler compiles the pattern into (one per combination of ``$or`` branches)."""
    subrules: list[tuple[_Field, ...]] = [tuple(node.fields)]
    for alternatives in node.ors:
        branches = [branch for alternative in alternatives for branch in _expand(alternative)]
        subrules = [(*rule, *branch) for rule in subrules for branch in branches]
    for rule in subrules:
        seen: set[str] = set()
        for item in rule:
            name = ".".join(item.path)  # event-ruler's flattened field name
            if name in seen:
                raise PatternError(f"Path `{name}` cannot be allowed multiple times", item.pointer)
            seen.add(name)
    return subrules


def _shared_depths(subrules: list[tuple[_Field, ...]]) -> dict[int, int]:
    """For each field, the longest path prefix it shares with a field it can be matched together with: an event
    array at or above that depth can tie the two fields' leaves to one element (array consistency)."""
    shared: dict[int, int] = {}
    for rule in subrules:
        for first in rule:
            for second in rule:
                if first is second:
                    continue
                common = 0
                for a, b in zip(first.path, second.path, strict=False):
                    if a != b:
                        break
                    common += 1
                if common > shared.get(id(first), 0):
                    shared[id(first)] = common
    return shared


# --- fast evaluation: the field tree with independent fields ----------------------------------------------------------

def _compile(node: _Node, shared: dict[int, int]) -> _Compiled:
    # exact-string fields near the top (source, detail-type) decide most events: try them first
    ordered = sorted(node.fields, key=lambda f: (not f.spec.only_exact_strings, len(f.path)))
    checks = tuple(_check(f, shared.get(id(f), 0)) for f in ordered)
    ors = tuple(tuple(_compile(alternative, shared) for alternative in alternatives) for alternatives in node.ors)
    return _Compiled(checks, ors)


def _evaluate(node: _Compiled, event: Any) -> Any:
    for check in node.checks:
        verdict = check(event)
        if verdict is not True:
            return verdict
    for alternatives in node.ors:
        needs_search = False
        for alternative in alternatives:
            verdict = _evaluate(alternative, event)
            if verdict is True:
                break
            if verdict is _GENERAL:
                needs_search = True
        else:
            return _GENERAL if needs_search else False
    return True


_SCALARS = frozenset({str, int, float, bool, type(None)})


def _check(item: _Field, shared: int) -> Check:
    path, test, absent_ok = item.path, item.spec.test, item.spec.absent_ok
    size = len(path)

    def walk(event: Any) -> Any:
        """Any event: Mappings, tuples, arrays anywhere."""
        node = event
        for depth in range(size):
            if isinstance(node, (dict, Mapping)):
                node = node.get(path[depth], _MISSING)
                if node is _MISSING:
                    return absent_ok
            elif isinstance(node, (list, tuple)):
                return _GENERAL if depth <= shared else _any_leaf(node, path, depth, test, absent_ok)
            else:
                return absent_ok  # a scalar where the pattern expects an object: no leaf here
        if isinstance(node, (list, tuple)):
            return _GENERAL if size <= shared else _any_leaf(node, path, size, test, absent_ok)
        if isinstance(node, (dict, Mapping)):
            return absent_ok  # an object is not a leaf
        return test(node)

    if size == 1 and item.spec.only_exact_strings:
        key, strings = path[0], item.spec.exact_strings

        def exact(event: Any) -> Any:
            value = event.get(key)
            if value.__class__ is str:
                return value in strings
            return walk(event)

        return exact

    def fast(event: Any) -> Any:
        """The common case (plain dicts down to a scalar) with no ABC checks; anything else goes to ``walk``."""
        node = event
        for key in path:
            if node.__class__ is not dict:
                return walk(event)
            node = node.get(key, _MISSING)
            if node is _MISSING:
                return absent_ok
        if node.__class__ in _SCALARS:
            return test(node)
        return walk(event)

    return fast


def _any_leaf(node: Any, path: tuple[str, ...], depth: int, test: Test, absent_ok: bool) -> bool:
    """An independent field whose path crosses an array: any leaf below may satisfy it."""
    values: list[Any] = []
    _leaf_values(node, path, depth, values)
    if not values:
        return absent_ok
    return any(test(value) for value in values)


def _leaf_values(node: Any, path: tuple[str, ...], depth: int, out: list[Any]) -> None:
    if isinstance(node, (list, tuple)):
        for element in node:
            _leaf_values(element, path, depth, out)
        return
    is_object = isinstance(node, (dict, Mapping))
    if depth == len(path):
        if not is_object:
            out.append(node)
        return
    if is_object:
        child = node.get(path[depth], _MISSING)
        if child is not _MISSING:
            _leaf_values(child, path, depth + 1, out)


# --- exact evaluation: array consistency --------------------------------------------------------------------------

def _consistent_match(subrule: tuple[_Field, ...], event: Any) -> bool:
    """Exact matching with array consistency, linear in the event.

    One pass over the parts of the event the fields' paths reach computes, for each subtree, the possible outcomes
    as pairs of bit sets: ``chosen`` (fields satisfied by leaves picked in the subtree) and ``exposed`` (fields with
    ``exists: false`` that still have a leaf compatible with the picks). Objects combine their children's outcomes;
    an array either contributes no pick (then every leaf below it stays exposed) or picks from one element only
    (then the other elements' leaves, being in a different element of the same array, are not exposed).
    """
    ends: dict[tuple[str, ...], list[int]] = {}
    below: dict[tuple[str, ...], set[str]] = {}
    absent_ok = 0
    for number, item in enumerate(subrule):
        ends.setdefault(item.path, []).append(number)
        for depth in range(len(item.path)):
            below.setdefault(item.path[:depth], set()).add(item.path[depth])
        if item.spec.absent_ok:
            absent_ok |= 1 << number
    everything = (1 << len(subrule)) - 1

    def outcomes(node: Any, path: tuple[str, ...]) -> set[tuple[int, int]]:
        if isinstance(node, (list, tuple)):
            untouched = 0
            result: set[tuple[int, int]] = set()
            for element in node:
                for chosen, exposed in outcomes(element, path):
                    if chosen:
                        result.add((chosen, exposed))
                    else:
                        untouched |= exposed
            result.add((0, untouched))
            return _prune(result)
        if not isinstance(node, (dict, Mapping)):
            passing = exposed = 0
            for number in ends.get(path, ()):
                if subrule[number].spec.test(node):
                    passing |= 1 << number
                exposed |= (1 << number) & absent_ok
            return {(0, exposed), (passing, exposed)} if passing else {(0, exposed)}
        combined = {(0, 0)}
        for key in below.get(path, ()):
            child = node.get(key, _MISSING)
            if child is _MISSING:
                continue
            parts = outcomes(child, (*path, key))
            combined = _prune({(c1 | c2, e1 | e2) for c1, e1 in combined for c2, e2 in parts})
        return combined

    for chosen, exposed in outcomes(event, ()):
        unsatisfied = everything & ~chosen
        if not unsatisfied & ~(absent_ok & ~exposed):
            return True
    return False


def _prune(outcomes: set[tuple[int, int]]) -> set[tuple[int, int]]:
    """Drop outcomes another one beats (satisfies a superset, exposes a subset): keeps the sets small."""
    if len(outcomes) <= 4:
        return outcomes
    return {(c, e) for c, e in outcomes
            if not any((c2 | c) == c2 and (e2 & e) == e2 and (c2, e2) != (c, e) for c2, e2 in outcomes)}
