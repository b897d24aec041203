"""A CDK (Python) app for cross-account delivery and an SQS workload: a producer stack (forwarding rule, role,
DLQ) and a consumer stack (bus policy, queue with redrive, rule with retries and a DLQ).

The rules are ``CfnRule`` with the pattern as a plain dict: the L2 ``EventPattern`` cannot say everything a
pattern can (any key, any operator), and the pattern must reach the template exactly as the pattern engine made
it. Every value is a Python literal (``quoting.py``); construct ids are fixed.
"""

from __future__ import annotations

from portal.kit.snippets.quoting import py
from portal.kit.snippets.snippet import Snippet
from portal.kit.snippets.spec import SnippetSpec

__all__ = ["cdk_app"]

_BODY = '''

def _dead_letters(scope: Construct, rule: events.CfnRule) -> sqs.Queue:
    """What EventBridge cannot deliver after its retries; only this rule may write to it."""
    queue = sqs.Queue(scope, "DeadLetters", retention_period=Duration.days(14),
                      encryption=sqs.QueueEncryption.SQS_MANAGED)
    queue.add_to_resource_policy(iam.PolicyStatement(
        principals=[iam.ServicePrincipal("events.amazonaws.com")], actions=["sqs:SendMessage"],
        resources=[queue.queue_arn], conditions={"ArnEquals": {"aws:SourceArn": rule.attr_arn}}))
    return queue


RETRY = events.CfnRule.RetryPolicyProperty(maximum_retry_attempts=MAX_RETRY_ATTEMPTS,
                                           maximum_event_age_in_seconds=MAX_EVENT_AGE_SECONDS)


class ProducerStack(Stack):
    """Producer account: forward the events to the consumer's bus."""

    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        role = iam.Role(self, "ForwardRole", assumed_by=iam.ServicePrincipal("events.amazonaws.com"))
        role.add_to_policy(iam.PolicyStatement(actions=["events:PutEvents"], resources=[CONSUMER_BUS_ARN]))
        rule = events.CfnRule(self, "ForwardRule", name=RULE_NAME, event_bus_name=PRODUCER_BUS_NAME,
                              event_pattern=EVENT_PATTERN, state="ENABLED")
        dead_letters = _dead_letters(self, rule)
        rule.targets = [events.CfnRule.TargetProperty(
            id="consumer-bus", arn=CONSUMER_BUS_ARN, role_arn=role.role_arn, retry_policy=RETRY,
            dead_letter_config=events.CfnRule.DeadLetterConfigProperty(arn=dead_letters.queue_arn))]


class ConsumerStack(Stack):
    """Consumer account: let the producer account put events on the bus, and deliver them to a queue."""

    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        events.CfnEventBusPolicy(self, "ProducerMayPutEvents", event_bus_name=CONSUMER_BUS_NAME,
                                 statement_id=STATEMENT_ID, statement={
                                     "Effect": "Allow",
                                     "Principal": {"AWS": f"arn:aws:iam::{PRODUCER_ACCOUNT}:root"},
                                     "Action": "events:PutEvents",
                                     "Resource": CONSUMER_BUS_ARN,
                                 })
        rule = events.CfnRule(self, "Rule", name=RULE_NAME, event_bus_name=CONSUMER_BUS_NAME,
                              event_pattern=EVENT_PATTERN, state="ENABLED")
        dead_letters = _dead_letters(self, rule)
        queue = sqs.Queue(self, "Queue", queue_name=QUEUE_NAME, visibility_timeout=Duration.seconds(60),
                          encryption=sqs.QueueEncryption.SQS_MANAGED,
                          dead_letter_queue=sqs.DeadLetterQueue(queue=dead_letters,
                                                                max_receive_count=MAX_RECEIVE_COUNT))
        queue.add_to_resource_policy(iam.PolicyStatement(
            principals=[iam.ServicePrincipal("events.amazonaws.com")], actions=["sqs:SendMessage"],
            resources=[queue.queue_arn], conditions={"ArnEquals": {"aws:SourceArn": rule.attr_arn}}))
        rule.targets = [events.CfnRule.TargetProperty(
            id="queue", arn=queue.queue_arn, retry_policy=RETRY,
            dead_letter_config=events.CfnRule.DeadLetterConfigProperty(arn=dead_letters.queue_arn))]


app = App()
ProducerStack(app, "SubscriptionProducer", env=Environment(account=PRODUCER_ACCOUNT, region=REGION))
ConsumerStack(app, "SubscriptionConsumer", env=Environment(account=CONSUMER_ACCOUNT, region=REGION))
app.synth()
'''


def cdk_app(spec: SnippetSpec) -> Snippet:
    """``app.py`` of a CDK app (``cdk deploy SubscriptionProducer`` with producer credentials, then
    ``SubscriptionConsumer`` with the consumer's)."""
    names = "\n".join(f"#   {py(n)}" for n in spec.event_names)
    statement_id = f"allow-{spec.producer_account}-{spec.rule_name}"[:64].replace(".", "-")
    head = f'''"""Cross-account subscription: producer stack and consumer stack (CDK v2, Python)."""
# Events:
{names}

from typing import Any

from aws_cdk import App, Duration, Environment, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sqs as sqs
from constructs import Construct

RULE_NAME = {py(spec.rule_name)}
EVENT_PATTERN: dict[str, Any] = {py(dict(spec.event_pattern))}
REGION = {py(spec.region)}
PRODUCER_ACCOUNT = {py(spec.producer_account)}
PRODUCER_BUS_NAME = {py(spec.producer_bus_name)}
CONSUMER_ACCOUNT = {py(spec.consumer_account)}
CONSUMER_BUS_NAME = {py(spec.consumer_bus_name)}
CONSUMER_BUS_ARN = {py(spec.consumer_bus_arn)}
STATEMENT_ID = {py(statement_id)}
QUEUE_NAME = {py(spec.name("queue"))}
MAX_RETRY_ATTEMPTS = {spec.max_retry_attempts}
MAX_EVENT_AGE_SECONDS = {spec.max_event_age_seconds}
MAX_RECEIVE_COUNT = {spec.max_receive_count}
'''
    return Snippet("Cross-account delivery and SQS target (CDK, Python)", "python", "app.py", head + _BODY)
