"""Opening a sealed CloudEvent: decrypt, inflate (capped), verify, check the claims against the envelope.

The order is fixed and every step fails with its own exception (all :class:`EventRejected`, carrying the event
id):

1. envelope: a mapping with ``id``, ``type``, ``idempotencykey``; ``datacontenttype: application/jwt`` and a
   string token in ``data`` (:class:`MalformedEnvelope`), token within :data:`MAX_TOKEN_BYTES`
   (:class:`OversizedToken`);
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
"""

from __future__ import annotations

import binascii
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from cryptography.exceptions import InvalidTag
from joserfc import jwe, jws
from joserfc.errors import (
    BadSignatureError,
    DecodeError,
    ExceededSizeError,
    JoseError,
    UnsupportedAlgorithmError,
)
from joserfc.util import urlsafe_b64decode

from pipeline.canonical import hash_algorithm_of, idempotency_key
from pipeline.keys import ENCRYPTION_ALGORITHMS, SIGNING_ALGORITHMS, KeySet
from pipeline.seal import (
    CONTENT_ENCRYPTION_ALGORITHMS,
    JWE_REGISTRY,
    JWS_REGISTRY,
    JWT_CONTENT_TYPE,
    MAX_TOKEN_BYTES,
    InflateCapExceeded,
    TruncatedDeflate,
)
from pipeline.sealing_errors import (
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

__all__ = ["DEFAULT_LEEWAY_SECONDS", "OpenedEvent", "Validator", "open_event"]

#: Clock skew tolerated between producer and consumer, in seconds.
DEFAULT_LEEWAY_SECONDS: Final = 60.0

Validator = Callable[[str, Any], Any]

# Headers a nested eventdeck JWS never has. b64=false (RFC 7797) changes what is signed; crit asks us to
# understand extensions we do not; jku/jwk/x5u/x5c offer a key chosen by the sender - keys come only from our
# key set, by kid.
_FORBIDDEN_JWS_HEADERS: Final = frozenset({"b64", "crit", "jku", "jwk", "x5u", "x5c"})
_ALLOWED_ZIP: Final = frozenset({"DEF"})


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
    """Open a sealed structured-mode CloudEvent (dict) and return the verified :class:`OpenedEvent`.

    :param keys: the producer's verification keys (public halves, or the shared HS256 key) and our decryption
        keys (private halves, or the shared ``dir`` key).
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
    subject = cloud_event.get("subject")
    token = cloud_event.get("data")

    content_type = cloud_event.get("datacontenttype")
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
        return _opened(cloud_event, event_id, event_type, envelope_idk, data, sealed=False)

    assert isinstance(token, str)  # established above: a sealed event's data is its token
    if len(token) > MAX_TOKEN_BYTES:
        raise OversizedToken(f"token is {len(token)} bytes, over the {MAX_TOKEN_BYTES}-byte cap", event_id=event_id)

    dots = token.count(".")
    encryption_kid: str | None = None
    if dots == 4:
        inner, encryption_kid = _decrypt(token, keys, event_id)
    elif dots == 2:
        inner = token.encode("ascii", "replace")
    else:
        raise TamperedToken(f"token has {dots + 1} segments; expected 5 (JWE) or 3 (JWS)", event_id=event_id)

    claims, signing_kid = _verify(inner, keys, event_id)
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
        cloud_event,
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


def _decode_header(segment: bytes, layer: str, event_id: str) -> dict[str, Any]:
    try:
        header = json.loads(urlsafe_b64decode(segment))
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise TamperedToken(f"{layer} header is not base64url JSON", event_id=event_id) from None
    if not isinstance(header, dict):
        raise TamperedToken(f"{layer} header is not a JSON object", event_id=event_id)
    return header


def _decrypt(token: str, keys: KeySet, event_id: str) -> tuple[bytes, str]:
    raw = token.encode("ascii", "replace")
    header = _decode_header(raw[: raw.index(b".")], "JWE", event_id)
    alg, enc, kid = header.get("alg"), header.get("enc"), header.get("kid")
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
    key, kid = _bound_key(keys.decryption_key, keys, kid, alg, "JWE", event_id)
    try:
        obj = jwe.decrypt_compact(raw, key, registry=JWE_REGISTRY)
    except InflateCapExceeded as err:
        raise InflateLimitExceeded(err.description or "DEF plaintext too large", event_id=event_id) from None
    except ExceededSizeError as err:
        raise OversizedToken(f"JWE {err.description or 'segment'}", event_id=event_id) from None
    except UnsupportedAlgorithmError as err:
        raise DisallowedAlgorithm(f"JWE: {err.description}", alg=alg, event_id=event_id) from None
    except TruncatedDeflate as err:
        raise TamperedToken(f"JWE plaintext: {err}", event_id=event_id) from None
    except (DecodeError, InvalidTag):
        raise DecryptionFailed(f"JWE did not decrypt with kid {kid!r}", event_id=event_id) from None
    except (JoseError, ValueError, TypeError) as err:
        raise TamperedToken(f"JWE is malformed ({type(err).__name__})", event_id=event_id) from None
    assert obj.plaintext is not None
    return obj.plaintext, kid


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


def _verify(inner: bytes, keys: KeySet, event_id: str) -> tuple[dict[str, Any], str]:
    if inner.count(b".") != 2:
        raise TamperedToken("inner token is not a compact JWS", event_id=event_id)
    header = _decode_header(inner[: inner.index(b".")], "JWS", event_id)
    alg, kid = header.get("alg"), header.get("kid")
    if not _one_of(alg, SIGNING_ALGORITHMS):
        raise DisallowedAlgorithm(f"JWS alg {_shown(alg)} is not allowed", alg=alg, event_id=event_id)
    forbidden = _FORBIDDEN_JWS_HEADERS.intersection(header)
    if forbidden:
        raise TamperedToken(f"JWS header has forbidden parameter(s) {sorted(forbidden)}", event_id=event_id)
    key, kid = _bound_key(keys.verification_key, keys, kid, alg, "JWS", event_id)
    try:
        obj = jws.deserialize_compact(inner, key, registry=JWS_REGISTRY)
    except BadSignatureError:
        raise BadSignature(f"JWS signature does not verify with kid {kid!r}", event_id=event_id) from None
    except ExceededSizeError as err:
        raise OversizedToken(f"JWS {err.description or 'segment'}", event_id=event_id) from None
    except UnsupportedAlgorithmError as err:
        raise DisallowedAlgorithm(f"JWS: {err.description}", alg=alg, event_id=event_id) from None
    except (JoseError, ValueError, TypeError) as err:
        raise TamperedToken(f"JWS is malformed ({type(err).__name__})", event_id=event_id) from None
    try:
        claims = json.loads(obj.payload)
    except (ValueError, UnicodeDecodeError):
        raise ClaimsRejected("JWT claims are not JSON", claim="(claims)", event_id=event_id) from None
    if not isinstance(claims, dict):
        raise ClaimsRejected("JWT claims are not a JSON object", claim="(claims)", event_id=event_id)
    return claims, kid


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
    if isinstance(iat, bool) or not isinstance(iat, (int, float)):
        raise ClaimsRejected("iat is missing or not a number", claim="iat", event_id=event_id)
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
            f"type claim {_shown(claims.get('type'))} is not the envelope's type {event_type!r}",
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
            f"idempotencykey does not match the content hash of type {event_type!r} and data",
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
            f"payload of {event_type} failed validation ({type(err).__name__})", event_id=event_id
        ) from err
    if verdict is False:
        raise PayloadRejected(f"payload of {event_type} failed validation", event_id=event_id)


def _opened(
    cloud_event: Mapping[str, Any], event_id: str, event_type: str, idk: str, data: Any, *, sealed: bool, **extra: Any
) -> OpenedEvent:
    return OpenedEvent(
        id=event_id,
        type=event_type,
        source=cloud_event.get("source"),
        data=data,
        idempotency_key=idk,
        subject=cloud_event.get("subject"),
        time=cloud_event.get("time"),
        dataschema=cloud_event.get("dataschema"),
        dataversion=cloud_event.get("dataversion"),
        sealed=sealed,
        **extra,
    )


def _one_of(value: Any, allowed: frozenset[str]) -> bool:
    """Membership that cannot raise: header values are attacker-controlled JSON (lists are unhashable)."""
    return isinstance(value, str) and value in allowed


def _shown(value: Any) -> str:
    """A header/claim value for a message: short strings as is, anything else by type (no payload echo)."""
    if isinstance(value, str) and len(value) <= 64:
        return repr(value)
    return f"<{type(value).__name__}>"
