"""The kit's errors: each names the event, or the subscription file, line and pointer, that it is about."""

from __future__ import annotations

from pipeline.contract.errors import Location
from pipeline.errors import EventdeckError


class KitError(EventdeckError):
    """The kit cannot answer: an unknown event or hierarchy level, a filter the bus cannot apply."""


class SubscriptionError(KitError):
    """A subscription file is wrong. ``problems`` holds one ``(location, message)`` per mistake, in file order."""

    def __init__(self, problems: list[tuple[Location, str]]) -> None:
        self.problems = problems
        super().__init__("\n".join(f"{where}: {message}" for where, message in problems))
