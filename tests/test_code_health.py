"""The code stays ruff-clean, and both packages (the deployable pipeline and the portal) keep honest type hints
(mypy)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import ROOT


def test_ruff_finds_nothing() -> None:
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "pipeline", "portal", "tests", "scripts"],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_mypy_passes_on_the_pipeline_and_the_portal() -> None:
    result = subprocess.run([sys.executable, "-m", "mypy", "pipeline", "portal"], cwd=ROOT, capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stdout + result.stderr
