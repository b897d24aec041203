"""Generated pages converted ahead, in forked workers, and kept in files rather than in memory.

MkDocs converts every page's Markdown in one process, one after the other, and keeps every page's HTML until the
whole site is written. For a catalogue of thousands of generated pages both cost: the conversion is a good part of
the build, and the HTML of all pages together is hundreds of megabytes. So the plugin gives MkDocs a
:class:`GeneratedPage` for each generated file:

* Before MkDocs reads the pages (``on_nav``), :func:`convert_pages` converts them with MkDocs' own
  :meth:`Page.render <mkdocs.structure.pages.Page.render>` (the site's Markdown extensions, its link rewriting and
  validation, its table of contents, title and anchors), in forked workers when there are many. Each page's HTML
  goes to a file; what comes back is small: a :class:`Converted` (table of contents, title, anchor ids, links to
  other pages' anchors, search entries, and the warnings MkDocs logged, replayed in this process so that
  ``--strict`` counts them).
* When MkDocs then renders the page, :meth:`GeneratedPage.render` takes that result if the page's Markdown is the
  Markdown that was converted (a plugin may have changed it since); otherwise it converts it here.
* :attr:`GeneratedPage.content` lives in the file: it is read when MkDocs or a plugin asks for it, and a new value
  is written there; :attr:`GeneratedPage.markdown`, once converted, is read again from the page's own file when
  asked for, as long as it is still that file's text. So a page's text is in memory only while MkDocs handles
  that page.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Iterator, Sequence
from collections.abc import Set as AbstractSet
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page
from mkdocs.structure.toc import TableOfContents
from mkdocs.utils.meta import META_RE, get_data

from pipeline.forking import fork_map
from portal.mkdocs_plugin.html_stash import Stash, restore, search_entries, stash
from portal.mkdocs_plugin.skeleton import ConvertedSkeleton, SkeletonConverter
from portal.render import PageFolder

#: Pages converted together (convert_pages) by forked workers from this many: those left to convert then are the
#: ones Python-Markdown converts, several milliseconds each, so a few dozen pay for the fork.
PARALLEL_THRESHOLD = 32
_PAGES_LOG = logging.getLogger("mkdocs.structure.pages")


@dataclass(frozen=True)
class Converted:
    """What converting a page gives besides its HTML (which is in its file)."""

    digest: str  # of the Markdown converted
    toc: TableOfContents
    title: str | None  # the page's title as MkDocs gives it once the page is rendered
    anchors: str  # the page's anchor ids, sorted, joined (joined_anchors): a large site holds one per page
    links: dict[str, dict[str, str]] | None  # src_uri of the page linked to -> anchor -> link as written
    search: str | None  # mkdocs-material index entries as a JSON array (None: material's indexer is not used)
    records: tuple[logging.LogRecord, ...] = ()


class HtmlFiles:
    """The HTML of generated pages, one file per page, and the results of converting them ahead."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.converted: dict[str, Converted] = {}
        self._skeletons: tuple[MkDocsConfig, SkeletonConverter] | None = None

    def skeletons(self, config: MkDocsConfig) -> SkeletonConverter:
        """The skeleton converter of this build's configuration (its headings are remembered for the build)."""
        if self._skeletons is None or self._skeletons[0] is not config:
            self._skeletons = (config, SkeletonConverter(config))
        return self._skeletons[1]

    def path(self, src_uri: str) -> Path:
        return self.root / (src_uri + ".html")

    def read(self, src_uri: str) -> str:
        return self.path(src_uri).read_text(encoding="utf-8")

    def write(self, src_uri: str, html: str) -> None:
        target = self.path(src_uri)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(html, encoding="utf-8")


_ANCHOR_SEPARATOR = "\0"  # never in an HTML id: the HTML parser replaces it


def joined_anchors(ids: Iterable[str]) -> str:
    """Anchor ids as one string: a tenth of the memory of a set of them, for thousands of pages held until the
    site is written; :attr:`GeneratedPage.present_anchor_ids` makes the set when a link to the page is checked."""
    return _ANCHOR_SEPARATOR.join(sorted(ids))


def anchor_set(joined: str) -> set[str]:
    return set(joined.split(_ANCHOR_SEPARATOR)) if joined else set()


def entries_json(entries: list[dict[str, Any]]) -> str:
    """Search entries as the JSON the index holds them in: a fifth of the memory of the dicts. ASCII (a lone
    surrogate from a document is escaped, not an error when the index is written), and spliced into the index as
    they are."""
    return json.dumps(entries, separators=(",", ":"), default=str)


def markdown_digest(markdown: str) -> str:
    return hashlib.blake2b(markdown.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def with_meta_data(text: str) -> tuple[str, dict[str, Any]]:
    """``mkdocs.utils.meta.get_data(text)``: the page's Markdown and its meta-data. A text whose first line is
    neither YAML's ``---`` nor a ``key: value`` line nor blank has none, and comes back as it is (without a
    carriage return, which the reader would change); ``get_data`` would split the whole page into lines and join
    them again to find that out."""
    if "\r" not in text and not text.startswith("---"):
        end = text.find("\n")
        first = text if end < 0 else text[:end]
        if first.strip() and META_RE.match(first) is None:
            return text, {}
    return get_data(text)


class _InFile:
    """The page's Markdown is the text of its file."""


class GeneratedPage(Page):
    """A generated page: converted ahead when possible, its HTML kept in a file (see the module docstring)."""

    def __init__(self, file: File, config: MkDocsConfig, html: HtmlFiles, *, index_search: bool,
                 source_digest: str | None = None) -> None:
        """:param source_digest: :func:`markdown_digest` of the text of the page's file."""
        self._html = html
        self._index_search = index_search
        self._source_digest = source_digest
        self._file_text: str | None = None  # the text read from the page's file, while it is the Markdown
        self._markdown: str | _InFile | None = None
        self._loaded_markdown: str | None = None
        self._stored = False  # the page's HTML is in its file
        self._loaded: str | None = None  # the HTML last read from the file, while the page is handled
        self._converting = False  # Markdown's HTML stays in memory until the stashed blocks are back
        self.search_entries: str | None = None  # entries_json
        self._anchors: str | None = None  # joined_anchors, until a link to the page is checked
        self._anchor_set: set[str] | None = None
        super().__init__(None, file, config)

    @property  # type: ignore[override]
    def present_anchor_ids(self) -> set[str] | None:
        if self._anchor_set is None and self._anchors is not None:
            self._anchor_set, self._anchors = anchor_set(self._anchors), None
        return self._anchor_set

    @present_anchor_ids.setter
    def present_anchor_ids(self, value: set[str] | None) -> None:
        self._anchor_set, self._anchors = value, None

    @property  # type: ignore[override]
    def markdown(self) -> str | None:
        if not isinstance(self._markdown, _InFile):
            return self._markdown
        if self._loaded_markdown is None:
            self._loaded_markdown = self.file.content_string
        return self._loaded_markdown

    @markdown.setter
    def markdown(self, value: str | None) -> None:
        if value is not None and value is self._loaded_markdown:
            return  # the file's text, handed back unchanged
        self._markdown, self._loaded_markdown = value, None

    @property  # type: ignore[override]
    def content(self) -> str | None:
        if not self._stored:
            return None
        if self._loaded is None:
            self._loaded = self._html.read(self.file.src_uri)
        return self._loaded

    @content.setter
    def content(self, value: str | None) -> None:
        if value is not None and value is self._loaded:
            self._loaded = None  # what was read, handed back unchanged: the file has it
            return
        if self._converting:
            self._stored, self._loaded = value is not None, value
            return
        self._loaded = None
        self._stored = value is not None
        if value is not None:
            self._html.write(self.file.src_uri, value)

    def read_source(self, config: MkDocsConfig) -> None:
        """:meth:`Page.read_source`, with MkDocs' meta-data reader skipped for a text that cannot start with meta-data
        (:func:`with_meta_data`)."""
        source = config.plugins.on_page_read_source(page=self, config=config)
        from_file = source is None
        if source is None:
            try:
                source = self.file.content_string
            except OSError:
                _PAGES_LOG.error(f"File not found: {self.file.src_path}")
                raise
            except ValueError:
                _PAGES_LOG.error(f"Encoding error reading file: {self.file.src_path}")
                raise
        self.markdown, self.meta = with_meta_data(source)
        # The very text of the page's file, unless meta-data was taken off it: see render.
        self._file_text = source if from_file and self._markdown is source else None

    def release(self) -> None:
        """Forget the text read from the files (MkDocs has written the page)."""
        self._loaded = self._loaded_markdown = None

    def render(self, config: MkDocsConfig, files: Files) -> None:
        assert self.markdown is not None, "read_source comes first"
        converted = self._html.converted.pop(self.file.src_uri, None)
        # What was converted ahead this build was converted from the page's file, which nothing writes until the
        # next render: while the Markdown is still the very text read from that file (no plugin changed it), the
        # conversion is its own, without hashing a hundred kilobytes again.
        unchanged = self._file_text is not None and self._markdown is self._file_text
        digest = None if unchanged else markdown_digest(self.markdown)
        if converted is None or (digest is not None and converted.digest != digest):
            converted = self.convert(config, files)
        if unchanged or digest == self._source_digest:
            self._markdown, self._loaded_markdown = _InFile(), None  # read again from the file when asked for
        self._file_text = None
        self._stored, self._loaded = True, None
        self.toc = converted.toc
        # MkDocs' own title, so that asking for it never reads the HTML back just to see that there is some.
        self._title_from_render = converted.title
        self._anchor_set, self._anchors = None, converted.anchors
        if converted.links is not None:
            self.links_to_anchors = {target: anchors for src_uri, anchors in converted.links.items()
                                     if (target := files.get_file_from_path(src_uri)) is not None}
        self.search_entries = converted.search
        for record in converted.records:
            logging.getLogger(record.name).handle(record)

    def convert(self, config: MkDocsConfig, files: Files) -> Converted:
        """Convert the page's Markdown as MkDocs does, with its raw HTML blocks around Python-Markdown
        (:mod:`.html_stash`), and without it at all when the rest is headings (:mod:`.skeleton`); the HTML goes to
        the page's file."""
        assert self.markdown is not None, "read_source comes first"
        markdown = self.markdown
        fast = self.convert_skeleton(config)
        if fast is not None:
            return fast
        swapped, store = stash(markdown)
        self.markdown, self._converting = swapped, True
        try:
            super().render(config, files)
            self._loaded = html = restore(self.content or "", store)
            # Taken now, while the HTML is at hand: MkDocs' title falls back to whether the page has content.
            title = self.title
        finally:
            self.markdown, self._converting, self._loaded = markdown, False, None
        self.content = html
        ids = (self.present_anchor_ids or set()) | store.anchor_ids()
        anchors = joined_anchors(ids)
        links = None
        if self.links_to_anchors is not None:
            self.links_to_anchors = _checkable(self.links_to_anchors, self.file, ids)
            links = {target.src_uri: linked for target, linked in self.links_to_anchors.items()}
        search = entries_json(search_entries(html, self.url, title or "")) if self._index_search else None
        return Converted(markdown_digest(markdown), self.toc, title, anchors, links, search)


    def convert_skeleton(self, config: MkDocsConfig) -> Converted | None:
        """:meth:`convert` when the page is a skeleton (:mod:`.skeleton`), which needs none of MkDocs' files;
        ``None`` (nothing done) otherwise."""
        markdown = self.markdown or ""
        swapped, store = stash(markdown)
        fast = self._html.skeletons(config).convert(swapped, store)
        return self._converted_skeleton(markdown, fast, store) if fast is not None else None

    def _converted_skeleton(self, markdown: str, fast: ConvertedSkeleton, store: Stash) -> Converted:
        self.content = fast.html
        self._loaded = fast.html  # for the title's fallbacks, which look at the content
        self.toc, self._title_from_render = fast.toc, fast.title
        title = self.title
        self._loaded = None
        ids = fast.anchors | store.anchor_ids()
        anchors = joined_anchors(ids)
        self._anchor_set, self._anchors = None, anchors
        # As MkDocs records links, only when anchors are validated: here, the headings' permalinks to the page.
        links: dict[str, dict[str, str]] | None = None
        if _PAGES_LOG.getEffectiveLevel() > logging.DEBUG:
            self.links_to_anchors = _checkable({self.file: fast.self_links}, self.file, ids)
            links = {target.src_uri: linked for target, linked in self.links_to_anchors.items()}
        search = entries_json(search_entries(fast.html, self.url, title or "")) if self._index_search else None
        return Converted(markdown_digest(markdown), self.toc, title, anchors, links, search)


def _checkable(links: dict[File, dict[str, str]], own: File, ids: AbstractSet[str]) -> dict[File, dict[str, str]]:
    """``links`` (MkDocs' ``links_to_anchors``) less the page's links to anchors it has: checking those can only
    pass, and would make every page of a large site build its set of anchors (see ``joined_anchors``)."""
    kept = {}
    for target, anchors in links.items():
        if target is own:
            anchors = {anchor: link for anchor, link in anchors.items() if anchor not in ids}
        if anchors:
            kept[target] = anchors
    return kept


class ConvertAhead:
    """Converts an event page as soon as the renderer has written it, in the worker that rendered it (the
    renderer's ``after_write``): its HTML goes to its file, and the :class:`Converted` travels back in place of
    MkDocs' conversion. Only pages that are a skeleton (:mod:`.skeleton`) are taken; the others are converted
    with the rest (:func:`convert_pages`), when MkDocs' files are known."""

    def __init__(self, config: MkDocsConfig, folder: PageFolder, html: HtmlFiles, index_search: bool) -> None:
        self.config, self.folder, self.html, self.index_search = config, folder, html, index_search

    def __call__(self, src_uri: str) -> Converted | None:
        file = File.generated(self.config, src_uri, abs_src_path=str(self.folder.path(src_uri)))
        page = GeneratedPage(file, self.config, self.html, index_search=self.index_search)
        page.read_source(self.config)
        return page.convert_skeleton(self.config)


def convert_pages(config: MkDocsConfig, files: Files, src_uris: Sequence[str], html: HtmlFiles, *,
                  workers: int | None) -> None:
    """Convert the generated pages ``src_uris`` ahead (in forked workers when there are many); the results wait in
    ``html.converted`` for :meth:`GeneratedPage.render`."""
    results = fork_map(_convert_slice, src_uris, (config, files), min_items=PARALLEL_THRESHOLD, workers=workers)
    html.converted.update(zip(src_uris, results, strict=True))


def _convert_slice(state: tuple[MkDocsConfig, Files], src_uris: Sequence[str]) -> list[Converted]:
    config, files = state
    results = []
    for src_uri in src_uris:
        file = files.get_file_from_path(src_uri)
        assert file is not None and isinstance(file.page, GeneratedPage)
        page = file.page
        with captured_logs() as records:
            page.read_source(config)
            converted = page.convert(config, files)
        # Run in this process (few pages), the page is read again when MkDocs gets to it: let the text go now.
        page.markdown = None
        results.append(Converted(converted.digest, converted.toc, converted.title, converted.anchors,
                                 converted.links, converted.search, tuple(records)))
    return results


class _Collect(logging.Handler):
    def __init__(self, records: list[logging.LogRecord]) -> None:
        super().__init__(logging.DEBUG)
        self.records = records

    def emit(self, record: logging.LogRecord) -> None:
        # Formatted here, so that the record travels between processes and reads the same when replayed.
        record.msg, record.args, record.exc_info = record.getMessage(), None, None
        self.records.append(record)


@contextmanager
def captured_logs() -> Iterator[list[logging.LogRecord]]:
    """MkDocs' log records, held back to be replayed when MkDocs handles the page (its handlers count warnings for
    ``--strict`` in the main process)."""
    records: list[logging.LogRecord] = []
    logger = logging.getLogger("mkdocs")
    handlers, propagate = logger.handlers[:], logger.propagate
    logger.handlers, logger.propagate = [_Collect(records)], False
    try:
        yield records
    finally:
        logger.handlers, logger.propagate = handlers, propagate
