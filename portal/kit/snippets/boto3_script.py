"""A boto3 script: the consumer's queue (with a DLQ) and the rule with ``put_rule`` + ``put_targets`` — the SQS
subscription of the templates, for accounts managed by scripts. It uses the ambient AWS configuration
(profile, region, ``AWS_ENDPOINT_URL``)."""

from __future__ import annotations

from portal.kit.snippets.quoting import py
from portal.kit.snippets.snippet import Snippet
from portal.kit.snippets.spec import SnippetSpec

__all__ = ["boto3_script"]

_BODY = '''

def subscribe() -> str:
    """Create (or update) the queue, its DLQ and the rule; return the queue URL. Safe to run again."""
    sqs = boto3.client("sqs", region_name=REGION)
    events = boto3.client("events", region_name=REGION)
    dlq_url = sqs.create_queue(QueueName=DLQ_NAME, Attributes={"MessageRetentionPeriod": "1209600"})["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    queue_url = sqs.create_queue(QueueName=QUEUE_NAME, Attributes={
        "VisibilityTimeout": "60",
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": MAX_RECEIVE_COUNT}),
    })["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    rule_arn = events.put_rule(Name=RULE_NAME, EventBusName=BUS_NAME, EventPattern=json.dumps(EVENT_PATTERN),
                               State="ENABLED")["RuleArn"]
    for url, arn in ((queue_url, queue_arn), (dlq_url, dlq_arn)):  # only this rule may send to either queue
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
                           "Action": "sqs:SendMessage", "Resource": arn,
                           "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}}}],
        })})
    failed = events.put_targets(Rule=RULE_NAME, EventBusName=BUS_NAME, Targets=[{
        "Id": "queue",
        "Arn": queue_arn,
        "RetryPolicy": {"MaximumRetryAttempts": MAX_RETRY_ATTEMPTS, "MaximumEventAgeInSeconds": MAX_EVENT_AGE},
        "DeadLetterConfig": {"Arn": dlq_arn},
    }])
    if failed.get("FailedEntryCount"):
        raise RuntimeError(f"put_targets failed: {failed['FailedEntries']}")
    return queue_url
'''

_CHECK = '''

def check(queue_url: str) -> None:
    """Smoke test: put the example event on the bus and wait until the queue receives it (then delete only it)."""
    sqs = boto3.client("sqs", region_name=REGION)
    events = boto3.client("events", region_name=REGION)
    put = events.put_events(Entries=[{**EXAMPLE_ENTRY, "EventBusName": BUS_NAME}])
    if put["FailedEntryCount"]:
        raise SystemExit(f"put_events failed: {put['Entries']}")
    expected = json.loads(EXAMPLE_ENTRY["Detail"])
    for _ in range(10):
        got = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=2)
        for message in got.get("Messages", []):
            if json.loads(message["Body"]).get("detail") == expected:
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
                print("the example event was delivered")
                return
            sqs.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"],
                                          VisibilityTimeout=0)  # someone else's: leave it for the consumer
    raise SystemExit("the example event was not delivered to the queue within 20 seconds")
'''

_MAIN = '''

if __name__ == "__main__":
    url = subscribe()
    print(url)
'''

_MAIN_CHECK = '''

if __name__ == "__main__":
    url = subscribe()
    print(url)
    if "--check" in sys.argv[1:]:
        check(url)
'''


def boto3_script(spec: SnippetSpec) -> Snippet:
    """``subscribe.py``: run it in the consumer account (on the bus the producer forwards to). With the spec's
    ``example_entry``, ``python subscribe.py --check`` also puts that event and waits for the queue to get it."""
    names = "\n".join(f"#   {py(n)}" for n in spec.event_names)
    head = f'''"""Subscribe an SQS queue (with a DLQ and a retry policy) to events on {spec.consumer_bus_name}."""
# Events:
{names}

import json
{"import sys" + chr(10) if spec.example_entry is not None else ""}from typing import Any

import boto3

REGION = {py(spec.region)}
BUS_NAME = {py(spec.consumer_bus_name)}
RULE_NAME = {py(spec.rule_name)}
EVENT_PATTERN: dict[str, Any] = {py(dict(spec.event_pattern))}
QUEUE_NAME = {py(spec.name("queue"))}
DLQ_NAME = {py(spec.name("dlq"))}
MAX_RECEIVE_COUNT = {spec.max_receive_count}
MAX_RETRY_ATTEMPTS = {spec.max_retry_attempts}
MAX_EVENT_AGE = {spec.max_event_age_seconds}
'''
    if spec.example_entry is None:
        return Snippet("put_rule + put_targets (boto3)", "python", "subscribe.py", head + _BODY + _MAIN)
    entry = {k: v for k, v in dict(spec.example_entry).items() if k != "EventBusName"}
    example = f"EXAMPLE_ENTRY: dict[str, Any] = {py(entry)}\n"
    return Snippet("put_rule + put_targets (boto3)", "python", "subscribe.py",
                   head + example + _BODY + _CHECK + _MAIN_CHECK)
