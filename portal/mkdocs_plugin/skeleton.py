"""Generated pages that are only headings and raw HTML blocks, converted without Python-Markdown reading the page.

Once :mod:`.html_stash` has set a generated page's raw HTML blocks aside, what is left of an event page is its
*skeleton*: a dozen headings and the blocks' placeholders. Python-Markdown still costs several milliseconds on it
(most of a page's conversion), and the same headings (``## Payload``, ``## Examples``...) come back on every page.
So when every part of the skeleton is a block or a one-line heading with an explicit id (``## Payload { #x }``),
:class:`SkeletonConverter` converts each distinct heading once, alone, with the site's own Markdown extensions and
MkDocs' own tree processors, and joins the headings' HTML and the blocks as Python-Markdown joins them.

That is exactly a conversion of the whole page because nothing in such a heading depends on the rest of the page:
its id is explicit (the ``toc`` extension invents ids, numbered against the page's others, only for headings that
have none), and its only links are its own permalinks (a heading with any other link is not taken). A page whose
skeleton has anything else (a paragraph, a table, a heading without an id) is converted the usual way, and so is
every page when a site's extensions would join the parts differently: the converter checks that first, on a probe
page converted both ways (:meth:`SkeletonConverter.works`). The test suite compares both ways on whole catalogues.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit
from xml.etree import ElementTree as etree

import markdown
import markdown.treeprocessors
from markdown.extensions.toc import nest_toc_tokens
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.toc import TableOfContents, get_toc
from mkdocs.utils.rendering import get_heading_text

from portal.mkdocs_plugin.html_stash import Stash, is_placeholder, placeholder_index, stash

#: A one-line ATX heading whose attribute list ends it with an explicit id.
_HEADING = re.compile(r"(#{1,6})[ \t]+[^\n]*?\{[^}\n]*#([^\s}]+)[^}\n]*\}[ \t]*")
_ONE_HEADING = re.compile(r"<(h[1-6])\b[^>]*>.*</\1>")
_HEADING_TAG = re.compile(r"<h[1-6]\b")
#: A heading of plain words (letters and digits, joined by single spaces, hyphens or ``.<wbr>``: an event's name, an
#: example's) with a plain explicit id: converted once per *shape*, its words and id put in afterwards
#: (:meth:`SkeletonConverter.heading`). Every event page has a new one (its name), and a conversion costs more than
#: the rest of the skeleton.
_SHAPED = re.compile(r"(#{1,6}) ([A-Za-z0-9]+(?:(?: |-|\.<wbr>)[A-Za-z0-9]+){0,15}) \{ #([A-Za-z][A-Za-z0-9-]*) \}")
_SEPARATOR = re.compile(r"( |-|\.<wbr>)")
#: What the words and the id are replaced with in a shape (letters and digits too, found nowhere else in a heading's
#: conversion), and how they are found again: in one pass, so that a word that reads like a placeholder stays itself.
_WORD_STANDIN = "Edw{:02d}q"
_ID_STANDIN = "edanchorq"
_STANDINS = re.compile(r"Edw(\d\d)q|edanchorq")
#: Extensions whose conversion of such a heading cannot depend on which words it has (none of them acts on plain
#: letters and digits); with any other (``abbr``, ``pymdownx.smartsymbols``' ``1st``, ``pymdownx.magiclink``...)
#: every heading is converted as it is. Each shape is checked once besides: its first heading is converted both ways.
_WORD_BLIND = frozenset({
    "admonition", "attr_list", "def_list", "fenced_code", "footnotes", "md_in_html", "meta", "sane_lists", "tables",
    "toc", "codehilite", "pymdownx.details", "pymdownx.superfences", "pymdownx.highlight", "pymdownx.inlinehilite",
    "pymdownx.tabbed", "pymdownx.tasklist"})
_PROBE = ('<!-- probe -->\n\n<div class="p">a\n<b>b</b></div>\n\n# Probe { #probe-title }\n\n## Probe one '
          '{ #probe-one }\n\n<div class="p">c</div>\n\n<div class="p">d</div>\n\n### Probe `two` { #probe-two }'
          '\n\n<p class="p">e</p>\n\n</div>')


@dataclass(frozen=True)
class Heading:
    """One heading converted alone."""

    html: str
    tokens: list[dict[str, Any]]  # its table-of-contents tokens (none when toc_depth leaves it out)
    title: str | None  # MkDocs' page title when the heading is an h1 that opens the page
    anchors: frozenset[str]  # the ids in its HTML
    self_links: tuple[tuple[str, str], ...]  # (anchor, link as written) of its links to its own page


@dataclass(frozen=True)
class ConvertedSkeleton:
    """What MkDocs' conversion of the whole page would give."""

    html: str
    toc: TableOfContents
    title: str | None
    anchors: frozenset[str]  # the headings' ids (the blocks' come from the stash)
    self_links: dict[str, str]  # anchor -> link as written, of links to the page itself


class _Capture(markdown.treeprocessors.Treeprocessor):
    """What MkDocs' tree processors record, for a lone heading: its ids, title and links, and whether a link of it
    points anywhere but its own page (then its conversion depends on the page)."""

    def reset(self) -> None:
        self.anchors: set[str] = set()
        self.title: str | None = None
        self.self_links: list[tuple[str, str]] = []
        self.elsewhere = False

    def run(self, root: etree.Element) -> None:
        for index, element in enumerate(root):
            if index == 0 and element.tag == "h1":
                self.title = get_heading_text(element, self.md)
        for element in root.iter():
            if anchor := element.get("id"):
                self.anchors.add(anchor)
            if element.tag == "a":
                if anchor := element.get("name"):
                    self.anchors.add(anchor)
                url = element.get("href") or ""
                parts = urlsplit(url)
                if parts.scheme or parts.netloc or parts.path or url.startswith(("/", "\\")):
                    self.elsewhere = True
                elif parts.fragment:
                    self.self_links.append((parts.fragment, url))
            elif element.tag == "img":
                self.elsewhere = True


def _filled(heading: Heading | None, values: dict[str, str]) -> Heading | None:
    """A shape's conversion with its stand-ins replaced by ``values`` (the heading's words and id)."""
    if heading is None:
        return None

    def fill(value: Any) -> Any:
        if isinstance(value, str):
            return _STANDINS.sub(lambda m: values[m.group(0)], value) if "Edw" in value or _ID_STANDIN in value \
                else value
        if isinstance(value, dict):
            return {fill(key): fill(item) for key, item in value.items()}
        if isinstance(value, list):
            return [fill(item) for item in value]
        if isinstance(value, tuple):
            return tuple(fill(item) for item in value)
        return value

    return Heading(fill(heading.html), fill(heading.tokens), fill(heading.title),
                   frozenset(fill(anchor) for anchor in heading.anchors), fill(heading.self_links))


class SkeletonConverter:
    """Converts skeletons for one site configuration (one per process: its headings are remembered)."""

    def __init__(self, config: MkDocsConfig) -> None:
        self._extensions = list(config.markdown_extensions)
        self._configs = dict(config.mdx_configs or {})
        self._md = markdown.Markdown(extensions=self._extensions, extension_configs=self._configs)
        self._capture = _Capture(self._md)
        # Where MkDocs runs its own (anchors at 5 like toc, links at 0, title at 1): after every extension's.
        self._md.treeprocessors.register(self._capture, "eventdeck_skeleton_capture", priority=0.5)
        self._memo: dict[str, Heading | None] = {}
        self._works: bool | None = None
        self._word_blind = all(isinstance(name, str) and name.removeprefix("markdown.extensions.") in _WORD_BLIND
                               for name in self._extensions)
        # A shape (the heading with stand-ins) -> its conversion, once its first heading converted the same both
        # ways; None when it did not (then each heading of that shape is converted as it is).
        self._shapes: dict[str, Heading | None] = {}

    def heading(self, line: str) -> Heading | None:
        """``line`` converted alone; ``None`` when its conversion could depend on the page."""
        memo = self._memo
        if line in memo:
            return memo[line]
        match = _SHAPED.fullmatch(line) if self._word_blind else None
        result = self._converted(line) if match is None else self._from_shape(line, match)
        memo[line] = result
        return result

    def _from_shape(self, line: str, match: re.Match[str]) -> Heading | None:
        """``line`` (a plain heading, :data:`_SHAPED`) from the conversion of its shape, its words put back."""
        parts = _SEPARATOR.split(match.group(2))  # word, separator, word...
        words = parts[::2]
        parts[::2] = [_WORD_STANDIN.format(n) for n in range(len(words))]
        shape = f"{match.group(1)} {''.join(parts)} {{ #{_ID_STANDIN} }}"
        values = {_ID_STANDIN: match.group(3), **{_WORD_STANDIN.format(n): word for n, word in enumerate(words)}}
        if shape not in self._shapes:
            converted = self._converted(line)
            standin = self._converted(shape)
            self._shapes[shape] = standin if _filled(standin, values) == converted else None
            return converted
        standin = self._shapes[shape]
        return self._converted(line) if standin is None else _filled(standin, values)

    def _converted(self, line: str) -> Heading | None:
        """``line`` converted alone by Python-Markdown."""
        match = _HEADING.fullmatch(line)
        result: Heading | None = None
        if match is not None:
            self._md.reset()
            self._capture.reset()
            html = self._md.convert(line)
            tokens = list(getattr(self._md, "toc_tokens", []))
            # One heading element (toc's baselevel may change its level), with the id written, on one line.
            shape_ok = (_ONE_HEADING.fullmatch(html) is not None and len(_HEADING_TAG.findall(html)) == 1
                        and f' id="{match.group(2)}"' in html and "\n" not in html)
            if shape_ok and not self._capture.elsewhere:
                result = Heading(html, tokens, self._capture.title, frozenset(self._capture.anchors),
                                 tuple(self._capture.self_links))
        return result

    def convert(self, skeleton: str, store: Stash) -> ConvertedSkeleton | None:
        """The page whose stashed Markdown is ``skeleton``; ``None`` when it has parts other than blocks and
        headings with ids, or when this site's extensions join parts differently (:meth:`works`)."""
        if not self.works():
            return None
        return self._convert(skeleton, store)

    def _convert(self, skeleton: str, store: Stash) -> ConvertedSkeleton | None:
        pieces: list[str] = []  # each part, then what Python-Markdown writes after it (none after the last)
        tokens: list[dict[str, Any]] = []
        anchors: set[str] = set()
        self_links: dict[str, str] = {}
        title: str | None = None
        for chunk in skeleton.split("\n\n"):
            if not chunk:
                continue
            if is_placeholder(chunk):
                pieces += [store.blocks[placeholder_index(chunk)], "\n\n"]
                continue
            heading = self.heading(chunk)
            if heading is None:
                return None
            if not pieces:  # MkDocs' title: an h1 that opens the page
                title = heading.title
            pieces += [heading.html, "\n"]
            tokens.extend(heading.tokens)
            anchors |= heading.anchors
            for anchor, url in heading.self_links:
                self_links.setdefault(anchor, url)
        toc = get_toc(nest_toc_tokens([dict(token, children=list(token["children"])) for token in tokens]))
        return ConvertedSkeleton("".join(pieces[:-1]), toc, title, frozenset(anchors), self_links)

    def works(self) -> bool:
        """Whether this site's Markdown joins a probe page's parts as :meth:`convert` does."""
        if self._works is None:
            swapped, store = stash(_PROBE)
            fast = self._convert(swapped, store)
            slow = markdown.Markdown(extensions=self._extensions, extension_configs=self._configs).convert(_PROBE)
            self._works = fast is not None and fast.html == slow
        return self._works
