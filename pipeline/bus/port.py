"""The Bus port: what the producer, the outbox and ``eventdeck run`` need from an event bus, and nothing more.

A bus takes PutEvents-shaped entries (``Source``, ``DetailType``, ``Detail``, optional ``Time``, ``Resources``,
``TraceHeader``, ``EventBusName``) and answers **per entry**, in the order given: accepted with the event id the
bus assigned, or failed with a code, a message and whether trying again can help. That is exactly the shape of
EventBridge's ``PutEvents`` answer, so an adapter for it is thin and the embedded local bus can promise the same
semantics. An adapter never raises for one bad entry; it raises :class:`BusUnavailable` only when it could not
answer for the batch at all (nothing is known to be accepted).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol, runtime_checkable

from pipeline.errors import EventdeckError

__all__ = [
    "DEFAULT_MAX_ENTRY_BYTES",
    "ENTRY_FIELDS",
    "MAX_BATCH_ENTRIES",
    "Accepted",
    "Bus",
    "BusUnavailable",
    "EntryResult",
    "Rejected",
    "entry_size",
]

#: PutEvents takes at most 10 entries per call.
MAX_BATCH_ENTRIES: Final = 10

#: The PutEvents entry size limit EventBridge documents by default (256 KiB); adapters take it as a parameter,
#: since AWS raises limits per account and region.
DEFAULT_MAX_ENTRY_BYTES: Final = 256 * 1024

#: The PutEvents request entry fields an adapter passes on (anything else in an entry is refused).
ENTRY_FIELDS: Final = frozenset({"Source", "DetailType", "Detail", "Time", "Resources", "TraceHeader", "EventBusName"})


def entry_size(entry: Mapping[str, Any]) -> int:
    """EventBridge's size of a PutEvents entry, computed as AWS documents it ("Calculating PutEvents event entry
    size"): the UTF-8 bytes of ``Source``, ``DetailType`` and ``Detail``, of every ``Resources`` ARN, plus 14 when
    a ``Time`` is given."""
    size = sum(len(str(entry.get(k, "")).encode()) for k in ("Source", "DetailType", "Detail"))
    size += sum(len(str(r).encode()) for r in entry.get("Resources", ()))
    return size + (14 if entry.get("Time") else 0)


@dataclass(frozen=True, slots=True)
class Accepted:
    """The bus took the entry: ``event_id`` is the id the bus assigned (EventBridge's ``EventId``)."""

    event_id: str


@dataclass(frozen=True, slots=True)
class Rejected:
    """The bus did not take the entry. ``code`` is EventBridge's ``ErrorCode`` where there is one
    (``ThrottlingException``, ``InternalException``, ``MalformedDetail``…) or eventdeck's own (``EntryTooLarge``,
    ``Undeliverable`` once retries are spent); ``retryable`` says whether sending the same entry again can help."""

    code: str
    message: str
    retryable: bool = False


EntryResult = Accepted | Rejected


class BusUnavailable(EventdeckError):
    """The bus could not be reached or answered for none of the entries: the caller keeps every entry (the outbox
    leaves them unsent) and tries again later."""


@runtime_checkable
class Bus(Protocol):
    """An event bus: ``put_events`` answers one :data:`EntryResult` per entry, in order.

    Any number of entries may be passed; an adapter splits them into the batches its bus accepts. It resends what
    failed retryably within its own policy, and returns what is still failed as :class:`Rejected`.
    """

    name: str

    def put_events(self, entries: Sequence[Mapping[str, Any]]) -> list[EntryResult]: ...
