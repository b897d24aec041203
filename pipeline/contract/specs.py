"""The official AsyncAPI JSON Schemas, obtained reproducibly and used offline.

eventdeck validates every AsyncAPI document against the official JSON Schema of the version it declares.
Those schema files are not committed here: they come from the pinned npm package ``@asyncapi/specs`` (checked
against its SRI integrity before anything is read from it) and are cached per user, so every machine validates
against byte-identical schemas without the repository carrying a copy.

Where they come from is a :class:`SpecsSettings` value the caller passes; only :func:`settings_from_environment`
reads environment variables, and the edges (the CLI, the MkDocs plugin, scripts) call it. Order of sources, first
hit wins:

1. the cache folder ``asyncapi-specs-<package version>/`` under ``SpecsSettings.cache_dir`` (trusted only once
   its marker file exists);
2. the tarball ``SpecsSettings.tarball`` (for machines without npm);
3. ``npm pack @asyncapi/specs@<package version>``.

Validation never touches the network: every ``$ref`` inside the official schemas resolves to a definition that
the schema file embeds under its own ``$id``, and any other reference is refused.

The cache is private: its folders are created ``0700`` and its files ``0600``. The compiled fast validator cached
there is code that this process executes, so it is used only when it is bound to its source (a hash of the schema
bytes and of the generator, checked with a digest of the code) and when the file and its folder are owned by the
current user and writable by nobody else; otherwise it is regenerated.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import functools
import hashlib
import hmac
import importlib.util
import json
import marshal
import os
import re
import shutil
import stat
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import CodeType
from typing import Any, NoReturn
from urllib.parse import urljoin

import fastjsonschema
import jsonschema_specifications
from jsonschema.protocols import Validator
from jsonschema.validators import Draft7Validator, validator_for
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from . import fastcode
from .errors import ContractError, RefError, VersionError

SPECS_PACKAGE = "@asyncapi/specs"
SPECS_VERSION = "6.11.1"
# The npm registry's SRI integrity of the tarball above (`npm view @asyncapi/specs@6.11.1 dist.integrity`).
SPECS_INTEGRITY = (
    "sha512-A3WBLqAKGoJ2+6FWFtpjBlCQ1oFCcs4GxF7zsIGvNqp/klGUHjlA3aAcZ9XMMpLGE8zPeYDz2x9FmO6DSuKraQ=="
)

SUPPORTED_VERSIONS: tuple[str, ...] = (
    "2.0.0",
    "2.1.0",
    "2.2.0",
    "2.3.0",
    "2.4.0",
    "2.5.0",
    "2.6.0",
    "3.0.0",
    "3.1.0",
)
"""AsyncAPI versions whose official schema eventdeck validates against."""

CACHE_DIR_ENV = "EVENTDECK_CACHE_DIR"
TARBALL_ENV = "EVENTDECK_ASYNCAPI_SPECS_TARBALL"
NPM_TIMEOUT_SECONDS = 180

_MARKER = ".complete"
# Only `package/schemas/<x.y.z>.json` is read from the tarball; the `-without-$id` twins, README and the rest
# of the package are not needed, and a member that is anything else (`..`, absolute, a link) is never written.
_SCHEMA_MEMBER = re.compile(r"package/schemas/(\d+\.\d+\.\d+)\.json")
_MAX_SCHEMA_BYTES = 16 * 1024 * 1024
_HOW_TO_PROVIDE = (
    f"On a machine with npm, run `npm pack {SPECS_PACKAGE}@{SPECS_VERSION}` and point {TARBALL_ENV} at the "
    f"resulting asyncapi-specs-{SPECS_VERSION}.tgz (or install Node.js/npm here)."
)


class SpecsUnavailable(ContractError):
    """The official schemas could not be obtained; the message says what failed and what to do."""

    code = "specs-unavailable"


class SpecsIntegrityError(SpecsUnavailable):
    """A tarball did not match the pinned SRI integrity, so nothing was extracted from it."""

    code = "specs-integrity"


class RemoteReferenceRefused(RefError):
    """A ``$ref`` in an official schema pointed outside the schema file; validation stays offline."""

    code = "specs-remote-ref"


@dataclass(frozen=True)
class SpecsSettings:
    """Where the official schemas are cached, and which tarball to install them from on a machine without npm.

    ``tarball`` ``None``: fetch with ``npm pack``. Library code takes this value as given; build it from the
    environment with :func:`settings_from_environment` at the edges."""

    cache_dir: Path
    tarball: Path | None = None


def settings_from_environment(environ: Mapping[str, str] | None = None) -> SpecsSettings:
    """The settings the environment asks for (``os.environ`` by default).

    ``cache_dir``: ``$EVENTDECK_CACHE_DIR``, else ``$XDG_CACHE_HOME/eventdeck``, else ``~/.cache/eventdeck``;
    ``tarball``: ``$EVENTDECK_ASYNCAPI_SPECS_TARBALL`` if set. Nothing is created or checked here."""
    env = os.environ if environ is None else environ
    if explicit := env.get(CACHE_DIR_ENV):
        cache_dir = Path(explicit)
    elif xdg := env.get("XDG_CACHE_HOME"):
        cache_dir = Path(xdg) / "eventdeck"
    else:
        cache_dir = Path.home() / ".cache" / "eventdeck"
    tarball = env.get(TARBALL_ENV)
    return SpecsSettings(cache_dir, Path(tarball) if tarball else None)


def specs_dir(settings: SpecsSettings) -> Path:
    """The folder holding ``<version>.json`` for every supported version, fetching it on first use.

    Safe to call from concurrent processes: each builds its own copy aside and renames it into place, and a
    process that loses that race uses the winner's copy.
    """
    target = settings.cache_dir / f"asyncapi-specs-{SPECS_VERSION}"
    if _is_complete(target):
        return target
    with tempfile.TemporaryDirectory(prefix="eventdeck-specs-") as scratch:
        tarball = _locate_tarball(Path(scratch), settings.tarball)
        _verify_integrity(tarball, SPECS_INTEGRITY)
        _install(tarball, target)
    return target


@functools.cache
def official_schema(version: str, settings: SpecsSettings) -> dict[str, Any]:
    """The parsed official JSON Schema of AsyncAPI ``version``, memoised per process.

    The same dict is returned on every call: treat it as read-only.
    """
    try:
        return json.loads(_schema_source(version, settings))
    except ValueError as error:
        raise _unreadable(version, settings, error) from error


def _schema_source(version: str, settings: SpecsSettings) -> bytes:
    """The bytes of the official schema file of ``version``."""
    _require_supported(version)
    try:
        return (specs_dir(settings) / f"{version}.json").read_bytes()
    except OSError as error:
        raise _unreadable(version, settings, error) from error


def _unreadable(version: str, settings: SpecsSettings, error: Exception) -> SpecsUnavailable:
    path = specs_dir(settings) / f"{version}.json"
    return SpecsUnavailable(
        f"Cannot read the official AsyncAPI {version} schema at {path}: {error}. "
        f"Delete {path.parent} so that it is fetched again."
    )


def official_registry(version: str, settings: SpecsSettings) -> Registry:
    """A ``referencing`` registry that resolves every ``$ref`` of the official schema of ``version`` offline.

    The schema file embeds each definition under its own absolute ``$id``
    (``http://asyncapi.com/definitions/<version>/...``, bindings, extensions, and its own copy of the draft-07
    meta-schema that payload schemas refer to); the registry holds those. Any other URI raises
    ``RemoteReferenceRefused`` instead of being fetched (a lookup surfaces it as the cause of
    ``referencing.exceptions.Unresolvable``).
    """
    schema = official_schema(version, settings)
    root = Resource.from_contents(schema, default_specification=DRAFT7)
    offline = Registry(retrieve=_refuse_retrieval).with_resource(schema["$id"], root)  # type: ignore[call-arg]
    return jsonschema_specifications.REGISTRY.combine(offline).crawl()


@functools.cache
def official_validator(version: str, settings: SpecsSettings) -> Validator:
    """A ``jsonschema`` validator for AsyncAPI ``version`` (the draft its ``$schema`` names), memoised.

    Formats are annotations only (``jsonschema``'s default), matching ``official_fast_validator``.
    """
    schema = official_schema(version, settings)
    cls = validator_for(schema, default=Draft7Validator)
    return cls(schema, registry=official_registry(version, settings))


@functools.cache
def official_fast_validator(version: str, settings: SpecsSettings) -> Callable[[Any], Any]:
    """A compiled validator for AsyncAPI ``version`` that raises on the first error, memoised.

    Use it as the fast path: it accepts exactly what ``official_validator`` accepts, but on failure it raises
    ``fastjsonschema.JsonSchemaValueException`` for one error only; re-run ``official_validator`` for the full
    list. It never fills in defaults and never fetches anything. An object or array met twice in one call (a
    shared ``$ref`` target) is checked once per definition it is met under (:func:`fastcode.load_once_per_object`).

    Generating and compiling the code costs 0.3-0.8 s per version, so the compiled code object is cached beside
    the schemas and loads in milliseconds. That cache is executed, so it is used only when it is bound to this
    schema and generator and nobody but this user could have written it (:func:`_read_private`); anything else
    is regenerated here, and the cache rewritten if its folder is private.
    """
    folder = specs_dir(settings)
    name = f".fast-{version}.validator"
    source = _schema_source(version, settings)
    source_hash = _fast_source_hash(version, source)
    cached = _fast_code_from_cache(_read_private(folder, name), source_hash)
    if cached is not None:
        return fastcode.load_once_per_object(*cached)
    try:  # generated from the very bytes it is bound to
        schema = json.loads(source)
    except ValueError as error:
        raise _unreadable(version, settings, error) from error
    entry, code = _generate_fast_validator(version, schema)
    _write_private(folder, name, _fast_cache_blob(source_hash, entry, code))
    for unbound in folder.glob(f".fast-{version}-*.marshal"):  # the layout before validators were bound
        with contextlib.suppress(OSError):
            unbound.unlink()
    return fastcode.load_once_per_object(entry, code)


# Bump when _compilable, fastcode's rewrite or the cache layout changes: every cached validator is regenerated.
_FAST_GENERATOR = "eventdeck-fast-validator/3"


def _fast_source_hash(version: str, schema_source: bytes) -> bytes:
    """What a compiled validator is derived from: the schema's bytes, the generator and the bytecode format."""
    generator = f"{_FAST_GENERATOR} {importlib.util.MAGIC_NUMBER.hex()} fastjsonschema-{fastjsonschema.VERSION} "
    digest = hashlib.sha256(f"{generator}{version}\0".encode())
    digest.update(schema_source)
    return digest.hexdigest().encode("ascii")


def _fast_cache_blob(source_hash: bytes, entry: str, code: CodeType) -> bytes:
    """The cache file: the generator, the source hash, a digest of the marshalled code, then the code."""
    payload = marshal.dumps((entry, code))
    digest = hashlib.sha256(payload).hexdigest().encode("ascii")
    return b"\n".join((_FAST_GENERATOR.encode("ascii"), source_hash, digest, payload))


def _fast_code_from_cache(blob: bytes | None, source_hash: bytes) -> tuple[str, CodeType] | None:
    """``(entry, code)`` from a cache file written by :func:`_fast_cache_blob` for this very source, else None
    (another source or generator, changed or truncated bytes)."""
    if blob is None:
        return None
    # The header is a few hundred bytes; the code (megabytes) is read through a view, not copied.
    header = blob[:512].split(b"\n", 3)
    if len(header) != 4 or header[0] != _FAST_GENERATOR.encode("ascii") or header[1] != source_hash:
        return None
    code_bytes = memoryview(blob)[sum(len(part) + 1 for part in header[:3]):]
    if not hmac.compare_digest(hashlib.sha256(code_bytes).hexdigest().encode("ascii"), header[2]):
        return None
    try:
        entry, code = marshal.loads(code_bytes)
    except (EOFError, ValueError, TypeError):
        return None
    return (entry, code) if isinstance(entry, str) and isinstance(code, CodeType) else None


def _generate_fast_validator(version: str, official: dict[str, Any]) -> tuple[str, CodeType]:
    schema = _compilable(official, base="")
    refuse = {scheme: _refuse_retrieval for scheme in ("http", "https", "file", "ftp")}
    # `use_formats=False`: jsonschema does not assert `format` by default, and the two must agree.
    # `use_default=False`: otherwise the compiled code writes `default` values into the document it checks.
    try:
        return fastcode.generate(schema, filename=f"<asyncapi {version} validator>", handlers=refuse,
                                 use_formats=False, use_default=False)
    except ValueError as exc:
        raise SpecsUnavailable(str(exc)) from None


# --- the private cache --------------------------------------------------------------------------------------

_WRITABLE_BY_OTHERS = stat.S_IWGRP | stat.S_IWOTH
_OPEN_DIRECTORY = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0)
_OPEN_FILE = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)


def _private(status: os.stat_result) -> bool:
    """Owned by the current user and writable by nobody else (group and others)."""
    return status.st_uid == os.getuid() and not status.st_mode & _WRITABLE_BY_OTHERS


def _read_private(folder: Path, name: str) -> bytes | None:
    """The bytes of ``folder/name`` if the file and the folder are private (:func:`_private`), else None.

    Both are checked on the open descriptors, so neither can be swapped between the check and the read; links
    are not followed. Where there is no notion of an owning user (no ``os.getuid``), nothing is trusted."""
    if not hasattr(os, "getuid"):
        return None
    try:
        directory = os.open(folder, _OPEN_DIRECTORY)
    except OSError:
        return None
    try:
        if not (stat.S_ISDIR((status := os.fstat(directory)).st_mode) and _private(status)):
            return None
        with open(os.open(name, _OPEN_FILE, dir_fd=directory), "rb") as stream:
            status = os.fstat(stream.fileno())
            return stream.read() if stat.S_ISREG(status.st_mode) and _private(status) else None
    except OSError:
        return None
    finally:
        os.close(directory)


def _write_private(folder: Path, name: str, data: bytes) -> None:
    """Replace ``folder/name`` atomically with ``data``, mode 0600, if ``folder`` is private; else do nothing.

    Writing into a folder others can write to would be pointless: :func:`_read_private` never trusts it. Failing
    to write (a read-only cache) only costs speed."""
    if not hasattr(os, "getuid"):
        return
    try:
        status = os.lstat(folder)
        if not (stat.S_ISDIR(status.st_mode) and _private(status)):
            return
        descriptor, staging = tempfile.mkstemp(prefix=f"{name}.", suffix=".tmp", dir=folder)  # created 0600
    except OSError:
        return
    try:
        with open(descriptor, "wb") as stream:
            stream.write(data)
        os.replace(staging, folder / name)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(staging)


# Draft-07 keywords whose values are schemas; every other keyword holds data (`enum`, `const`, `examples`...).
_SCHEMA_KEYWORDS = (
    "additionalItems", "additionalProperties", "contains", "propertyNames", "if", "then", "else", "not",
    "items",
)
_SCHEMA_LIST_KEYWORDS = ("allOf", "anyOf", "oneOf", "items")
_SCHEMA_MAP_KEYWORDS = ("properties", "patternProperties", "definitions", "dependencies")
_ANNOTATIONS = frozenset({"title", "description", "examples", "default", "$comment"})


def _compilable(node: Any, base: str) -> Any:
    """A copy of a draft-07 schema that fastjsonschema 2.x compiles correctly.

    Two fastjsonschema behaviours need it. It resolves a relative ``$ref`` found in a list (``allOf:
    [{$ref: "#/definitions/x"}]``) against the root document instead of the nearest enclosing ``$id``, which
    breaks the embedded draft-07 meta-schema; so every ``$ref`` is made absolute here. And it dereferences
    every ``$ref`` in the schema text, even in example documents under ``examples``
    (``#/components/schemas/Pet``), to quote it in error messages; annotations never affect validation, so
    they are dropped.
    """
    if not isinstance(node, dict):
        return copy.deepcopy(node)
    if isinstance(node.get("$id"), str):
        base = urljoin(base, node["$id"])
    out = {key: copy.deepcopy(value) for key, value in node.items() if key not in _ANNOTATIONS}
    if isinstance(node.get("$ref"), str):
        out["$ref"] = urljoin(base, node["$ref"])
    for key in _SCHEMA_KEYWORDS:
        if isinstance(node.get(key), dict):
            out[key] = _compilable(node[key], base)
    for key in _SCHEMA_LIST_KEYWORDS:
        if isinstance(node.get(key), list):
            out[key] = [_compilable(item, base) for item in node[key]]
    for key in _SCHEMA_MAP_KEYWORDS:
        if isinstance(node.get(key), dict):
            out[key] = {name: _compilable(item, base) for name, item in node[key].items()}
    return out


def _require_supported(version: str) -> None:
    if version not in SUPPORTED_VERSIONS:
        raise VersionError(
            f"AsyncAPI version {version!r} has no official schema here; supported versions are "
            f"{', '.join(SUPPORTED_VERSIONS)}. Declare one of them in the document's `asyncapi` field."
        )


def _refuse_retrieval(uri: str) -> NoReturn:
    raise RemoteReferenceRefused(
        f"Refusing to fetch {uri!r}: the official AsyncAPI schemas are resolved offline and this URI is not "
        f"embedded in them. This is a bug in eventdeck or a changed {SPECS_PACKAGE} package, not in your "
        "document."
    )


def _is_complete(folder: Path) -> bool:
    marker = folder / _MARKER
    try:
        return marker.read_text(encoding="utf-8").strip() == SPECS_INTEGRITY
    except OSError:
        return False


def _locate_tarball(scratch: Path, tarball: Path | None) -> Path:
    if tarball is not None:
        if not tarball.is_file():
            raise SpecsUnavailable(f"The {SPECS_PACKAGE} tarball {tarball} is not a file. {_HOW_TO_PROVIDE}")
        return tarball
    return _npm_pack(scratch)


def _npm_pack(destination: Path) -> Path:
    npm = shutil.which("npm")
    spec = f"{SPECS_PACKAGE}@{SPECS_VERSION}"
    if npm is None:
        raise SpecsUnavailable(
            f"The official AsyncAPI schemas are not cached yet and npm is not on PATH to fetch {spec}. "
            f"{_HOW_TO_PROVIDE}"
        )
    # --prefer-offline: once npm's own cache holds this exact, immutable version, no network request is made.
    command = [npm, "pack", spec, "--pack-destination", str(destination), "--json", "--prefer-offline"]
    try:
        # cwd: a neutral folder, so a project's own package.json or .npmrc cannot change what is packed.
        done = subprocess.run(
            command, cwd=destination, capture_output=True, text=True, timeout=NPM_TIMEOUT_SECONDS, check=False
        )
    except subprocess.TimeoutExpired as error:
        raise SpecsUnavailable(
            f"`npm pack {spec}` did not finish within {NPM_TIMEOUT_SECONDS} s. {_HOW_TO_PROVIDE}"
        ) from error
    except OSError as error:
        raise SpecsUnavailable(f"Could not run npm ({npm}): {error}. {_HOW_TO_PROVIDE}") from error
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip()[-2000:]
        raise SpecsUnavailable(
            f"`npm pack {spec}` failed with exit code {done.returncode}: {detail}\n{_HOW_TO_PROVIDE}"
        )
    tarballs = sorted(destination.glob("*.tgz"))
    if len(tarballs) != 1:
        raise SpecsUnavailable(
            f"`npm pack {spec}` succeeded but left {len(tarballs)} tarballs in {destination}. "
            f"{_HOW_TO_PROVIDE}"
        )
    return tarballs[0]


def _verify_integrity(tarball: Path, expected: str) -> None:
    algorithm, _, want = expected.partition("-")
    digest = hashlib.new(algorithm)
    with tarball.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    got = base64.b64encode(digest.digest()).decode("ascii")
    if not hmac.compare_digest(got, want):
        raise SpecsIntegrityError(
            f"{tarball} is not {SPECS_PACKAGE}@{SPECS_VERSION}: its integrity is {algorithm}-{got}, "
            f"expected {expected}. Nothing was extracted. Obtain the genuine tarball "
            f"(`npm pack {SPECS_PACKAGE}@{SPECS_VERSION}`) and try again."
        )


def _install(tarball: Path, target: Path) -> None:
    # Private: the cache holds code this process executes (the compiled validators), so it is nobody else's.
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))  # created 0700
    try:
        _extract_schemas(tarball, staging)
        # Written last: a folder without it is never trusted, whatever else it holds.
        _create_private(staging / _MARKER, (SPECS_INTEGRITY + "\n").encode("utf-8"))
        _rename_into_place(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _extract_schemas(tarball: Path, destination: Path) -> None:
    wanted = set(SUPPORTED_VERSIONS)
    found: dict[str, bytes] = {}
    try:
        with tarfile.open(tarball, "r:gz") as archive:
            for member in archive:
                match = _SCHEMA_MEMBER.fullmatch(member.name)
                if not (match and member.isfile() and match[1] in wanted):
                    continue
                if member.size > _MAX_SCHEMA_BYTES:
                    raise SpecsUnavailable(f"{tarball}: {member.name} is too large: {member.size} B.")
                stream = archive.extractfile(member)
                if stream is not None:
                    found[match[1]] = stream.read()
    except (OSError, tarfile.TarError) as error:
        message = f"{tarball} is not a readable npm tarball ({error}). {_HOW_TO_PROVIDE}"
        raise SpecsUnavailable(message) from error
    missing = sorted(wanted - found.keys())
    if missing:
        raise SpecsUnavailable(
            f"{tarball} lacks package/schemas/{{{','.join(missing)}}}.json: it is not "
            f"{SPECS_PACKAGE}@{SPECS_VERSION}. {_HOW_TO_PROVIDE}"
        )
    for version, content in found.items():
        # The file name is rebuilt from the matched version, never taken from the archive.
        _create_private(destination / f"{version}.json", content)


def _create_private(path: Path, content: bytes) -> None:
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as stream:
        stream.write(content)


def _rename_into_place(staging: Path, target: Path) -> None:
    try:
        staging.rename(target)
        return
    except OSError:
        if _is_complete(target):
            return  # another process won the race with an identical copy
    # A stale, incomplete folder (an interrupted older layout, a manual copy): move it aside, then retry once.
    aside = Path(tempfile.mkdtemp(prefix=f".{target.name}.stale.", dir=target.parent))
    with contextlib.suppress(OSError):  # someone else may have moved it first
        target.rename(aside / "old")
    shutil.rmtree(aside, ignore_errors=True)
    try:
        staging.rename(target)
    except OSError as error:
        if not _is_complete(target):
            raise SpecsUnavailable(
                f"Could not place the official AsyncAPI schemas at {target}: {error}. "
                f"Check that {target.parent} is writable, or set {CACHE_DIR_ENV} to a folder that is."
            ) from error
