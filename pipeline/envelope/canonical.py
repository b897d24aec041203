"""Canonical JSON and the content-hash idempotency key.

The canonical form (version 1) is what ``json.dumps`` writes with:

* object keys sorted by code point (``sort_keys=True``), keys must be strings;
* no insignificant whitespace (``separators=(",", ":")``);
* UTF-8, non-ASCII characters written as themselves (``ensure_ascii=False``), so ``"é"`` and ``"\\u00e9"``
  in a source document hash the same;
* numbers as Python writes them: integers exactly, floats as the shortest repr that round-trips
  (``1.0`` stays ``1.0``, distinct from ``1``); NaN and ±Infinity are refused (not JSON).

It depends only on the value, never on dict insertion order, process, platform or ``PYTHONHASHSEED``, so
equal inputs give equal keys everywhere. Changing any of the rules above changes every key: do it only
with a new ``CANONICAL_FORM_VERSION``.

Speed: the stdlib encoder costs ~17 us for a 1.4 KB payload, a sixth of the producer's per-event budget.
``orjson`` writes the same bytes ~6x faster for almost every value, but not for all: it writes ``1e-7``
where ``json`` writes ``1e-07`` and ``0.00001`` for ``1e-05``, NaN as ``null``, and it refuses integers
beyond 64 bits and non-string keys. So orjson's output is used only when it cannot differ - no ``null``,
no number with a negative exponent or four leading decimal zeros, no error - and otherwise the stdlib
encoder, which *is* the definition, writes (or refuses) the value. A differential test holds the two equal
on JSON values. (Outside JSON's data model, orjson writes a ``uuid.UUID`` or an ``Enum`` as their value where
the reference refuses them; payloads are parsed JSON, so only a Python look-up could hand one in.)
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any, Final, Literal

import orjson

from pipeline.errors import NonCanonicalValue

__all__ = [
    "CANONICAL_FORM_VERSION",
    "HASH_ALGORITHMS",
    "HashAlgorithm",
    "canonical_json",
    "has_non_string_key",
    "has_null_value",
    "hash_algorithm_of",
    "idempotency_key",
]

CANONICAL_FORM_VERSION: Final = 1

HashAlgorithm = Literal["md5", "sha256"]

# md5 is the default because the field is documented as MD5 (source talk); it is a content fingerprint
# here, not a security control (the signature protects integrity), hence usedforsecurity=False, which also
# keeps it available on FIPS-mode interpreters.
_HASHERS: Final[dict[str, Callable[[bytes], Any]]] = {
    "md5": lambda b: hashlib.md5(b, usedforsecurity=False),
    "sha256": hashlib.sha256,
}
HASH_ALGORITHMS: Final = frozenset(_HASHERS)
_DIGEST_LENGTHS: Final = {32: "md5", 64: "sha256"}

# One encoder, built once: json.dumps(...) re-creates a JSONEncoder per call when given options.
_ENCODER: Final = json.JSONEncoder(
    skipkeys=False,
    ensure_ascii=False,
    check_circular=True,
    allow_nan=False,
    sort_keys=True,
    separators=(",", ":"),
)


# Where orjson's bytes may differ from the reference: `null` (NaN becomes null), negative exponents
# (`1e-7` vs `1e-07`) and small decimals (`0.00001` vs `1e-05`). A candidate counts only if it is a JSON
# value, i.e. (after any sign, digits and point) it starts the text or follows `:`, `,` or `[` - compact JSON
# has no other place a value can start. So UUIDs ("...9e-8b1d...") are not candidates, and a string that
# looks like a value ("a:1e-5") only costs speed. bytes.find is used, not a regex: any regex for this scans
# a 1.4 KB payload in ~15 us, as long as encoding it.
_VALUE_STARTS: Final = frozenset(b":,[")
_NUMBER_BYTES: Final = frozenset(b"0123456789.-")
_DIGITS: Final = frozenset(b"0123456789")


def has_null_value(text: bytes) -> bool:
    """Whether compact JSON ``text`` (as orjson writes it) holds a ``null`` value, not just the letters in a
    string: where orjson may have written a NaN or an infinity, which the stdlib encoder refuses."""
    at = text.find(b"null")
    while at != -1:
        if at == 0 or text[at - 1] in _VALUE_STARTS:
            return True
        at = text.find(b"null", at + 4)
    return False


def _may_differ(text: bytes) -> bool:
    if has_null_value(text):
        return True
    for needle in (b"e-", b"0.0000"):
        at = text.find(needle)
        while at != -1:
            if needle == b"0.0000" or (at > 0 and text[at - 1] in _DIGITS):
                start = at
                while start > 0 and text[start - 1] in _NUMBER_BYTES:  # back to the number's first character
                    start -= 1
                if start == 0 or text[start - 1] in _VALUE_STARTS:
                    return True
            at = text.find(needle, at + 1)
    return False


# Types orjson would serialise but json refuses (datetime, dataclass, str/int/dict/list subclasses) raise
# instead, and so reach the reference encoder.
_ORJSON_OPTIONS: Final = (
    orjson.OPT_SORT_KEYS
    | orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_DATACLASS
    | orjson.OPT_PASSTHROUGH_SUBCLASS
)


def canonical_json(value: Any) -> bytes:
    """Return the canonical JSON encoding (UTF-8 bytes) of a JSON-compatible ``value``.

    :raises NonCanonicalValue: for NaN/±Infinity, a non-JSON type, a key that is not a string, a lone
        surrogate, a circular structure, or nesting deeper than the interpreter's recursion limit allows.
    """
    try:
        fast = orjson.dumps(value, option=_ORJSON_OPTIONS)
    except (TypeError, ValueError):  # orjson.JSONEncodeError is a TypeError
        pass
    else:
        if not _may_differ(fast):
            return fast
        return _reference_json(value, check_keys=False)  # orjson wrote it: every key is a string
    return _reference_json(value)


def _reference_json(value: Any, *, check_keys: bool = True) -> bytes:
    """The canonical form's definition: the stdlib encoder with the options above, for JSON's data model only
    (json itself would write ``{1: "x"}`` as ``{"1":"x"}``, the key of another value)."""
    try:
        text = _ENCODER.encode(value).encode("utf-8")
    except (ValueError, TypeError) as err:
        # The json messages name the offending type or constant ("Out of range float values are not JSON
        # compliant"), never the surrounding document.
        raise NonCanonicalValue(f"value has no canonical JSON form: {err}") from None
    except RecursionError:
        raise NonCanonicalValue("value has no canonical JSON form: it is nested too deeply") from None
    if check_keys and has_non_string_key(value):
        raise NonCanonicalValue("value has no canonical JSON form: an object key is not a string")
    return text


def has_non_string_key(value: Any) -> bool:
    """Whether an object anywhere in ``value`` (which json just encoded, so it is finite) has a non-string key."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            for key, child in item.items():
                if not isinstance(key, str):
                    return True
                if isinstance(child, (dict, list, tuple)):
                    pending.append(child)
        elif isinstance(item, (list, tuple)):
            pending.extend(child for child in item if isinstance(child, (dict, list, tuple)))
    return False


def idempotency_key(event_type: str, data: Any, algorithm: HashAlgorithm = "md5") -> str:
    """Return the hex digest of ``canonical_json({"type": event_type, "data": data})``.

    Equal ``(event_type, data)`` give the same key in every process; any change to the type or to any value
    in ``data`` gives a different one (up to hash collisions).

    :raises ValueError: for an unknown ``algorithm``.
    :raises NonCanonicalValue: when ``data`` has no canonical form.
    """
    try:
        hasher = _HASHERS[algorithm]
    except KeyError:
        raise ValueError(f"unknown idempotency hash algorithm {algorithm!r}; use one of {sorted(_HASHERS)}") from None
    return hasher(canonical_json({"type": event_type, "data": data})).hexdigest()


def hash_algorithm_of(key: str) -> HashAlgorithm | None:
    """Return the algorithm an idempotency key was made with, told by its length; ``None`` if neither."""
    return _DIGEST_LENGTHS.get(len(key))  # type: ignore[return-value]
