"""Subscription request files: the examples in ``subscriptions/`` load with their patterns; each kind of mistake
gets its own message naming the file, the line and the JSON pointer, and the folder's loader reports them all."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from conftest import EXAMPLES, ROOT
from pipeline.contract import load_catalogue
from pipeline.contract.model import Catalogue
from portal.kit.errors import KitError, SubscriptionError
from portal.kit.subscriptions import endpoint_problem, load_subscription, load_subscriptions, subscribers

GOOD = """\
team: crm
consumer:
  account: "210987654321"
  bus: crm-inbound
subscribe:
  event: Basket.Abandoned.Eu
"""


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue([EXAMPLES])


def test_the_example_subscriptions_load_with_their_events(catalogue: Catalogue) -> None:
    found = {Path(s.file).name: s for s in load_subscriptions(ROOT / "subscriptions", catalogue)}
    assert len(found) >= 4
    analytics = found["analytics-baskets.yaml"]
    assert analytics.events == ("Basket.Abandoned.Eu", "Basket.Created.Eu", "Basket.ItemAdded.Eu", "Basket.Paid.Eu")
    finance = found["finance-payments-authorised.yaml"]
    assert finance.events == ("Payment.Authorised.Ecom", "Payment.Authorised.Pos")
    assert finance.endpoint == "https://recon.finance.example.com/events" and finance.bus is None
    marketing = found["marketing-de-web-baskets.yaml"]
    assert marketing.pattern["detail"] == {"data": {"market": ["DE"], "channel": ["web"]}}
    assert marketing.rule_name == "sub-marketing-de-web-baskets"
    assert [Path(s.file).name for s in subscribers(list(found.values()), "Basket.Abandoned.Eu")] == [
        "analytics-baskets.yaml", "crm-basket-reminders.yaml"]


def _problem(tmp_path: Path, catalogue: Catalogue, text: str) -> str:
    file = tmp_path / "request.yaml"
    file.write_text(textwrap.dedent(text), encoding="utf-8")
    with pytest.raises(SubscriptionError) as caught:
        load_subscription(file, catalogue)
    message = str(caught.value)
    assert str(file) in message or "request.yaml" in message
    return message


def _good_with(old: str, new: str) -> str:
    assert old in GOOD
    return GOOD.replace(old, new)


@pytest.mark.parametrize(("text", "expected"), [
    pytest.param(_good_with("event: Basket.Abandoned.Eu", "event: Basket.Abandoned.Uk"),
                 r":6:3 \(#/subscribe/event\): no event is named 'Basket.Abandoned.Uk' in the contract; did you "
                 r"mean Basket.Abandoned.Eu", id="unknown-event"),
    pytest.param(_good_with("event: Basket.Abandoned.Eu", "hierarchy: Shipment.*"),
                 r":6:3 \(#/subscribe/hierarchy\): no event sits under 'Shipment.\*'.*did you mean",
                 id="matches-nothing"),
    pytest.param(_good_with("event: Basket.Abandoned.Eu", "event: Payment.Captured.Ecom\nfilter:\n  currency: [EUR]"),
                 r":8:3 \(#/filter/currency\): cannot filter Payment.Captured.Ecom on 'currency': "
                 r"Payment.Captured.Ecom is sealed .*JWE/JWS", id="sealed-field-filter"),
    pytest.param(_good_with("event: Basket.Abandoned.Eu", "event: Basket.Created.Eu\nfilter:\n  colour: [red]"),
                 r"\(#/filter/colour\): 'colour' is not a payload field of Basket.Created.Eu with enum or const "
                 r"values \(filterable: market, channel\)", id="unknown-filter-field"),
    pytest.param(_good_with("event: Basket.Abandoned.Eu", "event: Basket.Created.Eu\nfilter:\n  market: [UK]"),
                 r"\(#/filter/market\): market \"UK\" is never sent: Basket.Created.Eu allows DE, FR", id="bad-value"),
    pytest.param(_good_with("team: crm", "team: crm\nowner: crm"),
                 r":2:1 \(#/owner\): unknown field 'owner' in the request \(allowed: consumer, contact, description, "
                 r"filter, subscribe, team\)", id="unknown-field"),
    pytest.param(_good_with("  bus: crm-inbound", "  bus: crm-inbound\n  queue: q"),
                 r":5:3 \(#/consumer/queue\): unknown field 'queue' in consumer", id="unknown-nested-field"),
    pytest.param(_good_with('"210987654321"', '"21098765432"'),
                 r":3:3 \(#/consumer/account\): consumer.account \"21098765432\" is not a 12-digit AWS account id",
                 id="bad-account"),
    pytest.param(_good_with('"210987654321"', "210987654321"),
                 r":3:3 \(#/consumer/account\): consumer.account 210987654321: write the account id in quotes",
                 id="unquoted-account"),
    pytest.param(_good_with("bus: crm-inbound", "bus: arn:aws:sqs:eu-west-1:210987654321:queue"),
                 r"\(#/consumer/bus\): consumer.bus .* is neither a bus name nor an event-bus ARN", id="bad-arn"),
    pytest.param(_good_with("bus: crm-inbound", "bus: arn:aws:events:eu-west-1:999999999999:event-bus/x"),
                 r"\(#/consumer/bus\): consumer.bus is in account 999999999999, not the consumer account",
                 id="arn-account"),
    pytest.param(_good_with("bus: crm-inbound", "endpoint: javascript:alert(1)"),
                 r"\(#/consumer/endpoint\): consumer.endpoint \"javascript:alert\(1\)\": not a URL the catalogue",
                 id="script-url"),
    pytest.param(_good_with("bus: crm-inbound", "endpoint: http://hooks.example.com/x"),
                 r"\(#/consumer/endpoint\): .*needs https", id="plain-http"),
    pytest.param(_good_with("bus: crm-inbound", "endpoint: https://user:pw@hooks.example.com/x"),
                 r"\(#/consumer/endpoint\): .*credentials do not go in the URL", id="credentials-in-url"),
    pytest.param(_good_with("bus: crm-inbound", "bus: crm-inbound\n  endpoint: https://hooks.example.com/x"),
                 r"\(#/consumer\): consumer: give exactly one of 'bus'", id="bus-and-endpoint"),
    pytest.param(_good_with("  event: Basket.Abandoned.Eu", "  event: Basket.Abandoned.Eu\n  hierarchy: Basket.*"),
                 r"\(#/subscribe\): subscribe: give exactly one of 'event'", id="event-and-hierarchy"),
    pytest.param(_good_with("event: Basket.Abandoned.Eu", "hierarchy: Basket"),
                 r"subscribe.hierarchy \"Basket\" is not a level such as", id="bad-hierarchy"),
    pytest.param("team: crm\nconsumer: [\n", r":3:1: .*", id="yaml-syntax"),
    pytest.param(_good_with("team: crm", "team: crm\nteam: ops"), r":2:1 .*duplicate", id="duplicate-key"),
    pytest.param("- a list\n", r"a subscription request is a mapping", id="not-a-mapping"),
    pytest.param(_good_with("team: crm\n", ""), r"request.yaml:1:1: the request: 'team' is a required property",
                 id="missing-team"),
])
def test_each_mistake_gets_its_own_clear_error(tmp_path: Path, catalogue: Catalogue, text: str,
                                               expected: str) -> None:
    message = _problem(tmp_path, catalogue, text)
    assert re.search(expected, message, re.IGNORECASE), message
    assert "Traceback" not in message


def test_a_file_that_is_not_utf8_or_too_big(tmp_path: Path, catalogue: Catalogue) -> None:
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"team: \xff\xfe\n")
    with pytest.raises(SubscriptionError, match=r"binary\.yaml: not UTF-8"):
        load_subscription(binary, catalogue)
    big = tmp_path / "big.yaml"
    big.write_text("team: crm\n" + "# padding\n" * 10_000, encoding="utf-8")
    with pytest.raises(SubscriptionError, match=r"big\.yaml: over 65,536 bytes"):
        load_subscription(big, catalogue)


def test_the_folder_loader_reports_every_file_and_keeps_nothing(tmp_path: Path, catalogue: Catalogue) -> None:
    (tmp_path / "a-good.yaml").write_text(GOOD, encoding="utf-8")
    (tmp_path / "b-bad.yaml").write_text(_good_with('"210987654321"', '"1"'), encoding="utf-8")
    (tmp_path / "c-bad.yml").write_text(_good_with("event: Basket.Abandoned.Eu", "event: Nope"), encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not a request", encoding="utf-8")
    with pytest.raises(SubscriptionError) as caught:
        load_subscriptions(tmp_path, catalogue)
    assert [where.file.rsplit("/", 1)[-1] for where, _ in caught.value.problems] == ["b-bad.yaml", "c-bad.yml"]
    (tmp_path / "b-bad.yaml").unlink()
    (tmp_path / "c-bad.yml").unlink()
    (tmp_path / "a-good.yml").write_text(GOOD, encoding="utf-8")
    with pytest.raises(SubscriptionError, match=r"a-good\.yml: its rule name sub-a-good is also that of "):
        load_subscriptions(tmp_path, catalogue)
    with pytest.raises(KitError, match="no such folder"):
        load_subscriptions(tmp_path / "missing", catalogue)


@pytest.mark.parametrize(("url", "ok"), [
    ("https://hooks.example.com/a?b=c", True), ("http://127.0.0.1:8080/hook", True), ("http://localhost/x", True),
    ("http://[::1]:9/x", True), ("https://", False), ("ftp://example.com/x", False), ("/relative", False),
    ("https://example.com:99999/x", False), ("https://exa mple.com\u202e/x", False), ("data:text/html,x", False),
])
def test_endpoint_rules(url: str, ok: bool) -> None:
    assert (endpoint_problem(url) is None) == ok, endpoint_problem(url)
