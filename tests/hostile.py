"""Hostile text for the catalogue, and the check that rendered pages contain nothing a browser would run.

The check does not use the renderer's own rules (:mod:`portal.render.urls`): it parses the HTML as a browser does
(character references decoded, tabs and newlines dropped from URLs, leading and trailing controls and spaces
trimmed) and refuses on its own terms, so a weakness in the renderer's rule cannot hide itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from html.parser import HTMLParser

import markdown

from portal.render.styles import every_style

#: URLs that must never become a link, in every disguise a browser sees through.
HOSTILE_URLS = (
    "javascript:alert(document.domain)",
    "JaVaScRiPt:alert(1)",
    " \t javascript:alert(1)",
    "\x01\x1fjavascript:alert(1)",
    "java\tscript:alert(1)",
    "java\nscript:alert(1)",
    "java\rscript:alert(1)",
    "&#106;avascript:alert(1)",
    "&#x6A;avascript&colon;alert(1)",
    "javascript&#58;alert(1)",
    "&amp;#106;avascript:alert(1)",
    "\u202ejavascript:alert(1)",
    "\u200bjavascript:alert(1)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "DATA:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "file:///etc/passwd",
    "blob:https://evil.example/1",
    "//evil.example/steal",
    "\\\\evil.example\\share",
    "/\\evil.example",
)

#: Text that tries to break out of where a value is written: HTML, Markdown links and attributes, preprocessors.
HOSTILE_TEXT = (
    '"><script>alert(1)</script>',
    "' onmouseover='alert(1)",
    "<img src=x onerror=alert(1)>",
    "[click](javascript:alert(1))",
    "![x](javascript:alert(1))",
    "<javascript:alert(1)>",
    "[r]\n\n[r]: javascript:alert(1)",
    '{: onclick="alert(1)" }',
    "x\n\n<div onclick=alert(1)>y</div>",
    "`code` | cell | break",
    "--8<-- \"mkdocs.yml\"",
    "{% dot attack.svg\ndigraph G { a -> b }\n%}",
    "https://ok.example/\"><svg onload=alert(1)>",
)

#: Markdown as the example mkdocs.yml (and, for the link-making ones, TechDocs) converts it.
MARKDOWN_EXTENSIONS = ["attr_list", "md_in_html", "tables", "toc", "admonition", "pymdownx.details",
                       "pymdownx.superfences", "pymdownx.inlinehilite", "pymdownx.magiclink"]

SAFE_SCHEMES = frozenset({"http", "https", "mailto"})
#: The inline styles the renderer writes (TechDocs keeps no stylesheet of ours): constants, never document text.
OWN_STYLES = every_style()
URL_ATTRIBUTES = frozenset({"href", "src", "action", "formaction", "xlink:href", "srcset", "poster", "background",
                            "data", "cite", "longdesc", "ping", "manifest", "codebase", "lowsrc", "dynsrc"})
#: Every element a catalogue page may contain: the renderer's own, Markdown's and the description allow-list.
ALLOWED_ELEMENTS = frozenset({
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "details", "div", "dl", "dt", "em", "h1", "h2", "h3",
    "h4", "h5", "h6", "hr", "i", "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "s", "samp", "small", "span",
    "strong", "sub", "sup", "summary", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
    "wbr",  # a line break opportunity after each dot of an event name (names wrap at their dots on a phone)
    # the producer/consumer graph
    "svg", "title", "defs", "marker", "path", "g", "rect", "text",
})
#: The snippet tabs' controls (pymdownx.tabbed's markup, no script): a radio input of the renderer's own group and the
#: label naming it. Any other <input> or <label> — another type, a form attribute, a value — is a problem.
_TAB_INPUT = frozenset({"checked", "id", "name", "type"})
_TAB_GROUP = re.compile(r"ed-kit[a-z0-9-]*")


def _own_tab(tag: str, attrs: dict[str, str | None]) -> bool:
    if tag == "input":
        return (set(attrs) <= _TAB_INPUT and attrs.get("type") == "radio"
                and _TAB_GROUP.fullmatch(attrs.get("name") or "") is not None
                and _TAB_GROUP.fullmatch(attrs.get("id") or "") is not None)
    if tag == "label":
        return set(attrs) == {"for"} and _TAB_GROUP.fullmatch(attrs["for"] or "") is not None
    return False


_SCHEME = re.compile(r"([a-z][a-z0-9+.\-]*):")
_TRIMMED = "".join(chr(code) for code in range(0x21))


def url_problem(value: str) -> str | None:
    """Why a browser would do something other than follow an http(s)/mailto or same-site relative link."""
    url = re.sub(r"[\t\n\r]", "", value).strip(_TRIMMED).lower()
    scheme = _SCHEME.match(url)
    if scheme is not None and scheme.group(1) not in SAFE_SCHEMES:
        return f"scheme {scheme.group(1)}:"
    if url.replace("\\", "/").startswith("//"):
        return "network-path reference"
    return None


class _Scan(HTMLParser):
    def __init__(self, allowed: frozenset[str]) -> None:
        super().__init__(convert_charrefs=True)
        self.allowed = allowed
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in self.allowed and not _own_tab(tag, dict(attrs)):
            self.problems.append(f"element <{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=>")
            elif name == "style" and value not in OWN_STYLES:  # only the renderer's own constants (styles.py)
                self.problems.append(f"<{tag} style={value!r}>")
            elif name in URL_ATTRIBUTES and value is not None:
                why = url_problem(value)
                if why:
                    self.problems.append(f"<{tag} {name}={value!r}>: {why}")

    handle_startendtag = handle_starttag


def html_problems(html: str, *, allowed: frozenset[str] = ALLOWED_ELEMENTS) -> list[str]:
    """Every executable construct in ``html``: an element outside ``allowed`` (``<script>``, ``<iframe>``, ``<img>``,
    ...), an event-handler attribute, a style attribute other than the renderer's own, a URL attribute with a scheme
    other than http, https or mailto, or a network-path reference."""
    scan = _Scan(allowed)
    scan.feed(html)
    scan.close()
    if re.search(r"<\s*script", html, re.I):
        scan.problems.append("<script")
    return scan.problems


_RAW_BLOCK = ("<div", "<figure", "<table", "<details")
_markdown = markdown.Markdown(extensions=MARKDOWN_EXTENSIONS)


def markdown_html(page: str) -> str:
    """A rendered page as MkDocs' Markdown would make it. Raw HTML blocks (the renderer writes most of a page as
    blocks starting with ``<div``, ``<table``, ...) are taken as they are, as the MkDocs plugin passes them; the
    rest goes through Python-Markdown. A block broken by a blank line is converted from there on, which finds more
    than a real build would, never less."""
    raw, text = [], []
    for chunk in page.split("\n\n"):
        (raw if chunk.startswith(_RAW_BLOCK) else text).append(chunk)
    try:
        converted = _markdown.convert("\n\n".join(text))
    finally:
        _markdown.reset()
    return converted + "\n" + "\n".join(raw)


def page_problems(pages: Mapping[str, str] | Iterable[tuple[str, str]]) -> list[str]:
    """:func:`html_problems` of every page (Markdown), each prefixed with the page's path."""
    items = pages.items() if isinstance(pages, Mapping) else pages
    return [f"{path}: {problem}" for path, text in items for problem in html_problems(markdown_html(text))]
