"""A boto3 script: the consumer's queue (with a DLQ) and the rule with ``put_rule`` + ``put_targets`` — the SQS
subscription of the templates, for accounts managed by scripts. It uses the ambient AWS configuration
(profile, region, ``AWS_ENDPOINT_URL``)."""

from __future__ import annotations

from portal.kit.snippets import http
from portal.kit.snippets.quoting import py
from portal.kit.snippets.snippet import Snippet
from portal.kit.snippets.spec import Auth, SnippetError, SnippetSpec

__all__ = ["api_destination_script", "boto3_script", "forward_script"]

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


_ROLE = '''

def _events_role(iam: Any, name: str, action: str, resource: str) -> str:
    """The role EventBridge assumes to call ``action`` on ``resource``; created or updated, its ARN returned."""
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                     "Principal": {"Service": "events.amazonaws.com"}}]}
    try:
        arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    except iam.exceptions.EntityAlreadyExistsException:
        arn = iam.get_role(RoleName=name)["Role"]["Arn"]
    iam.put_role_policy(RoleName=name, PolicyName=action.replace(":", "-"), PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action, "Resource": resource}]}))
    return str(arn)


def _dead_letters(sqs: Any, rule_arn: str) -> str:
    """The DLQ for what EventBridge cannot deliver after its retries; only this rule may write to it."""
    url = sqs.create_queue(QueueName=DLQ_NAME, Attributes={"MessageRetentionPeriod": "1209600"})["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
                       "Action": "sqs:SendMessage", "Resource": arn,
                       "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}}}],
    })})
    return str(arn)


def _put_target(events: Any, bus: str, target: dict[str, Any]) -> None:
    failed = events.put_targets(Rule=RULE_NAME, EventBusName=bus, Targets=[{
        **target,
        "RetryPolicy": {"MaximumRetryAttempts": MAX_RETRY_ATTEMPTS, "MaximumEventAgeInSeconds": MAX_EVENT_AGE},
    }])
    if failed.get("FailedEntryCount"):
        raise RuntimeError(f"put_targets failed: {failed['FailedEntries']}")
'''

_FORWARD = '''

def consumer_side() -> None:
    """In the consumer account: let the producer account put events on the consumer's bus."""
    events = boto3.client("events", region_name=REGION)
    events.put_permission(EventBusName=CONSUMER_BUS_NAME, Action="events:PutEvents", Principal=PRODUCER_ACCOUNT,
                          StatementId=STATEMENT_ID)


def producer_side() -> str:
    """In the producer account: the forwarding rule on the producer's bus, its role, retries and DLQ."""
    events = boto3.client("events", region_name=REGION)
    role_arn = _events_role(boto3.client("iam"), ROLE_NAME, "events:PutEvents", CONSUMER_BUS_ARN)
    rule_arn = events.put_rule(Name=RULE_NAME, EventBusName=PRODUCER_BUS_NAME,
                               EventPattern=json.dumps(EVENT_PATTERN), State="ENABLED")["RuleArn"]
    dlq_arn = _dead_letters(boto3.client("sqs", region_name=REGION), rule_arn)
    _put_target(events, PRODUCER_BUS_NAME, {"Id": "consumer-bus", "Arn": CONSUMER_BUS_ARN, "RoleArn": role_arn,
                                            "DeadLetterConfig": {"Arn": dlq_arn}})
    return str(rule_arn)


if __name__ == "__main__":
    side = sys.argv[1] if len(sys.argv) == 2 else ""
    if side == "consumer":
        consumer_side()
    elif side == "producer":
        print(producer_side())
    else:
        raise SystemExit("usage: forward.py consumer  (in the consumer account, first)\\n"
                         "       forward.py producer  (in the producer account)")
'''

_DESTINATION = '''

def subscribe(secrets: dict[str, str]) -> str:
    """Connection (or its update), rate-limited destination, invoke role, DLQ, rule and target; the rule ARN."""
    events = boto3.client("events", region_name=REGION)
    auth = _with_secrets(AUTH_PARAMETERS, secrets)
    try:
        connection_arn = events.create_connection(Name=CONNECTION_NAME, AuthorizationType=AUTHORIZATION_TYPE,
                                                  AuthParameters=auth)["ConnectionArn"]
    except events.exceptions.ResourceAlreadyExistsException:
        connection_arn = events.update_connection(Name=CONNECTION_NAME, AuthorizationType=AUTHORIZATION_TYPE,
                                                  AuthParameters=auth)["ConnectionArn"]
    settings = {"ConnectionArn": connection_arn, "InvocationEndpoint": ENDPOINT, "HttpMethod": "POST",
                "InvocationRateLimitPerSecond": RATE_PER_SECOND}
    try:
        destination_arn = events.create_api_destination(Name=DESTINATION_NAME, **settings)["ApiDestinationArn"]
    except events.exceptions.ResourceAlreadyExistsException:
        destination_arn = events.update_api_destination(Name=DESTINATION_NAME, **settings)["ApiDestinationArn"]
    role_arn = _events_role(boto3.client("iam"), ROLE_NAME, "events:InvokeApiDestination", destination_arn)
    rule_arn = events.put_rule(Name=RULE_NAME, EventBusName=BUS_NAME, EventPattern=json.dumps(EVENT_PATTERN),
                               State="ENABLED")["RuleArn"]
    dlq_arn = _dead_letters(boto3.client("sqs", region_name=REGION), rule_arn)
    _put_target(events, BUS_NAME, {"Id": "http-endpoint", "Arn": destination_arn, "RoleArn": role_arn,
                                   "DeadLetterConfig": {"Arn": dlq_arn}, **TARGET_INPUT})
    return str(rule_arn)


def _with_secrets(value: Any, secrets: dict[str, str]) -> Any:
    """AUTH_PARAMETERS with each "<NAME>" placeholder replaced by the secret of that name."""
    if isinstance(value, dict):
        return {k: _with_secrets(v, secrets) for k, v in value.items()}
    if isinstance(value, str) and value in SECRET_PLACEHOLDERS:
        return secrets[SECRET_PLACEHOLDERS[value]]
    return value


if __name__ == "__main__":
    # The secrets come from the environment (never from this file): e.g. API_KEY_VALUE=... python this.py
    missing = [name for name in SECRET_PLACEHOLDERS.values() if not os.environ.get(name)]
    if missing:
        raise SystemExit(f"set {', '.join(missing)} in the environment")
    print(subscribe({name: os.environ[name] for name in SECRET_PLACEHOLDERS.values()}))
'''


def _constants(spec: SnippetSpec, what: str, imports: str, values: dict[str, object]) -> str:
    names = "\n".join(f"#   {py(n)}" for n in spec.event_names)
    lines = "".join(f"{name} = {value}\n" for name, value in values.items())
    return f'''"""{what}"""
# Events:
{names}

import json
{imports}from typing import Any

import boto3

EVENT_PATTERN: dict[str, Any] = {py(dict(spec.event_pattern))}
RULE_NAME = {py(spec.rule_name)}
REGION = {py(spec.region)}
DLQ_NAME = {py(spec.name("dlq"))}
MAX_RETRY_ATTEMPTS = {spec.max_retry_attempts}
MAX_EVENT_AGE = {spec.max_event_age_seconds}
{lines}'''


def forward_script(spec: SnippetSpec) -> Snippet:
    """``forward.py``: cross-account delivery with boto3 — ``consumer`` (bus permission) in the consumer account,
    then ``producer`` (rule → consumer bus, role, retries, DLQ) in the producer account."""
    statement_id = f"allow-{spec.producer_account}-{spec.rule_name}"[:64].replace(".", "-")
    head = _constants(spec, "Cross-account delivery: producer rule -> consumer bus, and the bus permission.",
                      "import sys\n", {
                          "PRODUCER_ACCOUNT": py(spec.producer_account),
                          "PRODUCER_BUS_NAME": py(spec.producer_bus_name),
                          "CONSUMER_BUS_NAME": py(spec.consumer_bus_name),
                          "CONSUMER_BUS_ARN": py(spec.consumer_bus_arn),
                          "STATEMENT_ID": py(statement_id),
                          "ROLE_NAME": py(spec.name("forward")),
                      })
    return Snippet("Cross-account delivery (boto3)", "python", "forward.py", head + _ROLE + _FORWARD)


def api_destination_script(spec: SnippetSpec) -> Snippet:
    """``api_destination.py``: the HTTP API destination with boto3; secrets from the environment."""
    destination = spec.api_destination
    if destination is None:
        raise SnippetError("is needed for an API destination snippet", field="api_destination")
    if destination.auth is Auth.API_KEY:
        auth: dict[str, object] = {"ApiKeyAuthParameters": {"ApiKeyName": destination.api_key_header,
                                                            "ApiKeyValue": "<API_KEY_VALUE>"}}
        placeholders = {"<API_KEY_VALUE>": "API_KEY_VALUE"}
    elif destination.auth is Auth.BASIC:
        auth = {"BasicAuthParameters": {"Username": "<BASIC_USERNAME>", "Password": "<BASIC_PASSWORD>"}}
        placeholders = {"<BASIC_USERNAME>": "BASIC_USERNAME", "<BASIC_PASSWORD>": "BASIC_PASSWORD"}
    else:
        auth = {"OAuthParameters": {"AuthorizationEndpoint": destination.oauth_token_url, "HttpMethod": "POST",
                                    "ClientParameters": {"ClientID": "<OAUTH_CLIENT_ID>",
                                                         "ClientSecret": "<OAUTH_CLIENT_SECRET>"}}}
        placeholders = {"<OAUTH_CLIENT_ID>": "OAUTH_CLIENT_ID", "<OAUTH_CLIENT_SECRET>": "OAUTH_CLIENT_SECRET"}
    head = _constants(spec, f"HTTP API destination ({destination.mode.value} CloudEvents) for a consumer outside "
                      "AWS.", "import os\n", {
                          "BUS_NAME": py(spec.consumer_bus_name),
                          "CONNECTION_NAME": py(spec.name("connection")),
                          "DESTINATION_NAME": py(spec.name("destination")),
                          "ROLE_NAME": py(spec.name("invoke")),
                          "ENDPOINT": py(destination.endpoint),
                          "RATE_PER_SECOND": destination.rate_per_second,
                          "AUTHORIZATION_TYPE": py(destination.auth.value),
                          "AUTH_PARAMETERS: dict[str, Any]": py(auth),
                          "SECRET_PLACEHOLDERS": py(placeholders),
                          "TARGET_INPUT: dict[str, Any]": py(http.target_input(spec, destination.mode)),
                      })
    return Snippet("HTTP API destination (boto3)", "python", "api_destination.py", head + _ROLE + _DESTINATION)
