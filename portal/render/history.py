"""The version history on the catalogue's pages: each event page's *Changes* section, each document page's
changelog, and every earlier version's schema in the registry (so an old ``dataschema`` still resolves).

The history itself (:class:`pipeline.contract.history.History`) is read by the edges (MkDocs plugin, ``eventdeck
docs``); this module only lays it out, appending sections to pages the renderer has already made.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass

from jinja2 import Environment
from markupsafe import Markup

from pipeline.contract import Event
from pipeline.contract.diff import Change, EventDiff, Impact
from pipeline.contract.history import History, Release

from .paths import relative_link
from .views import CatalogueViews

#: Changes listed per version and event; the rest are counted (``eventdeck diff`` lists them all).
MAX_CHANGES = 30
_IMPACT_STYLE = {
    Impact.BREAKING: "background-color:#c62828;color:#fff;",
    Impact.NON_BREAKING: "background-color:#2e7d32;color:#fff;",
    Impact.ANNOTATION: "background-color:#546e7a;color:#fff;",
}
_BADGE = ("display:inline-block;padding:0 .5em;border-radius:.7em;font-size:.65rem;line-height:1.6;"
          "font-weight:700;white-space:nowrap;vertical-align:middle;")


def impact_style(impact: Impact | None) -> Markup:
    """Inline badge declarations (they survive TechDocs' sanitiser, which drops the site's stylesheet)."""
    return Markup(_BADGE + _IMPACT_STYLE.get(impact or Impact.ANNOTATION, ""))


@dataclass(frozen=True)
class ChangeRow:
    """One version of an event on its page."""

    version: str
    date: str | None
    commit: str | None
    current: bool
    changes: tuple[Change, ...]
    more: int
    added: bool
    first: bool
    schema: str | None


@dataclass(frozen=True)
class ReleaseRow:
    """One version of a document in its changelog."""

    version: str
    date: str | None
    commit: str | None
    current: bool
    first: bool
    events: tuple[tuple[str, str | None, EventDiff], ...]
    """(event name, link to its page or ``None`` when it no longer exists, its changes)."""


def add_history(pages: MutableMapping[str, str], files: MutableMapping[str, bytes], history: History,
                views: CatalogueViews, env: Environment, *, directory_urls: bool) -> None:
    """Append the *Changes* section to every event page and the changelog to every document page in ``pages``, and
    put every earlier version's schema into ``files``."""
    from .site import _json_bytes, registry_document  # site imports this module

    paths = views.paths
    template = env.get_template("changes.md.j2")
    earlier: list[tuple[str, str, tuple[tuple[str, str, str], ...]]] = []
    for event in views.catalogue.events:
        here = paths.event(event)
        if here not in pages:
            continue
        rows = _event_rows(history, event, views, here)
        pages[here] = pages[here].rstrip("\n") + "\n\n" + template.render(
            rows=rows, notes=history.notes, here=here, directory_urls=directory_urls, impact_style=impact_style)
        published = []
        for version, then in history.older_schemas(event):
            if then.payload is not None and then.payload.is_json_schema:
                url = paths.layout.url(event.key, version)
                files[paths.schema_file(event, version)] = _json_bytes(registry_document(then, url))
                published.append((version, relative_link(paths.registry, paths.schema_file(event, version)), url))
        if published:
            earlier.append((event.name, relative_link(paths.registry, here), tuple(published)))
    if paths.registry in pages:
        pages[paths.registry] = pages[paths.registry].rstrip("\n") + "\n\n" + env.get_template(
            "registry-history.md.j2").render(earlier=earlier, notes=history.notes, here=paths.registry,
                                             directory_urls=directory_urls)
    template = env.get_template("changelog.md.j2")
    for document in views.catalogue.documents:
        here = paths.document(document.id)
        if here not in pages:
            continue
        releases = _release_rows(history.of_document(document.id), views, here)
        pages[here] = pages[here].rstrip("\n") + "\n\n" + template.render(
            releases=releases, notes=history.notes, here=here, directory_urls=directory_urls,
            impact_style=impact_style)


def _event_rows(history: History, event: Event, views: CatalogueViews, here: str) -> tuple[ChangeRow, ...]:
    paths = views.paths
    releases = history.of_document(event.document_id)
    first = releases[0] if releases else None
    rows = []
    for release, then, change in history.of_event(event):
        changes = change.changes if change is not None else ()
        schema = None
        if then is not None and then.event.payload is not None and then.event.payload.is_json_schema:
            schema = relative_link(here, paths.schema_file(event, None if release.current else release.version))
        rows.append(ChangeRow(release.version, release.day, release.commit[:12] if release.commit else None,
                              release.current, changes[:MAX_CHANGES], max(0, len(changes) - MAX_CHANGES),
                              change is not None and change.added, release is first, schema))
    return tuple(rows)


def _release_rows(releases: tuple[Release, ...], views: CatalogueViews, here: str) -> tuple[ReleaseRow, ...]:
    rows = []
    for index, release in reversed(list(enumerate(releases))):
        events = []
        for change in release.changes:
            current = views.by_name.get(change.event)
            link = relative_link(here, views.paths.event(current)) if current is not None else None
            events.append((change.event, link, change))
        rows.append(ReleaseRow(release.version, release.day, release.commit[:12] if release.commit else None,
                               release.current, index == 0, tuple(events)))
    return tuple(rows)

