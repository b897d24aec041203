"""The subscription kit on the catalogue's pages: each event's rule patterns (every level of its name, with what
else each level matches and the content filters it allows), each hierarchy level's page, the snippets that
subscribe with a pattern, and who subscribes by request file (``subscriptions/*.yaml``).

The snippets are exactly what ``eventdeck kit`` prints (:func:`portal.kit.specs.spec_for`, the same generators), with
the placeholders of :mod:`portal.kit.specs` for the reader's own account, bus and endpoint. They are laid out as the
tabs of ``pymdownx.tabbed`` (``alternate_style``), written as raw HTML: mkdocs-material switches them with CSS radio
buttons alone (no script, so they work in TechDocs, which runs none), and without that stylesheet every tab's
plain ``<pre><code>`` block is simply shown one after the other.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from pipeline.contract import Catalogue, Event
from pipeline.errors import EventdeckError
from portal.kit.examples import ExampleEvent, example_events
from portal.kit.patterns import KitPattern, LevelIndex, level_pattern, levels
from portal.kit.snippets import snippets
from portal.kit.specs import PLACEHOLDER_ACCOUNT, PLACEHOLDER_BUS, PLACEHOLDER_ENDPOINT, spec_for

from .markup import code_block, json_block
from .paths import SitePaths, relative_url

if TYPE_CHECKING:  # portal.kit.subscriptions imports portal.render (URL checks): only its type is needed here
    from portal.kit.subscriptions import Subscription

#: The tabs of a page, in order: ``eventdeck kit --format`` and the tab's label.
TABS: tuple[tuple[str, str], ...] = (
    ("pattern", "Pattern"), ("cfn", "CloudFormation"), ("sam", "SAM"), ("cdk", "CDK"), ("terraform", "Terraform"),
    ("boto3", "boto3"), ("python", "Consumer (Python)"))


@dataclass(frozen=True)
class SnippetBlock:
    title: str
    filename: str
    code: Markup


@dataclass(frozen=True)
class SnippetTab:
    format: str
    label: str
    blocks: tuple[SnippetBlock, ...]


@dataclass(frozen=True)
class LevelRow:
    """One level of an event's name: its pattern, the page it links to, the other events it matches, filters."""

    label: str
    exact: bool
    link: str | None
    pattern: Markup
    also: tuple[tuple[str, str | None], ...]
    filters: tuple[tuple[str, str], ...]
    no_filter: str | None


@dataclass(frozen=True)
class KitView:
    """What a page shows of the kit: ``rows`` (levels), the snippets' ``tabs`` for ``rule`` (or why there are
    none: ``unavailable``), and the radio group name of the tabs (unique on the page)."""

    rows: tuple[LevelRow, ...]
    rule: str
    tabs: tuple[SnippetTab, ...]
    unavailable: str | None
    group: str = "ed-kit"
    account: str = PLACEHOLDER_ACCOUNT
    bus: str = PLACEHOLDER_BUS
    endpoint: str = PLACEHOLDER_ENDPOINT


@dataclass(frozen=True)
class LevelPageView:
    label: str
    page: str
    home: str
    subscribe_link: str
    events: tuple[tuple[str, str, str | None], ...]  # name, link, summary
    kit: KitView


def subscriber_label(subscription: Subscription) -> str:
    """How a page names a subscriber: the team and its request file (no folder: pages are machine-independent)."""
    return f"{subscription.team} ({Path(subscription.file).name})"


class KitViews:
    """The kit of one catalogue: each level's pattern computed once per render and shared by every page."""

    def __init__(self, catalogue: Catalogue, paths: SitePaths, subscriptions: Sequence[Subscription] = (), *,
                 directory_urls: bool = True) -> None:
        """Links are final URLs (``directory_urls`` as the site's): the kit is raw HTML, which MkDocs leaves alone."""
        self.catalogue = catalogue
        self.paths = paths
        self.directory_urls = directory_urls
        self.subscriptions = tuple(subscriptions)
        self._examples: list[ExampleEvent] | None = None
        self._patterns: dict[str, KitPattern | str] = {}
        self._candidates: dict[str, list[ExampleEvent]] = {}
        self._index: LevelIndex | None = None

    @property
    def examples(self) -> list[ExampleEvent]:
        if self._examples is None:
            self._examples = example_events(self.catalogue)
        return self._examples

    def pattern(self, label: str) -> KitPattern | str:
        """The level's pattern, or why it has none (an event put on no bus). Only the examples whose
        ``detail-type`` the pattern can accept are given to the pattern engine, which still decides."""
        found = self._patterns.get(label)
        if found is None:
            if self._index is None:
                self._index = LevelIndex(self.catalogue, self.examples)
            candidates = self._index.examples(label)
            self._candidates[label] = candidates
            try:
                found = level_pattern(self.catalogue, label, candidates, self._index)
            except EventdeckError as exc:
                found = str(exc)
            self._patterns[label] = found
        return found

    def key(self, event: Event) -> tuple[Any, ...]:
        """What an event page shows of the kit, comparable (for the page cache): its levels' patterns, the sealing
        of what they match, and its subscribers."""
        patterns = tuple(self.pattern(label) for label in levels(event))
        sealed = tuple(self.catalogue.event(k).sealing for p in patterns if isinstance(p, KitPattern)
                       for k in p.matches)
        return patterns, sealed, tuple(subscriber_label(s) for s in self.subscribers(event))

    def _url(self, here: str, target: str) -> str:
        return relative_url(here, target, directory_urls=self.directory_urls)

    def subscribers(self, event: Event) -> list[Subscription]:
        return [s for s in self.subscriptions if s.receives(event.key)]

    def event_kit(self, event: Event, here: str) -> KitView:
        labels = levels(event)
        rows = tuple(self._row(label, here, event.key) for label in labels)
        return self._view(labels[0], rows)

    def level_page(self, label: str, home: str) -> LevelPageView:
        here = self.paths.level(label)
        found = self.pattern(label)
        rows = (self._row(label, here, None),)
        events = tuple((key, self._url(here, self.paths.event(key)),
                        self.catalogue.event(key).summary or self.catalogue.event(key).title)
                       for key in (found.matches if isinstance(found, KitPattern) else ()))
        return LevelPageView(label, here, self._url(here, home), self._url(here, self.paths.subscribe),
                             tuple((self.catalogue.event(k).name, link, s) for k, link, s in events),
                             self._view(label, rows))

    def _row(self, label: str, here: str, event_key: str | None) -> LevelRow:
        found = self.pattern(label)
        exact = not label.endswith(".*")
        link = self._url(here, self.paths.level(label)) if not exact and label in self.paths.levels else None
        if isinstance(found, str):
            return LevelRow(label, exact, link, Markup(""), (), (), found)
        also = tuple((self.catalogue.event(k).name, self._url(here, self.paths.event(k)))
                     for k in (found.also_matches(event_key) if event_key else ()))
        filters = tuple((f.name, ", ".join(str(v) for v in f.values)) for f in found.filters.fields)
        return LevelRow(label, exact, link, json_block(found.pattern), also, filters, found.filters.unavailable)

    def _view(self, label: str, rows: tuple[LevelRow, ...]) -> KitView:
        found = self.pattern(label)
        if isinstance(found, str):
            return KitView(rows, label, (), found)
        try:
            spec = spec_for(self.catalogue, found, self._candidates[label], endpoint=PLACEHOLDER_ENDPOINT)
        except EventdeckError as exc:
            return KitView(rows, label, (), str(exc))
        tabs = tuple(SnippetTab(fmt, name, tuple(
            SnippetBlock(s.title, s.filename, code_block(s.text.rstrip("\n"), s.language, label=s.filename))
            for s in snippets(spec, fmt))) for fmt, name in TABS)
        return KitView(rows, label, tabs, None)
