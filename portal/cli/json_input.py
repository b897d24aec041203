"""Read events for the debugging commands (``seal``, ``open``): files or stdin holding one JSON object, an array of
objects, or JSON Lines.

A batch always completes: every readable event is returned, and everything that cannot be read becomes an
:class:`UnreadableInput` naming the file, the line (JSON Lines) or the index (arrays) and the reason, in input
order, so the command can report it and go on. The input is read strictly, as a contract is: UTF-8 only, no
duplicate keys, no ``NaN``/``Infinity`` and no number too large for a float (they would change meaning
silently).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

STDIN = "-"

_EXPECTED = "expected a JSON object, an array of objects, or JSON Lines (one object a line)"


@dataclass(frozen=True, slots=True)
class InputEvent:
    """One JSON object read from the input; ``where`` is ``file``, ``file:line`` or ``file[index]``."""

    where: str
    value: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class UnreadableInput:
    """Input that could not be read as an event; ``str()`` is the one line to report."""

    where: str
    reason: str

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}"


InputItem = InputEvent | UnreadableInput


class _Refused(ValueError):
    """A JSON text that parses but is refused (a duplicate key, a non-finite number)."""


def read_events(paths: Sequence[str], *, stdin: BinaryIO | None = None) -> Iterator[InputItem]:
    """Every event in ``paths`` (``-``, or no path at all: ``stdin``, by default the process's), in order, and
    an :class:`UnreadableInput` for each file, line or array item that is not one."""
    for path in paths or [STDIN]:
        name = "<stdin>" if path == STDIN else path
        try:
            data = _stdin_bytes(stdin) if path == STDIN else Path(path).read_bytes()
        except IsADirectoryError:
            yield UnreadableInput(name, "is a directory, not a file of events")
            continue
        except OSError as exc:
            yield UnreadableInput(name, f"cannot read: {exc.strerror or type(exc).__name__}")
            continue
        yield from _items(data, name)


def _stdin_bytes(stdin: BinaryIO | None) -> bytes:
    if stdin is not None:
        return stdin.read()
    buffer = getattr(sys.stdin, "buffer", None)
    if buffer is not None:
        data: bytes = buffer.read()
        return data
    return sys.stdin.read().encode("utf-8")  # a text-only stdin (an embedding): already decoded


def _items(data: bytes, name: str) -> Iterator[InputItem]:
    data = data.removeprefix(b"\xef\xbb\xbf")  # a UTF-8 byte order mark, as some editors write
    if not data.strip():
        yield UnreadableInput(name, f"empty: no events ({_EXPECTED})")
        return
    try:
        whole: Any = _parse(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        broken = UnreadableInput(name, f"not UTF-8 text (byte {exc.start}); eventdeck reads JSON as UTF-8 "
                                       "(RFC 8259): convert the file first")
    except json.JSONDecodeError as exc:
        broken = UnreadableInput(f"{name}:{exc.lineno}:{exc.colno}", f"invalid JSON: {exc.msg}")
    except (_Refused, RecursionError) as exc:
        broken = UnreadableInput(name, _refusal(exc))
    else:
        yield from _whole(whole, name)
        return
    lines = [_line(raw, f"{name}:{number}") for number, raw in enumerate(data.split(b"\n"), start=1) if raw.strip()]
    if any(parsed for _, parsed in lines):
        yield from (item for item, _ in lines)  # JSON Lines: every line that reads, the others with their number
    else:
        yield broken  # not one line is JSON on its own: a single document, broken


def _whole(value: Any, name: str) -> Iterator[InputItem]:
    if isinstance(value, dict):
        yield InputEvent(name, value)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            where = f"{name}[{index}]"
            yield InputEvent(where, item) if isinstance(item, dict) else UnreadableInput(where, _not_object(item))
    else:
        yield UnreadableInput(name, f"{_not_object(value)}: {_EXPECTED}")


def _line(raw: bytes, where: str) -> tuple[InputItem, bool]:
    """The item of one JSON Lines line, and whether the line is JSON at all."""
    try:
        value = _parse(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        return UnreadableInput(where, f"not UTF-8 text (byte {exc.start} of the line)"), False
    except json.JSONDecodeError as exc:
        return UnreadableInput(f"{where}:{exc.colno}", f"invalid JSON: {exc.msg}"), False
    except (_Refused, RecursionError) as exc:
        return UnreadableInput(where, _refusal(exc)), False
    if isinstance(value, dict):
        return InputEvent(where, value), True
    return UnreadableInput(where, _not_object(value)), True


def _not_object(value: Any) -> str:
    kind = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(type(value), "a number")
    return f"not a JSON object but {kind}"


def _refusal(exc: Exception) -> str:
    return "JSON nested too deeply to read" if isinstance(exc, RecursionError) else str(exc)


def _parse(text: str) -> Any:
    return json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_no_constant, parse_float=_finite)


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _Refused(f"duplicate key {key[:100]!r} (JSON keeps only one; which one is not defined)")
        result[key] = value
    return result


def _no_constant(text: str) -> Any:
    raise _Refused(f"{text} is not a JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise _Refused(f"the number {text[:40]} is too large for a double")
    return value
