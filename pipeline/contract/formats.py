"""The ``format`` assertions eventdeck applies, shared by the contract checks and the pipeline's fast validators.

Examples are checked with ``jsonschema`` and live events with compiled validators; both must accept exactly the
same strings, or an example could pass review and its event fail in production. So every format is decided here,
once, and handed to both engines.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import jsonschema

FORMAT_CHECKER = jsonschema.FormatChecker()  # every format jsonschema knows, across drafts (uuid included)

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s]*$")

if "uri" not in FORMAT_CHECKER.checkers:  # jsonschema checks "uri" only when rfc3987 is installed

    @FORMAT_CHECKER.checks("uri")
    def _is_uri(value: object) -> bool:
        return not isinstance(value, str) or bool(_SCHEME.match(value))


# A check that crashes on a string has found one that does not conform: jsonschema's relative-json-pointer check,
# for one, calls int() on what str.isdigit() accepts, so "²0" raised ValueError out of validation (a crashed
# contract load, an event refused with the wrong exception) instead of failing the format.
for _name, (_check, _raises) in list(FORMAT_CHECKER.checkers.items()):
    FORMAT_CHECKER.checkers[_name] = (_check, (*(_raises if isinstance(_raises, tuple) else (_raises,)), ValueError))


def format_functions(schema: Any) -> dict[str, Callable[[str], bool]]:
    """For each ``format`` used in ``schema``, the predicate to give a compiled validator: the shared checker's
    verdict, or "accept" for formats it does not assert (as jsonschema treats unknown formats)."""
    names: set[str] = set()
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if isinstance(node.get("format"), str):
                names.add(node["format"])
            stack.extend(v for k, v in node.items() if k not in ("enum", "const", "examples", "default"))
        elif isinstance(node, list):
            stack.extend(node)
    return {name: _predicate(name) for name in names}


def _predicate(name: str) -> Callable[[str], bool]:
    if name not in FORMAT_CHECKER.checkers:
        return lambda value: True
    # What FormatChecker.conforms decides, without its per-call lookups (it runs per field on the hot path).
    check, raises = FORMAT_CHECKER.checkers[name]
    accept = _SURELY_VALID.get(name)

    def conforms(value: str) -> bool:
        if accept is not None and isinstance(value, str) and accept(value):
            return True
        try:
            return bool(check(value))
        except raises:
            return False

    return conforms


# Shapes the shared checker certainly accepts, decided by one regex instead of its parser (uuid: UUID() plus
# hyphen positions, ~1.5 us). Anything else still goes to the checker, so the verdicts are the same.
_SURELY_VALID: dict[str, Callable[[str], object]] = {
    "uuid": re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}").fullmatch,
    # rfc3339_validator (~1.3 us): its own pattern, with a day every month has (1-28) and a year other than 0.
    "date-time": re.compile(r"(?!0000)[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])T(?:[01][0-9]|2[0-3])"
                            r":[0-5][0-9]:[0-5][0-9](?:\.[0-9]+)?(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])").fullmatch,
    # ipaddress.IPv4Address: four decimal octets 0-255 without leading zeros (~4 us).
    "ipv4": re.compile(r"(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}"
                       r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])").fullmatch,
}
