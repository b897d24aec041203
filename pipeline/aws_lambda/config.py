"""The Lambda handler's configuration: environment variables, read here and nowhere else.

=============================  ==================================================================================
variable                       meaning
=============================  ==================================================================================
``EVENTDECK_CONTRACT``         the runtime artefact (``eventdeck bundle -o contract.json``); default
                               ``contract.json`` in the working directory (the function's task root)
``EVENTDECK_KEYS``             the producer's private JWKS: ``aws-secretsmanager:<secret id or ARN>`` (recommended:
                               the secret's ``SecretString`` is the JWKS) or a file path; unset when nothing is sealed
``EVENTDECK_EVENT_BUS``        the bus every entry goes to (a name or an ARN, e.g. a cross-account bus); default:
                               each event's ``x-eventbridge`` bus from the contract
``EVENTDECK_MAX_ENTRY_BYTES``  the PutEvents entry size limit; default 262144 (256 KiB)
``EVENTDECK_PUT_ATTEMPTS``     sends per entry before it is reported undeliverable; default 4
``POWERTOOLS_SERVICE_NAME``    the ``service`` of logs, metrics and traces; default ``eventdeck``
``POWERTOOLS_METRICS_NAMESPACE``  the CloudWatch namespace of the metrics; default ``eventdeck``
=============================  ==================================================================================

The AWS SDK reads its own (``AWS_REGION``, credentials, ``AWS_ENDPOINT_URL`` for an emulator); Powertools reads
its own too (``POWERTOOLS_LOG_LEVEL``, ``POWERTOOLS_TRACE_DISABLED``…).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from pipeline.bus.port import DEFAULT_MAX_ENTRY_BYTES
from pipeline.errors import EventdeckError
from pipeline.sealing.keys import JwksFile, JwksSecretsManager

__all__ = ["SECRETS_MANAGER_PREFIX", "LambdaConfigurationError", "LambdaSettings", "key_source",
           "settings_from_environment"]

SECRETS_MANAGER_PREFIX: Final = "aws-secretsmanager:"
_MAX_ATTEMPTS_LIMIT: Final = 20


class LambdaConfigurationError(EventdeckError):
    """The function is configured wrongly (a variable's value, the contract, the keys): every invocation fails
    with this message until the configuration is fixed."""


@dataclass(frozen=True, slots=True)
class LambdaSettings:
    """What the handler needs to know about its deployment (see the module docstring for the variables)."""

    contract: str = "contract.json"
    keys: str | None = None
    event_bus: str | None = None
    max_entry_bytes: int = DEFAULT_MAX_ENTRY_BYTES
    put_attempts: int = 4
    service: str = "eventdeck"
    metrics_namespace: str = "eventdeck"


def settings_from_environment(environ: Mapping[str, str] | None = None) -> LambdaSettings:
    """The settings the environment gives (``os.environ`` by default).

    :raises LambdaConfigurationError: naming the variable whose value is unusable.
    """
    env = os.environ if environ is None else environ

    def text(name: str) -> str | None:
        value = env.get(name, "").strip()
        return value or None

    return LambdaSettings(
        contract=text("EVENTDECK_CONTRACT") or "contract.json",
        keys=text("EVENTDECK_KEYS"),
        event_bus=text("EVENTDECK_EVENT_BUS"),
        max_entry_bytes=_whole_number(env, "EVENTDECK_MAX_ENTRY_BYTES", DEFAULT_MAX_ENTRY_BYTES, 1, 16 * 1024 * 1024),
        put_attempts=_whole_number(env, "EVENTDECK_PUT_ATTEMPTS", 4, 1, _MAX_ATTEMPTS_LIMIT),
        service=text("POWERTOOLS_SERVICE_NAME") or "eventdeck",
        metrics_namespace=text("POWERTOOLS_METRICS_NAMESPACE") or "eventdeck",
    )


def _whole_number(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not (raw.isascii() and raw.isdigit()) or not low <= int(raw) <= high:  # int() also reads "٣"
        shown = raw if len(raw) <= 40 else raw[:40] + "..."
        raise LambdaConfigurationError(f"environment variable {name}={shown!r} is not a whole number from {low} "
                                       f"to {high}")
    return int(raw)


def key_source(text: str) -> JwksFile | JwksSecretsManager:
    """``aws-secretsmanager:<id>`` names a Secrets Manager secret; anything else is a file path."""
    if text.startswith(SECRETS_MANAGER_PREFIX):
        secret = text[len(SECRETS_MANAGER_PREFIX):].strip()
        if not secret:
            raise LambdaConfigurationError(f"EVENTDECK_KEYS={text!r} names no secret after "
                                           f"{SECRETS_MANAGER_PREFIX!r}")
        return JwksSecretsManager(secret)
    return JwksFile(text)
