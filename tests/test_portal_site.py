"""The catalogue built by `mkdocs build` with the eventdeck plugin, read back as HTML.

The examples' site is built once (the repository's own mkdocs.yml) and every test reads a page of it, as a consumer
would: the sections of each event page, the schema tree, the examples, the envelopes, the graph, the registry.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

import jsonschema
import pytest
from bs4 import BeautifulSoup
from mkdocs.commands.build import build
from mkdocs.config import load_config

from conftest import ROOT
from pipeline.contract import Catalogue, Event
from pipeline.envelope.canonical import idempotency_key
from portal.render import SitePaths

ULID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")


def build_site(config_file: Path, site_dir: Path, **overrides: object) -> Path:
    """`mkdocs build` through MkDocs' API, as the CLI runs it (plugin start-up and shutdown included)."""
    config = load_config(str(config_file), site_dir=str(site_dir), **overrides)
    config.plugins.on_startup(command="build", dirty=False)
    try:
        build(config)
    finally:
        config.plugins.on_shutdown()
    return site_dir


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_site(ROOT / "mkdocs.yml", tmp_path_factory.mktemp("site") / "site")


def page(site: Path, url: str) -> BeautifulSoup:
    return BeautifulSoup((site / url / "index.html").read_text(encoding="utf-8"), "html.parser")


def article(site: Path, url: str) -> BeautifulSoup:
    found = page(site, url).find("article")
    assert found is not None, f"{url} has no article"
    return found


def event_url(event: Event) -> str:
    return f"events/{event.name}"


def json_after(node: object) -> object:
    """The JSON of the first code block after ``node``."""
    block = node.find_next("code")  # type: ignore[attr-defined]
    return json.loads(block.get_text())


def field(soup: BeautifulSoup, anchor: str):
    found = soup.find(id=anchor)
    assert found is not None, f"no field {anchor!r}"
    return found


def field_head(node) -> str:
    head = node.find("summary") if node.name == "details" else node.find(class_="ed-field__head")
    return " ".join(head.get_text(" ").split())


# ----------------------------------------------------------------------------------------------- every event


def test_every_event_has_a_page_with_its_sections(site: Path, examples_catalogue: Catalogue) -> None:
    assert len(examples_catalogue.events) == 15
    for event in examples_catalogue.events:
        soup = article(site, event_url(event))
        assert soup.find("h1").get_text(strip=True).rstrip("¶") == event.name
        ids = {tag.get("id") for tag in soup.find_all(["h2", "h3"])}
        assert {"payload-schema", "examples", "envelopes", "cloudevent", "graph", "subscribe", "extensions"} <= ids, \
            f"{event.name}: sections {sorted(i for i in ids if i)}"
        crumbs = soup.find(class_="ed-breadcrumb").get_text(" ", strip=True)
        assert crumbs.startswith("Event catalogue") and crumbs.endswith(event.name)
        assert soup.find(id="payload") is not None, f"{event.name}: no payload tree"
        assert soup.find("svg") is not None, f"{event.name}: no graph"


def test_the_home_page_lists_every_event_grouped_by_entity(site: Path, examples_catalogue: Catalogue) -> None:
    soup = article(site, "events")
    linked = {a.get_text(strip=True) for a in soup.find_all("a")}
    assert {e.name for e in examples_catalogue.events} <= linked
    assert [h.get("id") for h in soup.find_all("h2")][1:] == ["Basket", "Order", "Payment"]
    group = article(site, "events/groups/Payment")
    assert {h.get("id") for h in group.find_all("h2")} == {
        "Payment.Authorised", "Payment.AuthorisedV2", "Payment.Captured", "Payment.Declined", "Payment.Refunded"}


def test_domain_pages_show_owner_bus_servers_and_events(site: Path) -> None:
    soup = article(site, "events/domains/payments")
    text = soup.get_text(" ")
    assert "group:default/payments-team" in text
    assert "payments-public" in text and "com.retailer.payments" in text
    assert "failover" in text and "arn:aws:events:eu-central-1:111122223333:event-bus/payments-public" in text
    assert len(soup.find(class_="ed-events").find_all("tr")) == 1 + 7
    orders = article(site, "events/domains/orders")
    assert "Payment.AuthorisedV2.Ecom" in orders.find(id="events-it-consumes").find_next("table").get_text()


def test_tags_field_mapping_and_subscribe_pages_exist(site: Path) -> None:
    tags = article(site, "events/tags")
    assert "Payment.Declined.Ecom" in tags.find(id="tag-ecom").find_next("table").get_text()
    mapping = article(site, "events/field-mapping").get_text(" ")
    assert "DetailType" in mapping and "dataschema" in mapping and "message.name" in mapping
    subscribe = article(site, "events/subscribe").get_text(" ")
    assert "prefix" in subscribe and "idempotencykey" in subscribe


# ----------------------------------------------------------------------------------------------- schema tree


def test_a_nested_field_has_a_stable_anchor_type_and_constraints(site: Path) -> None:
    soup = article(site, "events/Payment.AuthorisedV2.Ecom")
    currency = field(soup, "payload.amount.currency")
    head = field_head(currency)
    assert "currency" in head and "string" in head and "required" in head
    assert "^[A-Z]{3}$" in currency.get_text()
    amount = field(soup, "payload.amount")
    assert amount.name == "details" and currency in amount.descendants


def test_enum_values_are_listed(site: Path) -> None:
    reason = field(article(site, "events/Payment.Refunded.Ecom"), "payload.reason")
    text = reason.get_text(" ")
    for value in ("customer_return", "damaged_item", "price_adjustment", "order_cancelled", "goodwill"):
        assert f'"{value}"' in text


def test_one_of_is_shown_as_alternatives(site: Path) -> None:
    method = field(article(site, "events/Payment.AuthorisedV2.Ecom"), "payload.paymentMethod")
    assert "exactly one of" in method.find(class_="ed-alternatives").get_text()
    options = [field_head(field(method, f"payload.paymentMethod.oneOf{n}")) for n in (1, 2, 3)]
    assert [o.split()[0] for o in options] == ["CardPaymentMethod", "WalletPaymentMethod", "GiftCardPaymentMethod"]
    assert '"visa"' in field(method, "payload.paymentMethod.oneOf1.scheme").get_text()


def test_the_recursive_line_item_is_a_link_not_an_endless_expansion(site: Path) -> None:
    soup = article(site, "events/Order.Created.Uk")
    components = field(soup, "payload.lines.components")
    links = [a["href"] for a in components.find_all("a")]
    assert "#payload.lines" in links
    assert "LineItem" in field_head(components)
    assert not soup.find_all(id=re.compile(r"^payload\.lines\.components\."))
    assert field(soup, "payload.lines.unitPrice.amountMinor")


def test_headers_have_their_own_tree(site: Path) -> None:
    soup = article(site, "events/Order.Created.Uk")
    assert "required" in field_head(field(soup, "headers.correlationId"))
    assert "$message.header#/correlationId" in soup.find(id="header-schema").find_next(class_="ed-section").get_text()


# ---------------------------------------------------------------------------------------- examples, envelopes


def test_every_example_is_shown_as_pretty_json(site: Path, examples_catalogue: Catalogue) -> None:
    for event in examples_catalogue.events:
        soup = article(site, event_url(event))
        for example in event.examples:
            heading = soup.find(
                lambda tag, name=example.name: tag.name == "h3" and tag.get_text(strip=True).rstrip("¶") == name)
            assert heading is not None, f"{event.name}: no heading for example {example.name}"
            code = heading.find_next("code")
            assert json.loads(code.get_text()) == example.payload
            assert "\n  " in code.get_text(), "examples are indented"


def _envelope(soup: BeautifulSoup) -> dict:
    section = soup.find(id="eventbridge-event").find_next(class_="ed-section")
    blocks = [json.loads(code.get_text()) for code in section.find_all("code") if code.get_text().startswith("{")]
    return blocks[1]


def test_an_unsealed_event_shows_the_eventbridge_event_and_its_cloudevent(
        site: Path, examples_catalogue: Catalogue) -> None:
    event = examples_catalogue.event("Basket.Created.Eu")
    received = _envelope(article(site, event_url(event)))
    assert received["source"] == "com.retailer.baskets" and received["detail-type"] == event.name
    cloud = received["detail"]
    assert cloud["specversion"] == "1.0" and cloud["type"] == event.name
    assert cloud["subject"] == event.examples[0].payload["basketId"]  # x-enrichment.subject: /basketId
    assert ULID.match(cloud["id"])
    assert cloud["dataschema"] == f"https://eventdeck.dev/schemas/{event.name}/{event.version}.json"
    assert cloud["dataversion"] == event.version
    assert cloud["datacontenttype"] == "application/json"
    assert cloud["data"] == event.examples[0].payload
    assert cloud["idempotencykey"] == idempotency_key(event.name, event.examples[0].payload)


def test_a_sealed_event_shows_the_layers_of_its_token(site: Path, examples_catalogue: Catalogue) -> None:
    event = examples_catalogue.event("Payment.AuthorisedV2.Ecom")
    soup = article(site, event_url(event))
    cloud = _envelope(soup)["detail"]
    assert cloud["datacontenttype"] == "application/jwt" and cloud["data"].count(".") == 4
    section = soup.find(id="sealed-token").find_next(class_="ed-section")
    jwe, jws, claims = (json.loads(c.get_text()) for c in section.find_all("code") if c.get_text().startswith("{"))
    assert {k: jwe[k] for k in ("alg", "enc", "kid", "cty", "zip")} == {
        "alg": "ECDH-ES+A256KW", "enc": "A256GCM", "kid": "payments-consumers-2026-01", "cty": "JWT", "zip": "DEF"}
    assert jws == {"alg": "ES256", "kid": "payments-sign-2026-01", "typ": "JWT"}
    assert claims["iss"] == "com.retailer.payments" and claims["jti"] == cloud["id"]
    assert claims["idempotencykey"] == cloud["idempotencykey"] and "data" in claims and "iat" in claims


def test_a_message_level_sealing_override_is_used(site: Path) -> None:
    soup = article(site, "events/Basket.Paid.Eu")
    section = soup.find(id="sealed-token").find_next(class_="ed-section")
    jwe = json.loads(next(c.get_text() for c in section.find_all("code") if c.get_text().startswith("{")))
    assert jwe["kid"] == "baskets-consumers-2026-01" and "zip" not in jwe


def test_the_enrichment_patch_is_a_source_to_target_table(site: Path) -> None:
    soup = article(site, "events/Payment.AuthorisedV2.Ecom")
    rows = [[cell.get_text(" ", strip=True) for cell in row.find_all("td")]
            for row in soup.find(class_="ed-patch").find_all("tr")[1:]]
    assert ["/merchant/merchantId", "move", "/merchantId", "renamed (moved) from the internal field"] in rows
    assert any(r[0] == "\u2013" and r[1] == "remove" and r[2] == "/instrument/token" for r in rows)
    link = soup.find(class_="ed-patch").find("a", href="#payload.merchant.merchantId")
    assert link is not None and soup.find(id="payload.merchant.merchantId") is not None


def test_status_badges_and_superseded_by(site: Path) -> None:
    old = article(site, "events/Payment.Authorised.Ecom")
    assert old.find(class_="ed-badge--deprecated") is not None
    warning = old.find(class_="admonition")
    assert "superseded by Payment.AuthorisedV2.Ecom" in warning.get_text()
    assert warning.find("a")["href"] == "../Payment.AuthorisedV2.Ecom/"
    assert "2026-12-31" in warning.get_text()
    assert article(site, "events/Payment.AuthorisedV2.Ecom").find(class_="ed-badge--active") is not None


def test_an_event_no_operation_sends_still_has_its_page(site: Path) -> None:
    soup = article(site, "events/Basket.Abandoned.Eu")
    assert "no producer yet" in soup.find(class_="ed-badges").get_text()
    assert "no operation sends it yet" in soup.find(class_="ed-glance").get_text()


def test_the_graph_links_producers_and_consumers(site: Path) -> None:
    soup = article(site, "events/Payment.AuthorisedV2.Ecom")
    svg = soup.find(id="graph").find_next("svg")
    labels = [t.get_text() for t in svg.find_all("text")]
    assert labels == ["PaymentAuthorised", "Payments", "Payment.AuthorisedV2.Ecom", "Orders"]
    assert {a["href"] for a in svg.find_all("a")} == {"../domains/payments/", "../domains/orders/"}


def test_extensions_are_all_shown(site: Path) -> None:
    soup = article(site, "events/Basket.Paid.Eu")
    listed = soup.find(id="extensions").find_next(class_="ed-section").get_text(" ")
    for name in ("x-lifecycle", "x-sealing", "x-enrichment"):
        assert name in listed


# ------------------------------------------------------------------------------------------ registry, links


def test_the_schema_registry_publishes_every_payload_schema(site: Path, examples_catalogue: Catalogue) -> None:
    for event in examples_catalogue.events:
        folder = site / "schemas" / event.name
        versioned = json.loads((folder / f"{event.version}.json").read_text(encoding="utf-8"))
        latest = json.loads((folder / "latest.json").read_text(encoding="utf-8"))
        assert versioned["$id"] == f"https://eventdeck.dev/schemas/{event.name}/{event.version}.json"
        assert latest["$id"] == f"https://eventdeck.dev/schemas/{event.name}/latest.json"
        for example in event.examples:
            jsonschema.validate(example.payload, versioned)
    registry = article(site, "events/schemas").get_text(" ")
    assert all(e.name in registry for e in examples_catalogue.events)


def _internal_links(html_file: Path, site: Path) -> list[tuple[Path, str]]:
    soup = BeautifulSoup(html_file.read_text(encoding="utf-8"), "html.parser")
    found = []
    for tag in soup.find_all(["a", "link", "script", "img"]):
        url = tag.get("href") or tag.get("src")
        if not url or url.startswith(("mailto:", "data:")) or urlsplit(url).scheme or url.startswith("//"):
            continue
        path, fragment = urlsplit(url).path, urlsplit(url).fragment
        target = (html_file.parent / unquote(path)).resolve() if path else html_file
        if target.is_dir():
            target = target / "index.html"
        found.append((target, unquote(fragment)))
    return found


def test_every_internal_link_and_anchor_resolves(site: Path) -> None:
    ids: dict[Path, set[str]] = {}
    broken = []
    for html_file in sorted((site / "events").rglob("*.html")):
        for target, fragment in _internal_links(html_file, site):
            if not target.exists():
                broken.append(f"{html_file.relative_to(site)} → {target}")
                continue
            if fragment and target.suffix == ".html":
                if target not in ids:
                    ids[target] = {t["id"] for t in BeautifulSoup(target.read_text(encoding="utf-8"),
                                                                  "html.parser").find_all(id=True)}
                if fragment not in ids[target]:
                    broken.append(f"{html_file.relative_to(site)} → {target.relative_to(site)}#{fragment}")
    assert not broken, "\n".join(broken[:20])


def test_the_site_loads_nothing_from_other_hosts(site: Path) -> None:
    external = []
    for html_file in site.rglob("*.html"):
        soup = BeautifulSoup(html_file.read_text(encoding="utf-8"), "html.parser")
        for tag in soup.find_all(["link", "script", "img", "iframe", "source", "video", "audio"]):
            if tag.name == "link" and "canonical" in (tag.get("rel") or []):
                continue  # names the page's public address; browsers do not fetch it
            url = tag.get("href") or tag.get("src") or ""
            if urlsplit(url).scheme in ("http", "https") or url.startswith("//"):
                external.append(f"{html_file.relative_to(site)}: <{tag.name} {url}>")
    assert not external, "\n".join(external[:20])
    assert "fonts.googleapis.com" not in (site / "index.html").read_text(encoding="utf-8")


def test_field_names_and_descriptions_are_in_the_search_index(site: Path) -> None:
    index = json.loads((site / "search" / "search_index.json").read_text(encoding="utf-8"))
    fields = {d["location"]: d["title"] for d in index["docs"] if "/#payload." in d["location"]}
    assert fields["events/Payment.Declined.Ecom/#payload.declineReason"] == "declineReason"
    assert fields["events/Payment.Declined.Ecom/#payload.retryable"] == "retryable"
    page_entry = [d for d in index["docs"] if d["location"] == "events/Payment.Declined.Ecom/"]
    assert "Acquirer response codes are normalised" in page_entry[0]["text"]  # the event's description
    titles = {d["title"] for d in index["docs"] if d["location"] == "events/Payment.Declined.Ecom/"}
    assert titles == {"Payment.Declined.Ecom"}
    assert len({d["location"] for d in index["docs"]}) == len(index["docs"]), "no duplicate entries"



def test_the_search_index_is_one_json_document_as_mkdocs_material_writes_it(site: Path) -> None:
    # The generated pages' entries are spliced into mkdocs-material's index as JSON text, not parsed again: the
    # result must still be exactly what json.dumps writes (ASCII, compact), with the theme's own pages in it too.
    text = (site / "search" / "search_index.json").read_text(encoding="utf-8")
    index = json.loads(text)
    assert text == json.dumps(index, separators=(",", ":"))
    assert list(index) == ["config", "docs"] and index["config"]["lang"]
    locations = {d["location"] for d in index["docs"]}
    assert "events/Payment.Declined.Ecom/" in locations  # a generated page
    assert "reference/security/" in locations  # a hand-written page, indexed by mkdocs-material itself

def test_event_pages_are_not_in_the_navigation(site: Path) -> None:
    nav = page(site, "events/Payment.Declined.Ecom").find(class_="md-nav--primary")
    assert "Payment.Declined.Ecom" not in nav.get_text()
    assert "Schema registry" in nav.get_text()


def test_paths_are_slugs_of_names(examples_catalogue: Catalogue) -> None:
    paths = SitePaths.for_catalogue(examples_catalogue)
    assert paths.event(examples_catalogue.event("Order.Created.Uk")) == "events/Order.Created.Uk.md"
    assert paths.schema_file(examples_catalogue.event("Order.Created.Uk")) == "schemas/Order.Created.Uk/1.2.0.json"


def test_the_built_kit_is_plain_code_and_the_same_as_the_pre_rendered_page(site: Path) -> None:
    from test_portal_render import kit_of

    for url, source in (("events/Payment.Authorised.Ecom", "events/Payment.Authorised.Ecom.md"),
                        ("events/levels/Payment.Authorised", "events/levels/Payment.Authorised.md"),
                        ("events/Basket.Created.Eu", "events/Basket.Created.Eu.md")):
        built = article(site, url)
        tabs = built.select("div.tabbed-set.ed-kit")
        assert len(tabs) == 1
        labels = [label.get_text() for label in tabs[0].select("div.tabbed-labels > label")]
        assert labels == ["Pattern", "CloudFormation", "SAM", "CDK", "Terraform", "boto3", "Consumer (Python)"]
        radios = tabs[0].find_all("input", recursive=False)
        assert [r["id"] for r in radios] == [label["for"] for label in tabs[0].select("label")]
        assert [r.has_attr("checked") for r in radios] == [True] + [False] * 6
        for code in tabs[0].select("pre > code"):
            assert not code.find_all(True), url  # plain text: nothing to run or to style away
        assert kit_of(str(built)) == kit_of((ROOT / "docs" / source).read_text(encoding="utf-8")), url
    assert "Payment.Authorised.Pos" in [a.get_text() for a in article(site, "events/levels/Payment.Authorised")
                                        .select("div.ed-events a")]
