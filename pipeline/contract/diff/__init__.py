"""Breaking-change diff of two versions of a catalogue, and the version policy that judges it.

:func:`diff_catalogues` classifies every change per event (:mod:`.changes` lists the kinds and their impact);
:func:`check` judges the result under a :class:`VersionPolicy` (DESIGN.md's by default).
"""

from .changes import IMPACT, CatalogueDiff, Change, EventDiff, Impact, Kind
from .events import Placed, diff_catalogues, diff_events, placed
from .inputs import DiffInputError, Side, load_side
from .policy import Bump, PolicyError, Verdict, VersionPolicy, Violation, bump_between, check, successor_name
from .schema import schema_changes

__all__ = [
    "IMPACT",
    "Bump",
    "CatalogueDiff",
    "Change",
    "DiffInputError",
    "EventDiff",
    "Impact",
    "Kind",
    "Placed",
    "PolicyError",
    "Side",
    "Verdict",
    "VersionPolicy",
    "Violation",
    "bump_between",
    "check",
    "diff_catalogues",
    "diff_events",
    "load_side",
    "placed",
    "schema_changes",
    "successor_name",
]
