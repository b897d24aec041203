"""The rows of the catalogue's long tables, written in Python: the templates called two macros and a filter per
row, which made the tags page (every event, once per tag) a tenth of a second of every serve rebuild, and the
registry page half that. Each value is written as ``{{ value }}`` writes it (:func:`.markup.written`): the same
HTML, byte for byte, as the templates wrote (``tests/test_render_speed_tables.py`` holds them together)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from markupsafe import Markup

from .markup import inline_code, written
from .paths import final_url
from .styles import badge_style

if TYPE_CHECKING:
    from pipeline.contract import Event

    from .views import Row


def event_name_html(name: object) -> str:
    """An event name that wraps only at its dots (the ``name`` macro): ``<wbr>`` after each."""
    return written(name).replace(".", ".<wbr>")


def events_rows_html(rows: Iterable[Row], with_domain: bool = True) -> Markup:
    """The ``<tr>`` lines of an events table, each followed by a newline."""
    out = []
    for row in rows:
        event = row.event
        if not with_domain:
            domain = ""
        elif row.domain_href:
            domain = f'<td><a href="{written(row.domain_href)}">{written(row.domain)}</a></td>'
        else:
            domain = f"<td>{written(row.domain)}</td>"
        status = written(row.status)
        out.append(f'<tr><td><a href="{written(row.href)}">{event_name_html(event.name)}</a></td>{domain}'
                   f"<td>{inline_code(event.version)}</td>"
                   f'<td><span class="ed-badge ed-badge--{status}" style="{written(badge_style(row.status))}">'
                   f"{status}</span></td><td>{written(event.summary or event.title or '')}</td></tr>\n")
    return Markup("".join(out))


def registry_rows_html(entries: Iterable[tuple[Event, str, str, str, str]], here: str,
                       directory_urls: bool) -> Markup:
    """The ``<tr>`` lines of the schema registry's table (``entries``: an event, the Markdown links from ``here`` to
    its page, its schema file and its ``latest`` file, and the schema's URL), each followed by a newline."""
    out = []
    for event, link, file, latest, url in entries:
        page, schema, alias = (written(final_url(target, here, directory_urls=directory_urls))
                               for target in (link, file, latest))
        out.append(f'<tr><td><a href="{page}">{event_name_html(event.name)}</a></td>'
                   f"<td>{inline_code(event.version)}</td><td><a href=\"{schema}\">{inline_code(url)}</a></td>"
                   f'<td><a href="{alias}"><code>latest.json</code></a></td></tr>\n')
    return Markup("".join(out))
