"""PutEvents entries checked as EventBridge checks them, and the event EventBridge would make of each.

A bad entry is that entry's :class:`~pipeline.bus.port.Rejected` (never an exception), with EventBridge's error
code where it has one: ``InvalidArgument`` for a missing or mistyped field, ``MalformedDetail`` when ``Detail`` is
not a JSON object, ``NotAuthorizedForSourceException`` for an ``aws.`` source, and eventdeck's ``EntryTooLarge``
over the size limit (computed with :func:`~pipeline.bus.port.entry_size`).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import orjson

from pipeline.bus.port import ENTRY_FIELDS, Rejected, entry_size

__all__ = ["AcceptedEvent", "event_from_entry", "parse_time", "utc_text"]

# A JSON number of 19 digits or more (after ':', '[' or ','): maybe beyond 64 bits.
_LONG_NUMBER: Final = re.compile(r"[:\[,]\s*-?\d{19}")

#: EventBridge's limit on ``TraceHeader``.
MAX_TRACE_HEADER: Final = 500


@dataclass(frozen=True, slots=True)
class AcceptedEvent:
    """An entry made into an EventBridge event: ``event`` as a dict (for matching), ``body`` its JSON."""

    event: dict[str, Any]
    body: bytes
    time_ms: int


def _invalid(field: str, reason: str) -> Rejected:
    return Rejected("InvalidArgument", f"Parameter {field} is not valid. Reason: {reason}")


def parse_time(value: Any) -> datetime:
    """A ``datetime`` (naive means UTC), epoch seconds, or ISO 8601 text as an aware UTC datetime.

    :raises ValueError: for anything else."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        moment = datetime.fromtimestamp(value, UTC)
    elif isinstance(value, str):
        moment = datetime.fromisoformat(value.strip())
    else:
        raise ValueError(f"expected a date-time, not {type(value).__name__}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def utc_text(moment: datetime) -> str:
    """EventBridge's ``time``: UTC to the second, ``Z``."""
    second = int(moment.timestamp())
    if _last_second[0] != second:  # events come in bursts within one second: format it once
        _last_second[:] = [second, moment.strftime("%Y-%m-%dT%H:%M:%SZ")]
    return str(_last_second[1])


_last_second: list[Any] = [None, ""]


def new_event_id() -> str:
    """A random (version 4) UUID as text, like EventBridge's event ids; ``uuid.uuid4`` costs twice as much."""
    raw = bytearray(os.urandom(16))
    raw[6] = (raw[6] & 0x0F) | 0x40
    raw[8] = (raw[8] & 0x3F) | 0x80
    text = raw.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def _bus_name(value: str) -> str:
    return value.rsplit("/", 1)[-1] if value.startswith("arn:") else value


def event_from_entry(entry: Any, *, now: datetime, account: str, region: str, max_entry_bytes: int,
                     bus_names: Collection[str] | None) -> AcceptedEvent | Rejected:
    """Check one PutEvents entry; return the event the bus stores and routes, or why it is refused.

    ``bus_names`` are the names (or ARNs) an entry's ``EventBusName`` may give; ``None`` accepts any (the local bus
    standing in for every bus of a contract)."""
    if not isinstance(entry, Mapping):
        return Rejected("InvalidArgument", f"an entry must be an object, not {type(entry).__name__}")
    unknown = [k for k in entry if k not in ENTRY_FIELDS]
    if unknown:
        return Rejected("InvalidArgument", f"unknown entry field(s): {', '.join(sorted(map(str, unknown)))}")
    source, detail_type, detail = entry.get("Source"), entry.get("DetailType"), entry.get("Detail")
    for field, value in (("Source", source), ("DetailType", detail_type), ("Detail", detail)):
        if value is None:
            return _invalid(field, f"{field} is a required argument.")
        if not isinstance(value, str) or not value:
            return _invalid(field, f"{field} must be a non-empty string.")
    assert isinstance(source, str) and isinstance(detail_type, str) and isinstance(detail, str)
    if source.startswith("aws."):
        return Rejected("NotAuthorizedForSourceException", f"Not authorized for the source {source!r}.")
    resources = entry.get("Resources", [])
    if not isinstance(resources, list | tuple) or not all(isinstance(r, str) and r for r in resources):
        return _invalid("Resources", "Resources must be a list of non-empty strings.")
    trace = entry.get("TraceHeader")
    if trace is not None and (not isinstance(trace, str) or len(trace) > MAX_TRACE_HEADER):
        return _invalid("TraceHeader", f"TraceHeader must be a string of at most {MAX_TRACE_HEADER} characters.")
    bus = entry.get("EventBusName")
    if bus is not None:
        if not isinstance(bus, str) or not bus:
            return _invalid("EventBusName", "EventBusName must be a non-empty string.")
        if bus_names is not None and _bus_name(bus) not in bus_names:
            return Rejected("ResourceNotFoundException", f"Event bus {bus} does not exist.")
    size = entry_size(entry)
    if size > max_entry_bytes:
        return Rejected("EntryTooLarge", f"the entry is {size:,} bytes; the limit is {max_entry_bytes:,}")
    raw_time = entry.get("Time")
    if raw_time is None:
        moment = now
    else:
        try:
            moment = parse_time(raw_time)
        except (ValueError, OverflowError, OSError) as exc:
            return _invalid("Time", f"{raw_time!r} is not a timestamp ({exc}).")
    try:
        if _LONG_NUMBER.search(detail):
            # orjson turns integers beyond 64 bits into floats silently; the standard parser keeps them exact
            # (orjson then refuses to write them), and refuses NaN/Infinity through parse_constant.
            payload = json.loads(detail, parse_constant=_no_constant)
        else:
            payload = orjson.loads(detail)
    except (ValueError, RecursionError):
        return Rejected("MalformedDetail", "Detail is malformed: not JSON, or nested too deeply.")
    if not isinstance(payload, dict):
        return Rejected("MalformedDetail", "Detail is malformed: it must be a JSON object.")
    event: dict[str, Any] = {"version": "0", "id": new_event_id(), "detail-type": detail_type,
                             "source": source, "account": account, "time": utc_text(moment), "region": region,
                             "resources": list(resources), "detail": payload}
    try:
        body = orjson.dumps(event)
    except orjson.JSONEncodeError:
        return Rejected("MalformedDetail", "Detail is malformed: integers beyond 64 bits, or nested too deeply.")
    return AcceptedEvent(event, body, int(moment.timestamp() * 1000))


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")
