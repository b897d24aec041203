"""EventBridge event patterns: compile once, match many events.

The matcher follows EventBridge's semantics for the operators it knows — exact values (strings, numbers, booleans,
``null``), ``prefix``, ``suffix``, ``exists``, ``anything-but``, ``numeric`` and ``$or`` — and refuses the others at
compile time, so a pattern is never silently matched more loosely than AWS would. ``compile_pattern`` is the
interface the full pattern engine (wildcards, ``cidr``, ``equals-ignore-case``…) will replace.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from typing import Any

from pipeline.errors import EventdeckError

Matcher = Callable[[Any], bool]

_MISSING = object()
_NUMERIC = {"<": operator.lt, "<=": operator.le, "=": operator.eq, ">": operator.gt, ">=": operator.ge}


class PatternError(EventdeckError, ValueError):
    """A pattern eventdeck cannot honour exactly; ``path`` says where in the pattern."""

    def __init__(self, message: str, path: str) -> None:
        self.path = path
        super().__init__(f"event pattern at '{path or '/'}': {message}")


class EventPattern:
    """A compiled pattern; ``matches(event)`` takes an EventBridge-shaped event (``source``, ``detail-type``...)."""

    def __init__(self, pattern: Mapping[str, Any]) -> None:
        self.pattern = pattern
        self._match = _object(pattern, "")

    def matches(self, event: Mapping[str, Any]) -> bool:
        return self._match(event)


def compile_pattern(pattern: Mapping[str, Any]) -> EventPattern:
    return EventPattern(pattern)


def _object(pattern: Any, path: str) -> Matcher:
    if not isinstance(pattern, Mapping) or not pattern:
        raise PatternError("expected a non-empty object of field patterns", path)
    fields: list[tuple[str, Matcher, bool]] = []
    alternatives: list[Matcher] = []
    for key, value in pattern.items():
        if key == "$or":
            if not isinstance(value, list) or len(value) < 2:
                raise PatternError("'$or' takes an array of at least two patterns", f"{path}/$or")
            alternatives = [_object(item, f"{path}/$or/{i}") for i, item in enumerate(value)]
            continue
        if key.startswith("$"):
            raise PatternError(f"'{key}' is not supported yet", f"{path}/{key}")
        child = f"{path}/{key}"
        if isinstance(value, Mapping):
            fields.append((key, _nested(_object(value, child)), False))
        elif isinstance(value, list):
            matcher, matches_missing = _values(value, child)
            fields.append((key, matcher, matches_missing))
        else:
            raise PatternError("a field pattern must be an array of values or a nested object", child)

    def match(event: Any) -> bool:
        if not (isinstance(event, (dict, Mapping))):  # dict first: an ABC check is slow
            return False
        for key, matcher, matches_missing in fields:
            value = event.get(key, _MISSING)
            if value is _MISSING:
                if not matches_missing:
                    return False
            elif not matcher(value):
                return False
        return not alternatives or any(alternative(event) for alternative in alternatives)

    return match


def _nested(matcher: Matcher) -> Matcher:
    return lambda value: matcher(value) if isinstance(value, (dict, Mapping)) else False


def _values(values: list[Any], path: str) -> tuple[Matcher, bool]:
    """A matcher for an array of alternatives, and whether the field may be absent (``exists: false``)."""
    if not values:
        raise PatternError("an empty array matches nothing", path)
    exact: set[Any] = set()
    checks: list[Matcher] = []
    matches_missing = False
    needs_presence = False
    for index, item in enumerate(values):
        where = f"{path}/{index}"
        if isinstance(item, Mapping):
            if set(item) == {"exists"}:
                if not isinstance(item["exists"], bool):
                    raise PatternError("'exists' takes true or false", where)
                if item["exists"]:
                    needs_presence = True
                else:
                    matches_missing = True
                continue
            checks.append(_operator(item, where))
        elif isinstance(item, list):
            raise PatternError("nested arrays are not allowed in a pattern", where)
        else:
            exact.add(_key(item))

    def one(value: Any) -> bool:
        if _key(value) in exact:
            return True
        return any(check(value) for check in checks)

    def match(value: Any) -> bool:
        if needs_presence:
            return True
        if isinstance(value, list):  # an array in the event matches if any element does
            return any(one(v) for v in value)
        return one(value)

    return match, matches_missing


def _key(value: Any) -> Any:
    # EventBridge compares JSON values: true is not 1, and 1 equals 1.0.
    if isinstance(value, bool) or value is None:
        return ("literal", value)
    if isinstance(value, int | float):
        return ("number", float(value))
    return ("string", value) if isinstance(value, str) else ("other", repr(value))


def _operator(item: Mapping[str, Any], path: str) -> Matcher:
    if len(item) != 1:
        raise PatternError("an operator object has exactly one key", path)
    ((name, argument),) = item.items()
    if name == "prefix" and isinstance(argument, str):
        return lambda value: isinstance(value, str) and value.startswith(argument)
    if name == "suffix" and isinstance(argument, str):
        return lambda value: isinstance(value, str) and value.endswith(argument)
    if name == "anything-but":
        return _anything_but(argument, path)
    if name == "numeric" and isinstance(argument, list):
        return _numeric(argument, path)
    raise PatternError(f"operator '{name}' with {argument!r} is not supported yet", path)


def _anything_but(argument: Any, path: str) -> Matcher:
    if isinstance(argument, Mapping) and set(argument) == {"prefix"} and isinstance(argument["prefix"], str):
        prefix = argument["prefix"]
        return lambda value: isinstance(value, str) and not value.startswith(prefix)
    excluded = argument if isinstance(argument, list) else [argument]
    if any(isinstance(e, Mapping | list) for e in excluded):
        raise PatternError(f"'anything-but' with {argument!r} is not supported yet", path)
    keys = {_key(e) for e in excluded}
    return lambda value: value is not None and _key(value) not in keys


def _numeric(argument: list[Any], path: str) -> Matcher:
    if len(argument) not in (2, 4):
        raise PatternError("'numeric' takes one or two comparisons, e.g. ['>', 0, '<=', 5]", path)
    comparisons = []
    for index in range(0, len(argument), 2):
        op, bound = argument[index], argument[index + 1]
        if op not in _NUMERIC or isinstance(bound, bool) or not isinstance(bound, int | float):
            raise PatternError(f"'numeric' comparison {op!r} {bound!r} is not valid", path)
        comparisons.append((_NUMERIC[op], bound))

    def match(value: Any) -> bool:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        return all(compare(value, bound) for compare, bound in comparisons)

    return match
