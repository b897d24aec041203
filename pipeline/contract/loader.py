"""Load a catalogue: find the AsyncAPI documents, model each one, check them, and assemble the :class:`Catalogue`.

The loader keeps what it learnt between calls: a document whose files (its own and every file it references) did
not change is not parsed, dereferenced, validated or normalised again, so ``mkdocs serve`` rebuilds stay fast.
It refuses (raises) only what cannot be modelled at all; everything else becomes diagnostics, and ``strict=True``
turns any error-level diagnostic into :class:`ContractInvalid`.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
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
    RefError,
    Severity,
    VersionError,
)
from .extensions import Enrichment, EnrichmentSpecError, EventBridge, Sealing, effective_sealing
from .model import Catalogue, Document, Event, Lifecycle, Schema
from .normalise import Normalised, Normaliser, RawEvent, tags_of
from .refs import Dereferencer, RefRoot, Sources
from .sharing import SharedValues

#: The files a folder is searched for documents in, whatever the case of the suffix (``.YAML`` too).
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
    root: str = ""


@dataclass
class Discovery:
    """What :func:`find_documents` found under the paths it was given."""

    documents: list[Path] = field(default_factory=list)
    """Files given as such, and every file in a given folder whose parsed top level has an ``asyncapi`` key."""
    unreadable: dict[str, ContractError] = field(default_factory=dict)
    """Files in a given folder that could not be read (real path -> why): each may be a lost document, so each is
    an error unless a document refers to it (then it is a shared file, and that document reports the problem)."""
    empty: list[Path] = field(default_factory=list)
    """Given folders with no document and nothing unreadable in them."""
    real: dict[Path, str] = field(default_factory=dict)
    """The real path (symbolic links resolved) of each document."""


def find_documents(paths: Iterable[str | os.PathLike[str]], sources: Sources | None = None,
                   root: RefRoot | None = None) -> Discovery:
    """The root documents among ``paths``: files as given; in folders (recursively), every ``.yaml``, ``.yml`` or
    ``.json`` file, in any case, whose *parsed* top level is a mapping with an ``asyncapi`` key — never a guess from
    the text, so a long licence header, a quoted key or ``asyncapi:`` in a shared schema's description change
    nothing. A file whose real path leaves ``root`` (default: the folder searched) is not read. Each candidate is
    read once per change, through ``sources`` (:meth:`Sources.is_root`), which the loader then reads from."""
    sources = sources if sources is not None else Sources()
    found = Discovery()
    for raw in paths:
        path = Path(raw)
        if not path.is_dir():
            found.documents.append(path)
            found.real[path] = os.path.realpath(path)
            continue
        folder = os.path.realpath(path)
        fence = root or RefRoot(folder)
        if not fence.contains(folder):
            found.unreadable[folder] = RefError(
                f"folder is outside the root folder {fence.folder}; not searched", Location(str(path)))
            continue
        before = (len(found.documents), len(found.unreadable))
        for candidate in sorted(path.rglob("*")):
            if not candidate.name.lower().endswith(DOCUMENT_SUFFIXES) or not candidate.is_file():
                continue
            # rglob does not enter linked folders: below the real folder, only the file itself may be a link.
            real = os.path.realpath(candidate) if candidate.is_symlink() else \
                os.path.join(folder, os.path.relpath(candidate, path))
            if not fence.contains(real):
                found.unreadable[real] = RefError(f"symbolic link to a file outside the root folder {fence.folder}; "
                                                  "not read", Location(str(candidate)))
                continue
            try:
                if sources.is_root(real):
                    found.documents.append(candidate)
                    found.real[candidate] = real
            except ContractError as exc:
                found.unreadable[real] = exc
        if (len(found.documents), len(found.unreadable)) == before:
            found.empty.append(path)
    return found


def discover(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """The root documents among ``paths`` (see :func:`find_documents`); unreadable files are left out."""
    return find_documents(paths).documents


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
                 specs_settings: specs.SpecsSettings | None = None, workers: int | None = None,
                 root: str | os.PathLike[str] | None = None) -> None:
        """``specs_settings``: where the official AsyncAPI schemas are cached and installed from; by default what
        the environment says (:func:`specs.settings_from_environment`, read once, here). ``workers``: processes a
        cold load of many documents may use (``None``: every core). ``root``: the folder local ``$ref``s may not
        leave (and the documents must be in); by default, for each load, the folder it was given, else the common
        folder of its documents."""
        self.workers = workers
        self.root = root
        self.sources = Sources(allow_http=allow_http, http_cache_dir=http_cache_dir)
        self.specs_settings = specs_settings if specs_settings is not None else specs.settings_from_environment()
        self._prepared: dict[str, _Prepared] = {}

    def load(self, paths: Iterable[str | os.PathLike[str]] = ("asyncapi",), *, strict: bool = False,
             root: str | os.PathLike[str] | None = None) -> Catalogue:
        """Model every document under ``paths``. Raises :class:`ContractError` listing every document that could
        not be modelled (and every folder with none in it); with ``strict``, raises :class:`ContractInvalid` if any
        error diagnostic was found. ``root`` overrides, for this load, the loader's ``root``."""
        # Python's cyclic garbage collector is paused while loading. Loading keeps what it builds (files, views,
        # models), so the collector's full passes walked an ever larger heap and found next to nothing (a few
        # thousand objects for 1,000 events, a third of the CPU time of the load); the few cycles a load makes
        # (an exception's traceback, a validation error's context) are collected once it is switched back on.
        # Forked workers inherit the pause. Back on afterwards, unless the caller had it off.
        collecting = gc.isenabled()
        gc.disable()
        try:
            return self._load(paths, strict=strict, root=root)
        finally:
            if collecting:
                gc.enable()

    def _load(self, paths: Iterable[str | os.PathLike[str]], *, strict: bool,
              root: str | os.PathLike[str] | None) -> Catalogue:
        given = [Path(p) for p in paths]
        chosen = root if root is not None else self.root
        fence = RefRoot.of(chosen) if chosen is not None else None
        found = find_documents(given, self.sources, fence)
        roots = found.documents
        base = given[0] if len(given) == 1 and given[0].is_dir() else _common_folder(roots)
        if not roots and not found.unreadable:
            raise ContractError(f"no AsyncAPI documents found in {', '.join(map(str, given))} (a document is a "
                                ".yaml, .yml or .json file with a top-level 'asyncapi' key)",
                                Location(str(given[0]) if given else "."))
        if fence is None:
            fence = RefRoot.of(base if base is not None else ".")
        jobs = [(path, document_id_for(path, base), fence) for path in roots]
        prepared: list[_Prepared] = []
        failures: list[ContractError] = [
            ContractError(f"no AsyncAPI documents found in {folder}", Location(str(folder)))
            for folder in found.empty]
        outside = {path for path in roots if not fence.contains(found.real[path])}
        failures.extend(RefError(f"document is outside the root folder {fence.folder} (set the root to a folder "
                                 "that holds every document)", Location(str(path))) for path in outside)
        jobs = [job for job in jobs if job[0] not in outside]
        for outcome in self._prepare_all(jobs):
            if isinstance(outcome, ContractError):
                failures.append(outcome)
            else:
                prepared.append(outcome)
        if found.unreadable:
            # A file that does not parse is a lost document, unless a document refers to it: then it is a shared
            # file, and that document already reports the problem where its $ref is.
            referenced = {os.path.realpath(f) for p in prepared for f in p.files if "://" not in f}
            failures.extend(exc for real, exc in found.unreadable.items() if real not in referenced)
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

    def _prepare_all(self, jobs: list[_Job]) -> list[_Prepared | ContractError]:
        """Prepare every document, in order; cold documents in forked workers when there are enough of them."""
        fresh = [job for job in jobs if self._cached(*job) is None]
        outcomes = dict(zip(fresh, fork_map(_prepare_group, fresh, self, min_items=PARALLEL_MIN_DOCUMENTS,
                                            workers=self.workers), strict=True))
        results = [outcomes.get(job) or self._cached(*job) or _prepare_group(self, [job])[0] for job in jobs]
        # The cache learns every result here, in the main process: a forked worker that kept what it prepared
        # would hold its share of the whole catalogue until the load ends, for nothing.
        for outcome in results:
            if isinstance(outcome, _Prepared):
                self._prepared[outcome.uri] = outcome
        return results

    def _cached(self, path: Path, document_id: str, fence: RefRoot) -> _Prepared | None:
        cached = self._prepared.get(str(path.resolve()))
        if cached is not None and cached.document_id == document_id and cached.root == fence.folder and \
                tuple(self.sources.stamp(f) for f in cached.files) == cached.stamps:
            return cached
        return None

    def _prepare(self, path: Path, document_id: str, fence: RefRoot) -> _Prepared:
        uri = str(path.resolve())
        cached = self._cached(path, document_id, fence)
        if cached is not None:
            return cached
        try:
            prepared = self._prepare_afresh(uri, document_id, fence)
        finally:
            # The parsed file (its values, text and per-key positions: several times the model of its events) is
            # needed again only if the file changes, and then it is read again anyway. Files it refers to stay
            # parsed: other documents share them.
            self.sources.forget(uri)
        return prepared

    def _prepare_afresh(self, uri: str, document_id: str, fence: RefRoot) -> _Prepared:
        files: dict[str, None] = {}
        sink = DiagnosticSink()
        deref = Dereferencer(self.sources, sink, on_file=lambda f: files.setdefault(f, None), root=fence)
        source = deref.document(uri, Location(uri))  # its diagnostics (duplicate keys) go to the sink
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
            if event.named:
                checks.check_name_length(event.name, deref.locate(event.origin[0], f"{event.origin[1]}/name"), sink)
            checks.check_examples(event.name, event.payload, event.headers, event.examples, sink, deref.locate)
            checks.check_schema_examples(event.name, event.payload, sink)
        checks.check_unique_tags(raw, source.locate, sink)
        _type_extensions(root, normalised, source.locate, deref.locate, sink)
        _keep_only_what_is_read(normalised)
        file_list = tuple(files)
        return _Prepared(document_id, uri, version, normalised, eventdeck_document, tuple(_unique(sink.items)),
                         file_list, tuple(self.sources.stamp(f) for f in file_list), fence.folder)


# Parallel loading pays off only when there is enough to do: forking and sending results back costs ~50 ms.
PARALLEL_MIN_DOCUMENTS = 8


_Job = tuple[Path, str, RefRoot]  # a root document, its id, the folder its $refs may not leave


def _prepare_group(loader: ContractLoader, group: Sequence[_Job]) -> list[_Prepared | ContractError]:
    """Prepare some documents (in a forked worker, or here); errors come back as values, both picklable."""
    outcomes: list[_Prepared | ContractError] = []
    for path, document_id, root in group:
        try:
            outcomes.append(loader._prepare(path, document_id, root))
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


#: Members of a message that the model holds in their built form (bundled :class:`Schema`, :class:`Example`), and
#: traits, already applied: :func:`assemble` never reads them from the message.
_BUILT_SEPARATELY = frozenset({"payload", "headers", "examples", "traits"})


def _keep_only_what_is_read(normalised: Normalised) -> None:
    """Shrink a prepared document to what the catalogue reads, its schemas sharing their equal parts.

    A prepared document stays in the loader's cache (and, from a forked worker, is pickled to the main process),
    so whatever it holds is held for the whole build. With 1,000 realistic events the dereferenced messages (whose
    payloads are bundled as well) held 13 MB; the bundled schemas, 33 MB, 7 MB once equal parts are one object
    (:class:`SharedValues`: the same property schemas recur in every payload of a document). Examples are left as
    they are: they are mostly distinct values, so sharing them saved 1.4 MB for a third of the time."""
    shared = SharedValues()
    for event in normalised.events:
        event.message = shared.share({k: v for k, v in event.message.items() if k not in _BUILT_SEPARATELY})
        event.payload = _shared_schema(event.payload, shared)
        event.headers = _shared_schema(event.headers, shared)


def _shared_schema(schema: Schema | None, shared: SharedValues) -> Schema | None:
    return replace(schema, document=shared.share(schema.document)) if schema is not None else None


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
                   allow_http: bool = False, root: str | os.PathLike[str] | None = None) -> Catalogue:
    """One-shot convenience around :class:`ContractLoader`."""
    return ContractLoader(allow_http=allow_http, root=root).load(paths, strict=strict)
