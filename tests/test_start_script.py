"""The README's first command runs end to end: validate, build the catalogue, run the pipeline on the samples."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT


@pytest.mark.slow
def test_scripts_start_does_the_main_job(tmp_path: Path) -> None:
    # A copy of the repository, so the keys, site and outputs it writes do not touch the working tree.
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
    sealed = (copy / ".eventdeck" / "sealed.jsonl").read_text().splitlines()
    opened = (copy / ".eventdeck" / "opened.jsonl").read_text().splitlines()
    assert len(sealed) == len(opened) >= 20
    assert (copy / ".eventdeck" / "contract.json").is_file()  # the runtime ran from the bundled artefact
