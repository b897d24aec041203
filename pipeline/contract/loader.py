"""Load a catalogue: find the AsyncAPI documents, model each one, check them, and assemble the :class:`Catalogue`.

The loader keeps what it learnt between calls: a document whose files (its own and every file it references) did
not change is not parsed, dereferenced, validated or normalised again, so ``mkdocs serve`` rebuilds stay fast.
It refuses (raises) only what cannot be modelled at all; everything else becomes diagnostics, and ``strict=True``
turns any error-level diagnostic into :class:`ContractInvalid`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..forking import fork_map
from . import checks, specs
from .conformance import check_official
from .errors import (
    ContractError,
    ContractInvalid,
    Diagnostic,
    DiagnosticSink,
    Location,
    Severity,
    VersionError,
)
from .extensions import Enrichment, EnrichmentSpecError, EventBridge, Sealing, effective_sealing
from .model import Catalogue, Document, Event, Lifecycle
from .normalise import Normaliser, RawEvent, tags_of
from .refs import Dereferencer, Sources

DOCUMENT_SUFFIXES = (".yaml", ".yml", ".json")


@dataclass(frozen=True)
class _Prepared:
    """Everything about one root document that depends only on its files (so it can be cached)."""

    document_id: str
    uri: str
    asyncapi: str
    normalised: Any
    eventdeck_document: bool
    diagnostics: tuple[Diagnostic, ...]
    files: tuple[str, ...]
    stamps: tuple[tuple[int, int] | None, ...]


def discover(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """The root documents among ``paths``: files as given; in folders, every ``*.yaml|yml|json`` whose top-level
    mapping has an ``asyncapi`` key (shared schema files beside them are not documents)."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for candidate in sorted(path.rglob("*")):
                if candidate.suffix in DOCUMENT_SUFFIXES and candidate.is_file() and _looks_like_root(candidate):
                    found.append(candidate)
        else:
            found.append(path)
    return found


def _looks_like_root(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            head = handle.read(4096)
    except OSError:
        return False
    return b"asyncapi" in head and (b"asyncapi:" in head or b'"asyncapi"' in head)


def document_id_for(path: Path, base: Path | None) -> str:
    """A stable, URL-safe id: the path below ``base`` without suffix, folders joined by '-'."""
    try:
        relative = path.resolve().relative_to(base.resolve()) if base else Path(path.name)
    except ValueError:
        relative = Path(path.name)
    return "-".join(relative.with_suffix("").parts)


class ContractLoader:
    """Loads catalogues and remembers unchanged documents between loads."""

    def __init__(self, *, allow_http: bool = False, http_cache_dir: Path | None = None,
                 specs_settings: specs.SpecsSettings | None = None, workers: int | None = None) -> None:
        """``specs_settings``: where the official AsyncAPI schemas are cached and installed from; by default what
        the environment says (:func:`specs.settings_from_environment`, read once, here). ``workers``: processes a
        cold load of many documents may use (``None``: every core)."""
        self.workers = workers
        self.sources = Sources(allow_http=allow_http, http_cache_dir=http_cache_dir)
        self.specs_settings = specs_settings if specs_settings is not None else specs.settings_from_environment()
        self._prepared: dict[str, _Prepared] = {}

    def load(self, paths: Iterable[str | os.PathLike[str]] = ("asyncapi",), *, strict: bool = False) -> Catalogue:
        """Model every document under ``paths``. Raises :class:`ContractError` listing every document that could
        not be modelled; with ``strict``, raises :class:`ContractInvalid` if any error diagnostic was found."""
        given = [Path(p) for p in paths]
        roots = discover(given)
        base = given[0] if len(given) == 1 and given[0].is_dir() else _common_folder(roots)
        if not roots:
            raise ContractError(f"no AsyncAPI documents found in {', '.join(map(str, given))}",
                                Location(str(given[0]) if given else "."))
        jobs = [(path, document_id_for(path, base)) for path in roots]
        prepared: list[_Prepared] = []
        failures: list[ContractError] = []
        for outcome in self._prepare_all(jobs):
            if isinstance(outcome, ContractError):
                failures.append(outcome)
            else:
                prepared.append(outcome)
        if len(failures) == 1:
            raise failures[0]
        if failures:
            fatal = [d for exc in failures for d in exc.diagnostics]
            raise ContractError(_summary(fatal), fatal[0].location, fatal)
        # Bounded by the catalogue: a document no longer loaded (removed, renamed) is forgotten.
        current = {p.uri for p in prepared}
        self._prepared = {uri: p for uri, p in self._prepared.items() if uri in current}
        catalogue = assemble(prepared)
        if strict and catalogue.errors:
            raise ContractInvalid(_summary(catalogue.errors), catalogue.errors[0].location, catalogue.errors)
        return catalogue

    def _prepare_all(self, jobs: list[tuple[Path, str]]) -> list[_Prepared | ContractError]:
        """Prepare every document, in order; cold documents in forked workers when there are enough of them."""
        fresh = [job for job in jobs if self._cached(*job) is None]
        outcomes = dict(zip(fresh, fork_map(_prepare_group, fresh, self, min_items=PARALLEL_MIN_DOCUMENTS,
                                            workers=self.workers), strict=True))
        for outcome in outcomes.values():
            if isinstance(outcome, _Prepared):  # a forked worker's result: the cache here must learn it
                self._prepared[outcome.uri] = outcome
        return [outcomes.get(job) or self._cached(*job) or _prepare_group(self, [job])[0] for job in jobs]

    def _cached(self, path: Path, document_id: str) -> _Prepared | None:
        cached = self._prepared.get(str(path.resolve()))
        if cached is not None and cached.document_id == document_id and \
                tuple(self.sources.stamp(f) for f in cached.files) == cached.stamps:
            return cached
        return None

    def _prepare(self, path: Path, document_id: str) -> _Prepared:
        uri = str(path.resolve())
        cached = self._cached(path, document_id)
        if cached is not None:
            return cached
        files: dict[str, None] = {}
        sink = DiagnosticSink()
        deref = Dereferencer(self.sources, sink, on_file=lambda f: files.setdefault(f, None))
        source = deref.document(uri, Location(uri))
        sink.items.extend(source.diagnostics)
        raw = source.data
        if not isinstance(raw, dict):
            raise ContractError("an AsyncAPI document must be a mapping at the top level", Location(uri, "", 1, 1))
        version = raw.get("asyncapi")
        if not isinstance(version, str) or version not in specs.SUPPORTED_VERSIONS:
            raise VersionError(
                f"'asyncapi: {version}' is not a version eventdeck supports "
                f"(expected one of {', '.join(specs.SUPPORTED_VERSIONS)})" if version is not None else
                "missing 'asyncapi' version field: is this an AsyncAPI document?",
                source.locate("/asyncapi" if version is not None else ""))
        root = deref.deref_root(uri)
        check_official(version, root, deref, sink, self.specs_settings)
        normaliser = Normaliser(document_id, uri, root, deref, sink)
        normalised = normaliser.run()
        eventdeck_document = "x-eventbridge" in raw
        root_location = Location(uri, "", 1, 1)
        checks.check_extensions("document", root, root_location, sink)
        info = root.get("info")
        checks.check_extensions("info", info, source.locate("/info") if info else root_location, sink)
        for server in normalised.servers:
            checks.check_extensions("server", server.extensions, server.location, sink)
        for event in normalised.events:
            checks.check_extensions("message", event.message, event.location, sink)
            checks.check_name(event.name, event.named, eventdeck_document, event.location, sink)
            checks.check_examples(event.name, event.payload, event.headers, event.examples, sink, deref.locate)
            checks.check_schema_examples(event.name, event.payload, sink)
        checks.check_unique_tags(raw, source.locate, sink)
        _type_extensions(root, normalised, source.locate, deref.locate, sink)
        file_list = tuple(files)
        prepared = _Prepared(document_id, uri, version, normalised, eventdeck_document, tuple(_unique(sink.items)),
                             file_list, tuple(self.sources.stamp(f) for f in file_list))
        self._prepared[uri] = prepared
        return prepared


# Parallel loading pays off only when there is enough to do: forking and sending results back costs ~50 ms.
PARALLEL_MIN_DOCUMENTS = 8


def _prepare_group(loader: ContractLoader, group: Sequence[tuple[Path, str]]) -> list[_Prepared | ContractError]:
    """Prepare some documents (in a forked worker, or here); errors come back as values, both picklable."""
    outcomes: list[_Prepared | ContractError] = []
    for path, document_id in group:
        try:
            outcomes.append(loader._prepare(path, document_id))
        except ContractError as exc:
            outcomes.append(exc)
    return outcomes


def assemble(prepared: list[_Prepared]) -> Catalogue:
    """Join prepared documents: give each event one home and one unique key, and check names across documents."""
    roots = {p.uri: p for p in prepared}
    homes: dict[tuple[str, str], tuple[_Prepared, RawEvent]] = {}
    operations: dict[tuple[str, str], list[Any]] = {}
    for p in prepared:
        for raw in p.normalised.events:
            operations.setdefault(raw.origin, []).extend(raw.operations)
            current = homes.get(raw.origin)
            owner = roots.get(raw.origin[0])
            if current is None or (owner is p and current[0] is not p):
                homes[raw.origin] = (p, raw)
    sink = DiagnosticSink()
    by_name: dict[str, list[tuple[_Prepared, RawEvent]]] = {}
    for home in homes.values():
        by_name.setdefault(home[1].name, []).append(home)
    keys: dict[tuple[str, str], str] = {}
    for name, holders in by_name.items():
        for index, (p, raw) in enumerate(holders):
            keys[raw.origin] = name if index == 0 else f"{name}~{p.document_id}" + (
                f"-{index}" if f"{name}~{p.document_id}" in keys.values() else "")
        if len(holders) > 1:
            strict = any(p.eventdeck_document for p, _ in holders)
            places = ", ".join(str(raw.location) for _, raw in holders)
            for _, raw in holders[1:]:
                sink.add(Severity.ERROR if strict else Severity.WARNING, "name-duplicate",
                         f"event name '{name}' is used by {len(holders)} different messages ({places}); names must "
                         "be unique across the catalogue", raw.location)
    events_by_doc: dict[str, list[Event]] = {p.uri: [] for p in prepared}
    by_key: dict[str, Event] = {}
    for origin, (p, raw) in homes.items():
        event = _event(p, raw, keys[origin], tuple(dict.fromkeys(operations[origin])))
        events_by_doc[p.uri].append(event)
        by_key[event.key] = event
    documents = tuple(_document(p, tuple(events_by_doc[p.uri])) for p in prepared)
    return Catalogue(documents, tuple(sink.items), dict(sorted(by_key.items())))


def _event(p: _Prepared, raw: RawEvent, key: str, operations: tuple[Any, ...]) -> Event:
    message = raw.message
    lifecycle = Lifecycle.from_extension(message.get("x-lifecycle"))
    deprecated = bool(
        (lifecycle is not None and lifecycle.retiring)
        or (raw.payload is not None and isinstance(raw.payload.document, dict)
            and raw.payload.document.get("deprecated") is True))
    return Event(
        key=key, name=raw.name, parts=checks.hierarchy_parts(raw.name), title=_text(message.get("title")),
        summary=_text(message.get("summary")), description=_text(message.get("description")),
        version=p.normalised.info.version, document_id=p.document_id, message_id=raw.message_id,
        content_type=_text(message.get("contentType")) or p.normalised.default_content_type,
        payload=raw.payload, headers=raw.headers, examples=raw.examples,
        tags=tags_of(message.get("tags")), bindings=message.get("bindings") or {},
        correlation_id=message.get("correlationId"), deprecated=deprecated,
        extensions={k: v for k, v in message.items() if k.startswith("x-")}, operations=operations,
        location=raw.location, sealing=raw.sealing, enrichment=raw.enrichment)


def _document(p: _Prepared, events: tuple[Event, ...]) -> Document:
    n = p.normalised
    return Document(
        id=p.document_id, path=p.uri, asyncapi=p.asyncapi, info=n.info, default_content_type=n.default_content_type,
        servers=n.servers, tags=n.tags, extensions=n.extensions, events=events,
        operations=tuple(n.operations), security_schemes=n.security_schemes, diagnostics=p.diagnostics,
        location=Location(p.uri, "", 1, 1), files=p.files, eventbridge=n.eventbridge, sealing=n.sealing)


def _type_extensions(root: dict[str, Any], normalised: Any, locate_root: Any, locate: Any,
                     sink: DiagnosticSink) -> None:
    """Parse the eventdeck extensions into their typed forms, once per document (cached with it).

    The JSON Schema of each extension has already reported malformed values; what is left here are the problems a
    schema cannot see (a pattern EventBridge would reject, a JSON Patch jsonpatch refuses, a sealed event with no
    issuer), each reported once, at the extension's file, line and pointer."""
    reported = {d.location.pointer for d in sink.items if d.severity is Severity.ERROR}

    def report(location: Location, message: str) -> None:
        if not any(p == location.pointer or p.startswith(location.pointer + "/") for p in reported):
            sink.error("extension-invalid", message, location)

    eventbridge = EventBridge.from_extension(root.get("x-eventbridge"), locate_root("/x-eventbridge"))
    normalised.eventbridge = eventbridge
    issuer = eventbridge.source if eventbridge is not None else None
    document_sealing = None
    if "x-sealing" in root:
        document_sealing = Sealing.parse(root["x-sealing"], "document", locate_root("/x-sealing"),
                                         default_issuer=issuer)
        if document_sealing.problem is not None:
            report(document_sealing.location, document_sealing.problem)
    normalised.sealing = document_sealing
    for event in normalised.events:
        message, (uri, pointer) = event.message, event.origin
        own = None
        if "x-sealing" in message:
            own = Sealing.parse(message["x-sealing"], "message", locate(uri, f"{pointer}/x-sealing"),
                                default_issuer=issuer)
            if own.problem is not None:
                report(own.location, own.problem)
        event.sealing = effective_sealing(own, document_sealing)
        if "x-enrichment" in message:
            at = f"{pointer}/x-enrichment"
            try:
                event.enrichment = Enrichment.parse(message["x-enrichment"], locate(uri, at))
            except EnrichmentSpecError as exc:
                report(locate(uri, at + exc.member), f"x-enrichment{exc.member}: {exc}")


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _unique(items: Iterable[Diagnostic]) -> list[Diagnostic]:
    return list(dict.fromkeys(items))


def _common_folder(paths: list[Path]) -> Path | None:
    if not paths:
        return None
    return Path(os.path.commonpath([str(p.resolve().parent) for p in paths]))


def _summary(diagnostics: Iterable[Diagnostic]) -> str:
    items = list(diagnostics)
    files = {d.location.file for d in items}
    return f"{len(items)} problem(s) in {len(files)} file(s); first: {items[0].message}"


def load_catalogue(paths: Iterable[str | os.PathLike[str]] = ("asyncapi",), *, strict: bool = False,
                   allow_http: bool = False) -> Catalogue:
    """One-shot convenience around :class:`ContractLoader`."""
    return ContractLoader(allow_http=allow_http).load(paths, strict=strict)
