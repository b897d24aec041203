"""Subscription requests as files: ``subscriptions/*.yaml``, one consumer's request each, reviewed by pull request.

A file names the consumer team, its account and bus (or an HTTP endpoint for a non-AWS consumer), an event or a
level of the name hierarchy, and optionally a content filter. :func:`load_subscriptions` checks each file against
``subscription.schema.json`` and then against the contract (the event exists, the pattern matches some event, the
filter is on a field the bus can read with a value the event can carry), and gives each subscription its compiled
rule pattern, for the catalogue's "Consumed by", the local bus of ``eventdeck run`` and the deployment.
"""

from __future__ import annotations

import functools
import ipaddress
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from pipeline.contract.errors import Location, SourceError
from pipeline.contract.model import Catalogue
from pipeline.contract.source import SourceDocument, parse_text
from pipeline.patterns import EventPattern, PatternError, compile_pattern
from portal.kit.errors import KitError, SubscriptionError
from portal.kit.examples import ExampleEvent, example_events
from portal.kit.filters import filter_pattern, merged
from portal.kit.patterns import KitPattern, level_pattern
from portal.render.urls import safe_url

SCHEMA_FILE = Path(__file__).with_name("subscription.schema.json")
MAX_FILE_BYTES = 64 * 1024  # a request is a dozen lines; anything bigger is not one
_RULE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
_ARN_ACCOUNT = re.compile(r"^arn:[^:]+:events:[^:]+:([0-9]{12}):")


@dataclass(frozen=True)
class Subscription:
    """One checked request: who, where, the level it subscribes to and the rule ``pattern`` (filter included)."""

    file: str
    team: str
    account: str
    bus: str | None
    endpoint: str | None
    level: str
    filter: Mapping[str, tuple[Any, ...]]
    pattern: dict[str, Any]
    compiled: EventPattern = field(repr=False, compare=False)
    events: tuple[str, ...] = ()
    """The events the level selects (by the pattern engine over the contract's examples; the filter may narrow)."""

    @property
    def rule_name(self) -> str:
        """A rule name EventBridge accepts (64 characters of ``[A-Za-z0-9._-]``), from the file name."""
        stem = _RULE_NAME.sub("-", Path(self.file).stem).strip("-") or "subscription"
        return f"sub-{stem}"[:64]

    def receives(self, event_key: str) -> bool:
        return event_key in self.events


def load_subscriptions(folder: str | Path, catalogue: Catalogue) -> list[Subscription]:
    """Every ``*.yaml``/``*.yml`` request in ``folder``, checked. :raises SubscriptionError: with every problem of
    every file (file, line, pointer), so one run shows them all; :raises KitError: when the folder is unreadable."""
    path = Path(folder)
    if not path.is_dir():
        raise KitError(f"{path}: no such folder of subscription requests")
    files = sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
    examples = example_events(catalogue)
    found: list[Subscription] = []
    problems: list[tuple[Location, str]] = []
    rules: dict[str, str] = {}
    for file in files:
        try:
            subscription = load_subscription(file, catalogue, examples)
        except SubscriptionError as exc:
            problems.extend(exc.problems)
            continue
        other = rules.setdefault(subscription.rule_name, subscription.file)
        if other != subscription.file:  # "a.yaml" and "a.yml" would replace each other's rule
            problems.append((Location(subscription.file), f"its rule name {subscription.rule_name} is also that of "
                                                          f"{other}: rename one of the files"))
            continue
        found.append(subscription)
    if problems:
        raise SubscriptionError(problems)
    return found


def load_subscription(file: str | Path, catalogue: Catalogue,
                      examples: list[ExampleEvent] | None = None) -> Subscription:
    """One request file, checked. :raises SubscriptionError: naming each mistake's line and pointer."""
    name = str(file)
    source = _parse(name)
    data = source.data
    problems = [(d.location, d.message) for d in source.diagnostics]
    problems += [(source.locate(pointer), message) for pointer, message in _schema_problems(data)]
    if problems:
        raise SubscriptionError(problems)
    examples = example_events(catalogue) if examples is None else examples
    consumer, subscribe = data["consumer"], data["subscribe"]
    problems += [(source.locate(p), m) for p, m in _consumer_problems(consumer)]
    key = "event" if "event" in subscribe else "hierarchy"
    level = subscribe[key]
    try:
        chosen = level_pattern(catalogue, level, examples)
    except KitError as exc:
        raise SubscriptionError([*problems, (source.locate(f"/subscribe/{key}"), str(exc))]) from None
    if not chosen.matches:
        problems.append((source.locate(f"/subscribe/{key}"),
                         f"the pattern for {level} matches none of the contract's example events"))
    pattern = dict(chosen.pattern)
    wanted = data.get("filter") or {}
    for path, values in wanted.items():
        message = _filter_problem(chosen, path, values)
        if message is not None:
            problems.append((source.locate(f"/filter/{_escape(path)}"), message))
        else:
            offered = chosen.filters.field(path)
            assert offered is not None  # _filter_problem found it
            pattern = merged(pattern, filter_pattern(offered, values))
    if problems:
        raise SubscriptionError(problems)
    try:
        compiled = compile_pattern(pattern)
    except PatternError as exc:  # the kit builds only patterns EventBridge accepts; say so if one slips through
        raise SubscriptionError([(source.locate("/subscribe"), f"the rule pattern is refused: {exc}")]) from None
    return Subscription(name, data["team"], consumer["account"], consumer.get("bus"), consumer.get("endpoint"),
                        level, {k: tuple(v) for k, v in wanted.items()}, pattern, compiled, chosen.matches)


def subscribers(subscriptions: list[Subscription], event_key: str) -> list[Subscription]:
    """The subscriptions that receive ``event_key`` (for the catalogue's "Consumed by")."""
    return [s for s in subscriptions if s.receives(event_key)]


def _parse(name: str) -> SourceDocument:
    try:
        with open(name, "rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise SubscriptionError([(Location(name), f"cannot read the file: {exc.strerror or exc}")]) from None
    if len(raw) > MAX_FILE_BYTES:
        raise SubscriptionError([(Location(name), f"over {MAX_FILE_BYTES:,} bytes: not a subscription request")])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SubscriptionError([(Location(name), f"not UTF-8 text (byte {exc.start})")]) from None
    try:
        return parse_text(text, name)
    except SourceError as exc:
        raise SubscriptionError([(exc.location or Location(name), exc.message)]) from None


@functools.cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator(json.loads(SCHEMA_FILE.read_text(encoding="utf-8")))


def _schema_problems(data: Any) -> list[tuple[str, str]]:
    if not isinstance(data, dict):
        return [("", "a subscription request is a mapping with team, consumer and subscribe")]
    errors = sorted(_validator().iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
    return [_explain(error) for error in errors]


def _explain(error: ValidationError) -> tuple[str, str]:
    """A schema error as (pointer, message) a requester understands."""
    path = [str(p) for p in error.absolute_path]
    pointer = "".join(f"/{_escape(p)}" for p in path)
    where = ".".join(path) or "the request"
    keyword, value = error.validator, error.instance
    if keyword == "additionalProperties" and isinstance(value, dict):
        allowed = sorted(error.schema.get("properties", {}))
        unknown = [k for k in value if k not in allowed]
        first = unknown[0] if unknown else ""
        return (f"{pointer}/{_escape(first)}",
                f"unknown field {first!r} in {where} (allowed: {', '.join(allowed)})")
    if keyword == "required":
        return pointer, f"{where}: {error.message}"
    if keyword == "oneOf" and path == ["consumer"]:
        return pointer, "consumer: give exactly one of 'bus' (an AWS consumer) or 'endpoint' (an HTTP consumer)"
    if keyword == "oneOf" and path == ["subscribe"]:
        return pointer, "subscribe: give exactly one of 'event' (a name) or 'hierarchy' (a level such as Payment.*)"
    if keyword == "pattern" and path == ["consumer", "account"]:
        return pointer, f"consumer.account {_shown(value)} is not a 12-digit AWS account id"
    if keyword == "pattern" and path == ["consumer", "bus"]:
        return pointer, (f"consumer.bus {_shown(value)} is neither a bus name nor an event-bus ARN "
                         "(arn:aws:events:REGION:ACCOUNT:event-bus/NAME)")
    if keyword == "pattern" and path == ["subscribe", "hierarchy"]:
        return pointer, f"subscribe.hierarchy {_shown(value)} is not a level such as Payment.Authorised.* or Payment.*"
    if keyword == "pattern" and path == ["subscribe", "event"]:
        return pointer, f"subscribe.event {_shown(value)} is not an event name such as Payment.Authorised.Ecom"
    if keyword == "type" and path == ["consumer", "account"]:
        return pointer, f"consumer.account {_shown(value)}: write the account id in quotes (a 12-digit string)"
    if keyword == "type":
        return pointer, f"{where}: {_shown(value)} is not of type {error.validator_value}"
    if keyword == "pattern":
        return pointer, f"{where}: {_shown(value)} does not have the expected form"
    return pointer, f"{where}: {_shown(value)}: {error.message[:200]}"


def _consumer_problems(consumer: Mapping[str, Any]) -> list[tuple[str, str]]:
    problems = []
    endpoint = consumer.get("endpoint")
    if endpoint is not None:
        why = endpoint_problem(endpoint)
        if why:
            problems.append(("/consumer/endpoint", f"consumer.endpoint {_shown(endpoint)}: {why}"))
    bus = consumer.get("bus")
    arn = _ARN_ACCOUNT.match(bus) if isinstance(bus, str) else None
    if arn is not None and arn.group(1) != consumer["account"]:
        problems.append(("/consumer/bus", f"consumer.bus is in account {arn.group(1)}, not the consumer account "
                                          f"{consumer['account']}"))
    return problems


def endpoint_problem(url: str) -> str | None:
    """Why ``url`` cannot be an HTTP consumer's endpoint, or ``None``: the catalogue's URL rules (``safe_url``),
    absolute, ``https`` (an EventBridge API destination requires it; ``http`` only on the loopback, for local runs),
    a host, no user name or password in it (credentials belong in the connection)."""
    if safe_url(url, relative=False) is None or url != url.strip():
        return "not a URL the catalogue accepts (control characters, a script scheme, or not absolute)"
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError as exc:
        return f"not a valid URL ({exc})"
    if parts.scheme not in ("https", "http") or not host:
        return "give an absolute https:// URL with a host"
    if parts.username is not None or parts.password is not None:
        return "credentials do not go in the URL (the connection holds them)"
    if parts.scheme == "http" and not _loopback(host):
        return "an EventBridge API destination needs https (http is accepted only on the loopback, for local runs)"
    return None


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _filter_problem(chosen: KitPattern, path: str, values: list[Any]) -> str | None:
    if chosen.filters.unavailable is not None and not chosen.filters.fields:
        return f"cannot filter {chosen.label} on {path!r}: {chosen.filters.unavailable}"
    offered = chosen.filters.field(path)
    if offered is None:
        names = ", ".join(f.name for f in chosen.filters.fields)
        return f"{path!r} is not a payload field of {chosen.label} with enum or const values (filterable: {names})"
    never = [v for v in values if v not in offered.values or isinstance(v, bool)]
    if never:
        allowed = ", ".join(map(str, offered.values))
        return f"{path} {_shown(never[0])} is never sent: {chosen.label} allows {allowed}"
    return None


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=True, default=str)
    return text if len(text) <= 80 else text[:77] + "..."
