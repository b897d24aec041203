"""Rules of the local bus: a name, an EventBridge pattern (compiled by :mod:`pipeline.patterns`), targets, and each
target's retry policy; stored in the bus file and read back, compiled, whenever another handle changed them."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from pipeline.bus.local.errors import RuleError
from pipeline.bus.local.retry import DEFAULT_RETRY, RetryPolicy
from pipeline.bus.local.targets import Target, target_from_json, target_id
from pipeline.patterns import EventPattern, PatternError, compile_pattern

__all__ = ["MAX_TARGETS", "Rule", "RuleBook", "load_rules", "store_rule"]

#: EventBridge allows five targets per rule.
MAX_TARGETS: Final = 5
#: EventBridge's limit on the length of an event pattern.
MAX_PATTERN_CHARS: Final = 2048
_NAME_CHARS: Final = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_")


@dataclass(frozen=True, slots=True)
class Rule:
    """A stored rule. ``targets`` maps each target id to its target; ``retries`` maps it to its retry policy."""

    name: str
    pattern: Mapping[str, Any]
    targets: Mapping[str, Target]
    retries: Mapping[str, RetryPolicy]
    enabled: bool = True
    description: str = ""


@dataclass(frozen=True, slots=True)
class RuleBook:
    """The rules as compiled at one generation of the file: what ``put_events`` and replays route with."""

    rules: tuple[Rule, ...]
    patterns: tuple[EventPattern, ...]

    def routes(self, event: Mapping[str, Any], only: str | None = None) -> list[tuple[str, str]]:
        """(rule, target id) of every enabled rule matching ``event`` (only rule ``only`` if given)."""
        found: list[tuple[str, str]] = []
        for rule, pattern in zip(self.rules, self.patterns, strict=True):
            if rule.enabled and (only is None or rule.name == only) and pattern.matches(event):
                found.extend((rule.name, ident) for ident in rule.targets)
        return found

    def target(self, rule: str, ident: str) -> tuple[Target, RetryPolicy] | None:
        for candidate in self.rules:
            if candidate.name == rule:
                target = candidate.targets.get(ident)
                return None if target is None else (target, candidate.retries[ident])
        return None


def check_rule(name: Any, pattern: Any, targets: Any, retry: RetryPolicy | None) -> tuple[EventPattern, Rule]:
    """Validate a rule as PutRule and PutTargets would; return its compiled pattern and the rule."""
    if not isinstance(name, str) or not 1 <= len(name) <= 64 or not set(name) <= _NAME_CHARS:
        raise RuleError("a rule name is 1 to 64 letters, digits, '.', '-' or '_'", where=f"rule {name!r}")
    where = f"rule {name!r}"
    if not isinstance(pattern, Mapping):
        raise RuleError(f"the pattern must be a JSON object, not {type(pattern).__name__}", where=where)
    try:
        text = json.dumps(pattern, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError, RecursionError) as exc:
        raise RuleError(f"the pattern is not JSON ({exc})", where=where) from None
    if len(text) > MAX_PATTERN_CHARS:
        raise RuleError(f"the pattern is {len(text)} characters; EventBridge allows {MAX_PATTERN_CHARS}",
                        where=where)
    try:
        compiled = compile_pattern(pattern)
    except PatternError as exc:
        raise RuleError(str(exc), where=where) from None
    if isinstance(targets, Mapping) or not isinstance(targets, Sequence) or not targets:
        raise RuleError("give a list of 1 to 5 targets", where=where)
    if len(targets) > MAX_TARGETS:
        raise RuleError(f"{len(targets)} targets; EventBridge allows {MAX_TARGETS} per rule", where=where)
    by_id: dict[str, Target] = {}
    retries: dict[str, RetryPolicy] = {}
    for index, target in enumerate(targets):
        if not hasattr(target, "kind") or not hasattr(target, "config"):
            raise RuleError(f"target {index + 1} is not a target (HttpTarget, BusTarget, FileTarget, "
                            f"CallableTarget)", where=where)
        ident = target_id(target, index)
        if ident in by_id:
            raise RuleError(f"two targets have the id {ident!r}", where=where)
        by_id[ident] = target
        retries[ident] = target.retry or retry or DEFAULT_RETRY
    return compiled, Rule(name, json.loads(text), by_id, retries)


def store_rule(db: sqlite3.Connection, rule: Rule, now_ms: int) -> None:
    """Replace the rule and its targets (inside the caller's transaction)."""
    db.execute("DELETE FROM targets WHERE rule = ?", (rule.name,))
    db.execute("INSERT INTO rules (name, pattern, enabled, description, created_ms) VALUES (?, ?, ?, ?, ?) "
               "ON CONFLICT (name) DO UPDATE SET pattern = excluded.pattern, enabled = excluded.enabled, "
               "description = excluded.description",
               (rule.name, json.dumps(rule.pattern), int(rule.enabled), rule.description, now_ms))
    db.executemany("INSERT INTO targets (rule, id, position, kind, config, retry) VALUES (?, ?, ?, ?, ?, ?)",
                   [(rule.name, ident, position, target.kind, json.dumps(target.config()),
                     json.dumps(rule.retries[ident].as_json()))
                    for position, (ident, target) in enumerate(rule.targets.items())])


def load_rules(db: sqlite3.Connection, where: str) -> RuleBook:
    """Read and compile every stored rule.

    :raises RuleError: a stored rule no longer compiles (e.g. written by another version)."""
    targets: dict[str, dict[str, Target]] = {}
    retries: dict[str, dict[str, RetryPolicy]] = {}
    for rule, ident, kind, config, retry in db.execute(
            "SELECT rule, id, kind, config, retry FROM targets ORDER BY rule, position"):
        try:
            policy = RetryPolicy.from_json(json.loads(retry))
            targets.setdefault(rule, {})[ident] = target_from_json(kind, ident, json.loads(config), policy)
        except (RuleError, ValueError, KeyError, TypeError) as exc:
            raise RuleError(f"stored target {ident!r} is unreadable ({exc})", where=f"{where}: rule {rule!r}") \
                from None
        retries.setdefault(rule, {})[ident] = policy
    rules, patterns = [], []
    for name, pattern_text, enabled, description in db.execute(
            "SELECT name, pattern, enabled, description FROM rules ORDER BY created_ms, name"):
        try:
            pattern = json.loads(pattern_text)
            patterns.append(compile_pattern(pattern))
        except (PatternError, ValueError, TypeError) as exc:
            raise RuleError(f"the stored pattern is unusable ({exc})", where=f"{where}: rule {name!r}") from None
        rules.append(Rule(name, pattern, targets.get(name, {}), retries.get(name, {}), bool(enabled), description))
    return RuleBook(tuple(rules), tuple(patterns))
