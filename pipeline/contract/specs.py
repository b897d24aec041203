"""The official AsyncAPI JSON Schemas, obtained reproducibly and used offline.

eventdeck validates every AsyncAPI document against the official JSON Schema of the version it declares.
Those schema files are not committed here: they come from the pinned npm package ``@asyncapi/specs`` (checked
against its SRI integrity before anything is read from it) and are cached per user, so every machine validates
against byte-identical schemas without the repository carrying a copy.

Order of sources, first hit wins:

1. the cache folder ``asyncapi-specs-<package version>/`` under ``$EVENTDECK_CACHE_DIR``, else
   ``$XDG_CACHE_HOME/eventdeck``, else ``~/.cache/eventdeck`` (trusted only once its marker file exists);
2. the tarball named by ``$EVENTDECK_ASYNCAPI_SPECS_TARBALL`` (for machines without npm);
3. ``npm pack @asyncapi/specs@<package version>``.

Validation never touches the network: every ``$ref`` inside the official schemas resolves to a definition that
the schema file embeds under its own ``$id``, and any other reference is refused.
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
import subprocess
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path
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


def cache_root() -> Path:
    """The per-user eventdeck cache folder (not created): ``$EVENTDECK_CACHE_DIR``, XDG, or ``~/.cache``."""
    if explicit := os.environ.get(CACHE_DIR_ENV):
        return Path(explicit)
    if xdg := os.environ.get("XDG_CACHE_HOME"):
        return Path(xdg) / "eventdeck"
    return Path.home() / ".cache" / "eventdeck"


def specs_dir() -> Path:
    """The folder holding ``<version>.json`` for every supported version, fetching it on first use.

    Safe to call from concurrent processes: each builds its own copy aside and renames it into place, and a
    process that loses that race uses the winner's copy.
    """
    target = cache_root() / f"asyncapi-specs-{SPECS_VERSION}"
    if _is_complete(target):
        return target
    with tempfile.TemporaryDirectory(prefix="eventdeck-specs-") as scratch:
        tarball = _locate_tarball(Path(scratch))
        _verify_integrity(tarball, SPECS_INTEGRITY)
        _install(tarball, target)
    return target


@functools.cache
def official_schema(version: str) -> dict[str, Any]:
    """The parsed official JSON Schema of AsyncAPI ``version``, memoised per process.

    The same dict is returned on every call: treat it as read-only.
    """
    _require_supported(version)
    path = specs_dir() / f"{version}.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise SpecsUnavailable(
            f"Cannot read the official AsyncAPI {version} schema at {path}: {error}. "
            f"Delete {path.parent} so that it is fetched again."
        ) from error


def official_registry(version: str) -> Registry:
    """A ``referencing`` registry that resolves every ``$ref`` of the official schema of ``version`` offline.

    The schema file embeds each definition under its own absolute ``$id``
    (``http://asyncapi.com/definitions/<version>/...``, bindings, extensions, and its own copy of the draft-07
    meta-schema that payload schemas refer to); the registry holds those. Any other URI raises
    ``RemoteReferenceRefused`` instead of being fetched (a lookup surfaces it as the cause of
    ``referencing.exceptions.Unresolvable``).
    """
    schema = official_schema(version)
    root = Resource.from_contents(schema, default_specification=DRAFT7)
    offline = Registry(retrieve=_refuse_retrieval).with_resource(schema["$id"], root)  # type: ignore[call-arg]
    return jsonschema_specifications.REGISTRY.combine(offline).crawl()


@functools.cache
def official_validator(version: str) -> Validator:
    """A ``jsonschema`` validator for AsyncAPI ``version`` (the draft its ``$schema`` names), memoised.

    Formats are annotations only (``jsonschema``'s default), matching ``official_fast_validator``.
    """
    schema = official_schema(version)
    cls = validator_for(schema, default=Draft7Validator)
    return cls(schema, registry=official_registry(version))


@functools.cache
def official_fast_validator(version: str) -> Callable[[Any], Any]:
    """A compiled validator for AsyncAPI ``version`` that raises on the first error, memoised.

    Use it as the fast path: it accepts exactly what ``official_validator`` accepts, but on failure it raises
    ``fastjsonschema.JsonSchemaValueException`` for one error only; re-run ``official_validator`` for the full
    list. It never fills in defaults and never fetches anything.

    Generating and compiling the code costs 0.3-0.8 s per version, so the compiled code object is cached beside
    the schemas (keyed by Python, fastjsonschema and this module's preparation) and loads in milliseconds.
    """
    cache = specs_dir() / f".fast-{version}-{_fast_cache_key()}.marshal"
    try:
        name, code = marshal.loads(cache.read_bytes())
    except (OSError, EOFError, ValueError, TypeError):
        name, code = _generate_fast_validator(version)
        with contextlib.suppress(OSError):  # a read-only cache only costs speed
            staging = cache.with_name(f"{cache.name}.{os.getpid()}.tmp")
            staging.write_bytes(marshal.dumps((name, code)))
            staging.replace(cache)
    return fastcode.load(name, code)  # type: ignore[no-any-return]


_FAST_PREPARATION = "2"  # bump when _compilable or the rewrite below changes


def _fast_cache_key() -> str:
    parts = f"{importlib.util.MAGIC_NUMBER.hex()}-{fastjsonschema.VERSION}-{_FAST_PREPARATION}-{SPECS_VERSION}"
    return hashlib.sha256(parts.encode()).hexdigest()[:16]


def _generate_fast_validator(version: str) -> tuple[str, Any]:
    schema = _compilable(official_schema(version), base="")
    refuse = {scheme: _refuse_retrieval for scheme in ("http", "https", "file", "ftp")}
    # `use_formats=False`: jsonschema does not assert `format` by default, and the two must agree.
    # `use_default=False`: otherwise the compiled code writes `default` values into the document it checks.
    try:
        return fastcode.generate(schema, filename=f"<asyncapi {version} validator>", handlers=refuse,
                                 use_formats=False, use_default=False)
    except ValueError as exc:
        raise SpecsUnavailable(str(exc)) from None


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


def _locate_tarball(scratch: Path) -> Path:
    if explicit := os.environ.get(TARBALL_ENV):
        tarball = Path(explicit)
        if not tarball.is_file():
            raise SpecsUnavailable(f"{TARBALL_ENV}={explicit} is not a file. {_HOW_TO_PROVIDE}")
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
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    staging.chmod(0o755)  # mkdtemp makes it private, but the cache may be shared (CI, a team's cache dir)
    try:
        _extract_schemas(tarball, staging)
        # Written last: a folder without it is never trusted, whatever else it holds.
        (staging / _MARKER).write_text(SPECS_INTEGRITY + "\n", encoding="utf-8")
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
        (destination / f"{version}.json").write_bytes(content)


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
