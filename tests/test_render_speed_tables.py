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


#: The registry table's rows as the template wrote them.
REGISTRY = """{% macro name(value) -%}
{%- set text %}{{ value }}{% endset -%}
{{ text|replace(".", ".<wbr>"|safe) }}
{%- endmacro %}
{% for e, link, file, latest, url in entries %}<tr><td><a href="{{ link|url }}">{{ name(e.name) }}</a></td><td>{{ e.version|code }}</td><td><a href="{{ file|url }}">{{ url|code }}</a></td><td><a href="{{ latest|url }}"><code>latest.json</code></a></td></tr>
{% endfor %}"""  # noqa: E501


def _registry_both(entries: Any, here: str, directory_urls: bool) -> tuple[str, str]:
    env = _env()
    values = {"entries": entries, "here": here, "directory_urls": directory_urls}
    old = env.from_string(REGISTRY).render(**values)
    new = env.from_string("{{ registry_rows(entries, here, directory_urls) }}").render(**values)
    return old, new


@pytest.mark.parametrize("directory_urls", [True, False])
def test_the_registry_rows_of_the_examples_are_the_templates(views: CatalogueViews, directory_urls: bool) -> None:
    from portal.render.paths import relative_link

    paths, here = views.paths, views.paths.registry
    entries = [(e, relative_link(here, paths.event(e)), relative_link(here, paths.schema_file(e)),
                relative_link(here, paths.schema_latest(e)), paths.layout.url(e))
               for e in views.catalogue.events if e.payload is not None]
    assert len(entries) > 10
    old, new = _registry_both(entries, here, directory_urls)
    assert new == old and new.count("<tr>") == len(entries)


_LINK = st.text(alphabet=st.sampled_from(list("ab./#?&<\"' :é")), max_size=10).map(lambda t: t + ".md")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(_TEXT, st.one_of(st.none(), _TEXT), _LINK, _LINK, _LINK, _TEXT), max_size=4),
       st.sampled_from(["events/registry.md", "registry.md", "a/b/index.md"]), st.booleans())
def test_hostile_registry_rows_are_written_as_the_template_wrote_them(
        views: CatalogueViews, values: list[tuple[Any, ...]], here: str, directory_urls: bool) -> None:
    model = views.catalogue.events[0]
    entries = [(dataclasses.replace(model, name=name, version=version), link, file, latest, url)
               for name, version, link, file, latest, url in values]
    old, new = _registry_both(entries, here, directory_urls)
    assert new == old
