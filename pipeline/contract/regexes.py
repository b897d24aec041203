"""``pattern`` and ``patternProperties`` from documents run under a time limit.

A document is hostile input, and so is its schema's ``pattern``: ``(a+)+$`` against an example of forty ``a`` and
a ``!`` backtracks for longer than anyone waits, and `eventdeck validate`, `mkdocs build` or `eventdeck lint` would
hang on it. Python's ``re`` cannot be interrupted, so the schema checks of examples and defaults match with the
``regex`` module (``re``-compatible syntax in its ``VERSION0`` mode) and its ``timeout``: a pattern that runs out of
time fails that value with a message naming the pattern, and loading goes on.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Any, Final

import regex
from jsonschema.exceptions import ValidationError
from jsonschema.protocols import Validator

__all__ = ["PATTERN_TIMEOUT_SECONDS", "pattern", "pattern_properties", "search"]

#: Seconds one pattern may spend on one value. Real patterns answer in microseconds; this bounds the hostile ones.
PATTERN_TIMEOUT_SECONDS: Final = 1.0


@lru_cache(maxsize=4096)
def _compiled(source: str) -> Any:
    return regex.compile(source, flags=regex.VERSION0)


def search(source: str, text: str) -> bool | str:
    """Whether ``source`` finds a match in ``text``; a problem as text when it ran out of time.

    :raises re.error: when ``source`` is not a regular expression (as ``re`` would)."""
    try:
        return _compiled(source).search(text, timeout=PATTERN_TIMEOUT_SECONDS) is not None
    except TimeoutError:
        return (f"pattern {source!r} took more than {PATTERN_TIMEOUT_SECONDS:g} s on this value "
                "(catastrophic backtracking?); the value is refused")
    except regex.error as exc:  # the schema is broken, not the value: the callers' re.error handling says so
        raise re.error(str(exc)) from exc


def pattern(validator: Validator, source: Any, instance: Any, schema: Any) -> Iterator[ValidationError]:
    """jsonschema's ``pattern`` keyword, time-limited."""
    if not (validator.is_type(instance, "string") and isinstance(source, str)):
        return
    found = search(source, instance)
    if found is not True:
        yield ValidationError(found if isinstance(found, str) else f"{instance!r} does not match {source!r}")


def pattern_properties(validator: Validator, patterns: Any, instance: Any, schema: Any) -> Iterator[ValidationError]:
    """jsonschema's ``patternProperties`` keyword, time-limited."""
    if not (validator.is_type(instance, "object") and isinstance(patterns, dict)):
        return
    for source, subschema in patterns.items():
        for key, value in instance.items():
            found = search(source, key)
            if isinstance(found, str):
                yield ValidationError(found, path=(key,))
            elif found:
                yield from validator.descend(value, subschema, path=key, schema_path=source)
