"""The official AsyncAPI schemas: obtained from the pinned npm package, verified, cached, used offline."""

from __future__ import annotations

import base64
import copy
import hashlib
import io
import json
import marshal
import os
import random
import stat
import tarfile
import threading
from dataclasses import replace
from pathlib import Path

import fastjsonschema
import pytest
import referencing.exceptions
import yaml
from jsonschema.validators import Draft7Validator

from pipeline.contract import ContractLoader, specs
from pipeline.contract.errors import ContractError, VersionError

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "asyncapi"


# --- fixtures -----------------------------------------------------------------------------------------------


def _forget_memoised() -> None:
    for memoised in (specs.official_schema, specs.official_validator, specs.official_fast_validator):
        memoised.cache_clear()


@pytest.fixture(autouse=True)
def isolated_specs():
    """Each test sees nothing memoised by another."""
    _forget_memoised()
    yield
    _forget_memoised()


@pytest.fixture
def settings(tmp_path) -> specs.SpecsSettings:
    """An empty cache of this test's own, no tarball: npm would be asked."""
    return specs.SpecsSettings(tmp_path / "cache")


@pytest.fixture(scope="session")
def official(tmp_path_factory) -> specs.SpecsSettings:
    """The genuine schemas, in a cache filled once per session as a user's is: by npm, or from the tarball the
    environment names."""
    genuine = replace(specs.settings_from_environment(), cache_dir=tmp_path_factory.mktemp("genuine-specs-cache"))
    specs.specs_dir(genuine)
    return genuine


def _sri(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode("ascii")


def _fake_schema(version: str) -> bytes:
    schema_id = f"http://asyncapi.com/definitions/{version}/asyncapi.json"
    return json.dumps({"$id": schema_id, "type": "object", "fake": True}).encode()


def _tarball(path: Path, files: dict[str, bytes], symlinks: dict[str, str] | None = None) -> str:
    """Write an npm-style .tgz with these members; return its SRI integrity."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
        for name, target in (symlinks or {}).items():
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            archive.addfile(info)
    path.write_bytes(buffer.getvalue())
    return _sri(buffer.getvalue())


def _complete_fake_members() -> dict[str, bytes]:
    return {f"package/schemas/{v}.json": _fake_schema(v) for v in specs.SUPPORTED_VERSIONS}


@pytest.fixture
def trusted_fake_tarball(tmp_path, monkeypatch) -> Path:
    """A small tarball with every supported version, pinned as if it were the genuine package."""
    path = tmp_path / "fake-specs.tgz"
    monkeypatch.setattr(specs, "SPECS_INTEGRITY", _tarball(path, _complete_fake_members()))
    return path


@pytest.fixture
def fake(settings, trusted_fake_tarball) -> specs.SpecsSettings:
    """The test's own cache, installed from the trusted fake tarball."""
    return replace(settings, tarball=trusted_fake_tarball)


def _specs_target(settings: specs.SpecsSettings) -> Path:
    return settings.cache_dir / f"asyncapi-specs-{specs.SPECS_VERSION}"


# --- obtaining the schemas ----------------------------------------------------------------------------------


def test_tarball_with_wrong_integrity_is_refused_before_anything_is_extracted(settings, tmp_path):
    bogus = tmp_path / "asyncapi-specs-6.11.1.tgz"
    _tarball(bogus, _complete_fake_members())

    with pytest.raises(specs.SpecsIntegrityError, match="expected sha512-A3WBLqAK") as raised:
        specs.specs_dir(replace(settings, tarball=bogus))

    assert isinstance(raised.value, ContractError)
    assert str(bogus) in str(raised.value)
    assert not settings.cache_dir.exists() or not any(settings.cache_dir.iterdir())


def test_members_outside_package_schemas_are_never_written(settings, tmp_path, monkeypatch):
    members = _complete_fake_members()
    members["package/schemas/../../../escaped.json"] = b"{}"
    members["../escaped.json"] = b"{}"
    members["package/schemas/2.6.0-without-$id.json"] = b"{}"
    members["package/README.md"] = b"# not needed"
    # A link named like a schema must not replace the regular file read before it.
    links = {"package/schemas/3.1.0.json": "../../../../etc/passwd"}
    tarball = tmp_path / "crafted.tgz"
    monkeypatch.setattr(specs, "SPECS_INTEGRITY", _tarball(tarball, members, links))

    folder = specs.specs_dir(replace(settings, tarball=tarball))

    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [".complete", *(f"{v}.json" for v in specs.SUPPORTED_VERSIONS)]
    )
    assert (folder / "3.1.0.json").read_bytes() == _fake_schema("3.1.0")
    assert not list(tmp_path.rglob("escaped.json"))


def test_tarball_lacking_a_supported_version_is_refused(settings, tmp_path, monkeypatch):
    members = _complete_fake_members()
    del members["package/schemas/3.0.0.json"]
    tarball = tmp_path / "partial.tgz"
    monkeypatch.setattr(specs, "SPECS_INTEGRITY", _tarball(tarball, members))

    with pytest.raises(specs.SpecsUnavailable, match=r"lacks package/schemas/\{3\.0\.0\}\.json"):
        specs.specs_dir(replace(settings, tarball=tarball))
    assert not _specs_target(settings).exists()


def test_filled_cache_is_reused_without_npm_or_tarball(fake, tmp_path, monkeypatch):
    first = specs.specs_dir(fake)
    installed = (first / "2.6.0.json").stat().st_mtime_ns
    empty_path = tmp_path / "no-tools"
    empty_path.mkdir()
    monkeypatch.setenv("PATH", str(empty_path))

    assert specs.specs_dir(replace(fake, tarball=None)) == first
    assert (first / "2.6.0.json").stat().st_mtime_ns == installed


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX permissions")
def test_the_cache_is_private_to_its_user(fake):
    folder = specs.specs_dir(fake)

    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE(fake.cache_dir.stat().st_mode) == 0o700
    assert {stat.S_IMODE(p.stat().st_mode) for p in folder.iterdir()} == {0o600}


def test_without_npm_the_error_says_how_to_provide_the_tarball(settings, tmp_path, monkeypatch):
    empty_path = tmp_path / "no-tools"
    empty_path.mkdir()
    monkeypatch.setenv("PATH", str(empty_path))

    with pytest.raises(specs.SpecsUnavailable) as raised:
        specs.specs_dir(settings)

    message = str(raised.value)
    assert "npm is not on PATH" in message
    assert specs.TARBALL_ENV in message
    assert "npm pack @asyncapi/specs@6.11.1" in message


def test_missing_tarball_is_reported(settings, tmp_path):
    with pytest.raises(specs.SpecsUnavailable, match=r"nowhere\.tgz is not a file"):
        specs.specs_dir(replace(settings, tarball=tmp_path / "nowhere.tgz"))


def test_folder_without_marker_is_not_trusted_and_is_replaced(fake):
    half_extracted = _specs_target(fake)
    half_extracted.mkdir(parents=True)
    (half_extracted / "2.0.0.json").write_text("{ truncated")

    folder = specs.specs_dir(fake)

    assert (folder / ".complete").is_file()
    assert (folder / "2.0.0.json").read_bytes() == _fake_schema("2.0.0")


def test_concurrent_installs_leave_one_complete_copy_and_no_debris(fake):
    start = threading.Barrier(6)
    failures: list[BaseException] = []

    def install() -> None:
        start.wait()
        try:
            specs._install(fake.tarball, _specs_target(fake))
        except BaseException as error:  # collected and asserted below
            failures.append(error)

    workers = [threading.Thread(target=install) for _ in range(6)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert failures == []
    assert [p.name for p in fake.cache_dir.iterdir()] == [_specs_target(fake).name]
    assert specs.specs_dir(fake) == _specs_target(fake)


# --- where the settings come from ---------------------------------------------------------------------------


def test_settings_from_the_environment_prefer_the_eventdeck_cache_dir(tmp_path):
    environ = {specs.CACHE_DIR_ENV: str(tmp_path / "mine"), "XDG_CACHE_HOME": str(tmp_path / "xdg"),
               specs.TARBALL_ENV: str(tmp_path / "specs.tgz")}

    assert specs.settings_from_environment(environ) == specs.SpecsSettings(tmp_path / "mine", tmp_path / "specs.tgz")


def test_settings_from_the_environment_fall_back_to_xdg_then_home(tmp_path):
    xdg = specs.settings_from_environment({"XDG_CACHE_HOME": str(tmp_path / "xdg")})
    home = specs.settings_from_environment({})

    assert xdg == specs.SpecsSettings(tmp_path / "xdg" / "eventdeck", None)
    assert home == specs.SpecsSettings(Path.home() / ".cache" / "eventdeck", None)


def test_the_loader_reads_the_environment_when_given_no_settings(tmp_path, monkeypatch):
    monkeypatch.setenv(specs.CACHE_DIR_ENV, str(tmp_path / "from-env"))
    monkeypatch.delenv(specs.TARBALL_ENV, raising=False)
    explicit = specs.SpecsSettings(tmp_path / "explicit")

    assert ContractLoader().specs_settings == specs.SpecsSettings(tmp_path / "from-env")
    assert ContractLoader(specs_settings=explicit).specs_settings == explicit


# --- the compiled fast validator: cached, but never executed from a cache others could have written ---------

POSIX_ONLY = pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX owners and permissions")

_PLANTED = """
open({marker!r}, "w").write("planted code ran")
def validate(data, custom_formats={{}}, name_prefix=None):
    return data
"""


def _cache_written_by(settings: specs.SpecsSettings, version: str = "2.6.0") -> Path:
    """Compile the validator once (writing its cache) and return the cache file that call added."""
    folder = specs.specs_dir(settings)
    before = set(folder.iterdir())
    specs.official_fast_validator(version, settings)
    _forget_memoised()
    (added,) = set(folder.iterdir()) - before
    return added


def _plant(cache: Path, marker: Path) -> bytes:
    """Replace the cache's code with code that writes ``marker``, still bound to the same source and with a
    matching digest: exactly what eventdeck itself would have written for that code. Returns the bytes."""
    generator, source_hash, _digest, _code = cache.read_bytes().split(b"\n", 3)
    code = marshal.dumps(("validate", compile(_PLANTED.format(marker=str(marker)), "<planted>", "exec")))
    planted = b"\n".join((generator, source_hash, hashlib.sha256(code).hexdigest().encode(), code))
    cache.write_bytes(planted)
    return planted


def _rejects_non_objects(validator) -> bool:
    try:
        validator([])
    except fastjsonschema.JsonSchemaValueException:
        return True
    return False


@POSIX_ONLY
def test_the_compiled_validator_is_cached_privately_and_what_is_cached_runs(fake, tmp_path):
    cache = _cache_written_by(fake)
    marker = tmp_path / "ran"
    _plant(cache, marker)

    specs.official_fast_validator("2.6.0", fake)

    # The control for the tests below: a private cache bound to its source is what runs, so a planted file that
    # does not run was refused, not ignored.
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600
    assert marker.read_text() == "planted code ran"


@POSIX_ONLY
def test_a_tampered_cache_file_is_not_executed_and_is_regenerated(fake, tmp_path):
    cache = _cache_written_by(fake)
    generator, source_hash, digest, _code = cache.read_bytes().split(b"\n", 3)
    marker = tmp_path / "ran"
    evil = marshal.dumps(("validate", compile(_PLANTED.format(marker=str(marker)), "<planted>", "exec")))
    tampered = b"\n".join((generator, source_hash, digest, evil))  # same name, same header, other code
    cache.write_bytes(tampered)

    validator = specs.official_fast_validator("2.6.0", fake)

    assert not marker.exists()
    assert _rejects_non_objects(validator)
    assert cache.read_bytes() != tampered
    specs.official_fast_validator.cache_clear()
    specs.official_fast_validator("2.6.0", fake)
    assert not marker.exists()


@POSIX_ONLY
def test_a_cache_file_others_can_write_is_not_trusted_and_is_replaced_privately(fake, tmp_path):
    cache = _cache_written_by(fake)
    marker = tmp_path / "ran"
    planted = _plant(cache, marker)
    cache.chmod(0o666)

    validator = specs.official_fast_validator("2.6.0", fake)

    assert not marker.exists()
    assert _rejects_non_objects(validator)
    assert cache.read_bytes() != planted
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600


@POSIX_ONLY
def test_a_cache_folder_others_can_write_is_not_trusted_and_not_written_to(fake, tmp_path):
    cache = _cache_written_by(fake)
    marker = tmp_path / "ran"
    planted = _plant(cache, marker)
    cache.parent.chmod(0o777)

    validator = specs.official_fast_validator("2.6.0", fake)

    assert not marker.exists()
    assert _rejects_non_objects(validator)
    assert cache.read_bytes() == planted  # regenerated in memory only: this folder is not a safe place for code


@POSIX_ONLY
@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="changing owners needs root")
@pytest.mark.parametrize("owned_by_another", ["file", "folder"])
def test_a_cache_owned_by_another_user_is_not_trusted(fake, tmp_path, owned_by_another):
    cache = _cache_written_by(fake)
    marker = tmp_path / "ran"
    _plant(cache, marker)
    nobody = 65534
    os.chown(cache if owned_by_another == "file" else cache.parent, nobody, nobody)

    validator = specs.official_fast_validator("2.6.0", fake)

    assert not marker.exists()
    assert _rejects_non_objects(validator)


@POSIX_ONLY
def test_a_cache_file_that_is_a_link_is_not_followed(fake, tmp_path):
    cache = _cache_written_by(fake)
    marker = tmp_path / "ran"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.write_bytes(cache.read_bytes())
    elsewhere.chmod(0o600)
    _plant(elsewhere, marker)
    cache.unlink()
    cache.symlink_to(elsewhere)

    specs.official_fast_validator("2.6.0", fake)

    assert not marker.exists()


@POSIX_ONLY
def test_a_cache_bound_to_another_source_is_regenerated_from_the_current_one(fake, tmp_path):
    cache = _cache_written_by(fake)
    marker = tmp_path / "ran"
    _plant(cache, marker)
    schema_file = specs.specs_dir(fake) / "2.6.0.json"
    schema = json.loads(schema_file.read_bytes())
    schema["required"] = ["asyncapi"]
    schema_file.write_text(json.dumps(schema))  # the cache was bound to the schema's old bytes

    validator = specs.official_fast_validator("2.6.0", fake)

    assert not marker.exists()
    with pytest.raises(fastjsonschema.JsonSchemaValueException, match="must contain"):
        validator({})
    validator({"asyncapi": "2.6.0"})


@POSIX_ONLY
def test_without_user_ids_a_cached_validator_is_never_trusted(fake, tmp_path, monkeypatch):
    cache = _cache_written_by(fake)
    marker = tmp_path / "ran"
    _plant(cache, marker)
    monkeypatch.delattr(os, "getuid", raising=False)

    validator = specs.official_fast_validator("2.6.0", fake)

    assert not marker.exists()
    assert _rejects_non_objects(validator)


# --- the schemas themselves ---------------------------------------------------------------------------------


@pytest.mark.parametrize("version", specs.SUPPORTED_VERSIONS)
def test_every_supported_version_has_its_official_schema(official, version):
    schema = specs.official_schema(version, official)

    assert schema["$id"] == f"http://asyncapi.com/definitions/{version}/asyncapi.json"
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema"
    assert specs.official_schema(version, official) is schema  # memoised


@pytest.mark.parametrize("version", ["1.2.0", "2.7.0", "3.0", "4.0.0"])
def test_unknown_version_is_a_version_error_naming_the_supported_ones(settings, version):
    with pytest.raises(VersionError, match=r"supported versions are 2\.0\.0, 2\.1\.0") as raised:
        specs.official_schema(version, settings)
    assert repr(version) in str(raised.value)
    with pytest.raises(VersionError):
        specs.official_validator(version, settings)


MINIMAL_26 = {
    "asyncapi": "2.6.0",
    "info": {"title": "Payments", "version": "1.0.0"},
    "channels": {
        "payments": {
            "subscribe": {"message": {"name": "Payment.Authorised.Ecom", "payload": {"type": "object"}}},
        },
    },
}
MINIMAL_30 = {
    "asyncapi": "3.0.0",
    "info": {"title": "Payments", "version": "1.0.0"},
    "channels": {
        "payments": {
            "address": "payments",
            "messages": {"authorised": {"name": "Payment.Authorised.Ecom", "payload": {"type": "object"}}},
        },
    },
    "operations": {
        "onAuthorised": {
            "action": "receive",
            "channel": {"$ref": "#/channels/payments"},
            "messages": [{"$ref": "#/channels/payments/messages/authorised"}],
        },
    },
}
MINIMAL = {"2.6.0": MINIMAL_26, "3.0.0": MINIMAL_30}


@pytest.mark.parametrize("version", MINIMAL)
def test_minimal_document_is_valid(official, version):
    validator = specs.official_validator(version, official)

    assert isinstance(validator, Draft7Validator)
    assert list(validator.iter_errors(MINIMAL[version])) == []
    specs.official_fast_validator(version, official)(copy.deepcopy(MINIMAL[version]))


@pytest.mark.parametrize("version", MINIMAL)
def test_obviously_invalid_document_is_rejected_with_every_error(official, version):
    broken = copy.deepcopy(MINIMAL[version])
    del broken["info"]
    broken["channels"] = ["payments"]

    messages = [error.message for error in specs.official_validator(version, official).iter_errors(broken)]

    assert "'info' is a required property" in messages
    assert any("is not of type 'object'" in message for message in messages)
    with pytest.raises(fastjsonschema.JsonSchemaValueException):
        specs.official_fast_validator(version, official)(broken)


def test_fast_validator_never_writes_defaults_into_the_document(official):
    document = copy.deepcopy(MINIMAL_26)

    specs.official_fast_validator("2.6.0", official)(document)

    assert document == MINIMAL_26


def test_references_outside_the_official_schema_are_refused_not_fetched(official):
    resolver = specs.official_registry("3.0.0", official).resolver()
    info = resolver.lookup("http://asyncapi.com/definitions/3.0.0/info.json").contents
    assert info["$id"] == "http://asyncapi.com/definitions/3.0.0/info.json"
    # Payload schemas may `$ref` the draft-07 meta-schema; the schema file embeds its own copy of it.
    meta = resolver.lookup("http://json-schema.org/draft-07/schema#").contents
    assert meta["$id"] == "http://json-schema.org/draft-07/schema"

    with pytest.raises(referencing.exceptions.Unresolvable) as raised:
        resolver.lookup("https://example.com/schemas/evil.json")

    causes = []
    error: BaseException | None = raised.value
    while error is not None:
        causes.append(error)
        error = error.__cause__
    assert any(isinstance(cause, specs.RemoteReferenceRefused) for cause in causes)


# --- fast path agrees with jsonschema -----------------------------------------------------------------------


_FAST_YAML = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _corpus_documents() -> list[tuple[str, str, object]]:
    found = []
    for path in sorted(CORPUS.glob("*valid/**/*")):
        if path.suffix not in {".yml", ".yaml", ".json"}:
            continue
        try:
            document = yaml.load(path.read_text(encoding="utf-8"), Loader=_FAST_YAML)
        except yaml.YAMLError:
            continue  # unparseable on purpose (invalid/pjs-malformed-asyncapi.yaml)
        if isinstance(document, dict) and str(document.get("asyncapi")) in specs.SUPPORTED_VERSIONS:
            # JSON round trip: PyYAML turns unquoted dates into datetime objects, which are not JSON.
            found.append((str(path.relative_to(CORPUS)), str(document["asyncapi"]), json.loads(
                json.dumps(document, default=str))))
    return found


def _mutants(document: object, rng: random.Random, count: int):
    """Copies of ``document`` with one value replaced, deleted or added somewhere: many error paths."""
    replacements = [None, 1, -3, 2.5, "x", "", True, [], {}, ["a"], {"a": 1}, {"$ref": "#/x"}, {"x-a": 1}]
    for _ in range(count):
        mutant = copy.deepcopy(document)
        parent, key = None, None
        node = mutant
        for _depth in range(rng.randint(1, 8)):
            if isinstance(node, dict) and node:
                parent, key = node, rng.choice(list(node))
            elif isinstance(node, list) and node:
                parent, key = node, rng.randrange(len(node))
            else:
                break
            node = parent[key]
        if parent is None:
            continue
        action = rng.random()
        if action < 0.6:
            parent[key] = copy.deepcopy(rng.choice(replacements))
        elif isinstance(parent, dict) and action < 0.8:
            del parent[key]
        elif isinstance(parent, dict):
            parent[rng.choice(["foo", "x-foo", "$ref", "type", "bindings"])] = rng.choice(replacements)
        yield mutant


@pytest.mark.corpus
def test_fast_validator_agrees_with_jsonschema_on_the_corpus_and_its_mutants(official):
    documents = _corpus_documents()
    if not documents:
        pytest.skip(f"shared corpus not found at {CORPUS}")
    rng = random.Random(20240607)
    disagreements = []
    for name, version, document in documents:
        small = len(json.dumps(document)) < 60_000
        for candidate in [document, *(_mutants(document, rng, 10) if small else [])]:
            expected = specs.official_validator(version, official).is_valid(candidate)
            try:
                specs.official_fast_validator(version, official)(candidate)
                fast = True
            except fastjsonschema.JsonSchemaValueException:
                fast = False
            if fast != expected:
                disagreements.append((name, expected, json.dumps(candidate)[:200]))

    assert disagreements == []
