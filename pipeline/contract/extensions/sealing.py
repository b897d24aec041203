"""``x-sealing``, typed: the sealing policy of an event, after precedence (message over document).

The policy is plain data, shared by the producer (which seals under it), the consumer (which refuses anything
weaker) and the catalogue (which documents it); the JOSE work itself lives in :mod:`pipeline.sealing`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

from pipeline.errors import SealingPolicyError

from ..errors import Location

__all__ = [
    "CONTENT_ENCRYPTION_ALGORITHMS",
    "ENCRYPTION_ALGORITHMS",
    "SIGNING_ALGORITHMS",
    "EncryptSpec",
    "Sealing",
    "SealingPolicy",
    "SignSpec",
    "sealing_policy_from_extension",
]

#: JWS algorithms a signing key may be bound to (``Ed25519`` is RFC 9864's name for EdDSA with Ed25519).
SIGNING_ALGORITHMS: Final = frozenset({"HS256", "ES256", "EdDSA", "Ed25519", "RS256"})
#: JWE key management algorithms an encryption key may be bound to.
ENCRYPTION_ALGORITHMS: Final = frozenset({"dir", "ECDH-ES+A256KW", "RSA-OAEP-256"})
#: JWE content encryption algorithms.
CONTENT_ENCRYPTION_ALGORITHMS: Final = frozenset({"A256GCM"})


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
    """A sealed ``x-sealing`` value (``none`` is :class:`Sealing` with no policy).

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

    @property
    def kids(self) -> tuple[tuple[str, str], ...]:
        """Every ``(kid, alg)`` the policy names: the signing key, then the encryption key if any."""
        sign = ((self.sign.kid, self.sign.alg),)
        return sign if self.encrypt is None else (*sign, (self.encrypt.kid, self.encrypt.alg))


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


@dataclass(frozen=True, slots=True)
class Sealing:
    """An event's (or a document's default) effective ``x-sealing``: the policy, or ``None`` for the explicit
    ``none`` (published unsealed), and where it was declared.

    ``problem`` is set when the declaration is malformed (the contract checks report it as an error): then there
    is no policy, and the event cannot be produced or opened at all — it is *not* treated as unsealed.
    """

    policy: SealingPolicy | None
    declared_on: Literal["message", "document"]
    location: Location
    problem: str | None = None

    @property
    def sealed(self) -> bool:
        return self.policy is not None

    @property
    def unsealed(self) -> bool:
        """Declared ``none``: the event is public and published as plain JSON."""
        return self.policy is None and self.problem is None

    @classmethod
    def parse(cls, value: Any, declared_on: Literal["message", "document"], location: Location, *,
              default_issuer: str | None) -> Sealing:
        try:
            return cls(sealing_policy_from_extension(value, default_issuer=default_issuer), declared_on, location)
        except SealingPolicyError as exc:
            return cls(None, declared_on, location, problem=str(exc))


def effective_sealing(message: Sealing | None, document: Sealing | None) -> Sealing | None:
    """The one place the precedence is written: a message's ``x-sealing`` replaces its document's as a whole
    (values are not merged); ``None`` when neither declares one."""
    return message if message is not None else document
