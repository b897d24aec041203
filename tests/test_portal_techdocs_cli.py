"""The catalogue built by the official `@techdocs/cli generate --no-docker`, as Backstage CI does, in both set-ups:
(a) the plugin allowed with `--defaultPlugin eventdeck`, (b) zero configuration, from the pages `eventdeck docs`
pre-rendered (the CLI strips the eventdeck plugin from mkdocs.yml). Both give the same event pages."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from test_portal_build import _copy_repository, event_texts

from conftest import IN_CI, ROOT

pytestmark = pytest.mark.slow

CLI = ROOT / "tests" / "js" / "node_modules" / ".bin" / "techdocs-cli"


def generate(source: Path, output: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    if not CLI.exists() or shutil.which("node") is None:
        if IN_CI:
            pytest.fail("@techdocs/cli is missing from tests/js: run scripts/bootstrap")
        pytest.skip("@techdocs/cli not installed in tests/js (run scripts/bootstrap)")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.run([str(CLI), "generate", "--no-docker", "--source-dir", str(source), "--output-dir",
                           str(output), *extra], capture_output=True, text=True, timeout=600, env=env, check=False)


def test_techdocs_cli_builds_the_same_event_pages_with_and_without_the_plugin(tmp_path: Path) -> None:
    # The CLI rewrites mkdocs.yml in place, so each run gets its own copy of the repository.
    _copy_repository(tmp_path / "a")
    _copy_repository(tmp_path / "b")
    allowed = generate(tmp_path / "a", tmp_path / "site-a", "--defaultPlugin", "eventdeck")
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr
    stripped = generate(tmp_path / "b", tmp_path / "site-b")
    assert stripped.returncode == 0, stripped.stdout + stripped.stderr
    assert "Removed unsupported MkDocs plugins from mkdocs.yml: eventdeck" in stripped.stdout + stripped.stderr
    for site in (tmp_path / "site-a", tmp_path / "site-b"):
        assert (site / "techdocs_metadata.json").is_file()
        assert (site / "schemas" / "Payment.AuthorisedV2.Ecom" / "2.0.0.json").is_file()
    a, b = event_texts(tmp_path / "site-a"), event_texts(tmp_path / "site-b")
    assert "events/Payment.AuthorisedV2.Ecom/index.html" in a
    assert a == b
