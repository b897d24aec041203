"""Where every generated page and file lives: stable, URL-safe paths derived from the model.

Paths are the public contract of the catalogue (hand-written pages link to them, consumers bookmark them), so
they depend only on names: ``events/<event name>.md``, ``events/domains/<document id>.md``,
``events/groups/<Entity>.md`` and ``schemas/<event name>/<version>.json``. A name that is not URL-safe (third-party
documents have message names such as ``Array<Person>``) is turned into a slug; slugs are unique case-insensitively,
so the pre-rendered pages can be committed from any operating system.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass

from pipeline.contract import Catalogue, Event

_UNSAFE = re.compile(r"[^A-Za-z0-9._~-]+")
# Names the catalogue's own pages use inside the section: an event may not take them.
_RESERVED = frozenset({"index", "tags", "schemas", "domains", "groups", "field-mapping", "subscribe", "assets"})


def slug(text: str) -> str:
    """A URL- and filesystem-safe form of ``text`` (never empty, no leading dot)."""
    cleaned = _UNSAFE.sub("-", text).strip("-.") or "unnamed"
    return cleaned


def _unique(names: Iterable[tuple[str, str]], reserved: frozenset[str] = frozenset()) -> dict[str, str]:
    taken = set(reserved)
    result: dict[str, str] = {}
    for key, wanted in names:
        candidate = slug(wanted)
        n = 1
        while candidate.lower() in taken:
            n += 1
            candidate = f"{slug(wanted)}-{n}"
        taken.add(candidate.lower())
        result[key] = candidate
    return result


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

    @classmethod
    def for_catalogue(cls, catalogue: Catalogue, section: str = "events", schemas: str = "schemas") -> SitePaths:
        events = _unique(((e.key, e.key) for e in catalogue.events), _RESERVED)
        documents = _unique((d.id, d.id) for d in catalogue.documents)
        groups = _unique((entity, entity) for entity in dict.fromkeys(e.parts[0] if e.parts else e.name
                                                                       for e in catalogue.events))
        return cls(section.strip("/"), schemas.strip("/"), events, documents, groups)

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

    def group(self, entity: str) -> str:
        return self._in_section("groups", self.groups[entity] + ".md")

    # --- schema registry (static JSON) ---------------------------------------------------------------------
    def schema_file(self, event: Event, version: str | None = None) -> str:
        return posixpath.join(self.schemas, self.events[event.key], f"{slug(version or event.version)}.json")

    def schema_latest(self, event: Event) -> str:
        return posixpath.join(self.schemas, self.events[event.key], "latest.json")


def relative_link(from_page: str, to_path: str) -> str:
    """A Markdown link target from the page ``from_page`` to ``to_path`` (both ``src_uri``): MkDocs resolves
    ``.md`` targets to the right URL in either URL style."""
    return posixpath.relpath(to_path, posixpath.dirname(from_page) or ".")


def relative_url(from_page: str, to_path: str, *, directory_urls: bool = True) -> str:
    """The final URL from the built page of ``from_page`` to the built page or file ``to_path``.

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
    rel = posixpath.relpath(target or ".", source_dir or ".")
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
