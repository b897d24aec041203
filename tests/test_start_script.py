"""The README's first command runs end to end: validate, build the catalogue, run the pipeline on the samples."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT


@pytest.mark.slow
def test_scripts_start_does_the_main_job(tmp_path: Path) -> None:
    # A copy of the repository, so the keys, site and outputs it writes do not touch the working tree.
    # scripts/bootstrap reinstalls eventdeck (editable) when the dependency files changed since .venv was set up;
    # run from the copy, that would point the shared .venv at the temporary copy. Refuse instead.
    stamp = subprocess.run(["bash", "-c", "sha256sum pyproject.toml requirements/*.txt | sha256sum | cut -c1-16"],
                           cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    installed = ROOT / ".venv" / ".eventdeck-installed"
    if not installed.is_file() or installed.read_text().strip() != stamp:
        pytest.fail("the dependencies changed since .venv was installed: run scripts/bootstrap first (this test "
                    "would otherwise reinstall eventdeck from its temporary copy into the shared .venv)")
    copy = tmp_path / "repo"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(".git", ".venv", "node_modules", "site", "keys",
                                                              ".eventdeck", "__pycache__", ".*cache"))
    (copy / ".venv").symlink_to(ROOT / ".venv")
    env = {**os.environ, "EVENTDECK_SERVE": "0", "EVENTDECK_SKIP_JS": "1"}
    result = subprocess.run(["bash", "scripts/start"], cwd=copy, env=env, capture_output=True, text=True,
                            timeout=600, check=False)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "✓ 3 document(s), 15 event(s) valid" in result.stdout
    assert (copy / "site" / "index.html").is_file()
    assert (copy / "site" / "events" / "Payment.AuthorisedV2.Ecom" / "index.html").is_file()
    # eventdeck run: every sample published onto the local bus, delivered, and opened by the local consumer.
    published = re.search(r"^  (\d+) published onto the local bus", result.stdout, re.MULTILINE)
    assert published is not None, result.stdout[-2000:]
    n = int(published[1])
    assert n >= 20 and f"\n  {n} delivered\n" in result.stdout and f": {n} opened (verified" in result.stdout
    opened = (copy / ".eventdeck" / "opened.jsonl").read_text().splitlines()
    assert len(opened) == n
    assert (copy / ".eventdeck" / "contract.json").is_file()  # the runtime ran from the bundled artefact
