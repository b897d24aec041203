"""Read JSON values for the debugging commands: a file or stdin holding one value, an array, or JSON Lines."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any


class InputError(ValueError):
    """Unreadable input, naming the file (or stdin) and line."""


def read_values(paths: list[str]) -> Iterator[tuple[str, Any]]:
    """``(where, value)`` for every JSON value in ``paths`` ("-" is stdin); arrays are flattened."""
    for path in paths or ["-"]:
        name = "<stdin>" if path == "-" else path
        try:
            text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise InputError(f"{name}: cannot read: {exc.strerror}") from None
        yield from _values(text, name)


def _values(text: str, name: str) -> Iterator[tuple[str, Any]]:
    stripped = text.strip()
    if not stripped:
        return
    try:
        value = json.loads(stripped)
    except json.JSONDecodeError:
        value = None
        for number, line in enumerate(text.splitlines(), start=1):  # JSON Lines
            if not line.strip():
                continue
            try:
                yield f"{name}:{number}", json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"{name}:{number}:{exc.colno}: invalid JSON: {exc.msg}") from None
        return
    if isinstance(value, list):
        for index, item in enumerate(value):
            yield f"{name}[{index}]", item
    else:
        yield name, value
