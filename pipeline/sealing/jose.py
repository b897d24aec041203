"""The JOSE layer under sealing and opening: eventdeck's joserfc registries and the per-token crypto.

This is the only eventdeck module that imports joserfc's private modules (a test holds the rule); the sealer and
the opener import every JOSE name they use from here. Each token's crypto goes through a :class:`JoseBackend`:

* :data:`MODELS` calls joserfc's algorithm models directly, with everything that does not depend on the token
  (header checks, model look-ups, the header segment, for ``dir`` the CEK) resolved once. The steps are those of
  ``jws.serialize_compact``/``deserialize_compact`` and ``jwe.encrypt_compact``/``decrypt_compact``, minus the
  per-call re-parsing and re-checking; they rely on joserfc internals: the private
  ``joserfc._rfc7516.message.decrypt_recipient`` (``decrypt_compact``'s key-management step) and the calling
  conventions of the models and of ``Recipient`` that ``joserfc/_rfc7516/message.py`` uses.
* :data:`PUBLIC` calls joserfc's public one-call API with the same registries: the same tokens, the same
  refusals (a differential test holds both), several microseconds slower per token.

:data:`DEFAULT_BACKEND` is :data:`MODELS` only when the installed joserfc is one of :data:`CHECKED_JOSERFC` and
its private module imports; otherwise :data:`PUBLIC`. To accept a new joserfc release (tests/test_jose.py fails
until you do): read the diff of ``joserfc/_rfc7516/message.py``, ``models.py`` and ``_rfc7515/compact.py``
against the checked release, run the suite, then add the version to :data:`CHECKED_JOSERFC`.

Both backends let joserfc's exceptions through (``JoseError`` and its subclasses, ``ValueError``/``TypeError``
for malformed input) plus :class:`InflateCapExceeded` and :class:`TruncatedDeflate`; the opener maps them to
eventdeck's refusals.
"""

from __future__ import annotations

import binascii
import importlib.metadata
import secrets
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, Protocol

from joserfc import jwe, jws
from joserfc.errors import (
    BadSignatureError,
    DecodeError,
    ExceededSizeError,
    InvalidExchangeKeyError,
    JoseError,
    UnsupportedAlgorithmError,
)
from joserfc.jwa import (
    JWEAlgModel,
    JWEDirectEncryption,
    JWEEncModel,
    JWEKeyAgreement,
    JWEKeyEncryption,
    JWEZipModel,
    JWSAlgModel,
)
from joserfc.jwe import CompactEncryption, JWERegistry, Recipient
from joserfc.jwk import Key
from joserfc.jws import JWSRegistry
from joserfc.util import json_b64encode

from pipeline.contract.extensions.sealing import (
    CONTENT_ENCRYPTION_ALGORITHMS,
    ENCRYPTION_ALGORITHMS,
    SIGNING_ALGORITHMS,
)
from pipeline.sealing.limits import (
    DEFLATE_LEVEL,
    MAX_INFLATED_BYTES,
    MAX_JWE_CIPHERTEXT_BYTES,
    MAX_JWS_HEADER_BYTES,
    MAX_JWS_PAYLOAD_BYTES,
    MAX_JWS_SIGNATURE_BYTES,
)

_decrypt_recipient: Callable[[JWEAlgModel, JWEEncModel, Recipient[Any], bytes], bytes] | None
try:  # jwe.decrypt_compact's own key-management step; joserfc.jwe does not export it.
    from joserfc._rfc7516.message import decrypt_recipient as _decrypt_recipient
except ImportError:  # pragma: no cover - a joserfc that moved it: PUBLIC is used
    _decrypt_recipient = None

__all__ = [
    "CHECKED_JOSERFC",
    "DEFAULT_BACKEND",
    "JOSERFC_VERSION",
    "JWE_REGISTRY",
    "JWS_REGISTRY",
    "MODELS",
    "PUBLIC",
    "BadSignatureError",
    "CheckedJWEHeader",
    "CheckedJWSHeader",
    "DecodeError",
    "ExceededSizeError",
    "InflateCapExceeded",
    "JoseBackend",
    "JoseError",
    "Key",
    "TokenWriter",
    "TruncatedDeflate",
    "UnsupportedAlgorithmError",
    "base64url_decode",
    "base64url_encode",
    "checked_jwe_header",
    "checked_jws_header",
    "json_b64encode",
    "models_backend_checked",
]

#: joserfc releases the :data:`MODELS` backend was read against and tested with. Any other release, older or
#: newer, gets :data:`PUBLIC` until it is checked.
CHECKED_JOSERFC: Final = ("1.8.0",)


def _installed_joserfc() -> str | None:
    try:
        return importlib.metadata.version("joserfc")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - vendored without its metadata
        return None


#: The installed joserfc release (``None`` when it has no package metadata).
JOSERFC_VERSION: Final = _installed_joserfc()


def models_backend_checked(version: str | None = JOSERFC_VERSION) -> bool:
    """Whether :data:`MODELS` may be used with joserfc ``version``: it is checked and its private module imports."""
    return _decrypt_recipient is not None and version in CHECKED_JOSERFC


# ----------------------------------------------------------------------------------------- registries


class InflateCapExceeded(ExceededSizeError):
    """Raised inside decryption when DEF output passes :data:`~pipeline.sealing.limits.MAX_INFLATED_BYTES`
    (mapped by the consumer to :class:`~pipeline.errors.InflateLimitExceeded`)."""

    error = "inflate_limit_exceeded"


class TruncatedDeflate(ValueError):
    """The DEF stream ended before its final block."""


# zlib's default deflate state is ~256 KiB (32 KiB window, hash chains, symbol buffer). glibc gives a freed block
# that size back to the OS and the next token faults it in again, page by page: ~60 us per 2 KB token, three times
# the compression itself. An 8 KiB window with memLevel 7 needs ~96 KiB and loses nothing on an input that fits
# the window with zlib's 262-byte lookahead (matches reach back at most window - 262 bytes, and a block holds 8192
# symbols, more than such an input has): the output is byte-identical on our payloads. That is nearly every
# event; larger inputs keep zlib's defaults.
_SMALL_DEFLATE_WBITS: Final = 13
_SMALL_DEFLATE_MEMLEVEL: Final = 7
_SMALL_DEFLATE_INPUT: Final = 2**_SMALL_DEFLATE_WBITS - 262


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
    max_header_length = MAX_JWS_HEADER_BYTES
    max_payload_length = MAX_JWS_PAYLOAD_BYTES
    max_signature_length = MAX_JWS_SIGNATURE_BYTES

    def get_alg(self, name: str) -> Any:
        # Same allow-list as joserfc's, without its per-call SecurityWarning for "EdDSA" (deprecated by RFC 9864
        # in favour of "Ed25519"): EdDSA is a deliberate, documented choice here and both names are accepted.
        if not self.allowed or name not in self.allowed or name not in self.algorithms:
            raise UnsupportedAlgorithmError(f"Algorithm of '{name}' is not allowed")
        return self.algorithms[name]


#: Registries shared by sealing and opening; they only allow eventdeck's algorithms, under eventdeck's caps.
JWS_REGISTRY: Final = _EventJWSRegistry(algorithms=sorted(SIGNING_ALGORITHMS))
JWE_REGISTRY: Final = _EventJWERegistry(
    algorithms=sorted(ENCRYPTION_ALGORITHMS | CONTENT_ENCRYPTION_ALGORITHMS | {"DEF"})
)

# ----------------------------------------------------------------------------------------- base64url

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


# ----------------------------------------------------------------------------------------- checked headers


@dataclass(frozen=True, slots=True)
class CheckedJWEHeader:
    """A JWE protected header that passed joserfc's header checks, with the models it names."""

    header: dict[str, Any]
    alg: str
    kid: str
    alg_model: JWEAlgModel
    enc: JWEEncModel
    zip: JWEZipModel | None

    @property
    def per_token(self) -> bool:
        """Whether every token has its own header (key agreement writes a fresh ephemeral key, ``epk``)."""
        return isinstance(self.alg_model, JWEKeyAgreement)


@dataclass(frozen=True, slots=True)
class CheckedJWSHeader:
    """A JWS protected header that passed joserfc's header checks, with its algorithm model."""

    alg: str
    kid: str
    alg_model: JWSAlgModel


def checked_jwe_header(header: dict[str, Any], kid: str) -> CheckedJWEHeader:
    """joserfc's own JWE header checks (``crit``, member types, no unknown members) and the models it names.

    :raises JoseError: when the header fails them.
    """
    JWE_REGISTRY.check_header(header, True)
    return CheckedJWEHeader(
        header=header,
        alg=header["alg"],
        kid=kid,
        alg_model=JWE_REGISTRY.get_alg(header["alg"]),
        enc=JWE_REGISTRY.get_enc(header["enc"]),
        zip=JWE_REGISTRY.get_zip(header["zip"]) if "zip" in header else None,
    )


def checked_jws_header(header: dict[str, Any], kid: str) -> CheckedJWSHeader:
    """joserfc's own JWS header checks and the algorithm model.

    :raises JoseError: when the header fails them.
    """
    JWS_REGISTRY.check_header(header)
    return CheckedJWSHeader(alg=header["alg"], kid=kid, alg_model=JWS_REGISTRY.get_alg(header["alg"]))


# ----------------------------------------------------------------------------------------- backends

#: Makes one compact token (bytes) from a payload / plaintext.
TokenWriter = Callable[[bytes], bytes]


class JoseBackend(Protocol):
    """The per-token crypto of compact JWS and JWE, under :data:`JWS_REGISTRY` and :data:`JWE_REGISTRY`.

    The writers are built once per (header, key) and are then safe to call from any thread; the reading methods
    take a header the caller already checked, and raise what joserfc raises (see the module docstring).
    """

    name: str

    def jws_writer(self, header: dict[str, str], key: Key) -> TokenWriter:
        """A function from a payload to its compact JWS under ``header``, signed with ``key``.

        :raises JoseError: when ``header`` or ``key`` does not suit the registry's algorithms.
        """
        ...

    def jwe_writer(self, header: dict[str, str], key: Key) -> TokenWriter:
        """A function from a plaintext to its compact JWE under ``header`` for ``key`` (compressed first when
        the header has ``zip``).

        :raises JoseError: when ``header`` or ``key`` does not suit the registry's algorithms.
        """
        ...

    def decrypt(
        self, token: bytes, segments: list[bytes], header: dict[str, Any], known: CheckedJWEHeader | None,
        key: Key, kid: str,
    ) -> tuple[bytes, CheckedJWEHeader]:
        """The plaintext of a compact JWE (``segments`` = ``token`` split on dots) and its checked header.

        :param known: the checked header of an earlier token with the same header segment, if any.
        """
        ...

    def verify(
        self, token: bytes, segments: list[bytes], header: dict[str, Any], known: CheckedJWSHeader | None,
        key: Key, kid: str,
    ) -> tuple[bytes, CheckedJWSHeader]:
        """The payload of a compact JWS whose signature verifies with ``key``, and its checked header.

        :raises BadSignatureError: when it does not verify.
        """
        ...


class _ModelsBackend:
    """:class:`JoseBackend` through joserfc's algorithm models (see the module docstring)."""

    name = "joserfc models"

    def jws_writer(self, header: dict[str, str], key: Key) -> TokenWriter:
        # What jws.serialize_compact checks on every call, checked once: header members, allowed alg, key fit.
        JWS_REGISTRY.check_header(header)
        alg: JWSAlgModel = JWS_REGISTRY.get_alg(header["alg"])
        alg.check_key(key)
        prefix = json_b64encode(header) + b"."

        def write(payload: bytes) -> bytes:
            signing_input = prefix + base64url_encode(payload)
            return signing_input + b"." + base64url_encode(alg.sign(signing_input, key))

        return write

    def jwe_writer(self, header: dict[str, str], key: Key) -> TokenWriter:
        if isinstance(JWE_REGISTRY.get_alg(header["alg"]), JWEKeyAgreement):
            return _EphemeralKeyJWE(header, key).encrypt
        return _StaticHeaderJWE(header, key).encrypt

    def decrypt(
        self, token: bytes, segments: list[bytes], header: dict[str, Any], known: CheckedJWEHeader | None,
        key: Key, kid: str,
    ) -> tuple[bytes, CheckedJWEHeader]:
        header_segment, ek_segment, iv_segment, ciphertext_segment, tag_segment = segments
        # jwe.decrypt_compact's steps, in its order. (Its cap on the whole token is above MAX_TOKEN_BYTES.)
        if known is None:
            JWE_REGISTRY.validate_protected_header_size(header_segment)
        JWE_REGISTRY.validate_encrypted_key_size(ek_segment)
        JWE_REGISTRY.validate_initialization_vector_size(iv_segment)
        JWE_REGISTRY.validate_ciphertext_size(ciphertext_segment)
        JWE_REGISTRY.validate_auth_tag_size(tag_segment)
        iv, ciphertext, tag = (
            base64url_decode(iv_segment),
            base64url_decode(ciphertext_segment),
            base64url_decode(tag_segment),
        )
        encrypted_key = base64url_decode(ek_segment)
        key.check_use("enc")
        enc = known.enc if known is not None else JWE_REGISTRY.get_enc(header["enc"])
        enc.check_iv(iv)
        checked = known if known is not None else checked_jwe_header(header, kid)
        # perform_decrypt for one compact recipient.
        recipient: Recipient[Any] = Recipient(CompactEncryption(checked.header), None, key)
        recipient.encrypted_key = encrypted_key
        assert _decrypt_recipient is not None  # MODELS is only chosen when it imported
        try:
            cek = _decrypt_recipient(checked.alg_model, enc, recipient, tag)
        except InvalidExchangeKeyError as err:
            raise DecodeError(err.description) from err
        if len(cek) * 8 != enc.cek_size:
            # As joserfc: a CEK of the wrong size fails the tag like any wrong CEK, so the two cannot be told apart.
            cek = secrets.token_bytes(enc.cek_size // 8)
        message = enc.decrypt(ciphertext, tag, cek, iv, header_segment)
        return (checked.zip.decompress(message) if checked.zip is not None else message), checked

    def verify(
        self, token: bytes, segments: list[bytes], header: dict[str, Any], known: CheckedJWSHeader | None,
        key: Key, kid: str,
    ) -> tuple[bytes, CheckedJWSHeader]:
        header_segment, payload_segment, signature_segment = segments
        # jws.deserialize_compact's steps, in its order.
        JWS_REGISTRY.validate_compact_value_size(token)
        if known is None:
            JWS_REGISTRY.validate_header_size(header_segment)
        JWS_REGISTRY.validate_signature_size(signature_segment)
        if payload_segment:
            JWS_REGISTRY.validate_payload_size(payload_segment)
        try:
            payload = base64url_decode(payload_segment)
        except ValueError as error:
            raise DecodeError("Invalid payload") from error
        checked = known if known is not None else checked_jws_header(header, kid)
        checked.alg_model.check_key(key)
        try:
            signature = base64url_decode(signature_segment)
        except ValueError:
            raise BadSignatureError() from None
        if not checked.alg_model.verify(header_segment + b"." + payload_segment, signature, key):
            raise BadSignatureError()
        return payload, checked


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


class _PublicBackend:
    """:class:`JoseBackend` through joserfc's public one-call API, for a joserfc release :data:`MODELS` was not
    checked against. The checks each writer makes once are those joserfc makes on every call."""

    name = "joserfc public API"

    def jws_writer(self, header: dict[str, str], key: Key) -> TokenWriter:
        JWS_REGISTRY.check_header(header)
        JWS_REGISTRY.get_alg(header["alg"]).check_key(key)

        def write(payload: bytes) -> bytes:
            return jws.serialize_compact(header, payload, key, registry=JWS_REGISTRY).encode("ascii")

        return write

    def jwe_writer(self, header: dict[str, str], key: Key) -> TokenWriter:
        JWE_REGISTRY.check_header(header)
        JWE_REGISTRY.get_alg(header["alg"])
        key.check_use("enc")
        # One token now, so a key that does not fit fails here, as with MODELS, and not on the first event.
        jwe.encrypt_compact(dict(header), b"", key, registry=JWE_REGISTRY)

        def write(plaintext: bytes) -> bytes:
            # A copy per token: key agreement writes its ephemeral key ("epk") into the header it is given.
            return jwe.encrypt_compact(dict(header), plaintext, key, registry=JWE_REGISTRY).encode("ascii")

        return write

    def decrypt(
        self, token: bytes, segments: list[bytes], header: dict[str, Any], known: CheckedJWEHeader | None,
        key: Key, kid: str,
    ) -> tuple[bytes, CheckedJWEHeader]:
        plaintext = jwe.decrypt_compact(token, key, registry=JWE_REGISTRY).plaintext
        assert plaintext is not None
        return plaintext, known if known is not None else checked_jwe_header(header, kid)

    def verify(
        self, token: bytes, segments: list[bytes], header: dict[str, Any], known: CheckedJWSHeader | None,
        key: Key, kid: str,
    ) -> tuple[bytes, CheckedJWSHeader]:
        payload = jws.deserialize_compact(token, key, registry=JWS_REGISTRY).payload
        return payload, known if known is not None else checked_jws_header(header, kid)


#: The per-token crypto through joserfc's models (fast; only for a release in :data:`CHECKED_JOSERFC`).
MODELS: Final[JoseBackend] = _ModelsBackend()
#: The per-token crypto through joserfc's public API (any release).
PUBLIC: Final[JoseBackend] = _PublicBackend()
#: What :class:`~pipeline.sealing.seal.Sealer` and :class:`~pipeline.sealing.open.Opener` use unless told.
DEFAULT_BACKEND: Final[JoseBackend] = MODELS if models_backend_checked() else PUBLIC
