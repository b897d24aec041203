"""Converting generated pages fast: their raw HTML blocks travel around Python-Markdown, not through it.

A generated event page is mostly raw HTML (schema tree, JSON blocks, graph). Python-Markdown passes such blocks
through unchanged, but only after parsing every tag of them, and MkDocs and the search indexer each parse them again:
four HTML passes per page dominated the build of a 1,000-event catalogue. The plugin therefore swaps each top-level
raw HTML block of a generated page for a tiny placeholder before Markdown (``on_page_markdown``) and puts it back
after (``on_page_content``). The Markdown the renderer wrote is unchanged, and so is the HTML that comes out: the
same as a build of the pre-rendered pages without the plugin, which the test suite compares.

What the skipped passes gave, this module gives directly from the blocks: the element ids (for MkDocs' anchor
validation) and the search index entries, sized for the reader's browser (every reader downloads the whole index
before the first answer): a page's name and summary, its sections that have text of their own, and its fields at
their anchors (:func:`search_entries`), without what the renderer marks ``data-search-exclude`` (examples,
envelopes, snippets, graphs, tables of events listed on their own pages, sentences every event page shares), which
mkdocs-material's indexer leaves out too when it indexes the pre-rendered pages without this plugin (TechDocs).

The renderer guarantees the invariant this relies on: every raw HTML block it writes starts a Markdown block with
``<div``, ``<figure``, ``<table`` or ``<details`` and contains no blank line.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from functools import lru_cache
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
_WORD = re.compile(r"\w")


@dataclass
class Stash:
    blocks: list[str] = field(default_factory=list)

    def anchor_ids(self) -> set[str]:
        """The ids of the blocks' elements: what ``_ID.findall`` finds in each block, unescaped."""
        found: set[str] = set()
        for block in self.blocks:
            ids_of(block, found)
        return found


def ids_of(block: str, found: set[str]) -> None:
    """Add to ``found`` the values ``_ID.findall(block)`` gives, unescaped; found from each ``id="`` with
    ``str.find`` rather than by the regular expression, whose leading ``\\s`` costs it its fast scan: it tried every
    character of a page's 100 KB of blocks (the test suite compares both on whole catalogues and odd markup)."""
    find = block.find
    position = 0  # where the regular expression would try next
    while (start := find('id="', position + 1)) >= 0:
        if block[start - 1].isspace():  # the same predicate as \s in a str pattern
            close = find('"', start + 4)
            if close > start + 4:  # [^"]+ takes at least one character
                value = block[start + 4:close]
                found.add(html.unescape(value) if "&" in value else value)
                position = close + 1
                continue
            if close < 0:
                return  # no closing quote further on: no later match either
        position = start


def _is_block(chunk: str) -> bool:
    """Whether Python-Markdown passes ``chunk`` (a Markdown block) through as it is: one of the renderer's raw HTML
    blocks, a comment, a one-line paragraph element, or the end tag of a block opened before."""
    if chunk.startswith(_BLOCK_START):
        return True
    if chunk.startswith("<!--"):
        return chunk.endswith("-->") and chunk.count("-->") == 1
    if chunk.startswith("<p "):
        return chunk.endswith("</p>") and chunk.count("<p") == 1 and "\n" not in chunk
    return chunk == "</div>"


def stash(markdown: str) -> tuple[str, Stash]:
    """``markdown`` with each top-level raw HTML block replaced by a placeholder, and the blocks."""
    store = Stash()
    chunks = markdown.split("\n\n")
    for n, chunk in enumerate(chunks):
        if _is_block(chunk):
            chunks[n] = _PLACEHOLDER.format(n=len(store.blocks))
            store.blocks.append(chunk)
    return "\n\n".join(chunks), store


def is_placeholder(chunk: str) -> bool:
    """Whether a Markdown block of :func:`stash`'s output is one of its placeholders."""
    return chunk.startswith('<div class="ed-stash" data-block="') and _PLACEHOLDER_RE.fullmatch(chunk) is not None


def placeholder_index(chunk: str) -> int:
    """The index in :attr:`Stash.blocks` of the block a placeholder stands for."""
    match = _PLACEHOLDER_RE.fullmatch(chunk)
    assert match is not None
    return int(match.group(1))


def restore(content: str, store: Stash) -> str:
    """The HTML Markdown produced, with the placeholders replaced by their blocks."""
    if not store.blocks:
        return content
    return _PLACEHOLDER_RE.sub(lambda m: store.blocks[int(m.group(1))], content)


#: Field entries one page may have (besides its trees' roots): a small schema gets an entry, and its anchor, per
#: field; a large one per object of its first levels, whose entries name the fields inside them. A page's share of
#: the index is bounded whatever its schema: about 1.6 KB for an event of 80 fields, against 2 KB per event the
#: index may take.
MAX_FIELD_ENTRIES = 12

_EXCLUDED = re.compile(r"<([a-z][a-z0-9]*)\b[^>]*\sdata-search-exclude[\s>=/]")
_SCHEMA = re.compile(r'<div class="ed-schema"[^>]*>')
#: A field's ``<details>`` (its id), any other ``<details>``, the end of one, a leaf field (its id), a field's name
#: (and ``</code>``). A field's ``<details>`` is a ``<details>`` tag (up to its first ``>``) that starts with its
#: class and id. No branch starts with a group: that would cost the regular expression its fast scan for ``<``.
_FIELD_TOKEN = re.compile(r'<details class="ed-field" id="([^">]+)"[^>]*>|<details\b[^>]*>|<(/)details>'
                          r'|<div class="ed-field ed-field--leaf" id="([^"]+)"'
                          r'|<code class="ed-field__name">(.*?</code>)', re.S)  # every group non-empty when it matches


@lru_cache(maxsize=64)
def _tag_tokens(tag: str) -> re.Pattern[str]:
    return re.compile(rf"<{tag}\b|</{tag}\s*>")


def _end_of(content: str, tag: str, start: int, end: int | None = None) -> int:
    """Where the element of ``tag`` opening at ``start`` ends (the renderer's own markup: balanced), in
    ``content[:end]``."""
    end = len(content) if end is None else end
    # Most elements hold no element of their tag (a paragraph, a code block): then the first end tag closes it.
    # With no "<tag" inside, the first token after the start tag is the first "</tag", a token when ">" follows.
    after = start + 1 + len(tag)
    if content.startswith("<" + tag, start, end) and (after == end or not _WORD.match(content, after, end)):
        close = content.find("</" + tag, after, end)
        if close >= 0 and content.startswith(">", close + 2 + len(tag), end) and \
                content.find("<" + tag, after, close) < 0:
            return close + 3 + len(tag)
    depth = 0
    for match in _tag_tokens(tag).finditer(content, start, end):
        depth += 1 if content[match.start() + 1] != "/" else -1
        if depth == 0:
            return match.end()
    return end


_MARK = "data-search-exclude"


def _next_excluded(content: str, position: int) -> re.Match[str] | None:
    """``_EXCLUDED.search(content, position)``, found from the attribute instead of from every tag: a match is
    the first tag start ``<`` that is no ``>`` away from an occurrence of the attribute, so each occurrence (found
    with ``str.find``) only needs the regular expression on the text between it and the ``>`` before it."""
    found = content.find(_MARK, position)
    while found >= 0:
        window = max(position, content.rfind(">", position, found) + 1)
        match = _EXCLUDED.search(content, window, found + len(_MARK) + 1)
        if match is not None:
            return match
        found = content.find(_MARK, found + 1)
    return None


def without_excluded(content: str) -> str:
    """``content`` without the elements marked ``data-search-exclude`` (the attribute mkdocs-material's indexer
    honours too, so the pages a build without this plugin indexes leave out the same parts)."""
    parts: list[str] = []
    position = 0
    while (match := _next_excluded(content, position)) is not None:
        _pieces(parts, content, position, match.start())
        position = _end_of(content, match.group(1), match.start())
    if not parts:
        return content
    _pieces(parts, content, position, len(content))
    return "".join(parts)


#: Text is copied in pieces of at most this many characters: a page's schema tree is one span of 100 KB or more
#: (two bytes a character with a "≤" in it), and a temporary copy that large costs the allocator more than the copy.
_PIECE = 16384


def _pieces(parts: list[str], content: str, start: int, end: int) -> None:
    """Append ``content[start:end]`` to ``parts``, in pieces of at most :data:`_PIECE` characters."""
    while end - start > _PIECE:
        parts.append(content[start:start + _PIECE])
        start += _PIECE
    parts.append(content[start:end])


def _text(fragment: str) -> str:
    """The searchable text of an HTML fragment: tags, JSON code blocks and graphs dropped, whitespace collapsed,
    escaped again for the index (mkdocs-material shows entries as HTML)."""
    if "<" not in fragment and "&" not in fragment and ">" not in fragment and _SPACE.search(fragment) is None:
        return fragment  # plain text (most field names): nothing to drop, unescape, escape or collapse
    fragment = fragment.replace("<wbr>", "")  # a line break opportunity inside a name, not a space
    text = html.unescape(_TAG.sub(" ", _SVG.sub(" ", _CODE_BLOCK.sub(" ", fragment))))
    return _SPACE.sub(" ", html.escape(text, quote=False)).strip()


class _Field:
    """A field of a schema tree (one per field of a page: a plain slots class, built cheaply)."""

    __slots__ = ("anchor", "container", "depth", "name", "names")

    def __init__(self, anchor: str, name: str, depth: int, container: bool) -> None:
        self.anchor = anchor
        self.name = name
        self.depth = depth
        self.container = container
        self.names: list[str] = []  # of the deeper fields folded into this entry


def _fields(page: str, start: int, end: int) -> list[_Field]:
    """The fields of the schema tree ``page[start:end]`` in page order, each with its depth (0: the root)."""
    found: list[_Field] = []
    depth = 0
    pending: _Field | None = None
    for opened, closed, leaf, name in _FIELD_TOKEN.findall(page, start, end):  # tuples: no match object per tag
        if name:
            if pending is not None:
                pending.name = _text(name[:-7])  # without "</code>"
                found.append(pending)
                pending = None
        elif leaf:
            pending = _Field(html.unescape(leaf) if "&" in leaf else leaf, "", depth, False)
        elif opened:
            pending = _Field(html.unescape(opened) if "&" in opened else opened, "", depth, True)
            depth += 1
        elif closed:
            depth -= 1
        else:  # another <details>
            depth += 1
    return found


def _field_entries(page: str, trees: list[tuple[int, int]], url: str) -> list[dict[str, Any]]:
    """The entries of the fields of a page's schema trees, each titled with the field's name, at its anchor.

    Fields get entries tier by tier, shallowest first and objects before plain fields of the same depth (the
    objects' entries name their contents), as long as the page's total stays within :data:`MAX_FIELD_ENTRIES`;
    a field without one of its own is named in the text of its nearest ancestor that has one (a tree's root, for
    the fields of no object that has one). A small schema thus gets an entry per field, a large one an entry per
    object of its first levels, and every field name is found."""
    fields = [f for start, end in trees for f in _fields(page, start, end)]
    tiers: dict[tuple[int, bool], list[int]] = {}
    for f in fields:
        if f.depth > 0:
            tiers.setdefault((f.depth, not f.container), []).append(id(f))
    own: set[int] = set()
    for tier in sorted(tiers):
        members = tiers[tier]
        if len(own) + len(members) > MAX_FIELD_ENTRIES:
            break
        own.update(members)
    path: list[_Field] = []  # the field at each depth down to the current one
    owners: list[_Field | None] = []  # for each of path, the last of path up to it with an entry (or a root)
    for f in fields:
        del path[f.depth:]
        del owners[f.depth:]
        if f.depth > 0 and id(f) not in own:
            owner = owners[-1] if owners else None
            if owner is None:  # no such field above it (markup whose depths jump): as next() on nothing did
                owner = next(a for a in reversed(path) if id(a) in own or a.depth == 0)
            if f.name not in owner.names:
                owner.names.append(f.name)
        path.append(f)
        owners.append(f if f.depth == 0 or id(f) in own else owners[-1] if owners else None)
    return [{"location": f"{url}#{f.anchor}", "title": f.name, "text": " ".join(f.names)} for f in fields
            if id(f) in own or (f.depth == 0 and f.names)]


def _schema_trees(page: str, start: int, end: int, trees: list[tuple[int, int]]) -> str:
    """``page[start:end]`` (a section) without its schema trees; the trees' spans in ``page`` are added to
    ``trees``. The section is searched in place (``pos``, ``endpos``: as if it were a string of its own, since no
    pattern here looks behind its start), not copied."""
    parts: list[str] = []
    position = start
    while (match := _SCHEMA.search(page, position, end)) is not None:
        parts.append(page[position:match.start()])
        tree_end = _end_of(page, "div", match.start(), end)
        trees.append((match.start(), tree_end))
        position = tree_end
    parts.append(page[position:end])
    return "".join(parts)


def search_entries(content: str, url: str, title: str) -> list[dict[str, Any]]:
    """mkdocs-material search index entries for a page, sized for the reader's browser.

    The page's first entry (its title, and the text before the first section); then a section per heading with
    an id and some text; and the fields of its schema trees, each at its anchor (:func:`_field_entries`). Elements
    marked ``data-search-exclude`` are left out: the renderer marks the parts every page has in common or that only
    repeat the schema (examples, envelopes, snippets, graphs, event tables, boilerplate), as mkdocs-material's own
    indexer leaves them out of a build without this plugin."""
    content = without_excluded(content)
    entries: list[dict[str, Any]] = []
    trees: list[tuple[int, int]] = []
    headings = list(_HEADING.finditer(content))
    starts = [m.start() for m in headings] + [len(content)]
    preface = content[: starts[0]]
    if headings and headings[0].group(1) == "1":
        first_text = _schema_trees(content, headings[0].end(), starts[1], trees)
        entries.append({"location": url, "title": title, "text": _text(preface + " " + first_text)})
        rest = headings[1:]
        offsets = starts[1:]
    else:
        entries.append({"location": url, "title": title, "text": _text(preface)})
        rest = headings
        offsets = starts
    for index, match in enumerate(rest):
        ident = _ID.search(match.group(2))
        body = _schema_trees(content, match.end(), offsets[index + 1], trees)
        heading = _text(_HEADERLINK.sub("", match.group(3)))
        text = _text(body)
        if ident is None:
            entries[-1]["text"] = (entries[-1]["text"] + " " + heading + " " + text).strip()
        elif text:
            anchor = html.unescape(ident.group(1))
            entries.append({"location": f"{url}#{anchor}", "title": heading, "text": text})
    return entries + _field_entries(content, trees, url)
