"""The official AsyncAPI schemas: obtained from the pinned npm package, verified, cached, used offline."""

from __future__ import annotations

import base64
import copy
import hashlib
import io
import json
import random
import tarfile
import threading
from pathlib import Path

import fastjsonschema
import pytest
import referencing.exceptions
import yaml
from jsonschema.validators import Draft7Validator

from pipeline.contract import specs
from pipeline.contract.errors import ContractError, VersionError

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "asyncapi"


# --- fixtures -----------------------------------------------------------------------------------------------


def _forget_memoised() -> None:
    for memoised in (specs.official_schema, specs.official_validator, specs.official_fast_validator):
        memoised.cache_clear()


@pytest.fixture(autouse=True)
def isolated_specs(tmp_path, monkeypatch):
    """Each test gets its own empty cache and no tarball override, and sees nothing memoised by another."""
    monkeypatch.setenv(specs.CACHE_DIR_ENV, str(tmp_path / "cache"))
    monkeypatch.delenv(specs.TARBALL_ENV, raising=False)
    _forget_memoised()
    yield
    _forget_memoised()


@pytest.fixture(scope="session")
def genuine_cache(tmp_path_factory) -> Path:
    """A cache filled once per session as a user's is: by npm, or from the tarball the environment names."""
    cache = tmp_path_factory.mktemp("genuine-specs-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(specs.CACHE_DIR_ENV, str(cache))
        specs.specs_dir()
    return cache


@pytest.fixture
def official(genuine_cache, monkeypatch) -> None:
    """Use the genuine schemas in this test."""
    monkeypatch.setenv(specs.CACHE_DIR_ENV, str(genuine_cache))


def _sri(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode("ascii")


def _fake_schema(version: str) -> bytes:
    schema_id = f"http://asyncapi.com/definitions/{version}/asyncapi.json"
    return json.dumps({"$id": schema_id, "fake": True}).encode()


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
    monkeypatch.setenv(specs.TARBALL_ENV, str(path))
    return path


def _specs_target() -> Path:
    return specs.cache_root() / f"asyncapi-specs-{specs.SPECS_VERSION}"


# --- obtaining the schemas ----------------------------------------------------------------------------------


def test_tarball_with_wrong_integrity_is_refused_before_anything_is_extracted(tmp_path, monkeypatch):
    bogus = tmp_path / "asyncapi-specs-6.11.1.tgz"
    _tarball(bogus, _complete_fake_members())
    monkeypatch.setenv(specs.TARBALL_ENV, str(bogus))

    with pytest.raises(specs.SpecsIntegrityError, match="expected sha512-A3WBLqAK") as raised:
        specs.specs_dir()

    assert isinstance(raised.value, ContractError)
    assert str(bogus) in str(raised.value)
    assert not specs.cache_root().exists() or not any(specs.cache_root().iterdir())


def test_members_outside_package_schemas_are_never_written(tmp_path, monkeypatch):
    members = _complete_fake_members()
    members["package/schemas/../../../escaped.json"] = b"{}"
    members["../escaped.json"] = b"{}"
    members["package/schemas/2.6.0-without-$id.json"] = b"{}"
    members["package/README.md"] = b"# not needed"
    # A link named like a schema must not replace the regular file read before it.
    links = {"package/schemas/3.1.0.json": "../../../../etc/passwd"}
    tarball = tmp_path / "crafted.tgz"
    monkeypatch.setattr(specs, "SPECS_INTEGRITY", _tarball(tarball, members, links))
    monkeypatch.setenv(specs.TARBALL_ENV, str(tarball))

    folder = specs.specs_dir()

    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [".complete", *(f"{v}.json" for v in specs.SUPPORTED_VERSIONS)]
    )
    assert (folder / "3.1.0.json").read_bytes() == _fake_schema("3.1.0")
    assert not list(tmp_path.rglob("escaped.json"))


def test_tarball_lacking_a_supported_version_is_refused(tmp_path, monkeypatch):
    members = _complete_fake_members()
    del members["package/schemas/3.0.0.json"]
    tarball = tmp_path / "partial.tgz"
    monkeypatch.setattr(specs, "SPECS_INTEGRITY", _tarball(tarball, members))
    monkeypatch.setenv(specs.TARBALL_ENV, str(tarball))

    with pytest.raises(specs.SpecsUnavailable, match=r"lacks package/schemas/\{3\.0\.0\}\.json"):
        specs.specs_dir()
    assert not _specs_target().exists()


def test_filled_cache_is_reused_without_npm_or_tarball(trusted_fake_tarball, tmp_path, monkeypatch):
    first = specs.specs_dir()
    installed = (first / "2.6.0.json").stat().st_mtime_ns
    monkeypatch.delenv(specs.TARBALL_ENV)
    empty_path = tmp_path / "no-tools"
    empty_path.mkdir()
    monkeypatch.setenv("PATH", str(empty_path))

    assert specs.specs_dir() == first
    assert (first / "2.6.0.json").stat().st_mtime_ns == installed


def test_without_npm_the_error_says_how_to_provide_the_tarball(tmp_path, monkeypatch):
    empty_path = tmp_path / "no-tools"
    empty_path.mkdir()
    monkeypatch.setenv("PATH", str(empty_path))

    with pytest.raises(specs.SpecsUnavailable) as raised:
        specs.specs_dir()

    message = str(raised.value)
    assert "npm is not on PATH" in message
    assert specs.TARBALL_ENV in message
    assert "npm pack @asyncapi/specs@6.11.1" in message


def test_missing_tarball_named_by_the_environment_is_reported(tmp_path, monkeypatch):
    monkeypatch.setenv(specs.TARBALL_ENV, str(tmp_path / "nowhere.tgz"))

    with pytest.raises(specs.SpecsUnavailable, match=r"nowhere\.tgz is not a file"):
        specs.specs_dir()


def test_folder_without_marker_is_not_trusted_and_is_replaced(trusted_fake_tarball):
    half_extracted = _specs_target()
    half_extracted.mkdir(parents=True)
    (half_extracted / "2.0.0.json").write_text("{ truncated")

    folder = specs.specs_dir()

    assert (folder / ".complete").is_file()
    assert (folder / "2.0.0.json").read_bytes() == _fake_schema("2.0.0")


def test_concurrent_installs_leave_one_complete_copy_and_no_debris(trusted_fake_tarball):
    start = threading.Barrier(6)
    failures: list[BaseException] = []

    def install() -> None:
        start.wait()
        try:
            specs._install(trusted_fake_tarball, _specs_target())
        except BaseException as error:  # collected and asserted below
            failures.append(error)

    workers = [threading.Thread(target=install) for _ in range(6)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert failures == []
    assert [p.name for p in specs.cache_root().iterdir()] == [_specs_target().name]
    assert specs.specs_dir() == _specs_target()


# --- the schemas themselves ---------------------------------------------------------------------------------


@pytest.mark.parametrize("version", specs.SUPPORTED_VERSIONS)
def test_every_supported_version_has_its_official_schema(official, version):
    schema = specs.official_schema(version)

    assert schema["$id"] == f"http://asyncapi.com/definitions/{version}/asyncapi.json"
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema"
    assert specs.official_schema(version) is schema  # memoised


@pytest.mark.parametrize("version", ["1.2.0", "2.7.0", "3.0", "4.0.0"])
def test_unknown_version_is_a_version_error_naming_the_supported_ones(version):
    with pytest.raises(VersionError, match=r"supported versions are 2\.0\.0, 2\.1\.0") as raised:
        specs.official_schema(version)
    assert repr(version) in str(raised.value)
    with pytest.raises(VersionError):
        specs.official_validator(version)


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
    validator = specs.official_validator(version)

    assert isinstance(validator, Draft7Validator)
    assert list(validator.iter_errors(MINIMAL[version])) == []
    specs.official_fast_validator(version)(copy.deepcopy(MINIMAL[version]))


@pytest.mark.parametrize("version", MINIMAL)
def test_obviously_invalid_document_is_rejected_with_every_error(official, version):
    broken = copy.deepcopy(MINIMAL[version])
    del broken["info"]
    broken["channels"] = ["payments"]

    messages = [error.message for error in specs.official_validator(version).iter_errors(broken)]

    assert "'info' is a required property" in messages
    assert any("is not of type 'object'" in message for message in messages)
    with pytest.raises(fastjsonschema.JsonSchemaValueException):
        specs.official_fast_validator(version)(broken)


def test_fast_validator_never_writes_defaults_into_the_document(official):
    document = copy.deepcopy(MINIMAL_26)

    specs.official_fast_validator("2.6.0")(document)

    assert document == MINIMAL_26


def test_references_outside_the_official_schema_are_refused_not_fetched(official):
    resolver = specs.official_registry("3.0.0").resolver()
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
            expected = specs.official_validator(version).is_valid(candidate)
            try:
                specs.official_fast_validator(version)(candidate)
                fast = True
            except fastjsonschema.JsonSchemaValueException:
                fast = False
            if fast != expected:
                disagreements.append((name, expected, json.dumps(candidate)[:200]))

    assert disagreements == []
