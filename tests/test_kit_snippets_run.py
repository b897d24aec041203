"""The runnable snippets run: the boto3 script creates, against moto in server mode on 127.0.0.1, a queue and a
rule that deliver a real published event (and not another event); the consumer code opens that delivered, sealed
event under the contract and handles it once, refusing a tampered or downgraded copy; the CDK app synthesises."""

from __future__ import annotations

import copy
import dataclasses
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import moto_server
from kit_snippet_specs import cfn_lint, hostile_spec, source_of, spec
from pipeline.contract import Catalogue, ContractLoader
from pipeline.contract.artefact import artefact_bytes, load_artefact
from pipeline.contract.registry import RegistryLayout
from pipeline.enrichment.samples import sample_inputs
from pipeline.errors import EventRejected, SealingDowngraded
from pipeline.produce import Producer, Published, required_keys
from pipeline.sealing.keys import keyset_for, write_jwks
from portal.kit.snippets import SnippetSpec, snippets

pytestmark = pytest.mark.slow

moto_endpoint = moto_server.moto_endpoint
ROOT = Path(__file__).resolve().parent.parent
EVENT, OTHER = "Payment.Authorised.Ecom", "Payment.Captured.Ecom"


@pytest.fixture(scope="module")
def contract_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The examples' runtime artefact and a consumer key file, as a deployment would ship them."""
    folder = tmp_path_factory.mktemp("contract")
    catalogue = ContractLoader().load([ROOT / "asyncapi"], strict=True)
    artefact = folder / "contract.json"
    artefact.write_bytes(artefact_bytes(catalogue, RegistryLayout.for_catalogue(catalogue), root=ROOT))
    keys = folder / "consumer.jwks.json"
    write_jwks(keyset_for(required_keys(load_artefact(artefact))), private_path=keys)
    return artefact, keys


@pytest.fixture(scope="module")
def entries(contract_files: tuple[Path, Path]) -> dict[str, dict[str, Any]]:
    """One real PutEvents entry per event, published by the Producer with the consumer's keys."""
    from pipeline.sealing.keys import JwksFile, load_keyset

    artefact, keys = contract_files
    contract = load_artefact(artefact)
    producer = Producer(contract, load_keyset(JwksFile(keys)))
    inputs = sample_inputs(contract)
    out: dict[str, dict[str, Any]] = {}
    for _, internal in inputs.events:
        for outcome in producer.process_one(internal, lookup_results=inputs.lookup_results):
            assert isinstance(outcome, Published), outcome
            out.setdefault(outcome.event, dict(outcome.entry))
    return out


@pytest.fixture(scope="module")
def subscription(examples_catalogue: Catalogue, contract_files: tuple[Path, Path],
                 entries: dict[str, dict[str, Any]]) -> SnippetSpec:
    artefact, keys = contract_files
    pattern = {"source": [source_of(examples_catalogue, EVENT)], "detail-type": [EVENT]}
    return spec(EVENT, pattern, consumer_bus_name=moto_server.unique_name("consumer-bus"),
                name_prefix=moto_server.unique_name("kit"), contract_path=str(artefact), keys_path=str(keys),
                example_entry={**entries[EVENT], "EventBusName": "ignored-bus"})


def _aws_environment(endpoint: str) -> dict[str, str]:
    """The script's process environment: the emulator as the AWS endpoint, dummy credentials, nothing of ours."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return {**env, "AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": moto_server.ACCESS_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": moto_server.SECRET_ACCESS_KEY, "AWS_DEFAULT_REGION": moto_server.REGION}


@pytest.fixture(scope="module")
def delivered(subscription: SnippetSpec, entries: dict[str, dict[str, Any]], moto_endpoint: str,
              tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """Run the boto3 snippet (twice: it is safe to re-run), put the subscribed event and another one on the bus,
    and return the SQS messages the queue received."""
    events = moto_server.client("events", moto_endpoint)
    sqs = moto_server.client("sqs", moto_endpoint)
    events.create_event_bus(Name=subscription.consumer_bus_name)
    script = tmp_path_factory.mktemp("boto3") / "subscribe.py"
    script.write_text(snippets(subscription, "boto3")[0].text, encoding="utf-8")
    for options in ([], ["--check"]):  # the second run also puts the example entry and waits for it
        run = subprocess.run([sys.executable, str(script), *options], env=_aws_environment(moto_endpoint),
                             capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines()[-1] == "the example event was delivered"
    queue_url = sqs.get_queue_url(QueueName=subscription.name("queue"))["QueueUrl"]
    assert run.stdout.splitlines()[0].endswith(subscription.name("queue"))
    rule = events.describe_rule(Name=subscription.rule_name, EventBusName=subscription.consumer_bus_name)
    assert json.loads(rule["EventPattern"]) == subscription.event_pattern
    (target,) = events.list_targets_by_rule(Rule=subscription.rule_name,
                                            EventBusName=subscription.consumer_bus_name)["Targets"]
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 8, "MaximumEventAgeInSeconds": 3600}
    assert target["DeadLetterConfig"]["Arn"].endswith(":" + subscription.name("dlq"))
    put = events.put_events(Entries=[{**entries[name], "EventBusName": subscription.consumer_bus_name}
                                     for name in (OTHER, EVENT)])
    assert put["FailedEntryCount"] == 0
    messages: list[dict[str, Any]] = []
    for _ in range(5):
        got = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        messages += got.get("Messages", [])
        if messages:
            break
    return [{"messageId": m["MessageId"], "body": m["Body"]} for m in messages]


def test_the_boto3_snippet_creates_a_rule_that_delivers_the_event_and_only_it(
        delivered: list[dict[str, Any]], entries: dict[str, dict[str, Any]]) -> None:
    assert len(delivered) == 1
    body = json.loads(delivered[0]["body"])
    assert body["detail-type"] == EVENT
    assert body["detail"] == json.loads(entries[EVENT]["Detail"])


def test_the_boto3_forward_and_api_destination_scripts_create_what_they_say(
        moto_endpoint: str, tmp_path: Path) -> None:
    """Cross-account forwarding (both sides) and the API destination (binary mode, sealed: ce- headers and the
    token as the body) made by the boto3 scripts, read back from moto server."""
    from portal.kit.snippets import ApiDestination, Auth, Mode

    producer_bus, consumer_bus = moto_server.unique_name("producer-bus"), moto_server.unique_name("consumer-bus")
    s = spec("Payment.Authorised.Ecom", {"source": ["com.retailer.payments"]}, producer_bus_name=producer_bus,
             consumer_bus_name=consumer_bus, name_prefix=moto_server.unique_name("kit"),
             destination=ApiDestination("https://consumer.example.com/events", auth=Auth.BASIC, mode=Mode.BINARY,
                                        rate_per_second=7))
    events = moto_server.client("events", moto_endpoint)
    for bus in (producer_bus, consumer_bus):
        events.create_event_bus(Name=bus)
    made = {snip.filename: snip for snip in snippets(s, "boto3")}
    env = _aws_environment(moto_endpoint)

    def run(filename: str, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        script = tmp_path / filename
        script.write_text(made[filename].text, encoding="utf-8")
        return subprocess.run([sys.executable, str(script), *args], env={**env, **extra}, capture_output=True,
                              text=True, timeout=120)

    usage = run("forward.py")
    assert usage.returncode != 0 and "usage: forward.py consumer" in usage.stderr
    for side in ("consumer", "producer", "producer"):  # re-running is safe
        done = run("forward.py", side)
        assert done.returncode == 0, done.stderr
    policy = json.loads(events.describe_event_bus(Name=consumer_bus)["Policy"])
    assert policy["Statement"][0]["Action"] == "events:PutEvents"
    assert s.producer_account in json.dumps(policy["Statement"][0]["Principal"])
    (forward,) = events.list_targets_by_rule(Rule=s.rule_name, EventBusName=producer_bus)["Targets"]
    assert forward["Arn"] == s.consumer_bus_arn and forward["RoleArn"].endswith("/" + s.name("forward"))
    assert forward["DeadLetterConfig"]["Arn"].endswith(":" + s.name("dlq"))

    refused = run("api_destination.py")
    assert refused.returncode != 0 and "set BASIC_USERNAME, BASIC_PASSWORD in the environment" in refused.stderr
    done = run("api_destination.py", BASIC_USERNAME="consumer", BASIC_PASSWORD="s3cret")
    assert done.returncode == 0, done.stderr
    destination = events.describe_api_destination(Name=s.name("destination"))
    assert destination["InvocationEndpoint"] == "https://consumer.example.com/events"
    assert destination["InvocationRateLimitPerSecond"] == 7
    connection = events.describe_connection(Name=s.name("connection"))
    assert connection["AuthorizationType"] == "BASIC"
    assert connection["AuthParameters"]["BasicAuthParameters"]["Username"] == "consumer"
    (target,) = events.list_targets_by_rule(Rule=s.rule_name, EventBusName=consumer_bus)["Targets"]
    assert target["Arn"] == destination["ApiDestinationArn"]
    assert target["HttpParameters"]["HeaderParameters"]["ce-id"] == "$.detail.id"
    assert target["InputTransformer"] == {"InputPathsMap": {"data": "$.detail.data"}, "InputTemplate": "<data>"}
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 8, "MaximumEventAgeInSeconds": 3600}


def _load(snippet_text: str, folder: Path, name: str) -> Any:
    path = folder / f"{name}.py"
    path.write_text(snippet_text, encoding="utf-8")
    module_spec = importlib.util.spec_from_file_location(name, path)
    assert module_spec is not None and module_spec.loader is not None
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module


def test_the_lambda_consumer_opens_the_delivered_sealed_event_and_handles_it_once(
        subscription: SnippetSpec, delivered: list[dict[str, Any]], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # the snippet's SQLite store is relative to the working directory
    consumer = _load(snippets(subscription, "python")[0].text, tmp_path, "kit_lambda_consumer")
    calls: list[str] = []
    business = consumer.handle

    def counted(event: Any) -> Any:
        calls.append(event.id)
        return business(event)

    counted.__qualname__ = "handle"
    consumer.handle = counted
    eventbridge_event = json.loads(delivered[0]["body"])
    first = consumer.lambda_handler(eventbridge_event, None)
    assert first == {"handled": eventbridge_event["detail"]["id"], "type": EVENT}
    assert consumer.lambda_handler(copy.deepcopy(eventbridge_event), None) == first  # a redelivery
    assert calls == [eventbridge_event["detail"]["id"]]
    assert (tmp_path / "idempotency.sqlite3").is_file()

    downgraded = copy.deepcopy(eventbridge_event)
    downgraded["detail"].update(datacontenttype="application/json", data={"amount": 0.01})
    with pytest.raises(SealingDowngraded):
        consumer.lambda_handler(downgraded, None)
    tampered = copy.deepcopy(eventbridge_event)
    token = tampered["detail"]["data"]
    tampered["detail"]["data"] = token[:-8] + ("A" if token[-8] != "A" else "B") + token[-7:]
    with pytest.raises(EventRejected):
        consumer.lambda_handler(tampered, None)
    assert len(calls) == 1


def test_the_sqs_consumer_handles_the_delivered_message_and_reports_only_the_bad_one(
        subscription: SnippetSpec, delivered: list[dict[str, Any]], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    consumer = _load(snippets(subscription, "python")[1].text, tmp_path, "kit_sqs_consumer")
    good = delivered[0]
    forged_body = json.loads(good["body"])
    forged_body["detail"].update(datacontenttype="application/json", data={"amount": 0.01})
    forged = {"messageId": "forged-1", "body": json.dumps(forged_body)}
    not_json = {"messageId": "garbage-1", "body": "{not json"}
    result = consumer.sqs_handler({"Records": [good, forged, not_json]}, None)
    assert result == {"batchItemFailures": [{"itemIdentifier": "forged-1"}, {"itemIdentifier": "garbage-1"}]}
    assert consumer.sqs_handler({"Records": [good]}, None) == {"batchItemFailures": []}


def _eventbridge_event(entry: dict[str, Any]) -> dict[str, Any]:
    """The event EventBridge hands a Lambda target for a PutEvents entry."""
    return {"version": "0", "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718", "detail-type": entry["DetailType"],
            "source": entry["Source"], "account": "222222222222", "time": entry["Time"], "region": "eu-west-1",
            "resources": [], "detail": json.loads(entry["Detail"])}


def test_the_consumer_code_opens_every_example_event_sealed_or_not(
        subscription: SnippetSpec, entries: dict[str, dict[str, Any]], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    every = dataclasses.replace(subscription, event_names=tuple(entries))
    consumer = _load(snippets(every, "python")[0].text, tmp_path, "kit_every_consumer")
    sealed = set()
    for name, entry in entries.items():
        event = _eventbridge_event(entry)
        assert consumer.lambda_handler(event, None) == {"handled": event["detail"]["id"], "type": name}
        if event["detail"]["datacontenttype"] == "application/jwt":
            sealed.add(name)
    assert sealed and sealed != set(entries)  # both kinds were opened
    only_one = _load(snippets(subscription, "python")[0].text, tmp_path, "kit_one_consumer")
    with pytest.raises(EventRejected, match=r"unexpected event type 'Payment\.Captured\.Ecom'"):
        only_one.lambda_handler(_eventbridge_event(entries[OTHER]), None)


def test_the_consumer_code_reads_its_keys_from_secrets_manager(
        subscription: SnippetSpec, contract_files: tuple[Path, Path], delivered: list[dict[str, Any]],
        moto_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With ``keys_secret`` the snippet reads the JWKS from Secrets Manager (moto server, reached through the
    standard AWS configuration variables, as on Lambda)."""
    secret = moto_server.unique_name("consumer/keys")
    moto_server.client("secretsmanager", moto_endpoint).create_secret(
        Name=secret, SecretString=contract_files[1].read_text(encoding="utf-8"))
    for name, value in _aws_environment(moto_endpoint).items():
        if name.startswith("AWS_"):
            monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    from_secret = dataclasses.replace(subscription, keys_secret=secret)
    text = snippets(from_secret, "python")[0].text
    assert "JwksSecretsManager(" in text and "JwksFile" not in text
    consumer = _load(text, tmp_path, "kit_secret_consumer")
    event = json.loads(delivered[0]["body"])
    assert consumer.lambda_handler(event, None) == {"handled": event["detail"]["id"], "type": EVENT}


def test_the_cdk_app_synthesises_with_the_exact_pattern(tmp_path: Path) -> None:
    pytest.importorskip("aws_cdk", reason="aws-cdk-lib (dev extra) is not installed")
    s = hostile_spec()
    app = tmp_path / "app.py"
    app.write_text(snippets(s, "cdk")[0].text, encoding="utf-8")
    out = tmp_path / "cdk.out"
    env = {**os.environ, "CDK_OUTDIR": str(out), "JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION": "1"}
    run = subprocess.run([sys.executable, str(app)], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    producer = json.loads((out / "SubscriptionProducer.template.json").read_text(encoding="utf-8"))
    consumer = json.loads((out / "SubscriptionConsumer.template.json").read_text(encoding="utf-8"))

    def of_type(template: dict[str, Any], kind: str) -> list[dict[str, Any]]:
        return [r["Properties"] for r in template["Resources"].values() if r["Type"] == kind]

    (forward,) = of_type(producer, "AWS::Events::Rule")
    assert forward["EventPattern"] == s.event_pattern and forward["Name"] == s.rule_name
    assert forward["Targets"][0]["Arn"] == s.consumer_bus_arn
    assert forward["Targets"][0]["RetryPolicy"] == {"MaximumRetryAttempts": 8, "MaximumEventAgeInSeconds": 3600}
    (policy,) = of_type(consumer, "AWS::Events::EventBusPolicy")
    assert policy["Statement"]["Principal"] == {"AWS": f"arn:aws:iam::{s.producer_account}:root"}
    (rule,) = of_type(consumer, "AWS::Events::Rule")
    assert rule["EventPattern"] == s.event_pattern
    queues = of_type(consumer, "AWS::SQS::Queue")
    assert any(q.get("RedrivePolicy", {}).get("maxReceiveCount") == s.max_receive_count for q in queues)
    assert cfn_lint([(name, json.dumps(template)) for name, template in
                     (("producer", producer), ("consumer", consumer))]) == []
