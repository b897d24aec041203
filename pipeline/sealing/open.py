"""Opening a sealed CloudEvent: decrypt, inflate (capped), verify, check the claims against the envelope.

The order is fixed and every step fails with its own exception (all :class:`EventRejected`, carrying the event
id):

1. envelope: a mapping with ``id``, ``type``, ``idempotencykey``, ``specversion: "1.0"`` and a ``source``,
   whose ``subject``, ``time``, ``datacontenttype``, ``dataschema`` and ``dataversion`` are text when present;
   ``datacontenttype: application/jwt`` and a string token in ``data`` (:class:`MalformedEnvelope`), token within
   :data:`MAX_TOKEN_BYTES` (:class:`OversizedToken`);
2. JWE header, parsed before any crypto: ``alg``/``enc``/``zip`` in the allow-list and ``alg`` equal to the one
   bound to the header's ``kid`` (:class:`DisallowedAlgorithm`), a decryption key for that kid
   (:class:`UnknownKeyId`), ``cty: JWT`` (:class:`TamperedToken`);
3. decrypt (:class:`DecryptionFailed`: wrong key or modified token, AEAD cannot tell which) and inflate under
   :data:`MAX_INFLATED_BYTES` (:class:`InflateLimitExceeded`);
4. JWS header: ``alg`` in the allow-list (``none`` never is) and equal to the one bound to its ``kid``
   (:class:`DisallowedAlgorithm`), no ``b64``/``crit``/embedded-key headers (:class:`TamperedToken`); verify with
   the producer's public key for that kid (:class:`BadSignature`);
5. claims (:class:`ClaimsRejected`, ``claim`` names which): ``iss`` if expected, ``iat`` not in the future beyond
   ``leeway`` and not older than ``max_age``, ``jti`` = envelope ``id``, ``type`` = envelope ``type``, ``sub`` =
   envelope ``subject``, ``idempotencykey`` = envelope's (and, if asked, = the content hash of type and data);
6. ``validate(type, data)`` if given (:class:`PayloadRejected`).

An :class:`Opener` does this for one key set and is meant to be kept: protected headers repeat from one event
to the next (only ECDH-ES's carries a per-token ephemeral key), so a header segment that passed every check on
its own - decoding, allow-list, ``cty``, no forbidden member, joserfc's header registry - and whose token then
decrypted (JWE) or verified (JWS) is remembered by that opener, with the joserfc models it names, in a bounded
cache keyed by the exact segment; the next token with that segment goes straight to the crypto. The key is
still looked up by kid, and its binding to the header's ``alg`` checked, on every token: the cache holds no
keys. Decryption and verification run through :mod:`pipeline.sealing.jose` (joserfc's models in the order
``jwe.decrypt_compact`` and ``jws.deserialize_compact`` use, minus re-parsing and re-checking known headers, or
those public functions themselves), and each failure maps to the exception listed above. :func:`open_event` is
the one-shot form: a fresh opener per call, so nothing is remembered between calls.
"""

from __future__ import annotations

import binascii
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

import orjson
from cryptography.exceptions import InvalidTag

from pipeline.envelope.canonical import hash_algorithm_of, idempotency_key
from pipeline.envelope.cloudevent import SPECVERSION
from pipeline.errors import (
    BadSignature,
    ClaimsRejected,
    DecryptionFailed,
    DisallowedAlgorithm,
    InflateLimitExceeded,
    MalformedEnvelope,
    NonCanonicalValue,
    OversizedToken,
    PayloadRejected,
    TamperedToken,
    UnknownKeyId,
)
from pipeline.sealing.jose import (
    DEFAULT_BACKEND,
    BadSignatureError,
    CheckedJWEHeader,
    CheckedJWSHeader,
    DecodeError,
    ExceededSizeError,
    InflateCapExceeded,
    JoseBackend,
    JoseError,
    TruncatedDeflate,
    UnsupportedAlgorithmError,
    base64url_decode,
)
from pipeline.sealing.keys import ENCRYPTION_ALGORITHMS, SIGNING_ALGORITHMS, KeySet
from pipeline.sealing.limits import MAX_TOKEN_BYTES
from pipeline.sealing.seal import CONTENT_ENCRYPTION_ALGORITHMS, JWT_CONTENT_TYPE

__all__ = ["DEFAULT_LEEWAY_SECONDS", "HEADER_CACHE_SIZE", "OpenedEvent", "Opener", "Validator", "open_event"]

#: Clock skew tolerated between producer and consumer, in seconds.
DEFAULT_LEEWAY_SECONDS: Final = 60.0

Validator = Callable[[str, Any], Any]

# Headers a nested eventdeck JWS never has. b64=false (RFC 7797) changes what is signed; crit asks us to
# understand extensions we do not; jku/jwk/x5u/x5c offer a key chosen by the sender - keys come only from our
# key set, by kid.
_FORBIDDEN_JWS_HEADERS: Final = frozenset({"b64", "crit", "jku", "jwk", "x5u", "x5c"})
_ALLOWED_ZIP: Final = frozenset({"DEF"})

#: Distinct header segments an :class:`Opener` remembers per layer (JWE, JWS), by default. A producer writes one
#: per (kid, alg[, zip]), so a few hundred cover every key in rotation. A full cache is emptied: whoever can make
#: tokens that decrypt (anyone holding an RSA-OAEP public key) can only make it slower, never make it skip a check.
HEADER_CACHE_SIZE: Final = 256

# CloudEvents attributes that are text when present (the spec's String, URI-reference, URI and Timestamp types).
_OPTIONAL_TEXT: Final = ("subject", "time", "datacontenttype", "dataschema", "dataversion")

# An ``iat`` is seconds since the epoch: beyond 2**53 (285 million years) it is no time, and comparing or
# subtracting an integer of hundreds of digits against a float clock overflows.
_MAX_IAT: Final = 2**53

# orjson parses integers beyond 64 bits as floats (json keeps them exact): a run of 19 digits, even inside a
# string, sends the document to json. Found by masking digits to "0" and everything else to "x" then searching
# (~1 us for 1.6 KB; a regex needs ~14 us when nothing matches).
_DIGIT_MASK: Final = bytes(ord("0") if 0x30 <= byte <= 0x39 else ord("x") for byte in range(256))
_LONG_DIGIT_RUN: Final = b"0" * 19


@dataclass(frozen=True, slots=True)
class OpenedEvent:
    """A verified event: the clear envelope attributes, the payload, and what vouched for it."""

    id: str
    type: str
    source: str | None
    data: Any
    idempotency_key: str
    subject: str | None
    time: str | None
    dataschema: str | None
    dataversion: str | None
    sealed: bool
    issuer: str | None = None
    issued_at: int | float | None = None
    signing_kid: str | None = None
    encryption_kid: str | None = None


class Opener:
    """Opens sealed CloudEvents with one key set, remembering the protected headers that passed every check.

    Build one per key set and keep it for the stream of events (a consumer's handler builds it at cold start):
    :meth:`open` then skips re-checking the header segments it has seen (see the module docstring). Each opener
    has its own caches, at most ``header_cache_limit`` segments per layer (emptied when full); two openers share
    nothing. One opener may serve several threads: a cache read or write is a single dict operation, and the worst
    a race can do is check a header twice.

    :param keys: the producer's verification keys (public halves, or the shared HS256 key) and our decryption
        keys (private halves, or the shared ``dir`` key).
    :param header_cache_limit: header segments remembered per layer (JWE, JWS); ``0`` remembers none.
    :param jose: the JOSE backend (default :data:`~pipeline.sealing.jose.DEFAULT_BACKEND`).
    """

    __slots__ = ("_jose", "_jwe_headers", "_jws_headers", "header_cache_limit", "keys")

    def __init__(
        self, keys: KeySet, *, header_cache_limit: int = HEADER_CACHE_SIZE, jose: JoseBackend = DEFAULT_BACKEND
    ) -> None:
        if header_cache_limit < 0:
            raise ValueError(f"header_cache_limit must be 0 or more, not {header_cache_limit}")
        self.keys = keys
        self.header_cache_limit = header_cache_limit
        self._jose = jose
        self._jwe_headers: dict[bytes, CheckedJWEHeader] = {}
        self._jws_headers: dict[bytes, CheckedJWSHeader] = {}

    @property
    def cache_size(self) -> int:
        """Header segments remembered now, both layers together (never more than twice the limit)."""
        return len(self._jwe_headers) + len(self._jws_headers)

    def __repr__(self) -> str:
        return f"Opener({self.keys!r}, {self.cache_size} cached header(s), {self._jose.name})"

    def open(
        self,
        cloud_event: Mapping[str, Any],
        *,
        expected_issuer: str | None = None,
        leeway: float = DEFAULT_LEEWAY_SECONDS,
        max_age: float | None = None,
        validate: Validator | None = None,
        allow_unsealed: bool = False,
        verify_content_hash: bool = False,
        now: float | None = None,
    ) -> OpenedEvent:
        """Open a sealed structured-mode CloudEvent (dict) and return the verified :class:`OpenedEvent`.

        :param expected_issuer: when given, the ``iss`` claim must equal it.
        :param leeway: seconds of clock skew allowed on ``iat`` (both for "future" and for ``max_age``).
        :param max_age: when given, refuse tokens issued more than this many seconds ago.
        :param validate: ``validate(type, data)``; raising (or returning ``False``) refuses the payload.
        :param allow_unsealed: accept a plain-JSON event (``x-sealing: none``); by default refused, so nobody can
            downgrade a sealed event type by stripping its token.
        :param verify_content_hash: also recompute ``idempotencykey`` from (``type``, ``data``) and compare. The
            signed claims already bind key, type and data, so this only catches a producer that hashed wrongly;
            it costs a canonical encoding (~25 us for 1.3 KB). For unsealed events it is the only integrity check.
        :param now: the current time (epoch seconds); for tests.
        :raises EventRejected: one of its subclasses, each carrying the event id (see the module docstring).
        """
        if not isinstance(cloud_event, Mapping):
            raise MalformedEnvelope("a CloudEvent must be a JSON object")
        event_id = cloud_event.get("id")
        if not isinstance(event_id, str) or not event_id:
            raise MalformedEnvelope("the CloudEvent has no 'id'")
        event_type = cloud_event.get("type")
        if not isinstance(event_type, str) or not event_type:
            raise MalformedEnvelope("the CloudEvent has no 'type'", event_id=event_id)
        envelope_idk = cloud_event.get("idempotencykey")
        if not isinstance(envelope_idk, str) or not envelope_idk:
            raise MalformedEnvelope("the CloudEvent has no 'idempotencykey'", event_id=event_id)
        specversion = cloud_event.get("specversion")
        if specversion != SPECVERSION:
            raise MalformedEnvelope(f"specversion {_shown(specversion)} is not {SPECVERSION!r}", event_id=event_id)
        source = cloud_event.get("source")
        if not isinstance(source, str) or not source:
            raise MalformedEnvelope("the CloudEvent has no 'source'", event_id=event_id)
        get = cloud_event.get
        subject, content_type = get("subject"), get("datacontenttype")
        clear = (source, subject, get("time"), get("dataschema"), get("dataversion"))  # read once, handed on
        for value in (content_type, *clear):  # what OpenedEvent hands on as text must be text
            if value is not None and not isinstance(value, str):
                raise MalformedEnvelope(_not_text(cloud_event), event_id=event_id)
        token = cloud_event.get("data")

        if content_type == JWT_CONTENT_TYPE and not isinstance(token, str):
            raise MalformedEnvelope("datacontenttype is application/jwt but data is not a token", event_id=event_id)
        if content_type != JWT_CONTENT_TYPE:
            if not allow_unsealed:
                raise MalformedEnvelope(
                    f"the event is not sealed (datacontenttype {_shown(content_type)})", event_id=event_id
                )
            data = token
            if verify_content_hash:
                _check_content_hash(event_type, data, envelope_idk, event_id)
            _run_validator(validate, event_type, data, event_id)
            return _opened(clear, event_id, event_type, envelope_idk, data, sealed=False)

        assert isinstance(token, str)  # established above: a sealed event's data is its token
        if len(token) > MAX_TOKEN_BYTES:
            raise OversizedToken(
                f"token is {len(token)} bytes, over the {MAX_TOKEN_BYTES}-byte cap", event_id=event_id
            )

        raw = token.encode("ascii", "replace")
        segments = raw.split(b".")
        encryption_kid: str | None = None
        if len(segments) == 5:
            inner, encryption_kid = self._decrypt(raw, segments, event_id)
        elif len(segments) == 3:
            inner = raw
        else:
            raise TamperedToken(
                f"token has {len(segments)} segments; expected 5 (JWE) or 3 (JWS)", event_id=event_id
            )

        claims, signing_kid = self._verify(inner, event_id)
        data = _check_claims(
            claims,
            event_id=event_id,
            event_type=event_type,
            envelope_idk=envelope_idk,
            subject=subject,
            expected_issuer=expected_issuer,
            leeway=leeway,
            max_age=max_age,
            now=time.time() if now is None else now,
            verify_content_hash=verify_content_hash,
        )
        _run_validator(validate, event_type, data, event_id)
        return _opened(
            clear,
            event_id,
            event_type,
            envelope_idk,
            data,
            sealed=True,
            issuer=claims.get("iss"),
            issued_at=claims.get("iat"),
            signing_kid=signing_kid,
            encryption_kid=encryption_kid,
        )

    def _remember(self, cache: dict[bytes, Any], segment: bytes, checked: Any) -> None:
        if len(cache) >= self.header_cache_limit:
            if not self.header_cache_limit:
                return
            cache.clear()
        cache[segment] = checked

    def _decrypt(self, token: bytes, segments: list[bytes], event_id: str) -> tuple[bytes, str]:
        header_segment = segments[0]
        known = self._jwe_headers.get(header_segment)
        header = known.header if known is not None else _allowed_jwe_header(header_segment, event_id)
        keys = self.keys
        key, kid = _bound_key(keys.decryption_key, keys, header.get("kid"), header["alg"], "JWE", event_id)
        try:
            plaintext, checked = self._jose.decrypt(token, segments, header, known, key, kid)
        except InflateCapExceeded as err:
            raise InflateLimitExceeded(err.description or "DEF plaintext too large", event_id=event_id) from None
        except ExceededSizeError as err:
            raise OversizedToken(f"JWE {err.description or 'segment'}", event_id=event_id) from None
        except UnsupportedAlgorithmError as err:
            raise DisallowedAlgorithm(f"JWE: {err.description}", alg=header["alg"], event_id=event_id) from None
        except TruncatedDeflate as err:
            raise TamperedToken(f"JWE plaintext: {err}", event_id=event_id) from None
        except (DecodeError, InvalidTag):
            raise DecryptionFailed(f"JWE did not decrypt with kid {kid!r}", event_id=event_id) from None
        except (JoseError, ValueError, TypeError, LookupError, AttributeError) as err:
            # joserfc reads header members it did not check as it goes: an epk with an unknown curve is a KeyError
            raise TamperedToken(f"JWE is malformed ({type(err).__name__})", event_id=event_id) from None
        # Remembered only once its token decrypted under it (the header is the AEAD's associated data). An ECDH-ES
        # header carries a fresh ephemeral key and never repeats.
        if known is None and not checked.per_token:
            self._remember(self._jwe_headers, header_segment, checked)
        return plaintext, kid

    def _verify(self, inner: bytes, event_id: str) -> tuple[dict[str, Any], str]:
        segments = inner.split(b".")
        if len(segments) != 3:
            raise TamperedToken("inner token is not a compact JWS", event_id=event_id)
        header_segment = segments[0]
        known = self._jws_headers.get(header_segment)
        header: dict[str, Any] = {}
        claimed_kid: Any
        if known is not None:
            alg, claimed_kid = known.alg, known.kid
        else:
            header = _allowed_jws_header(header_segment, event_id)
            alg, claimed_kid = header["alg"], header.get("kid")
        keys = self.keys
        key, kid = _bound_key(keys.verification_key, keys, claimed_kid, alg, "JWS", event_id)
        try:
            payload, checked = self._jose.verify(inner, segments, header, known, key, kid)
        except BadSignatureError:
            raise BadSignature(f"JWS signature does not verify with kid {kid!r}", event_id=event_id) from None
        except ExceededSizeError as err:
            raise OversizedToken(f"JWS {err.description or 'segment'}", event_id=event_id) from None
        except UnsupportedAlgorithmError as err:
            raise DisallowedAlgorithm(f"JWS: {err.description}", alg=alg, event_id=event_id) from None
        except (JoseError, ValueError, TypeError, LookupError, AttributeError) as err:
            raise TamperedToken(f"JWS is malformed ({type(err).__name__})", event_id=event_id) from None
        if known is None:
            self._remember(self._jws_headers, header_segment, checked)  # it verified: the header is the producer's
        try:
            claims = _loads(payload)
        except (ValueError, UnicodeDecodeError):
            raise ClaimsRejected("JWT claims are not JSON", claim="(claims)", event_id=event_id) from None
        if not isinstance(claims, dict):
            raise ClaimsRejected("JWT claims are not a JSON object", claim="(claims)", event_id=event_id)
        return claims, kid


def open_event(
    cloud_event: Mapping[str, Any],
    keys: KeySet,
    *,
    expected_issuer: str | None = None,
    leeway: float = DEFAULT_LEEWAY_SECONDS,
    max_age: float | None = None,
    validate: Validator | None = None,
    allow_unsealed: bool = False,
    verify_content_hash: bool = False,
    now: float | None = None,
) -> OpenedEvent:
    """Open one sealed structured-mode CloudEvent (dict) with ``keys``: :meth:`Opener.open` on a fresh
    :class:`Opener`, so no header is remembered between calls. To open a stream of events, build one
    ``Opener(keys)`` and keep it.

    :param keys: the producer's verification keys (public halves, or the shared HS256 key) and our decryption
        keys (private halves, or the shared ``dir`` key).
    :raises EventRejected: one of its subclasses, each carrying the event id (see the module docstring).

    The other parameters are :meth:`Opener.open`'s.
    """
    return Opener(keys, header_cache_limit=0).open(
        cloud_event,
        expected_issuer=expected_issuer,
        leeway=leeway,
        max_age=max_age,
        validate=validate,
        allow_unsealed=allow_unsealed,
        verify_content_hash=verify_content_hash,
        now=now,
    )


def _loads(document: bytes) -> Any:
    """``json.loads``, through orjson (~2.5x faster) whenever it gives the same result.

    orjson refuses some documents json accepts (NaN, lone surrogates, UTF-16, very deep nesting) and reads
    integers beyond 64 bits as floats; json decides those, so what is accepted, and as what, is json's.

    :raises ValueError: (``json.JSONDecodeError``, ``UnicodeDecodeError``) when it is not JSON, or nested deeper
        than json can read.
    """
    if _LONG_DIGIT_RUN not in document.translate(_DIGIT_MASK):
        try:
            return orjson.loads(document)
        except orjson.JSONDecodeError:
            pass
    try:
        return json.loads(document)
    except RecursionError:  # json's nesting limit is the interpreter's stack (orjson stops at 1024 levels)
        raise ValueError("JSON nested too deeply") from None


def _decode_header(segment: bytes, layer: str, event_id: str) -> dict[str, Any]:
    try:
        header = _loads(base64url_decode(segment))
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise TamperedToken(f"{layer} header is not base64url JSON", event_id=event_id) from None
    if not isinstance(header, dict):
        raise TamperedToken(f"{layer} header is not a JSON object", event_id=event_id)
    return header


def _allowed_jwe_header(segment: bytes, event_id: str) -> dict[str, Any]:
    """The JWE header, refused unless its alg/enc/zip are allowed and it says it holds a JWT."""
    header = _decode_header(segment, "JWE", event_id)
    alg, enc = header.get("alg"), header.get("enc")
    if not _one_of(alg, ENCRYPTION_ALGORITHMS):
        raise DisallowedAlgorithm(f"JWE alg {_shown(alg)} is not allowed", alg=alg, event_id=event_id)
    if not _one_of(enc, CONTENT_ENCRYPTION_ALGORITHMS):
        raise DisallowedAlgorithm(f"JWE enc {_shown(enc)} is not allowed", alg=enc, event_id=event_id)
    if "zip" in header and not _one_of(header["zip"], _ALLOWED_ZIP):
        raise DisallowedAlgorithm(
            f"JWE zip {_shown(header['zip'])} is not allowed", alg=header["zip"], event_id=event_id
        )
    cty = header.get("cty")
    if not isinstance(cty, str) or cty.upper() != "JWT":
        raise TamperedToken("JWE does not contain a JWT (cty is not 'JWT')", event_id=event_id)
    return header


def _bound_key(lookup: Callable[..., Any], keys: KeySet, kid: Any, alg: Any, layer: str,
               event_id: str) -> tuple[Any, str]:
    """The key for ``kid``, refusing a token whose ``alg`` is not the one that key is bound to (algorithm
    confusion: e.g. an HS256 token naming an ES256/RS256 kid, made with the public key's bytes as HMAC secret)."""
    if not isinstance(kid, str):
        raise UnknownKeyId(f"{layer} header has no kid", kid=None, event_id=event_id)
    key = lookup(kid, event_id=event_id)
    bound = keys.alg_of(kid)
    if alg != bound:
        raise DisallowedAlgorithm(
            f"{layer} alg {alg} used with kid {kid!r}, which is bound to {bound}", alg=alg, event_id=event_id
        )
    return key, kid


def _allowed_jws_header(segment: bytes, event_id: str) -> dict[str, Any]:
    """The JWS header, refused unless its alg is allowed and it has none of the forbidden members."""
    header = _decode_header(segment, "JWS", event_id)
    alg = header.get("alg")
    if not _one_of(alg, SIGNING_ALGORITHMS):
        raise DisallowedAlgorithm(f"JWS alg {_shown(alg)} is not allowed", alg=alg, event_id=event_id)
    forbidden = _FORBIDDEN_JWS_HEADERS.intersection(header)
    if forbidden:
        raise TamperedToken(f"JWS header has forbidden parameter(s) {sorted(forbidden)}", event_id=event_id)
    return header


def _check_claims(
    claims: dict[str, Any],
    *,
    event_id: str,
    event_type: str,
    envelope_idk: str,
    subject: Any,
    expected_issuer: str | None,
    leeway: float,
    max_age: float | None,
    now: float,
    verify_content_hash: bool,
) -> Any:
    if expected_issuer is not None and claims.get("iss") != expected_issuer:
        raise ClaimsRejected(
            f"iss is {_shown(claims.get('iss'))}, expected {expected_issuer!r}", claim="iss", event_id=event_id
        )
    iat = claims.get("iat")
    if isinstance(iat, bool) or not isinstance(iat, (int, float)) or not -_MAX_IAT <= iat <= _MAX_IAT:  # NaN too
        raise ClaimsRejected("iat is missing or not a number of seconds", claim="iat", event_id=event_id)
    if iat > now + leeway:
        raise ClaimsRejected(
            f"issued {iat - now:.0f}s in the future (leeway {leeway:g}s)", claim="iat", event_id=event_id
        )
    if max_age is not None and now - iat > max_age + leeway:
        raise ClaimsRejected(
            f"issued {now - iat:.0f}s ago, older than max_age {max_age:g}s", claim="iat", event_id=event_id
        )
    if claims.get("jti") != event_id:
        raise ClaimsRejected(f"jti {_shown(claims.get('jti'))} is not the event id", claim="jti", event_id=event_id)
    if claims.get("type") != event_type:
        raise ClaimsRejected(
            f"type claim {_shown(claims.get('type'))} is not the envelope's type {_shown(event_type)}",
            claim="type",
            event_id=event_id,
        )
    if claims.get("idempotencykey") != envelope_idk:
        raise ClaimsRejected(
            "idempotencykey claim differs from the envelope's", claim="idempotencykey", event_id=event_id
        )
    if claims.get("sub") != subject:
        raise ClaimsRejected("sub claim differs from the envelope's subject", claim="sub", event_id=event_id)
    if "data" not in claims:
        raise ClaimsRejected("claims carry no data", claim="data", event_id=event_id)
    data = claims["data"]
    if verify_content_hash:
        _check_content_hash(event_type, data, envelope_idk, event_id)
    return data


def _check_content_hash(event_type: str, data: Any, envelope_idk: str, event_id: str) -> None:
    algorithm = hash_algorithm_of(envelope_idk)
    if algorithm is None:
        raise ClaimsRejected(
            "idempotencykey is neither an MD5 nor a SHA-256 hex digest", claim="idempotencykey", event_id=event_id
        )
    try:
        expected = idempotency_key(event_type, data, algorithm)
    except NonCanonicalValue:
        raise ClaimsRejected("data has no canonical JSON form", claim="data", event_id=event_id) from None
    if expected != envelope_idk:
        raise ClaimsRejected(
            f"idempotencykey does not match the content hash of type {_shown(event_type)} and data",
            claim="idempotencykey",
            event_id=event_id,
        )


def _run_validator(validate: Validator | None, event_type: str, data: Any, event_id: str) -> None:
    if validate is None:
        return
    try:
        verdict = validate(event_type, data)
    except Exception as err:
        # The validator's own message (e.g. a JSON Schema error quoting the offending value) stays on
        # __cause__ for the edge to log deliberately; ours names only the type.
        raise PayloadRejected(
            f"payload of {_shown(event_type)} failed validation ({type(err).__name__})", event_id=event_id
        ) from err
    if verdict is False:
        raise PayloadRejected(f"payload of {_shown(event_type)} failed validation", event_id=event_id)


def _opened(
    clear: tuple[Any, ...], event_id: str, event_type: str, idk: str, data: Any, *, sealed: bool, **extra: Any
) -> OpenedEvent:
    source, subject, event_time, dataschema, dataversion = clear
    return OpenedEvent(
        id=event_id,
        type=event_type,
        source=source,
        data=data,
        idempotency_key=idk,
        subject=subject,
        time=event_time,
        dataschema=dataschema,
        dataversion=dataversion,
        sealed=sealed,
        **extra,
    )


def _not_text(cloud_event: Mapping[str, Any]) -> str:
    """The message for the first optional attribute that is present but not text."""
    name, value = next((name, cloud_event.get(name)) for name in _OPTIONAL_TEXT
                       if not isinstance(cloud_event.get(name), str | None))
    return f"the CloudEvent's '{name}' is not text ({_shown(value)})"


def _one_of(value: Any, allowed: frozenset[str]) -> bool:
    """Membership that cannot raise: header values are attacker-controlled JSON (lists are unhashable)."""
    return isinstance(value, str) and value in allowed


def _shown(value: Any) -> str:
    """A header/claim value for a message: short strings as is, anything else by type (no payload echo)."""
    if isinstance(value, str) and len(value) <= 64:
        return repr(value)
    return f"<{type(value).__name__}>"
