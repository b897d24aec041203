"""No `eventdeck` command ends with a Python traceback on bad input (issue 9, item 5, the CLI half).

A corpus of bad inputs — missing files, folders given as files, text that is not UTF-8, binary, empty files, a
huge line, invalid JSON and YAML, JSON of the wrong shape, nesting too deep, an invalid mkdocs.yml, outputs that
cannot be written, key files that are not JWKS or are too open, hostile manifest lines, tampered artefacts — is
put in every place each command reads or writes (its documents, mkdocs.yml, input events, key files, outputs,
manifest, artefact). Every run must exit 1 (2 for argparse usage errors), name the offending file, and print no
traceback. Most runs go through `portal.cli.main.main`; a few through the installed `eventdeck` in a real process.

The contract-error kinds (an event name too long, a schema nested too deep) rely on the loader's limits
(pipeline/contract, issue 9 item 5's other half): before them a 258-character name loaded clean and a schema nested
300 levels ended every command in a `RecursionError`.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from cli_runner import Result, Workspace, run, run_process, workspace
from test_portal_build import SMALL, project

from conftest import ROOT

# ------------------------------------------------------------------------------------------------- the corpus

Maker = Callable[[Path], Path]


def file(name: str, content: bytes) -> Maker:
    def make(folder: Path) -> Path:
        path = folder / name
        path.write_bytes(content)
        return path
    return make


def missing(name: str) -> Maker:
    return lambda folder: folder / name


def directory(name: str) -> Maker:
    def make(folder: Path) -> Path:
        (folder / name).mkdir()
        return folder / name
    return make


DEEP = b"[" * 50_000 + b"]" * 50_000
BINARY = bytes(range(256)) * 16
HUGE = b'{"id": "' + b"x" * 3_000_000  # one 3 MB line, never closed


VALID_SMALL = SMALL.split("      examples:")[0]  # SMALL without its deliberately wrong example


def long_event_name(folder: Path) -> Path:
    text = VALID_SMALL.replace("Small.Thing.Happened", "Small.Thing." + "H" * 246)
    return file("long-name.yaml", text.encode())(folder)


def deep_schema(folder: Path) -> Path:
    nested = "type: string"
    for _ in range(300):
        nested = "type: object\nproperties:\n  x:\n" + "\n".join("    " + line for line in nested.splitlines())
    payload = "\n".join("        " + line for line in nested.splitlines())
    text = VALID_SMALL.split("      payload:")[0] + "      payload:\n" + payload + "\n"
    return file("deep-schema.yaml", text.encode())(folder)


DOCUMENTS: dict[str, Maker] = {
    "missing": missing("missing.yaml"),
    "directory": directory("empty-folder"),
    "latin1": file("latin1.yaml", "asyncapi: 3.0.0\ninfo:\n  title: Café\n  version: 1.0.0\n".encode("latin-1")),
    "binary": file("binary.yaml", BINARY),
    "empty": file("empty.yaml", b""),
    "huge-line": file("huge.json", HUGE),
    "invalid-json": file("invalid.json", b'{"asyncapi": "3.0.0",, "info": {}}'),
    "wrong-shape-json": file("shape.json", b"[1, 2, 3]"),
    "invalid-yaml": file("invalid.yaml", b"asyncapi: [3.0.0\ninfo: {\n"),
    "deep": file("deep.json", b'{"asyncapi": "3.0.0", "info": ' + DEEP + b"}"),
    "long-event-name": long_event_name,
    "deep-schema": deep_schema,
}
#: Documents that load, with contract errors: lenient commands (docs, backstage) may still render them, as they
#: render any imperfect third-party document with its problems shown; `docs --strict` must refuse them.
CONTRACT_ERRORS = {"long-event-name", "deep-schema"}

EVENTS: dict[str, Maker] = {
    "missing": missing("missing.json"),
    "directory": directory("events-folder"),
    "latin1": file("latin1.json", '{"id": "café", "detail": {}}'.encode("latin-1")),
    "binary": file("binary.json", BINARY),
    "empty": file("empty.json", b""),
    "huge-line": file("huge.jsonl", HUGE),
    "invalid-json": file("invalid.jsonl", b'{"id": "a",, "detail": {}}\n{oops\n'),
    "wrong-shape-json": file("number.json", b"42"),
    "deep": file("deep.json", DEEP),
    "duplicate-key": file("duplicate.json", b'{"id": "a", "id": "b", "detail": {}}'),
    "nan": file("nan.json", b'{"id": "a", "detail": {"amount": NaN}}'),
}

KEYS: dict[str, Maker] = {
    "missing": missing("missing.jwks.json"),
    "directory": directory("keys-folder"),
    "latin1": file("latin1.jwks.json", '{"keys": [{"kid": "café"}]}'.encode("latin-1")),
    "binary": file("binary.jwks.json", BINARY),
    "empty": file("empty.jwks.json", b""),
    "huge-line": file("huge.jwks.json", HUGE),
    "invalid-json": file("invalid.jwks.json", b'{"keys": [,]}'),
    "wrong-shape-json": file("shape.jwks.json", b'{"keys": 3}'),
    "not-jwks": file("not.jwks.json", b'{"keys": [{"kty": "oct", "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0"}]}'),
    "deep": file("deep.jwks.json", b'{"keys": ' + DEEP + b"}"),
}

CONFIGS: dict[str, Maker] = {
    "directory": directory("config-folder"),
    "latin1": file("latin1.yml", "site_name: Café\n".encode("latin-1")),
    "binary": file("binary.yml", BINARY),
    "empty": file("empty.yml", b""),
    "huge-line": file("huge.yml", b"site_name: [" + b"x" * 300_000),  # MkDocs' YAML is slow: 300 KB will do
    "invalid-yaml": file("invalid.yml", b"site_name: [\n"),
    "wrong-shape-yaml": file("shape.yml", b"- 1\n- 2\n"),
    "invalid-option": file("option.yml", b"site_name: x\nplugins:\n  - eventdeck:\n      strict: maybe\n"),
    "deep": file("deep.yml", b"site_name: x\nextra: " + b"[" * 1_000 + b"]" * 1_000 + b"\n"),
}

ARTEFACTS: dict[str, Callable[[Path, Workspace], Path]] = {
    "tampered": lambda folder, ws: _artefact(folder, ws, lambda t: t.replace("Basket", "Basker", 1)),
    "truncated": lambda folder, ws: _artefact(folder, ws, lambda t: t[: len(t) // 2]),
    "other-format": lambda folder, ws: _artefact(folder, ws, lambda t: t.replace('"format": "', '"format": "x', 1)),
    "latin1": lambda folder, ws: _artefact(folder, ws, lambda t: t.replace("Basket", "Bäsket", 1), "latin-1"),
}


def _artefact(folder: Path, ws: Workspace, change: Callable[[str], str], encoding: str = "utf-8") -> Path:
    path = folder / "contract.json"
    path.write_bytes(change(ws.artefact.read_text(encoding="utf-8")).encode(encoding))
    return path


# ------------------------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return workspace(tmp_path_factory.mktemp("bad-input"))


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small project (mkdocs.yml with the plugin, one document), its pages written once; copy before use."""
    config = project(tmp_path_factory.mktemp("small"), {"small.yaml": VALID_SMALL})
    assert run("docs", "-f", config, "--docs-dir", config.parent / "docs").code == 0
    assert run("backstage", config.parent / "asyncapi", "-o", config.parent / "catalog-info.yaml").code == 0
    return config


@pytest.fixture
def own_small(small: Path, tmp_path: Path) -> Path:
    shutil.copytree(small.parent, tmp_path / "project", symlinks=True)
    return tmp_path / "project" / "mkdocs.yml"


def check(result: Result, names: Path | str, *, codes: tuple[int, ...] = (1,)) -> None:
    """The run failed cleanly: an expected exit code, the offending file named, no traceback."""
    shown = Path(names).name
    assert "Traceback" not in result.output, result.output[-3000:]
    assert result.code in codes, f"exit {result.code}: {result.output[-2000:]}"
    assert shown in result.output, f"{shown!r} not named in: {result.output[-2000:]}"


# ------------------------------------------------------------------------------------------------- documents

NONE = "no-mkdocs.yml"  # absent: the plugin's defaults

DOCUMENT_COMMANDS: dict[str, Callable[[Path, Path, Workspace], list[str | Path]]] = {
    "validate": lambda bad, out, ws: ["validate", bad],
    "validate --format json": lambda bad, out, ws: ["validate", bad, "--format", "json"],
    "docs": lambda bad, out, ws: ["docs", bad, "-f", out / NONE, "--docs-dir", out / "docs"],
    "docs --check": lambda bad, out, ws: ["docs", bad, "-f", out / NONE, "--docs-dir", out / "docs", "--check"],
    "backstage": lambda bad, out, ws: ["backstage", bad, "-o", out / "catalog-info.yaml"],
    "backstage --check": lambda bad, out, ws: ["backstage", bad, "-o", out / "catalog-info.yaml", "--check"],
    "keys new": lambda bad, out, ws: ["keys", "new", "--contract", bad, "--out", out / "keys"],
    "seal": lambda bad, out, ws: ["seal", "--samples", "--contract", bad, "-f", out / NONE, "--keys", ws.private_keys],
    "open": lambda bad, out, ws: ["open", ws.artefact, "--contract", bad, "-f", out / NONE, "--keys", ws.private_keys],
    "bundle": lambda bad, out, ws: ["bundle", "--contract", bad, "-f", out / NONE, "-o", out / "contract.json"],
    "bundle --check": lambda bad, out, ws: ["bundle", "--contract", bad, "-f", out / NONE, "-o", ws.artefact,
                                            "--check"],
}


@pytest.mark.parametrize(("command", "kind"), [
    pytest.param(command, kind, id=f"{command}-{kind}")
    for command in DOCUMENT_COMMANDS for kind in DOCUMENTS])
def test_bad_documents(ws: Workspace, tmp_path: Path, command: str, kind: str) -> None:
    bad = DOCUMENTS[kind](tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    argv = DOCUMENT_COMMANDS[command](bad, out, ws)
    if kind in CONTRACT_ERRORS and command.startswith("backstage"):
        result = run(*argv)  # lenient by design: whatever it decides, never a traceback
        assert result.code in (0, 1) and "Traceback" not in result.output
        return
    check(run(*argv, *(["--strict"] if kind in CONTRACT_ERRORS and command.startswith("docs") else [])), bad)


def test_a_valid_small_document_is_valid(tmp_path: Path) -> None:
    """The contract-error kinds differ from a valid document only by their error."""
    assert run("validate", file("small.yaml", VALID_SMALL.encode())(tmp_path)).code == 0


# ------------------------------------------------------------------------------------------------- mkdocs.yml

CONFIG_COMMANDS: dict[str, Callable[[Path, Path, Workspace], list[str | Path]]] = {
    "docs": lambda bad, out, ws: ["docs", ROOT / "asyncapi", "-f", bad, "--docs-dir", out],
    "docs --check": lambda bad, out, ws: ["docs", ROOT / "asyncapi", "-f", bad, "--docs-dir", out, "--check"],
    "seal": lambda bad, out, ws: ["seal", "--samples", "-f", bad, "--contract", ROOT / "asyncapi",
                                  "--keys", ws.private_keys],
    "open": lambda bad, out, ws: ["open", ws.artefact, "-f", bad, "--contract", ROOT / "asyncapi",
                                  "--keys", ws.private_keys],
    "bundle": lambda bad, out, ws: ["bundle", "-f", bad, "--contract", ROOT / "asyncapi", "-o", out / "c.json"],
    "bundle --check": lambda bad, out, ws: ["bundle", "-f", bad, "--contract", ROOT / "asyncapi", "-o", ws.artefact,
                                            "--check"],
}


@pytest.mark.parametrize(("command", "kind"), [
    pytest.param(command, kind, id=f"{command}-{kind}")
    for command in CONFIG_COMMANDS for kind in CONFIGS
    # every command reads mkdocs.yml through site_config(); the slow deep one runs for two of them
    if kind != "deep" or command in ("docs", "seal")])
def test_bad_mkdocs_yml(ws: Workspace, tmp_path: Path, command: str, kind: str) -> None:
    bad = CONFIGS[kind](tmp_path)
    check(run(*CONFIG_COMMANDS[command](bad, tmp_path / "out", ws)), bad)


# ------------------------------------------------------------------------------------------------- input events


@pytest.mark.parametrize("command", ["seal", "open"])
@pytest.mark.parametrize("kind", list(EVENTS))
def test_bad_event_files(ws: Workspace, tmp_path: Path, command: str, kind: str) -> None:
    bad = EVENTS[kind](tmp_path)
    check(run(command, bad, *ws.contract_args), bad)


@pytest.mark.parametrize("command", ["seal", "open"])
def test_bad_events_on_stdin(ws: Workspace, command: str) -> None:
    for content in (b"", BINARY, b"{oops", b"42", DEEP):
        check(run(command, *ws.contract_args, stdin=content), "<stdin>")


# ------------------------------------------------------------------------------------------------- key files


@pytest.mark.parametrize("command", ["seal", "open", "keys check"])
@pytest.mark.parametrize("kind", [*KEYS, "too-open"])
def test_bad_key_files(ws: Workspace, tmp_path: Path, command: str, kind: str) -> None:
    if kind == "too-open":
        bad = tmp_path / "exposed.jwks.json"
        bad.write_bytes(ws.private_keys.read_bytes())
        bad.chmod(0o644)
    else:
        bad = KEYS[kind](tmp_path)
    argv: list[str | Path] = {
        "seal": ["seal", "--samples", "--contract", ws.artefact, "--keys", bad],
        "open": ["open", ws.artefact, "--contract", ws.artefact, "--keys", bad],
        "keys check": ["keys", "check", bad],
    }[command]
    result = run(*argv, "--strict-keys")
    check(result, bad)
    assert "c2VjcmV0" not in result.output  # never key material


# ------------------------------------------------------------------------------------------------- artefacts


@pytest.mark.parametrize("command", ["seal", "open", "bundle --check"])
@pytest.mark.parametrize("kind", list(ARTEFACTS))
def test_bad_artefacts(ws: Workspace, tmp_path: Path, command: str, kind: str) -> None:
    bad = ARTEFACTS[kind](tmp_path, ws)
    argv: list[str | Path] = {
        "seal": ["seal", "--samples", "--contract", bad, "--keys", ws.private_keys],
        "open": ["open", ws.artefact, "--contract", bad, "--keys", ws.private_keys],
        "bundle --check": ["bundle", "--contract", ROOT / "asyncapi", "-f", ROOT / "mkdocs.yml", "-o", bad,
                           "--check"],
    }[command]
    check(run(*argv), bad)


# ------------------------------------------------------------------------------------------------- outputs


@dataclass(frozen=True)
class Output:
    """A place a command is told to write to (or, with --check, read from) that does not work."""

    name: str
    make: Callable[[Path], Path]


def _under_a_file(folder: Path) -> Path:
    (folder / "plain-file").write_text("x")
    return folder / "plain-file" / "inside"


def _link_out(folder: Path) -> Path:
    (folder / "victim.txt").write_text("victim\n")
    (folder / "link-out").symlink_to(folder / "victim.txt")
    return folder / "link-out"


def _world_writable(folder: Path) -> Path:
    (folder / "shared").mkdir()
    (folder / "shared").chmod(0o777)
    return folder / "shared"


OUTPUTS = {
    "a-folder": Output("a-folder", directory("a-folder")),
    "under-a-file": Output("under-a-file", _under_a_file),
    "a-link-out": Output("a-link-out", _link_out),
    "a-file": Output("a-file", file("a-file", b"x")),
    "world-writable": Output("world-writable", _world_writable),
    "latin1": Output("latin1", file("latin1.out", "café\n".encode("latin-1"))),
    "binary": Output("binary", file("binary.out", BINARY)),
    "empty": Output("empty", file("empty.out", b"")),
}

OUTPUT_COMMANDS: dict[str, tuple[Callable[[Path, Path, Workspace], list[str | Path]], tuple[str, ...]]] = {
    "docs": (lambda bad, config, ws: ["docs", "-f", config, "--docs-dir", bad],
             ("a-file", "under-a-file")),
    "docs --check": (lambda bad, config, ws: ["docs", "-f", config, "--docs-dir", bad, "--check"],
                     ("a-file", "under-a-file")),
    "backstage": (lambda bad, config, ws: ["backstage", config.parent / "asyncapi", "-o", bad],
                  ("a-folder", "under-a-file", "a-link-out")),
    "backstage --check": (lambda bad, config, ws: ["backstage", config.parent / "asyncapi", "-o", bad, "--check"],
                          ("a-folder", "under-a-file", "latin1", "binary", "empty")),
    "keys new": (lambda bad, config, ws: ["keys", "new", "--general", "--out", bad],
                 ("a-file", "under-a-file", "world-writable")),
    "bundle": (lambda bad, config, ws: ["bundle", "--contract", config.parent / "asyncapi", "-f", config, "-o", bad],
               ("a-folder", "under-a-file", "a-link-out")),
    "bundle --check": (lambda bad, config, ws: ["bundle", "--contract", config.parent / "asyncapi", "-f", config,
                                                "-o", bad, "--check"],
                       ("a-folder", "under-a-file", "latin1", "binary", "empty")),
}


@pytest.mark.parametrize(("command", "kind"), [
    pytest.param(command, kind, id=f"{command}-{kind}")
    for command, (_, kinds) in OUTPUT_COMMANDS.items() for kind in kinds])
def test_outputs_that_cannot_be_written(ws: Workspace, own_small: Path, tmp_path: Path, command: str,
                                        kind: str) -> None:
    bad = OUTPUTS[kind].make(tmp_path)
    argv = OUTPUT_COMMANDS[command][0](bad, own_small, ws)
    # Under a file, the file in the way is the offending one (backstage meets it first at its definitions folder).
    check(run(*argv), bad.parent if kind == "under-a-file" else bad)
    if kind == "a-link-out":
        assert (tmp_path / "victim.txt").read_text() == "victim\n"


# ------------------------------------------------------------------------------------------------- the docs manifest


HOSTILE_LINES = {
    "parent": "../../victim.txt",
    "absolute": "{victim}",
    "hand-written": "index.md",
    "no-digest": "events/notes.md",
    "control-character": "events/\x1b[2Jnotes.md",
}


@pytest.mark.parametrize("check_only", [False, True], ids=["docs", "docs --check"])
@pytest.mark.parametrize("kind", [*HOSTILE_LINES, "symlink-out", "latin1"])
def test_hostile_manifests(own_small: Path, tmp_path: Path, kind: str, check_only: bool) -> None:
    docs_dir = own_small.parent / "docs"
    manifest = docs_dir / "events" / ".eventdeck-files"
    victim = tmp_path / "victim.txt"
    victim.write_text("victim\n")
    (docs_dir / "events" / "notes.md").write_text("mine\n")
    if kind == "symlink-out":
        (docs_dir / "events" / "out.md").symlink_to(victim)
        line = "events/out.md"
    elif kind == "latin1":
        line = "events/café.md"
    else:
        line = HOSTILE_LINES[kind].format(victim=victim)
    with manifest.open("ab") as stream:
        stream.write((line + "\n").encode("latin-1" if kind == "latin1" else "utf-8"))
    result = run("docs", "-f", own_small, "--docs-dir", docs_dir, *(["--check"] if check_only else []))
    check(result, manifest)
    assert victim.read_text() == "victim\n" and (docs_dir / "events" / "notes.md").read_text() == "mine\n"
    assert (docs_dir / "index.md").is_file()


# ------------------------------------------------------------------------------------------------- usage errors


@pytest.mark.parametrize("argv", [
    [], ["nonsense"], ["validate", "--format", "xml"], ["keys"], ["keys", "new", "--nope"], ["seal", "--keys"],
    ["bundle", "-o"], ["docs", "--docs-dir"],
])
def test_usage_errors_exit_2_without_a_traceback(argv: list[str]) -> None:
    result = run(*argv)
    assert result.code == 2 and "usage: eventdeck" in result.err and "Traceback" not in result.output


# ------------------------------------------------------------------------------------------------- real processes


def test_real_process_seal_on_latin1(ws: Workspace, tmp_path: Path) -> None:
    bad = EVENTS["latin1"](tmp_path)
    check(run_process("seal", bad, *ws.contract_args, cwd=tmp_path), bad)


def test_real_process_validate_on_a_missing_file(tmp_path: Path) -> None:
    check(run_process("validate", tmp_path / "missing.yaml", cwd=tmp_path), "missing.yaml")


def test_real_process_docs_with_a_hostile_manifest(own_small: Path, tmp_path: Path) -> None:
    manifest = own_small.parent / "docs" / "events" / ".eventdeck-files"
    (tmp_path / "victim.txt").write_text("victim\n")
    with manifest.open("a") as stream:
        stream.write("../../../victim.txt\n")
    check(run_process("docs", "-f", own_small, "--docs-dir", own_small.parent / "docs", cwd=tmp_path), manifest)
    assert (tmp_path / "victim.txt").is_file()


def test_real_process_open_on_binary_stdin(ws: Workspace, tmp_path: Path) -> None:
    check(run_process("open", *ws.contract_args, stdin=BINARY, cwd=tmp_path), "<stdin>")


def test_real_process_usage_error(tmp_path: Path) -> None:
    result = run_process("seal", "--no-such-option", cwd=tmp_path)
    assert result.code == 2 and "Traceback" not in result.output


def test_the_corpus_is_what_it_says(tmp_path: Path) -> None:
    """Guard the corpus itself: the files are what their names claim (so a test cannot pass on a typo)."""
    latin1 = DOCUMENTS["latin1"](tmp_path).read_bytes()
    with pytest.raises(UnicodeDecodeError):
        latin1.decode("utf-8")
    with pytest.raises(json.JSONDecodeError):
        json.loads(EVENTS["invalid-json"](tmp_path).read_bytes())
    assert yaml.safe_load(CONFIGS["wrong-shape-yaml"](tmp_path).read_bytes()) == [1, 2]
    assert len(HUGE) > 2_000_000 and b"\n" not in HUGE
