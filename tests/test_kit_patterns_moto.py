"""The kit's patterns delivered for real: moto in server mode on 127.0.0.1, one rule per pattern (every hierarchy
level of the contract, and content-filtered ones) with an SQS target, ``put_events`` of every contract example as the
producer would put it; each queue must receive exactly the examples the pattern engine says the pattern matches.
moto's ``TestEventPattern`` is a stub and is not used; none of moto's known matcher gaps
(``docs/reference/patterns.md``) applies to these patterns (``source``, ``detail-type`` prefixes, string values)."""

from __future__ import annotations

import json
from typing import Any

import pytest

import moto_server
from conftest import EXAMPLES
from pipeline.contract import load_catalogue
from pipeline.patterns import compile_pattern
from portal.kit.examples import example_events
from portal.kit.filters import filter_pattern, merged
from portal.kit.patterns import KitPattern, all_levels, level_pattern

moto_endpoint = moto_server.moto_endpoint


def _patterns(catalogue: Any, examples: Any) -> list[tuple[str, dict[str, Any]]]:
    kits: list[KitPattern] = [level_pattern(catalogue, label, examples) for label in all_levels(catalogue)]
    found = [(kit.label, kit.pattern) for kit in kits]
    for kit in kits:  # each offered filter's first value, on the levels that offer filters
        for field in kit.filters.fields:
            found.append((f"{kit.label} {field.name}={field.values[0]}",
                          merged(kit.pattern, filter_pattern(field, [field.values[0]]))))
    return found


@pytest.mark.slow
def test_every_kit_pattern_delivers_exactly_its_events_through_moto(moto_endpoint: str) -> None:
    catalogue = load_catalogue([EXAMPLES])
    examples = example_events(catalogue)
    patterns = _patterns(catalogue, examples)
    assert any("=" in label for label, _ in patterns)
    sqs = moto_server.client("sqs", moto_endpoint)
    events = moto_server.client("events", moto_endpoint)
    bus = moto_server.unique_name("kit")
    events.create_event_bus(Name=bus)
    queues = []
    for number, (_, pattern) in enumerate(patterns):
        url = sqs.create_queue(QueueName=moto_server.unique_name(f"kit-{number}"))["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        events.put_rule(Name=f"kit-{number}", EventBusName=bus, EventPattern=json.dumps(pattern))
        events.put_targets(Rule=f"kit-{number}", EventBusName=bus, Targets=[{"Id": "q", "Arn": arn}])
        queues.append(url)
    entries = [example.entry(bus) for example in examples]
    for start in range(0, len(entries), 10):
        answer = events.put_events(Entries=entries[start:start + 10])
        assert answer["FailedEntryCount"] == 0, answer

    by_id = {example.event["detail"]["id"]: example for example in examples}
    assert len(by_id) == len(examples)  # each delivery names its example
    delivered_any = 0
    for (label, pattern), url in zip(patterns, queues, strict=True):
        received = set()
        while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
            for message in messages:
                body = json.loads(message["Body"])
                received.add(body["detail"]["id"])
                assert body["detail-type"] == by_id[body["detail"]["id"]].event["detail-type"]
        engine = compile_pattern(pattern)
        expected = {eid for eid, example in by_id.items() if engine.matches(example.event)}
        assert expected, f"{label}: the engine matches no example"
        assert received == expected, (label, sorted(received ^ expected))
        delivered_any += len(received)
    assert delivered_any > len(examples)  # the hierarchy levels deliver most examples more than once
