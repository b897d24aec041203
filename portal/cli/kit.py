"""``eventdeck kit EVENT``: the subscription kit on the command line — the rule pattern for an event or a level of
its name hierarchy (``--format pattern``, the default), or the snippets that subscribe with it (CloudFormation, SAM,
CDK, Terraform, boto3, consumer Python), so what an event page shows is scriptable too."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from pipeline.contract import Catalogue
from pipeline.contract.model import Event
from portal.cli.contract_input import add_contract_arguments, load_contract
from portal.kit.errors import KitError
from portal.kit.examples import example_events
from portal.kit.filters import filter_pattern, merged
from portal.kit.patterns import KitPattern, event_named, level_pattern, levels
from portal.kit.specs import PLACEHOLDER_ACCOUNT, PLACEHOLDER_BUS, spec_for
from portal.kit.subscriptions import load_subscription

FORMATS = ("pattern", "cfn", "sam", "cdk", "terraform", "boto3", "python")
DEFAULT_BUS = PLACEHOLDER_BUS
EXIT_USAGE = 2


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "kit", help="print the rule pattern or a subscription snippet for an event",
        description="Print how to subscribe to EVENT: its EventBridge rule pattern (exact, or a level of the name "
                    "hierarchy with --level), optionally narrowed by a content filter, or a snippet that creates "
                    "the subscription (--format). Patterns are checked against the contract's examples.")
    parser.add_argument("event", metavar="EVENT", nargs="?",
                        help="an event name (Payment.Authorised.Ecom) or a hierarchy level (Payment.Authorised.*)")
    parser.add_argument("--subscription", metavar="FILE",
                        help="instead of EVENT: a subscription request (subscriptions/*.yaml), checked; its "
                             "pattern, filter, consumer account and bus or endpoint make the snippet")
    parser.add_argument("--format", choices=FORMATS, default="pattern",
                        help="pattern (the rule's event pattern JSON, default), cfn, sam, cdk, terraform, boto3 "
                             "or python (consumer code)")
    parser.add_argument("--level", metavar="LEVEL",
                        help="the hierarchy level: 'exact', a number of name parts (3 = Payment.Authorised.Ecom, "
                             "2 = Payment.Authorised.*, 1 = Payment.*) or the level itself; default: every level "
                             "for --format pattern, exact for snippets")
    parser.add_argument("--filter", action="append", default=[], metavar="FIELD=VALUE[,VALUE]",
                        help="keep only events whose payload FIELD is one of the values (fields with enum/const "
                             "values of an unsealed event; repeatable)")
    parser.add_argument("--consumer-account", metavar="ACCOUNT",
                        help=f"the consumer's AWS account id, for snippets (default: the placeholder "
                             f"{PLACEHOLDER_ACCOUNT})")
    parser.add_argument("--consumer-bus", metavar="NAME",
                        help=f"the consumer's event bus name, for snippets (default: {DEFAULT_BUS})")
    parser.add_argument("--endpoint", metavar="URL",
                        help="an HTTPS endpoint: the snippets add an API destination for a non-AWS consumer")
    add_contract_arguments(parser)
    parser.set_defaults(run=run_kit)


def run_kit(args: argparse.Namespace) -> int:
    if args.subscription is not None:
        given = [name for name, value in (("EVENT", args.event), ("--level", args.level), ("--filter", args.filter),
                                          ("--consumer-account", args.consumer_account),
                                          ("--consumer-bus", args.consumer_bus), ("--endpoint", args.endpoint))
                 if value]
        if given:
            return _usage(f"--subscription FILE says what {given[0]} would: give one or the other")
        return _from_subscription(args)
    if not args.event:
        return _usage("give an EVENT (or a hierarchy level such as Payment.*), or --subscription FILE")
    try:
        filters = [_parse_filter(text) for text in args.filter]
    except ValueError as exc:
        return _usage(str(exc))
    catalogue = load_contract(args)
    examples = example_events(catalogue)
    if args.event.endswith(".*"):
        if args.level is not None:
            return _usage(f"{args.event} is a level already: leave out --level")
        chosen = [level_pattern(catalogue, args.event, examples)]
        event = None
    else:
        event = event_named(catalogue, args.event)
        labels = levels(event)
        if args.level is not None:
            labels = [_level(event, args.level)]
        elif args.format != "pattern" or filters:  # a snippet, or a filter, is about one rule: the exact one
            labels = labels[:1]
        chosen = [level_pattern(catalogue, label, examples) for label in labels]
    if filters:
        chosen = [_filtered(kit, filters) for kit in chosen]
    if args.format == "pattern":
        if args.level is not None or args.event.endswith(".*") or filters:
            print(json.dumps(chosen[0].pattern, indent=2, ensure_ascii=False))
        else:
            print(json.dumps([kit.as_json(event.key if event else None) for kit in chosen], indent=2,
                             ensure_ascii=False))
        return 0
    return _print_snippets(args, catalogue, chosen[0], examples)


def _from_subscription(args: argparse.Namespace) -> int:
    """The pattern or snippets of one subscription request, exactly as ``eventdeck run`` and the deployment use it."""
    catalogue = load_contract(args)
    examples = example_events(catalogue)
    subscription = load_subscription(args.subscription, catalogue, examples)
    level = level_pattern(catalogue, subscription.level, examples)
    kit = KitPattern(level.label, level.depth, level.exact, subscription.pattern, level.matches, level.filters,
                     level.eventbridge)
    if args.format == "pattern":
        print(json.dumps(kit.pattern, indent=2, ensure_ascii=False))
        return 0
    args.consumer_account = subscription.account
    args.consumer_bus = subscription.bus.rsplit("/", 1)[-1] if subscription.bus else None
    args.endpoint = subscription.endpoint
    return _print_snippets(args, catalogue, kit, examples, rule_name=subscription.rule_name)


def _usage(message: str) -> int:
    print(f"eventdeck kit: {message}", file=sys.stderr)
    return EXIT_USAGE


def _parse_filter(text: str) -> tuple[str, list[str]]:
    field, equals, values = text.partition("=")
    if not equals or not field.strip() or not values.strip():
        raise ValueError(f"--filter {text[:80]!r}: write FIELD=VALUE or FIELD=VALUE1,VALUE2 (e.g. market=DE)")
    return field.strip(), [v.strip() for v in values.split(",") if v.strip()]


def _level(event: Event, given: str) -> str:
    labels = levels(event)
    depth = len(labels)
    if given == "exact":
        return labels[0]
    if given.isdigit() and len(given) < 4:
        number = int(given)
        if 1 <= number <= depth:
            return labels[depth - number]
    if given in labels:
        return given
    raise KitError(f"--level {given[:80]!r}: {event.name} has the levels exact, 1 to {depth} "
                   f"({', '.join(labels)})")


def _filtered(kit: KitPattern, filters: list[tuple[str, list[str]]]) -> KitPattern:
    """``kit`` narrowed by the filters; numbers in a filter are matched as the schema's numbers."""
    pattern = dict(kit.pattern)
    for name, texts in filters:
        if not kit.filters.fields:
            raise KitError(f"--filter {name}: {kit.label} offers no content filter: {kit.filters.unavailable}")
        field = kit.filters.field(name)
        if field is None:
            raise KitError(f"--filter {name}: not a payload field of {kit.label} with enum or const values "
                           f"(filterable: {', '.join(f.name for f in kit.filters.fields)})")
        by_text = {str(v): v for v in field.values}
        unknown = [t for t in texts if t not in by_text]
        if unknown:
            raise KitError(f"--filter {name}={unknown[0]}: never sent; {kit.label} allows "
                           f"{', '.join(by_text)}")
        pattern = merged(pattern, filter_pattern(field, [by_text[t] for t in texts]))
    return KitPattern(kit.label, kit.depth, kit.exact, pattern, kit.matches, kit.filters, kit.eventbridge)


def _print_snippets(args: argparse.Namespace, catalogue: Catalogue, kit: KitPattern, examples: list[Any],
                    rule_name: str | None = None) -> int:
    from portal.kit import snippets

    spec = spec_for(catalogue, kit, examples, consumer_account=args.consumer_account,
                    consumer_bus=args.consumer_bus, endpoint=args.endpoint, rule=rule_name)
    made = snippets.snippets(spec, args.format)
    for number, snippet in enumerate(made):
        if len(made) > 1:
            print(f"{'' if number == 0 else chr(10)}# --- {snippet.filename}: {snippet.title} ---")
        print(snippet.text.rstrip("\n"))
    return 0
