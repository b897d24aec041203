"""Ruleset files: which rules run and how severe each one is.

The format (``eventdeck-lint.yaml``; documented in ``docs/reference/lint/index.md``)::

    extends: recommended        # or "off" (every rule off), or a path to another ruleset file; or a list of them
    rules:
      asyncapi-info-license-url: off
      eventdeck-property-description: error

Severities are Spectral's: ``error``, ``warn``, ``info``, ``hint`` and ``off``. Later entries win: each
``extends`` in order, then this file's ``rules``. The file is read with the contract's own YAML 1.2 reader, so
``off`` is the string it looks like and a duplicate key is refused.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.errors import EventdeckError

from ..errors import ContractError, Location
from ..source import parse_text
from .findings import LintSeverity
from .registry import RULES

DEFAULT_RULESET_FILE = "eventdeck-lint.yaml"
MAX_RULESET_BYTES = 1024 * 1024
_SEVERITY_NAMES = {"error": LintSeverity.ERROR, "warn": LintSeverity.WARN, "warning": LintSeverity.WARN,
                   "info": LintSeverity.INFO, "information": LintSeverity.INFO, "hint": LintSeverity.HINT,
                   "off": LintSeverity.OFF}
_BASES = ("recommended", "off")


class RulesetError(EventdeckError):
    """A ruleset file cannot be used: unreadable, not YAML, an unknown rule or severity. Names file and line."""

    def __init__(self, message: str, location: Location) -> None:
        self.location = location
        super().__init__(f"{location}: {message}")


@dataclass(frozen=True)
class Ruleset:
    """The severity of every rule (``off`` for rules that do not run), and the files it was read from."""

    severities: Mapping[str, LintSeverity]
    files: tuple[str, ...] = field(default=())

    @classmethod
    def recommended(cls) -> Ruleset:
        return cls({rule_id: rule.severity for rule_id, rule in RULES.items()})

    def severity(self, rule_id: str) -> LintSeverity:
        return self.severities.get(rule_id, LintSeverity.OFF)

    @property
    def enabled(self) -> tuple[str, ...]:
        return tuple(r for r, s in self.severities.items() if s is not LintSeverity.OFF)


def load_ruleset(path: str | os.PathLike[str]) -> Ruleset:
    """Read the ruleset file at ``path`` (and what it extends). Raises :class:`RulesetError`."""
    severities: dict[str, LintSeverity] = {}
    files: list[str] = []
    _read(Path(path), severities, files, ())
    return Ruleset(severities, tuple(files))


def _read(path: Path, severities: dict[str, LintSeverity], files: list[str], chain: tuple[str, ...]) -> None:
    where = Location(str(path))
    real = os.path.realpath(path)
    if real in chain:
        raise RulesetError("ruleset extends itself (through " + " -> ".join(chain) + ")", where)
    try:
        if path.stat().st_size > MAX_RULESET_BYTES:
            raise RulesetError(f"ruleset file is over {MAX_RULESET_BYTES:,} bytes", where)
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise RulesetError("ruleset file does not exist", where) from None
    except IsADirectoryError:
        raise RulesetError("ruleset is a folder, not a file", where) from None
    except UnicodeDecodeError as exc:
        raise RulesetError(f"ruleset file is not UTF-8 text (byte {exc.start})", where) from None
    except OSError as exc:
        raise RulesetError(f"ruleset file cannot be read: {exc.strerror}", where) from None
    try:
        source = parse_text(text, str(path))
    except ContractError as exc:
        raise RulesetError(f"ruleset file is not valid YAML: {exc.message}", exc.location or where) from None
    if source.diagnostics:
        first = source.diagnostics[0]
        raise RulesetError(first.message, first.location)
    data = source.data
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise RulesetError("a ruleset is a mapping with 'extends' and 'rules'", source.locate(""))
    unknown = [k for k in data if k not in ("extends", "rules")]
    if unknown:
        raise RulesetError(f"unknown key '{unknown[0]}' (a ruleset has 'extends' and 'rules')",
                           source.locate(f"/{unknown[0]}"))
    files.append(str(path))
    bases: Any = data.get("extends", "recommended")
    if isinstance(bases, str):
        bases = [bases]
    if not isinstance(bases, list) or not all(isinstance(b, str) and b for b in bases):
        raise RulesetError("'extends' is 'recommended', 'off', a ruleset file path, or a list of them",
                           source.locate("/extends"))
    for index, base in enumerate(bases):
        if base == "recommended":
            severities.update({rule_id: rule.severity for rule_id, rule in RULES.items()})
        elif base == "off":
            severities.update({rule_id: LintSeverity.OFF for rule_id in RULES})
        elif base.startswith(("spectral:", "eventdeck:")) or "://" in base:
            raise RulesetError(f"cannot extend '{base}': extend 'recommended', 'off' or a local ruleset file",
                               source.locate(f"/extends/{index}" if isinstance(data.get("extends"), list)
                                             else "/extends"))
        elif not (path.parent / base).is_file():
            raise RulesetError(f"extends '{base}', but that ruleset file does not exist",
                               source.locate(f"/extends/{index}" if isinstance(data.get("extends"), list)
                                             else "/extends"))
        else:
            _read(path.parent / base, severities, files, (*chain, real))
    rules = data.get("rules", {})
    if rules is None:
        rules = {}
    if not isinstance(rules, dict):
        raise RulesetError("'rules' maps rule ids to a severity (error, warn, info, hint, off)",
                           source.locate("/rules"))
    for rule_id, value in rules.items():
        at = source.locate(f"/rules/{rule_id.replace('~', '~0').replace('/', '~1')}")
        if rule_id not in RULES:
            close = difflib.get_close_matches(rule_id, list(RULES), n=1)
            hint = f"; did you mean '{close[0]}'?" if close else " (eventdeck lint --list-rules shows them)"
            raise RulesetError(f"unknown rule '{rule_id}'{hint}", at)
        severity = _SEVERITY_NAMES.get(value) if isinstance(value, str) else None
        if severity is None:
            raise RulesetError(f"rule '{rule_id}': severity {value!r} is not one of error, warn, info, hint, off", at)
        severities[rule_id] = severity
