"""``eventdeck run``: the local main job — internal events through the pipeline, the outbox and the local bus, to
the subscriptions configured locally, with a summary.

internal events (the contract's samples by default, JSON Lines/JSON files, or stdin ``-``) → the Producer (enrich,
validate, envelope, seal) → the outbox (each sealed entry stored durably before it is published) → the local bus
(one SQLite file in the state folder) → the rule ``eventdeck-consumer``: a local HTTP consumer this command starts
on 127.0.0.1, which opens each event with the consumer library (verify, decrypt, validate against the contract)
and de-duplicates it; and the rule ``eventdeck-targets``: the ``--target`` endpoints, if any.

A batch always completes: an input that cannot be read, an event that fails a stage, an entry the bus refuses, a
delivery that is dead-lettered — each is reported on stderr with its file and line or event id, and the others
go on. Everything the command writes is inside the state folder (``--state``, default ``.eventdeck/``): the bus,
the outbox, the consumer's de-duplication store, the events it opened (``opened.jsonl``), and, on a first run
with no keys anywhere, development keys (it says so).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterable
from typing import Any

from pipeline.bus import Bus
from pipeline.bus.eventbridge import EventBridgeBus, eventbridge_client
from pipeline.bus.local import HttpTarget, LocalBus, LocalBusError
from pipeline.consumer.http_server import ConsumerServer
from pipeline.contract import Catalogue
from pipeline.enrichment.samples import SampleInputs, sample_inputs
from pipeline.outbox import Outbox
from pipeline.produce import Failed, Producer, Published
from pipeline.sealing.keys import KeySet
from portal.cli.contract_input import add_contract_arguments, load_contract
from portal.cli.json_input import InputEvent, UnreadableInput, read_events
from portal.cli.local_delivery import (
    DEFAULT_WAIT_S,
    LOCAL_RETRY,
    account,
    consumer_target,
    deliver,
    last_dead_letter,
)
from portal.cli.local_state import (
    CONSUMER_RULE,
    TARGETS_RULE,
    StateFolder,
    StateProblem,
    add_format_argument,
    add_key_arguments,
    add_state_argument,
    exclusive,
    keys_note,
    local_keys,
    start_consumer,
    state_folder,
    write_opened,
)
from portal.cli.progress import Progress
from portal.cli.run_subscriptions import SubscriptionRule, configure_subscriptions, subscription_rules
from portal.cli.run_summary import EXIT_CODES_HELP, EXIT_USAGE, RunSummary

#: Entries handed to the outbox (one synced transaction) and published at a time.
BATCH = 200
#: At most five targets per rule, as EventBridge allows.
MAX_TARGETS = 5


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "run", help="run the pipeline locally: internal events onto the local bus, delivered to a local consumer",
        description="Enrich, validate, envelope and seal internal events as the contract says, publish them through "
                    "the outbox onto the local bus (a SQLite file in the state folder), and deliver them to a local "
                    "HTTP consumer that opens and de-duplicates each one (and to any --target). Prints a summary.",
        epilog=EXIT_CODES_HELP)
    parser.add_argument("inputs", nargs="*", metavar="INPUT",
                        help="files of internal events (JSON Lines, a JSON object or array; '-': stdin); default: "
                             "the contract's own x-enrichment samples")
    add_contract_arguments(parser)
    add_key_arguments(parser)
    add_state_argument(parser)
    parser.add_argument("--target", action="append", default=[], metavar="URL",
                        help=f"also deliver every event to this HTTP endpoint (repeatable, at most {MAX_TARGETS}; "
                             "a 2xx answer is delivered; 401, 407, 409, 429, 5xx and time-outs are retried; any "
                             "other answer is dead-lettered, as for an EventBridge API destination)")
    parser.add_argument("--subscriptions", metavar="FOLDER",
                        help="also create a local-bus rule for each subscription request in FOLDER (subscriptions/"
                             "*.yaml) whose consumer is an HTTP endpoint (bus consumers are skipped with a note)")
    parser.add_argument("--no-consumer", action="store_true",
                        help="do not start the local consumer (deliver to the --target endpoints only)")
    parser.add_argument("--wait", type=float, default=DEFAULT_WAIT_S, metavar="SECONDS",
                        help=f"how long to keep retrying deliveries before reporting them pending "
                             f"(default {DEFAULT_WAIT_S:g})")
    parser.add_argument("--bus", choices=("auto", "local", "eventbridge"), default="auto",
                        help="where to publish: the embedded local bus, or Amazon EventBridge through boto3 (the "
                             "outbox, retries and per-entry results are the same); auto (default): EventBridge when "
                             "an AWS endpoint is configured (--endpoint-url, AWS_ENDPOINT_URL_EVENTBRIDGE or "
                             "AWS_ENDPOINT_URL), else the local bus")
    parser.add_argument("--endpoint-url", metavar="URL",
                        default=os.environ.get("AWS_ENDPOINT_URL_EVENTBRIDGE") or os.environ.get("AWS_ENDPOINT_URL"),
                        help="the EventBridge endpoint (an emulator such as moto or LocalStack, a VPC endpoint)")
    parser.add_argument("--region", metavar="REGION", help="the AWS region (default: the AWS configuration's)")
    add_format_argument(parser)
    parser.set_defaults(run=run_run)


def usage(message: str) -> int:
    print(f"eventdeck run: {message}", file=sys.stderr)
    return EXIT_USAGE


def run_run(args: argparse.Namespace) -> int:
    if len(args.target) > MAX_TARGETS:
        return usage(f"at most {MAX_TARGETS} --target endpoints (EventBridge's targets per rule)")
    if args.no_consumer and not args.target and not args.subscriptions:
        return usage("--no-consumer leaves nothing to deliver to: give a --target or --subscriptions")
    if not 0 <= args.wait <= 86_400:
        return usage(f"--wait {args.wait:g}: give a number of seconds from 0 to 86400")
    try:
        targets = [HttpTarget(url, id=f"target-{n}", retry=LOCAL_RETRY) for n, url in enumerate(args.target, 1)]
    except LocalBusError as exc:
        return usage(f"--target: {exc}")
    missing = [p for p in args.inputs if p != "-" and not os.path.exists(p)]
    if missing:
        return usage(f"{missing[0]}: no such file (nothing was run)")
    on_eventbridge = args.bus == "eventbridge" or (args.bus == "auto" and bool(args.endpoint_url))
    if on_eventbridge and (args.target or args.subscriptions or args.no_consumer):
        return usage("--target, --subscriptions and --no-consumer configure the local bus; on EventBridge rules and "
                     "targets are infrastructure (see `eventdeck kit`), or give --bus local")
    catalogue = load_contract(args)  # before the state folder is made: a broken contract leaves nothing behind
    subscriptions = subscription_rules(args.subscriptions, catalogue) if args.subscriptions else []
    try:
        state = state_folder(args.state, create=True)
    except StateProblem as exc:
        return usage(str(exc))
    keys = local_keys(args, catalogue, state, create=True)
    if keys.created:
        print(keys_note(keys), file=sys.stderr)
    producer = Producer(catalogue, keys.keys)
    try:
        with exclusive(state):
            if on_eventbridge:
                return _run_on_eventbridge(args, catalogue, producer, state)
            return _run(args, catalogue, keys.keys, producer, state, targets, subscriptions)
    except StateProblem as exc:
        return usage(str(exc))


def _run(args: argparse.Namespace, catalogue: Catalogue, keys: KeySet | None, producer: Producer,
         state: StateFolder, targets: list[HttpTarget], subscriptions: list[SubscriptionRule] | None = None) -> int:
    summary = RunSummary("run", str(state.path), str(state.bus_file))
    with LocalBus.open(state.bus_file, name="eventdeck-local") as bus, Outbox.open(state.outbox_file) as outbox:
        consumer = None if args.no_consumer else start_consumer(catalogue, keys, state, registry=producer.registry)
        try:
            _configure(bus, producer, consumer, targets)
            configure_subscriptions(bus, subscriptions or [])
            before = last_dead_letter(bus)
            _publish_all(producer, catalogue, args.inputs, outbox, bus, summary)
            account(summary, deliver(bus, wait_s=args.wait, after_dead_letter=before), consumer)
        finally:
            if consumer is not None:
                consumer.close()
        if consumer is not None:
            write_opened(state, consumer.stats.opened)
    print(summary.render(args.format))
    return summary.exit_code


def _run_on_eventbridge(args: argparse.Namespace, catalogue: Catalogue, producer: Producer,
                        state: StateFolder) -> int:
    """Publish through the outbox onto Amazon EventBridge: what was accepted is published; delivery is EventBridge's
    (rules and targets are infrastructure), so nothing is delivered or opened here."""
    where = args.endpoint_url or f"AWS{f' {args.region}' if args.region else ''}"
    summary = RunSummary("run", str(state.path), f"eventbridge {where}")
    bus = EventBridgeBus(eventbridge_client(endpoint_url=args.endpoint_url, region_name=args.region))
    with Outbox.open(state.outbox_file) as outbox:
        _publish_all(producer, catalogue, args.inputs, outbox, bus, summary)
    print(summary.render(args.format))
    return summary.exit_code


def _configure(bus: LocalBus, producer: Producer, consumer: ConsumerServer | None, targets: list[HttpTarget]) -> None:
    """This run's subscriptions: the consumer rule pointed at the consumer just started, the targets rule at the
    ``--target`` endpoints; a rule this run does not use is removed (with its queued deliveries)."""
    sources = sorted({route.source for route in producer.routes})
    pattern = {"source": sources} if sources else {"source": ["eventdeck.none"]}
    existing = {rule.name for rule in bus.rules()}
    if consumer is not None:
        bus.put_rule(CONSUMER_RULE, pattern, [consumer_target(consumer.url)],
                     description="the local consumer `eventdeck run` starts")
    elif CONSUMER_RULE in existing:
        bus.delete_rule(CONSUMER_RULE)
    if targets:
        bus.put_rule(TARGETS_RULE, pattern, targets, description="the --target endpoints of `eventdeck run`")
    elif TARGETS_RULE in existing:
        bus.delete_rule(TARGETS_RULE)


def _publish_all(producer: Producer, catalogue: Catalogue, inputs: list[str], outbox: Outbox, bus: Bus,
                 summary: RunSummary) -> None:
    """Every input through the producer into the outbox, published a batch at a time."""
    samples = sample_inputs(catalogue)
    items: Iterable[InputEvent | UnreadableInput] = (
        read_events(inputs) if inputs else (InputEvent(where, event) for where, event in samples.events))
    added: dict[str, str] = {}  # CloudEvent id -> where its internal event came from
    batch: list[dict[str, Any]] = []
    total = None if inputs else len(samples.events)
    with Progress("sealed and published") as progress:
        for item in items:
            _produce(item, producer, samples, summary, added, batch, say=progress.say)
            progress.update(summary.read + summary.unreadable, total)
            if len(batch) >= BATCH:
                summary.published += _flush(batch, outbox, bus)
        # Entries an earlier run left pending (a crash, an outage) are published now too, and counted.
        summary.published += _flush(batch, outbox, bus)
    for entry in (*outbox.entries("failed"), *outbox.entries("pending")):
        if entry.event_id in added:
            summary.failed_by_stage["publish"] += 1
            why = f"{entry.code}: {entry.reason}" if entry.code else "the bus did not answer"
            print(f"eventdeck: {added[entry.event_id]}: publish failed: event {entry.event_id}: {why}", file=sys.stderr)


def _produce(item: InputEvent | UnreadableInput, producer: Producer, samples: SampleInputs, summary: RunSummary,
             added: dict[str, str], batch: list[dict[str, Any]], *, say: Callable[[str], None]) -> None:
    """One input item through the producer: its entries into ``batch``, its failures counted and reported."""
    if isinstance(item, UnreadableInput):
        summary.unreadable += 1
        summary.failed_by_stage["input"] += 1
        say(f"eventdeck: {item}")
        return
    summary.read += 1
    # The samples' canned look-up results stand in for the look-ups of any event with a sample's id, so a local run
    # needs no look-up service; other events run their look-ups.
    for outcome in producer.process_one(item.value, lookup_results=samples.lookup_results):
        if isinstance(outcome, Published):
            added[outcome.cloud_event["id"]] = item.where
            batch.append(outcome.entry)
        elif isinstance(outcome, Failed):
            summary.failed_by_stage[outcome.stage] += 1
            say(f"eventdeck: {item.where}: {outcome.stage} failed: {outcome.reason}")
        else:
            summary.unrouted += 1
            say(f"eventdeck: {item.where}: unrouted: {outcome.reason}")


def _flush(batch: list[dict[str, Any]], outbox: Outbox, bus: Bus) -> int:
    """Store ``batch`` in the outbox (durably), then publish everything pending; how many the bus accepted."""
    if batch:
        outbox.add(batch)
        batch.clear()
    return outbox.publish(bus).sent
