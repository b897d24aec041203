"""The example subscription requests deliver on the local bus: ``eventdeck run --subscriptions`` makes a rule per
HTTP request (the examples' endpoints swapped for real endpoints on 127.0.0.1), and each endpoint receives exactly
the sealed entries of its events (and, filtered, only those with the requested payload values) — nothing more."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from cli_runner import Workspace, run, workspace
from recording_endpoint import recording_endpoint

from conftest import ROOT
from pipeline.bus.local import LocalBus
from portal.cli.local_state import BUS_FILE

SWAPPED = {"finance-payments-authorised.yaml": "https://recon.finance.example.com/events",
           "marketing-de-web-baskets.yaml": "https://hooks.campaigns.example.com/eventdeck/baskets"}


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return workspace(tmp_path_factory.mktemp("subscriptions"))


def _entries(ws: Workspace) -> list[dict[str, Any]]:
    return [json.loads(line)["entry"] for line in ws.sealed]


def _copy(folder: Path, urls: dict[str, str]) -> Path:
    """The example requests, with the HTTP consumers' endpoints replaced by ``urls`` (file name -> local URL)."""
    shutil.copytree(ROOT / "subscriptions", folder)
    for name, url in urls.items():
        text = (folder / name).read_text(encoding="utf-8")
        assert SWAPPED[name] in text
        (folder / name).write_text(text.replace(SWAPPED[name], url), encoding="utf-8")
    return folder


def test_the_example_subscriptions_deliver_on_the_local_bus(ws: Workspace, tmp_path: Path) -> None:
    with recording_endpoint() as finance, recording_endpoint() as marketing:
        folder = _copy(tmp_path / "subscriptions", {"finance-payments-authorised.yaml": finance.url,
                                                    "marketing-de-web-baskets.yaml": marketing.url})
        state = tmp_path / "state"
        result = run("run", *ws.contract_args, "--state", state, "--format", "json", "--no-consumer",
                     "--subscriptions", folder)
        assert result.code == 0, result.err
        summary = json.loads(result.out)
        finance_got, marketing_got = list(finance.received), list(marketing.received)
    entries = _entries(ws)
    authorised = Counter(e["DetailType"] for e in entries if e["DetailType"].startswith("Payment.Authorised."))
    assert set(authorised) == {"Payment.Authorised.Ecom", "Payment.Authorised.Pos"}
    assert Counter(e["detail-type"] for e in finance_got) == authorised
    assert all(isinstance(e["detail"]["data"], str) for e in finance_got)  # sealed: the token travels as is
    created = [json.loads(e["Detail"])["data"] for e in entries if e["DetailType"] == "Basket.Created.Eu"]
    assert {(d["market"], d["channel"]) for d in created} >= {("DE", "web"), ("FR", "app")}  # the filter has work
    wanted = [d for d in created if d["market"] == "DE" and d["channel"] == "web"]
    assert [e["detail"]["data"] for e in marketing_got] == wanted
    assert summary["delivered"] == len(finance_got) + len(marketing_got) and summary["dead_lettered"] == 0
    # the AWS-bus requests have no local target: skipped, each with a note naming its file
    assert "crm-basket-reminders.yaml: crm subscribes with the bus" in result.err
    assert "analytics-baskets.yaml: analytics subscribes with the bus analytics-ingest" in result.err
    with LocalBus.open(state / BUS_FILE) as bus:
        names = {rule.name for rule in bus.rules()}
    assert {"sub-finance-payments-authorised", "sub-marketing-de-web-baskets"} <= names


def test_a_removed_request_loses_its_rule_on_the_next_run(ws: Workspace, tmp_path: Path) -> None:
    with recording_endpoint() as finance, recording_endpoint() as marketing:
        folder = _copy(tmp_path / "subscriptions", {"finance-payments-authorised.yaml": finance.url,
                                                    "marketing-de-web-baskets.yaml": marketing.url})
        state = tmp_path / "state"
        assert run("run", *ws.contract_args, "--state", state, "--no-consumer", "--subscriptions", folder).code == 0
        (folder / "marketing-de-web-baskets.yaml").unlink()
        before = len(marketing.received)
        assert run("run", *ws.contract_args, "--state", state, "--no-consumer", "--subscriptions", folder).code == 0
        assert len(marketing.received) == before and before > 0
    with LocalBus.open(state / BUS_FILE) as bus:
        assert "sub-marketing-de-web-baskets" not in {rule.name for rule in bus.rules()}


def test_a_broken_request_stops_the_run_before_anything_is_written(ws: Workspace, tmp_path: Path) -> None:
    folder = _copy(tmp_path / "subscriptions", {})
    broken = folder / "finance-payments-authorised.yaml"
    broken.write_text(broken.read_text(encoding="utf-8").replace("Payment.Authorised.*", "Payment.Authorized.*"),
                      encoding="utf-8")
    state = tmp_path / "state"
    result = run("run", *ws.contract_args, "--state", state, "--subscriptions", folder)
    assert result.code == 1 and "Traceback" not in result.err
    assert "finance-payments-authorised.yaml:8:3 (#/subscribe/hierarchy): no event sits under " \
           "'Payment.Authorized.*'" in result.err and "did you mean Payment.Authorised.*" in result.err
    assert not state.exists()
    missing = run("run", *ws.contract_args, "--state", state, "--subscriptions", tmp_path / "nowhere")
    assert missing.code == 1 and "nowhere: no such folder of subscription requests" in missing.err
