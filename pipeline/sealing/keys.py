"""Key sets for sealing and opening: keys resolved by ``kid``, one algorithm bound to each key.

Policy lives in :class:`KeySet` (and :func:`load_keyset`): every key must carry a ``kid`` and an ``alg``
(RFC 7517 §4.4), kids are unique, and the ``alg`` is checked against the key's type and size once, at load
time. A token is then verified/decrypted only with the algorithm bound to the key its ``kid`` names, so a
token can never choose its own algorithm (the HS256-with-a-public-key confusion and ``alg: none`` have no
way in).

Sources are thin: each returns the JWKS JSON text and a description for error messages
(:class:`JwksFile`, :class:`JwksEnvironment`, :class:`JwksSecretsManager`).

Roles, for the asymmetric algorithms:

* the producer signs with its private key (ES256 / EdDSA / RS256) and publishes the public half
  (``KeySet.public()``; the public JWKS consumers load to verify);
* the consumer decrypts with its private key (ECDH-ES+A256KW / RSA-OAEP-256) and gives the producer the public
  half to encrypt to;
* the symmetric keys (HS256 MAC key, ``dir`` A256GCM key) are shared secrets: anyone who can open can also
  forge, so keep them for one trust domain and distribute them privately (e.g. Secrets Manager).

Rotation: keys with different kids coexist in one set; sealing uses the kid the policy names, opening uses
the kid in the token; retire a key by removing it once no token sealed with it can still arrive.

Protection of key files, as ``ssh`` does for its private keys: :func:`write_jwks` writes the private JWKS
``0600`` by an atomic rename (a reader never sees half a key file; an existing file is replaced only when asked),
and :func:`load_keyset` checks a JWKS *file* that holds secrets (private or shared ``oct`` keys): when its group or
others may access it, it warns (:class:`KeyFileTooOpenWarning`, through :mod:`warnings`) or, with
``strict_permissions=True``, refuses it (:class:`KeyFileTooOpen`). A public JWKS is never subject to the check.
This module prints nothing: the edges (the CLI, a Lambda handler's logging) decide how to show the warning.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import secrets
import stat
import tempfile
import warnings
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal, Protocol

from joserfc.jwk import ECKey, Key, OctKey, OKPKey, RSAKey
from joserfc.jwk import KeySet as JoseKeySet

from pipeline.contract.extensions.sealing import ENCRYPTION_ALGORITHMS, SIGNING_ALGORITHMS
from pipeline.errors import KeySetError, UnknownKeyId

__all__ = [
    "ENCRYPTION_ALGORITHMS",
    "SIGNING_ALGORITHMS",
    "JwksEnvironment",
    "JwksFile",
    "JwksSecretsManager",
    "JwksSource",
    "KeyFileTooOpen",
    "KeyFileTooOpenWarning",
    "KeySet",
    "load_keyset",
    "new_keyset",
    "write_jwks",
]

Use = Literal["sig", "enc"]

# alg -> (use, key class, check of the key's curve/size): the allow-list of what a key may be bound to.

_MIN_RSA_BITS: Final = 2048
_HMAC_MIN_BYTES: Final = 32  # RFC 7518 §3.2: a key of the same size as the hash output or larger
_DIR_A256GCM_BYTES: Final = 32  # dir + A256GCM: the key *is* the 256-bit CEK


def _check_key_fits(key: Key, alg: str) -> str | None:
    """Return why ``key`` cannot be bound to ``alg`` (``None`` when it can). Never mentions key material."""
    if alg == "HS256":
        if not isinstance(key, OctKey):
            return "HS256 needs an 'oct' key"
        if len(key.raw_value) < _HMAC_MIN_BYTES:
            return "HS256 needs a key of at least 256 bits"
    elif alg == "dir":
        if not isinstance(key, OctKey):
            return "dir needs an 'oct' key"
        if len(key.raw_value) != _DIR_A256GCM_BYTES:
            return "dir with A256GCM needs a 256-bit key"
    elif alg == "ES256":
        if not isinstance(key, ECKey) or key.curve_name != "P-256":
            return "ES256 needs an EC P-256 key"
    elif alg in ("EdDSA", "Ed25519"):
        if not isinstance(key, OKPKey) or key.curve_name != "Ed25519":
            return f"{alg} needs an OKP Ed25519 key"
    elif alg == "ECDH-ES+A256KW":
        if not (
            (isinstance(key, ECKey) and key.curve_name in ("P-256", "P-384", "P-521"))
            or (isinstance(key, OKPKey) and key.curve_name == "X25519")
        ):
            return "ECDH-ES+A256KW needs an EC P-256/P-384/P-521 or OKP X25519 key"
    elif alg in ("RS256", "RSA-OAEP-256"):
        if not isinstance(key, RSAKey):
            return f"{alg} needs an RSA key"
        if key.public_key.key_size < _MIN_RSA_BITS:
            return f"{alg} needs an RSA key of at least {_MIN_RSA_BITS} bits"
    else:
        supported = sorted(SIGNING_ALGORITHMS | ENCRYPTION_ALGORITHMS)
        return f"algorithm {alg!r} is not supported (use one of {supported})"
    return None


def _use_of(alg: str) -> Use:
    return "sig" if alg in SIGNING_ALGORITHMS else "enc"


def _public_copy(key: Key) -> Key:
    """A public-only twin of an asymmetric key. Verifying with a private key object makes joserfc derive the
    public key on every call (pipeline-anchors §3.1), so consumers and producers use this one instead."""
    return type(key).import_key(key.as_dict(private=False))  # type: ignore[return-value]


@dataclass(frozen=True, slots=True)
class _Entry:
    key: Key  # as loaded (private when the source holds the private key)
    public: Key  # public-only twin (the same object for oct keys, which have no public half)
    alg: str
    use: Use
    is_private: bool


class KeySet:
    """An immutable set of JWKs addressed by ``kid``, each bound to one algorithm.

    Build it from joserfc keys that carry ``kid`` and ``alg`` (:func:`new_keyset` does), or load it with
    :func:`load_keyset` / :meth:`from_jwks`. Lookups raise :class:`~pipeline.errors.UnknownKeyId`
    (naming the kid, never the key). ``repr`` lists kids and algorithms only.

    :raises KeySetError: for a key without ``kid`` or ``alg``, an algorithm outside the allow-list, a key
        that does not fit its algorithm, or a duplicate kid.
    """

    __slots__ = ("_entries", "origin")

    def __init__(self, keys: Iterable[Key], *, origin: str = "key set") -> None:
        self.origin = origin
        entries: dict[str, _Entry] = {}
        for position, key in enumerate(keys):
            kid = key.kid
            where = f"{origin}: key #{position}"
            if not isinstance(kid, str) or not kid:
                raise KeySetError(f"{where} has no 'kid'; eventdeck resolves every key by kid")
            where = f"{origin}: key {kid!r}"
            alg = key.alg
            if not isinstance(alg, str) or not alg:
                raise KeySetError(f"{where} has no 'alg'; eventdeck binds one algorithm to each key")
            problem = _check_key_fits(key, alg)
            if problem:
                raise KeySetError(f"{where}: {problem}")
            use = _use_of(alg)
            declared_use = key.get("use")
            if declared_use is not None and declared_use != use:
                raise KeySetError(f"{where}: 'use' is {declared_use!r} but {alg} needs {use!r}")
            if kid in entries:
                raise KeySetError(f"{where} appears twice; kids must be unique")
            is_private = bool(key.is_private)
            public = _public_copy(key) if is_private and not isinstance(key, OctKey) else key
            entries[kid] = _Entry(key=key, public=public, alg=alg, use=use, is_private=is_private)
        self._entries: Mapping[str, _Entry] = entries

    # ------------------------------------------------------------------ loading / exporting

    @classmethod
    def from_jwks(cls, jwks: Mapping[str, Any] | str | bytes, *, origin: str = "JWKS") -> KeySet:
        """Build from a JWKS (``{"keys": [...]}``), given as a mapping or as JSON text.

        :raises KeySetError: naming ``origin`` and the kid when the JWKS is not valid JSON, has no keys, or
            a key does not import or does not fit its ``alg``.
        """
        if isinstance(jwks, (str, bytes)):
            try:
                jwks = json.loads(jwks)
            except UnicodeDecodeError as err:
                raise KeySetError(f"{origin}: not UTF-8 JSON text (byte {err.start})") from None
            except RecursionError:
                raise KeySetError(f"{origin}: JSON nested too deeply to be a JWKS") from None
            except ValueError as err:
                # JSONDecodeError keeps the whole document in err.doc: do not chain it (it may be secret).
                raise KeySetError(
                    f"{origin}: not valid JSON (line {getattr(err, 'lineno', '?')}, "
                    f"column {getattr(err, 'colno', '?')})"
                ) from None
        if not isinstance(jwks, Mapping) or not isinstance(jwks.get("keys"), list) or not jwks["keys"]:
            raise KeySetError(f"{origin}: expected a JWKS object with a non-empty 'keys' array")
        keys: list[Key] = []
        for position, data in enumerate(jwks["keys"]):
            kid = data.get("kid") if isinstance(data, Mapping) else None
            label = repr(kid) if isinstance(kid, str) else f"#{position}"
            if not isinstance(data, Mapping):
                raise KeySetError(f"{origin}: key {label} is not a JSON object")
            kty = data.get("kty")
            key_class = _KEY_CLASSES.get(kty) if isinstance(kty, str) else None
            if key_class is None:
                shown = kty if isinstance(kty, str) and len(kty) <= 20 else type(kty).__name__
                raise KeySetError(f"{origin}: key {label} has unsupported 'kty' {shown!r}")
            try:
                keys.append(key_class.import_key(dict(data)))
            except Exception as err:  # joserfc/cryptography raise many types; none may leak the key
                raise KeySetError(f"{origin}: key {label} does not import ({type(err).__name__})") from None
        return cls(keys, origin=origin)

    def to_jwks(self, *, private: bool = False) -> dict[str, Any]:
        """Return a JWKS dict.

        ``private=False`` gives the publishable set: the public half of every asymmetric key (shared-secret
        ``oct`` keys are left out). ``private=True`` gives every key with its secret parts.
        """
        keys: list[dict[str, Any]] = []
        for entry in self._entries.values():
            if private:
                keys.append(dict(entry.key.as_dict(private=entry.is_private)))
            elif not isinstance(entry.key, OctKey):
                keys.append(dict(entry.public.as_dict(private=False)))
        return {"keys": keys}

    def to_joserfc(self) -> JoseKeySet:
        """The same keys as a joserfc ``KeySet`` (for code that calls joserfc directly)."""
        return JoseKeySet([e.key for e in self._entries.values()])

    def public(self) -> KeySet:
        """Return the publishable subset: asymmetric keys, public halves only."""
        return KeySet(
            (e.public for e in self._entries.values() if not isinstance(e.key, OctKey)),
            origin=f"{self.origin} (public)",
        )

    def select(self, *kids: str) -> KeySet:
        """Return a key set with only these kids (e.g. what a producer shares with one consumer)."""
        return KeySet((self._entry(kid, None).key for kid in kids), origin=self.origin)

    def merged(self, *others: KeySet) -> KeySet:
        """Return the union of this set and ``others`` (kids must stay unique), e.g. old + new on rotation."""
        keys = [e.key for e in self._entries.values()]
        for other in others:
            keys.extend(e.key for e in other._entries.values())
        return KeySet(keys, origin=" + ".join([self.origin, *(o.origin for o in others)]))

    # ------------------------------------------------------------------ lookups

    @property
    def kids(self) -> tuple[str, ...]:
        return tuple(self._entries)

    @property
    def holds_secrets(self) -> bool:
        """Whether the set holds anything that must stay private: a private key, or a shared ``oct`` key."""
        return any(e.is_private or isinstance(e.key, OctKey) for e in self._entries.values())

    def __contains__(self, kid: object) -> bool:
        return kid in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        inner = ", ".join(f"{kid}:{e.alg}" for kid, e in self._entries.items())
        return f"KeySet({inner})"

    def alg_of(self, kid: str, *, event_id: str | None = None) -> str:
        """Return the algorithm bound to ``kid``."""
        return self._entry(kid, event_id).alg

    def kids_for(self, alg: str) -> tuple[str, ...]:
        """Return the kids bound to ``alg``, in load order (several during a rotation)."""
        return tuple(kid for kid, e in self._entries.items() if e.alg == alg)

    def signing_key(self, kid: str, *, event_id: str | None = None) -> Key:
        """The key to sign with: a private (or shared ``oct``) key bound to a signing algorithm."""
        entry = self._entry(kid, event_id)
        if entry.use != "sig" or not entry.is_private:
            raise UnknownKeyId(f"no signing key for kid {kid!r}", kid=kid, event_id=event_id)
        return entry.key

    def verification_key(self, kid: str, *, event_id: str | None = None) -> Key:
        """The key to verify with: the public half (or the shared ``oct`` key) of a signing key."""
        entry = self._entry(kid, event_id)
        if entry.use != "sig":
            raise UnknownKeyId(f"no verification key for kid {kid!r}", kid=kid, event_id=event_id)
        return entry.public

    def encryption_key(self, kid: str, *, event_id: str | None = None) -> Key:
        """The key to encrypt to: the recipient's public key (or the shared ``dir`` key)."""
        entry = self._entry(kid, event_id)
        if entry.use != "enc":
            raise UnknownKeyId(f"no encryption key for kid {kid!r}", kid=kid, event_id=event_id)
        return entry.public

    def decryption_key(self, kid: str, *, event_id: str | None = None) -> Key:
        """The key to decrypt with: our private key (or the shared ``dir`` key)."""
        entry = self._entry(kid, event_id)
        if entry.use != "enc" or not entry.is_private:
            raise UnknownKeyId(f"no decryption key for kid {kid!r}", kid=kid, event_id=event_id)
        return entry.key

    def _entry(self, kid: Any, event_id: str | None) -> _Entry:
        entry = self._entries.get(kid) if isinstance(kid, str) else None
        if entry is None:
            shown = kid if isinstance(kid, str) and len(kid) <= 200 else type(kid).__name__
            raise UnknownKeyId(
                f"no key with kid {shown!r} in {self.origin}",
                kid=kid if isinstance(kid, str) else None,
                event_id=event_id,
            )
        return entry


_KEY_CLASSES: Final[dict[str, type[Key]]] = {"oct": OctKey, "EC": ECKey, "OKP": OKPKey, "RSA": RSAKey}


# ------------------------------------------------------------------ sources (thin)


class JwksSource(Protocol):
    """Where a JWKS comes from: ``read()`` returns the JWKS JSON text, ``description`` names the source."""

    @property
    def description(self) -> str: ...

    def read(self) -> str | bytes: ...


class KeyFileTooOpen(KeySetError):
    """A JWKS file holding secrets may be read (or written) by its group or others, and the caller asked for
    strictness (``load_keyset(..., strict_permissions=True)``). ``mode`` is the file's permission bits."""

    def __init__(self, message: str, *, path: str, mode: int) -> None:
        super().__init__(message)
        self.path = path
        self.mode = mode


class KeyFileTooOpenWarning(UserWarning):
    """The warning :func:`load_keyset` gives for a JWKS file holding secrets that its group or others may access
    (the same check as :class:`KeyFileTooOpen`, when the caller did not ask for strictness)."""


#: Permission bits a file holding secrets must not have: any access by the group or by others (as ssh checks).
_EXPOSING_BITS: Final = stat.S_IRWXG | stat.S_IRWXO


@dataclass(frozen=True, slots=True)
class JwksFile:
    """A JWKS JSON file on disk."""

    path: Path | str

    @property
    def description(self) -> str:
        return f"JWKS file {os.fspath(self.path)}"

    def read(self) -> bytes:
        return Path(self.path).read_bytes()

    @property
    def permissions_too_open(self) -> int | None:
        """The file's permission bits when its group or others have any access to it, else ``None`` (also when
        it cannot be read, and on Windows, whose permission bits mean nothing of the kind)."""
        if os.name == "nt":
            return None
        try:
            mode = stat.S_IMODE(os.stat(self.path).st_mode)
        except OSError:
            return None
        return mode if mode & _EXPOSING_BITS else None


@dataclass(frozen=True, slots=True)
class JwksEnvironment:
    """An environment variable whose value is JWKS JSON (e.g. injected by the deployment)."""

    variable: str
    environ: Mapping[str, str] | None = field(default=None, repr=False, compare=False)

    @property
    def description(self) -> str:
        return f"environment variable {self.variable}"

    def read(self) -> str:
        env = os.environ if self.environ is None else self.environ
        try:
            return env[self.variable]
        except KeyError:
            raise KeySetError(f"{self.description} is not set") from None


@dataclass(frozen=True, slots=True)
class JwksSecretsManager:
    """An AWS Secrets Manager secret whose ``SecretString`` is JWKS JSON.

    :param client: a boto3 ``secretsmanager`` client (pass one with ``endpoint_url`` for an emulator); by
        default ``boto3.client("secretsmanager")`` with the ambient configuration.
    """

    secret_id: str
    client: Any = field(default=None, repr=False, compare=False)
    version_stage: str | None = None

    @property
    def description(self) -> str:
        return f"secret {self.secret_id}"

    def read(self) -> str:
        client = self.client
        if client is None:
            import boto3  # deferred: only this source needs it

            client = boto3.client("secretsmanager")
        kwargs: dict[str, Any] = {"SecretId": self.secret_id}
        if self.version_stage is not None:
            kwargs["VersionStage"] = self.version_stage
        response = client.get_secret_value(**kwargs)
        value = response.get("SecretString")
        if not isinstance(value, str):
            raise KeySetError(f"{self.description} has no SecretString (binary secrets are not JWKS)")
        return value


def load_keyset(source: JwksSource, *, strict_permissions: bool = False) -> KeySet:
    """Read a JWKS from ``source`` and build the :class:`KeySet` (all checks in one place).

    A :class:`JwksFile` that holds secrets (:attr:`KeySet.holds_secrets`) and that its group or others may access
    gives a :class:`KeyFileTooOpenWarning`, or with ``strict_permissions`` raises :class:`KeyFileTooOpen`; the
    check is made after parsing, so a public JWKS is never subject to it.

    :raises KeySetError: naming the source (file path, variable name, secret id) and the kid.
    """
    try:
        text = source.read()
    except KeySetError:
        raise
    except OSError as err:
        raise KeySetError(f"{source.description}: cannot read ({err.strerror or type(err).__name__})") from None
    keys = KeySet.from_jwks(text, origin=source.description)
    if isinstance(source, JwksFile) and keys.holds_secrets:
        mode = source.permissions_too_open
        if mode is not None:
            path = os.fspath(source.path)
            message = (f"permissions {mode:04o} for {path!r} are too open: it holds secret keys (private or "
                       f"shared), which must not be accessible by others (chmod 600 {path})")
            if strict_permissions:
                raise KeyFileTooOpen(f"{message}; refused", path=path, mode=mode)
            warnings.warn(KeyFileTooOpenWarning(message), stacklevel=2)
    return keys


# ------------------------------------------------------------------ local key generation


def new_keyset(prefix: str = "eventdeck", *, rsa_key_size: int = 2048) -> KeySet:
    """Generate a key set for local use and tests, one key per algorithm eventdeck seals with.

    Kids are ``{prefix}-{purpose}-{8 hex}`` (a fresh suffix every call, so a second call is a rotation):
    ``hs256`` (oct, HS256), ``dir`` (oct, 256-bit, dir+A256GCM), ``es256`` (EC P-256), ``ecdh`` (EC P-256,
    ECDH-ES+A256KW), ``eddsa`` (OKP Ed25519, EdDSA), ``rs256`` (RSA, RS256) and ``rsa-oaep`` (a second RSA key,
    RSA-OAEP-256: one key is never used for both signing and encryption). Use :meth:`KeySet.kids_for` to find
    a kid by algorithm.
    """
    suffix = secrets.token_hex(4)

    def params(purpose: str, alg: str) -> Any:  # joserfc.KeyParameters (a TypedDict)
        return {"kid": f"{prefix}-{purpose}-{suffix}", "alg": alg, "use": _use_of(alg)}

    keys: list[Key] = [
        OctKey.generate_key(256, parameters=params("hs256", "HS256")),
        OctKey.generate_key(256, parameters=params("dir", "dir")),
        ECKey.generate_key("P-256", parameters=params("es256", "ES256")),
        ECKey.generate_key("P-256", parameters=params("ecdh", "ECDH-ES+A256KW")),
        OKPKey.generate_key("Ed25519", parameters=params("eddsa", "EdDSA")),
        RSAKey.generate_key(rsa_key_size, parameters=params("rs256", "RS256")),
        RSAKey.generate_key(rsa_key_size, parameters=params("rsa-oaep", "RSA-OAEP-256")),
    ]
    return KeySet(keys, origin=f"new key set {prefix}-*-{suffix}")


def write_jwks(keys: KeySet, *, private_path: Path | str | None = None, public_path: Path | str | None = None,
               replace: bool = True) -> None:
    """Write the private JWKS (mode 0600) and/or the public JWKS (what a producer publishes) as JSON files.

    Each file is written aside (already with its final mode) and renamed into place, so a reader sees the whole
    old file or the whole new one, never half a key set, and a symbolic link at the path is replaced, not
    followed. With ``replace=False`` an existing file is never replaced: :class:`FileExistsError` is raised, and
    a private file this call had already created is removed again (no half of a pair is left behind).

    :raises OSError: the folder is missing or not writable, or (``replace=False``) a file exists.
    """
    files = []
    if private_path is not None:
        files.append((Path(private_path), keys.to_jwks(private=True), 0o600))
    if public_path is not None:
        files.append((Path(public_path), keys.to_jwks(private=False), 0o644))
    created: list[Path] = []
    try:
        for path, jwks, mode in files:
            _write_atomically(path, (json.dumps(jwks, indent=2, sort_keys=True) + "\n").encode("utf-8"),
                              mode=mode, replace=replace)
            created.append(path)
    except BaseException:
        if not replace:
            for path in created:
                path.unlink(missing_ok=True)
        raise


def _write_atomically(path: Path, data: bytes, *, mode: int, replace: bool) -> None:
    # mkstemp creates the file 0600 with O_EXCL in the target's own folder (so the rename is atomic and never
    # crosses file systems); the final mode is set before a byte of key material is written.
    descriptor, staging = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            os.fchmod(handle.fileno(), mode)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if replace:
            os.replace(staging, path)
        else:
            try:
                os.link(staging, path)  # atomic, and fails if the path exists (even as a dangling symbolic link)
            except FileExistsError:
                raise
            except OSError:  # a file system without hard links: check, then rename (a narrow race, not a torn file)
                if os.path.lexists(path):
                    raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), os.fspath(path)) from None
                os.replace(staging, path)
            else:
                os.unlink(staging)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(staging)
        raise


def generate_key(kid: str, alg: str, *, rsa_key_size: int = 2048) -> Key:
    """A fresh private key for ``alg`` carrying ``kid`` (what a contract's ``x-sealing`` names)."""
    parameters: Any = {"kid": kid, "alg": alg, "use": _use_of(alg)}  # joserfc.KeyParameters (a TypedDict)
    if alg in ("HS256", "dir"):
        return OctKey.generate_key(256, parameters=parameters)
    if alg in ("ES256", "ECDH-ES+A256KW"):
        return ECKey.generate_key("P-256", parameters=parameters)
    if alg in ("EdDSA", "Ed25519"):
        return OKPKey.generate_key("Ed25519", parameters=parameters)
    if alg in ("RS256", "RSA-OAEP-256"):
        return RSAKey.generate_key(rsa_key_size, parameters=parameters)
    raise KeySetError(f"cannot generate a key for algorithm {alg!r} (kid {kid!r})")


def keyset_for(needed: Iterable[tuple[str, str]], *, origin: str = "generated for the contract") -> KeySet:
    """A key set with one fresh key per distinct ``(kid, alg)``; the same kid with two algorithms is refused."""
    algs: dict[str, str] = {}
    for kid, alg in needed:
        if algs.setdefault(kid, alg) != alg:
            raise KeySetError(f"kid {kid!r} is declared for both {algs[kid]} and {alg}; one key serves one algorithm")
    return KeySet([generate_key(kid, alg) for kid, alg in sorted(algs.items())], origin=origin)
