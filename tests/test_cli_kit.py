"""``eventdeck kit EVENT`` as a user runs it: the pattern of each hierarchy level as JSON (what the pattern engine
accepts and what matches the event's examples), ``--level`` and ``--filter``, and every bad input a clear one-line
message with a non-zero exit and no traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_runner import run

from conftest import EXAMPLES, ROOT
from pipeline.contract import load_catalogue
from pipeline.patterns import compile_pattern
from portal.kit.examples import example_events

CONTRACT = ("--contract", str(EXAMPLES), "-f", str(ROOT / "mkdocs.yml"))


def _kit(*argv: str) -> tuple[int, str, str]:
    result = run("kit", *argv, *CONTRACT)
    assert "Traceback" not in result.output
    return result.code, result.out, result.err


def test_every_level_is_printed_with_what_it_also_matches() -> None:
    code, out, err = _kit("Payment.Authorised.Ecom")
    assert code == 0, err
    levels = json.loads(out)
    assert [level["level"] for level in levels] == ["Payment.Authorised.Ecom", "Payment.Authorised.*", "Payment.*"]
    assert levels[1]["alsoMatches"] == ["Payment.Authorised.Pos"]
    assert all("JWE/JWS" in level["noContentFilter"] for level in levels)
    examples = example_events(load_catalogue([EXAMPLES]))
    for level in levels:  # what the command prints is what the engine proves
        engine = compile_pattern(level["pattern"])
        assert {e.event_key for e in examples if engine.matches(e.event)} == set(level["matches"])


@pytest.mark.parametrize(("level", "detail_type"), [
    ("exact", ["Payment.Authorised.Ecom"]), ("3", ["Payment.Authorised.Ecom"]),
    ("2", [{"prefix": "Payment.Authorised."}]), ("Payment.*", [{"prefix": "Payment."}]),
])
def test_level_prints_one_pattern_ready_for_put_rule(level: str, detail_type: list[object]) -> None:
    code, out, err = _kit("Payment.Authorised.Ecom", "--level", level)
    assert code == 0, err
    assert json.loads(out) == {"source": ["com.retailer.payments"], "detail-type": detail_type}


def test_a_hierarchy_level_can_be_named_directly_and_filtered() -> None:
    code, out, _ = _kit("Basket.Created.*", "--filter", "market=DE,FR", "--filter", "channel=web")
    assert code == 0
    assert json.loads(out) == {"source": ["com.retailer.baskets"], "detail-type": [{"prefix": "Basket.Created."}],
                               "detail": {"data": {"market": ["DE", "FR"], "channel": ["web"]}}}
    code, out, _ = _kit("Basket.Created.Eu")
    assert json.loads(out)[0]["contentFilters"] == {"market": ["DE", "FR", "NL", "IE", "ES", "IT"],
                                                    "channel": ["web", "app"]}


def test_a_filter_on_an_event_narrows_its_exact_rule_even_where_a_higher_level_is_sealed() -> None:
    # Basket.* also selects the sealed Basket.Paid.Eu, which offers no filter: the filter is for the exact rule.
    code, out, err = _kit("Basket.Created.Eu", "--filter", "market=DE")
    assert code == 0, err
    assert json.loads(out) == {"source": ["com.retailer.baskets"], "detail-type": ["Basket.Created.Eu"],
                               "detail": {"data": {"market": ["DE"]}}}


@pytest.mark.parametrize(("argv", "code", "message"), [
    (("Paymnt.Authorised.Ecom",), 1, "no event 'Paymnt.Authorised.Ecom' in the contract; did you mean "
                                     "Payment.Authorised.Ecom"),
    (("Payment.Authorisd.*",), 1, "no event sits under 'Payment.Authorisd.*' in the contract; did you mean "
                                  "Payment.Authorised.*"),
    (("Basket.Created.Eu", "--level", "4"), 1, "--level '4': Basket.Created.Eu has the levels exact, 1 to 3"),
    (("Basket.Created.Eu", "--level", "Payment.*"), 1, "--level 'Payment.*': Basket.Created.Eu has the levels"),
    (("\x1b[31mX" * 50,), 1, "no event '\\x1b[31mX"),
    (("Basket.*", "--level", "1"), 2, "Basket.* is a level already: leave out --level"),
    (("Payment.Captured.Ecom", "--filter", "currency=EUR"), 1,
     "--filter currency: Payment.Captured.Ecom offers no content filter: Payment.Captured.Ecom is sealed"),
    (("Basket.Created.Eu", "--filter", "colour=red"), 1, "--filter colour: not a payload field of Basket.Created.Eu"),
    (("Basket.Created.Eu", "--filter", "market=UK"), 1, "--filter market=UK: never sent; Basket.Created.Eu allows DE"),
    (("Basket.Created.Eu", "--filter", "market"), 2, "--filter 'market': write FIELD=VALUE"),
    (("Basket.Created.Eu", "--format", "yaml"), 2, "invalid choice: 'yaml'"),
])
def test_bad_input_is_one_clear_line(argv: tuple[str, ...], code: int, message: str) -> None:
    got, out, err = _kit(*argv)
    assert (got, out) == (code, "")
    assert message in err, err


def test_a_broken_contract_is_reported_with_its_file(tmp_path: object) -> None:
    result = run("kit", "Basket.Created.Eu", "--contract", str(ROOT / "missing.yaml"), "-f", str(ROOT / "mkdocs.yml"))
    assert result.code == 1 and "missing.yaml" in result.err and "Traceback" not in result.err


def test_snippet_formats_print_the_snippet_or_say_they_are_not_available() -> None:
    try:
        import portal.kit.snippets  # noqa: F401
    except ImportError:
        code, out, err = _kit("Basket.Created.Eu", "--format", "boto3")
        assert (code, out) == (1, "") and "--format boto3 is not available yet" in err
        return
    code, out, err = _kit("Basket.Created.Eu", "--format", "boto3", "--filter", "market=DE")
    assert code == 0, err
    assert "put_rule" in out and "Basket.Created.Eu" in out and "market" in out
    code, out, err = _kit("Basket.Created.Eu", "--format", "cfn", "--consumer-account", "12345")
    assert code == 1 and "consumer_account: '12345' is not a 12-digit AWS account id" in err


def test_a_subscription_request_gives_its_own_pattern_and_snippets(tmp_path: Path) -> None:
    request = ROOT / "subscriptions" / "marketing-de-web-baskets.yaml"
    code, out, err = _kit("--subscription", str(request))
    assert code == 0, err
    assert json.loads(out)["detail"] == {"data": {"market": ["DE"], "channel": ["web"]}}
    code, out, err = _kit("--subscription", str(ROOT / "subscriptions" / "crm-basket-reminders.yaml"),
                          "--format", "cfn")
    assert code == 0, err
    assert "arn:aws:events:eu-west-1:210987654321:event-bus/crm-inbound" in out and "sub-crm-basket-reminders" in out
    broken = tmp_path / "broken.yaml"
    broken.write_text(request.read_text(encoding="utf-8").replace("market: [DE]", "market: [XX]"), encoding="utf-8")
    code, out, err = _kit("--subscription", str(broken))
    assert (code, out) == (1, "") and "broken.yaml:10:3 (#/filter/market): market \"XX\" is never sent" in err


@pytest.mark.parametrize(("argv", "message"), [
    ((), "give an EVENT (or a hierarchy level such as Payment.*), or --subscription FILE"),
    (("Basket.Created.Eu", "--subscription", "x.yaml"), "--subscription FILE says what EVENT would"),
    (("--subscription", "x.yaml", "--endpoint", "https://a.example.com"), "says what --endpoint would"),
])
def test_subscription_or_event_not_both(argv: tuple[str, ...], message: str) -> None:
    code, out, err = _kit(*argv)
    assert (code, out) == (2, "") and message in err, err
