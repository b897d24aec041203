"""A one-line progress bar on stderr for the long local runs (``eventdeck run``, ``replay``, ``dlq redrive``).

Shown only when the stream is a terminal and the work has lasted ``after_seconds``: a short run prints nothing
extra, and a pipe or a log file never gets carriage returns. It redraws at most ten times a second and erases
itself when closed, so the summary that follows starts on a clean line. Only ``\\r`` and spaces are written (no
escape sequences: the CLI's safe streams would show those as text).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

_WIDTH = 30


class Progress:
    """``update(done, total)`` as the work advances; ``close()`` (or a ``with`` block) when it is over.

    :param label: what is counted (``"delivered"``).
    :param stream: where to draw; default ``sys.stderr`` at construction.
    :param after_seconds: draw nothing before the work has lasted this long.
    :param clock: seconds, monotonic (a parameter so the behaviour can be tested without waiting).
    """

    def __init__(self, label: str, *, stream: TextIO | None = None, after_seconds: float = 0.5,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = _is_terminal(self.stream)
        self.after_seconds = after_seconds
        self.clock = clock
        self.started = clock()
        self._drawn_at: float | None = None
        self._width = 0

    def update(self, done: int, total: int | None = None) -> None:
        """Show ``done`` of ``total`` (a bar), or ``done`` alone when the total is not known in advance."""
        if not self.enabled:
            return
        now = self.clock()
        if now - self.started < self.after_seconds or (self._drawn_at is not None and now - self._drawn_at < 0.1):
            return
        self._drawn_at = now
        if total is None:
            line = f"{self.label} {done}"
        else:
            filled = _WIDTH * min(done, total) // total if total > 0 else 0
            line = f"{self.label} [{'#' * filled}{'.' * (_WIDTH - filled)}] {done}/{total}"
        self.stream.write("\r" + line.ljust(self._width))
        self.stream.flush()
        self._width = len(line)

    def say(self, line: str) -> None:
        """Print ``line`` to the stream on a line of its own (the bar is erased first, and redrawn by the next
        update)."""
        self.close()
        print(line, file=self.stream)

    def close(self) -> None:
        if self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
            self._width = 0

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _is_terminal(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False
