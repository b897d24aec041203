"""The CloudEvents 1.0 envelope, built as a plain dict on the hot path.

:func:`build_cloud_event` makes a structured-mode CloudEvent (JSON format) with:

=================  ==========================================================================================
attribute          value
=================  ==========================================================================================
``id``             a ULID from the caller's id generator (``new_id``), strictly increasing even within one ms
``specversion``    ``"1.0"``
``source``         the producer (URI-reference), given by the caller
``type``           the message name, e.g. ``Payment.Authorised.Ecom``
``subject``        optional, given by the caller
``time``           RFC 3339 UTC with milliseconds (``...T12:00:00.123Z``); by default now, by the caller's clock
``datacontenttype````application/json`` (a sealed event carries ``application/jwt``, see :mod:`pipeline.sealing.seal`)
``dataschema``     optional URL of the payload schema, given by the caller
``dataversion``    extension: the contract version (CloudEvents extension names are ``[a-z0-9]+``)
``idempotencykey`` extension: :func:`pipeline.envelope.canonical.idempotency_key` of ``(type, data)``
``traceparent``    extension (CloudEvents Distributed Tracing): the W3C trace context, when the caller has one
``data``           the payload (JSON value)
=================  ==========================================================================================

The CloudEvents SDK is not used here (it costs 10-20x a dict, pipeline-anchors §4); the tests parse what we
build with the SDK to prove it valid.

Time and identity are parameters: the builders take a ``clock`` (epoch milliseconds) and an id generator
``new_id``; by default the wall clock and :data:`PROCESS_IDS`, the process-wide :class:`MonotonicUlid`. A
producer passes its own (:class:`~pipeline.produce.Producer` owns one of each), and a test passes a fixed clock
and a generator with fixed randomness to get the same event every time.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time as _time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from pipeline.envelope.canonical import HashAlgorithm, idempotency_key
from pipeline.errors import UlidOverflow

__all__ = [
    "PROCESS_IDS",
    "SPECVERSION",
    "Clock",
    "CloudEvent",
    "EventTimes",
    "IdGenerator",
    "MonotonicUlid",
    "build_cloud_event",
    "cloud_event_dict",
    "new_event_id",
    "rfc3339_utc",
    "traceparent_problem",
    "ulid_ms",
    "ulid_text",
    "wall_clock_ms",
]

SPECVERSION: Final = "1.0"
JSON_CONTENT_TYPE: Final = "application/json"

_RANDOM_BITS: Final = 80
_RANDOM_MAX: Final = (1 << _RANDOM_BITS) - 1
_MAX_MS: Final = (1 << 48) - 1


#: Returns the current time in milliseconds since the Unix epoch.
Clock = Callable[[], int]
#: Returns a fresh event id (text) on each call.
IdGenerator = Callable[[], str]


def wall_clock_ms() -> int:
    """The system clock in milliseconds since the Unix epoch: the default :data:`Clock`."""
    return _time.time_ns() // 1_000_000


class MonotonicUlid:
    """A thread-safe ULID generator whose ids strictly increase within this process.

    In a new millisecond the 80-bit random part is fresh (``os.urandom``); when the millisecond repeats it is
    the previous random part plus one (ULID spec, "monotonicity"). If the clock steps backwards the
    generator keeps the last millisecond and goes on incrementing, so ids never go backwards in a process.
    Across generators (and processes) only the millisecond orders ids.

    An instance is an :data:`IdGenerator`: calling it returns the next id as ULID text.

    :param clock: milliseconds since the epoch; injectable for tests.
    :param randomness: returns 10 random bytes; injectable for tests (fixed bytes give the same ids every run).
    """

    __slots__ = ("_clock", "_last_ms", "_last_random", "_lock", "_randomness")

    def __init__(
        self,
        clock: Clock = wall_clock_ms,
        randomness: Callable[[int], bytes] = os.urandom,
    ) -> None:
        self._clock = clock
        self._randomness = randomness
        self._lock = threading.Lock()
        self._last_ms = -1
        self._last_random = 0

    def next_value(self) -> int:
        """Return the next ULID as a 128-bit integer (48-bit ms, 80-bit random part).

        :raises UlidOverflow: if 2**80 ids were asked for within one millisecond (the spec requires failing).
        """
        now = self._clock()
        with self._lock:
            if now > self._last_ms:
                ms = now
                rand = int.from_bytes(self._randomness(10), "big")
            else:
                ms = self._last_ms
                rand = self._last_random + 1
                if rand > _RANDOM_MAX:
                    raise UlidOverflow(f"ULID random part exhausted within millisecond {ms}")
            self._last_ms = ms
            self._last_random = rand
        if ms > _MAX_MS:
            raise UlidOverflow(f"timestamp {ms} ms does not fit a ULID")
        return (ms << _RANDOM_BITS) | rand

    def __call__(self) -> str:
        """Return the next id as its 26-character ULID text (see :meth:`next_value`)."""
        return ulid_text(self.next_value())


# Crockford base32 two characters (10 bits) at a time from a 1,024-entry table: ~1 us, where python-ulid's
# object and text cost ~2.5 us per event (and the stdlib's b32encode is Python code). A test holds the two equal.
_CROCKFORD: Final = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_PAIRS: Final = tuple(a + b for a in _CROCKFORD for b in _CROCKFORD)
_PAIR_SHIFTS: Final = tuple(range(120, -1, -10))  # 13 pairs = 130 bits, the top two always zero


def ulid_text(value: int) -> str:
    """The 26-character Crockford base32 text of a 128-bit ULID ``value`` (as ``str(ULID)`` writes it)."""
    return "".join([_PAIRS[(value >> shift) & 1023] for shift in _PAIR_SHIFTS])


_CROCKFORD_VALUE: Final = {c: i for i, c in enumerate(_CROCKFORD)}
_CROCKFORD_SET: Final = frozenset(_CROCKFORD)


def ulid_ms(text: str) -> int | None:
    """The millisecond timestamp of a 26-character ULID ``text``; ``None`` when ``text`` is not a ULID (an id
    generator may make other ids)."""
    if len(text) != 26 or text[0] > "7" or not _CROCKFORD_SET.issuperset(text):
        return None
    ms = 0
    for char in text[:10]:
        ms = (ms << 5) | _CROCKFORD_VALUE[char]
    return ms


#: The process-wide id generator: the default ``new_id`` of :func:`cloud_event_dict` and :func:`new_event_id`.
PROCESS_IDS: Final = MonotonicUlid()


def new_event_id() -> str:
    """Return a fresh event id: the 26-character Crockford base32 ULID from :data:`PROCESS_IDS`."""
    return PROCESS_IDS()


def rfc3339_utc(moment: datetime | int) -> str:
    """Format an aware ``datetime`` (or epoch milliseconds) as RFC 3339 UTC with milliseconds and ``Z``.

    :raises ValueError: for a naive datetime (its zone is unknown).
    """
    if isinstance(moment, int):
        return _utc_text(datetime.fromtimestamp(moment / 1000, UTC))
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("event time must be timezone-aware")
    return _utc_text(moment.astimezone(UTC))


def _utc_text(moment: datetime) -> str:
    # isoformat is C code (half the cost of strftime); in UTC it always ends "+00:00".
    return moment.isoformat(timespec="milliseconds")[:-6] + "Z"


_UNSEEN: Final = object()
# The longest ISO 8601 instant is ~40 characters ("2026-03-14T10:15:03.123456+01:00"); longer texts are not kept.
_MAX_REMEMBERED_TEXT: Final = 64


class EventTimes:
    """The envelope's ``time`` for event times given as text (EventBridge's ``time``, any ISO 8601 instant with
    a zone), parsed and formatted once per distinct text: the internal events of a batch mostly share their
    second-resolution time, and parsing plus formatting costs several times a look-up.

    Bounded: at most ``max_entries`` texts of at most 64 characters are remembered, and a full cache is emptied.
    Owned by whoever makes envelopes (a :class:`~pipeline.produce.Producer` has one); safe to share between
    threads (a race at worst formats a time twice).
    """

    __slots__ = ("_texts", "max_entries")

    def __init__(self, max_entries: int = 1024) -> None:
        if max_entries < 1:
            raise ValueError(f"max_entries must be 1 or more, not {max_entries}")
        self.max_entries = max_entries
        self._texts: dict[str, str | None] = {}

    def __len__(self) -> int:
        """The number of texts remembered now (at most ``max_entries``)."""
        return len(self._texts)

    def text_of(self, value: str) -> str | None:
        """``value`` as RFC 3339 UTC text with milliseconds (what :func:`rfc3339_utc` writes), or ``None`` when
        it is not an ISO 8601 date-time with a zone."""
        text = self._texts.get(value, _UNSEEN)
        if text is not _UNSEEN:
            return text  # type: ignore[return-value]
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            text = None
        else:
            aware = moment.tzinfo is not None and moment.utcoffset() is not None
            text = rfc3339_utc(moment) if aware else None
        if len(value) > _MAX_REMEMBERED_TEXT:
            return text  # not an event time anyone writes: parsed, but not kept (the bound is on count, not size)
        texts = self._texts
        if len(texts) >= self.max_entries:
            texts.clear()
        texts[value] = text
        return text


@dataclass(frozen=True, slots=True)
class CloudEvent:
    """A CloudEvents 1.0 event with eventdeck's extensions; immutable.

    Attribute names are the CloudEvents ones. ``to_dict`` gives the structured JSON form (optional
    attributes that are ``None`` are left out, as the JSON format requires).
    """

    id: str
    source: str
    type: str
    time: str
    data: Any
    idempotencykey: str
    subject: str | None = None
    datacontenttype: str = JSON_CONTENT_TYPE
    dataschema: str | None = None
    dataversion: str | None = None
    specversion: str = SPECVERSION

    def to_dict(self) -> dict[str, Any]:
        """Return the structured-mode JSON object as a new dict (``data`` is shared, not copied)."""
        out: dict[str, Any] = {
            "specversion": self.specversion,
            "id": self.id,
            "source": self.source,
            "type": self.type,
            "time": self.time,
            "datacontenttype": self.datacontenttype,
            "idempotencykey": self.idempotencykey,
        }
        if self.subject is not None:
            out["subject"] = self.subject
        if self.dataschema is not None:
            out["dataschema"] = self.dataschema
        if self.dataversion is not None:
            out["dataversion"] = self.dataversion
        out["data"] = self.data
        return out

    def to_json(self) -> str:
        """Return ``to_dict()`` as compact JSON text (``application/cloudevents+json``)."""
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":"), allow_nan=False)

    @classmethod
    def from_dict(cls, event: Mapping[str, Any]) -> CloudEvent:
        """Rebuild from a structured-mode dict (as made by :meth:`to_dict`); unknown extensions are dropped.

        :raises KeyError: when a required attribute is missing.
        """
        return cls(
            id=event["id"],
            source=event["source"],
            type=event["type"],
            time=event["time"],
            data=event.get("data"),
            idempotencykey=event["idempotencykey"],
            subject=event.get("subject"),
            datacontenttype=event.get("datacontenttype", JSON_CONTENT_TYPE),
            dataschema=event.get("dataschema"),
            dataversion=event.get("dataversion"),
            specversion=event.get("specversion", SPECVERSION),
        )


def build_cloud_event(
    *,
    type: str,  # the CloudEvents attribute name
    source: str,
    data: Any,
    subject: str | None = None,
    dataschema: str | None = None,
    dataversion: str | None = None,
    time: datetime | str | None = None,
    id: str | None = None,  # the CloudEvents attribute name
    hash_algorithm: HashAlgorithm = "md5",
    clock: Clock = wall_clock_ms,
    new_id: IdGenerator = PROCESS_IDS,
) -> CloudEvent:
    """Build the envelope for one event; see :func:`cloud_event_dict` for the parameters and errors."""
    return CloudEvent.from_dict(cloud_event_dict(
        type=type, source=source, data=data, subject=subject, dataschema=dataschema, dataversion=dataversion,
        time=time, id=id, hash_algorithm=hash_algorithm, clock=clock, new_id=new_id,
    ))


def cloud_event_dict(
    *,
    type: str,  # the CloudEvents attribute name
    source: str,
    data: Any,
    subject: str | None = None,
    dataschema: str | None = None,
    dataversion: str | None = None,
    time: datetime | str | None = None,
    id: str | None = None,  # the CloudEvents attribute name
    hash_algorithm: HashAlgorithm = "md5",
    clock: Clock = wall_clock_ms,
    new_id: IdGenerator = PROCESS_IDS,
    traceparent: str | None = None,
) -> dict[str, Any]:
    """Build the envelope for one event as the structured-mode dict (what :meth:`CloudEvent.to_dict` gives);
    the producer's hot path, which needs the dict, not the object.

    :param id: reuse an id already assigned to this logical event (a retry must keep its id, CloudEvents
        ``source``+``id`` is the spec's duplicate marker); by default ``new_id()``.
    :param time: when the event happened: an aware datetime, or text already in the envelope's form (from
        :func:`rfc3339_utc` or :meth:`EventTimes.text_of`, used as is); by default ``clock()``.
    :param hash_algorithm: ``"md5"`` (default, as documented for the field) or ``"sha256"``.
    :param clock: the current time in epoch milliseconds; by default the wall clock.
    :param new_id: makes the event's id; by default :data:`PROCESS_IDS` (ULIDs, increasing within the process).
    :param traceparent: a W3C ``traceparent`` (check it with :func:`traceparent_problem`), carried as the
        CloudEvents Distributed Tracing extension attribute.
    :raises NonCanonicalValue: when ``data`` has no canonical JSON form.
    :raises ValueError: for a naive ``time``.
    """
    if id is None:
        id = new_id()
    if time is None:
        stamp = rfc3339_utc(clock())
    elif isinstance(time, str):
        stamp = time
    else:
        stamp = rfc3339_utc(time)
    out: dict[str, Any] = {
        "specversion": SPECVERSION,
        "id": id,
        "source": source,
        "type": type,
        "time": stamp,
        "datacontenttype": JSON_CONTENT_TYPE,
        "idempotencykey": idempotency_key(type, data, hash_algorithm),
    }
    if subject is not None:
        out["subject"] = subject
    if dataschema is not None:
        out["dataschema"] = dataschema
    if dataversion is not None:
        out["dataversion"] = dataversion
    if traceparent is not None:
        out["traceparent"] = traceparent
    out["data"] = data
    return out


# W3C Trace Context, "traceparent": version-traceid-parentid-flags in lower-case hex; version ff is invalid, an
# all-zero trace or parent id is invalid, version 00 has exactly these four fields, a later version may add more
# after a dash (and a reader of version 00 parses the first four).
_TRACEPARENT: Final = re.compile(r"([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?", re.DOTALL)
_MAX_TRACEPARENT: Final = 512


def traceparent_problem(value: Any) -> str | None:
    """Why ``value`` is not a valid W3C ``traceparent`` header value (``None`` when it is one)."""
    if not isinstance(value, str):
        return f"a traceparent is text, not {type(value).__name__}"
    if len(value) > _MAX_TRACEPARENT:
        return f"a traceparent of {len(value)} characters is not one"
    match = _TRACEPARENT.fullmatch(value)
    if match is None:
        return "a traceparent is version-traceid-parentid-flags in lower-case hex (2-32-16-2 digits)"
    version, trace_id, parent_id, _, rest = match.groups()
    if version == "ff":
        return "traceparent version ff is invalid"
    if version == "00" and rest is not None:
        return "a version 00 traceparent has exactly four fields"
    if trace_id == "0" * 32:
        return "a traceparent's trace id is not all zeros"
    if parent_id == "0" * 16:
        return "a traceparent's parent id is not all zeros"
    return None
