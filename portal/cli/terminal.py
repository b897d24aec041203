"""What the CLI prints reaches a terminal only with its control characters escaped.

Documents, events and tokens are hostile input, and a command echoes their text (event names, titles, ids,
diagnostics that quote a bad value). Written raw, an ESC sequence could rewrite the screen, set the window title or
hide a line, and a bidi override could make an error read as something else ("Trojan Source"). This edge wraps both
output streams for the length of one command: every C0/C1 control except tab, newline and carriage return, DEL, and
the Unicode bidi controls are written as visible escapes in JSON's own form (``\\u001b``, ``\\u202e``), so JSON
output stays valid JSON that decodes to the same text.
"""

from __future__ import annotations

import contextlib
import re
import sys
from collections.abc import Iterator
from typing import Any, Final, TextIO

__all__ = ["SafeStream", "printable", "safe_streams"]

_BIDI: Final = (0x200E, 0x200F, 0x061C, *range(0x202A, 0x202F), *range(0x2066, 0x206A))
_UNSAFE: Final = [c for c in (*range(0x00, 0x20), *range(0x7F, 0xA0)) if chr(c) not in "\t\n\r"] + list(_BIDI)
_ESCAPES: Final = {c: f"\\u{c:04x}" for c in _UNSAFE}  # JSON's own escape: JSON output stays valid
_NEEDS_ESCAPE: Final = re.compile("[" + "".join(re.escape(chr(c)) for c in _UNSAFE) + "]")


def printable(text: str) -> str:
    """``text`` with its terminal control characters written as visible escapes."""
    return text.translate(_ESCAPES) if _NEEDS_ESCAPE.search(text) else text


class SafeStream:
    """A text stream that escapes control characters on their way to the wrapped stream."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(printable(text))
        return len(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:  # flush, isatty, encoding, fileno…: the wrapped stream's own
        return getattr(self._stream, name)


@contextlib.contextmanager
def safe_streams() -> Iterator[None]:
    """Wrap ``sys.stdout`` and ``sys.stderr`` in :class:`SafeStream` for the duration of the block."""
    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = SafeStream(out), SafeStream(err)  # type: ignore[assignment]
    try:
        yield
    finally:
        sys.stdout, sys.stderr = out, err
