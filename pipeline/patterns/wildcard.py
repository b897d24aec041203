"""EventBridge ``wildcard`` values: parse (escapes, limits), measure complexity, and match without backtracking.

A ``*`` matches zero or more characters; ``\\*`` is a literal asterisk and ``\\\\`` a literal backslash; any other
backslash escape and two consecutive wildcards are rejected, as event-ruler's ``WildcardParser`` does. Matching
uses the classic greedy algorithm for ``*``-only globs (first segment as a prefix, last as a suffix, the middle ones
found left to right), which is linear in the value and cannot be driven into catastrophic backtracking.
"""

from __future__ import annotations

from collections.abc import Callable

from pipeline.patterns.errors import PatternError

# event-ruler rejects a wildcard rule whose automaton lets too many wildcard prefixes be active at once ("Rule is too
# complex"). EventBridge's threshold is a service setting we cannot read; the event-ruler README's data points end at
# a complexity of 100 (about 1,250 events/s), so we refuse above that and accept everything below (docs/reference).
MAX_WILDCARD_COMPLEXITY = 100
_SUBSET_BUDGET = 5_000
_STAR = None


def parse(text: str, path: str) -> list[str]:
    """The literal segments between wildcards (``"a*b"`` → ``["a", "b"]``), or a PatternError like EventBridge's."""
    segments: list[str] = []
    current: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char == "*":
            if index + 1 < len(text) and text[index + 1] == "*":
                # event-ruler counts positions in the quoted value, hence the +1
                raise PatternError(f"Consecutive wildcard characters at pos {index + 1}", path)
            segments.append("".join(current))
            current = []
        elif char == "\\":
            if index + 1 < len(text) and text[index + 1] in "*\\":
                current.append(text[index + 1])
                index += 1
            else:
                raise PatternError(f"Invalid escape character at pos {index + 1}", path)
        else:
            current.append(char)
        index += 1
    segments.append("".join(current))
    if complexity(segments) > MAX_WILDCARD_COMPLEXITY:
        raise PatternError("Rule is too complex - try using fewer wildcard characters or fewer repeating character "
                           "sequences after a wildcard character", path)
    return segments


def complexity(segments: list[str]) -> int:
    """The largest number of wildcard states a worst-case value keeps active at once (event-ruler's measure: how
    many wildcard prefixes of the rule match a theoretical worst-case value).

    The glob's NFA has one state per position (a wildcard state loops on any character); a subset construction over
    the pattern's own characters plus one "other" character visits every reachable set of active states.
    """
    if len(segments) == 1:
        return 0
    tokens: list[str | None] = []
    for number, segment in enumerate(segments):
        if number:
            tokens.append(_STAR)
        tokens.extend(segment)
    end = len(tokens)

    def closure(states: set[int]) -> frozenset[int]:
        result = set(states)
        stack = list(states)
        while stack:
            state = stack.pop()
            if state < end and tokens[state] is _STAR and state + 1 not in result:
                result.add(state + 1)
                stack.append(state + 1)
        return frozenset(result)

    def active(states: frozenset[int]) -> int:
        return sum(1 for state in states if state < end and tokens[state] is _STAR)

    alphabet = {t for t in tokens if t is not _STAR} | {"\x00other"}
    start = closure({0})
    seen = {start}
    frontier = [start]
    worst = active(start)
    while frontier:
        current = frontier.pop()
        for char in alphabet:
            moved = set()
            for state in current:
                if state == end:
                    continue
                token = tokens[state]
                if token is _STAR:
                    moved.add(state)
                elif token == char:
                    moved.add(state + 1)
            if not moved:
                continue
            nxt = closure(moved)
            if nxt not in seen:
                seen.add(nxt)
                worst = max(worst, active(nxt))
                if len(seen) > _SUBSET_BUDGET:
                    return MAX_WILDCARD_COMPLEXITY + 1
                frontier.append(nxt)
    return worst


def matcher(segments: list[str]) -> Callable[[str], bool]:
    """A predicate on a string: does it match the glob made of these literal segments?"""
    if len(segments) == 1:
        literal = segments[0]
        return lambda value: value == literal
    first, middle, last = segments[0], segments[1:-1], segments[-1]
    least = sum(map(len, segments))

    def match(value: str) -> bool:
        if len(value) < least or not value.startswith(first) or not value.endswith(last):
            return False
        position, stop = len(first), len(value) - len(last)
        for segment in middle:
            found = value.find(segment, position, stop)
            if found < 0:
                return False
            position = found + len(segment)
        return True

    return match
