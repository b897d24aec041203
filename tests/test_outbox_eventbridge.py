"""The outbox works with any Bus: the same outbox publishing through the EventBridge adapter to moto in server
mode over HTTP on 127.0.0.1 (a rule, an SQS target), through an outage of the endpoint and back."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

from outbox_child import entries

import moto_server
from pipeline.bus.eventbridge import EventBridgeBus, eventbridge_client
from pipeline.bus.eventbridge import RetryPolicy as EventBridgeRetry
from pipeline.outbox import Outbox

moto_endpoint = moto_server.moto_endpoint
SOURCE = "com.example.outbox"


def _queue_details(sqs: Any, queue_url: str) -> list[dict[str, Any]]:
    details = []
    while True:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0) \
            .get("Messages", [])
        if not messages:
            return details
        for message in messages:
            details.append(json.loads(message["Body"])["detail"])
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_outbox_publishes_through_eventbridge_and_keeps_entries_through_an_outage(tmp_path: Path,
                                                                                   moto_endpoint: str) -> None:
    events, sqs = moto_server.client("events", moto_endpoint), moto_server.client("sqs", moto_endpoint)
    bus_name = moto_server.unique_name("outbox-bus")
    events.create_event_bus(Name=bus_name)
    queue_url = sqs.create_queue(QueueName=moto_server.unique_name("outbox-q"))["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="all", EventBusName=bus_name, EventPattern=json.dumps({"source": [SOURCE]}))
    events.put_targets(Rule="all", EventBusName=bus_name, Targets=[{"Id": "q", "Arn": arn}])

    def adapter(endpoint: str) -> EventBridgeBus:
        client = eventbridge_client(endpoint_url=endpoint, region_name=moto_server.REGION,
                                    session=_session(), connect_timeout=1, read_timeout=5)
        return EventBridgeBus(client, event_bus_name=bus_name, retry=EventBridgeRetry(max_attempts=2),
                              sleep=lambda seconds: None)

    with Outbox.open(tmp_path / "outbox.db") as outbox:
        outbox.add(entries(23))
        down = outbox.publish(adapter(f"http://127.0.0.1:{_closed_port()}"))
        assert down.unavailable is not None and down.sent == 0
        assert outbox.stats().pending == 23
        up = outbox.publish(adapter(moto_endpoint))
        assert (up.sent, up.failed, up.unavailable) == (23, 0, None)
    details = _queue_details(sqs, queue_url)
    assert sorted(d["id"] for d in details) == [f"01JOUTBOX{n:017d}" for n in range(23)]


def _session() -> Any:
    import boto3

    return boto3.session.Session(aws_access_key_id=moto_server.ACCESS_KEY_ID,
                                 aws_secret_access_key=moto_server.SECRET_ACCESS_KEY,
                                 region_name=moto_server.REGION)
