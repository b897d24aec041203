"""The Lambda handler end to end against moto in server mode over HTTP.

internal event → ``handler(event, context)`` (in process, with a Lambda-like context) → sealed CloudEvent on the
cross-domain bus (moto) → rule → SQS → opened by the consumer library (``ContractOpener``) → the documented example
payload. The handler is configured as in a deployment, by environment variables: the contract artefact, the keys,
the bus, and ``AWS_ENDPOINT_URL`` pointing boto3 at the emulator (or at the fault-injecting proxy in front of it,
which also counts the PutEvents calls).
"""

from __future__ import annotations

import io
import json
import logging
import socket
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools import Logger

import fault_proxy as faults
import moto_server
from conftest import ROOT
from pipeline.aws_lambda import handler as lambda_handler
from pipeline.aws_lambda.config import LambdaConfigurationError, settings_from_environment
from pipeline.aws_lambda.handler import EventNotPublished, Runtime, UnsupportedEvent, handler
from pipeline.aws_lambda.observability import NoTracer
from pipeline.consumer import ContractOpener
from pipeline.contract.artefact import artefact_bytes, load_artefact
from pipeline.contract.model import Catalogue
from pipeline.contract.registry import RegistryLayout
from pipeline.produce import Producer, required_keys
from pipeline.sealing.keys import KeySet, keyset_for, write_jwks

moto_endpoint = moto_server.moto_endpoint
fault_proxy_server = faults.fault_proxy_server
fault_proxy = faults.fault_proxy

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


@dataclass
class LambdaContext:
    """What the Lambda runtime passes as ``context`` (the attributes Powertools reads)."""

    function_name: str = "eventdeck-publisher"
    function_version: str = "$LATEST"
    invoked_function_arn: str = "arn:aws:lambda:eu-west-1:123456789012:function:eventdeck-publisher"
    memory_limit_in_mb: int = 256
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = "/aws/lambda/eventdeck-publisher"
    log_stream_name: str = "2026/12/01/[$LATEST]0123456789abcdef"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


# ------------------------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def contract(tmp_path_factory: pytest.TempPathFactory, examples_catalogue: Catalogue) -> Path:
    """The examples' runtime artefact, as `eventdeck bundle` writes it."""
    layout = RegistryLayout.for_catalogue(examples_catalogue, base_url="https://events.example.com/schemas/")
    path = tmp_path_factory.mktemp("lambda") / "contract.json"
    path.write_bytes(artefact_bytes(examples_catalogue, layout, root=ROOT))
    return path


@pytest.fixture(scope="module")
def keys(examples_catalogue: Catalogue) -> KeySet:
    return keyset_for(required_keys(examples_catalogue))


@pytest.fixture(scope="module")
def key_file(tmp_path_factory: pytest.TempPathFactory, keys: KeySet) -> Path:
    path = tmp_path_factory.mktemp("keys") / "private.jwks.json"
    write_jwks(keys, private_path=path)
    return path


@pytest.fixture(scope="module")
def opener(contract: Path, keys: KeySet) -> ContractOpener:
    return ContractOpener(load_artefact(contract), keys)


@pytest.fixture(scope="module")
def cross_domain(moto_endpoint: str) -> dict[str, Any]:
    """The cross-domain bus, with a rule sending every retailer event to an SQS queue (as a consumer sets up)."""
    events, sqs = moto_server.client("events", moto_endpoint), moto_server.client("sqs", moto_endpoint)
    bus = moto_server.unique_name("cross-domain")
    events.create_event_bus(Name=bus)
    queue_url = sqs.create_queue(QueueName=moto_server.unique_name("consumer"))["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="retailer-events", EventBusName=bus,
                    EventPattern=json.dumps({"source": [{"prefix": "com.retailer."}]}))
    events.put_targets(Rule="retailer-events", EventBusName=bus, Targets=[{"Id": "consumer", "Arn": arn}])
    internal_url = sqs.create_queue(QueueName=moto_server.unique_name("internal"))["QueueUrl"]
    return {"bus": bus, "sqs": sqs, "queue_url": queue_url, "internal_url": internal_url}


def received(wiring: dict[str, Any], url_key: str = "queue_url") -> list[dict[str, Any]]:
    """Drain a queue: the parsed bodies."""
    bodies = []
    while True:
        messages = wiring["sqs"].receive_message(QueueUrl=wiring[url_key], MaxNumberOfMessages=10,
                                                 WaitTimeSeconds=0).get("Messages", [])
        if not messages:
            return bodies
        for message in messages:
            bodies.append(json.loads(message["Body"]))
            wiring["sqs"].delete_message(QueueUrl=wiring[url_key], ReceiptHandle=message["ReceiptHandle"])


@pytest.fixture
def deployed(monkeypatch: pytest.MonkeyPatch, moto_endpoint: str, contract: Path, key_file: Path,
             cross_domain: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The function's environment, as a deployment sets it; boto3 reaches moto through AWS_ENDPOINT_URL."""
    received(cross_domain)
    for name in ("LAMBDA_TASK_ROOT", "AWS_PROFILE", "EVENTDECK_MAX_ENTRY_BYTES", "EVENTDECK_PUT_ATTEMPTS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", moto_server.ACCESS_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", moto_server.SECRET_ACCESS_KEY)
    monkeypatch.setenv("AWS_DEFAULT_REGION", moto_server.REGION)
    monkeypatch.setenv("EVENTDECK_CONTRACT", str(contract))
    monkeypatch.setenv("EVENTDECK_KEYS", str(key_file))
    monkeypatch.setenv("EVENTDECK_EVENT_BUS", cross_domain["bus"])
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "eventdeck-test")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "eventdeck-test")
    yield cross_domain
    lambda_handler._RUNTIMES.clear()


def samples_without_lookups(catalogue: Catalogue) -> list[tuple[str, dict[str, Any], Any]]:
    """(event name, sample internal event, documented payload) for every sample no message made from it needs a
    look-up service for (the examples' look-ups call a merchant service on a fixed port)."""
    routes = Producer(catalogue, keyset_for(required_keys(catalogue))).routes_for
    found = []
    for event in catalogue.events:
        if event.enrichment is None:
            continue
        for sample in event.enrichment.samples:
            if any(route.event.enrichment and route.event.enrichment.lookups for route in routes(sample.event)):
                continue
            payload = next(e.payload for e in event.examples if e.name == sample.example)
            found.append((event.name, dict(sample.event), payload))
    return found


def sqs_event(bodies: list[str], wiring: dict[str, Any]) -> dict[str, Any]:
    """Send ``bodies`` to the internal SQS queue in moto and receive them back as the Lambda poller would, in the
    Lambda SQS event shape."""
    sqs, url = wiring["sqs"], wiring["internal_url"]
    for body in bodies:
        sqs.send_message(QueueUrl=url, MessageBody=body)
    records: list[dict[str, Any]] = []
    while len(records) < len(bodies):
        for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0,
                                     AttributeNames=["All"]).get("Messages", []):
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])  # else it comes back in 30 s
            records.append({"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                            "attributes": m.get("Attributes", {}), "messageAttributes": {},
                            "md5OfBody": m["MD5OfBody"], "eventSource": "aws:sqs",
                            "eventSourceARN": f"arn:aws:sqs:{moto_server.REGION}:123456789012:internal",
                            "awsRegion": moto_server.REGION})
    by_body = {body: n for n, body in enumerate(bodies)}
    records.sort(key=lambda r: by_body[r["body"]])
    return {"Records": records}


def opened_payloads(bodies: list[dict[str, Any]], opener: ContractOpener) -> list[tuple[str, Any]]:
    """(type, data) of every delivered EventBridge event, opened under the contract."""
    out = []
    for body in bodies:
        opened = opener.open(body["detail"])
        out.append((opened.type, opened.data))
    return out


def order_sample(catalogue: Catalogue) -> tuple[str, dict[str, Any], Any]:
    return next(s for s in samples_without_lookups(catalogue) if s[0] == "Order.Created.Uk")


@pytest.fixture
def logged() -> Iterator[Callable[[], list[dict[str, Any]]]]:
    """The JSON log lines the handler writes (Powertools binds its stream to stdout when a service's logger is
    first made, so the test points that stream at a buffer of its own)."""
    stream = io.StringIO()
    swapped = []
    for service in ("eventdeck-test", "eventdeck"):
        Logger(service=service)  # configured as the handler's, or the handler's itself
        for h in logging.getLogger(service).handlers:
            if isinstance(h, logging.StreamHandler):
                swapped.append((h, h.setStream(stream)))
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{")]
    for h, old in swapped:
        h.setStream(old)


def emf_documents(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    """The CloudWatch embedded-metric-format documents printed on stdout."""
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()
            if line.startswith("{") and '"_aws"' in line]


# ------------------------------------------------------------------------------------------------ the direct form


def test_an_internal_event_from_a_rule_arrives_sealed_and_opens_to_the_documented_payload(
        deployed, examples_catalogue, opener) -> None:
    name, internal, payload = order_sample(examples_catalogue)
    answer = handler(internal, LambdaContext())
    bodies = received(deployed)
    assert len(bodies) == len(answer["published"]) >= 1
    mine = [b for b in bodies if b["detail-type"] == name]
    assert len(mine) == 1
    cloud_event = mine[0]["detail"]
    assert cloud_event["datacontenttype"] == "application/jwt"  # sealed as x-sealing says
    assert cloud_event["source"] == mine[0]["source"] == "com.retailer.orders"
    opened = opener.open(cloud_event)
    assert (opened.type, opened.data) == (name, payload)
    assert cloud_event["id"] in {p["id"] for p in answer["published"]}


def test_a_direct_event_that_fails_a_stage_raises_so_lambda_retries_it(deployed, examples_catalogue) -> None:
    _, internal, _ = order_sample(examples_catalogue)
    failing = {**internal, "id": "failing-1", "detail": {**internal["detail"], "state": "CANCELLED"}}
    with pytest.raises(EventNotPublished, match=r"internal event failing-1: not published: .*test") as caught:
        handler(failing, LambdaContext())
    assert "Order.Created.Uk" in str(caught.value)
    assert received(deployed) == []


def test_an_unrouted_direct_event_raises(deployed) -> None:
    event = {"id": "nobody-1", "source": "com.example.unknown", "detail-type": "Nothing", "detail": {}}
    with pytest.raises(EventNotPublished, match=r"nobody-1.*no message.s x-enrichment.from matches"):
        handler(event, LambdaContext())


def test_an_invocation_that_is_no_event_at_all_raises(deployed) -> None:
    with pytest.raises(EventNotPublished, match="an internal event is an object with a 'detail' object"):
        handler(["not", "an", "event"], LambdaContext())
    with pytest.raises(UnsupportedEvent, match="not SQS messages"):
        handler({"Records": [{"EventSource": "aws:sns", "Sns": {"Message": "{}"}}]}, LambdaContext())


# ------------------------------------------------------------------------------------------------ SQS batches


def test_an_sqs_batch_of_every_sample_is_published_in_calls_of_ten_and_opens_to_the_documented_payloads(
        deployed, examples_catalogue, opener, fault_proxy, monkeypatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", fault_proxy.url)
    samples = samples_without_lookups(examples_catalogue)
    unique = {s[1]["id"]: s[1] for s in samples}
    event = sqs_event([json.dumps(e) for e in unique.values()], deployed)
    answer = handler(event, LambdaContext())
    assert answer == {"batchItemFailures": []}
    delivered = opened_payloads(received(deployed), opener)
    entries = sum(len(call) for call in fault_proxy.calls)
    assert len(delivered) == entries >= len(unique)
    assert [len(call) for call in fault_proxy.calls] == [10] * (entries // 10) + ([entries % 10] if entries % 10
                                                                                  else [])
    for name, _, payload in samples:  # every documented sample payload arrived, opened under the contract
        assert (name, payload) in delivered


def test_an_sqs_batch_with_bad_records_reports_exactly_those_records(deployed, examples_catalogue, opener) -> None:
    name, internal, payload = order_sample(examples_catalogue)
    failing = {**internal, "id": "failing-2", "detail": {**internal["detail"], "state": "CANCELLED"}}
    unrouted = {"id": "nobody-2", "source": "com.example.unknown", "detail-type": "Nothing", "detail": {}}
    bodies = [json.dumps(internal), "{not json", json.dumps(failing), json.dumps(unrouted), '{"a": 1, "a": 2}',
              '{"id": "x", "detail": {"amount": NaN}}', "[" * 50_000 + "]" * 50_000,
              json.dumps({**internal, "id": "second-good"})]
    event = sqs_event(bodies, deployed)
    answer = handler(event, LambdaContext())
    ids = [r["messageId"] for r in event["Records"]]
    assert answer == {"batchItemFailures": [{"itemIdentifier": ids[n]} for n in range(1, 7)]}
    delivered = opened_payloads(received(deployed), opener)
    assert [d for d in delivered if d[0] == name] == [(name, payload), (name, payload)]


def test_one_bad_record_in_an_sqs_batch_is_the_only_failure_reported(deployed, examples_catalogue) -> None:
    _, internal, _ = order_sample(examples_catalogue)
    event = sqs_event([json.dumps({**internal, "id": "ok-1"}), "[1, 2, 3]", json.dumps({**internal, "id": "ok-2"})],
                      deployed)
    answer = handler(event, LambdaContext())
    assert answer == {"batchItemFailures": [{"itemIdentifier": event["Records"][1]["messageId"]}]}


def test_entries_the_bus_refuses_fail_their_records_and_throttled_ones_are_resent(
        deployed, examples_catalogue, fault_proxy, monkeypatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", fault_proxy.url)
    _, internal, _ = order_sample(examples_catalogue)
    first = handler(sqs_event([json.dumps(internal)], deployed), LambdaContext())
    per_event = sum(len(c) for c in fault_proxy.calls)  # how many public events one such internal event becomes
    assert first == {"batchItemFailures": []}
    fault_proxy.reset()
    received(deployed)
    fault_proxy.fail_entries({0: "ThrottlingException", per_event: "AccessDeniedException"})
    event = sqs_event([json.dumps({**internal, "id": f"r{n}"}) for n in range(3)], deployed)
    answer = handler(event, LambdaContext())
    assert answer == {"batchItemFailures": [{"itemIdentifier": event["Records"][1]["messageId"]}]}
    assert [len(c) for c in fault_proxy.calls] == [3 * per_event, 1]  # only the throttled entry was resent
    assert len(received(deployed)) == 3 * per_event - 1


def test_an_entry_over_the_configured_limit_is_not_published(deployed, examples_catalogue, monkeypatch) -> None:
    monkeypatch.setenv("EVENTDECK_MAX_ENTRY_BYTES", "1000")
    _, internal, _ = order_sample(examples_catalogue)
    with pytest.raises(EventNotPublished, match=r"EntryTooLarge: the entry is .* bytes .* the limit is 1,000"):
        handler(internal, LambdaContext())
    assert received(deployed) == []


def test_an_unreachable_bus_fails_every_record(deployed, examples_catalogue, monkeypatch) -> None:
    _, internal, _ = order_sample(examples_catalogue)
    event = sqs_event([json.dumps(internal), json.dumps({**internal, "id": "x2"})], deployed)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("EVENTDECK_PUT_ATTEMPTS", "1")
    answer = handler(event, LambdaContext())
    assert answer == {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in event["Records"]]}


# ------------------------------------------------------------------------------------------------ traceparent


def test_the_cloud_event_carries_the_internal_events_traceparent(deployed, examples_catalogue, opener) -> None:
    name, internal, payload = order_sample(examples_catalogue)
    traced = {**internal, "detail": {**internal["detail"], "traceparent": TRACEPARENT}}
    handler(traced, LambdaContext())
    (body,) = [b for b in received(deployed) if b["detail-type"] == name]
    assert body["detail"]["traceparent"] == TRACEPARENT
    assert opener.open(body["detail"]).data == payload  # the trace context is not part of the payload


def test_an_invalid_traceparent_is_left_out_with_a_log_line(deployed, examples_catalogue, logged) -> None:
    name, internal, _ = order_sample(examples_catalogue)
    bad = TRACEPARENT.replace("4bf9", "XYZ!")
    handler({**internal, "id": "traced-badly", "traceparent": bad}, LambdaContext())
    (body,) = [b for b in received(deployed) if b["detail-type"] == name]
    assert "traceparent" not in body["detail"]
    warnings = [line for line in logged() if "traceparent" in str(line.get("message"))]
    assert len(warnings) == 1
    assert warnings[0]["level"] == "WARNING" and warnings[0]["correlation_id"] == "traced-badly"


# ------------------------------------------------------------------------------------------------ logs, metrics


def test_logs_carry_the_correlation_id_and_metrics_are_emf(deployed, examples_catalogue, logged, capsys) -> None:
    _, internal, _ = order_sample(examples_catalogue)
    capsys.readouterr()
    failing = {**internal, "id": "failing-3", "detail": {**internal["detail"], "state": "CANCELLED"}}
    handler(sqs_event([json.dumps({**internal, "id": "good-3"}), json.dumps(failing)], deployed), LambdaContext())
    logs = {line.get("correlation_id"): line for line in logged() if "correlation_id" in line}
    assert logs["good-3"]["message"] == "published" and logs["good-3"]["function_name"] == "eventdeck-publisher"
    assert logs["failing-3"]["message"] == "not published" and logs["failing-3"]["level"] == "ERROR"
    assert logs["failing-3"]["failures"][0]["stage"] == "enrich"
    emf = emf_documents(capsys)
    (main,) = [d for d in emf if "EventsIn" in d]
    assert main["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "eventdeck-test"
    # Powertools writes each metric's values as a list (one value per add_metric within the invocation).
    assert (main["EventsIn"], main["EventsPublished"]) == ([2.0], [float(len(logs["good-3"]["events"]))])
    assert main["Latency"][0] > 0 and main["PublishLatency"][0] > 0
    (failed,) = [d for d in emf if "EventsFailed" in d]
    assert (failed["EventsFailed"], failed["Stage"]) == ([1.0], "enrich")
    assert ["service", "Stage"] in failed["_aws"]["CloudWatchMetrics"][0]["Dimensions"]


def test_the_contract_is_loaded_once_per_cold_start(deployed, examples_catalogue) -> None:
    _, internal, _ = order_sample(examples_catalogue)
    handler(internal, LambdaContext())
    (runtime,) = lambda_handler._RUNTIMES.values()
    handler({**internal, "id": "again"}, LambdaContext())
    assert list(lambda_handler._RUNTIMES.values()) == [runtime]


# ------------------------------------------------------------------------------------------------ configuration


def test_keys_from_secrets_manager(deployed, examples_catalogue, keys, opener, monkeypatch, moto_endpoint) -> None:
    secret = moto_server.unique_name("eventdeck/jwks")
    moto_server.client("secretsmanager", moto_endpoint).create_secret(
        Name=secret, SecretString=json.dumps(keys.to_jwks(private=True)))
    monkeypatch.setenv("EVENTDECK_KEYS", f"aws-secretsmanager:{secret}")
    name, internal, payload = order_sample(examples_catalogue)
    handler(internal, LambdaContext())
    (body,) = [b for b in received(deployed) if b["detail-type"] == name]
    assert opener.open(body["detail"]).data == payload


@pytest.mark.parametrize(("variable", "value", "message"), [
    ("EVENTDECK_CONTRACT", "/nonexistent/contract.json", "EVENTDECK_CONTRACT: .*/nonexistent/contract.json"),
    ("EVENTDECK_KEYS", "/nonexistent/private.jwks.json", "EVENTDECK_KEYS: .*/nonexistent/private.jwks.json"),
    ("EVENTDECK_KEYS", "aws-secretsmanager:no-such-secret", "EVENTDECK_KEYS: cannot read .*ResourceNotFound"),
    ("EVENTDECK_KEYS", "aws-secretsmanager:", "names no secret"),
    ("EVENTDECK_PUT_ATTEMPTS", "many", "EVENTDECK_PUT_ATTEMPTS='many' is not a whole number from 1 to 20"),
    ("EVENTDECK_MAX_ENTRY_BYTES", "0", "EVENTDECK_MAX_ENTRY_BYTES='0' is not a whole number"),
])
def test_a_misconfigured_function_fails_every_invocation_naming_the_variable(
        deployed, examples_catalogue, monkeypatch, logged, variable, value, message) -> None:
    monkeypatch.setenv(variable, value)
    _, internal, _ = order_sample(examples_catalogue)
    for _ in range(2):
        with pytest.raises(LambdaConfigurationError, match=message):
            handler(internal, LambdaContext())
    lines = [line for line in logged() if line.get("message") == "the function is misconfigured"]
    assert len(lines) == 2 and variable in lines[0]["error"]


def test_a_sealed_contract_without_keys_is_a_configuration_error(deployed, examples_catalogue, monkeypatch) -> None:
    monkeypatch.delenv("EVENTDECK_KEYS")
    _, internal, _ = order_sample(examples_catalogue)
    with pytest.raises(LambdaConfigurationError, match="no key set was given"):
        handler(internal, LambdaContext())


def test_without_the_xray_sdk_the_handler_runs_untraced(deployed, examples_catalogue, opener, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "aws_xray_sdk", None)  # what `import aws_xray_sdk` meets in a bundle without it
    runtime = Runtime.from_settings(settings_from_environment())
    assert isinstance(runtime.observability.tracer, NoTracer)
    name, internal, payload = order_sample(examples_catalogue)
    runtime(internal, LambdaContext())
    (body,) = [b for b in received(deployed) if b["detail-type"] == name]
    assert opener.open(body["detail"]).data == payload


def test_a_fifo_batch_stops_a_message_group_at_its_first_failure(deployed, examples_catalogue, opener) -> None:
    name, internal, payload = order_sample(examples_catalogue)
    failing = {**internal, "id": "fifo-bad", "detail": {**internal["detail"], "state": "CANCELLED"}}
    groups_and_events = [("a", {**internal, "id": "a1"}), ("a", failing), ("a", {**internal, "id": "a3"}),
                         ("b", {**internal, "id": "b1"})]
    event = sqs_event([json.dumps(e) for _, e in groups_and_events], deployed)
    for record, (group, _) in zip(event["Records"], groups_and_events, strict=True):
        record["eventSourceARN"] += ".fifo"
        record["attributes"]["MessageGroupId"] = group
    answer = handler(event, LambdaContext())
    ids = [r["messageId"] for r in event["Records"]]
    assert answer == {"batchItemFailures": [{"itemIdentifier": ids[1]}, {"itemIdentifier": ids[2]}]}
    delivered = [d for d in opened_payloads(received(deployed), opener) if d[0] == name]
    assert delivered == [(name, payload)] * 2  # a1 and b1; a3 waits for its predecessor
