"""CloudFormation and SAM templates: cross-account delivery (producer rule → consumer bus, and the consumer
bus's resource policy), an SQS workload target, a Lambda target (SAM) and an HTTP API destination.

Templates are built as data and written by a YAML emitter (``quoting.yaml_document``), so a hostile name is
quoted by the emitter, never by string pasting; intrinsic functions use their long form (``Fn::GetAtt``).
"""

from __future__ import annotations

import json
from typing import Any

from portal.kit.snippets import http
from portal.kit.snippets.quoting import yaml_document
from portal.kit.snippets.snippet import Snippet
from portal.kit.snippets.spec import ApiDestination, Auth, SnippetError, SnippetSpec

__all__ = ["api_destination", "cross_account_consumer", "cross_account_producer", "lambda_target_sam",
           "sqs_target"]

_VERSION = "2010-09-09"


def _att(resource: str, attribute: str = "Arn") -> dict[str, Any]:
    return {"Fn::GetAtt": [resource, attribute]}


def _ref(name: str) -> dict[str, Any]:
    return {"Ref": name}


def _retry(spec: SnippetSpec) -> dict[str, Any]:
    return {"MaximumRetryAttempts": spec.max_retry_attempts, "MaximumEventAgeInSeconds": spec.max_event_age_seconds}


def _events_role(policy_name: str, action: str, resource: Any) -> dict[str, Any]:
    """An IAM role EventBridge assumes to call ``action`` on ``resource`` (cross-account bus, API destination)."""
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
                               "Action": "sts:AssumeRole"}],
            },
            "Policies": [{
                "PolicyName": policy_name,
                "PolicyDocument": {"Version": "2012-10-17",
                                   "Statement": [{"Effect": "Allow", "Action": action, "Resource": resource}]},
            }],
        },
    }


def _dlq(spec: SnippetSpec, resources: dict[str, Any], rule: str, suffix: str = "dlq") -> None:
    """A dead-letter queue for what EventBridge cannot deliver after its retries, and the queue policy that lets
    only this rule write to it."""
    resources["DeadLetterQueue"] = {
        "Type": "AWS::SQS::Queue",
        "Properties": {"QueueName": spec.name(suffix), "MessageRetentionPeriod": 1_209_600,
                       "SqsManagedSseEnabled": True},
    }
    resources["DeadLetterQueuePolicy"] = {
        "Type": "AWS::SQS::QueuePolicy",
        "Properties": {
            "Queues": [_ref("DeadLetterQueue")],
            "PolicyDocument": {"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}, "Action": "sqs:SendMessage",
                "Resource": _att("DeadLetterQueue"),
                "Condition": {"ArnEquals": {"aws:SourceArn": _att(rule)}},
            }]},
        },
    }


def _template(description: str, resources: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"AWSTemplateFormatVersion": _VERSION, "Description": description, **extra, "Resources": resources}


def _header(spec: SnippetSpec, what: str) -> str:
    # Names as JSON strings (ASCII, escaped): a newline or control character in a hostile name would end the
    # comment or make the file unreadable.
    return f"{what}\nEvents: " + ", ".join(json.dumps(n) for n in spec.event_names)


def cross_account_producer(spec: SnippetSpec) -> Snippet:
    """Producer account: a rule on the producer's bus whose target is the consumer's bus, with the role
    EventBridge needs to put events on another account's bus, a retry policy and a DLQ."""
    resources: dict[str, Any] = {
        "ForwardRole": _events_role("put-events-on-consumer-bus", "events:PutEvents", spec.consumer_bus_arn),
        "ForwardRule": {
            "Type": "AWS::Events::Rule",
            "Properties": {
                "Name": spec.rule_name,
                "EventBusName": spec.producer_bus_name,
                "State": "ENABLED",
                "EventPattern": dict(spec.event_pattern),
                "Targets": [{
                    "Id": "consumer-bus",
                    "Arn": spec.consumer_bus_arn,
                    "RoleArn": _att("ForwardRole"),
                    "RetryPolicy": _retry(spec),
                    "DeadLetterConfig": {"Arn": _att("DeadLetterQueue")},
                }],
            },
        },
    }
    _dlq(spec, resources, "ForwardRule", "forward-dlq")
    text = yaml_document(_template(f"Forward events to account {spec.consumer_account} (deploy in the producer "
                                   f"account {spec.producer_account})", resources),
                         header=_header(spec, "Producer side of a cross-account subscription."))
    return Snippet("Producer account: forwarding rule (CloudFormation)", "yaml", "producer-forward.yaml", text)


def cross_account_consumer(spec: SnippetSpec) -> Snippet:
    """Consumer account: the resource policy on the consumer's bus that lets the producer account put events."""
    resources = {
        "ProducerMayPutEvents": {
            "Type": "AWS::Events::EventBusPolicy",
            "Properties": {
                "EventBusName": spec.consumer_bus_name,
                "StatementId": f"allow-{spec.producer_account}-{spec.rule_name}"[:64].replace(".", "-"),
                "Statement": {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{spec.producer_account}:root"},
                    "Action": "events:PutEvents",
                    "Resource": spec.consumer_bus_arn,
                },
            },
        },
    }
    text = yaml_document(_template(f"Let account {spec.producer_account} put events on this bus (deploy in the "
                                   f"consumer account {spec.consumer_account})", resources),
                         header=_header(spec, "Consumer side of a cross-account subscription."))
    return Snippet("Consumer account: bus policy (CloudFormation)", "yaml", "consumer-bus-policy.yaml", text)


def sqs_target(spec: SnippetSpec) -> Snippet:
    """Consumer account: a rule on the consumer's bus delivering to an SQS queue (with its own redrive DLQ),
    EventBridge's retry policy and a DLQ for what it cannot deliver."""
    resources: dict[str, Any] = {
        "Queue": {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "QueueName": spec.name("queue"),
                "SqsManagedSseEnabled": True,
                "VisibilityTimeout": 60,
                "RedrivePolicy": {"deadLetterTargetArn": _att("DeadLetterQueue"),
                                  "maxReceiveCount": spec.max_receive_count},
            },
        },
        "QueuePolicy": {
            "Type": "AWS::SQS::QueuePolicy",
            "Properties": {
                "Queues": [_ref("Queue")],
                "PolicyDocument": {"Version": "2012-10-17", "Statement": [{
                    "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
                    "Action": "sqs:SendMessage", "Resource": _att("Queue"),
                    "Condition": {"ArnEquals": {"aws:SourceArn": _att("Rule")}},
                }]},
            },
        },
        "Rule": {
            "Type": "AWS::Events::Rule",
            "Properties": {
                "Name": spec.rule_name,
                "EventBusName": spec.consumer_bus_name,
                "State": "ENABLED",
                "EventPattern": dict(spec.event_pattern),
                "Targets": [{
                    "Id": "queue",
                    "Arn": _att("Queue"),
                    "RetryPolicy": _retry(spec),
                    "DeadLetterConfig": {"Arn": _att("DeadLetterQueue")},
                }],
            },
        },
    }
    _dlq(spec, resources, "Rule")
    text = yaml_document(_template("Deliver the subscribed events to an SQS queue", resources,
                                   Outputs={"QueueUrl": {"Value": _ref("Queue")}}),
                         header=_header(spec, "Consumer workload: SQS queue with a DLQ and a retry policy."))
    return Snippet("SQS target (CloudFormation)", "yaml", "sqs-target.yaml", text)


def lambda_target_sam(spec: SnippetSpec) -> Snippet:
    """Consumer account: a SAM function subscribed to the consumer's bus, with retries and a DLQ, running the
    consumer code (``consumer.lambda_handler``, from :func:`portal.kit.snippets.consumer.consumer_code`)."""
    resources: dict[str, Any] = {
        "Handler": {
            "Type": "AWS::Serverless::Function",
            "Properties": {
                "Runtime": "python3.12",
                "Handler": "consumer.lambda_handler",
                "CodeUri": "src/",
                "MemorySize": 256,
                "Timeout": 30,
                "Events": {
                    "Subscription": {
                        "Type": "EventBridgeRule",
                        "Properties": {
                            "EventBusName": spec.consumer_bus_name,
                            "RuleName": spec.rule_name,
                            "Pattern": dict(spec.event_pattern),
                            "RetryPolicy": _retry(spec),
                            "DeadLetterConfig": {"Type": "SQS", "QueueLogicalId": "SubscriptionDeadLetters"},
                        },
                    },
                },
            },
        },
    }
    policies: list[dict[str, Any]] = []
    if spec.dedupe_table is not None:
        policies.append({"DynamoDBCrudPolicy": {"TableName": spec.dedupe_table}})
    if spec.keys_secret is not None:
        # A name becomes an ARN pattern (Secrets Manager appends a 6-character suffix); the name's charset has
        # no "$" or "{", so Fn::Sub cannot read anything of it as a variable.
        arn: Any = spec.keys_secret if spec.keys_secret.startswith("arn:") else {
            "Fn::Sub": "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:"
                       f"{spec.keys_secret}-*"}
        policies.append({"AWSSecretsManagerGetSecretValuePolicy": {"SecretArn": arn}})
    if policies:
        resources["Handler"]["Properties"]["Policies"] = policies
    text = yaml_document(_template("A Lambda function subscribed to the events", resources,
                                   Transform="AWS::Serverless-2016-10-31"),
                         header=_header(spec, "Consumer workload: Lambda function (SAM) with retries and a DLQ."))
    return Snippet("Lambda target (SAM)", "yaml", "lambda-target.yaml", text)


def _connection(destination: ApiDestination) -> tuple[dict[str, Any], dict[str, Any]]:
    """The connection's auth parameters and the template parameters holding its secrets (``NoEcho``)."""
    secret = {"Type": "String", "NoEcho": True, "MinLength": 1}
    if destination.auth is Auth.API_KEY:
        return ({"ApiKeyAuthParameters": {"ApiKeyName": destination.api_key_header,
                                          "ApiKeyValue": _ref("ApiKeyValue")}},
                {"ApiKeyValue": {**secret, "Description": "The API key the endpoint expects"}})
    if destination.auth is Auth.BASIC:
        return ({"BasicAuthParameters": {"Username": _ref("Username"), "Password": _ref("Password")}},
                {"Username": {"Type": "String", "MinLength": 1}, "Password": {**secret}})
    if destination.auth is Auth.OAUTH:
        return ({"OAuthParameters": {"AuthorizationEndpoint": destination.oauth_token_url, "HttpMethod": "POST",
                                     "ClientParameters": {"ClientID": _ref("ClientId"),
                                                          "ClientSecret": _ref("ClientSecret")}}},
                {"ClientId": {"Type": "String", "MinLength": 1}, "ClientSecret": {**secret}})
    raise SnippetError(f"unknown auth {destination.auth!r}", field="api_destination.auth")


def api_destination(spec: SnippetSpec) -> Snippet:
    """Consumer (or producer) account: an HTTPS endpoint outside AWS as a rule target — connection, destination
    with a rate limit, the role EventBridge invokes it with, retries, a DLQ, and the CloudEvents HTTP binding
    (structured: the CloudEvent is the body; binary: ``ce-`` headers and the data as the body)."""
    destination = spec.api_destination
    if destination is None:
        raise SnippetError("is needed for an API destination snippet", field="api_destination")
    auth, parameters = _connection(destination)
    target: dict[str, Any] = {
        "Id": "http-endpoint",
        "Arn": _att("Destination"),
        "RoleArn": _att("InvokeRole"),
        "RetryPolicy": _retry(spec),
        "DeadLetterConfig": {"Arn": _att("DeadLetterQueue")},
        **http.target_input(spec, destination.mode),
    }
    resources: dict[str, Any] = {
        "Connection": {
            "Type": "AWS::Events::Connection",
            "Properties": {"Name": spec.name("connection"), "AuthorizationType": destination.auth.value,
                           "AuthParameters": auth},
        },
        "Destination": {
            "Type": "AWS::Events::ApiDestination",
            "Properties": {"Name": spec.name("destination"), "ConnectionArn": _att("Connection"),
                           "InvocationEndpoint": destination.endpoint, "HttpMethod": "POST",
                           "InvocationRateLimitPerSecond": destination.rate_per_second},
        },
        "InvokeRole": _events_role("invoke-api-destination", "events:InvokeApiDestination", _att("Destination")),
        "Rule": {
            "Type": "AWS::Events::Rule",
            "Properties": {"Name": spec.rule_name, "EventBusName": spec.consumer_bus_name, "State": "ENABLED",
                           "EventPattern": dict(spec.event_pattern), "Targets": [target]},
        },
    }
    _dlq(spec, resources, "Rule")
    text = yaml_document(_template(f"Deliver the events to {destination.endpoint} ({destination.mode.value} "
                                   "CloudEvents)", resources, Parameters=parameters),
                         header=_header(spec, "HTTP API destination for a consumer outside AWS."))
    return Snippet("HTTP API destination (CloudFormation)", "yaml", "api-destination.yaml", text)
