"""What a snippet is generated from: one small typed value per subscription, checked before any text is made.

Names reach the snippets from documents and subscription files, which are hostile: every field is checked here
against what AWS itself accepts (so a generated template never fails on a name it could have refused up front),
and every value is still quoted for its language by the generators (``portal.kit.snippets.quoting``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from pipeline.errors import EventdeckError

__all__ = ["ApiDestination", "Auth", "Mode", "SnippetError", "SnippetSpec"]

_ACCOUNT: Final = re.compile(r"\d{12}")
_REGION: Final = re.compile(r"[a-z]{2}(-[a-z]+)+-\d{1,2}")
_RULE: Final = re.compile(r"[.\-_A-Za-z0-9]{1,64}")
_BUS: Final = re.compile(r"[/.\-_A-Za-z0-9]{1,256}")
# The prefix of every resource name a snippet makes (queues, roles, connections): AWS's strictest charset
# (IAM role names allow more, SQS queue names less), 40 characters so suffixes stay under every limit.
_PREFIX: Final = re.compile(r"[\-_A-Za-z0-9]{1,40}")
_HTTPS: Final = re.compile(r"https://[^\s\"'<>\\{}|^`]{1,2000}")
#: EventBridge's retry policy bounds (RetryPolicy in PutTargets).
MAX_RETRY_ATTEMPTS: Final = 185
MIN_EVENT_AGE: Final = 60
MAX_EVENT_AGE: Final = 86_400
#: ApiDestination InvocationRateLimitPerSecond bounds.
MAX_RATE: Final = 300


class SnippetError(EventdeckError):
    """A subscription value no snippet can be made from; ``field`` names it."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class Auth(StrEnum):
    """How an API destination's connection authorises (EventBridge ``AuthorizationType``)."""

    API_KEY = "API_KEY"
    OAUTH = "OAUTH_CLIENT_CREDENTIALS"
    BASIC = "BASIC"


class Mode(StrEnum):
    """How the CloudEvent reaches an HTTP endpoint (CloudEvents HTTP binding)."""

    STRUCTURED = "structured"  # the CloudEvent JSON is the body (application/cloudevents+json)
    BINARY = "binary"  # attributes as ce- headers, the data (a token when sealed) as the body


@dataclass(frozen=True, slots=True)
class ApiDestination:
    """A non-AWS consumer's HTTPS endpoint. Secrets are never part of a snippet: templates take them as
    parameters or variables (``NoEcho`` / ``sensitive``)."""

    endpoint: str
    auth: Auth = Auth.API_KEY
    mode: Mode = Mode.STRUCTURED
    rate_per_second: int = 10
    api_key_header: str = "x-api-key"
    oauth_token_url: str = "https://auth.example.com/oauth2/token"

    def check(self) -> None:
        _match(_HTTPS, self.endpoint, "api_destination.endpoint", "an https:// URL without spaces or quotes")
        _match(_HTTPS, self.oauth_token_url, "api_destination.oauth_token_url",
               "an https:// URL without spaces or quotes")
        if not isinstance(self.auth, Auth):
            raise SnippetError(f"{self.auth!r} is not one of {', '.join(a.value for a in Auth)}",
                               field="api_destination.auth")
        if not isinstance(self.mode, Mode):
            raise SnippetError(f"{self.mode!r} is not one of {', '.join(m.value for m in Mode)}",
                               field="api_destination.mode")
        _bounded(self.rate_per_second, 1, MAX_RATE, "api_destination.rate_per_second")
        _match(re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}"), self.api_key_header,
               "api_destination.api_key_header", "an HTTP header name")


@dataclass(frozen=True, slots=True)
class SnippetSpec:
    """One subscription: which events (``event_pattern``, already made by the pattern engine), from which
    producer bus to which consumer, and how the consumer's workload is delivered.

    :param sealed: the events' data is a sealed token (``application/jwt``): binary-mode HTTP bodies carry the
        token as text, and the consumer code opens it under the contract.
    :param example_entry: one ``PutEvents`` entry the pattern matches (the boto3 snippet's smoke test).
    :param name_prefix: the prefix of every resource name the snippets create (queues, roles, connection).
    :param max_retry_attempts: EventBridge's retries of a failed delivery (``RetryPolicy``, 0-185), and
        ``max_event_age_seconds`` how long it keeps trying (60-86400); then the event goes to the rule's DLQ.
    :param max_receive_count: receives of one SQS message before the queue's redrive moves it to the DLQ.
    :param contract_path: the runtime contract artefact (``eventdeck bundle``) the consumer code loads.
    :param keys_path: the consumer's JWKS file the consumer code loads (unless ``keys_secret``).
    :param dedupe_table: a DynamoDB table for the consumer code's idempotency records (default: SQLite).
    :param keys_secret: a Secrets Manager secret (name or ARN) holding the consumer's JWKS; the consumer code then
        reads its keys there instead of ``keys_path`` (on Lambda, keep private keys out of the package).
    """

    rule_name: str
    event_pattern: Mapping[str, Any]
    producer_account: str
    producer_bus_name: str
    region: str
    consumer_account: str
    consumer_bus_name: str
    event_names: tuple[str, ...]
    sealed: bool = True
    example_entry: Mapping[str, Any] | None = None
    name_prefix: str = "eventdeck-sub"
    max_retry_attempts: int = 8
    max_event_age_seconds: int = 3600
    max_receive_count: int = 5
    api_destination: ApiDestination | None = None
    contract_path: str = "contract.json"
    keys_path: str = "keys/consumer.jwks.json"
    keys_secret: str | None = None
    dedupe_table: str | None = None

    def __post_init__(self) -> None:
        self.check()

    def check(self) -> None:
        """:raises SnippetError: the first field AWS (or the language) would refuse, by name."""
        _match(_RULE, self.rule_name, "rule_name", "1-64 of A-Z a-z 0-9 . - _")
        for name in ("producer_account", "consumer_account"):
            _match(_ACCOUNT, getattr(self, name), name, "a 12-digit AWS account id")
        for name in ("producer_bus_name", "consumer_bus_name"):
            _match(_BUS, getattr(self, name), name, "1-256 of A-Z a-z 0-9 / . - _")
        _match(_REGION, self.region, "region", "an AWS region such as eu-west-1")
        _match(_PREFIX, self.name_prefix, "name_prefix", "1-40 of A-Z a-z 0-9 - _")
        if not isinstance(self.event_pattern, Mapping) or not self.event_pattern:
            raise SnippetError("must be a non-empty JSON object", field="event_pattern")
        try:
            json.dumps(self.event_pattern, allow_nan=False)
        except (TypeError, ValueError, RecursionError) as err:
            raise SnippetError(f"is not JSON ({type(err).__name__})", field="event_pattern") from None
        if not self.event_names or not all(isinstance(n, str) and n for n in self.event_names):
            raise SnippetError("must name at least one event", field="event_names")
        _bounded(self.max_retry_attempts, 0, MAX_RETRY_ATTEMPTS, "max_retry_attempts")
        _bounded(self.max_event_age_seconds, MIN_EVENT_AGE, MAX_EVENT_AGE, "max_event_age_seconds")
        _bounded(self.max_receive_count, 1, 1000, "max_receive_count")
        if self.example_entry is not None:
            _check_entry(self.example_entry)
        if self.api_destination is not None:
            self.api_destination.check()
        for name in ("contract_path", "keys_path"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value or "\x00" in value:
                raise SnippetError("must be a non-empty path", field=name)
        if self.keys_secret is not None:
            _match(re.compile(r"[A-Za-z0-9/_+=.@:-]{1,2048}"), self.keys_secret, "keys_secret",
                   "a Secrets Manager secret name or ARN")
        if self.dedupe_table is not None:
            _match(re.compile(r"[.\-_A-Za-z0-9]{3,255}"), self.dedupe_table, "dedupe_table",
                   "a DynamoDB table name (3-255 of A-Z a-z 0-9 . - _)")

    @property
    def producer_bus_arn(self) -> str:
        return _bus_arn(self.region, self.producer_account, self.producer_bus_name)

    @property
    def consumer_bus_arn(self) -> str:
        return _bus_arn(self.region, self.consumer_account, self.consumer_bus_name)

    def name(self, suffix: str) -> str:
        """A resource name of this subscription: ``{name_prefix}-{suffix}`` (≤ 64 characters, AWS's charset)."""
        return f"{self.name_prefix}-{suffix}"


def _bus_arn(region: str, account: str, bus: str) -> str:
    return f"arn:aws:events:{region}:{account}:event-bus/{bus}"


def _check_entry(entry: Any) -> None:
    """A ``PutEvents`` entry: ``Source`` and ``DetailType`` text, ``Detail`` a JSON object's text, all JSON."""
    if not isinstance(entry, Mapping) or not all(isinstance(entry.get(k), str) for k in
                                                 ("Source", "DetailType", "Detail")):
        raise SnippetError("must be a PutEvents entry with Source, DetailType and Detail strings",
                           field="example_entry")
    try:
        json.dumps(dict(entry), allow_nan=False)
        detail = json.loads(entry["Detail"])
    except (TypeError, ValueError, RecursionError) as err:
        raise SnippetError(f"is not JSON ({type(err).__name__})", field="example_entry") from None
    if not isinstance(detail, dict):
        raise SnippetError("Detail must be a JSON object", field="example_entry")


def _match(pattern: re.Pattern[str], value: Any, name: str, expected: str) -> None:
    if not isinstance(value, str) or pattern.fullmatch(value) is None:
        shown = repr(value) if isinstance(value, str) and len(value) <= 80 else f"<{type(value).__name__}>"
        raise SnippetError(f"{shown} is not {expected}", field=name)


def _bounded(value: Any, low: int, high: int, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise SnippetError(f"{value!r} is not a whole number from {low} to {high}", field=name)
