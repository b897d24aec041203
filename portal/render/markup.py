"""Text from the documents made safe for the page: Markdown descriptions to sanitised HTML, plain text escaped for
Markdown, JSON values as pretty-printed ``<pre>`` blocks, URLs as links only when :mod:`.urls` allows them.

Descriptions come from third-party documents and reach pages that Backstage renders inside its own app, so every
one is converted here (Python-Markdown) and then sanitised with nh3 (ammonia): ``<script>``, ``<style>``, event
handler attributes such as ``onerror=``, ``javascript:`` URLs and external images never reach a page. The output is
inserted as raw HTML, so both the MkDocs plugin and the pre-rendered pages show exactly the same thing, whatever
Markdown extensions the final build enables.

A page is Markdown, and Markdown turns text into markup as HTML does: ``[x](javascript:…)`` is a link, ``{: onclick=…}``
an attribute (``attr_list``), even between the tags of inline HTML such as ``<code>``. So text from a document is
written with :data:`MARKDOWN_INERT` character references as well as HTML escapes (:func:`inline_text`,
:func:`inert`): the browser shows the same characters, and no Markdown set-up sees syntax in them.
"""

from __future__ import annotations

import json
import math
import re
import threading
from functools import lru_cache
from typing import Any

import markdown
import nh3
from markupsafe import Markup, escape

from .urls import ALLOWED_SCHEMES, email_url, safe_url

# Everything a description may legitimately use. No img (an external image would be a request outside the site),
# no iframe/object/embed/form, no style.
ALLOWED_TAGS = frozenset({
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "div", "dl", "dt", "em", "h1", "h2", "h3", "h4",
    "h5", "h6", "hr", "i", "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "s", "samp", "small", "span",
    "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
})
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}, "td": {"align"}, "th": {"align"},
                      "ol": {"start"}}
URL_SCHEMES = ALLOWED_SCHEMES  # one allow-list for descriptions and for every other URL of a document

#: Characters Markdown (with the extensions MkDocs and TechDocs enable) reads as syntax that can make a link, an
#: image, an attribute or a table cell, written as character references: ``[`` ``]`` (links, images, reference
#: definitions), ``{`` ``}`` (``attr_list``, ``{% %}`` graphviz blocks), backtick (code spans, which undo other
#: escapes), ``|`` (table cells), backslash, and newlines (a line break inside a value could start a Markdown block
#: or end a raw HTML one). Emphasis characters (``*``, ``_``) stay: at worst they change how text looks.
MARKDOWN_INERT: dict[str, str] = {char: f"&#{ord(char)};" for char in "[]{}`|\\\n\r"}
_TEXT = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", **MARKDOWN_INERT})
_ATTRIBUTE = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&#34;", "'": "&#39;", **MARKDOWN_INERT})
_NEEDS_ESCAPING = re.compile(r"[&<>\"'\[\]{}`|\\\n\r]")
# For HTML that is already escaped (sanitised descriptions): newlines stay, without_blank_lines handles blank ones.
_MULTILINE = {k: v for k, v in MARKDOWN_INERT.items() if k not in "\n\r"}
_MARKDOWN_ONLY = str.maketrans(_MULTILINE)

#: Code blocks are not searched: mkdocs-material's indexer and the plugin's leave out elements with this attribute.
_UNSEARCHED = "data-search-exclude"

_PLAIN = re.compile(r"[*_`\[\]<>&#|\\!~\n]|^\s*(?:[-+>]|\d+[.)])\s")
_local = threading.local()


def _converter() -> markdown.Markdown:
    # One converter per thread, reset between uses: building one costs far more than converting a description.
    md = getattr(_local, "md", None)
    if md is None:
        md = markdown.Markdown(extensions=["tables", "fenced_code", "sane_lists"], output_format="html")
        _local.md = md
    return md


def _url_filter(tag: str, attribute: str, value: str) -> str | None:
    # nh3 has decoded character references already; a link :func:`safe_url` refuses loses its href (inert text).
    if attribute in ("href", "src"):
        return safe_url(value)
    return value


def sanitise_html(html: str) -> str:
    """``html`` with everything outside the allow-list removed (tags, attributes, URLs :func:`safe_url` refuses)."""
    return nh3.clean(html, tags=set(ALLOWED_TAGS), attributes={k: set(v) for k, v in ALLOWED_ATTRIBUTES.items()},
                     url_schemes=set(URL_SCHEMES), link_rel="noopener noreferrer", attribute_filter=_url_filter)


@lru_cache(maxsize=16384)
def description_html(text: str | None) -> Markup:
    """A CommonMark-ish description as sanitised HTML (empty for no text). Shared schema descriptions repeat
    across events, hence the cache."""
    if not text or not text.strip():
        return Markup("")
    text = text.strip()
    if not _PLAIN.search(text):
        return Markup(f"<p>{_text(text)}</p>")
    if "\n\n" in text:
        paragraphs = text.split("\n\n")
        if all(_PROSE.fullmatch(paragraph) for paragraph in paragraphs):
            return Markup("<p>" + "</p>\n<p>".join(paragraphs) + "</p>")
    return converted_description(text)


#: A paragraph of prose: words of letters and digits, with a little punctuation that no Markdown extension of the
#: converter reads, single spaces between them, a letter first (no list item, rule or heading can start it). A
#: description of such paragraphs, a blank line apart (a common shape), is written without Python-Markdown or the
#: sanitiser, exactly as they write it (the test suite compares both).
_PROSE_CHAR = r"(?:[^\W_]|[,.;:'\"?()/%=@$+-])"
_PROSE = re.compile(rf"[^\W\d_]{_PROSE_CHAR}*(?: {_PROSE_CHAR}+)*")


def converted_description(text: str) -> Markup:
    """``text`` (stripped) converted by Python-Markdown and sanitised: :func:`description_html` for any text."""
    md = _converter()
    try:
        html = md.convert(text)
    finally:
        md.reset()
    # Character references for Markdown syntax (in text and attribute values alike, where HTML decodes them): the
    # sanitised HTML stays inert wherever a page puts it.
    return Markup(without_blank_lines(sanitise_html(html)).translate(_MARKDOWN_ONLY))


def without_blank_lines(html: str) -> str:
    """``html`` with every blank line replaced by a newline character reference: the same text (also inside
    ``<pre>``), but a raw HTML block without blank lines, which every Markdown set-up keeps in one piece."""
    while "\n\n" in html:
        html = html.replace("\n\n", "\n&#10;")
    return html


_MD_SPECIAL = re.compile(r"([\\`*_\[\]{}|#])")


def md_text(value: Any) -> Markup:
    """Plain text (a title, a summary, a name) made literal for a Markdown paragraph or table cell."""
    if value is None:
        return Markup("")
    text = " ".join(str(value).split())
    return Markup(escape(_MD_SPECIAL.sub(r"\\\1", text)))


def _text(value: str) -> str:
    """Escape text content (not attribute values): quotes stay readable in code. Markdown syntax is written as
    character references (:data:`MARKDOWN_INERT`), so no Markdown processor or preprocessor of any build (links,
    ``attr_list``, ``{% dot ...%}`` graphviz blocks) acts on text from a document; ``<`` is always escaped, so
    ``--8<--`` snippet markers cannot appear either."""
    return value.translate(_TEXT)


def inline_text(value: Any) -> Markup:
    """``value`` as text content that is inert in HTML and in Markdown (paragraphs, table cells, raw HTML)."""
    return Markup(_text(str(value)))


def inert(value: Any) -> Any:
    """The templates' ``finalize``: every plain string a template writes is escaped for HTML text and attribute
    values and made inert for Markdown, so a template cannot write a document's text as markup by forgetting a
    filter. Markup (filters, macros, sanitised HTML) and non-strings pass unchanged."""
    if isinstance(value, Markup) or not isinstance(value, str):
        return value
    if _NEEDS_ESCAPING.search(value) is None:
        return Markup(value)
    return Markup(value.translate(_ATTRIBUTE))


def written(value: Any) -> str:
    """What ``{{ value }}`` writes in a template: :func:`inert` (``finalize``), then autoescape. A plain string is
    the common case, and comes down to one ``translate`` (or nothing): for markup written in Python (the payload
    tree, the graphs), where a template's call per value cost more than the value."""
    kind = type(value)
    if kind is str:
        return value.translate(_ATTRIBUTE) if _NEEDS_ESCAPING.search(value) else value
    if kind is Markup:
        return value  # inert and escape hand markup back as it is (a field's description)
    return str(escape(inert(value)))


def inline_code(value: Any) -> Markup:
    """``value`` as an HTML ``<code>`` element, safe in Markdown paragraphs, table cells (``|`` escaped) and raw
    HTML alike. Markdown backticks cannot carry escaped text, so templates use this instead."""
    return Markup("<code>" + _text(str(value)) + "</code>")


def link_html(value: Any, label: Any = None) -> Markup:
    """A URL a document supplies as a link, or as inert text (``<code>``) when :func:`.urls.safe_url` refuses it:
    the templates' ``link`` filter, the only way a template writes such a URL. ``label`` is the link text (the URL
    itself when empty). Inline HTML, inert in Markdown too: it can stand in a table cell or a raw HTML block."""
    url = safe_url(value)
    shown = value if label is None or label == "" else label
    if url is None:
        refused = f'<code class="ed-url">{_text(str(value))}</code>'
        return Markup(refused if shown is value else f"{_text(str(shown))} ({refused})")
    return Markup(f'<a href="{url.translate(_ATTRIBUTE)}" rel="noopener noreferrer">{_text(str(shown))}</a>')


def email_html(address: Any) -> Markup:
    """``info.contact.email`` as a ``mailto:`` link, or as inert text when it is not an address (the templates'
    ``email`` filter)."""
    url = email_url(address)
    if url is None:
        return Markup(f'<code class="ed-url">{_text(str(address))}</code>')
    return Markup(f'<a href="{url.translate(_ATTRIBUTE)}">{_text(str(address))}</a>')


#: Pretty-printed values by ``id``, with the value (which keeps the ``id`` from being reused): a page that shows
#: one value several times (an example payload, then inside the CloudEvent and the EventBridge event) writes it once.
JsonMemo = dict[int, tuple[Any, str]]


def json_text(value: Any, *, indent: int | None = 2, memo: JsonMemo | None = None) -> str:
    """``json.dumps(value, indent=indent, ensure_ascii=False, default=str)``; with the default indent, written by
    :func:`_pretty` (the standard library's indenting encoder is pure Python and several times slower).

    With ``memo``, a dict or list already written there is not written again: its text, indented to its new
    depth (JSON text has no line break of its own, so that is the same text), and the value is remembered. The
    values must not change while the memo is in use."""
    if indent == 2:
        out: list[str] = []
        try:
            _pretty(value, 0, out, memo)
        except _Unusual:
            pass
        else:
            text = "".join(out)
            if memo is not None and (type(value) is dict or type(value) is list):
                memo[id(value)] = (value, text)
            return text
    return json.dumps(value, indent=indent, ensure_ascii=False, sort_keys=False, default=str)


class _Unusual(Exception):
    """A value :func:`_pretty` leaves to :func:`json.dumps` (anything but plain JSON types, very deep nesting)."""


_INDENTS = ["\n" + "  " * level for level in range(65)]
_encode_string = json.encoder.encode_basestring  # type: ignore[attr-defined]  # the C encoder, as json.dumps uses


def _scalar(value: Any) -> str:
    """A JSON scalar as :func:`json.dumps` writes it."""
    kind = type(value)
    if kind is str:
        return _encode_string(value)  # type: ignore[no-any-return]
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return int.__repr__(value)
    if kind is float:
        if value != value:
            return "NaN"
        if value == math.inf:
            return "Infinity"
        if value == -math.inf:
            return "-Infinity"
        return float.__repr__(value)
    if value is None:
        return "null"
    raise _Unusual


def _pretty(value: Any, level: int, out: list[str], memo: JsonMemo | None = None) -> None:
    """Append ``value`` as ``json.dumps(value, indent=2, ensure_ascii=False)`` writes it, for plain JSON types only
    (dicts with string keys, lists, strings, numbers, booleans, None); else :class:`_Unusual`."""
    kind = type(value)
    if kind is dict:
        if not value:
            out.append("{}")
            return
        if level >= 63:
            raise _Unusual
        inner = _INDENTS[level + 1]
        separator = "{" + inner
        for key, item in value.items():
            if type(key) is not str:
                raise _Unusual
            out.append(separator)
            out.append(_encode_string(key))
            out.append(": ")
            if type(item) is str:
                out.append(_encode_string(item))
            elif type(item) is dict or type(item) is list:
                if memo is None or (known := memo.get(id(item))) is None or known[0] is not item:
                    _pretty(item, level + 1, out, memo)
                else:
                    out.append(known[1].replace("\n", inner))
            else:
                out.append(_scalar(item))
            separator = "," + inner
        out.append(_INDENTS[level])
        out.append("}")
    elif kind is list:
        if not value:
            out.append("[]")
            return
        if level >= 63:
            raise _Unusual
        inner = _INDENTS[level + 1]
        separator = "[" + inner
        for item in value:
            out.append(separator)
            if type(item) is str:
                out.append(_encode_string(item))
            elif type(item) is dict or type(item) is list:
                if memo is None or (known := memo.get(id(item))) is None or known[0] is not item:
                    _pretty(item, level + 1, out, memo)
                else:
                    out.append(known[1].replace("\n", inner))
            else:
                out.append(_scalar(item))
            separator = "," + inner
        out.append(_INDENTS[level])
        out.append("]")
    else:
        out.append(_scalar(value))


#: ``json.dumps(value, ensure_ascii=False, separators=(", ", ": "), default=str)`` builds this encoder on every call.
_INLINE = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": "), default=str)


def json_inline(value: Any) -> str:
    """A compact one-line JSON rendering (for enum values, constants, defaults)."""
    kind = type(value)
    if kind is str:
        return _encode_string(value)  # type: ignore[no-any-return]
    if kind is int:
        return int.__repr__(value)
    return _INLINE.encode(value)


def code_block(text: str, language: str, *, label: str | None = None) -> Markup:
    """A generated snippet as a plain code block, like :func:`json_block`. Its line breaks are character
    references, so the block is one physical line: a blank line of the code can never end the raw HTML block."""
    title = f'<span class="filename">{escape(label)}</span>' if label else ""
    lang = re.sub(r"[^a-z0-9]", "", language.lower()) or "text"
    code = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    for char, reference in MARKDOWN_INERT.items():  # chained replaces: many times faster than translate here
        code = code.replace(char, reference)
    return Markup(f'<div class="language-{lang} highlight" {_UNSEARCHED}>{title}<pre><code>{code}</code></pre></div>')


def json_block(value: Any, *, label: str | None = None, memo: JsonMemo | None = None) -> Markup:
    """``value`` pretty-printed as a code block (raw HTML, identical in every build).

    Not token-highlighted on purpose: a span per token multiplies the tags every HTML pass of a build (Markdown's
    raw-HTML extraction, MkDocs' anchor scan, the search indexer) walks, which dominated a 1,000-event build.
    """
    title = f'<span class="filename">{escape(label)}</span>' if label else ""
    code = json_text(value, memo=memo).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    for char, reference in _MULTILINE.items():  # chained replaces: many times faster than translate here
        code = code.replace(char, reference)
    return Markup(f'<div class="language-json highlight" {_UNSEARCHED}>{title}<pre><code>{code}</code></pre></div>')


class HeadingIds:
    """Explicit ids for one page's headings that would otherwise get them from the ``toc`` extension: the id its
    default slug gives, numbered as ``toc`` numbers repeats, and never one of ``reserved`` (the page's fixed ids).

    A page whose headings all have explicit ids converts heading by heading (``portal.mkdocs_plugin.skeleton``), and
    its anchors no longer depend on how a site configures ``toc``'s slugs."""

    def __init__(self, reserved: Any = ()) -> None:
        self._used: set[str] = set(reserved)

    def __call__(self, text: Any, fallback: str = "section") -> Markup:
        from markdown.extensions.toc import slugify, unique

        return Markup(unique(slugify(str(text), "-") or fallback, self._used))
