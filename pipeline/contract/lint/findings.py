"""What lint reports: a :class:`Finding` of one rule, at one place, with the severity the ruleset gave it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ..errors import Location


class LintSeverity(StrEnum):
    """Spectral's four severities (and ``off``), so a ruleset reads the same in both tools."""

    ERROR = "error"
    WARN = "warn"
    INFO = "info"
    HINT = "hint"
    OFF = "off"

    @property
    def rank(self) -> int:
        """Higher is worse; ``off`` is below everything."""
        return _RANKS[self]

    def at_least(self, threshold: LintSeverity) -> bool:
        return self is not LintSeverity.OFF and self.rank >= threshold.rank


_RANKS = {LintSeverity.OFF: -1, LintSeverity.HINT: 0, LintSeverity.INFO: 1, LintSeverity.WARN: 2,
          LintSeverity.ERROR: 3}


@dataclass(frozen=True, slots=True)
class Finding:
    """One rule broken at one place: ``location`` has the file, 1-based line/column and the JSON pointer."""

    rule: str
    severity: LintSeverity
    message: str
    location: Location

    def __str__(self) -> str:
        return f"{self.location}: {self.severity.value}: {self.message} [{self.rule}]"

    def to_dict(self) -> dict[str, object]:
        return {"rule": self.rule, "severity": self.severity.value, "message": self.message,
                "file": self.location.file, "line": self.location.line, "column": self.location.column,
                "pointer": self.location.pointer}
