"""Shared test fixtures: where the examples and the shared corpus are, and a fresh contract loader."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

from pipeline.contract import ContractLoader

# Property tests decide on values, never on time: hypothesis' default 200 ms deadline per example fails tests at
# random on a shared, loaded machine (CI runs two workers on two cores). Explicit @settings still apply on top.
settings.register_profile("eventdeck", deadline=None)
settings.load_profile("eventdeck")

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "asyncapi"
SHARED = ROOT.parent / "shared"
CORPUS = SHARED / "corpus" / "asyncapi"
IN_CI = os.environ.get("CI", "").lower() == "true"


def require_corpus() -> Path:
    """The shared corpus; skipped where it is absent, but a failure in CI, which always has it."""
    if not CORPUS.is_dir():
        if IN_CI:
            pytest.fail(f"the shared corpus is missing at {CORPUS}; CI must have ../shared")
        pytest.skip(f"shared corpus not found at {CORPUS}")
    return CORPUS


@pytest.fixture
def loader() -> ContractLoader:
    return ContractLoader()


@pytest.fixture(scope="session")
def examples_catalogue():
    return ContractLoader().load([EXAMPLES])


def write(folder: Path, name: str, text: str) -> Path:
    """Write a small document for a test and return its path."""
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
