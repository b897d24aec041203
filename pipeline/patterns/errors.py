"""The one error a pattern can raise: where it is wrong, and how EventBridge would word the reason."""

from __future__ import annotations

from pipeline.errors import EventdeckError


class PatternError(EventdeckError, ValueError):
    """A pattern EventBridge would reject (or eventdeck cannot honour exactly); ``path`` says where in the pattern,
    as a JSON pointer (``/detail/state/0``)."""

    def __init__(self, message: str, path: str) -> None:
        self.path = path
        super().__init__(f"event pattern at '{path or '/'}': {message}")
