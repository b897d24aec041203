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
with a new ``CANONICAL_FORM_VERSION`` (an orjson fast path, for instance, writes ``1e16`` where ``json``
writes ``1e+16``, so it is *not* a drop-in replacement).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any, Final, Literal

from pipeline.sealing_errors import NonCanonicalValue

__all__ = [
    "CANONICAL_FORM_VERSION",
    "HASH_ALGORITHMS",
    "HashAlgorithm",
    "canonical_json",
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


def canonical_json(value: Any) -> bytes:
    """Return the canonical JSON encoding (UTF-8 bytes) of a JSON-compatible ``value``.

    :raises NonCanonicalValue: for NaN/±Infinity, a non-JSON type, a non-string key mixed with string
        keys, or a circular structure.
    """
    try:
        return _ENCODER.encode(value).encode("utf-8")
    except (ValueError, TypeError) as err:
        # The json messages name the offending type or constant ("Out of range float values are not JSON
        # compliant"), never the surrounding document.
        raise NonCanonicalValue(f"value has no canonical JSON form: {err}") from None


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
