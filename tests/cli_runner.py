"""Run the ``eventdeck`` command as a user does, in this process or in a real one, and keep what it printed."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

from portal.cli.main import main

EVENTDECK = Path(sys.executable).with_name("eventdeck")


@dataclass(frozen=True)
class Result:
    """What a command returned and printed."""

    code: int
    out: str
    err: str

    @property
    def output(self) -> str:
        return self.out + self.err


def run(*argv: str | Path, stdin: bytes = b"", cwd: Path | None = None) -> Result:
    """``eventdeck argv...`` through :func:`portal.cli.main.main`, with ``stdin`` as standard input. An exception
    that escapes ``main`` is a crash and fails the calling test, as a traceback would fail a user."""
    out, err = io.StringIO(), io.StringIO()
    fake_stdin = io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8")
    with contextlib.ExitStack() as stack:
        if cwd is not None:
            stack.enter_context(contextlib.chdir(cwd))
        stack.enter_context(mock.patch.object(sys, "stdin", fake_stdin))
        stack.enter_context(contextlib.redirect_stdout(out))
        stack.enter_context(contextlib.redirect_stderr(err))
        try:
            code = main([str(a) for a in argv])
        except SystemExit as exc:  # argparse: usage errors are 2, --help 0
            code = exc.code if isinstance(exc.code, int) else 1
    return Result(code, out.getvalue(), err.getvalue())


def run_process(*argv: str | Path, stdin: bytes = b"", cwd: Path, timeout: float = 120) -> Result:
    """``.venv/bin/eventdeck argv...`` in a real process (what a shell runs), in ``cwd``."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run([str(EVENTDECK), *map(str, argv)], input=stdin, cwd=cwd, capture_output=True,
                          timeout=timeout, check=False, env=env)
    return Result(done.returncode, done.stdout.decode("utf-8", "replace"), done.stderr.decode("utf-8", "replace"))


@dataclass(frozen=True)
class Workspace:
    """A contract artefact of the examples, a key set for it, the contract's sample internal events and what
    ``eventdeck seal`` made of them: what the ``seal`` and ``open`` tests feed on."""

    folder: Path
    artefact: Path
    private_keys: Path
    public_keys: Path
    samples: list[dict[str, object]]
    sealed: list[str]

    @property
    def contract_args(self) -> tuple[str, ...]:
        return ("--contract", str(self.artefact), "--keys", str(self.private_keys))

    def cloud_events(self) -> list[dict[str, object]]:
        """The CloudEvents of the sealed lines (the ``Detail`` of each EventBridge entry), fresh copies."""
        import json

        return [json.loads(json.loads(line)["entry"]["Detail"]) for line in self.sealed]


def workspace(folder: Path) -> Workspace:
    """Build a :class:`Workspace` in ``folder`` from the example contract (``eventdeck bundle``, ``keys new``,
    ``seal --samples``)."""
    from conftest import EXAMPLES, ROOT
    from pipeline.contract.artefact import load_artefact
    from pipeline.enrichment.samples import sample_inputs

    artefact = folder / "contract.json"
    assert run("bundle", "--contract", EXAMPLES, "-f", ROOT / "mkdocs.yml", "-o", artefact).code == 0
    assert run("keys", "new", "--contract", EXAMPLES, "--out", folder / "keys").code == 0
    private, public = folder / "keys" / "private.jwks.json", folder / "keys" / "public.jwks.json"
    sealed = run("seal", "--samples", "--contract", artefact, "--keys", private)
    assert sealed.code == 0, sealed.err
    samples = [event for _, event in sample_inputs(load_artefact(artefact)).events]
    return Workspace(folder, artefact, private, public, samples, sealed.out.splitlines())
