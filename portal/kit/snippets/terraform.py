"""Terraform (HCL, AWS provider ≥ 5) for the same subscriptions as the CloudFormation templates.

Values are written by ``quoting.hcl`` (JSON escapes, ``${``/``%{`` doubled), so a hostile name can neither end
its string nor interpolate; the event pattern is an HCL object under ``jsonencode``. Resource labels are fixed.
"""

from __future__ import annotations

from typing import Any

from portal.kit.snippets import http
from portal.kit.snippets.quoting import hcl, hcl_str
from portal.kit.snippets.snippet import Snippet
from portal.kit.snippets.spec import Auth, SnippetError, SnippetSpec

__all__ = ["api_destination", "cross_account_consumer", "cross_account_producer", "lambda_target", "sqs_target"]

_ASSUME_EVENTS = """data "aws_iam_policy_document" "assume_events" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }
  }
}
"""


def _header(spec: SnippetSpec, what: str) -> str:
    # A comment line per event name, each made safe: a newline in a hostile name would end the comment.
    names = ", ".join(hcl_str(n) for n in spec.event_names)
    return f"# {what}\n# Events: {names}\n\n"


def _retry_and_dlq(spec: SnippetSpec) -> str:
    return (f"  retry_policy {{\n    maximum_retry_attempts       = {spec.max_retry_attempts}\n"
            f"    maximum_event_age_in_seconds = {spec.max_event_age_seconds}\n  }}\n"
            "  dead_letter_config {\n    arn = aws_sqs_queue.dead_letters.arn\n  }\n")


def _dlq(spec: SnippetSpec, suffix: str = "dlq") -> str:
    return f"""resource "aws_sqs_queue" "dead_letters" {{
  name                      = {hcl_str(spec.name(suffix))}
  message_retention_seconds = 1209600
  sqs_managed_sse_enabled   = true
}}

data "aws_iam_policy_document" "dead_letters" {{
  statement {{
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.dead_letters.arn]
    principals {{
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }}
    condition {{
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_cloudwatch_event_rule.subscription.arn]
    }}
  }}
}}

resource "aws_sqs_queue_policy" "dead_letters" {{
  queue_url = aws_sqs_queue.dead_letters.id
  policy    = data.aws_iam_policy_document.dead_letters.json
}}
"""


def _rule(spec: SnippetSpec, bus: str) -> str:
    return f"""resource "aws_cloudwatch_event_rule" "subscription" {{
  name           = {hcl_str(spec.rule_name)}
  event_bus_name = {hcl_str(bus)}
  event_pattern  = jsonencode({hcl(dict(spec.event_pattern), 1)})
}}
"""


def cross_account_producer(spec: SnippetSpec) -> Snippet:
    """Producer account: forwarding rule → consumer bus, with the role to put events there, retries, a DLQ."""
    text = _header(spec, "Producer side of a cross-account subscription (deploy in the producer account).") + \
        _rule(spec, spec.producer_bus_name) + "\n" + _ASSUME_EVENTS + f"""
resource "aws_iam_role" "forward" {{
  name_prefix        = {hcl_str(spec.name("fwd-")[:38])}
  assume_role_policy = data.aws_iam_policy_document.assume_events.json
}}

resource "aws_iam_role_policy" "forward" {{
  role = aws_iam_role.forward.id
  policy = jsonencode({{
    Version   = "2012-10-17"
    Statement = [{{ Effect = "Allow", Action = "events:PutEvents", Resource = {hcl_str(spec.consumer_bus_arn)} }}]
  }})
}}

resource "aws_cloudwatch_event_target" "consumer_bus" {{
  rule           = aws_cloudwatch_event_rule.subscription.name
  event_bus_name = aws_cloudwatch_event_rule.subscription.event_bus_name
  target_id      = "consumer-bus"
  arn            = {hcl_str(spec.consumer_bus_arn)}
  role_arn       = aws_iam_role.forward.arn
{_retry_and_dlq(spec)}}}

""" + _dlq(spec, "forward-dlq")
    return Snippet("Producer account: forwarding rule (Terraform)", "hcl", "producer_forward.tf", text)


def cross_account_consumer(spec: SnippetSpec) -> Snippet:
    """Consumer account: the consumer bus's resource policy letting the producer account put events."""
    statement = {"Sid": f"allow-{spec.producer_account}", "Effect": "Allow",
                 "Principal": {"AWS": f"arn:aws:iam::{spec.producer_account}:root"},
                 "Action": "events:PutEvents", "Resource": spec.consumer_bus_arn}
    text = _header(spec, "Consumer side of a cross-account subscription (deploy in the consumer account).") + f"""\
resource "aws_cloudwatch_event_bus_policy" "producer_may_put_events" {{
  event_bus_name = {hcl_str(spec.consumer_bus_name)}
  policy = jsonencode({{
    Version   = "2012-10-17"
    Statement = [{hcl(statement, 2)}]
  }})
}}
"""
    return Snippet("Consumer account: bus policy (Terraform)", "hcl", "consumer_bus_policy.tf", text)


def sqs_target(spec: SnippetSpec) -> Snippet:
    """Consumer account: rule on the consumer bus → SQS queue (redrive to the DLQ), retries, rule DLQ."""
    text = _header(spec, "Consumer workload: SQS queue with a DLQ and a retry policy.") + \
        _rule(spec, spec.consumer_bus_name) + f"""
resource "aws_sqs_queue" "queue" {{
  name                       = {hcl_str(spec.name("queue"))}
  visibility_timeout_seconds = 60
  sqs_managed_sse_enabled    = true
  redrive_policy = jsonencode({{
    deadLetterTargetArn = aws_sqs_queue.dead_letters.arn
    maxReceiveCount     = {spec.max_receive_count}
  }})
}}

data "aws_iam_policy_document" "queue" {{
  statement {{
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.queue.arn]
    principals {{
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }}
    condition {{
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_cloudwatch_event_rule.subscription.arn]
    }}
  }}
}}

resource "aws_sqs_queue_policy" "queue" {{
  queue_url = aws_sqs_queue.queue.id
  policy    = data.aws_iam_policy_document.queue.json
}}

resource "aws_cloudwatch_event_target" "queue" {{
  rule           = aws_cloudwatch_event_rule.subscription.name
  event_bus_name = aws_cloudwatch_event_rule.subscription.event_bus_name
  target_id      = "queue"
  arn            = aws_sqs_queue.queue.arn
{_retry_and_dlq(spec)}}}

""" + _dlq(spec)
    return Snippet("SQS target (Terraform)", "hcl", "sqs_target.tf", text)


def lambda_target(spec: SnippetSpec) -> Snippet:
    """Consumer account: rule on the consumer bus → an existing Lambda function (``var.function_arn``, e.g. the
    consumer code packaged), the permission for EventBridge to invoke it, retries and a DLQ."""
    text = _header(spec, "Consumer workload: Lambda function with retries and a DLQ.") + \
        'variable "function_arn" {\n  type        = string\n' \
        '  description = "The consumer function (consumer.lambda_handler)"\n}\n\n' + \
        _rule(spec, spec.consumer_bus_name) + f"""
resource "aws_lambda_permission" "events" {{
  statement_id  = "eventbridge-subscription"
  action        = "lambda:InvokeFunction"
  function_name = var.function_arn
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.subscription.arn
}}

resource "aws_cloudwatch_event_target" "function" {{
  rule           = aws_cloudwatch_event_rule.subscription.name
  event_bus_name = aws_cloudwatch_event_rule.subscription.event_bus_name
  target_id      = "function"
  arn            = var.function_arn
{_retry_and_dlq(spec)}}}

""" + _dlq(spec)
    return Snippet("Lambda target (Terraform)", "hcl", "lambda_target.tf", text)


def _connection(spec: SnippetSpec) -> tuple[str, str]:
    """(the variables holding the secrets, the connection's ``auth_parameters`` block)."""
    destination = spec.api_destination
    assert destination is not None
    secret = '  type      = string\n  sensitive = true\n'
    if destination.auth is Auth.API_KEY:
        return (f'variable "api_key_value" {{\n{secret}}}\n',
                f"  auth_parameters {{\n    api_key {{\n      key   = {hcl_str(destination.api_key_header)}\n"
                "      value = var.api_key_value\n    }\n  }\n")
    if destination.auth is Auth.BASIC:
        return (f'variable "username" {{\n  type = string\n}}\n\nvariable "password" {{\n{secret}}}\n',
                "  auth_parameters {\n    basic {\n      username = var.username\n"
                "      password = var.password\n    }\n  }\n")
    if destination.auth is Auth.OAUTH:
        return (f'variable "client_id" {{\n  type = string\n}}\n\nvariable "client_secret" {{\n{secret}}}\n',
                f"  auth_parameters {{\n    oauth {{\n      authorization_endpoint = "
                f"{hcl_str(destination.oauth_token_url)}\n      http_method            = \"POST\"\n"
                "      client_parameters {\n        client_id     = var.client_id\n"
                "        client_secret = var.client_secret\n      }\n    }\n  }\n")
    raise SnippetError(f"unknown auth {destination.auth!r}", field="api_destination.auth")


def _target_input(spec: SnippetSpec) -> str:
    assert spec.api_destination is not None
    settings: dict[str, Any] = http.target_input(spec, spec.api_destination.mode)
    out = ""
    if "InputPath" in settings:
        out += f"  input_path = {hcl_str(settings['InputPath'])}\n"
    transformer = settings.get("InputTransformer")
    if transformer is not None:
        out += (f"  input_transformer {{\n    input_paths    = {hcl(transformer['InputPathsMap'], 2)}\n"
                f"    input_template = {hcl_str(transformer['InputTemplate'])}\n  }}\n")
    headers = settings["HttpParameters"]["HeaderParameters"]
    out += f"  http_target {{\n    header_parameters = {hcl(headers, 2)}\n  }}\n"
    return out


def api_destination(spec: SnippetSpec) -> Snippet:
    """An HTTPS endpoint outside AWS: connection, rate-limited destination, invoke role, rule, target with the
    CloudEvents HTTP binding, retries and a DLQ."""
    destination = spec.api_destination
    if destination is None:
        raise SnippetError("is needed for an API destination snippet", field="api_destination")
    variables, auth = _connection(spec)
    text = _header(spec, f"HTTP API destination ({destination.mode.value} CloudEvents) for a consumer outside "
                         "AWS.") + variables + f"""
resource "aws_cloudwatch_event_connection" "endpoint" {{
  name               = {hcl_str(spec.name("connection"))}
  authorization_type = {hcl_str(destination.auth.value)}
{auth}}}

resource "aws_cloudwatch_event_api_destination" "endpoint" {{
  name                             = {hcl_str(spec.name("destination"))}
  invocation_endpoint              = {hcl_str(destination.endpoint)}
  http_method                      = "POST"
  invocation_rate_limit_per_second = {destination.rate_per_second}
  connection_arn                   = aws_cloudwatch_event_connection.endpoint.arn
}}

""" + _ASSUME_EVENTS + f"""
resource "aws_iam_role" "invoke" {{
  name_prefix        = {hcl_str(spec.name("invoke-")[:38])}
  assume_role_policy = data.aws_iam_policy_document.assume_events.json
}}

resource "aws_iam_role_policy" "invoke" {{
  role = aws_iam_role.invoke.id
  policy = jsonencode({{
    Version = "2012-10-17"
    Statement = [{{
      Effect   = "Allow"
      Action   = "events:InvokeApiDestination"
      Resource = aws_cloudwatch_event_api_destination.endpoint.arn
    }}]
  }})
}}

""" + _rule(spec, spec.consumer_bus_name) + f"""
resource "aws_cloudwatch_event_target" "endpoint" {{
  rule           = aws_cloudwatch_event_rule.subscription.name
  event_bus_name = aws_cloudwatch_event_rule.subscription.event_bus_name
  target_id      = "http-endpoint"
  arn            = aws_cloudwatch_event_api_destination.endpoint.arn
  role_arn       = aws_iam_role.invoke.arn
{_target_input(spec)}{_retry_and_dlq(spec)}}}

""" + _dlq(spec)
    return Snippet("HTTP API destination (Terraform)", "hcl", "api_destination.tf", text)
