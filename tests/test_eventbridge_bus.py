"""The EventBridge adapter against moto in server mode over HTTP, with a fault-injecting proxy in front of it.

Every entry that is accepted is checked on the other side too: a rule on the bus sends what it matches to an SQS
queue, so "accepted once" means "in the queue once". Back-off is asserted on the injected sleep's arguments.
"""

from __future__ import annotations

import json
import socket
from typing import Any

import boto3
import pytest

import fault_proxy as faults
import moto_server
from pipeline.bus import Accepted, Bus, BusUnavailable, Rejected, entry_size
from pipeline.bus.eventbridge import EventBridgeBus, RetryPolicy, eventbridge_client

moto_endpoint = moto_server.moto_endpoint
fault_proxy_server = faults.fault_proxy_server
fault_proxy = faults.fault_proxy

SOURCE = "com.example.bus-tests"


def session() -> Any:
    return boto3.session.Session(aws_access_key_id=moto_server.ACCESS_KEY_ID,
                                 aws_secret_access_key=moto_server.SECRET_ACCESS_KEY,
                                 region_name=moto_server.REGION)


class Sleeps:
    """The injected sleep: records what it was asked to wait, waits for nothing."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture(scope="module")
def wiring(moto_endpoint: str) -> dict[str, Any]:
    """A bus whose rule sends every event of SOURCE to an SQS queue (one for the module: moto is slow to set up)."""
    events, sqs = moto_server.client("events", moto_endpoint), moto_server.client("sqs", moto_endpoint)
    bus = moto_server.unique_name("bus")
    events.create_event_bus(Name=bus)
    queue_url = sqs.create_queue(QueueName=moto_server.unique_name("q"))["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="all", EventBusName=bus, EventPattern=json.dumps({"source": [SOURCE]}))
    events.put_targets(Rule="all", EventBusName=bus, Targets=[{"Id": "q", "Arn": arn}])
    return {"bus": bus, "sqs": sqs, "queue_url": queue_url}


@pytest.fixture
def wired(wiring: dict[str, Any]) -> dict[str, Any]:
    """The module's bus and queue, the queue emptied of what earlier tests left."""
    delivered(wiring)
    return wiring


def delivered(wired: dict[str, Any]) -> list[dict[str, Any]]:
    """The details of every event the rule delivered to the queue (drained)."""
    details = []
    while True:
        messages = wired["sqs"].receive_message(QueueUrl=wired["queue_url"], MaxNumberOfMessages=10,
                                                WaitTimeSeconds=0).get("Messages", [])
        if not messages:
            return details
        for message in messages:
            details.append(json.loads(message["Body"])["detail"])
            wired["sqs"].delete_message(QueueUrl=wired["queue_url"], ReceiptHandle=message["ReceiptHandle"])


def entries(wired: dict[str, Any], count: int, *, pad: int = 0) -> list[dict[str, Any]]:
    return [{"Source": SOURCE, "DetailType": "Test.Event", "EventBusName": wired["bus"],
             "Detail": json.dumps({"n": n, "pad": "x" * pad})} for n in range(count)]


def bus_via(proxy: faults.FaultProxy, **options: Any) -> tuple[EventBridgeBus, Sleeps]:
    sleeps = Sleeps()
    options.setdefault("random", lambda: 0.5)
    client = eventbridge_client(endpoint_url=proxy.url, session=session())
    return EventBridgeBus(client, sleep=sleeps, **options), sleeps


def numbers(details: list[dict[str, Any]]) -> list[int]:
    return sorted(d["n"] for d in details)


def test_the_adapter_is_a_bus() -> None:
    client = eventbridge_client(endpoint_url="http://127.0.0.1:9", session=session())
    assert isinstance(EventBridgeBus(client), Bus)


def test_entries_go_in_calls_of_at_most_ten_and_each_arrives_once(fault_proxy, wired) -> None:
    bus, sleeps = bus_via(fault_proxy)
    results = bus.put_events(entries(wired, 25))
    assert [len(call) for call in fault_proxy.calls] == [10, 10, 5]
    assert all(isinstance(r, Accepted) for r in results)
    assert len({r.event_id for r in results}) == 25  # type: ignore[union-attr]
    assert numbers(delivered(wired)) == list(range(25))
    assert sleeps.calls == []


def test_the_entries_of_one_call_stay_within_the_request_size_limit(fault_proxy, wired) -> None:
    batch = entries(wired, 5, pad=1000)
    size = entry_size(batch[0])
    bus, _ = bus_via(fault_proxy, max_entry_bytes=size, max_request_bytes=2 * size + 10)
    results = bus.put_events(batch)
    assert [len(call) for call in fault_proxy.calls] == [2, 2, 1]
    assert all(isinstance(r, Accepted) for r in results)
    assert numbers(delivered(wired)) == list(range(5))


def test_an_entry_over_the_size_limit_is_rejected_without_a_call_and_its_neighbours_go(fault_proxy, wired) -> None:
    batch = entries(wired, 3, pad=20)
    limit = entry_size(batch[0])
    # As many characters as its neighbours, but "é" is two bytes in UTF-8, which is what EventBridge counts.
    batch[1] = {**batch[1], "Detail": json.dumps({"n": 1, "pad": "é" * 20}, ensure_ascii=False)}
    assert len(batch[1]["Detail"]) == len(batch[0]["Detail"]) and entry_size(batch[1]) == limit + 20
    bus, _ = bus_via(fault_proxy, max_entry_bytes=limit, max_request_bytes=3 * limit)
    first, second, third = bus.put_events(batch)
    assert isinstance(first, Accepted) and isinstance(third, Accepted)
    assert isinstance(second, Rejected) and second.code == "EntryTooLarge" and not second.retryable
    assert f"{entry_size(batch[1]):,} bytes" in second.message and f"{limit:,}" in second.message
    assert [len(call) for call in fault_proxy.calls] == [2]
    assert numbers(delivered(wired)) == [0, 2]


def test_the_default_limit_is_eventbridges_256_kib(fault_proxy, wired) -> None:
    entry = entries(wired, 1)[0]
    overhead = entry_size(entry) - len(entry["Detail"])
    too_big = {**entry, "Detail": json.dumps({"n": 0, "pad": "x" * (256 * 1024 - overhead)})}
    bus, _ = bus_via(fault_proxy)
    (result,) = bus.put_events([too_big])
    assert isinstance(result, Rejected) and result.code == "EntryTooLarge"
    assert fault_proxy.calls == []


def test_only_the_entries_that_failed_retryably_are_resent_once(fault_proxy, wired) -> None:
    fault_proxy.fail_entries({2: "ThrottlingException", 7: "InternalException"})
    bus, sleeps = bus_via(fault_proxy)
    batch = entries(wired, 10)
    results = bus.put_events(batch)
    assert all(isinstance(r, Accepted) for r in results)
    assert len(fault_proxy.calls) == 2
    assert [json.loads(e["Detail"])["n"] for e in fault_proxy.calls[1]] == [2, 7]
    assert numbers(delivered(wired)) == list(range(10))  # each exactly once
    assert sleeps.calls == [0.5 * 0.1]


def test_internal_failure_is_retried_and_a_permanent_error_is_not(fault_proxy, wired) -> None:
    fault_proxy.fail_entries({0: "InternalFailure", 1: "MalformedDetail", 2: "AccessDeniedException"})
    bus, _ = bus_via(fault_proxy)
    first, second, third, fourth = bus.put_events(entries(wired, 4))
    assert isinstance(first, Accepted) and isinstance(fourth, Accepted)
    assert isinstance(second, Rejected) and (second.code, second.retryable) == ("MalformedDetail", False)
    assert isinstance(third, Rejected) and third.code == "AccessDeniedException"
    assert [[json.loads(e["Detail"])["n"] for e in call] for call in fault_proxy.calls] == [[0, 1, 2, 3], [0]]
    assert numbers(delivered(wired)) == [0, 3]


def test_a_detail_that_is_not_json_is_refused_by_eventbridge_per_entry(fault_proxy, wired) -> None:
    batch = entries(wired, 2)
    batch[0] = {**batch[0], "Detail": "not json"}
    bus, sleeps = bus_via(fault_proxy)
    bad, good = bus.put_events(batch)
    assert isinstance(bad, Rejected) and bad.code == "MalformedDetail" and not bad.retryable
    assert isinstance(good, Accepted)
    assert len(fault_proxy.calls) == 1 and sleeps.calls == []


def test_a_whole_call_answered_500_is_retried_after_a_back_off(fault_proxy, wired) -> None:
    fault_proxy.fail_call(500, "InternalException")
    bus, sleeps = bus_via(fault_proxy)
    results = bus.put_events(entries(wired, 3))
    assert all(isinstance(r, Accepted) for r in results)
    assert [len(call) for call in fault_proxy.calls] == [3, 3]  # boto3 itself retried nothing
    assert sleeps.calls == [0.5 * 0.1]
    assert numbers(delivered(wired)) == [0, 1, 2]


def test_throttling_backs_off_exponentially_with_a_cap_then_reports_undeliverable(fault_proxy, wired) -> None:
    for _ in range(5):
        fault_proxy.fail_call(400, "ThrottlingException", "Rate exceeded")
    bus, sleeps = bus_via(fault_proxy, retry=RetryPolicy(max_attempts=5, base_delay=0.2, max_delay=1.0),
                          random=lambda: 1.0)
    results = bus.put_events(entries(wired, 2))
    assert len(fault_proxy.calls) == 5  # one send per attempt: no hidden boto3 retries multiplying ours
    assert sleeps.calls == [0.2, 0.4, 0.8, 1.0]  # doubling, capped at max_delay (random() = 1.0: the cap itself)
    for result in results:
        assert isinstance(result, Rejected) and result.code == "Undeliverable" and result.retryable
        assert "ThrottlingException" in result.message and "5 attempt" in result.message
    assert delivered(wired) == []


def test_the_jitter_scales_each_sleep_by_the_random_draw(fault_proxy, wired) -> None:
    fault_proxy.fail_entries({0: "ThrottlingException"})
    fault_proxy.fail_entries({0: "ThrottlingException"})
    draws = iter([0.25, 0.75])
    bus, sleeps = bus_via(fault_proxy, random=lambda: next(draws))
    (result,) = bus.put_events(entries(wired, 1))
    assert isinstance(result, Accepted)
    assert sleeps.calls == [0.25 * 0.1, 0.75 * 0.2]


def test_a_missing_bus_is_a_permanent_error_for_its_entries(fault_proxy, wired) -> None:
    batch = [{**e, "EventBusName": moto_server.unique_name("no-such-bus")} for e in entries(wired, 2)]
    bus, sleeps = bus_via(fault_proxy)
    results = bus.put_events(batch)
    for result in results:
        assert isinstance(result, Rejected) and result.code == "ResourceNotFoundException" and not result.retryable
    assert len(fault_proxy.calls) == 1 and sleeps.calls == []


def test_the_deployment_bus_overrides_the_entries_bus(fault_proxy, wired) -> None:
    batch = [{**e, "EventBusName": "the-contracts-logical-bus"} for e in entries(wired, 2)]
    bus, _ = bus_via(fault_proxy, event_bus_name=wired["bus"])
    assert all(isinstance(r, Accepted) for r in bus.put_events(batch))
    assert {e["EventBusName"] for e in fault_proxy.calls[0]} == {wired["bus"]}
    assert numbers(delivered(wired)) == [0, 1]


def test_entries_boto3_would_refuse_are_rejected_locally_and_sink_no_batch(fault_proxy, wired) -> None:
    good = {**entries(wired, 1)[0], "Time": "2026-03-14T10:14:41.000Z"}
    batch: list[Any] = [{**good, "Detial": "typo"}, {**good, "Detail": {"n": 1}}, "not an entry",
                        {**good, "Resources": "arn:not-a-list"}, {**good, "Time": "yesterday"},
                        {**good, "Detail": ["x" * 1000] * 1000}, good]
    bus, _ = bus_via(fault_proxy)
    *refused, accepted = bus.put_events(batch)
    assert isinstance(accepted, Accepted)
    assert [r.code for r in refused] == ["InvalidEntry"] * 6  # type: ignore[union-attr]
    assert "Detial" in refused[0].message and "Entries[0].Time" in refused[4].message  # type: ignore[union-attr]
    assert all(len(r.message) < 400 and "\n" not in r.message for r in refused)  # type: ignore[union-attr]
    assert len(fault_proxy.calls) == 1 and len(fault_proxy.calls[0]) == 1
    assert numbers(delivered(wired)) == [0]


def test_no_entries_no_call(fault_proxy) -> None:
    bus, _ = bus_via(fault_proxy)
    assert bus.put_events([]) == []
    assert fault_proxy.calls == []


def test_an_unreachable_endpoint_is_bus_unavailable_after_the_retries() -> None:
    with socket.socket() as probe:  # a loopback port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sleeps = Sleeps()
    client = eventbridge_client(endpoint_url=f"http://127.0.0.1:{port}", session=session(), connect_timeout=1)
    bus = EventBridgeBus(client, retry=RetryPolicy(max_attempts=3), sleep=sleeps, random=lambda: 1.0)
    with pytest.raises(BusUnavailable, match="could not be reached after 3 attempt"):
        bus.put_events([{"Source": SOURCE, "DetailType": "T", "Detail": "{}"}])
    assert sleeps.calls == [0.1, 0.2]


def test_the_retry_policy_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError, match="negative"):
        RetryPolicy(base_delay=-1)
