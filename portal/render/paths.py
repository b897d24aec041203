"""Where every generated page and file lives: stable, URL-safe paths derived from the model.

Paths are the public contract of the catalogue (hand-written pages link to them, consumers bookmark them), so
they depend only on names: ``events/<event name>.md``, ``events/domains/<document id>.md``,
``events/groups/<Entity>.md`` and ``schemas/<event name>/<version>.json``. A name that is not URL-safe (third-party
documents have message names such as ``Array<Person>``) is turned into a slug; slugs are unique case-insensitively,
so the pre-rendered pages can be committed from any operating system.
"""

from __future__ import annotations

import posixpath
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache

from pipeline.contract import Catalogue, Event
from pipeline.schemas.registry import RegistryLayout, event_slugs, normalised_base_url, slug, unique_slugs

__all__ = ["SitePaths", "final_url", "relative_link", "relative_url", "slug"]

MIN_LEVEL_EVENTS = 2


@dataclass(frozen=True)
class SitePaths:
    """The paths (``src_uri``, relative to the docs folder) of every generated page and file.

    ``section`` is the folder of the pages (``events`` by default), ``schemas`` the folder of the registry.
    """

    section: str
    schemas: str
    events: dict[str, str]
    documents: dict[str, str]
    groups: dict[str, str]
    layout: RegistryLayout
    """The schema registry's layout (files and public URLs), shared with the pipeline."""
    levels: dict[str, str] = field(default_factory=dict)
    """The page name of each level of the name hierarchy that has a page (``Payment.Authorised.*`` →
    ``Payment.Authorised``): those with at least :data:`MIN_LEVEL_EVENTS` events."""

    @classmethod
    def for_catalogue(cls, catalogue: Catalogue, section: str = "events", schemas: str = "schemas",
                      schema_base_url: str | None = None) -> SitePaths:
        """The paths of ``catalogue``'s site. Event pages and schema folders share one name per event, decided by
        the pipeline's registry (:func:`pipeline.schemas.registry.event_slugs`), so they can never disagree."""
        events = event_slugs(catalogue)
        documents = unique_slugs((d.id, d.id) for d in catalogue.documents)
        groups = unique_slugs((entity, entity) for entity in dict.fromkeys(e.parts[0] if e.parts else e.name
                                                                           for e in catalogue.events))
        folder = schemas.strip("/")
        base_url = schema_base_url or "/" + folder + "/"
        layout = RegistryLayout(events, folder, normalised_base_url(base_url))
        # A page for each level that groups two events or more; a level of one event is its exact rule plus the
        # events added later, shown on that event's page.
        counts = Counter(".".join(e.parts[:depth]) + ".*" for e in catalogue.events
                         for depth in range(len(e.parts) - 1, 0, -1))
        levels = unique_slugs((label, label[:-2]) for label, count in counts.items() if count >= MIN_LEVEL_EVENTS)
        return cls(section.strip("/"), folder, events, documents, groups, layout, levels)

    def _in_section(self, *parts: str) -> str:
        return posixpath.join(self.section, *parts) if self.section else posixpath.join(*parts)

    # --- pages (Markdown, src_uri) -------------------------------------------------------------------------
    @property
    def home(self) -> str:
        return self._in_section("index.md")

    @property
    def domains_index(self) -> str:
        return self._in_section("domains", "index.md")

    @property
    def tags(self) -> str:
        return self._in_section("tags.md")

    @property
    def registry(self) -> str:
        return self._in_section("schemas.md")

    @property
    def field_mapping(self) -> str:
        return self._in_section("field-mapping.md")

    @property
    def subscribe(self) -> str:
        return self._in_section("subscribe.md")

    @property
    def stylesheet(self) -> str:
        return self._in_section("assets", "eventdeck.css")

    def event(self, event: Event | str) -> str:
        key = event if isinstance(event, str) else event.key
        return self._in_section(self.events[key] + ".md")

    def document(self, document_id: str) -> str:
        return self._in_section("domains", self.documents[document_id] + ".md")

    def level(self, label: str) -> str:
        """The page of a hierarchy level (``Payment.Authorised.*``)."""
        return self._in_section("levels", self.levels[label] + ".md")

    def group(self, entity: str) -> str:
        return self._in_section("groups", self.groups[entity] + ".md")

    # --- schema registry (static JSON): the pipeline's layout decides ------------------------------------
    def schema_file(self, event: Event, version: str | None = None) -> str:
        return self.layout.path(event, version)

    def schema_latest(self, event: Event) -> str:
        return self.layout.latest_path(event)


_UNUSUAL_PARTS = frozenset(("", ".", ".."))


@lru_cache(maxsize=8192)
def _relpath(path: str, start: str) -> str:
    """``posixpath.relpath`` of site paths (``src_uri``), remembered: the pages of one folder (every event page)
    link to the same few pages.

    Two normalised relative paths (no empty, ``.`` or ``..`` part) are related by their common leading folders
    alone; ``posixpath.relpath`` would make both absolute first, asking the OS for the working directory on every
    call. Anything else goes to ``posixpath.relpath``. (For paths that climb above the working directory its answer
    depends on it, which site paths never do.)"""
    parts = path.split("/")
    base = [] if start == "." else start.split("/")
    if not path or _UNUSUAL_PARTS.intersection(parts) or _UNUSUAL_PARTS.intersection(base):
        return posixpath.relpath(path, start)
    common = 0
    for mine, theirs in zip(parts, base, strict=False):
        if mine != theirs:
            break
        common += 1
    return "/".join([".."] * (len(base) - common) + parts[common:]) or "."


def relative_link(from_page: str, to_path: str) -> str:
    """A Markdown link target from the page ``from_page`` to ``to_path`` (both ``src_uri``): MkDocs resolves
    ``.md`` targets to the right URL in either URL style."""
    return _relpath(to_path, posixpath.dirname(from_page) or ".")


@lru_cache(maxsize=32768)
def relative_url(from_page: str, to_path: str, *, directory_urls: bool = True) -> str:
    """The final URL from the built page of ``from_page`` to the built page or file ``to_path`` (remembered: a serve
    rebuild asks again for every link of every index page).

    For raw HTML (SVG links), which MkDocs does not rewrite: it mirrors MkDocs' own mapping of ``a/b.md`` to
    ``a/b/`` (``use_directory_urls``) or ``a/b.html``.
    """

    def built(path: str) -> str:
        if not path.endswith(".md"):
            return path
        stem = path[:-3]
        if not directory_urls:
            return stem + ".html"
        if posixpath.basename(stem) == "index":
            return posixpath.dirname(stem) + "/" if posixpath.dirname(stem) else ""
        return stem + "/"

    source = built(from_page)
    source_dir = source if source.endswith("/") or source == "" else posixpath.dirname(source)
    target = built(to_path)
    # relpath ignores a trailing slash; without it, _relpath's fast path takes directory URLs too.
    rel = _relpath(target.rstrip("/") or ".", source_dir.rstrip("/") or ".")
    if target.endswith("/") or target == "":
        rel = rel.rstrip("/") + "/" if rel != "." else "./"
    return rel


def final_url(link: str, from_page: str, *, directory_urls: bool = True) -> str:
    """The URL a browser needs for ``link``, a Markdown link target relative to the page ``from_page`` (a
    ``src_uri``), as MkDocs would rewrite it. For links inside raw HTML, which MkDocs leaves alone."""
    if "://" in link or link.startswith(("#", "mailto:")):
        return link
    target, _, fragment = link.partition("#")
    if target.endswith(".md"):
        stem = target[:-3]
        if not directory_urls:
            target = stem + ".html"
        elif posixpath.basename(stem) == "index":
            target = posixpath.dirname(stem) + "/" if posixpath.dirname(stem) else "./"
        else:
            target = stem + "/"
    if directory_urls and posixpath.basename(from_page) != "index.md":
        target = "../" + target
    target = posixpath.normpath(target) + ("/" if target.endswith("/") else "")
    if target == "./":
        target = "./"
    return target + ("#" + fragment if fragment else "")
