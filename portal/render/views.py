"""What each page shows, decided in Python: plain view objects the templates only lay out.

One function per page kind (``event_view``, ``document_view``, ...) takes the model and the site's paths and returns
a frozen view. Nothing here writes Markdown or HTML except through :mod:`.markup` (escaping, sanitising, JSON).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import jsonschema
from markupsafe import Markup

from pipeline.contract import Backstage, Catalogue, Diagnostic, Document, Event, Lifecycle, Severity
from pipeline.contract.extensions import EXTENSIONS_BY_PLACE

from .enrichment import Enrichment, enrichment_of
from .envelopes import Envelopes, Routing, Sealing, envelopes_for, routing_of
from .graph import GraphNode, Layout, layout
from .kit import KitView, KitViews, subscriber_label
from .markup import JsonMemo, description_html, json_block, json_inline
from .paths import SitePaths, relative_link, relative_url
from .samples import sample
from .schema_tree import LeafMemo, SchemaTree, schema_tree

if TYPE_CHECKING:
    from portal.kit.subscriptions import Subscription

# The eventdeck extensions each place shows in its own sections; every other x- value is listed as it is.
KNOWN_EVENT_EXTENSIONS = EXTENSIONS_BY_PLACE["message"]
KNOWN_DOCUMENT_EXTENSIONS = EXTENSIONS_BY_PLACE["document"]
KNOWN_INFO_EXTENSIONS = EXTENSIONS_BY_PLACE["info"]
MAX_DIAGNOSTICS = 200
MAX_GRAPH_EVENTS = 40
#: Up to this many events, the home page lists every event under its entity and a domain's page every event of it
#: in one table (the look of a small catalogue). Above, the home page lists each entity's event types with their
#: counts, and the long tables are split into closed ``<details>`` sections with counts: a catalogue of 10,000
#: events stays a page a reader can scan, with no script (TechDocs runs none).
LISTED_EVENTS = 200
#: An entity page folds the events of an event type into a closed ``<details>`` when there are more than this.
FOLDED_ROWS = 25
#: A large catalogue's home page lists an entity's event types when it has at most this many (else its count).
LISTED_TYPES = 50
#: Up to this many entities, the home page has a section for each; above, one A-Z list of them with their counts.
LISTED_ENTITIES = 60


@dataclass(frozen=True)
class Options:
    """How the catalogue is rendered (the MkDocs plugin's options, or ``eventdeck docs`` arguments)."""

    section: str = "events"
    schemas: str = "schemas"
    schema_base_url: str | None = None
    directory_urls: bool = True
    title: str = "Event catalogue"
    nav_limit: int = 30
    python_models: bool = False

    def dataschema(self, paths: SitePaths, event: Event) -> str:
        """The registry URL of ``event``'s payload schema (the CloudEvents ``dataschema``)."""
        return paths.layout.url(event)


@dataclass(frozen=True)
class Crumb:
    label: str
    link: str | None


@dataclass(frozen=True)
class ExampleView:
    name: str
    summary: str | None
    payload: Markup | None
    headers: Markup | None
    generated: bool = False
    valid: bool = True
    problem: str | None = None


@dataclass(frozen=True)
class EnvelopeView:
    envelopes: Envelopes
    put_entry: Markup
    eventbridge: Markup
    cloud_event: Markup
    jwe_header: Markup | None
    jws_header: Markup | None
    claims: Markup | None


@dataclass(frozen=True)
class EnrichmentView:
    enrichment: Enrichment
    pattern: Markup
    anchors: Mapping[str, str]  # target pointer -> payload field anchor


@dataclass(frozen=True)
class ExtensionRow:
    name: str
    value: Markup
    where: str = ""


@dataclass(frozen=True)
class EventView:
    event: Event
    document: Document | None
    page: str
    crumbs: tuple[Crumb, ...]
    status: str
    superseded_by: str | None
    superseded_link: str | None
    sunset: str | None
    description: Markup
    produced_by: tuple[tuple[str, str | None], ...]
    consumed_by: tuple[tuple[str, str | None], ...]
    tag_links: tuple[tuple[str, str], ...]
    payload: SchemaTree | None
    payload_raw: Markup | None
    headers: SchemaTree | None
    schema_link: str | None
    latest_link: str | None
    dataschema: str | None
    examples: tuple[ExampleView, ...]
    envelope: EnvelopeView | None
    sealing: Sealing
    routing: Routing
    enrichment: EnrichmentView | None
    graph: Layout | None
    unknown_extensions: tuple[ExtensionRow, ...]
    diagnostics: tuple[Diagnostic, ...]
    subscribe_pattern: Markup
    subscribe_link: str
    document_link: str | None
    source_file: str
    bindings: Markup | None
    operation_extensions: tuple[ExtensionRow, ...] = ()
    operation_bindings: tuple[ExtensionRow, ...] = ()
    kit: KitView | None = None
    subscribers: tuple[str, ...] = ()
    """The teams whose subscription requests (``subscriptions/*.yaml``) receive this event."""


@dataclass(frozen=True)
class DocumentView:
    document: Document
    page: str
    description: Markup
    owner: Backstage | None
    routing: Routing
    sealing: Sealing
    server_rows: tuple[tuple[str, str, str, Markup, Markup], ...]
    security: tuple[tuple[str, str, Markup], ...]
    events: tuple[tuple[Event, str, str], ...]
    consumed: tuple[tuple[Event, str, str], ...]
    graph: Layout | None
    unknown_extensions: tuple[ExtensionRow, ...]
    diagnostics: tuple[Diagnostic, ...]
    more_diagnostics: int
    source_file: str

    @property
    def event_sections(self) -> tuple[tuple[str, tuple[tuple[Event, str, str], ...]], ...]:
        """The events by entity (the first part of their names), for a domain of more than :data:`LISTED_EVENTS`
        events; none for a smaller one, whose events are one table."""
        if len(self.events) <= LISTED_EVENTS:
            return ()
        sections: dict[str, list[tuple[Event, str, str]]] = defaultdict(list)
        for item in sorted(self.events, key=lambda item: item[0].name):
            sections[item[0].parts[0] if item[0].parts else item[0].name].append(item)
        return tuple((name, tuple(items)) for name, items in sections.items())


@dataclass(frozen=True)
class Row:
    """One line of an events table: the event, the final URLs (from the current page) of its page and its
    domain's page, and its status."""

    event: Event
    href: str
    domain: str
    domain_href: str | None
    status: str


class Rows(tuple[Row, ...]):
    """The rows of an events table, and the A-Z sections a long one is shown in."""

    @property
    def listed(self) -> bool:
        """Whether the table is shown whole (:data:`LISTED_EVENTS`)."""
        return len(self) <= LISTED_EVENTS

    @property
    def folded(self) -> bool:
        """Whether the table is long enough to be shown closed, under its count (:data:`FOLDED_ROWS`)."""
        return len(self) > FOLDED_ROWS

    @property
    def by_letter(self) -> tuple[tuple[str, tuple[Row, ...]], ...]:
        """The rows by the first letter of their event name (``#`` for any other first character)."""
        letters: dict[str, list[Row]] = defaultdict(list)
        for row in self:
            letters[_letter(row.event.name)].append(row)
        return tuple((letter, tuple(rows)) for letter, rows in sorted(letters.items()))


@dataclass(frozen=True)
class Group:
    name: str
    anchor: str
    subgroups: tuple[tuple[str, str, tuple[Row, ...]], ...] = field(default=())
    link: str | None = None
    count: int = 0
    listed: bool = True
    """Whether the home page lists this entity's events (a small catalogue) or only its event types."""

    @property
    def rows(self) -> tuple[Row, ...]:
        return tuple(row for _, _, rows in self.subgroups for row in rows)

    @property
    def types_listed(self) -> bool:
        """Whether a large catalogue's home page lists this entity's event types (:data:`LISTED_TYPES`)."""
        return len(self.subgroups) <= LISTED_TYPES

    @property
    def fold_at(self) -> int:
        """An event type of more events than this is folded on the entity's page (all of them in a large entity)."""
        return FOLDED_ROWS if self.count <= LISTED_EVENTS else 0


class Groups(tuple[Group, ...]):
    """The entities of a catalogue, and the A-Z list the home page shows when there are many."""

    @property
    def sectioned(self) -> bool:
        """Whether the home page has a section for each entity (:data:`LISTED_ENTITIES`)."""
        return len(self) <= LISTED_ENTITIES

    @property
    def by_letter(self) -> tuple[tuple[str, tuple[Group, ...]], ...]:
        letters: dict[str, list[Group]] = defaultdict(list)
        for group in self:
            letters[_letter(group.name)].append(group)
        return tuple((letter, tuple(groups)) for letter, groups in sorted(letters.items()))


def _letter(name: str) -> str:
    """The A-Z section of a name: its first letter, ``#`` for any other first character."""
    first = name[:1].upper()
    return first if first.isalpha() and first.isascii() else "#"


# ------------------------------------------------------------------------------------------------ helpers


def status_of(event: Event) -> str:
    lifecycle = event.lifecycle
    if lifecycle is not None and lifecycle.status is not None:
        return lifecycle.status
    return "deprecated" if event.deprecated else "active"


def entity_of(event: Event) -> str | None:
    """The first level of the name hierarchy, or ``None`` for names outside ``{Entity}.{Event}...``."""
    return event.parts[0] if len(event.parts) > 1 else None


def middle_of(event: Event) -> str:
    """The second hierarchy level (``Payment.Authorised`` for ``Payment.Authorised.Ecom``)."""
    return ".".join(event.parts[:2]) if len(event.parts) > 2 else event.name


def _display_file(path: str, roots: Iterable[str]) -> str:
    for root in roots:
        if root and path.startswith(root.rstrip("/") + "/"):
            return path[len(root.rstrip("/")) + 1:]
    return path.rsplit("/", 1)[-1]


def event_diagnostics(event: Event, catalogue_diagnostics: Iterable[Diagnostic],
                      document: Document | None) -> tuple[Diagnostic, ...]:
    """Problems found inside this event's definition (same file, pointer below the message)."""
    pointer = event.location.pointer
    found = []
    for diagnostic in (*(document.diagnostics if document else ()), *catalogue_diagnostics):
        where = diagnostic.location
        if diagnostic.severity is Severity.INFO or where.file != event.location.file:
            continue
        if where.pointer == pointer or where.pointer.startswith(pointer + "/"):
            found.append(diagnostic)
    return tuple(dict.fromkeys(found))


def _extension_rows(extensions: Mapping[str, Any], known: Iterable[str]) -> tuple[ExtensionRow, ...]:
    skip = set(known)
    rows = []
    for name, value in extensions.items():
        if name in skip:
            continue
        rendered = json_block(value) if isinstance(value, dict | list) else Markup(
            f"<code>{Markup.escape(json_inline(value))}</code>")
        rows.append(ExtensionRow(name, rendered))
    return tuple(rows)


def _operation_rows(event: Event, kind: str, title: Any) -> tuple[ExtensionRow, ...]:
    """Extensions (or bindings) of the operations and channels that use ``event``, each row saying where."""
    rows: list[ExtensionRow] = []
    for op in event.operations:
        who = f"{title(op.document_id)}: {op.action.value} operation {op.operation_id or '(unnamed)'}"
        for owner, values in ((who, getattr(op, kind)), (f"{who}, channel {op.channel_id}",
                                                          getattr(op, f"channel_{kind}"))):
            rows.extend(ExtensionRow(row.name, row.value, owner) for row in _extension_rows(values, ()))
    return tuple(rows)


_WORD = re.compile(r"\W+")


# ----------------------------------------------------------------------------------------------- the site


class CatalogueViews:
    """Builds every view of one catalogue (indexes computed once, shared by all pages)."""

    def __init__(self, catalogue: Catalogue, options: Options, roots: Iterable[str] = (),
                 subscriptions: Iterable[Subscription] = ()) -> None:
        self.catalogue = catalogue
        self.options = options
        self.paths = SitePaths.for_catalogue(catalogue, options.section, options.schemas, options.schema_base_url)
        self.kit = KitViews(catalogue, self.paths, tuple(subscriptions), directory_urls=options.directory_urls)
        self.documents = {d.id: d for d in catalogue.documents}
        self.by_name: dict[str, Event] = {}
        for event in catalogue.events:
            self.by_name.setdefault(event.name, event)
        self.roots = tuple(roots)
        self.hierarchy: dict[str, dict[str, list[Event]]] = defaultdict(lambda: defaultdict(list))
        self.flat: list[Event] = []
        for event in sorted(catalogue.events, key=lambda e: e.name):
            entity = entity_of(event)
            if entity is None:
                self.flat.append(event)
            else:
                self.hierarchy[entity][middle_of(event)].append(event)
        self.tags: dict[str, list[Event]] = defaultdict(list)
        # document id -> the events of other documents it receives, in catalogue order (one pass here, rather than
        # one over every event for each document: that grew with the square of the catalogue)
        self.consumed: dict[str, list[Event]] = defaultdict(list)
        for event in catalogue.events:
            for tag in event.tags:
                self.tags[tag.name].append(event)
            for consumer in event.consumers:
                if consumer != event.document_id:
                    self.consumed[consumer].append(event)
        # The plain leaf schemas the events' payload trees have shown (their dicts are shared by many events); as
        # the view, made again for each render, so an edited document's new dicts are new keys.
        self.leaves: LeafMemo = {}

    # -------------------------------------------------------------------------------------------- shared
    def document_title(self, document_id: str) -> str:
        document = self.documents.get(document_id)
        return document.info.title if document is not None and document.info.title else document_id

    def url(self, here: str, target: str) -> str:
        """The final URL of the page or file ``target`` from the page ``here`` (both ``src_uri``)."""
        return relative_url(here, target, directory_urls=self.options.directory_urls)

    def rows(self, here: str, events: Iterable[Event]) -> tuple[Row, ...]:
        rows = []
        for event in events:
            document = self.documents.get(event.document_id)
            rows.append(Row(event, self.url(here, self.paths.event(event)), self.document_title(event.document_id),
                            self.url(here, self.paths.document(event.document_id)) if document else None,
                            status_of(event)))
        return tuple(rows)

    def groups(self, here: str) -> tuple[Groups, Rows]:
        """The catalogue by name hierarchy: entity groups (each with its second-level subgroups) and the events
        whose names have no hierarchy."""
        return Groups(self.group(entity, here) for entity in sorted(self.hierarchy)), Rows(self.rows(here, self.flat))

    def group(self, entity: str, here: str) -> Group:
        subgroups = tuple((middle, middle, self.rows(here, events))
                          for middle, events in sorted(self.hierarchy[entity].items()))
        return Group(entity, entity, subgroups, relative_link(here, self.paths.group(entity)),
                     sum(len(s[2]) for s in subgroups), len(self.catalogue.events) <= LISTED_EVENTS)

    def file_label(self, path: str) -> str:
        return _display_file(path, self.roots)

    # --------------------------------------------------------------------------------------------- event
    def event_view(self, event: Event) -> EventView:
        paths = self.paths
        here = paths.event(event)
        document = self.documents.get(event.document_id)
        crumbs = [Crumb(self.options.title, relative_link(here, paths.home))]
        entity = entity_of(event)
        if entity is not None:
            group_link = relative_link(here, paths.group(entity))
            crumbs.append(Crumb(entity, group_link))
            if len(event.parts) > 2:
                crumbs.append(Crumb(middle_of(event), f"{group_link}#{middle_of(event)}"))
        elif document is not None:
            crumbs.append(Crumb(document.info.title or document.id, relative_link(here, paths.document(document.id))))
        crumbs.append(Crumb(event.name, None))

        lifecycle = event.lifecycle or Lifecycle(None)
        superseded = lifecycle.superseded_by
        target = self.by_name.get(superseded) if superseded else None
        routing = routing_of(document)
        sealing = Sealing.of(event.sealing)

        payload_tree = payload_raw = None
        if event.payload is not None:
            if event.payload.is_json_schema:
                payload_tree = schema_tree(event.payload.document, "payload", self.leaves)
            else:
                payload_raw = json_block(event.payload.document)
        headers_tree = None
        if event.headers is not None and event.headers.is_json_schema:
            headers_tree = schema_tree(event.headers.document, "headers", self.leaves)

        has_registry = payload_tree is not None
        dataschema = self.options.dataschema(paths, event) if has_registry else None
        memo: JsonMemo = {}  # the example payload is shown again inside the envelopes: written once
        examples = self.examples(event, memo)
        chosen = next((x for x in examples if not x.generated), examples[0] if examples else None)
        envelope = None
        if chosen is not None:
            payload_value = self._example_payload(event, chosen)
            envelopes = envelopes_for(event, document, payload_value, example_name=chosen.name,
                                      generated=chosen.generated, dataschema=dataschema)
            envelope = EnvelopeView(
                envelopes, json_block(envelopes.put_events_entry),
                json_block(envelopes.eventbridge_event, memo=memo), json_block(envelopes.cloud_event, memo=memo),
                json_block(envelopes.sealing.jwe_header) if envelopes.sealing.jwe_header else None,
                json_block(envelopes.sealing.jws_header) if envelopes.sealing.jws_header else None,
                json_block(envelopes.claims) if envelopes.claims is not None else None,
            )

        enrichment = enrichment_of(event.enrichment)
        enrichment_view = None
        if enrichment is not None:
            anchors = {}
            if payload_tree is not None:
                for row in enrichment.rows:
                    if row.target:
                        anchor = payload_tree.anchor_for_pointer(row.target)
                        if anchor:
                            anchors[row.target] = anchor
            enrichment_view = EnrichmentView(enrichment, json_block(enrichment.internal_pattern), anchors)

        subscribe = {"source": [routing.source], "detail-type": [event.name]}
        return EventView(
            event=event, document=document, page=here, crumbs=tuple(crumbs), status=status_of(event),
            superseded_by=superseded,
            superseded_link=relative_link(here, paths.event(target)) if target is not None else None,
            sunset=lifecycle.sunset,
            description=description_html(event.description),
            produced_by=self._parties(here, event.producers), consumed_by=self._parties(here, event.consumers),
            tag_links=tuple((t.name, relative_link(here, paths.tags) + "#" + _tag_anchor(t.name))
                            for t in event.tags),
            payload=payload_tree, payload_raw=payload_raw, headers=headers_tree,
            schema_link=relative_link(here, paths.schema_file(event)) if has_registry else None,
            latest_link=relative_link(here, paths.schema_latest(event)) if has_registry else None,
            dataschema=dataschema, examples=examples, envelope=envelope, sealing=sealing, routing=routing,
            enrichment=enrichment_view, graph=self.event_graph(event, here, enrichment),
            unknown_extensions=_extension_rows(event.extensions, KNOWN_EVENT_EXTENSIONS),
            diagnostics=event_diagnostics(event, self.catalogue.diagnostics, document),
            subscribe_pattern=json_block(subscribe), subscribe_link=relative_link(here, paths.subscribe),
            document_link=relative_link(here, paths.document(document.id)) if document is not None else None,
            source_file=self.file_label(event.location.file),
            bindings=json_block(dict(event.bindings)) if event.bindings else None,
            operation_extensions=_operation_rows(event, "extensions", self.document_title),
            operation_bindings=_operation_rows(event, "bindings", self.document_title),
            kit=self.kit.event_kit(event, here),
            subscribers=tuple(subscriber_label(s) for s in self.kit.subscribers(event)),
        )

    def _parties(self, here: str, document_ids: Iterable[str]) -> tuple[tuple[str, str | None], ...]:
        return tuple((self.document_title(d), relative_link(here, self.paths.document(d))
                      if d in self.documents else None) for d in document_ids)

    @staticmethod
    def _example_payload(event: Event, view: ExampleView) -> Any:
        if view.generated:
            return sample(event.payload.document) if event.payload is not None else None
        for example in event.examples:
            if (example.name or "") == (view.name or ""):
                return example.payload
        return event.examples[0].payload if event.examples else None

    def examples(self, event: Event, memo: JsonMemo | None = None) -> tuple[ExampleView, ...]:
        """The event's examples (or one generated from its schema); their payloads' JSON goes into ``memo``."""
        views = []
        for n, example in enumerate(event.examples, 1):
            views.append(ExampleView(
                name=example.name or f"example {n}", summary=example.summary,
                payload=json_block(example.payload, memo=memo) if example.has_payload else None,
                headers=json_block(example.headers) if example.headers not in (None, {}) else None))
        if views or event.payload is None:
            return tuple(views)
        if not event.payload.is_json_schema:
            return ()
        value = sample(event.payload.document)
        problem = None
        try:
            error = jsonschema.exceptions.best_match(
                jsonschema.validators.validator_for(event.payload.document, default=jsonschema.Draft7Validator)(
                    event.payload.document).iter_errors(value))
            problem = error.message if error is not None else None
        # The check is advisory (the page says whether the generated example validates), and a third-party schema
        # can be malformed in more ways than the validator anticipates (a pattern that is no regular expression, an
        # unknown type, a string where a subschema goes): the loader reports the schema itself; the page names the
        # error and still renders.
        except Exception as exc:
            problem = f"could not be checked ({type(exc).__name__})"
        headers = sample(event.headers.document) if event.headers is not None and event.headers.is_json_schema \
            else None
        return (ExampleView(name="generated", summary=None, payload=json_block(value),
                            headers=json_block(headers) if headers not in (None, {}) else None, generated=True,
                            valid=problem is None, problem=problem),)

    # --------------------------------------------------------------------------------------------- graphs
    def event_graph(self, event: Event, here: str, enrichment: Enrichment | None) -> Layout:
        def domain(document_id: str) -> GraphNode:
            href = relative_url(here, self.paths.document(document_id), directory_urls=self.options.directory_urls) \
                if document_id in self.documents else None
            return GraphNode(f"d:{document_id}", self.document_title(document_id), "domain", href)

        left: list[GraphNode] = []
        edges: list[tuple[str, str, str | None]] = []
        center = GraphNode(f"e:{event.key}", event.name, "event", None, event.title)
        if enrichment is not None and (enrichment.internal_sources or enrichment.internal_types):
            internal = GraphNode("internal", " / ".join(enrichment.internal_types) or "internal event", "internal",
                                 None, ", ".join(enrichment.internal_sources))
            producers = [domain(d) for d in event.producers] or [domain(event.document_id)]
            columns = [[internal], producers, [center], [domain(d) for d in event.consumers]]
            edges += [("internal", p.id, "x-enrichment") for p in producers]
        else:
            producers = [domain(d) for d in event.producers]
            columns = [producers, [center], [domain(d) for d in event.consumers]]
        subscribers = [GraphNode(f"s:{label}", label, "subscriber", None, "subscription request")
                       for label in map(subscriber_label, self.kit.subscribers(event))]
        columns[-1] = [*columns[-1], *subscribers]
        left = producers
        edges += [(p.id, center.id, "sends") for p in left]
        edges += [(center.id, f"d:{d}", "receives") for d in event.consumers]
        edges += [(center.id, s.id, "subscribes") for s in subscribers]
        produced_by = ", ".join(self.document_title(d) for d in event.producers) or "no operation yet"
        consumed_by = ", ".join([*(self.document_title(d) for d in event.consumers),
                                 *(s.label for s in subscribers)]) or "no documented consumer"
        description = f"{event.name}: produced by {produced_by}; consumed by {consumed_by}."
        return layout(f"graph-{_WORD.sub('-', event.key)}", columns, edges, description)

    def document_graph(self, document: Document, here: str) -> Layout | None:
        defined = list(document.events)
        consumed = self.consumed.get(document.id, [])
        if (not defined and not consumed) or len(defined) + len(consumed) > MAX_GRAPH_EVENTS:
            return None

        def domain(document_id: str) -> GraphNode:
            href = relative_url(here, self.paths.document(document_id), directory_urls=self.options.directory_urls) \
                if document_id in self.documents and document_id != document.id else None
            return GraphNode(f"d:{document_id}", self.document_title(document_id), "domain", href)

        def node(event: Event) -> GraphNode:
            href = relative_url(here, self.paths.event(event), directory_urls=self.options.directory_urls)
            return GraphNode(f"e:{event.key}", event.name, "event", href, event.title)

        left: list[GraphNode] = []
        right: list[GraphNode] = []
        edges: list[tuple[str, str, str | None]] = []
        for event in [*defined, *consumed]:
            for producer in event.producers:
                left.append(domain(producer))
                edges.append((f"d:{producer}", f"e:{event.key}", None))
            for consumer in event.consumers:
                right.append(domain(consumer))
                edges.append((f"e:{event.key}", f"d:{consumer}", None))
        columns = [left, [node(e) for e in [*defined, *consumed]], right]
        return layout(f"graph-domain-{_WORD.sub('-', document.id)}", columns, edges,
                      f"Producers and consumers of the events of {document.info.title or document.id}.")

    # ------------------------------------------------------------------------------------------ documents
    def document_view(self, document: Document) -> DocumentView:
        here = self.paths.document(document.id)
        routing = routing_of(document)
        owner = document.backstage
        servers = []
        for server in document.servers:
            bridge = server.eventbridge
            shown = {k: v for k, v in (("bus", bridge.bus), ("source", bridge.source), ("region", bridge.region),
                                       ("account", bridge.account)) if v is not None} if bridge else None
            servers.append((server.name, server.url, server.protocol + (
                f" {server.protocol_version}" if server.protocol_version else ""),
                description_html(server.description),
                json_block(shown) if shown else Markup("")))
        security = tuple((name, str(scheme.get("type", "")) if isinstance(scheme, dict) else "",
                          description_html(scheme.get("description") if isinstance(scheme, dict) else None))
                         for name, scheme in document.security_schemes.items())
        consumed = self.consumed.get(document.id, [])
        diagnostics = [d for d in document.diagnostics if d.severity is not Severity.INFO]
        extensions = {**{k: v for k, v in document.info.extensions.items() if k not in KNOWN_INFO_EXTENSIONS},
                      **document.extensions}
        return DocumentView(
            document=document, page=here, description=description_html(document.info.description), owner=owner,
            routing=routing, sealing=Sealing.of(document.sealing),
            server_rows=tuple(servers), security=security,
            events=tuple((e, relative_link(here, self.paths.event(e)), status_of(e)) for e in document.events),
            consumed=tuple((e, relative_link(here, self.paths.event(e)), status_of(e)) for e in consumed),
            graph=self.document_graph(document, here),
            unknown_extensions=_extension_rows(extensions, KNOWN_DOCUMENT_EXTENSIONS),
            diagnostics=tuple(diagnostics[:MAX_DIAGNOSTICS]),
            more_diagnostics=max(0, len(diagnostics) - MAX_DIAGNOSTICS),
            source_file=self.file_label(document.path),
        )

    def tag_groups(self, here: str) -> tuple[tuple[str, str, Rows], ...]:
        return tuple((name, _tag_anchor(name), Rows(self.rows(here, sorted(events, key=lambda e: e.name))))
                     for name, events in sorted(self.tags.items(), key=lambda item: item[0].lower()))


def _tag_anchor(name: str) -> str:
    return "tag-" + (_WORD.sub("-", name).strip("-").lower() or "tag")

