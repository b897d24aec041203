"""Specs for the snippet tests: one per example event (its exact pattern), one per hierarchy prefix, and hostile
ones whose names try to break out of every language's quoting."""

from __future__ import annotations

import json
from typing import Any

from pipeline.contract import Catalogue
from portal.kit.snippets import ApiDestination, Auth, Mode, SnippetSpec

PRODUCER, CONSUMER, REGION = "111111111111", "222222222222", "eu-west-1"

#: What a hostile document might put in an event name or source: quotes, YAML and HCL syntax, interpolation,
#: Python escapes, a newline, a NUL, non-ASCII.
HOSTILE = 'Evil"\'\n${jndi}%{x}\\u0000 #: !Ref {{x}} """ é\x00'


def source_of(catalogue: Catalogue, name: str) -> str:
    event = next(e for e in catalogue.events if e.name == name)
    document = next(d for d in catalogue.documents if d.id == event.document_id)
    assert document.source is not None
    return document.source


def spec(name: str, pattern: dict[str, Any], *, sealed: bool = True, destination: ApiDestination | None = None,
         names: tuple[str, ...] | None = None, **options: Any) -> SnippetSpec:
    values: dict[str, Any] = dict(
        rule_name=("sub-" + "".join(c if c.isalnum() or c in "-_." else "-" for c in name))[:64],
        event_pattern=pattern, producer_account=PRODUCER, producer_bus_name="payments-bus", region=REGION,
        consumer_account=CONSUMER, consumer_bus_name="consumer-bus", event_names=names or (name,), sealed=sealed,
        api_destination=destination)
    return SnippetSpec(**{**values, **options})


def example_specs(catalogue: Catalogue) -> list[SnippetSpec]:
    """Every example event's exact pattern, each hierarchy prefix, with API destinations cycling through the
    auth kinds and both modes."""
    out: list[SnippetSpec] = []
    kinds = [(a, m) for a in Auth for m in Mode]
    for i, event in enumerate(catalogue.events):
        sealed = event.sealing is not None and event.sealing.policy is not None
        auth, mode = kinds[i % len(kinds)]
        destination = ApiDestination("https://consumer.example.com/events", auth=auth, mode=mode)
        pattern = {"source": [source_of(catalogue, event.name)], "detail-type": [event.name]}
        out.append(spec(event.name, pattern, sealed=sealed, destination=destination))
    prefixes = sorted({".".join(e.parts[:n]) + "." for e in catalogue.events for n in range(1, len(e.parts))})
    for prefix in prefixes:
        names = tuple(e.name for e in catalogue.events if e.name.startswith(prefix))
        pattern = {"detail-type": [{"prefix": prefix}]}
        out.append(spec(prefix + "all", pattern, names=names,
                        destination=ApiDestination("https://consumer.example.com/in", mode=Mode.BINARY)))
    return out


def hostile_spec(**options: Any) -> SnippetSpec:
    pattern = {"source": [HOSTILE], "detail-type": [HOSTILE, {"prefix": HOSTILE}], HOSTILE: [HOSTILE],
               "detail": {"currency": ["EUR", HOSTILE]}}
    entry = {"Source": HOSTILE, "DetailType": HOSTILE, "Detail": json.dumps({"id": HOSTILE}), "EventBusName": "x"}
    options = {"example_entry": entry, **options}
    return spec("hostile", pattern, names=(HOSTILE,), destination=ApiDestination(
        "https://consumer.example.com/a?b=c&d=%24%7B", auth=Auth.OAUTH, mode=Mode.BINARY), **options)


def cfn_lint(texts: list[tuple[str, str]]) -> list[str]:
    """cfn-lint on each (name, template text) in one process with the rules loaded once; every error and
    warning as text (informational findings are not problems)."""
    from cfnlint.config import ConfigMixIn
    from cfnlint.decode import decode_str
    from cfnlint.runner import Runner, run_template_by_data

    config = ConfigMixIn(regions=[REGION])
    rules = Runner(config).rules
    problems = []
    for name, text in texts:
        template, errors = decode_str(text)
        matches = list(errors or []) or list(run_template_by_data(template, config, rules))
        problems += [f"{name}: {m.rule.id} {m.message}" for m in matches if not m.rule.id.startswith("I")]
    return problems
