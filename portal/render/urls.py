"""URLs that documents supply, decided in one place: which may become a link, and how a refused one is shown.

A document names URLs in many places (``info.contact.url``, ``info.license.url``, ``termsOfService``,
``externalDocs.url`` at every level, servers, OAuth flows, bindings, extensions) and in the links of its Markdown
descriptions. Whatever of them the catalogue turns into a link — an ``href``, a ``src``, a Backstage entity link —
goes through :func:`safe_url`: templates through the ``link`` and ``email`` filters
(:func:`.markup.link_html`, :func:`.markup.email_html`), the description sanitiser (:mod:`.markup`) through nh3's
``attribute_filter``, the Backstage entities (:mod:`portal.backstage.entities`) directly. Anything refused is shown
as inert text (the value in ``<code>``), never as a link.

What is allowed:

- absolute URLs with the schemes :data:`ALLOWED_SCHEMES` (``http``, ``https`` with a host; ``mailto``);
- relative references (``page.html``, ``/path``, ``?query``, ``#fragment``), resolved against the page.

What is refused, and why:

- every other scheme (``javascript:``, ``vbscript:``, ``data:``, ``file:``, ``blob:``, ...), whatever its case;
- network-path references (``//host/path``, and ``\\\\host``, ``/\\host``, which browsers read the same): they take
  the scheme of the page, so a catalogue opened from disk turns ``//host/share`` into ``file://host/share`` (on
  Windows an SMB request that sends the reader's credentials). A document can always write ``https://host``;
- any control character, whitespace or invisible formatting character (bidi marks, zero-width characters) inside
  the value: browsers silently drop tabs and newlines (``java\\tscript:`` runs as ``javascript:``), and bidi marks
  make a link read differently from where it goes. Leading and trailing whitespace and control characters are
  trimmed first, as browsers do;
- a value whose HTML character references decode to a refused one (``&#106;avascript:``): the value is safe as
  long as it is escaped once, but a link that depends on being escaped exactly once is one refactoring away from a
  hole.

This module only decides (standard library only); :mod:`.markup` writes the HTML.
"""

from __future__ import annotations

import html
import re
import unicodedata
from urllib.parse import quote

__all__ = ["ALLOWED_SCHEMES", "email_url", "safe_url"]

#: The only schemes a document's URL may have to become a link (also nh3's ``url_schemes`` for descriptions).
ALLOWED_SCHEMES = frozenset({"http", "https", "mailto"})
#: Schemes that need a host (``https:foo`` is not a usable link).
_NEEDS_HOST = frozenset({"http", "https"})

# What browsers trim from both ends of a URL before parsing it (WHATWG URL: C0 controls and space).
_TRIMMED = "".join(chr(code) for code in range(0x21))
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")
_NETWORK_PATH = re.compile(r"[/\\]{2}")
# Unicode categories refused anywhere inside a URL: controls, format characters (bidi marks, zero-width), separators
# (spaces of every script, line and paragraph separators), private use, surrogates and unassigned code points.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp", "Co", "Cs", "Cn"})
_MAX_DECODING = 4


def safe_url(value: object, *, relative: bool = True) -> str | None:
    """``value`` as a URL that may be an ``href`` (trimmed), or ``None`` when it must be shown as text.

    :param value: what the document wrote (anything: a document may put a number or a mapping where a URL goes).
    :param relative: whether relative references are acceptable (``False`` where no page resolves them, such as a
        Backstage entity's links).

    The result still has to be escaped for its context (Jinja's autoescape does it in templates).
    """
    if not isinstance(value, str):
        return None
    text = value.strip(_TRIMMED)
    if not text or any(unicodedata.category(char) in _REFUSED_CATEGORIES for char in text):
        return None
    decoded = text
    for _ in range(_MAX_DECODING):
        # Judge every form the value could take if it were ever decoded as HTML again.
        if not _allowed(decoded, relative):
            return None
        again = html.unescape(decoded).strip(_TRIMMED)
        if again == decoded:
            return text
        if any(unicodedata.category(char) in _REFUSED_CATEGORIES for char in again):
            return None
        decoded = again
    return None  # references nested this deep are no URL anyone writes by hand


def _allowed(text: str, relative: bool) -> bool:
    scheme = _SCHEME.match(text)
    if scheme is None:
        return relative and _NETWORK_PATH.match(text) is None and bool(text)
    name = scheme.group(1).lower()
    if name not in ALLOWED_SCHEMES:
        return False
    if name in _NEEDS_HOST:
        rest = text[scheme.end():]
        return rest.startswith("//") and len(rest) > 2 and rest[2] not in "/\\?#"
    return len(text) > scheme.end()


def email_url(address: object) -> str | None:
    """A ``mailto:`` URL for an e-mail address (``info.contact.email``), or ``None`` when it is not one.

    The address is percent-encoded, so ``?``, ``%`` or ``&`` in it can never add headers or a body to the mail."""
    if not isinstance(address, str):
        return None
    address = address.strip(_TRIMMED)
    if any(unicodedata.category(char) in _REFUSED_CATEGORIES for char in address):
        return None
    local, at, domain = address.rpartition("@")
    if not local or not at or not domain:
        return None
    return safe_url("mailto:" + quote(address, safe="@.+-_!#$'*/=^`{|}~"), relative=False)
