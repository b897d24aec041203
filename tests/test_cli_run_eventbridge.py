"""``eventdeck run`` on Amazon EventBridge: the same pipeline and outbox, the EventBridge adapter instead of the
local bus — against moto in server mode over HTTP on 127.0.0.1 (buses, a rule per bus, an SQS target)."""

from __future__ import annotations

import contextlib
import json
import socket
from pathlib import Path
from typing import Any

import pytest
from cli_runner import run

import moto_server
from conftest import EXAMPLES, ROOT
from pipeline.contract import ContractLoader

moto_endpoint = moto_server.moto_endpoint


@pytest.fixture(autouse=True)
def _credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    # boto3's own credential chain reads these (moto accepts any); the clients are real, over HTTP.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", moto_server.ACCESS_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", moto_server.SECRET_ACCESS_KEY)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL_EVENTBRIDGE", raising=False)


def _subscribe(endpoint: str) -> tuple[Any, str]:
    """Every example bus, one rule on each sending everything of its source to one SQS queue."""
    events, sqs = moto_server.client("events", endpoint), moto_server.client("sqs", endpoint)
    queue_url = sqs.create_queue(QueueName=moto_server.unique_name("run-eb"))["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    rule = moto_server.unique_name("run-eb-rule")
    for document in ContractLoader().load([EXAMPLES]).documents:
        assert document.eventbridge is not None
        with contextlib.suppress(events.exceptions.ResourceAlreadyExistsException):  # another test made it
            events.create_event_bus(Name=document.eventbridge.bus)
        events.put_rule(Name=rule, EventBusName=document.eventbridge.bus,
                        EventPattern=json.dumps({"source": [document.eventbridge.source]}))
        events.put_targets(Rule=rule, EventBusName=document.eventbridge.bus, Targets=[{"Id": "q", "Arn": arn}])
    return sqs, queue_url


def _received(sqs: Any, queue_url: str) -> list[dict[str, Any]]:
    got: list[dict[str, Any]] = []
    while True:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return got
        got.extend(json.loads(m["Body"]) for m in messages)
        sqs.delete_message_batch(QueueUrl=queue_url, Entries=[
            {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(messages)])


def test_run_publishes_every_sample_onto_eventbridge_when_an_endpoint_is_configured(tmp_path: Path,
                                                                                  moto_endpoint: str) -> None:
    sqs, queue_url = _subscribe(moto_endpoint)
    result = run("run", "--contract", EXAMPLES, "-f", ROOT / "mkdocs.yml", "--state", tmp_path / "state",
                 "--endpoint-url", moto_endpoint, "--region", moto_server.REGION, "--format", "json")
    assert result.code == 0, result.output
    summary = json.loads(result.out)
    assert summary["bus"] == f"eventbridge {moto_endpoint}" and summary["failed"] == 0
    assert summary["published"] > 0 and summary["delivered"] == 0  # delivery is EventBridge's own
    received = _received(sqs, queue_url)
    assert len(received) == summary["published"]
    catalogue = ContractLoader().load([EXAMPLES])
    names = {event.name: event for event in catalogue.events}
    for event in received:  # what EventBridge delivered is the producer's entry: type, source, CloudEvent detail
        published = names[event["detail-type"]]
        assert event["source"] == next(d.eventbridge.source for d in catalogue.documents
                                       if d.id == published.document_id)
        assert event["detail"]["type"] == published.name and event["detail"]["specversion"] == "1.0"
    assert not (tmp_path / "state" / "bus.sqlite").exists()  # no local bus was made


def test_an_unreachable_endpoint_keeps_every_entry_in_the_outbox_and_exits_1(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    result = run("run", "--contract", EXAMPLES, "-f", ROOT / "mkdocs.yml", "--state", tmp_path / "state",
                 "--bus", "eventbridge", "--endpoint-url", closed, "--region", moto_server.REGION,
                 "--format", "json")
    assert result.code == 1 and "Traceback" not in result.output
    summary = json.loads(result.out)
    assert summary["published"] == 0 and summary["failed_by_stage"].get("publish", 0) > 0
    assert "publish failed" in result.err


def test_local_delivery_options_are_refused_on_eventbridge(tmp_path: Path) -> None:
    result = run("run", "--bus", "eventbridge", "--target", "http://127.0.0.1:9/x", "--state", tmp_path / "s")
    assert result.code == 2 and "configure the local bus" in result.err
