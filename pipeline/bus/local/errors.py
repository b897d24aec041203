"""What the local bus raises: one family under :class:`LocalBusError`, each message naming the file or the rule."""

from __future__ import annotations

from pipeline.errors import EventdeckError

__all__ = ["BusStoreError", "LocalBusError", "ReplayError", "RuleError", "UnknownRule"]


class LocalBusError(EventdeckError):
    """Base of every error of the embedded local bus."""


class BusStoreError(LocalBusError):
    """The bus file cannot be used: not a SQLite database, another application's database, written by a newer
    eventdeck, or a path that cannot be created or written. ``path`` names the file."""

    def __init__(self, message: str, *, path: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path


class RuleError(LocalBusError, ValueError):
    """A rule, a target or a retry policy EventBridge would refuse (``where`` names the rule and the field)."""

    def __init__(self, message: str, *, where: str) -> None:
        super().__init__(f"{where}: {message}")
        self.where = where


class UnknownRule(LocalBusError, LookupError):
    """No rule of that name on this bus."""


class ReplayError(LocalBusError, ValueError):
    """A replay window or name the bus refuses (end before start, a name already used…)."""
