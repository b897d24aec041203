"""Run the rules over documents: load the catalogue once, give each rule each document, apply the ruleset."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import EventdeckError

from ..loader import ContractLoader
from ..model import Catalogue
from .findings import Finding, LintSeverity
from .registry import RULES
from .ruleset import Ruleset
from .target import LintTarget


class RuleCrashed(EventdeckError):
    """A rule failed on a document it should have reported on: a defect of eventdeck, named with its place."""


@dataclass(frozen=True)
class LintReport:
    """Every finding of every enabled rule, in file and line order; the documents linted; the ruleset used."""

    findings: tuple[Finding, ...]
    documents: tuple[str, ...]
    ruleset: Ruleset

    def at_least(self, threshold: LintSeverity) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity.at_least(threshold))

    def count(self, severity: LintSeverity) -> int:
        return sum(1 for f in self.findings if f.severity is severity)


def lint(paths: Sequence[str | os.PathLike[str]], *, ruleset: Ruleset | None = None,
         loader: ContractLoader | None = None, root: str | os.PathLike[str] | None = None) -> LintReport:
    """Lint the AsyncAPI documents under ``paths``. Raises :class:`~pipeline.contract.ContractError` when a
    document cannot be modelled at all (missing, not YAML, no supported ``asyncapi`` version)."""
    ruleset = ruleset or Ruleset.recommended()
    loader = loader or ContractLoader()
    catalogue = loader.load(paths, root=root)
    fence = root if root is not None else loader.root
    if fence is None:
        fence = _default_root([Path(p) for p in paths], catalogue)
    findings: dict[Finding, None] = {}
    for document in catalogue.documents:
        target = LintTarget.build(document, catalogue, loader.sources, str(fence))
        for rule_id in ruleset.enabled:
            rule = RULES[rule_id]
            severity = ruleset.severity(rule_id)
            try:
                for message, location in rule.check(target):
                    findings.setdefault(Finding(rule_id, severity, message, location), None)
            except (RecursionError, ValueError, TypeError, KeyError, AttributeError, IndexError) as exc:
                raise RuleCrashed(f"{document.path}: lint rule {rule_id} failed ({type(exc).__name__}: {exc}); "
                                  "please report this") from exc
    ordered = sorted(findings, key=lambda f: (f.location.file, f.location.line or 0, f.location.column or 0,
                                              f.rule, f.message))
    return LintReport(tuple(ordered), tuple(d.path for d in catalogue.documents), ruleset)


def _default_root(given: list[Path], catalogue: Catalogue) -> str:
    """The loader's default: the one folder given, else the common folder of the documents."""
    if len(given) == 1 and given[0].is_dir():
        return str(given[0])
    return os.path.commonpath([os.path.dirname(d.path) for d in catalogue.documents]) if catalogue.documents \
        else "."


def rule_ids(rules: Iterable[str] = ()) -> tuple[str, ...]:
    return tuple(rules) or tuple(RULES)
