"""Converting generated pages fast: their raw HTML blocks travel around Python-Markdown, not through it.

A generated event page is mostly raw HTML (schema tree, JSON blocks, graph). Python-Markdown passes such blocks
through unchanged, but only after parsing every tag of them, and MkDocs and the search indexer each parse them again:
four HTML passes per page dominated the build of a 1,000-event catalogue. The plugin therefore swaps each top-level
raw HTML block of a generated page for a tiny placeholder before Markdown (``on_page_markdown``) and puts it back
after (``on_page_content``). The Markdown the renderer wrote is unchanged, and so is the HTML that comes out: the
same as a build of the pre-rendered pages without the plugin, which the test suite compares.

What the skipped passes gave, this module gives directly from the blocks: the element ids (for MkDocs' anchor
validation) and the search index entries (one per section, as mkdocs-material's indexer makes them, without the JSON
of examples and envelopes, which only bloats the index).

The renderer guarantees the invariant this relies on: every raw HTML block it writes starts a Markdown block with
``<div``, ``<figure``, ``<table`` or ``<details`` and contains no blank line.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any

_BLOCK_START = ("<div", "<figure", "<table", "<details")
_PLACEHOLDER = '<div class="ed-stash" data-block="{n}"></div>'
_PLACEHOLDER_RE = re.compile(r'<div class="ed-stash" data-block="(\d+)"></div>')
_ID = re.compile(r'\sid="([^"]+)"')
_HEADING = re.compile(r'<h([1-6])\b([^>]*)>(.*?)</h\1>', re.S)
_HEADERLINK = re.compile(r'<a class="headerlink"[^>]*>.*?</a>', re.S)
_CODE_BLOCK = re.compile(r'<div class="language-[^"]*highlight">.*?</div>', re.S)
_SVG = re.compile(r"<svg\b.*?</svg>", re.S)
_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")


@dataclass
class Stash:
    blocks: list[str] = field(default_factory=list)

    def anchor_ids(self) -> set[str]:
        return {html.unescape(found) for block in self.blocks for found in _ID.findall(block)}


def stash(markdown: str) -> tuple[str, Stash]:
    """``markdown`` with each top-level raw HTML block replaced by a placeholder, and the blocks."""
    store = Stash()
    chunks = markdown.split("\n\n")
    for n, chunk in enumerate(chunks):
        if chunk.startswith(_BLOCK_START):
            chunks[n] = _PLACEHOLDER.format(n=len(store.blocks))
            store.blocks.append(chunk)
    return "\n\n".join(chunks), store


def restore(content: str, store: Stash) -> str:
    """The HTML Markdown produced, with the placeholders replaced by their blocks."""
    if not store.blocks:
        return content
    return _PLACEHOLDER_RE.sub(lambda m: store.blocks[int(m.group(1))], content)


def _text(fragment: str) -> str:
    """The searchable text of an HTML fragment: tags, JSON code blocks and graphs dropped, whitespace collapsed,
    escaped again for the index (mkdocs-material shows entries as HTML)."""
    text = html.unescape(_TAG.sub(" ", _SVG.sub(" ", _CODE_BLOCK.sub(" ", fragment))))
    return _SPACE.sub(" ", html.escape(text, quote=False)).strip()


def search_entries(content: str, url: str, title: str) -> list[dict[str, Any]]:
    """mkdocs-material search index entries for a page: one per heading with an id (the first for the page)."""
    entries: list[dict[str, Any]] = []
    headings = list(_HEADING.finditer(content))
    starts = [m.start() for m in headings] + [len(content)]
    preface = content[: starts[0]]
    if headings and headings[0].group(1) == "1":
        first_text = content[headings[0].end(): starts[1]]
        entries.append({"location": url, "title": title, "text": _text(preface + " " + first_text)})
        rest = headings[1:]
        offsets = starts[1:]
    else:
        entries.append({"location": url, "title": title, "text": _text(preface)})
        rest = headings
        offsets = starts
    for index, match in enumerate(rest):
        ident = _ID.search(match.group(2))
        body = content[match.end(): offsets[index + 1]]
        heading = _text(_HEADERLINK.sub("", match.group(3)))
        if ident is None:
            entries[-1]["text"] = (entries[-1]["text"] + " " + heading + " " + _text(body)).strip()
            continue
        anchor = html.unescape(ident.group(1))
        entries.append({"location": f"{url}#{anchor}", "title": heading, "text": _text(body)})
    return entries
