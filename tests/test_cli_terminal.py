"""Text from documents reaches the terminal with its control characters escaped (``portal/cli/terminal.py``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_runner import run

from portal.cli.terminal import printable

HOSTILE = "\x1b]0;owned\x07\x1b[2J\u202egnp.exe\x85"


def _document(tmp_path: Path, version: str) -> Path:
    path = tmp_path / "orders.yaml"
    path.write_text(json.dumps({
        "asyncapi": "3.0.0",
        "info": {"title": "Orders", "version": version},
        "channels": {}, "operations": {},
    }), encoding="utf-8")
    return path


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_validate_never_prints_a_raw_control_character(tmp_path: Path, fmt: str) -> None:
    result = run("validate", "--format", fmt, _document(tmp_path, "1.0.0" + HOSTILE))
    assert "\\u001b" in result.output or fmt == "json"  # the version is echoed, escaped
    for char in "\x1b\x07\u202e\x85":
        assert char not in result.output
    if fmt == "json":
        assert json.loads(result.out)["documents"][0]["version"] == "1.0.0" + HOSTILE  # the same text, decoded


def test_printable_keeps_ordinary_text_and_layout() -> None:
    text = "Payment.Authorised — Zahlung autorisiert 支付\tok\r\nnext"
    assert printable(text) == text


def test_printable_escapes_every_c0_c1_and_bidi_control() -> None:
    controls = [chr(c) for c in (*range(0x20), *range(0x7F, 0xA0)) if chr(c) not in "\t\n\r"]
    controls += ["\u202a", "\u202e", "\u2066", "\u2069", "\u200f", "\u061c"]
    escaped = printable("".join(controls))
    assert all(c not in escaped for c in controls)
    assert json.loads(f'"{escaped}"') == "".join(controls)  # JSON's escapes: decodes back to the same text
