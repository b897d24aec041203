"""Property tests without a network: the engine against a brute-force reference of event-ruler's semantics.

The engine answers most events with independent per-field walks and falls back to a linear dynamic programme for
array consistency. The reference below is the definition, written the slow and obvious way: expand ``$or`` into
sub-rules, list every leaf of every field with the array elements it sits in, and try every combination of one
leaf per field (or none, for ``exists: false``) for one where no two leaves come from different elements of the
same array. Patterns and events are generated (strategies shared with the moto comparison, plus events rich in
arrays of objects); the leaf predicates themselves are covered case by case in test_patterns.py.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_patterns_moto import KEYS, event_values, patterns, scalars

from pipeline.patterns import PatternError, compile_pattern
from pipeline.patterns.operators import compile_field

objects_in_arrays = st.recursive(
    st.one_of(scalars, st.lists(scalars, max_size=2)),
    lambda inner: st.lists(st.dictionaries(st.sampled_from(KEYS), inner, min_size=1, max_size=3), min_size=1,
                           max_size=3),
    max_leaves=8,
)
details = st.dictionaries(st.sampled_from(KEYS), st.one_of(event_values, objects_in_arrays), max_size=3)

# A small world where patterns and events collide often: two keys, a handful of values, arrays of objects.
SMALL_KEYS = st.sampled_from(["a", "b"])
small_scalars = st.sampled_from(["a", "ab", "b", 1, 2, True, None])
small_condition = st.one_of(
    small_scalars, st.just({"prefix": "a"}), st.just({"anything-but": "a"}), st.just({"numeric": [">", 1]}),
    st.just({"exists": True}), st.just({"exists": False}), st.just({"wildcard": "a*"}),
    st.just({"equals-ignore-case": "A"}),
)
small_leaf = st.lists(small_condition, min_size=1, max_size=2)
small_object = st.dictionaries(SMALL_KEYS, st.one_of(small_leaf, st.dictionaries(SMALL_KEYS, small_leaf, min_size=1)),
                               min_size=1)
small_patterns = st.one_of(
    small_object.map(lambda o: {"detail": o}),
    st.tuples(small_object, small_object, small_object).map(lambda t: {"detail": {**t[0], "$or": [t[1], t[2]]}}),
)
small_values = st.recursive(
    st.one_of(small_scalars, st.lists(small_scalars, max_size=2)),
    lambda inner: st.one_of(st.dictionaries(SMALL_KEYS, inner, max_size=2),
                            st.lists(st.dictionaries(SMALL_KEYS, inner, min_size=1, max_size=2), min_size=1,
                                     max_size=3)),
    max_leaves=10,
)
small_details = st.dictionaries(SMALL_KEYS, small_values, max_size=2)

Membership = tuple[tuple[int, int], ...]


def subrules(pattern: dict[str, Any], prefix: tuple[str, ...] = ()) -> list[list[tuple[tuple[str, ...], Any]]]:
    """Every combination of $or branches, as lists of (path, values)."""
    rules: list[list[tuple[tuple[str, ...], Any]]] = [[]]
    for key, value in pattern.items():
        if key == "$or":
            branches = [rule for alternative in value for rule in subrules(alternative, prefix)]
            rules = [rule + branch for rule in rules for branch in branches]
        elif isinstance(value, dict):
            rules = [rule + nested for rule in rules for nested in subrules(value, (*prefix, key))]
        else:
            rules = [[*rule, ((*prefix, key), value)] for rule in rules]
    return rules


def leaves(node: Any, path: tuple[str, ...], membership: Membership = ()) -> Iterator[tuple[Any, Membership]]:
    if isinstance(node, list):
        for index, element in enumerate(node):
            yield from leaves(element, path, (*membership, (id(node), index)))
    elif not path:
        if not isinstance(node, dict):
            yield node, membership
    elif isinstance(node, dict) and path[0] in node:
        yield from leaves(node[path[0]], path[1:], membership)


def compatible(first: Membership, second: Membership) -> bool:
    shared = dict(first).keys() & dict(second).keys()
    return all(dict(first)[array] == dict(second)[array] for array in shared)


def reference(pattern: dict[str, Any], event: dict[str, Any]) -> bool:
    for rule in subrules(pattern):
        fields = []
        for path, values in rule:
            spec = compile_field(values, "")
            found = list(leaves(event, path))
            options: list[Membership | None] = [m for value, m in found if spec.test(value)]
            if spec.absent_ok:
                options.append(None)  # satisfied by absence
            fields.append((options, [m for _, m in found]))
        for choice in itertools.product(*(options for options, _ in fields)):
            picked = [m for m in choice if m is not None]
            if not all(compatible(a, b) for a, b in itertools.combinations(picked, 2)):
                continue
            absent_ok = all(not any(all(compatible(leaf, m) for m in picked) for leaf in all_leaves)
                            for option, (_, all_leaves) in zip(choice, fields, strict=True) if option is None)
            if absent_ok:
                return True
    return False


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pattern=patterns, detail=details, source=st.sampled_from(["com.shop.orders", "other"]))
def test_the_engine_agrees_with_the_brute_force_reference(pattern: dict[str, Any], detail: dict[str, Any],
                                                          source: str) -> None:
    try:
        compiled = compile_pattern(pattern)
    except PatternError:
        return
    event = {"source": source, "detail-type": "T", "detail": detail}
    assert compiled.matches(event) is reference(pattern, event)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pattern=small_patterns, detail=small_details)
def test_the_engine_agrees_with_the_reference_where_arrays_of_objects_abound(pattern: dict[str, Any],
                                                                            detail: dict[str, Any]) -> None:
    try:
        compiled = compile_pattern(pattern)
    except PatternError:
        return
    event = {"source": "s", "detail-type": "T", "detail": detail}
    assert compiled.matches(event) is reference(pattern, event)


def test_the_reference_knows_array_consistency() -> None:
    # the reference is itself checked on event-ruler's documented example (README, "JSON Array Matching")
    employees = {"employees": [{"firstName": "Anna", "lastName": "Smith"}, {"firstName": "Peter", "lastName": "Jones"}]}
    assert reference({"employees": {"firstName": ["Anna"], "lastName": ["Smith"]}}, employees)
    assert not reference({"employees": {"firstName": ["Anna"], "lastName": ["Jones"]}}, employees)


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=6),
              st.sampled_from(["prefix", "numeric", "anything-but", "exists", "cidr", "wildcard", "$or", ">", "<="])),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.text(max_size=4), st.sampled_from(
            ["$or", "prefix", "suffix", "numeric", "anything-but", "exists", "cidr", "wildcard",
             "equals-ignore-case", "detail"])), inner, max_size=3)),
    max_leaves=12,
)


@settings(max_examples=600, deadline=None)
@given(pattern=json_values, event=json_values)
def test_any_json_is_compiled_or_refused_and_any_event_is_answered(pattern: Any, event: Any) -> None:
    # hostile input: a pattern is either compiled or refused with a PatternError naming a place in it, and a
    # compiled pattern answers any JSON event with a plain bool
    try:
        compiled = compile_pattern(pattern)
    except PatternError as exc:
        assert exc.path == "" or exc.path.startswith("/")
        return
    assert compiled.matches(event) in (True, False)
    assert compiled.matches({"detail": event, "source": event}) in (True, False)
