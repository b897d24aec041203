"""``x-eventbridge``, typed: where a document's events are put on Amazon EventBridge."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import Location


@dataclass(frozen=True, slots=True)
class EventBridge:
    """A document's (or server's) ``x-eventbridge``: the ``source`` its events carry, the bus (name or ARN), and
    the region and account of the bus when declared."""

    source: str | None
    bus: str | None
    region: str | None
    account: str | None
    location: Location | None = None

    @classmethod
    def from_extension(cls, value: Any, location: Location | None = None) -> EventBridge | None:
        """The parsed extension, or ``None`` when there is none. Members of the wrong type are left out; the
        contract checks report them against the extension's JSON Schema."""
        if not isinstance(value, Mapping):
            return None
        source, bus, region, account = (_text(value, key) for key in ("source", "bus", "region", "account"))
        return cls(source, bus, region, account, location)


def _text(value: Mapping[str, Any], key: str) -> str | None:
    member = value.get(key)
    return member if isinstance(member, str) and member else None
