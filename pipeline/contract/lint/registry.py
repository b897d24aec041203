"""The rule registry: every lint rule, its id, default severity, family and one-line description.

A rule is a function from one document's :class:`~.target.LintTarget` to ``(message, location)`` pairs; the
engine gives each the severity the ruleset chose. Registering happens at import of the family modules, so the
registry is complete once :mod:`pipeline.contract.lint` is imported.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import Location
from .findings import LintSeverity

if TYPE_CHECKING:
    from .target import LintTarget

Check = Callable[["LintTarget"], Iterable[tuple[str, Location]]]


@dataclass(frozen=True, slots=True)
class Rule:
    """``spectral``: the ``spectral:asyncapi`` rule ids this rule implements (empty for house rules)."""

    id: str
    severity: LintSeverity
    family: str
    description: str
    check: Check
    spectral: tuple[str, ...] = ()

    @property
    def house(self) -> bool:
        return self.id.startswith("eventdeck-")

    @property
    def doc_path(self) -> str:
        """The rule's page in the catalogue's reference docs, relative to ``docs/``."""
        return f"reference/lint/{self.id}.md"


RULES: dict[str, Rule] = {}


def rule(rule_id: str, severity: LintSeverity, family: str, description: str,
         spectral: tuple[str, ...] = ()) -> Callable[[Check], Check]:
    """Register ``check`` as rule ``rule_id``."""
    def register(check: Check) -> Check:
        if rule_id in RULES:
            raise ValueError(f"lint rule {rule_id} registered twice")
        RULES[rule_id] = Rule(rule_id, severity, family, description, check, spectral)
        return check
    return register
