"""``eventdeck lint``: the ground of Spectral's ``spectral:asyncapi`` rules plus the house style guide, over the
contract model.

Each rule lives in the module of its family and registers itself (:mod:`.registry`); a ruleset file picks
severities (:mod:`.ruleset`); :func:`lint` runs them over documents and returns findings with file, line and
JSON pointer. Output formats are the CLI's business.
"""

from . import channels, diagnostics, extension_rules, info, messages, operations, payloads  # noqa: F401  (register)
from .engine import LintReport, lint
from .findings import Finding, LintSeverity
from .registry import RULES, Rule
from .ruleset import DEFAULT_RULESET_FILE, Ruleset, RulesetError, load_ruleset

__all__ = ["DEFAULT_RULESET_FILE", "RULES", "Finding", "LintReport", "LintSeverity", "Rule", "Ruleset",
           "RulesetError", "lint", "load_ruleset"]
