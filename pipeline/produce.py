"""The producer side of the pipeline: internal events in, EventBridge entries (or reasons) out.

internal event → route (the message whose ``x-enrichment.from`` pattern matches) → enrich (JSON Patch) → validate
(the published schema) → envelope (CloudEvent: ULID id, idempotency key, dataschema) → seal (nested JWT, or plain
for ``x-sealing: none``) → the EventBridge entry. Everything that can be decided once — patterns, patches,
validators, sealers — is compiled when the :class:`Producer` is built; each event then yields one outcome per
public event it becomes, and a failure is a :class:`Failed` outcome with the internal event's id, never an
exception that loses the rest of the batch.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import orjson

from pipeline.contract.model import Catalogue, Document, Event
from pipeline.enrichment.enrich import Enrichment, EnrichmentFailed, compile_enrichment
from pipeline.envelope.cloudevent import (
    Clock,
    EventTimes,
    IdGenerator,
    MonotonicUlid,
    cloud_event_dict,
    rfc3339_utc,
    traceparent_problem,
    ulid_ms,
    wall_clock_ms,
)
from pipeline.errors import EventdeckError, OversizedEvent, SealingError
from pipeline.patterns import EventPattern, compile_pattern
from pipeline.schemas.registry import RegistryLayout, SchemaRegistry
from pipeline.schemas.validate import PayloadInvalid, PayloadValidator
from pipeline.sealing.keys import KeySet
from pipeline.sealing.seal import (
    EVENTBRIDGE_MAX_ENTRY_BYTES,
    Sealer,
    SealingPolicy,
)


class ProducerError(EventdeckError, ValueError):
    """The contract cannot be turned into a producer (a bad pattern, patch, sealing policy or missing key)."""


@dataclass(frozen=True)
class Route:
    """Everything compiled for one public event."""

    event: Event
    pattern: EventPattern
    enrichment: Enrichment
    validator: PayloadValidator
    source: str
    bus: str | None
    dataschema: str
    policy: SealingPolicy | None
    sealer: Sealer | None

    # The entry size of everything but ``Detail`` (Source, DetailType and a Time), computed once.
    entry_overhead: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "entry_overhead", len(self.source.encode()) + len(self.event.name.encode()) + 14)


@dataclass(frozen=True)
class Published:
    """An entry ready for ``PutEvents``: ``Source``, ``DetailType``, ``Detail`` (the CloudEvent JSON), ``Time``,
    ``EventBusName``."""

    internal_id: str | None
    event: str
    entry: dict[str, Any]
    cloud_event: dict[str, Any]


@dataclass(frozen=True)
class Unrouted:
    internal_id: str | None
    reason: str


@dataclass(frozen=True)
class Failed:
    """A dead-letter record: which internal event, which public event, which stage, and why.

    ``stage`` is ``input`` (not an EventBridge-shaped event), ``route`` (its patterns could not be matched),
    ``enrich`` (look-ups, patch, prune), ``validate`` (the payload schema), ``seal`` (canonical form, envelope,
    token, the entry's JSON) or ``size`` (the claims, the token or the entry over the EventBridge entry limit).
    ``internal_id`` is the event's ``id`` when it is text; ``internal_event`` is the input, whole."""

    internal_id: str | None
    event: str | None
    stage: str
    reason: str
    internal_event: Any = None


Outcome = Published | Unrouted | Failed
LookupResults = Callable[[Mapping[str, Any]], Mapping[str, Any] | None]


class Producer:
    """Compiles a catalogue's enrichments once; :meth:`process` turns internal events into outcomes."""

    def __init__(self, catalogue: Catalogue, keys: KeySet | None = None, *, schema_base_url: str | None = None,
                 registry: RegistryLayout | None = None, hash_algorithm: str = "md5",
                 clock: Clock = wall_clock_ms, new_id: IdGenerator | None = None) -> None:
        """:param registry: where the catalogue publishes the schemas (the ``dataschema`` stamped on events);
            else the layout for ``schema_base_url`` (the public URL of the registry folder), else the catalogue's
            own (:attr:`Catalogue.registry`, recorded in a runtime artefact), else the default.
        :param clock: the producer's time in epoch milliseconds: the envelope ``time`` of an internal event
            without one, and the ``iat`` of its tokens; by default the wall clock.
        :param new_id: makes the envelope ids; by default the producer's own :class:`MonotonicUlid` on ``clock``
            (ids strictly increase across this producer's events).
        :raises ProducerError: when the contract has errors, or an event cannot be produced as it says."""
        if catalogue.errors:
            first = catalogue.errors[0]
            raise ProducerError(f"the contract has {len(catalogue.errors)} error(s) and cannot be produced; first: "
                                f"{first}")
        layout = registry or (RegistryLayout.for_catalogue(catalogue, base_url=schema_base_url)
                              if schema_base_url is not None or catalogue.registry is None else catalogue.registry)
        self.registry = SchemaRegistry(catalogue, layout)
        self.hash_algorithm = hash_algorithm
        self.clock = clock
        self.new_id = new_id if new_id is not None else MonotonicUlid(clock)
        self._event_times = EventTimes()  # internal `time` text -> envelope `time` text, bounded
        self._sealers: dict[SealingPolicy, Sealer] = {}  # one per policy, shared by the routes sealed under it
        documents = {d.id: d for d in catalogue.documents}
        self.routes = tuple(self._route(event, documents[event.document_id], keys)
                            for event in catalogue.events if event.enrichment is not None)
        # Most patterns name exact sources: look those up instead of trying every pattern on every event.
        self._by_source: dict[str, list[Route]] = {}
        self._scan: list[Route] = []
        for route in self.routes:
            sources = route.pattern.pattern.get("source")
            if isinstance(sources, list) and sources and all(isinstance(s, str) for s in sources):
                for source in sources:
                    self._by_source.setdefault(source, []).append(route)
            else:
                self._scan.append(route)

    def _route(self, event: Event, document: Document, keys: KeySet | None) -> Route:
        where = f"{event.name} ({event.location})"
        eventbridge, spec, sealing = document.eventbridge, event.enrichment, event.sealing
        assert spec is not None  # routes are made for events with an x-enrichment
        if eventbridge is None or eventbridge.source is None:
            raise ProducerError(f"{where}: its document declares no x-eventbridge source to publish under")
        if event.payload is None:
            raise ProducerError(f"{where}: has x-enrichment but no payload schema to validate against")
        if sealing is not None and sealing.problem is not None:
            raise ProducerError(f"{where}: {sealing.problem}")
        pattern = compile_pattern(spec.source_pattern)  # checked when the contract loaded
        enrichment = compile_enrichment(event)
        assert enrichment is not None
        policy = sealing.policy if sealing is not None else None
        try:
            sealer = self._sealer(policy, keys) if policy is not None and keys is not None else None
        except SealingError as exc:
            raise ProducerError(f"{where}: x-sealing: {exc}") from None
        if policy is not None and sealer is None:
            raise ProducerError(f"{where}: is sealed ({policy.sign.alg}, kid {policy.sign.kid}) but no key set was "
                                "given (create one with `eventdeck keys new`)")
        return Route(event, pattern, enrichment, self.registry.validator(event), eventbridge.source,
                     eventbridge.bus, self.registry.layout.url(event), policy, sealer)

    def _sealer(self, policy: SealingPolicy, keys: KeySet) -> Sealer:
        sealer = self._sealers.get(policy)
        if sealer is None:
            sealer = self._sealers[policy] = Sealer(policy, keys)
        return sealer

    def routes_for(self, internal: Mapping[str, Any]) -> list[Route]:
        """The routes whose pattern matches, in catalogue order."""
        source = internal.get("source")
        candidates = self._by_source.get(source, []) if isinstance(source, str) else []
        if not self._scan:  # candidates were indexed in catalogue order
            return [route for route in candidates if route.pattern.matches(internal)]
        matched = {id(r) for r in (*candidates, *self._scan) if r.pattern.matches(internal)}
        return [route for route in self.routes if id(route) in matched]

    def process(self, internal_events: Iterable[Any], *, lookup_results: LookupResults | None = None
                ) -> Iterator[Outcome]:
        """One outcome per public event each internal event becomes (or one Unrouted/Failed). No event stops the
        batch: whatever goes wrong with one internal event is its own :class:`Failed` record."""
        for internal in internal_events:
            yield from self.process_one(internal, lookup_results=lookup_results)

    def process_one(self, internal: Any, *, lookup_results: LookupResults | None = None) -> list[Outcome]:
        """The outcomes of one internal event; never raises for anything about the event itself (a hostile value,
        a failing look-up, a bug in a look-up's result): each failure is a :class:`Failed` naming the stage."""
        try:
            return self._outcomes(internal, lookup_results)
        except Exception as exc:  # the safety net under the per-stage handling: one event never stops a batch
            internal_id = _internal_id(internal)
            return [Failed(internal_id, None, "input", f"event {internal_id}: {_unexpected(exc)}", internal)]

    def _outcomes(self, internal: Any, lookup_results: LookupResults | None) -> list[Outcome]:
        # dict first: an ABC isinstance costs ~0.3 us, and these run per event.
        is_mapping = isinstance(internal, (dict, Mapping))
        internal_id = internal.get("id") if is_mapping else None
        detail = internal.get("detail") if is_mapping else None
        if not (isinstance(detail, (dict, Mapping))):
            usable_id = _internal_id(internal)
            about = f"event {usable_id}: " if usable_id is not None else ""
            return [Failed(usable_id, None, "input", f"{about}an internal event is an object with a 'detail' object "
                           "(the EventBridge event shape)", internal)]
        if internal_id is not None and not isinstance(internal_id, str):
            return [Failed(None, None, "input", f"an internal event's 'id' is text (the EventBridge event shape), "
                           f"not {_shown(internal_id)}", internal)]
        try:
            routes = self.routes_for(internal)
        except RecursionError:  # a pattern compares a field nested deeper than the stack
            return [Failed(internal_id, None, "route", f"event {internal_id}: the event is nested too deeply "
                           "(stage route)", internal)]
        except Exception as exc:  # a pattern meeting a value no JSON event has (a Python caller's)
            return [Failed(internal_id, None, "route", f"event {internal_id}: {_unexpected(exc)}", internal)]
        if not routes:
            return [Unrouted(internal_id, f"no message's x-enrichment.from matches source "
                             f"{_shown(internal.get('source'))}, detail-type {_shown(internal.get('detail-type'))}")]
        try:
            canned = lookup_results(internal) if lookup_results is not None else None
        except Exception as exc:
            return [Failed(internal_id, route.event.name, "enrich", f"event {internal_id}: {route.event.name}: "
                           f"canned look-up results failed: {_unexpected(exc)}", internal) for route in routes]
        traceparent = trace_context(internal)[0]
        return [self._publish(route, internal, internal_id, canned, traceparent) for route in routes]

    def _publish(self, route: Route, internal: Mapping[str, Any], internal_id: str | None,
                 canned: Mapping[str, Any] | None, traceparent: str | None = None) -> Outcome:
        name = route.event.name
        stage = "enrich"
        try:
            data = route.enrichment.apply(internal["detail"], event_id=internal_id, lookup_results=canned)
            stage = "validate"
            route.validator.validate(data)
            stage = "seal"  # the envelope (canonical form, idempotency key), then the token
            event_id = self.new_id()
            cloud_event = cloud_event_dict(
                type=name, source=route.source, data=data, dataschema=route.dataschema,
                subject=route.enrichment.subject_of(data), dataversion=route.event.version, id=event_id,
                time=self._occurred_at(internal, event_id),
                hash_algorithm=self.hash_algorithm, traceparent=traceparent)  # type: ignore[arg-type]
            if route.sealer is not None:
                cloud_event = route.sealer.seal_event(cloud_event, issued_at=self.clock() // 1000)
            detail = _detail_json(cloud_event)
        except EnrichmentFailed as exc:
            return Failed(internal_id, name, stage, _bounded(exc), internal)
        except OversizedEvent as exc:  # the claims or the token: over the entry limit either way
            return Failed(internal_id, name, "size", f"event {internal_id}: {name}: {_bounded(exc)}", internal)
        except (PayloadInvalid, SealingError, ValueError) as exc:
            return Failed(internal_id, name, stage, f"event {internal_id}: {name}: {_bounded(exc)}", internal)
        except RecursionError:
            return Failed(internal_id, name, stage, f"event {internal_id}: {name}: the event is nested too deeply "
                          f"(stage {stage})", internal)
        except Exception as exc:  # a look-up's or a Python caller's value that no stage expects
            return Failed(internal_id, name, stage, f"event {internal_id}: {name}: {_unexpected(exc)}", internal)
        entry = {"Source": route.source, "DetailType": name, "Detail": detail.decode(), "Time": cloud_event["time"]}
        if route.bus:
            entry["EventBusName"] = route.bus
        size = route.entry_overhead + len(detail)  # entry_size(entry), from the bytes already at hand
        if size > EVENTBRIDGE_MAX_ENTRY_BYTES:
            return Failed(internal_id, name, "size", f"event {internal_id}: {name} is {size:,} bytes as an "
                          f"EventBridge entry; the limit is {EVENTBRIDGE_MAX_ENTRY_BYTES:,}", internal)
        return Published(internal_id, name, entry, cloud_event)

    def _occurred_at(self, internal: Mapping[str, Any], event_id: str) -> str:
        """The internal event's ``time`` as envelope text; when absent or not an ISO 8601 date-time with a zone,
        the instant the producer minted the event's id (one clock read for both, so ``time`` and the ULID agree)."""
        value = internal.get("time")
        text = self._event_times.text_of(value) if isinstance(value, str) else None
        if text is None:
            minted = ulid_ms(event_id)
            text = rfc3339_utc(self.clock() if minted is None else minted)
        return text


# The Detail's fallback: the stdlib writes what orjson cannot (integers beyond 64 bits, nesting deeper than orjson's
# 254 levels) exactly. Everything else about the value was settled by its canonical form (JSON types, string keys,
# no NaN), so only those two reach it.
_DETAIL_ENCODER: Final = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def _detail_json(cloud_event: Mapping[str, Any]) -> bytes:
    """The CloudEvent as the entry's compact UTF-8 JSON ``Detail``: orjson's bytes, or the stdlib's where orjson
    cannot write the value. :raises ValueError: (or ``RecursionError``) when neither can."""
    try:
        return orjson.dumps(cloud_event)
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return _DETAIL_ENCODER.encode(cloud_event).encode("utf-8")


def trace_context(internal: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """The W3C ``traceparent`` an internal event carries — its own top-level ``traceparent`` member, else its
    detail's (the only place an event put on EventBridge can carry one) — as ``(value, None)`` when valid,
    ``(None, why)`` when present but invalid (the producer leaves it out; the edge logs why), ``(None, None)`` when
    absent."""
    value = internal.get("traceparent")
    if value is None:
        detail = internal.get("detail")
        value = detail.get("traceparent") if isinstance(detail, (dict, Mapping)) else None
    if value is None:
        return None, None
    problem = traceparent_problem(value)
    return (None, problem) if problem is not None else (value, None)


def _internal_id(internal: Any) -> str | None:
    """The internal event's id, for a record, when it has a usable one."""
    try:
        value = internal.get("id") if isinstance(internal, (dict, Mapping)) else None
    except Exception:  # a Python caller's mapping that cannot even say its id: the record has none
        return None
    return value if isinstance(value, str) else None


def _shown(value: Any) -> str:
    """A value from an internal event, for a message: short texts and numbers as they are, others by type (so a
    10 MB field does not become a 10 MB reason)."""
    if (isinstance(value, str) and len(value) <= 80) or value is None or isinstance(value, (bool, float)) or (
            isinstance(value, int) and value.bit_length() <= 64):
        return repr(value)
    return f"<{type(value).__name__}>"


def _bounded(exc: BaseException, limit: int = 500) -> str:
    """An exception's message for a reason, cut at ``limit`` characters: a validator may quote the value."""
    message = str(exc)
    return message if len(message) <= limit else f"{message[:limit]}..."


def _unexpected(exc: BaseException) -> str:
    """An exception no stage expects, as a reason: its type and the start of its message."""
    return f"{type(exc).__name__}: {_bounded(exc, 200)}"


def required_keys(catalogue: Catalogue) -> set[tuple[str, str]]:
    """Every ``(kid, alg)`` the catalogue's sealing policies name: what `eventdeck keys new` creates."""
    return {pair for event in catalogue.events if event.sealing is not None and event.sealing.policy is not None
            for pair in event.sealing.policy.kids}

