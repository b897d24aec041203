"""The version policy: which ``info.version`` bump a set of changes needs, and which changes no bump can excuse.

DESIGN.md's policy (the default): breaking changes to an event are not made in place — they get a new event type
(``Payment.AuthorisedV2``) and the old one is deprecated; a new event is a **major** bump, a changed event (a
non-breaking change) **minor**, a fix (descriptions, examples) **patch**. Removing an event is allowed only once
the previous version had deprecated or retired it, and is a major bump. Each document has its own version.

A policy file (YAML or JSON) may change any of this::

    breaking: new-type        # or: major (allow breaking changes in place, with a major bump: plain SemVer)
    new-event: major          # major | minor | patch | none
    changed-event: minor
    fix: patch
    removed-event: major
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, Literal

from pipeline.errors import EventdeckError

from .changes import CatalogueDiff, EventDiff, Impact


class PolicyError(EventdeckError):
    """A version policy file is malformed (names the file and the key)."""


class Bump(IntEnum):
    NONE = 0
    PATCH = 1
    MINOR = 2
    MAJOR = 3

    def __str__(self) -> str:
        return self.name.lower()


@dataclass(frozen=True, slots=True)
class VersionPolicy:
    breaking: Literal["new-type", "major"] = "new-type"
    new_event: Bump = Bump.MAJOR
    changed_event: Bump = Bump.MINOR
    fix: Bump = Bump.PATCH
    removed_event: Bump = Bump.MAJOR

    @classmethod
    def from_mapping(cls, data: Any, source: str) -> VersionPolicy:
        """The policy a file describes; unknown keys and values are errors naming ``source`` and the key."""
        if not isinstance(data, dict):
            raise PolicyError(f"{source}: a version policy is a mapping (breaking, new-event, changed-event, fix, "
                              "removed-event)")
        known = {"breaking", "new-event", "changed-event", "fix", "removed-event"}
        unknown = sorted(str(k) for k in data if k not in known)
        if unknown:
            raise PolicyError(f"{source}: unknown key(s) {', '.join(unknown)}; expected {', '.join(sorted(known))}")
        breaking = data.get("breaking", "new-type")
        if breaking not in ("new-type", "major"):
            raise PolicyError(f"{source}: breaking: {breaking!r} is not 'new-type' or 'major'")
        bumps: dict[str, Bump] = {}
        for key, attribute in (("new-event", "new_event"), ("changed-event", "changed_event"), ("fix", "fix"),
                               ("removed-event", "removed_event")):
            value = data.get(key, str(getattr(cls(), attribute)))
            if not isinstance(value, str) or value.upper() not in Bump.__members__:
                raise PolicyError(f"{source}: {key}: {value!r} is not one of major, minor, patch, none")
            bumps[attribute] = Bump[value.upper()]
        return cls(breaking=breaking, **bumps)


@dataclass(frozen=True, slots=True)
class Violation:
    """A change the policy refuses. ``rule`` is ``breaking`` (a breaking change made in place) or ``version``
    (``info.version`` not bumped as required)."""

    rule: Literal["breaking", "version"]
    document: str
    message: str
    event: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "document": self.document, "event": self.event, "message": self.message}


@dataclass(frozen=True, slots=True)
class DocumentVerdict:
    document: str
    old_version: str | None
    new_version: str | None
    required: Bump
    actual: Bump | None
    reasons: tuple[str, ...] = ()
    """Why ``required`` is what it is: the event changes that need the biggest bump."""

    def to_dict(self) -> dict[str, Any]:
        return {"document": self.document, "old_version": self.old_version, "new_version": self.new_version,
                "required_bump": str(self.required), "actual_bump": None if self.actual is None else str(self.actual),
                "reasons": list(self.reasons)}


@dataclass(frozen=True, slots=True)
class Verdict:
    documents: tuple[DocumentVerdict, ...]
    violations: tuple[Violation, ...] = field(default=())

    @property
    def breaking(self) -> tuple[Violation, ...]:
        return tuple(v for v in self.violations if v.rule == "breaking")

    @property
    def version(self) -> tuple[Violation, ...]:
        return tuple(v for v in self.violations if v.rule == "version")


_SEMVER = re.compile(r"^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$")


def parse_version(text: str) -> tuple[int, int, int, str | None] | None:
    """``MAJOR.MINOR.PATCH[-pre][+build]`` as numbers (``None`` when ``text`` is not semantic versioning)."""
    match = _SEMVER.match(text.strip()) if isinstance(text, str) else None
    if match is None:
        return None
    return int(match[1]), int(match[2]), int(match[3]), match[4]


def bump_between(old: str, new: str) -> Bump | None:
    """The bump from ``old`` to ``new`` (``None``: not both semantic versions, or ``new`` is lower)."""
    before, after = parse_version(old), parse_version(new)
    if before is None or after is None:
        return None
    if after[:3] < before[:3]:
        return None
    if after[0] > before[0]:
        return Bump.MAJOR
    if after[1] > before[1]:
        return Bump.MINOR
    if after[2] > before[2]:
        return Bump.PATCH
    if before[3] is not None and after[3] is None:
        return Bump.PATCH  # 1.2.0-rc.1 -> 1.2.0: the release itself
    return Bump.NONE


def successor_name(name: str) -> str:
    """The new event type a breaking change belongs in: ``Payment.Authorised.Ecom`` → ``Payment.AuthorisedV2.Ecom``,
    ``…V2…`` → ``…V3…`` (the version goes on the event segment, so ``Payment.*`` rules still match)."""
    parts = name.split(".")
    index = 1 if len(parts) > 1 else 0
    match = re.match(r"^(.*?)V(\d+)$", parts[index])
    parts[index] = f"{match[1]}V{int(match[2]) + 1}" if match else f"{parts[index]}V2"
    return ".".join(parts)


def required_bump(event: EventDiff, policy: VersionPolicy) -> Bump:
    """The bump one event's changes need under ``policy``."""
    if event.added:
        return policy.new_event
    if event.removed:
        return policy.removed_event
    impact = event.impact
    if impact is Impact.BREAKING:
        return Bump.MAJOR if policy.breaking == "major" else policy.changed_event
    if impact is Impact.NON_BREAKING:
        return policy.changed_event
    if impact is Impact.ANNOTATION:
        return policy.fix
    return Bump.NONE


def check(diff: CatalogueDiff, policy: VersionPolicy | None = None) -> Verdict:
    """Judge ``diff`` under ``policy`` (default: DESIGN.md's)."""
    policy = policy or VersionPolicy()
    violations: list[Violation] = []
    verdicts: list[DocumentVerdict] = []
    for event in diff.changed:
        if policy.breaking != "new-type" or event.added:
            continue
        if event.removed:
            if not event.old_retiring:
                violations.append(Violation(
                    "breaking", event.document, f"{event.event} was removed without being deprecated first: mark "
                    "it deprecated (x-lifecycle, with supersededBy and a sunset date) in one version, remove it "
                    "in a later one", event.event))
        elif event.impact is Impact.BREAKING:
            first = next(c for c in event.changes if c.impact is Impact.BREAKING)
            count = sum(1 for c in event.changes if c.impact is Impact.BREAKING)
            violations.append(Violation(
                "breaking", event.document, f"{event.event}: {count} breaking change(s) to an existing event type "
                f"(first: {first.message} at {first.where or '/'}); publish them as a new type "
                f"({successor_name(event.event)}) and deprecate {event.event}", event.event))
    for document, (old, new) in sorted(diff.versions.items()):
        events = [e for e in diff.changed if e.document == document]
        required = max((required_bump(e, policy) for e in events), default=Bump.NONE)
        reasons = tuple(f"{e.event}: {'new event' if e.added else 'removed' if e.removed else e.impact}"
                        for e in events if required_bump(e, policy) == required and required is not Bump.NONE)
        if old is None or new is None:
            verdicts.append(DocumentVerdict(document, old, new, required, None, reasons))
            continue
        actual = bump_between(old, new)
        verdicts.append(DocumentVerdict(document, old, new, required, actual, reasons))
        if parse_version(old) is None or parse_version(new) is None:
            bad = new if parse_version(new) is None else old
            violations.append(Violation("version", document, f"{document}: info.version {bad!r} is not a semantic "
                                        "version (MAJOR.MINOR.PATCH); the version policy cannot be checked"))
        elif actual is None:
            violations.append(Violation("version", document,
                                        f"{document}: info.version went backwards, {old} → {new}"))
        elif actual < required:
            why = "; ".join(reasons[:3]) + (f"; and {len(reasons) - 3} more" if len(reasons) > 3 else "")
            violations.append(Violation("version", document,
                                        f"{document}: info.version {old} → {new} is a {actual} bump; the changes "
                                        f"need a {required} bump ({why})"))
    return Verdict(tuple(verdicts), tuple(violations))
