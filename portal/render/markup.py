"""Text from the documents made safe for the page: Markdown descriptions to sanitised HTML, plain text escaped for
Markdown, JSON values as pretty-printed ``<pre>`` blocks.

Descriptions come from third-party documents and reach pages that Backstage renders inside its own app, so every
one is converted here (Python-Markdown) and then sanitised with nh3 (ammonia): ``<script>``, ``<style>``, event
handler attributes such as ``onerror=``, ``javascript:`` URLs and external images never reach a page. The output is
inserted as raw HTML, so both the MkDocs plugin and the pre-rendered pages show exactly the same thing, whatever
Markdown extensions the final build enables.
"""

from __future__ import annotations

import json
import re
import threading
from functools import lru_cache
from typing import Any

import markdown
import nh3
from markupsafe import Markup, escape

# Everything a description may legitimately use. No img (an external image would be a request outside the site),
# no iframe/object/embed/form, no style.
ALLOWED_TAGS = frozenset({
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "div", "dl", "dt", "em", "h1", "h2", "h3", "h4",
    "h5", "h6", "hr", "i", "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "s", "samp", "small", "span",
    "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
})
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}, "td": {"align"}, "th": {"align"},
                      "ol": {"start"}}
URL_SCHEMES = frozenset({"http", "https", "mailto"})

_PLAIN = re.compile(r"[*_`\[\]<>&#|\\!~\n]|^\s*(?:[-+>]|\d+[.)])\s")
_local = threading.local()


def _converter() -> markdown.Markdown:
    # One converter per thread, reset between uses: building one costs far more than converting a description.
    md = getattr(_local, "md", None)
    if md is None:
        md = markdown.Markdown(extensions=["tables", "fenced_code", "sane_lists"], output_format="html")
        _local.md = md
    return md


def sanitise_html(html: str) -> str:
    """``html`` with everything outside the allow-list removed (tags, attributes, URL schemes)."""
    return nh3.clean(html, tags=set(ALLOWED_TAGS), attributes={k: set(v) for k, v in ALLOWED_ATTRIBUTES.items()},
                     url_schemes=set(URL_SCHEMES), link_rel="noopener noreferrer")


@lru_cache(maxsize=16384)
def description_html(text: str | None) -> Markup:
    """A CommonMark-ish description as sanitised HTML (empty for no text). Shared schema descriptions repeat
    across events, hence the cache."""
    if not text or not text.strip():
        return Markup("")
    text = text.strip()
    if not _PLAIN.search(text):
        return Markup(f"<p>{_text(text)}</p>")
    md = _converter()
    try:
        html = md.convert(text)
    finally:
        md.reset()
    return Markup(without_blank_lines(sanitise_html(html)).replace("{%", "{&#37;"))


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
    """Escape text content (not attribute values): quotes stay readable in code. ``{%`` is written as a character
    reference too, so no Markdown preprocessor of a TechDocs build (``{% dot ...%}`` graphviz blocks) acts on
    text from a document; ``<`` is always escaped, so ``--8<--`` snippet markers cannot appear either."""
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("{%", "{&#37;")


def inline_code(value: Any) -> Markup:
    """``value`` as an HTML ``<code>`` element, safe in Markdown paragraphs, table cells (``|`` escaped) and raw
    HTML alike. Markdown backticks cannot carry escaped text, so templates use this instead."""
    return Markup("<code>" + _text(str(value)).replace("|", "&#124;") + "</code>")


def json_text(value: Any, *, indent: int | None = 2) -> str:
    return json.dumps(value, indent=indent, ensure_ascii=False, sort_keys=False, default=str)


def json_inline(value: Any) -> str:
    """A compact one-line JSON rendering (for enum values, constants, defaults)."""
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "), default=str)


def json_block(value: Any, *, label: str | None = None) -> Markup:
    """``value`` pretty-printed as a code block (raw HTML, identical in every build).

    Not token-highlighted on purpose: a span per token multiplies the tags every HTML pass of a build (Markdown's
    raw-HTML extraction, MkDocs' anchor scan, the search indexer) walks, which dominated a 1,000-event build.
    """
    title = f'<span class="filename">{escape(label)}</span>' if label else ""
    code = _text(json_text(value))
    return Markup(f'<div class="language-json highlight">{title}<pre><code>{code}</code></pre></div>')
