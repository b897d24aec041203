"""The one model of a catalogue of AsyncAPI documents, the same for AsyncAPI 2.x and 3.x.

Everything downstream (catalogue pages, subscription kit, lint, diff, the pipeline) reads these objects and never
the YAML. They are frozen dataclasses; the JSON values inside them (schemas, examples, extensions, bindings) are
plain dicts and lists shared with the loader's caches, so treat them as read-only.

Direction is the thing users most often find inverted, so it is normalised here once: ``Action.SEND`` means the
application described by the document *produces* the event (AsyncAPI 3 ``send``, AsyncAPI 2 ``subscribe``);
``Action.RECEIVE`` means it *consumes* it (3 ``receive``, 2 ``publish``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from .errors import Diagnostic, Location, Severity
from .extensions import Enrichment, EventBridge, Sealing
from .registry import RegistryLayout

JSON = Any


class Action(StrEnum):
    SEND = "send"
    RECEIVE = "receive"


@dataclass(frozen=True, slots=True)
class Tag:
    name: str
    description: str | None = None
    location: Location | None = None


@dataclass(frozen=True, slots=True)
class Schema:
    """A payload or headers schema, bundled into one standalone JSON Schema.

    ``document`` is self-contained: every ``$ref`` of the source — to other files, to components, to itself —
    points into its own ``$defs`` (recursive schemas stay references, never expanded). ``format`` is the AsyncAPI
    ``schemaFormat``; only JSON-Schema-compatible formats (``is_json_schema``) can validate data.
    """

    document: JSON
    format: str
    dialect: str
    location: Location

    @property
    def is_json_schema(self) -> bool:
        return self.dialect != "unsupported"

    @property
    def definitions(self) -> Mapping[str, JSON]:
        defs = self.document.get("$defs") if isinstance(self.document, dict) else None
        return defs or {}


@dataclass(frozen=True, slots=True)
class Example:
    name: str | None
    summary: str | None
    payload: JSON
    headers: JSON
    location: Location
    has_payload: bool = True


@dataclass(frozen=True, slots=True, eq=False)
class Operation:
    """One use of an event by a document: which application, which direction, on which channel.

    Compared by identity: two operations are the same only when they are the same place in a document."""

    document_id: str
    operation_id: str | None
    action: Action
    channel_id: str
    address: str | None
    summary: str | None
    location: Location
    extensions: Mapping[str, JSON] = field(default_factory=dict)
    bindings: Mapping[str, JSON] = field(default_factory=dict)
    channel_extensions: Mapping[str, JSON] = field(default_factory=dict)
    channel_bindings: Mapping[str, JSON] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Backstage:
    """A document's ``info.x-backstage``: the Backstage entity references (owner, system, domain) and the API's
    ``spec.lifecycle``."""

    owner: str | None
    system: str | None = None
    domain: str | None = None
    lifecycle: str | None = None

    @classmethod
    def from_extension(cls, value: JSON) -> Backstage | None:
        """The parsed extension, or ``None`` when there is none. Members of the wrong type are left out; the
        contract checks report them against the extension's JSON Schema."""
        if not isinstance(value, Mapping):
            return None
        owner, system, domain, lifecycle = (_text_member(value, k) for k in ("owner", "system", "domain", "lifecycle"))
        return cls(owner, system, domain, lifecycle)


def _text_member(value: Mapping[str, JSON], key: str) -> str | None:
    member = value.get(key)
    return member if isinstance(member, str) and member else None


@dataclass(frozen=True, slots=True)
class Lifecycle:
    """An event's ``x-lifecycle``: its ``status`` (active, deprecated, retired), the event that replaces it and the
    last day it is produced (RFC 3339 full-date)."""

    status: str | None
    superseded_by: str | None = None
    sunset: str | None = None

    @classmethod
    def from_extension(cls, value: JSON) -> Lifecycle | None:
        """The parsed extension, or ``None`` when there is none. Members of the wrong type are left out; the
        contract checks report them against the extension's JSON Schema."""
        if not isinstance(value, Mapping):
            return None
        return cls(*(_text_member(value, k) for k in ("status", "supersededBy", "sunset")))

    @property
    def retiring(self) -> bool:
        """Deprecated or retired: consumers should move away."""
        return self.status in ("deprecated", "retired")


@dataclass(frozen=True, slots=True)
class Event:
    """One message of the catalogue. Identified by where it is defined (``location``), so the same component
    referenced from several channels or documents is one event."""

    key: str
    name: str
    parts: tuple[str, ...]
    title: str | None
    summary: str | None
    description: str | None
    version: str
    document_id: str
    message_id: str | None
    content_type: str | None
    payload: Schema | None
    headers: Schema | None
    examples: tuple[Example, ...]
    tags: tuple[Tag, ...]
    bindings: Mapping[str, JSON]
    correlation_id: JSON
    deprecated: bool
    extensions: Mapping[str, JSON]
    operations: tuple[Operation, ...]
    location: Location
    sealing: Sealing | None = None
    """The effective ``x-sealing`` (the message's, else its document's); ``None`` only when neither declares one."""
    enrichment: Enrichment | None = None
    """The parsed ``x-enrichment``; ``None`` when the message declares none (or a malformed one: a diagnostic)."""

    @property
    def producers(self) -> tuple[str, ...]:
        """Documents whose application sends this event."""
        return tuple(dict.fromkeys(op.document_id for op in self.operations if op.action is Action.SEND))

    @property
    def consumers(self) -> tuple[str, ...]:
        """Documents whose application receives this event."""
        return tuple(dict.fromkeys(op.document_id for op in self.operations if op.action is Action.RECEIVE))

    @property
    def addresses(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(op.address or op.channel_id for op in self.operations))

    def extension(self, name: str, default: JSON = None) -> JSON:
        return self.extensions.get(name, default)

    @property
    def lifecycle(self) -> Lifecycle | None:
        """The parsed ``x-lifecycle``, or ``None`` when the message declares none."""
        return Lifecycle.from_extension(self.extensions.get("x-lifecycle"))


@dataclass(frozen=True, slots=True)
class Server:
    name: str
    url: str
    protocol: str
    protocol_version: str | None
    description: str | None
    security: tuple[JSON, ...]
    extensions: Mapping[str, JSON]
    location: Location
    eventbridge: EventBridge | None = None
    """The server's own ``x-eventbridge`` (replaces the document's as a whole for this server)."""


@dataclass(frozen=True, slots=True)
class Info:
    title: str
    version: str
    description: str | None
    contact: Mapping[str, JSON]
    license: Mapping[str, JSON]
    extensions: Mapping[str, JSON]
    location: Location | None = None


@dataclass(frozen=True, slots=True)
class Document:
    """One AsyncAPI document: its metadata, the events it defines and the problems found in it."""

    id: str
    path: str
    asyncapi: str
    info: Info
    default_content_type: str | None
    servers: tuple[Server, ...]
    tags: tuple[Tag, ...]
    extensions: Mapping[str, JSON]
    events: tuple[Event, ...]
    operations: tuple[Operation, ...]
    security_schemes: Mapping[str, JSON]
    diagnostics: tuple[Diagnostic, ...]
    location: Location
    files: tuple[str, ...] = ()
    eventbridge: EventBridge | None = None
    """The parsed root ``x-eventbridge``: where the document's events are put."""
    sealing: Sealing | None = None
    """The document's default ``x-sealing`` (each event's effective policy is :attr:`Event.sealing`)."""

    @property
    def source(self) -> str | None:
        """The EventBridge ``source`` of the document's events (``x-eventbridge.source``)."""
        return self.eventbridge.source if self.eventbridge is not None else None

    @property
    def major(self) -> int:
        return int(self.asyncapi.split(".", 1)[0])

    @property
    def backstage(self) -> Backstage | None:
        """The parsed ``info.x-backstage``, or ``None`` when the document declares none."""
        return Backstage.from_extension(self.info.extensions.get("x-backstage"))

    @property
    def owner(self) -> str | None:
        backstage = self.backstage
        return backstage.owner if backstage is not None else None

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.severity is Severity.ERROR)


@dataclass(frozen=True, slots=True)
class Catalogue:
    """Every document loaded together, the events across them, and diagnostics about the whole (such as names
    used twice)."""

    documents: tuple[Document, ...]
    diagnostics: tuple[Diagnostic, ...] = ()
    _by_key: Mapping[str, Event] = field(default_factory=dict, repr=False, compare=False)
    registry: RegistryLayout | None = field(default=None, compare=False)
    """Where the schemas are published, when known with the contract (a runtime artefact records it); a catalogue
    loaded from AsyncAPI documents leaves it to the edge that knows the site (``mkdocs.yml``)."""

    @property
    def events(self) -> tuple[Event, ...]:
        return tuple(self._by_key.values())

    def event(self, key: str) -> Event:
        return self._by_key[key]

    def __iter__(self) -> Iterator[Event]:
        return iter(self._by_key.values())

    @property
    def all_diagnostics(self) -> tuple[Diagnostic, ...]:
        return tuple(d for doc in self.documents for d in doc.diagnostics) + self.diagnostics

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.all_diagnostics if d.severity is Severity.ERROR)
