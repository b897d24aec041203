"""Navigation at scale: above a few hundred events the home page lists each entity's event types with their
counts (never every event), long tables fold into closed ``<details>`` under their counts, names without hierarchy
go into A-Z sections, and a domain of many events is split by entity; all of it plain HTML that works with no
script (TechDocs runs none). A small catalogue (the examples) keeps one table per entity."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from hostile import markdown_html

from pipeline.contract import Catalogue, ContractLoader
from portal.render import render_site
from portal.render.views import LISTED_EVENTS

VERBS = ["Authorised", "Captured", "Declined", "Refunded", "Created"]
FLAT = ["alpha", "bravo", "charlie", "9lives"]


#: Events per entity and how many event types (verbs) they spread over: Payment's types are short (one table
#: each), Basket's one type is long (folded), Order has more events than a page lists (every type folded).
SHAPE = {"Payment": (100, 5), "Order": (240, 5), "Basket": (60, 1)}


def catalogue_file(path: Path, flat: int) -> Path:
    messages = {}
    for entity, (count, verbs) in SHAPE.items():
        for i in range(count):
            messages[f"{entity}{i}"] = {"name": f"{entity}.{VERBS[i % verbs]}.R{i}", "summary": f"Summary {i}.",
                                        "payload": {"type": "object", "properties": {"id": {"type": "string"}}}}
    for i in range(flat):
        messages[f"f{i}"] = {"name": f"{FLAT[i % 4]}{i}", "summary": f"Flat {i}.",
                             "payload": {"type": "object", "properties": {"id": {"type": "string"}}}}
    document = {"asyncapi": "3.0.0", "info": {"title": "Big", "version": "1.0.0"},
                "components": {"messages": messages}}
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def large(tmp_path_factory: pytest.TempPathFactory) -> tuple[Catalogue, dict[str, str]]:
    path = catalogue_file(tmp_path_factory.mktemp("large") / "big.yaml", 210)
    catalogue = ContractLoader().load([path])
    assert len(catalogue.events) == 610 > LISTED_EVENTS
    return catalogue, render_site(catalogue).pages


def html_of(page: str) -> BeautifulSoup:
    return BeautifulSoup(markdown_html(page), "html.parser")


def test_a_large_catalogue_s_home_page_lists_event_types_with_counts_not_events(large) -> None:
    _, pages = large
    home = html_of(pages["events/index.md"])
    for entity, (count, verbs) in SHAPE.items():
        types = {(a.get_text(), a["href"], int(re.search(r"\((\d+)\)", li.get_text()).group(1)))
                 for li in home.select("details.ed-types li") for a in li.select("a")
                 if a.get_text().startswith(entity + ".")}
        assert {name for name, _, _ in types} == {f"{entity}.{verb}" for verb in VERBS[:verbs]}
        assert sum(n for _, _, n in types) == count
        for name, href, _ in types:
            assert href == f"groups/{entity}/#{name}"
            group = html_of(pages[f"events/groups/{entity}.md"])
            assert group.find(id=name) is not None, f"{href}: no such anchor"
    assert "(100)" in home.get_text()  # "All Payment events (100)"


def test_the_home_page_shows_no_event_row_at_any_size(large) -> None:
    _, pages = large
    home = html_of(pages["events/index.md"])
    hierarchical_rows = [a for a in home.select(".ed-events td a") if "." in a.get_text()]
    assert hierarchical_rows == []


def test_names_outside_the_hierarchy_are_in_a_to_z_sections_with_counts(large) -> None:
    _, pages = large
    home = html_of(pages["events/index.md"])
    sections = {d.summary.get_text(): d for d in home.select("details.ed-letter")}
    assert set(sections) == {"# (52)", "A (53)", "B (53)", "C (52)"}
    assert all(a.get_text().startswith("9") for a in sections["# (52)"].select("td:first-child a"))
    assert sum(len(d.select("tbody tr")) for d in sections.values()) == 210


@pytest.mark.parametrize(("entity", "folded"), [("Payment", 0), ("Basket", 1), ("Order", 5)])
def test_an_entity_page_folds_long_event_types_under_their_count(large, entity: str, folded: int) -> None:
    _, pages = large
    group = html_of(pages[f"events/groups/{entity}.md"])
    sections = group.select("details.ed-rows")
    assert len(sections) == folded
    for details in sections:
        rows = details.select("tbody tr")
        assert details.summary.get_text() == f"{len(rows)} event(s)" and rows
    assert len(group.select("tbody tr")) == SHAPE[entity][0]


def test_a_large_domain_page_splits_its_events_by_entity(large) -> None:
    _, pages = large
    domain = html_of(pages["events/domains/big.md"])
    sections = {d.summary.get_text(): len(d.select("tbody tr")) for d in domain.select("details.ed-rows")}
    assert sections["Payment (100)"] == 100 and sections["Order (240)"] == 240
    assert sum(sections.values()) == 610


def test_a_small_catalogue_keeps_one_table_per_entity(examples_catalogue: Catalogue) -> None:
    pages = render_site(examples_catalogue).pages
    home = html_of(pages["events/index.md"])
    assert home.select("details") == []
    listed = {a.get_text() for a in home.select(".ed-events td:first-child a")}
    assert listed == {e.name for e in examples_catalogue.events}
    for src, page in pages.items():
        if src.startswith("events/groups/"):
            assert "<details" not in page, src


def test_event_names_may_break_after_each_dot_and_nowhere_else(examples_catalogue: Catalogue) -> None:
    pages = render_site(examples_catalogue).pages
    home = pages["events/index.md"]
    assert "Payment.<wbr>AuthorisedV2.<wbr>Ecom</a>" in home
    assert "white-space:nowrap;\">" not in home
    heading = "# Payment.<wbr>AuthorisedV2.<wbr>Ecom { #paymentauthorisedv2ecom }\n"
    assert pages["events/Payment.AuthorisedV2.Ecom.md"].count(heading) == 1


def named_catalogue(path: Path, names: list[str]) -> dict[str, str]:
    messages = {f"m{i}": {"name": name, "payload": {"type": "object", "properties": {"id": {"type": "string"}}}}
                for i, name in enumerate(names)}
    path.write_text(json.dumps({"asyncapi": "3.0.0", "info": {"title": "Many", "version": "1.0.0"},
                                "components": {"messages": messages}}), encoding="utf-8")
    return render_site(ContractLoader().load([path])).pages


def test_many_entities_are_one_a_to_z_list_with_counts(tmp_path: Path) -> None:
    entities = [f"{letter}{n}" for letter in "PQRSTUVWXYZ" for n in range(7)]  # 77 entities
    pages = named_catalogue(tmp_path / "many.yaml", [f"{e}.Happened.R{i}" for e in entities for i in range(3)])
    home = html_of(pages["events/index.md"])
    assert home.select("h2[id='P0']") == [] and home.select(".ed-events") == []
    letters = {d.summary.get_text(): d for d in home.select("details.ed-letter")}
    assert set(letters) == {f"{letter} (7)" for letter in "PQRSTUVWXYZ"}
    first = letters["P (7)"].select("li")[0]
    assert first.get_text() == "P0 (3 events, 1 event types)" and first.a["href"] == "groups/P0/"


def test_an_entity_of_many_event_types_is_counted_not_listed_on_the_home_page(tmp_path: Path) -> None:
    pages = named_catalogue(tmp_path / "types.yaml", [f"Payment.Type{t}.R{i}" for t in range(60) for i in range(4)])
    home = html_of(pages["events/index.md"])
    assert home.select("details") == []
    assert "60 event types, listed on the page of Payment." in home.get_text()
    assert len(html_of(pages["events/groups/Payment.md"]).select("details.ed-rows")) == 60
