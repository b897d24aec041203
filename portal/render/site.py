"""Render a whole catalogue: every page as Markdown and every static file (schema registry, stylesheet).

This is the one renderer behind both ways the catalogue is built: the MkDocs plugin adds the result as generated
files, ``eventdeck docs`` writes it into the docs folder for a plain techdocs-core build. Both get byte-identical
Markdown, because both call :class:`SiteRenderer`.

Pages are kept in memory, or, given a :class:`PageFolder`, written to files as they are rendered (the forked
workers write the event pages themselves and hand back only digests), so what stays in memory does not grow with
the catalogue's pages.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, PackageLoader, StrictUndefined, Template, pass_context

from pipeline.contract import Backstage, Catalogue, Event, Severity
from pipeline.contract.history import History
from pipeline.forking import fork_map

from .envelopes import routing_of
from .history import add_history
from .markup import HeadingIds, email_html, inert, inline_code, link_html, md_text
from .models import PythonModels
from .paths import SitePaths, final_url, relative_link
from .schema_html import tree_html
from .styles import badge_style, style
from .tables import events_rows_html, registry_rows_html
from .views import CatalogueViews, Options, status_of

if TYPE_CHECKING:
    from portal.kit.subscriptions import Subscription

STYLESHEET = "eventdeck.css"


AfterWrite = Callable[[str], Any]


class PageFolder(Mapping[str, str]):
    """Rendered pages as files in a folder (``<folder>/<src_uri>``), read back only when asked for.

    A file is rewritten only when its text changes, so its modification time says when its page last changed
    (``mkdocs serve --dirty`` rebuilds by that). As a mapping it holds the pages of the last render."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._digests: dict[str, str] = {}  # src_uri -> digest of the text in its file
        self._current: frozenset[str] = frozenset()

    def path(self, src_uri: str) -> Path:
        return self.root / src_uri

    def write(self, src_uri: str, text: str) -> str:
        """Write ``text`` as the page ``src_uri`` unless its file already holds it; returns the text's digest."""
        data = text.encode("utf-8")
        digest = hashlib.blake2b(data, digest_size=16).hexdigest()
        target = self.path(src_uri)
        if self._digests.get(src_uri) != digest or not target.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        return digest

    def digest(self, src_uri: str) -> str | None:
        """The blake2b (16 bytes, hex) of the UTF-8 text of the page's file."""
        return self._digests.get(src_uri)

    def record(self, digests: Mapping[str, str]) -> None:
        """Remember what (forked) writers wrote."""
        self._digests.update(digests)

    def keep(self, src_uris: Iterable[str]) -> None:
        """The pages of this render are ``src_uris``; the files of the others are deleted."""
        current = frozenset(src_uris)
        for gone in set(self._digests) - current:
            self.path(gone).unlink(missing_ok=True)
            del self._digests[gone]
        self._current = current

    def __getitem__(self, src_uri: str) -> str:
        if src_uri not in self._current:
            raise KeyError(src_uri)
        return self.path(src_uri).read_text(encoding="utf-8")

    def __contains__(self, src_uri: object) -> bool:
        return src_uri in self._current

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._current))

    def __len__(self) -> int:
        return len(self._current)


class SiteFiles(MutableMapping[str, bytes]):
    """The site's static files by ``src_uri``: bytes, or made when asked for.

    A registry schema's JSON is made when it is read (:meth:`set_made`), not when the site is rendered: a large
    catalogue's schemas are megabytes that would otherwise be held from the render until MkDocs writes the site.
    :meth:`source` says what a file is made from; the same source (``is``) gives the same bytes."""

    def __init__(self) -> None:
        self._values: dict[str, bytes | Callable[[], bytes]] = {}

    def set_made(self, src_uri: str, make: Callable[[], bytes]) -> None:
        self._values[src_uri] = make

    def source(self, src_uri: str) -> object:
        return self._values[src_uri]

    def __getitem__(self, src_uri: str) -> bytes:
        value = self._values[src_uri]
        return value if isinstance(value, bytes) else value()

    def __setitem__(self, src_uri: str, content: bytes) -> None:
        self._values[src_uri] = content

    def __delitem__(self, src_uri: str) -> None:
        del self._values[src_uri]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __contains__(self, src_uri: object) -> bool:
        return src_uri in self._values


@dataclass(frozen=True, eq=False)
class _SchemaJson:
    """An event's published schema (:func:`registry_document`) as JSON, made when called."""

    event: Event
    url: str

    def __call__(self) -> bytes:
        return _json_bytes(registry_document(self.event, self.url))


@dataclass(frozen=True)
class RenderedSite:
    """Everything the catalogue adds to a site, keyed by ``src_uri`` (path below the docs folder)."""

    pages: Mapping[str, str]  # a dict, or the renderer's PageFolder
    files: SiteFiles
    nav_pages: frozenset[str]
    paths: SitePaths
    event_pages: dict[str, str] = field(default_factory=dict)  # event key -> src_uri

    @property
    def stylesheet(self) -> str:
        return self.paths.stylesheet


def _tidy(markdown: str) -> str:
    """One blank line between blocks, whatever the templates' conditionals left behind.

    As ``re.sub(r"\\n{3,}", "\\n\\n", markdown)`` (each pass shortens every run of three or more newlines, down to
    two), but about 15 times faster on an event page: the expression tries every newline of 100 KB of Markdown."""
    while "\n\n\n" in markdown:
        markdown = markdown.replace("\n\n\n", "\n\n")
    return markdown.strip() + "\n"


def environment() -> Environment:
    """The templates' environment. Autoescape is on, and ``finalize`` (:func:`.markup.inert`) extends it to Markdown:
    every plain string a template writes is inert in HTML and Markdown alike. Filters: ``md`` (Markdown text),
    ``code`` (inline code), ``url`` (a link between generated pages, never a document's URL), ``link`` and ``email``
    (a URL or address a document supplies: a link only when :func:`.urls.safe_url` allows it, else inert text)."""
    env = Environment(loader=PackageLoader("portal.render", "templates"), autoescape=True, trim_blocks=True,
                      lstrip_blocks=True, keep_trailing_newline=True, undefined=StrictUndefined, finalize=inert)
    env.filters["md"] = md_text
    env.filters["code"] = inline_code
    env.filters["url"] = _url
    env.filters["link"] = link_html
    env.filters["email"] = email_html
    env.globals["style"] = style  # inline styles: they survive TechDocs' sanitiser (portal.render.styles)
    env.globals["badge_style"] = badge_style
    env.globals["heading_ids"] = HeadingIds  # explicit heading ids: a page converts heading by heading
    env.globals["tree_html"] = tree_html  # the payload tree, in Python: one macro call per field cost too much
    env.globals["events_rows"] = events_rows_html  # an events table's rows, in Python: the same reason
    env.globals["registry_rows"] = registry_rows_html
    return env


@pass_context
def _url(context: Any, link: str) -> str:
    """A page-relative ``.md`` link as the final URL, for raw HTML (the template context names the page)."""
    return final_url(link, context["here"], directory_urls=context["directory_urls"])


_ENV: Environment | None = None


def _env() -> Environment:
    global _ENV
    if _ENV is None:
        _ENV = environment()
    return _ENV


def stylesheet() -> bytes:
    return resources.files("portal.render").joinpath("assets", STYLESHEET).read_bytes()


def registry_document(event: Event, url: str) -> dict[str, Any]:
    """The published form of an event's payload schema: the bundled schema with its registry URL as ``$id``."""
    document = dict(event.payload.document) if event.payload is not None else {}
    published: dict[str, Any] = {}
    if "$schema" in document:
        published["$schema"] = document.pop("$schema")
    published["$id"] = url
    published.setdefault("title", document.pop("title", event.name))
    published.update(document)
    return published


def _json_bytes(value: Any) -> bytes:
    # Compact: a registry is read by programs (and browsers pretty-print JSON); the C encoder only runs without
    # indentation, which matters for thousands of schemas.
    return (json.dumps(value, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


class SiteRenderer:
    """Renders catalogues with one set of options; keeps rendered event pages between calls, so re-rendering after
    one document changed only renders that document's events again (the loader hands back the very same schema and
    extension objects for unchanged documents)."""

    def __init__(self, options: Options | None = None, *, workers: int | None = None,
                 folder: PageFolder | None = None) -> None:
        """:param workers: processes a cold render of many pages may use (``None``: every core).
        :param folder: write the pages there instead of keeping them in memory."""
        self.options = options or Options()
        self.workers = workers
        self.folder = folder
        # event key -> (what its page depends on, its text; None: the text is only in the folder)
        self._event_cache: dict[str, tuple[tuple[Any, ...], str | None]] = {}
        self.after_write: AfterWrite | None = None
        """Called with each event page's path once the page is in the folder, in the worker that wrote it (so a
        caller can take the next step there, such as converting the page); its picklable results of the last render
        are in :attr:`written`."""
        self.written: dict[str, Any] = {}
        # page -> what its template was given (document, group and level pages; compared with _exactly_equal)
        self._page_views: dict[str, Any] = {}
        # event key -> (its payload schema object, URLs, name, the registry's two files; the same objects while
        # nothing they show changes)
        self._schemas: dict[str, tuple[Any, str, str, str, _SchemaJson, _SchemaJson]] = {}
        self._python_models = PythonModels()

    def render(self, catalogue: Catalogue, roots: Iterable[str] = (),
               history: History | None = None, subscriptions: Iterable[Subscription] = ()) -> RenderedSite:
        """The site of ``catalogue``; with ``history``, event pages get a *Changes* section, document pages
        a changelog, and the registry every earlier version's schema (:mod:`.history`); ``subscriptions`` (checked
        requests, :func:`portal.kit.subscriptions.load_subscriptions`) are shown as the events' subscribers."""
        views = CatalogueViews(catalogue, self.options, roots, subscriptions)
        paths = views.paths
        env = _env()
        title = self.options.title
        pages: dict[str, str] = {}
        files = SiteFiles()
        nav: set[str] = set()
        common: dict[str, Any] = {"title": title, "directory_urls": self.options.directory_urls}

        def links(here: str) -> dict[str, str]:
            return {"domains": relative_link(here, paths.domains_index), "tags": relative_link(here, paths.tags),
                    "registry": relative_link(here, paths.registry),
                    "field_mapping": relative_link(here, paths.field_mapping),
                    "subscribe": relative_link(here, paths.subscribe)}

        # Event pages go straight to the folder unless a later step still adds to them; so do the other pages,
        # which are then also rendered again only when what they show has changed.
        streamed = self.folder is not None and history is None and not self.options.python_models
        unchanged: list[str] = []  # pages whose file already holds what they show
        known, self._page_views = self._page_views, {}

        # Streamed, their templates are rendered, and the pages written and converted, in the workers that render
        # the event pages (what they are given is made here: a serve rebuild compares it with the last).
        deferred: list[_IndexPage] = []

        def render_page(here: str, template: Template, compared: bool = True, **values: Any) -> None:
            """``compared``: the page is not rendered again while what it is given stays the same (the pages of
            the whole catalogue are: comparing every document and event they are given costs more)."""
            view = (values, common)
            if streamed and compared and _exactly_equal(known.get(here), view):
                unchanged.append(here)
            elif streamed:
                deferred.append(_IndexPage(template, {**common, "here": here, **values}))
            else:
                pages[here] = template.render(**common, here=here, **values)
            if streamed and compared:
                self._page_views[here] = view

        here = paths.home
        groups, flat = views.groups(here)
        render_page(here, env.get_template("home.md.j2"), compared=False,
                    links=links(here), groups=groups, flat=flat, event_count=len(catalogue.events),
                    deprecated=sum(1 for e in catalogue.events if status_of(e) in ("deprecated", "retired")),
                    documents=[(d, relative_link(here, paths.document(d.id)), d.owner)
                               for d in catalogue.documents],
                    problems=sum(1 for d in catalogue.all_diagnostics if d.severity is Severity.ERROR))
        nav.add(here)

        here = paths.domains_index
        render_page(here, env.get_template("domains.md.j2"), compared=False, home=relative_link(here, paths.home),
                    documents=[(d, relative_link(here, paths.document(d.id)), d.backstage or Backstage(None))
                               for d in catalogue.documents])
        nav.add(here)

        template = env.get_template("document.md.j2")
        for document in catalogue.documents:
            here = paths.document(document.id)
            render_page(here, template, view=views.document_view(document), home=relative_link(here, paths.home),
                        domains=relative_link(here, paths.domains_index))
            if len(catalogue.documents) <= self.options.nav_limit:
                nav.add(here)

        all_groups = groups
        template = env.get_template("group.md.j2")
        for group in all_groups:
            here = paths.group(group.name)
            render_page(here, template, home=relative_link(here, paths.home),
                        group=self._group_for(views, group.name, here))
            if len(all_groups) <= self.options.nav_limit:
                nav.add(here)

        here = paths.tags
        render_page(here, env.get_template("tags.md.j2"), compared=False, home=relative_link(here, paths.home),
                    tags=views.tag_groups(here))
        nav.add(here)

        here = paths.registry
        entries, skipped = [], []
        known_schemas, self._schemas = self._schemas, {}
        for event in catalogue.events:
            if event.payload is None or not event.payload.is_json_schema:
                skipped.append(event)
                continue
            url = paths.layout.url(event)
            entries.append((event, relative_link(here, paths.event(event)),
                            relative_link(here, paths.schema_file(event)),
                            relative_link(here, paths.schema_latest(event)), url))
            latest = paths.layout.latest_url(event)
            cached = known_schemas.get(event.key)
            if cached is not None and cached[0] is event.payload.document and cached[1:3] == (url, latest) \
                    and cached[3] == event.name:
                content, latest_content = cached[4:]
            else:  # the loader hands back the very same schema object for an unchanged document
                content, latest_content = _SchemaJson(event, url), _SchemaJson(event, latest)
            self._schemas[event.key] = (event.payload.document, url, latest, event.name, content, latest_content)
            files.set_made(paths.schema_file(event), content)
            files.set_made(paths.schema_latest(event), latest_content)
        base = paths.layout.base_url
        render_page(here, env.get_template("registry.md.j2"), compared=False, home=relative_link(here, paths.home),
                    entries=entries, skipped=skipped, base=base)
        nav.add(here)

        for name, target in (("field-mapping.md.j2", paths.field_mapping), ("subscribe.md.j2", paths.subscribe)):
            render_page(target, env.get_template(name), compared=False, home=relative_link(target, paths.home),
                        registry=relative_link(target, paths.registry),
                        field_mapping=relative_link(target, paths.field_mapping),
                        routings=[(d, relative_link(target, paths.document(d.id)), routing_of(d))
                                  for d in catalogue.documents])
            nav.add(target)

        template = env.get_template("level.md.j2")
        for label in paths.levels:
            here = paths.level(label)
            render_page(here, template, view=views.kit.level_page(label, paths.home))

        event_pages = {event.key: paths.event(event) for event in catalogue.events}
        pages.update(self._event_pages(views, catalogue.events, streamed=streamed, index_pages=deferred))
        if history is not None:
            add_history(pages, files, history, views, env, directory_urls=self.options.directory_urls)
        if self.options.python_models:
            self._python_models.add(pages, files, views, env, directory_urls=self.options.directory_urls)
        files[paths.stylesheet] = stylesheet()
        site_pages: Mapping[str, str]
        if self.folder is None:
            site_pages = {path: _tidy(text) for path, text in pages.items()}
        else:
            self.folder.record({path: self.folder.write(path, _tidy(text)) for path, text in pages.items()})
            self.folder.keep([*pages, *unchanged, *(page.here for page in deferred),
                              *(event_pages.values() if streamed else ())])
            site_pages = self.folder
        return RenderedSite(pages=site_pages, files=files, nav_pages=frozenset(nav), paths=paths,
                            event_pages=event_pages)

    @staticmethod
    def _group_for(views: CatalogueViews, name: str, here: str) -> Any:
        return views.group(name, here)

    def _event_pages(self, views: CatalogueViews, events: Iterable[Event], *, streamed: bool,
                     index_pages: Sequence[_IndexPage] = ()) -> dict[str, str]:
        """Every event's page; from the cache when nothing it shows has changed, in parallel when many are new.
        ``streamed``: the pages are written, final, to the folder and not returned, with ``index_pages``."""
        pages: dict[str, str] = {}
        self.written = {}
        todo: list[tuple[Event, str, tuple[Any, ...]]] = []
        for event in events:
            here = views.paths.event(event)
            key = _page_key(views, event, here, self.options)
            cached = self._event_cache.get(event.key)
            if cached is not None and (cached[1] is not None or streamed) and _exactly_equal(cached[0], key):
                if cached[1] is not None:
                    pages[here] = cached[1]
                # An edit elsewhere in its document gives the event new, equal objects: remembered from now on.
                self._event_cache[event.key] = (key, cached[1])
            else:
                todo.append((event, here, key))
        event_jobs = [(event, here) for event, here, _ in todo]
        _env().get_template("event.md.j2")  # compiled once here, not once in every worker
        if streamed:
            assert self.folder is not None
            jobs: list[tuple[Event | _IndexPage, str]] = [*event_jobs, *((page, page.here) for page in index_pages)]
            results = fork_map(_write_slice, jobs, (views, self.options, self.folder, self.after_write),
                               min_items=PARALLEL_THRESHOLD, workers=self.workers)
            self.folder.record({here: digest for (_, here), (digest, _) in zip(jobs, results, strict=True)})
            self.written = {here: extra for (_, here), (_, extra) in zip(jobs, results, strict=True)
                            if extra is not None}
            for event, _here, key in todo:
                self._event_cache[event.key] = (key, None)
        else:
            texts = _render_events(views, event_jobs, self.options, self.workers)
            for (event, here, key), text in zip(todo, texts, strict=True):
                self._event_cache[event.key] = (key, text)
                pages[here] = text
        # Bounded by the catalogue: the pages of events that are gone are forgotten.
        current = {event.key for event in views.catalogue.events}
        self._event_cache = {key: entry for key, entry in self._event_cache.items() if key in current}
        return pages


#: Leaf types compared with ``==`` once their types are the same (subclasses, such as Markup, go the long way).
_PLAIN = frozenset({str, int, float, bool, bytes, type(None)})
#: A dataclass's field names, per class (``dataclasses.fields`` builds a tuple on every call).
_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _exactly_equal(a: Any, b: Any, depth: int = 0, seen: set[tuple[int, int]] | None = None) -> bool:
    """Whether two parts of the model are the same value, strictly: of the same types throughout (``1``, ``1.0``
    and ``true`` differ, as they do on a page), mappings in the same order. Each pair of objects is compared once
    (shared parts are not walked again, a value that contains itself ends); beyond a sane depth (a hostile
    document) the two count as different. Plain leaves of a container are compared in its loop, not by a call
    each: a serve rebuild compares every index page's view this way."""
    if a is b:
        return True
    kind = type(a)
    if kind is not type(b) or depth > 200:
        return False
    if kind in _PLAIN or isinstance(a, (str, int, float, bytes)):
        return bool(a == b)
    seen = set() if seen is None else seen
    if (id(a), id(b)) in seen:
        return True  # compared already, or being compared further up
    seen.add((id(a), id(b)))
    if isinstance(a, dict):
        if len(a) != len(b) or list(a) != list(b):
            return False
        pairs: Any = zip(a.values(), b.values(), strict=True)
    elif isinstance(a, (list, tuple)):
        if len(a) != len(b):
            return False
        pairs = zip(a, b, strict=True)
    elif isinstance(a, frozenset):
        return {(type(x), x) for x in a} == {(type(x), x) for x in b}
    elif dataclasses.is_dataclass(a) and not isinstance(a, type):
        names = _FIELD_NAMES.get(kind)
        if names is None:
            names = _FIELD_NAMES[kind] = tuple(f.name for f in dataclasses.fields(a))
        pairs = ((getattr(a, name), getattr(b, name)) for name in names)
    else:
        return False  # anything else is compared by identity only
    depth += 1
    for x, y in pairs:
        if x is y:
            continue
        kind = type(x)
        if kind in _PLAIN:
            if kind is not type(y) or x != y:
                return False
        elif not _exactly_equal(x, y, depth, seen):
            return False
    return True


def _page_key(views: CatalogueViews, event: Event, here: str, options: Options) -> tuple[Any, ...]:
    """What an event page depends on: a signature, then the schema and extension objects, all compared with
    :func:`_exactly_equal` (the loader hands back the very same objects for an unchanged document, so most of it
    is an identity; an edited document gives its other events new, equal ones). Keeping the objects in the cache
    entry keeps them alive, so an identity can never be reused by another object while it is cached."""
    document = views.documents.get(event.document_id)
    superseded = event.lifecycle.superseded_by if event.lifecycle is not None else None
    signature = (
        event.key, event.name, event.title, event.summary, event.description, event.version, event.operations,
        event.tags, event.deprecated, event.location, here, superseded,
        views.paths.event(views.by_name[superseded]) if superseded in views.by_name else None,
        tuple(views.document_title(d) for d in (*event.producers, *event.consumers, event.document_id)),
        tuple(views.paths.document(d) for d in (*event.producers, *event.consumers) if d in views.documents),
        views.catalogue.diagnostics, options, event.extensions, views.kit.key(event),
    )
    return (signature,
            event.payload.document if event.payload is not None else None,
            event.headers.document if event.headers is not None else None,
            event.examples,
            document.extensions if document is not None else None,
            document.info if document is not None else None,
            document.diagnostics if document is not None else None)


PARALLEL_THRESHOLD = 200


def _render_one(views: CatalogueViews, event: Event, here: str, options: Options) -> str:
    return _env().get_template("event.md.j2").render(view=views.event_view(event), here=here,
                                                     directory_urls=options.directory_urls)


def _render_slice(state: tuple[CatalogueViews, Options], jobs: Sequence[tuple[Event, str]]) -> list[str]:
    views, options = state
    return [_render_one(views, event, here, options) for event, here in jobs]


@dataclass(frozen=True)
class _IndexPage:
    """A page other than an event's (home, documents, groups, levels, tags, registry...) to render in the workers:
    its template and everything the template is given."""

    template: Template
    values: dict[str, Any]

    @property
    def here(self) -> str:
        return str(self.values["here"])


def _write_slice(state: tuple[CatalogueViews, Options, PageFolder, AfterWrite | None],
                 jobs: Sequence[tuple[Event | _IndexPage, str]]) -> list[tuple[str, Any]]:
    """Render and write pages (in a worker): only their digests travel back, not their text, and what
    ``after_write`` makes of them."""
    views, options, folder, after_write = state
    results = []
    for item, here in jobs:
        text = _tidy(item.template.render(**item.values) if isinstance(item, _IndexPage)
                     else _render_one(views, item, here, options))
        before, digest = folder.digest(here), folder.write(here, text)
        # A page whose text is the same as before is not converted again (as --dirty does not rebuild it).
        results.append((digest, after_write(here) if after_write is not None and digest != before else None))
    return results


def _render_events(views: CatalogueViews, jobs: list[tuple[Event, str]], options: Options,
                   workers: int | None = None) -> list[str]:
    """Render the event pages ``jobs``; a cold build of a large catalogue uses forked workers, one per core."""
    return fork_map(_render_slice, jobs, (views, options), min_items=PARALLEL_THRESHOLD, workers=workers)


def render_site(catalogue: Catalogue, options: Options | None = None, roots: Iterable[str] = (),
                subscriptions: Iterable[Subscription] = ()) -> RenderedSite:
    """Render ``catalogue`` once (no cache)."""
    return SiteRenderer(options).render(catalogue, roots, subscriptions=subscriptions)
