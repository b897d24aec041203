"""pytest plugin (``-p jose_unchecked``): make the installed joserfc look like a release that
pipeline/sealing/jose.py was not checked against, so every test seals and opens through joserfc's public API.

Loaded before conftest.py and the test modules, hence before anything imports :mod:`pipeline.sealing.jose`.
"""

from __future__ import annotations

import importlib.metadata
from typing import Any

_installed = importlib.metadata.version


def _version(name: str) -> str:
    return "0.0.0+unchecked" if name == "joserfc" else _installed(name)


importlib.metadata.version = _version


def pytest_configure(config: Any) -> None:
    from pipeline.sealing import jose

    assert jose.DEFAULT_BACKEND is jose.PUBLIC, "the public-API fallback is not in use"


def pytest_terminal_summary(terminalreporter: Any) -> None:
    from pipeline.sealing import jose

    terminalreporter.write_line(f"JOSE backend: {jose.DEFAULT_BACKEND.name} (joserfc made to look unchecked)")
