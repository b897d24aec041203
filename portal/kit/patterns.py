"""Rule patterns for an event at every level of its name hierarchy, and which events each one really matches.

``Payment.Authorised.Ecom`` gets three: the exact ``detail-type``, ``Payment.Authorised.*`` (a ``prefix`` on
``Payment.Authorised.``, so ``Payment.AuthorisedV2.Ecom`` stays out) and ``Payment.*``. What a pattern "also
matches" is decided by the pattern engine against every contract example built as the producer builds it, never by
comparing names, so a pattern the kit prints is one that selects exactly the events it lists.
"""

from __future__ import annotations

import difflib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from pipeline.contract.extensions import EventBridge
from pipeline.contract.model import Catalogue, Event
from pipeline.patterns import compile_pattern
from portal.kit.errors import KitError
from portal.kit.examples import ExampleEvent, document_of, example_events
from portal.kit.filters import FilterOffer, common_offer

T = TypeVar("T")


@dataclass(frozen=True)
class KitPattern:
    """One level's rule: ``label`` (``Payment.Authorised.*``; the full name when exact), its ``depth`` (number of
    name parts fixed), the ``pattern``, the events whose examples it matches and the content filters it allows."""

    label: str
    depth: int
    exact: bool
    pattern: dict[str, Any]
    matches: tuple[str, ...]
    filters: FilterOffer
    eventbridge: EventBridge | None = None
    """Where the events are put (source, bus, account, region), when all of them are put on the same bus."""

    def also_matches(self, event_key: str) -> tuple[str, ...]:
        """The events other than ``event_key`` this pattern selects."""
        return tuple(key for key in self.matches if key != event_key)

    def as_json(self, event_key: str | None = None) -> dict[str, Any]:
        result: dict[str, Any] = {"level": self.label, "pattern": self.pattern, "matches": list(self.matches)}
        if event_key is not None:
            result["alsoMatches"] = list(self.also_matches(event_key))
        if self.filters.fields:
            result["contentFilters"] = {f.name: list(f.values) for f in self.filters.fields}
        else:
            result["noContentFilter"] = self.filters.unavailable
        return result


def levels(event: Event) -> list[str]:
    """The labels of ``event``'s levels, exact first: ``Payment.Authorised.Ecom``, ``Payment.Authorised.*``, …"""
    parts = event.parts or (event.name,)
    return [event.name] + [".".join(parts[:depth]) + ".*" for depth in range(len(parts) - 1, 0, -1)]


def event_named(catalogue: Catalogue, name: str) -> Event:
    """The event called ``name``. :raises KitError: naming the closest event names when there is none."""
    for event in catalogue.events:
        if event.name == name or event.key == name:
            return event
    close = difflib.get_close_matches(name, [e.name for e in catalogue.events], n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(close)}?" if close else f"; the events are {_names(catalogue)}"
    raise KitError(f"no event {_shown(name)} in the contract{hint}")


def patterns_for(catalogue: Catalogue, event: Event, examples: list[ExampleEvent] | None = None) -> list[KitPattern]:
    """``event``'s patterns, exact first, then each shorter prefix of its name."""
    examples = example_events(catalogue) if examples is None else examples
    return [level_pattern(catalogue, label, examples) for label in levels(event)]


class LevelIndex:
    """The events, and the examples, at every level of a catalogue's names, found in one pass: looking them up
    with ``startswith`` for each level of a catalogue scans every event once per level (at 10,000 events, 13,000
    levels by 10,000 names). A level ``A.B.*`` holds the names that start with ``A.B.``: those whose dot-ended
    prefixes include it."""

    def __init__(self, catalogue: Catalogue, examples: Sequence[ExampleEvent]) -> None:
        self._events = _by_level((event.name, event) for event in catalogue.events)
        self._examples = _by_level((example.event.get("detail-type"), example) for example in examples)

    def events(self, label: str) -> list[Event]:
        """The events ``label`` chooses, in the catalogue's order."""
        return list(self._events.get(_level_key(label), ()))

    def examples(self, label: str) -> list[ExampleEvent]:
        """The examples whose ``detail-type`` is the name or starts with the level's prefix, in their order."""
        return list(self._examples.get(_level_key(label), ()))


def _level_key(label: str) -> tuple[bool, str]:
    return (True, label) if not label.endswith(".*") else (False, label[:-1])


def _by_level(named: Iterable[tuple[Any, T]]) -> dict[tuple[bool, str], list[T]]:
    found: dict[tuple[bool, str], list[T]] = defaultdict(list)
    for name, item in named:
        if not isinstance(name, str):
            continue
        found[True, name].append(item)
        at = name.find(".")
        while at >= 0:
            found[False, name[:at + 1]].append(item)
            at = name.find(".", at + 1)
    return found


def level_pattern(catalogue: Catalogue, label: str, examples: list[ExampleEvent] | None = None,
                  index: LevelIndex | None = None) -> KitPattern:
    """The pattern for ``label``: an event name (exact) or a hierarchy level ``A.B.*``. ``index``: the
    catalogue's :class:`LevelIndex` (then ``examples`` need only hold those of the level).

    :raises KitError: when no event of the contract has that name or sits under that level."""
    examples = example_events(catalogue) if examples is None else examples
    exact = not label.endswith(".*")
    prefix = label[:-1]  # "Payment.Authorised." for "Payment.Authorised.*"
    chosen = index.events(label) if index is not None else \
        [e for e in catalogue.events if (e.name == label if exact else e.name.startswith(prefix))]
    if not chosen or label in ("*", ".*"):
        close = _close_levels(catalogue, label, exact)
        hint = f"; did you mean {', '.join(close)}?" if close else f"; the events are {_names(catalogue)}"
        raise KitError(f"no event {'is named' if exact else 'sits under'} {_shown(label)} in the contract{hint}")
    bridges = [document_of(catalogue, e).eventbridge for e in chosen]
    sources = sorted({b.source for b in bridges if b is not None and b.source})
    if not sources:
        raise KitError(f"{label}: the contract puts these events on no bus (no x-eventbridge.source)")
    buses = {(b.source, b.bus, b.account, b.region) for b in bridges if b is not None}
    detail_type: list[Any] = [label] if exact else [{"prefix": prefix}]
    pattern = {"source": sources, "detail-type": detail_type}
    depth = len(label.split(".")) - (0 if exact else 1)
    return KitPattern(label, depth, exact, pattern, matched_events(pattern, examples), common_offer(chosen),
                      bridges[0] if len(buses) == 1 else None)


def matched_events(pattern: dict[str, Any], examples: list[ExampleEvent]) -> tuple[str, ...]:
    """The events at least one of whose examples ``pattern`` matches, by the pattern engine."""
    engine = compile_pattern(pattern)
    return tuple(dict.fromkeys(e.event_key for e in examples if engine.matches(e.event)))


def all_levels(catalogue: Catalogue) -> list[str]:
    """Every label the kit has a pattern for: each event name and each level above it, once."""
    return list(dict.fromkeys(label for event in catalogue.events for label in levels(event)))


def _names(catalogue: Catalogue) -> str:
    return ", ".join(sorted(e.name for e in catalogue.events)[:20])


def _close_levels(catalogue: Catalogue, label: str, exact: bool) -> list[str]:
    candidates = [e.name for e in catalogue.events] if exact else [
        level for level in all_levels(catalogue) if level.endswith(".*")]
    return difflib.get_close_matches(label, candidates, n=3, cutoff=0.5)


def _shown(text: str) -> str:
    """``text`` as a message quotes it: escaped (``repr``), at most 80 characters of it."""
    return repr(text[:80]) + ("…" if len(text) > 80 else "")
