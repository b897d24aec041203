"""Python module names for events: ``Payment.AuthorisedV2.Ecom`` → ``payment_authorised_v2_ecom``.

Names are identifiers (ASCII letters, digits, ``_``), never a keyword or a leading digit, and unique among the
events case-insensitively (a ``_2`` suffix in catalogue order), so the files work on every file system.
"""

from __future__ import annotations

import keyword
import re
import unicodedata
from collections.abc import Iterable

from pipeline.contract.registry import unique_slugs

_WORD_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_NOT_IDENTIFIER = re.compile(r"[^A-Za-z0-9]+")
#: Names the generated package uses for itself.
RESERVED = frozenset({"__init__", "__main__", "py", "typed"})
MAX_LENGTH = 120


def module_name(event_name: str) -> str:
    """The snake_case module name for ``event_name`` (not yet made unique)."""
    ascii_name = unicodedata.normalize("NFKD", event_name).encode("ascii", "ignore").decode("ascii")
    spaced = _WORD_BOUNDARY.sub("_", ascii_name)
    name = _NOT_IDENTIFIER.sub("_", spaced).strip("_").lower()[:MAX_LENGTH].strip("_")
    if not name:
        name = "event"
    if name[0].isdigit() or keyword.iskeyword(name) or keyword.issoftkeyword(name) or name in RESERVED:
        name = f"event_{name}"
    return name


def module_names(event_names: Iterable[tuple[str, str]]) -> dict[str, str]:
    """``key -> module name`` for every ``(key, event name)``, unique case-insensitively (as the registry's slugs)."""
    return unique_slugs(event_names, make=module_name, separator="_")
