"""Private keys are protected (issue 9, item 8).

`eventdeck keys new` writes the private JWKS 0600 into a folder only its owner can write to, atomically, and
never replaces an existing file without --force. Reading a JWKS file that holds secrets and that others can
access warns as ssh does, and `--strict-keys` refuses it; a public JWKS is not subject to the check. The library
reports (a warning category, an exception, a property) and prints nothing: the CLI prints.
"""

from __future__ import annotations

import json
import os
import stat
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest
from cli_runner import Workspace, run, run_process, workspace

from conftest import EXAMPLES
from pipeline.sealing import keys as keys_module
from pipeline.sealing.keys import (
    JwksFile,
    KeyFileTooOpen,
    KeyFileTooOpenWarning,
    load_keyset,
    new_keyset,
    write_jwks,
)

IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return workspace(tmp_path_factory.mktemp("keys"))


@pytest.fixture
def exposed(ws: Workspace, tmp_path: Path) -> Path:
    """A copy of the workspace's private JWKS that anyone may read (0644)."""
    path = tmp_path / "private.jwks.json"
    path.write_bytes(ws.private_keys.read_bytes())
    path.chmod(0o644)
    return path


# ------------------------------------------------------------------------------------------------ writing


def test_keys_new_writes_the_private_file_0600_into_a_new_0700_folder(tmp_path: Path) -> None:
    out = tmp_path / "new" / "keys"
    assert run("keys", "new", "--contract", EXAMPLES, "--out", out).code == 0
    assert mode(out / "private.jwks.json") == 0o600
    assert mode(out / "public.jwks.json") == 0o644
    assert mode(out) & 0o077 == 0  # 0700, or less under a stricter umask
    assert sorted(p.name for p in out.iterdir()) == ["private.jwks.json", "public.jwks.json"]  # nothing aside


@pytest.mark.parametrize("existing", ["private.jwks.json", "public.jwks.json"])
def test_an_existing_key_file_is_never_replaced_without_force(tmp_path: Path, existing: str) -> None:
    out = tmp_path / "keys"
    out.mkdir(mode=0o700)
    (out / existing).write_text("mine\n")
    result = run("keys", "new", "--general", "--out", out)
    assert result.code == 1 and f"{out / existing} exists" in result.err and "--force" in result.err
    assert (out / existing).read_text() == "mine\n"
    assert [p.name for p in out.iterdir()] == [existing]


def test_a_dangling_symbolic_link_counts_as_existing(tmp_path: Path) -> None:
    out = tmp_path / "keys"
    out.mkdir(mode=0o700)
    (out / "private.jwks.json").symlink_to(tmp_path / "nowhere.json")
    assert run("keys", "new", "--general", "--out", out).code == 1
    assert not (tmp_path / "nowhere.json").exists()


def test_force_replaces_the_pair_and_keeps_0600(tmp_path: Path) -> None:
    out = tmp_path / "keys"
    assert run("keys", "new", "--general", "--out", out).code == 0
    before = (out / "private.jwks.json").read_text()
    (out / "private.jwks.json").chmod(0o644)
    assert run("keys", "new", "--general", "--out", out, "--force").code == 0
    assert (out / "private.jwks.json").read_text() != before
    assert mode(out / "private.jwks.json") == 0o600


def test_a_folder_others_can_write_to_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "shared"
    out.mkdir()
    out.chmod(0o777)
    result = run("keys", "new", "--general", "--out", out)
    assert result.code == 1 and f"{out}: the folder is writable by others (permissions 0777)" in result.err
    assert list(out.iterdir()) == []


def test_out_that_is_a_file_is_a_message(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    result = run("keys", "new", "--general", "--out", tmp_path / "file")
    assert result.code == 1 and f"{tmp_path / 'file'}: is not a folder" in result.err
    result = run("keys", "new", "--general", "--out", tmp_path / "file" / "keys")
    assert result.code == 1 and str(tmp_path / "file" / "keys") in result.err


@pytest.mark.parametrize("failure", [OSError(28, "No space left on device"), FileExistsError(17, "File exists")])
def test_a_failed_write_leaves_no_key_file_and_no_half_of_a_pair(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 failure: OSError) -> None:
    keys = new_keyset("t")
    calls = []
    real_fsync, real_link = os.fsync, os.link

    def fail_second(real: Callable[..., None]) -> Callable[..., None]:
        def call(*args: object) -> None:
            calls.append(args)
            if len(calls) == 2:  # the public file, after the private one went into place
                raise failure
            real(*args)
        return call

    # a disk full while writing the second file, or the second name taken by someone else meanwhile
    name = "fsync" if failure.errno == 28 else "link"
    monkeypatch.setattr(keys_module.os, name, fail_second(real_fsync if name == "fsync" else real_link))
    with pytest.raises(OSError):
        write_jwks(keys, private_path=tmp_path / "private.jwks.json", public_path=tmp_path / "public.jwks.json",
                   replace=False)
    assert list(tmp_path.iterdir()) == []  # neither file, nor a temporary one
    assert calls


def test_a_failed_replace_keeps_the_previous_file_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "private.jwks.json"
    write_jwks(new_keyset("old"), private_path=path)
    before = path.read_bytes()

    def fail(*args: object) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(keys_module.os, "replace", fail)
    with pytest.raises(OSError):
        write_jwks(new_keyset("new"), private_path=path)
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["private.jwks.json"]


def test_the_file_gets_its_mode_before_any_key_material(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen = []
    real_replace = os.replace

    def check(source: str, target: str) -> None:
        seen.append(mode(Path(source)))
        real_replace(source, target)

    monkeypatch.setattr(keys_module.os, "replace", check)
    write_jwks(new_keyset("m"), private_path=tmp_path / "p.json")
    assert seen == [0o600]


# ------------------------------------------------------------------------------------------------ reading


def test_the_library_warns_and_prints_nothing(exposed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert JwksFile(exposed).permissions_too_open == 0o644
    with pytest.warns(KeyFileTooOpenWarning, match=r"permissions 0644 for '.*private\.jwks\.json' are too open"):
        keys = load_keyset(JwksFile(exposed))
    assert keys.holds_secrets
    assert capsys.readouterr() == ("", "")


def test_the_library_refuses_under_strict_permissions(exposed: Path) -> None:
    with pytest.raises(KeyFileTooOpen) as caught:
        load_keyset(JwksFile(exposed), strict_permissions=True)
    assert caught.value.mode == 0o644 and caught.value.path == str(exposed)


@pytest.mark.parametrize("bits", [0o640, 0o604, 0o620, 0o601])
def test_any_access_by_group_or_others_is_too_open(exposed: Path, bits: int) -> None:
    exposed.chmod(bits)
    assert JwksFile(exposed).permissions_too_open == bits


def test_a_private_file_only_its_owner_can_read_loads_silently(ws: Workspace) -> None:
    assert mode(ws.private_keys) == 0o600
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_keyset(JwksFile(ws.private_keys), strict_permissions=True)


def test_a_public_jwks_is_not_subject_to_the_check(ws: Workspace) -> None:
    assert mode(ws.public_keys) == 0o644
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        keys = load_keyset(JwksFile(ws.public_keys), strict_permissions=True)
    assert not keys.holds_secrets


def test_shared_secret_keys_are_secrets_too(tmp_path: Path) -> None:
    path = tmp_path / "shared.jwks.json"
    oct_only = {"keys": [k for k in new_keyset("s").to_jwks(private=True)["keys"] if k["kty"] == "oct"]}
    path.write_text(json.dumps(oct_only))
    path.chmod(0o644)
    with pytest.raises(KeyFileTooOpen):
        load_keyset(JwksFile(path), strict_permissions=True)


@pytest.mark.parametrize("command", ["seal", "open"])
def test_seal_and_open_warn_like_ssh_and_go_on(ws: Workspace, exposed: Path, tmp_path: Path, command: str) -> None:
    (tmp_path / "sealed.jsonl").write_text("\n".join(ws.sealed))
    inputs = ["--samples"] if command == "seal" else [str(tmp_path / "sealed.jsonl")]
    result = run(command, *inputs, "--contract", ws.artefact, "--keys", exposed)
    assert result.code == 0, result.err
    assert f"eventdeck: warning: permissions 0644 for '{exposed}' are too open" in result.err
    assert f"chmod 600 {exposed}" in result.err


@pytest.mark.parametrize("command", ["seal", "open"])
def test_strict_keys_refuses_an_exposed_key_file(ws: Workspace, exposed: Path, tmp_path: Path, command: str) -> None:
    (tmp_path / "sealed.jsonl").write_text("\n".join(ws.sealed))
    inputs = ["--samples"] if command == "seal" else [str(tmp_path / "sealed.jsonl")]
    result = run(command, *inputs, "--contract", ws.artefact, "--keys", exposed, "--strict-keys")
    assert result.code == 1
    assert f"permissions 0644 for '{exposed}' are too open" in result.err and "refused" in result.err
    assert result.out == ""  # nothing sealed or opened


def test_the_default_key_file_is_checked_too(ws: Workspace, exposed: Path) -> None:
    folder = exposed.parent
    (folder / "keys").mkdir()
    exposed.rename(folder / "keys" / "private.jwks.json")
    result = run("seal", "--samples", "--contract", ws.artefact, "--strict-keys", cwd=folder)
    assert result.code == 1 and "permissions 0644 for 'keys/private.jwks.json' are too open" in result.err


def test_keys_check_lists_kids_never_key_material(ws: Workspace, exposed: Path) -> None:
    result = run("keys", "check", ws.private_keys, ws.public_keys)
    assert result.code == 0, result.err
    private = json.loads(ws.private_keys.read_text())["keys"]
    assert all(key["kid"] in result.out for key in private)
    assert not any(key.get(m, "") and key[m] in result.output for key in private for m in ("d", "k", "p", "q"))
    assert "holds secrets" in result.out and "public keys only" in result.out
    warned = run("keys", "check", exposed)
    assert warned.code == 0 and "warning: permissions 0644" in warned.err
    assert run("keys", "check", exposed, "--strict-keys").code == 1


@pytest.mark.skipif(IS_ROOT, reason="root reads any file")
def test_an_unreadable_key_file_is_named(exposed: Path) -> None:
    exposed.chmod(0)
    result = run("keys", "check", exposed)
    assert result.code == 1 and f"JWKS file {exposed}: cannot read (Permission denied)" in result.err


def test_a_real_process_warns_and_refuses_without_a_traceback(ws: Workspace, exposed: Path) -> None:
    warned = run_process("keys", "check", exposed, cwd=exposed.parent)
    assert warned.code == 0 and "warning: permissions 0644" in warned.err
    refused = run_process("seal", "--samples", "--contract", ws.artefact, "--keys", exposed, "--strict-keys",
                          cwd=exposed.parent)
    assert refused.code == 1 and "are too open" in refused.err and "Traceback" not in refused.output
