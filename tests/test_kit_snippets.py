"""The subscription snippets are checked by the tools that will read them: every CloudFormation/SAM template
passes cfn-lint with no errors, every Terraform file parses with a real HCL parser and has the expected
resources and references, every Python snippet compiles and carries the pattern exactly — for every example
event, each hierarchy prefix and a spec whose names try to break out of every language's quoting."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import hcl2
import pytest
import yaml

from kit_snippet_specs import cfn_lint, example_specs, hostile_spec, spec
from pipeline.contract import Catalogue
from portal.kit.snippets import FORMATS, ApiDestination, Auth, Mode, SnippetError, SnippetSpec, snippets
from portal.kit.snippets.spec import MAX_RATE

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def specs(examples_catalogue: Catalogue) -> list[SnippetSpec]:
    hostile = hostile_spec()
    assert hostile.example_entry is not None  # the boto3 --check variant is checked too
    with_secret = hostile_spec(keys_secret="payments/consumer.jwks", dedupe_table="consumer-idempotency")
    arn = spec("arn-secret", {"source": ["s"]},
               keys_secret="arn:aws:secretsmanager:eu-west-1:222222222222:secret:k-Ab1")
    return [*example_specs(examples_catalogue), hostile, with_secret, arn]


def test_every_cloudformation_and_sam_template_passes_cfn_lint(specs: list[SnippetSpec]) -> None:
    # Every template of every example event and of the hostile spec; of the prefix specs (same templates, other
    # patterns) one, to keep the run short.
    chosen = [s for s in specs if not s.rule_name.endswith(".all")]
    chosen.append(next(s for s in specs if s.rule_name.endswith(".all")))
    texts = [(f"{s.rule_name}/{snip.filename}", snip.text)
             for s in chosen for fmt in ("cfn", "sam") for snip in snippets(s, fmt)]
    assert len(texts) >= 5 * 16
    assert cfn_lint(texts) == []


def test_cfn_lint_is_really_checking() -> None:
    """The same harness reports a broken template (a rule without its required target ARN)."""
    broken = yaml.safe_load(snippets(hostile_spec(), "cfn")[2].text)
    del broken["Resources"]["Rule"]["Properties"]["Targets"][0]["Arn"]
    assert cfn_lint([("broken", yaml.safe_dump(broken))])


def _rule_patterns(document: dict[str, Any]) -> list[Any]:
    out = []
    for resource in document["Resources"].values():
        properties = resource.get("Properties", {})
        if resource["Type"] == "AWS::Events::Rule":
            out.append(properties["EventPattern"])
        for source in properties.get("Events", {}).values():
            out.append(source["Properties"]["Pattern"])
    return out


def test_templates_carry_the_pattern_and_names_exactly(specs: list[SnippetSpec]) -> None:
    for s in specs:
        for fmt in ("cfn", "sam"):
            for snip in snippets(s, fmt):
                document = yaml.safe_load(snip.text)
                assert all(p == s.event_pattern for p in _rule_patterns(document)), snip.filename
                assert all(line.startswith("#") for line in snip.text.splitlines()[:2])
        assert json.loads(snippets(s, "pattern")[0].text) == s.event_pattern


def test_the_api_destination_delivers_a_cloudevent_in_either_mode() -> None:
    structured = spec("x", {"source": ["s"]}, destination=ApiDestination("https://h.example/e"))
    target = yaml.safe_load(snippets(structured, "cfn")[3].text)["Resources"]["Rule"]["Properties"]["Targets"][0]
    assert target["InputPath"] == "$.detail"
    assert target["HttpParameters"]["HeaderParameters"]["Content-Type"] == "application/cloudevents+json"
    for sealed in (True, False):
        binary = spec("x", {"source": ["s"]}, sealed=sealed,
                      destination=ApiDestination("https://h.example/e", auth=Auth.BASIC, mode=Mode.BINARY))
        document = yaml.safe_load(snippets(binary, "cfn")[3].text)
        target = document["Resources"]["Rule"]["Properties"]["Targets"][0]
        headers = target["HttpParameters"]["HeaderParameters"]
        assert headers["ce-id"] == "$.detail.id" and headers["ce-type"] == "$.detail.type"
        assert headers["Content-Type"] == "$.detail.datacontenttype"
        if sealed:  # the token as text, not as a quoted JSON string
            assert target["InputTransformer"] == {"InputPathsMap": {"data": "$.detail.data"}, "InputTemplate": "<data>"}
        else:
            assert target["InputPath"] == "$.detail.data"
        assert set(document["Parameters"]) == {"Username", "Password"}
        assert document["Parameters"]["Password"]["NoEcho"] is True
        assert target["RetryPolicy"] == {"MaximumRetryAttempts": 8, "MaximumEventAgeInSeconds": 3600}
        assert document["Resources"]["Destination"]["Properties"]["InvocationRateLimitPerSecond"] == 10


def _resources(parsed: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for block in parsed.get("resource", []):
        for kind, named in block.items():
            for label, body in named.items():
                found[f"{kind}.{label}"] = body
    return found


EXPECTED_TF = {
    "producer_forward.tf": {"aws_cloudwatch_event_rule.subscription", "aws_cloudwatch_event_target.consumer_bus",
                            "aws_iam_role.forward", "aws_iam_role_policy.forward", "aws_sqs_queue.dead_letters",
                            "aws_sqs_queue_policy.dead_letters"},
    "consumer_bus_policy.tf": {"aws_cloudwatch_event_bus_policy.producer_may_put_events"},
    "sqs_target.tf": {"aws_cloudwatch_event_rule.subscription", "aws_cloudwatch_event_target.queue",
                      "aws_sqs_queue.queue", "aws_sqs_queue_policy.queue", "aws_sqs_queue.dead_letters",
                      "aws_sqs_queue_policy.dead_letters"},
    "lambda_target.tf": {"aws_cloudwatch_event_rule.subscription", "aws_cloudwatch_event_target.function",
                         "aws_lambda_permission.events", "aws_sqs_queue.dead_letters",
                         "aws_sqs_queue_policy.dead_letters"},
    "api_destination.tf": {"aws_cloudwatch_event_connection.endpoint", "aws_cloudwatch_event_api_destination.endpoint",
                           "aws_iam_role.invoke", "aws_iam_role_policy.invoke",
                           "aws_cloudwatch_event_rule.subscription", "aws_cloudwatch_event_target.endpoint",
                           "aws_sqs_queue.dead_letters", "aws_sqs_queue_policy.dead_letters"},
}


def _unquoted(value: Any) -> Any:
    """python-hcl2 7 keeps a string's quotes and escapes; read them as the JSON they are (``quoting.hcl_str``)."""
    if isinstance(value, str) and value.startswith('"'):
        return json.loads(value.replace("$${", "${").replace("%%{", "%{"))
    return value


def test_every_terraform_file_parses_with_the_expected_resources_and_references(specs: list[SnippetSpec]) -> None:
    for s in specs:
        for snip in snippets(s, "terraform"):
            parsed = hcl2.loads(snip.text)
            resources = _resources(parsed)
            assert set(resources) == EXPECTED_TF[snip.filename], snip.filename
            for label, body in resources.items():
                if label.startswith("aws_cloudwatch_event_target."):
                    assert "aws_cloudwatch_event_rule.subscription.name" in body["rule"]
                    assert body["retry_policy"][0]["maximum_retry_attempts"] == s.max_retry_attempts
                    assert "aws_sqs_queue.dead_letters.arn" in body["dead_letter_config"][0]["arn"]
                if label == "aws_cloudwatch_event_rule.subscription":
                    assert _unquoted(body["name"]) == s.rule_name
                    assert body["event_pattern"].startswith("${jsonencode(")
            if snip.filename == "api_destination.tf":
                target = resources["aws_cloudwatch_event_target.endpoint"]
                assert "aws_cloudwatch_event_api_destination.endpoint.arn" in target["arn"]
                assert "aws_iam_role.invoke.arn" in target["role_arn"]
                connection = resources["aws_cloudwatch_event_connection.endpoint"]
                assert _unquoted(connection["authorization_type"]) == s.api_destination.auth.value
                assert {v for block in parsed["variable"] for v in block}  # the secrets are variables


def test_a_hostile_name_stays_one_hcl_string() -> None:
    """A name with quotes, ${...}, %{...} and control characters stays inside its string literal: the file parses
    to the expected resources, and the interpolation sequences reach the parser escaped (literal text)."""
    text = snippets(hostile_spec(), "terraform")[2].text
    pattern = _resources(hcl2.loads(text))["aws_cloudwatch_event_rule.subscription"]["event_pattern"]
    assert "$${jndi}" in pattern and "%%{x}" in pattern
    assert "${jndi}" not in pattern.replace("$${jndi}", "")
    # What the escaping prevents: the same text unescaped would interpolate (an expression, not a literal).
    unescaped = _resources(hcl2.loads(text.replace("$${jndi}", "${jndi}")))
    assert "$${jndi}" not in unescaped["aws_cloudwatch_event_rule.subscription"]["event_pattern"]


def _constant(tree: ast.Module, name: str) -> Any:
    for node in tree.body:
        target = node.target if isinstance(node, ast.AnnAssign) else (
            node.targets[0] if isinstance(node, ast.Assign) else None)
        if isinstance(target, ast.Name) and target.id == name:
            assert node.value is not None
            if isinstance(node.value, ast.Call) and getattr(node.value.func, "id", None) == "frozenset":
                return frozenset(ast.literal_eval(node.value.args[0]))
            return ast.literal_eval(node.value)
    raise AssertionError(f"{name} not found")


def test_every_python_snippet_compiles_and_carries_the_values_exactly(specs: list[SnippetSpec],
                                                                      tmp_path: Path) -> None:
    for number, s in enumerate(specs):
        for fmt in ("cdk", "boto3", "python"):
            for snip in snippets(s, fmt):
                compile(snip.text, snip.filename, "exec")
                folder = tmp_path / f"{number}-{fmt}"
                folder.mkdir(exist_ok=True)
                (folder / f"{len(list(folder.iterdir()))}-{snip.filename}").write_text(snip.text, encoding="utf-8")
                tree = ast.parse(snip.text)
                if fmt in ("cdk", "boto3"):
                    assert _constant(tree, "EVENT_PATTERN") == s.event_pattern
                    assert _constant(tree, "RULE_NAME") == s.rule_name
                    if snip.filename == "subscribe.py" and s.example_entry is not None:
                        assert _constant(tree, "EXAMPLE_ENTRY") == {
                            k: v for k, v in s.example_entry.items() if k != "EventBusName"}
                else:
                    assert _constant(tree, "EVENT_NAMES") == frozenset(s.event_names)
                    assert ast.get_docstring(tree)
    # Clean code too: no unused import, undefined name or likely bug (ruff, isolated from this project's config;
    # long lines allowed, a pattern is as long as it is).
    ruff = Path(sys.executable).with_name("ruff")
    checked = subprocess.run([str(ruff), "check", "--isolated", "--no-cache", "--select", "E,F,W,B",
                              "--ignore", "E501", str(tmp_path)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout[-3000:]


@pytest.mark.parametrize(("field", "change"), [
    ("rule_name", {"rule_name": "has space"}),
    ("rule_name", {"rule_name": "x" * 65}),
    ("producer_account", {"producer_account": "12345"}),
    ("consumer_account", {"consumer_account": "12345678901a"}),
    ("consumer_bus_name", {"consumer_bus_name": 'bus"; DROP'}),
    ("region", {"region": "mars"}),
    ("name_prefix", {"name_prefix": "a/b"}),
    ("event_pattern", {"event_pattern": {}}),
    ("event_pattern", {"event_pattern": {"a": [float("nan")]}}),
    ("event_names", {"event_names": ()}),
    ("max_retry_attempts", {"max_retry_attempts": 186}),
    ("max_event_age_seconds", {"max_event_age_seconds": 59}),
    ("max_retry_attempts", {"max_retry_attempts": True}),
    ("dedupe_table", {"dedupe_table": "a b"}),
    ("keys_secret", {"keys_secret": "k-${AWS::AccountId}"}),
    ("example_entry", {"example_entry": {"Source": "s", "DetailType": "d"}}),
    ("example_entry", {"example_entry": {"Source": "s", "DetailType": "d", "Detail": "[1]"}}),
    ("example_entry", {"example_entry": {"Source": "s", "DetailType": "d", "Detail": "{", "Time": object()}}),
    ("api_destination.endpoint", {"api_destination": ApiDestination("http://plain.example/")}),
    ("api_destination.endpoint", {"api_destination": ApiDestination('https://x.example/"><')}),
    ("api_destination.rate_per_second", {"api_destination": ApiDestination("https://x.example/",
                                                                            rate_per_second=MAX_RATE + 1)}),
    ("api_destination.auth", {"api_destination": ApiDestination("https://x.example/", auth="TOKEN")}),  # type: ignore[arg-type]
])
def test_a_spec_no_snippet_can_be_made_from_is_refused_naming_the_field(field: str, change: dict[str, Any]) -> None:
    base = dict(rule_name="r", event_pattern={"source": ["s"]}, producer_account="111111111111",
                producer_bus_name="b", region="eu-west-1", consumer_account="222222222222",
                consumer_bus_name="c", event_names=("E",))
    with pytest.raises(SnippetError) as caught:
        SnippetSpec(**{**base, **change})
    assert caught.value.field == field
    assert str(caught.value).startswith(f"{field}: ")


def test_an_unknown_format_is_refused_and_each_format_gives_snippets() -> None:
    s = spec("x", {"source": ["s"]}, destination=ApiDestination("https://h.example/e"))
    with pytest.raises(SnippetError, match="format: 'yaml' is not one of"):
        snippets(s, "yaml")
    for fmt in FORMATS:
        assert snippets(s, fmt)
    without = spec("x", {"source": ["s"]})
    assert len(snippets(without, "cfn")) == 3
