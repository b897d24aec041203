"""Sealing: the CloudEvent's payload as a nested JWT (signed, then compressed and encrypted), with joserfc.

A sealed event keeps its routing attributes in clear (``id``, ``type``, ``source``, ``subject``, ``time``,
``dataschema``, ``dataversion``, ``idempotencykey``: EventBridge rules and consumers filter on them) and
replaces ``data`` with a compact token, ``datacontenttype`` becoming ``application/jwt``.

Token layout::

    JWE compact  {"alg": "dir" | "RSA-OAEP-256" | "ECDH-ES+A256KW", "enc": "A256GCM", "kid": <enc kid>,
                  "cty": "JWT", "zip": "DEF" (when policy.compress)}
      └─ JWS compact  {"alg": "HS256" | "ES256" | "EdDSA" | "RS256", "kid": <sig kid>, "typ": "JWT"}
           └─ claims  {"iss": policy.issuer, "iat": <seconds>, "jti": <CloudEvent id>,
                       "type": <CloudEvent type>, "sub": <CloudEvent subject, if any>,
                       "idempotencykey": <CloudEvent idempotencykey>, "data": <the business payload>}

Claim names: ``iss``/``iat``/``jti``/``sub`` are the registered JWT claims (RFC 7519 §4.1); ``jti`` is the
envelope's ``id``. ``type`` and ``idempotencykey`` carry the CloudEvents attribute names unchanged, so one name
is used everywhere (no ``idk`` alias to map). Every clear routing attribute a consumer acts on is bound by a
claim: ``id`` (jti), ``type``, ``subject`` (sub) and ``idempotencykey``, so a valid token cannot be replayed
under another type or subject. With ``encrypt: None`` the token is the JWS alone (signed, readable by anyone
holding it).

Size caps: joserfc's defaults (JWS payload 128,000 bytes, JWE ciphertext 64 KiB, inflated plaintext 250 KiB)
would refuse legitimate events between ~64 KiB and the EventBridge limit, and are not derived from anything we
publish. They are set here from :data:`EVENTBRIDGE_MAX_ENTRY_BYTES` instead; see the constants below.

Compression before encryption leaks the plaintext's length (RFC 8725 §3.6, CRIME/BREACH-style) when
attacker-influenced data sits next to secrets in one payload; ``compress`` is therefore a policy switch.
"""

from __future__ import annotations

import binascii
import json
import time
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final

import orjson

# joserfc.jwe does not export the model base classes: they are the types JWERegistry.algorithms holds.
from joserfc._rfc7516.models import (
    JWEDirectEncryption,
    JWEEncModel,
    JWEKeyAgreement,
    JWEKeyEncryption,
    JWEZipModel,
)
from joserfc.errors import ExceededSizeError, UnsupportedAlgorithmError
from joserfc.jwe import CompactEncryption, JWERegistry, Recipient
from joserfc.jwk import Key
from joserfc.jws import JWSRegistry
from joserfc.util import json_b64encode

from pipeline.envelope.canonical import has_null_value
from pipeline.envelope.cloudevent import CloudEvent
from pipeline.errors import NonCanonicalValue, OversizedEvent, SealingPolicyError
from pipeline.sealing.keys import ENCRYPTION_ALGORITHMS, SIGNING_ALGORITHMS, KeySet

__all__ = [
    "CONTENT_ENCRYPTION_ALGORITHMS",
    "EVENTBRIDGE_MAX_ENTRY_BYTES",
    "JWT_CONTENT_TYPE",
    "MAX_CLAIMS_BYTES",
    "MAX_INFLATED_BYTES",
    "MAX_JWE_CIPHERTEXT_BYTES",
    "MAX_JWS_PAYLOAD_BYTES",
    "MAX_TOKEN_BYTES",
    "EncryptSpec",
    "Sealer",
    "SealingPolicy",
    "SignSpec",
    "claims_for",
    "jwe_header",
    "jws_header",
    "seal",
    "seal_event",
    "sealer_for",
    "sealing_policy_from_extension",
]

JWT_CONTENT_TYPE: Final = "application/jwt"
CONTENT_ENCRYPTION_ALGORITHMS: Final = frozenset({"A256GCM"})

# ----------------------------------------------------------------------------------------- size caps
#
# One number drives every cap: the PutEvents entry limit, 256 KiB per entry (pipeline-anchors §1.2; AWS raised
# it to 1 MB on 2026-01-29, but some regions/docs still state 256 KB, so we stay conservative). A token travels
# inside one entry, so nothing bigger can legitimately arrive; everything bigger is refused before any crypto.

#: PutEvents entry size limit (bytes). Raise to 1024 * 1024 once every target bus accepts 1 MB entries.
EVENTBRIDGE_MAX_ENTRY_BYTES: Final = 256 * 1024

#: A token can never be larger than the entry that carries it.
MAX_TOKEN_BYTES: Final = EVENTBRIDGE_MAX_ENTRY_BYTES

#: The claims JSON (payload + claims) a producer may seal: no more than an unsealed event could carry.
MAX_CLAIMS_BYTES: Final = EVENTBRIDGE_MAX_ENTRY_BYTES


def _base64url_length(n: int) -> int:
    return (4 * n + 2) // 3  # unpadded


#: JWS header / signature caps: joserfc's defaults (512 / 1024) already fit ours (~90 bytes; RS4096 = 683).
MAX_JWS_HEADER_BYTES: Final = JWSRegistry.max_header_length
MAX_JWS_SIGNATURE_BYTES: Final = JWSRegistry.max_signature_length

#: joserfc measures the JWS payload as its base64url segment: the largest claims we seal, encoded.
MAX_JWS_PAYLOAD_BYTES: Final = _base64url_length(MAX_CLAIMS_BYTES)

#: The inner JWS (the JWE plaintext) can be no larger than header.payload.signature at their caps; a DEF
#: plaintext that inflates beyond this is a compression bomb (deflate reaches ~1000:1, so a 256 KiB token
#: could otherwise inflate to ~250 MiB) and is refused while inflating, not after.
MAX_INFLATED_BYTES: Final = MAX_JWS_HEADER_BYTES + 1 + MAX_JWS_PAYLOAD_BYTES + 1 + MAX_JWS_SIGNATURE_BYTES

#: The JWE ciphertext segment cannot be longer than the whole token.
MAX_JWE_CIPHERTEXT_BYTES: Final = MAX_TOKEN_BYTES

#: zlib level for DEF: zlib's default, as joserfc uses. On a ~1.9 KB inner JWS level 1 saves ~2 us and 1 % size.
DEFLATE_LEVEL: Final = 6


# zlib's default deflate state is ~256 KiB (32 KiB window, hash chains, symbol buffer). glibc gives a freed block
# that size back to the OS and the next token faults it in again, page by page: ~60 us per 2 KB token, three times
# the compression itself. An 8 KiB window with memLevel 7 needs ~96 KiB and loses nothing on an input that fits
# the window with zlib's 262-byte lookahead (matches reach back at most window - 262 bytes, and a block holds 8192
# symbols, more than such an input has): the output is byte-identical on our payloads. That is nearly every
# event; larger inputs keep zlib's defaults.
_SMALL_DEFLATE_WBITS: Final = 13
_SMALL_DEFLATE_MEMLEVEL: Final = 7
_SMALL_DEFLATE_INPUT: Final = 2**_SMALL_DEFLATE_WBITS - 262


class InflateCapExceeded(ExceededSizeError):
    """Raised inside joserfc's decrypt when DEF output passes :data:`MAX_INFLATED_BYTES` (mapped by the
    consumer to :class:`~pipeline.errors.InflateLimitExceeded`)."""

    error = "inflate_limit_exceeded"


class TruncatedDeflate(ValueError):
    """The DEF stream ended before its final block."""


class _CappedDeflate(JWEZipModel):
    """RFC 7516 ``zip: DEF`` (raw DEFLATE, RFC 1951) with a hard cap on the inflated size.

    joserfc's own model keeps its cap in a class attribute shared process-wide and can return a silently
    truncated plaintext when output stops exactly at the cap; this one asks for one byte more than the cap and
    refuses if it gets it, and refuses a stream that does not end.
    """

    name = "DEF"
    description = "DEFLATE (capped)"
    recommended = True

    def __init__(self, max_inflated: int, level: int) -> None:
        self.max_inflated = max_inflated
        self.level = level

    def compress(self, s: bytes) -> bytes:
        if len(s) <= _SMALL_DEFLATE_INPUT:
            compressor = zlib.compressobj(self.level, zlib.DEFLATED, -_SMALL_DEFLATE_WBITS, _SMALL_DEFLATE_MEMLEVEL)
        else:
            compressor = zlib.compressobj(self.level, zlib.DEFLATED, -zlib.MAX_WBITS)
        return compressor.compress(s) + compressor.flush()

    def decompress(self, s: bytes) -> bytes:
        # RFC 7516 says raw DEFLATE; some producers send a zlib header (78 9c) - accept both, as joserfc does.
        wbits = zlib.MAX_WBITS if s[:2] == b"\x78\x9c" else -zlib.MAX_WBITS
        inflater = zlib.decompressobj(wbits)
        try:
            out = inflater.decompress(s, self.max_inflated + 1)
        except zlib.error as err:
            raise TruncatedDeflate(f"invalid DEF stream ({err})") from None
        if len(out) > self.max_inflated or inflater.unconsumed_tail:
            raise InflateCapExceeded(f"DEF plaintext inflates beyond {self.max_inflated} bytes")
        if not inflater.eof:
            raise TruncatedDeflate("DEF stream is truncated")
        return out


class _EventJWERegistry(JWERegistry):
    # A private algorithms table: JWERegistry.algorithms is class-level and shared with every other joserfc
    # user in the process; ours differs only in the DEF model.
    algorithms = {  # noqa: RUF012 - joserfc's registry protocol is a class attribute
        "alg": dict(JWERegistry.algorithms["alg"]),
        "enc": dict(JWERegistry.algorithms["enc"]),
        "zip": {"DEF": _CappedDeflate(MAX_INFLATED_BYTES, DEFLATE_LEVEL)},
    }
    max_ciphertext_length = MAX_JWE_CIPHERTEXT_BYTES


class _EventJWSRegistry(JWSRegistry):
    max_payload_length = MAX_JWS_PAYLOAD_BYTES

    def get_alg(self, name: str) -> Any:
        # Same allow-list as joserfc's, without its per-call SecurityWarning for "EdDSA" (deprecated by RFC 9864
        # in favour of "Ed25519"): EdDSA is a deliberate, documented choice here and both names are accepted.
        if not self.allowed or name not in self.allowed or name not in self.algorithms:
            raise UnsupportedAlgorithmError(f"Algorithm of '{name}' is not allowed")
        return self.algorithms[name]


#: Registries shared by sealing and opening; they only allow eventdeck's algorithms.
JWS_REGISTRY: Final = _EventJWSRegistry(algorithms=sorted(SIGNING_ALGORITHMS))
JWE_REGISTRY: Final = _EventJWERegistry(
    algorithms=sorted(ENCRYPTION_ALGORITHMS | CONTENT_ENCRYPTION_ALGORITHMS | {"DEF"})
)

# ----------------------------------------------------------------------------------------- policy


@dataclass(frozen=True, slots=True)
class SignSpec:
    """``x-sealing.sign``: the JWS algorithm and the producer's signing key id."""

    alg: str
    kid: str

    def __post_init__(self) -> None:
        if not isinstance(self.alg, str) or self.alg not in SIGNING_ALGORITHMS:
            raise SealingPolicyError(f"{self.alg!r} is not one of {sorted(SIGNING_ALGORITHMS)}", field="sign.alg")
        if not isinstance(self.kid, str) or not self.kid:
            raise SealingPolicyError("a key id is required", field="sign.kid")


@dataclass(frozen=True, slots=True)
class EncryptSpec:
    """``x-sealing.encrypt``: key management algorithm, content encryption and the recipient key id."""

    alg: str
    kid: str
    enc: str = "A256GCM"

    def __post_init__(self) -> None:
        if not isinstance(self.alg, str) or self.alg not in ENCRYPTION_ALGORITHMS:
            raise SealingPolicyError(f"{self.alg!r} is not one of {sorted(ENCRYPTION_ALGORITHMS)}", field="encrypt.alg")
        if not isinstance(self.enc, str) or self.enc not in CONTENT_ENCRYPTION_ALGORITHMS:
            raise SealingPolicyError(
                f"{self.enc!r} is not one of {sorted(CONTENT_ENCRYPTION_ALGORITHMS)}", field="encrypt.enc"
            )
        if not isinstance(self.kid, str) or not self.kid:
            raise SealingPolicyError("a key id is required", field="encrypt.kid")


@dataclass(frozen=True, slots=True)
class SealingPolicy:
    """The ``x-sealing`` extension of a message or document (``none`` is represented by ``None``).

    :param compress: ``zip: DEF`` on the JWE layer (ignored when ``encrypt`` is ``None``: JWS has no zip).
    :param issuer: the ``iss`` claim, e.g. the producer's CloudEvents ``source``.
    """

    sign: SignSpec
    issuer: str
    encrypt: EncryptSpec | None = None
    compress: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.issuer, str) or not self.issuer:
            raise SealingPolicyError("an issuer is required", field="issuer")
        if not isinstance(self.compress, bool):
            raise SealingPolicyError("must be true or false", field="compress")


def sealing_policy_from_extension(value: Any, *, default_issuer: str | None = None) -> SealingPolicy | None:
    """Parse an ``x-sealing`` value: the string ``"none"`` (→ ``None``: publish plain JSON) or
    ``{sign: {alg, kid}, encrypt: {alg, enc?, kid} | null, compress?: bool, issuer?: str}``.

    :param default_issuer: used when the extension has no ``issuer`` (e.g. the document's event source).
    :raises SealingPolicyError: naming the offending field.
    """
    if value == "none":
        return None
    if not isinstance(value, Mapping):
        raise SealingPolicyError("expected 'none' or an object with 'sign'", field="(root)")
    _refuse_unknown(value, {"sign", "encrypt", "compress", "issuer"}, "")
    sign = value.get("sign")
    if not isinstance(sign, Mapping):
        raise SealingPolicyError("expected an object with 'alg' and 'kid'", field="sign")
    _refuse_unknown(sign, {"alg", "kid"}, "sign")
    encrypt = value.get("encrypt")
    if encrypt is not None and not isinstance(encrypt, Mapping):
        raise SealingPolicyError("expected an object with 'alg', 'kid' and optionally 'enc', or null", field="encrypt")
    if encrypt is not None:
        _refuse_unknown(encrypt, {"alg", "kid", "enc"}, "encrypt")
    issuer = value.get("issuer", default_issuer)
    return SealingPolicy(
        sign=SignSpec(alg=sign.get("alg"), kid=sign.get("kid")),  # type: ignore[arg-type]
        encrypt=None
        if encrypt is None
        else EncryptSpec(alg=encrypt.get("alg"), kid=encrypt.get("kid"), enc=encrypt.get("enc", "A256GCM")),  # type: ignore[arg-type]
        compress=value.get("compress", True),
        issuer=issuer,  # type: ignore[arg-type]
    )


def _refuse_unknown(member: Mapping[str, Any], known: set[str], where: str) -> None:
    unknown = sorted(str(name) for name in set(member) - known)
    if unknown:
        field = f"{where}.{unknown[0]}" if where else unknown[0]
        raise SealingPolicyError(f"unknown member(s) {unknown}; expected {sorted(known)}", field=field)


# ----------------------------------------------------------------------------------------- sealing

_CLAIMS_ENCODER: Final = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))

# orjson writes datetimes, dataclasses and subclasses of str/int/dict/list itself where json refuses or writes
# them differently; passing them through (with no ``default``) makes orjson raise, so json decides.
_ORJSON_CLAIMS_OPTIONS: Final = (
    orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_SUBCLASS
)


def _claims_json(claims: dict[str, Any], event_id: str) -> bytes:
    """The claims as compact UTF-8 JSON, refusing what json refuses.

    orjson is ~13x faster than the stdlib encoder (1 us against 15 us for 1.3 KB), but writes NaN and
    ±Infinity as ``null`` without a word; so a ``null`` value in its output (:func:`~pipeline.envelope.canonical.
    has_null_value`), or any orjson error (ints beyond 64 bits, non-string keys, deep nesting, the passed-through
    types), sends the claims to the stdlib encoder, which writes them or raises. (orjson also writes a
    ``uuid.UUID`` or a plain ``Enum`` as its value where json refuses them: payloads are parsed JSON, and
    :func:`pipeline.envelope.canonical.canonical_json` accepts both already, so only a Python caller could hand one in.)
    """
    try:
        fast = orjson.dumps(claims, option=_ORJSON_CLAIMS_OPTIONS)
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        pass
    else:
        if not has_null_value(fast):
            return fast
    try:
        return _CLAIMS_ENCODER.encode(claims).encode("utf-8")
    except (TypeError, ValueError) as err:
        raise NonCanonicalValue(f"payload is not JSON-serialisable: {err}", event_id=event_id) from None


_TO_BASE64URL: Final = bytes.maketrans(b"+/", b"-_")


def base64url_encode(raw: bytes) -> bytes:
    """Unpadded base64url (RFC 7515 §2), as joserfc's ``urlsafe_b64encode`` writes it, in one C call less."""
    return binascii.b2a_base64(raw, newline=False).translate(_TO_BASE64URL).rstrip(b"=")


# "+", "/" and "=" become a byte outside the alphabet, which strict decoding refuses.
_FROM_BASE64URL: Final = bytes.maketrans(b"-_+/=", b"+/!!!")
# The last character of an unpadded segment whose unused bits are zero, for 2 and 1 missing pad characters.
_CANONICAL_ENDINGS: Final = (b"AEIMQUYcgkosw048", b"AQgw")


def base64url_decode(segment: bytes) -> bytes:
    """Decode unpadded base64url exactly as strictly as joserfc's ``urlsafe_b64decode``: no padding, no
    ``+``/``/``, no stray characters, no non-zero unused bits (so one token has one encoding). The same check,
    without rebuilding a translation table per call: ~1 us less per segment.

    :raises binascii.Error: (a ``ValueError``) when the segment is not canonical base64url.
    """
    missing = -len(segment) % 4
    if missing:
        if missing == 3 or segment[-1] not in _CANONICAL_ENDINGS[missing - 1]:
            raise binascii.Error("not canonical base64url")
        return binascii.a2b_base64(segment.translate(_FROM_BASE64URL) + b"=" * missing, strict_mode=True)
    return binascii.a2b_base64(segment.translate(_FROM_BASE64URL), strict_mode=True)


def jws_header(policy: SealingPolicy) -> dict[str, str]:
    """The inner JWS protected header a policy produces."""
    return {"alg": policy.sign.alg, "kid": policy.sign.kid, "typ": "JWT"}


def jwe_header(policy: SealingPolicy) -> dict[str, str] | None:
    """The outer JWE protected header a policy produces (``None`` for sign-only). ECDH-ES adds its ephemeral
    public key (``epk``) to it at encryption time."""
    encrypt = policy.encrypt
    if encrypt is None:
        return None
    header = {"alg": encrypt.alg, "enc": encrypt.enc, "kid": encrypt.kid, "cty": "JWT"}
    if policy.compress:
        header["zip"] = "DEF"
    return header


def claims_for(
    event: Mapping[str, Any] | CloudEvent, policy: SealingPolicy, *, issued_at: int | None = None
) -> dict[str, Any]:
    """The JWT claims sealed for ``event`` (see the module docstring for the names).

    :param issued_at: the ``iat`` claim in epoch seconds; by default now.
    :raises KeyError: when ``event`` lacks ``id``, ``type``, ``idempotencykey`` or ``data``.
    """
    if isinstance(event, CloudEvent):
        event_id, event_type, subject = event.id, event.type, event.subject
        idk, data = event.idempotencykey, event.data
    else:
        event_id, event_type, subject = event["id"], event["type"], event.get("subject")
        idk, data = event["idempotencykey"], event["data"]
    claims: dict[str, Any] = {
        "iss": policy.issuer,
        "iat": int(time.time()) if issued_at is None else issued_at,
        "jti": event_id,
        "type": event_type,
    }
    if subject is not None:
        claims["sub"] = subject
    claims["idempotencykey"] = idk
    claims["data"] = data
    return claims


class _StaticHeaderJWE:
    """The JWE layer for key management whose protected header is the same on every token (``dir``,
    ``RSA-OAEP-256``).

    Header segment (the AEAD's associated data), joserfc's alg/enc/zip models and, for ``dir``, the CEK are
    resolved once; a token then costs the compression, a fresh CEK wrapped by the alg model (RSA-OAEP), a
    fresh IV and one AES-GCM pass through the enc model: what ``jwe.encrypt_compact`` does per call, minus
    re-encoding the header, re-checking it and re-resolving the models and the key.
    """

    __slots__ = ("_aad", "_cek", "_enc", "_key_encryption", "_recipient", "_zip")

    def __init__(self, header: dict[str, str], key: Key) -> None:
        # The same checks encrypt_compact makes on each call, made once: header members, allowed models, key.
        JWE_REGISTRY.check_header(header)
        alg = JWE_REGISTRY.get_alg(header["alg"])
        self._enc: JWEEncModel = JWE_REGISTRY.get_enc(header["enc"])
        self._zip: JWEZipModel | None = JWE_REGISTRY.get_zip(header["zip"]) if "zip" in header else None
        key.check_use("enc")
        # The key management models only read the recipient's key: one recipient serves every token and thread.
        self._recipient: Recipient[Any] = Recipient(CompactEncryption(dict(header)), None, key)
        self._cek = b""
        self._key_encryption: JWEKeyEncryption | None = None
        if isinstance(alg, JWEDirectEncryption):
            self._cek = alg.compute_cek(self._enc.cek_size, self._recipient)  # checks key type and size
        elif isinstance(alg, JWEKeyEncryption):
            self._key_encryption = alg
        else:
            raise TypeError(f"{alg.name} writes per-token header members; use _EphemeralKeyJWE")
        self._aad = json_b64encode(header)

    def encrypt(self, plaintext: bytes) -> bytes:
        """The JWE compact serialization of ``plaintext`` (compressed first when the header has ``zip``)."""
        enc = self._enc
        if self._zip is not None:
            plaintext = self._zip.compress(plaintext)
        if self._key_encryption is not None:
            cek = enc.generate_cek()
            encrypted_key = base64url_encode(self._key_encryption.encrypt_cek(cek, self._recipient))
        else:
            cek, encrypted_key = self._cek, b""
        iv = enc.generate_iv()
        ciphertext, tag = enc.encrypt(plaintext, cek, iv, self._aad)
        return b".".join(
            (self._aad, encrypted_key, base64url_encode(iv), base64url_encode(ciphertext), base64url_encode(tag))
        )


class _EphemeralKeyJWE:
    """The JWE layer for key agreement (``ECDH-ES+A256KW``), whose header carries a fresh ephemeral public key
    (``epk``) per token: the models and the key are resolved once, the header is encoded per token.

    The steps are joserfc's ``perform_encrypt`` for one compact recipient, without its per-call header checks
    and registry look-ups (~20 us of ~170 us; the ECDH exchange and the key pair generation are the rest).
    """

    __slots__ = ("_alg", "_enc", "_header", "_key", "_zip")

    def __init__(self, header: dict[str, str], key: Key) -> None:
        JWE_REGISTRY.check_header(header)  # the epk joserfc adds per token is its own, valid by construction
        alg = JWE_REGISTRY.get_alg(header["alg"])
        if not isinstance(alg, JWEKeyAgreement) or alg.key_wrapping is None:
            raise TypeError(f"{alg.name} is not key agreement with key wrapping; use _StaticHeaderJWE")
        self._alg = alg
        self._enc: JWEEncModel = JWE_REGISTRY.get_enc(header["enc"])
        self._zip: JWEZipModel | None = JWE_REGISTRY.get_zip(header["zip"]) if "zip" in header else None
        key.check_use("enc")
        self._header = header
        self._key = key

    def encrypt(self, plaintext: bytes) -> bytes:
        """The JWE compact serialization of ``plaintext`` (compressed first when the header has ``zip``)."""
        enc, alg = self._enc, self._alg
        # A fresh header dict and recipient each time: the ephemeral key pair and "epk" belong to this token.
        message = CompactEncryption(dict(self._header))
        recipient: Recipient[Any] = Recipient(message, None, self._key)
        alg.prepare_ephemeral_key(recipient)
        cek = enc.generate_cek()
        iv = enc.generate_iv()
        if self._zip is not None:
            plaintext = self._zip.compress(plaintext)
        aad = json_b64encode(message.protected)
        ciphertext, tag = enc.encrypt(plaintext, cek, iv, aad)
        encrypted_key = alg.wrap_cek_with_auk(cek, alg.encrypt_agreed_upon_key(enc, recipient))
        return b".".join(
            (
                aad,
                base64url_encode(encrypted_key),
                base64url_encode(iv),
                base64url_encode(ciphertext),
                base64url_encode(tag),
            )
        )


class Sealer:
    """Seals events under one policy with one key set; keys, headers, models and registries are resolved once.

    Build one per (policy, key set) and reuse it (:func:`sealer_for` caches them). Thread-safe: it holds no
    per-event state.

    Per event it does only what depends on the event: the claims JSON, base64url, the signature through
    joserfc's JWS algorithm model, and the JWE layer (see :class:`_StaticHeaderJWE`). The tokens are the ones
    ``jws.serialize_compact`` and ``jwe.encrypt_compact`` write (same header segments, byte for byte).

    :raises UnknownKeyId: when the key set has no signing key / encryption key for the policy's kids.
    :raises SealingPolicyError: when a kid is bound to another algorithm than the policy names.
    """

    __slots__ = ("_jwe", "_jws_prefix", "_sign_alg", "_sign_key", "policy")

    def __init__(self, policy: SealingPolicy, keys: KeySet) -> None:
        self.policy = policy
        sign = policy.sign
        self._sign_key: Key = keys.signing_key(sign.kid)
        bound = keys.alg_of(sign.kid)
        if bound != sign.alg:
            raise SealingPolicyError(f"kid {sign.kid!r} is bound to {bound}, not {sign.alg}", field="sign.alg")
        header = jws_header(policy)
        # What jws.serialize_compact checks on every call, checked once: header members, allowed alg, key fit.
        JWS_REGISTRY.check_header(header)
        self._sign_alg = JWS_REGISTRY.get_alg(sign.alg)
        self._sign_alg.check_key(self._sign_key)
        self._jws_prefix = json_b64encode(header) + b"."
        self._jwe: _StaticHeaderJWE | _EphemeralKeyJWE | None = None
        encrypt = policy.encrypt
        if encrypt is not None:
            encrypt_key = keys.encryption_key(encrypt.kid)
            bound = keys.alg_of(encrypt.kid)
            if bound != encrypt.alg:
                raise SealingPolicyError(
                    f"kid {encrypt.kid!r} is bound to {bound}, not {encrypt.alg}", field="encrypt.alg"
                )
            outer = jwe_header(policy)
            assert outer is not None  # policy.encrypt is set
            if isinstance(JWE_REGISTRY.get_alg(encrypt.alg), JWEKeyAgreement):
                self._jwe = _EphemeralKeyJWE(outer, encrypt_key)
            else:
                self._jwe = _StaticHeaderJWE(outer, encrypt_key)

    def seal(self, event: Mapping[str, Any] | CloudEvent, *, issued_at: int | None = None) -> str:
        """Return the compact token for ``event`` (a structured CloudEvent dict, or a :class:`CloudEvent`).

        :param issued_at: the ``iat`` claim in epoch seconds; by default now.
        :raises OversizedEvent: when the claims or the token exceed the caps.
        :raises NonCanonicalValue: when ``data`` is not JSON-serialisable.
        :raises KeyError: when ``event`` lacks ``id``, ``type``, ``idempotencykey`` or ``data``.
        """
        claims = claims_for(event, self.policy, issued_at=issued_at)
        event_id = claims["jti"]
        payload = _claims_json(claims, event_id)
        if len(payload) > MAX_CLAIMS_BYTES:
            raise OversizedEvent(
                f"claims are {len(payload)} bytes, over the {MAX_CLAIMS_BYTES}-byte cap", event_id=event_id
            )
        signing_input = self._jws_prefix + base64url_encode(payload)
        token = signing_input + b"." + base64url_encode(self._sign_alg.sign(signing_input, self._sign_key))
        if self._jwe is not None:
            token = self._jwe.encrypt(token)
        if len(token) > MAX_TOKEN_BYTES:
            raise OversizedEvent(f"token is {len(token)} bytes, over the {MAX_TOKEN_BYTES}-byte cap", event_id=event_id)
        return token.decode("ascii")

    def seal_event(self, event: Mapping[str, Any] | CloudEvent, *, issued_at: int | None = None) -> dict[str, Any]:
        """Return the sealed CloudEvent dict: the same attributes, ``data`` = token, ``datacontenttype``
        ``application/jwt``."""
        token = self.seal(event, issued_at=issued_at)
        sealed = event.to_dict() if isinstance(event, CloudEvent) else dict(event)
        sealed["datacontenttype"] = JWT_CONTENT_TYPE
        sealed["data"] = token
        return sealed


@lru_cache(maxsize=64)
def sealer_for(policy: SealingPolicy, keys: KeySet) -> Sealer:
    """Return the cached :class:`Sealer` for this policy and key set (key sets are compared by identity)."""
    return Sealer(policy, keys)


def seal(
    cloud_event: Mapping[str, Any] | CloudEvent, policy: SealingPolicy, keys: KeySet, *, issued_at: int | None = None
) -> str:
    """Seal ``cloud_event``'s data under ``policy`` with ``keys`` and return the compact token.

    See :class:`Sealer` for the errors. For ``x-sealing: none`` there is no token: use :func:`seal_event`.
    """
    return sealer_for(policy, keys).seal(cloud_event, issued_at=issued_at)


def seal_event(
    cloud_event: Mapping[str, Any] | CloudEvent,
    policy: SealingPolicy | None,
    keys: KeySet | None,
    *,
    issued_at: int | None = None,
) -> dict[str, Any]:
    """Return the CloudEvent dict to publish: sealed under ``policy``, or as is (plain JSON ``data``) when the
    policy is ``None`` (``x-sealing: none``)."""
    if policy is None:
        return cloud_event.to_dict() if isinstance(cloud_event, CloudEvent) else dict(cloud_event)
    if keys is None:
        raise SealingPolicyError("a key set is required to seal", field="sign.kid")
    return sealer_for(policy, keys).seal_event(cloud_event, issued_at=issued_at)
