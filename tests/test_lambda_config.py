"""The Lambda handler's configuration (environment variables, read in one place) and what its import pulls in."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import ROOT
from pipeline.aws_lambda.config import LambdaConfigurationError, LambdaSettings, key_source, settings_from_environment
from pipeline.sealing.keys import JwksFile, JwksSecretsManager


def test_an_empty_environment_gives_the_documented_defaults() -> None:
    assert settings_from_environment({}) == LambdaSettings(
        contract="contract.json", keys=None, event_bus=None, max_entry_bytes=256 * 1024, put_attempts=4,
        service="eventdeck", metrics_namespace="eventdeck")


def test_every_variable_is_read() -> None:
    settings = settings_from_environment({
        "EVENTDECK_CONTRACT": "/var/task/c.json", "EVENTDECK_KEYS": "aws-secretsmanager:prod/jwks",
        "EVENTDECK_EVENT_BUS": "arn:aws:events:eu-west-1:111122223333:event-bus/x", "EVENTDECK_MAX_ENTRY_BYTES":
        "1048576", "EVENTDECK_PUT_ATTEMPTS": " 7 ", "POWERTOOLS_SERVICE_NAME": "orders-publisher",
        "POWERTOOLS_METRICS_NAMESPACE": "Orders"})
    assert settings == LambdaSettings("/var/task/c.json", "aws-secretsmanager:prod/jwks",
                                      "arn:aws:events:eu-west-1:111122223333:event-bus/x", 1048576, 7,
                                      "orders-publisher", "Orders")


def test_blank_values_mean_unset() -> None:
    assert settings_from_environment({"EVENTDECK_KEYS": "  ", "EVENTDECK_EVENT_BUS": ""}) == LambdaSettings()


@pytest.mark.parametrize(("variable", "value"), [
    ("EVENTDECK_PUT_ATTEMPTS", "0"), ("EVENTDECK_PUT_ATTEMPTS", "21"), ("EVENTDECK_PUT_ATTEMPTS", "-1"),
    ("EVENTDECK_PUT_ATTEMPTS", "3.5"), ("EVENTDECK_MAX_ENTRY_BYTES", "lots"),
    ("EVENTDECK_MAX_ENTRY_BYTES", "99999999999"), ("EVENTDECK_MAX_ENTRY_BYTES", "٣"),  # a non-ASCII digit
])
def test_an_unusable_number_names_its_variable(variable: str, value: str) -> None:
    with pytest.raises(LambdaConfigurationError, match=f"{variable}=.* is not a whole number"):
        settings_from_environment({variable: value})


def test_a_long_bad_value_is_shortened_in_the_message() -> None:
    with pytest.raises(LambdaConfigurationError) as caught:
        settings_from_environment({"EVENTDECK_PUT_ATTEMPTS": "x" * 10_000})
    assert len(str(caught.value)) < 200


def test_key_sources() -> None:
    assert key_source("aws-secretsmanager:prod/eventdeck/jwks") == JwksSecretsManager("prod/eventdeck/jwks")
    assert key_source("keys/private.jwks.json") == JwksFile("keys/private.jwks.json")
    with pytest.raises(LambdaConfigurationError, match="names no secret"):
        key_source("aws-secretsmanager: ")


def test_the_handler_imports_nothing_of_the_catalogue() -> None:
    probe = ("import json, sys; import pipeline.aws_lambda.handler; "
             "print(json.dumps(sorted({m.partition('.')[0] for m in sys.modules})))")
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    imported = set(json.loads(done.stdout))
    assert "pipeline" in imported
    assert imported.isdisjoint({"portal", "mkdocs", "jinja2", "nh3", "material"})
