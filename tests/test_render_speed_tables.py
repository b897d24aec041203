"""An events table's rows written in Python (portal/render/tables.py) are the HTML the template macro wrote.

The macro is kept here as it was; both are rendered through the site's own template environment (autoescape, the
``inert`` finalizer, the ``code`` filter) for every table of the example catalogue and for hostile rows: markup,
quotes and ampersands in names, domains, links and summaries; missing versions and summaries; every status."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markupsafe import Markup

from conftest import EXAMPLES
from pipeline.contract import load_catalogue
from portal.render import Options
from portal.render.site import _env
from portal.render.views import CatalogueViews, Row

#: The macro as it was (with the two macros it called), before its rows were written in Python.
MACRO = """{% macro name(value) -%}
{%- set text %}{{ value }}{% endset -%}
{{ text|replace(".", ".<wbr>"|safe) }}
{%- endmacro %}
{% macro badge(status) -%}
<span class="ed-badge ed-badge--{{ status }}" style="{{ badge_style(status) }}">{{ status }}</span>
{%- endmacro %}
{% macro events_table(rows, with_domain=true) -%}
<div class="ed-table ed-events" data-search-exclude><table><thead><tr><th>Event</th>{% if with_domain %}<th>Domain</th>{% endif %}<th>Version</th><th>Status</th><th>Summary</th></tr></thead><tbody>
{% for row in rows %}<tr><td><a href="{{ row.href }}">{{ name(row.event.name) }}</a></td>{% if with_domain %}<td>{% if row.domain_href %}<a href="{{ row.domain_href }}">{{ row.domain }}</a>{% else %}{{ row.domain }}{% endif %}</td>{% endif %}<td>{{ row.event.version|code }}</td><td>{{ badge(row.status) }}</td><td>{{ row.event.summary or row.event.title or "" }}</td></tr>
{% endfor %}</tbody></table></div>
{%- endmacro %}
"""  # noqa: E501


def _both(rows: Any, with_domain: bool) -> tuple[str, str]:
    env = _env()
    old = env.from_string(MACRO + "[{{ events_table(rows, with_domain) }}]")
    new = env.from_string('{% import "_macros.md.j2" as m %}[{{ m.events_table(rows, with_domain) }}]')
    return old.render(rows=rows, with_domain=with_domain), new.render(rows=rows, with_domain=with_domain)


@pytest.fixture(scope="module")
def views() -> CatalogueViews:
    return CatalogueViews(load_catalogue([EXAMPLES]), Options())


@pytest.mark.parametrize("with_domain", [True, False])
def test_every_table_of_the_examples_is_the_macros(views: CatalogueViews, with_domain: bool) -> None:
    here = "events/tags.md"
    tables = [rows for _, _, rows in views.tag_groups(here)]
    groups, flat = views.groups(here)
    tables += [group.rows for group in groups] + [flat]
    assert sum(len(rows) for rows in tables) > 15
    for rows in tables:
        old, new = _both(rows, with_domain)
        assert new == old
        assert not rows or ("<wbr>" in new and "ed-badge--" in new)


_TEXT = st.text(alphabet=st.sampled_from(list("a.B<>&\"' é\u00a0{}[]|*_`#")), max_size=12)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(_TEXT, _TEXT, _TEXT, st.one_of(st.none(), _TEXT), _TEXT,
                          st.one_of(st.none(), _TEXT), st.one_of(st.none(), _TEXT), st.one_of(st.none(), _TEXT)),
                max_size=4), st.booleans())
def test_hostile_rows_are_written_as_the_macro_wrote_them(views: CatalogueViews, values: list[tuple[Any, ...]],
                                                          with_domain: bool) -> None:
    model = views.catalogue.events[0]
    rows = []
    for name, href, domain, domain_href, status, version, summary, title in values:
        event = dataclasses.replace(model, name=name, version=version, summary=summary, title=title)
        rows.append(Row(event, href, domain, domain_href, status))
    rows.append(Row(model, Markup("<b>a.b</b>"), Markup("<i>x</i>"), "a&b", "deprecated"))
    old, new = _both(tuple(rows), with_domain)
    assert new == old
