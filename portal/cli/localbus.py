"""``eventdeck replay`` and ``eventdeck dlq list | redrive``: the local bus's archive and dead letters, as the
EventBridge console offers them for a real bus.

``replay --from T1 --to T2`` queues again every archived event whose ``time`` is in [T1, T2) for the rules that
match it now, and delivers them; ``dlq list`` shows the dead letters (number, event, target, reason);
``dlq redrive IDS…`` (or ``--all``) queues them again with a fresh retry budget and delivers them. Both deliveries
go to the same subscriptions ``eventdeck run`` configured: when its local consumer rule is there, a fresh local
consumer is started and the rule pointed at it, and duplicates it already opened are dropped by its
de-duplication store (a replay is the case that store exists for).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from typing import Any

from pipeline.bus.local import DeadLetter, LocalBus
from pipeline.consumer.http_server import ConsumerServer
from portal.cli.contract_input import add_contract_arguments, load_contract
from portal.cli.local_delivery import (
    DEFAULT_WAIT_S,
    Delivery,
    account,
    consumer_target,
    deliver,
    describe,
    last_dead_letter,
)
from portal.cli.local_state import (
    CONSUMER_RULE,
    StateFolder,
    StateProblem,
    add_format_argument,
    add_key_arguments,
    add_state_argument,
    exclusive,
    local_keys,
    start_consumer,
    state_folder,
    write_opened,
)
from portal.cli.run_summary import EXIT_CODES_HELP, EXIT_USAGE, RunSummary

_TIME_EXAMPLE = "e.g. 2026-03-14T10:00:00Z or 2026-03-14"


def register(sub: Any) -> None:
    replay = sub.add_parser(
        "replay", help="deliver the local bus's archived events of a time window again",
        description="Queue again every archived event of the local bus whose time is in [--from, --to) for the "
                    "rules that match it now, and deliver them (to the local consumer `eventdeck run` set up, which "
                    "drops what it already opened, and to the --target endpoints of the last run).",
        epilog=EXIT_CODES_HELP)
    replay.add_argument("--from", dest="start", required=True, metavar="TIME",
                        help=f"start of the window, ISO 8601, inclusive ({_TIME_EXAMPLE}; no offset means UTC)")
    replay.add_argument("--to", dest="end", required=True, metavar="TIME", help="end of the window, exclusive")
    replay.add_argument("--name", help="the replay's name (default: replay-<milliseconds>)")
    _delivering(replay)
    replay.set_defaults(run=run_replay)

    dlq = sub.add_parser("dlq", help="the local bus's dead letters: list them, redrive them",
                         description="Dead letters are deliveries the local bus gave up on, with the reason.")
    actions = dlq.add_subparsers(dest="dlq_command", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="list the dead letters", epilog=EXIT_CODES_HELP)
    add_state_argument(listing)
    add_format_argument(listing)
    listing.set_defaults(run=run_list)
    redrive = actions.add_parser("redrive", help="deliver dead letters again (with a fresh retry budget)",
                                 epilog=EXIT_CODES_HELP)
    redrive.add_argument("ids", nargs="*", metavar="ID", help="dead-letter numbers (as `eventdeck dlq list` shows)")
    redrive.add_argument("--all", action="store_true", help="every dead letter")
    _delivering(redrive)
    redrive.set_defaults(run=run_redrive)


def _delivering(parser: argparse.ArgumentParser) -> None:
    add_contract_arguments(parser)
    add_key_arguments(parser)
    add_state_argument(parser)
    parser.add_argument("--wait", type=float, default=DEFAULT_WAIT_S, metavar="SECONDS",
                        help=f"how long to keep retrying before reporting deliveries pending (default "
                             f"{DEFAULT_WAIT_S:g})")
    add_format_argument(parser)


def _usage(command: str, message: str) -> int:
    print(f"eventdeck {command}: {message}", file=sys.stderr)
    return EXIT_USAGE


def parse_moment(text: str, option: str) -> datetime:
    """An ISO 8601 date or date-time (no offset: UTC), as an aware UTC datetime.

    :raises ValueError: with a message naming ``option`` and the text."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{option} {text[:80]!r}: not an ISO 8601 date-time ({_TIME_EXAMPLE})") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def run_replay(args: argparse.Namespace) -> int:
    try:
        start, end = parse_moment(args.start, "--from"), parse_moment(args.end, "--to")
    except ValueError as exc:
        return _usage("replay", str(exc))
    if end <= start:
        return _usage("replay", f"--to {args.end!r} is not after --from {args.start!r}: the window [from, to) is "
                                "empty")
    if not 0 <= args.wait <= 86_400:
        return _usage("replay", f"--wait {args.wait:g}: give a number of seconds from 0 to 86400")
    try:
        state = state_folder(args.state, create=False)
        with exclusive(state):
            return _replay(args, state, start, end)
    except StateProblem as exc:
        return _usage("replay", str(exc))


def _replay(args: argparse.Namespace, state: StateFolder, start: datetime, end: datetime) -> int:
    with LocalBus.open(state.bus_file, name="eventdeck-local") as bus:
        consumer = _consumer(args, state, bus)
        try:
            before = last_dead_letter(bus)
            report = bus.replay(start, end, name=args.name)
            print(f"eventdeck: replay {report.name}: {report.events} archived event(s) from {_iso(start)} to "
                  f"{_iso(end)}, {report.deliveries} deliveries queued", file=sys.stderr)
            summary = _delivered("replay", state, bus, consumer, args.wait, before)
        finally:
            if consumer is not None:
                consumer.close()
    print(summary.render(args.format))
    return summary.exit_code


def run_list(args: argparse.Namespace) -> int:
    try:
        state = state_folder(args.state, create=False)
    except StateProblem as exc:
        return _usage("dlq list", str(exc))
    with LocalBus.open(state.bus_file, name="eventdeck-local") as bus:
        letters = bus.dead_letters()
    if args.format == "json":
        print(json.dumps([_letter_json(d) for d in letters], ensure_ascii=False))
    elif not letters:
        print(f"no dead letters in {state.bus_file}")
    else:
        for letter in letters:
            print(f"{describe(letter)} [{letter.attempts} attempt(s), {_iso(letter.failed_at)}]")
        print(f"{len(letters)} dead letter(s); `eventdeck dlq redrive ID…` or `--all` delivers them again")
    return 0


def run_redrive(args: argparse.Namespace) -> int:
    if bool(args.ids) == bool(args.all):
        return _usage("dlq redrive", "give the dead-letter numbers to redrive, or --all (not both)")
    ids = []
    for text in args.ids:
        if not text.isdigit() or len(text) > 18:
            return _usage("dlq redrive", f"{text[:40]!r} is not a dead-letter number (see `eventdeck dlq list`)")
        ids.append(int(text))
    if not 0 <= args.wait <= 86_400:
        return _usage("dlq redrive", f"--wait {args.wait:g}: give a number of seconds from 0 to 86400")
    try:
        state = state_folder(args.state, create=False)
        with exclusive(state):
            return _redrive(args, state, ids)
    except StateProblem as exc:
        return _usage("dlq redrive", str(exc))


def _redrive(args: argparse.Namespace, state: StateFolder, ids: list[int]) -> int:
    with LocalBus.open(state.bus_file, name="eventdeck-local") as bus:
        known = {d.id: d for d in bus.dead_letters()}
        unknown = [i for i in ids if i not in known]
        if unknown:
            return _usage("dlq redrive", f"no dead letter #{unknown[0]} in {state.bus_file} (see `eventdeck dlq "
                                         "list`); nothing was redriven")
        consumer = _consumer(args, state, bus)
        try:
            before = last_dead_letter(bus)
            moved = bus.redrive(ids or None)
            stuck = len(ids or known) - moved
            print(f"eventdeck: {moved} dead letter(s) queued again" +
                  (f"; {stuck} stay (their rule or target no longer exists)" if stuck else ""), file=sys.stderr)
            summary = _delivered("dlq redrive", state, bus, consumer, args.wait, before)
        finally:
            if consumer is not None:
                consumer.close()
    print(summary.render(args.format))
    return summary.exit_code


def _consumer(args: argparse.Namespace, state: StateFolder, bus: LocalBus) -> ConsumerServer | None:
    """A fresh local consumer with the consumer rule pointed at it, when ``run`` configured one."""
    rule = next((r for r in bus.rules() if r.name == CONSUMER_RULE), None)
    if rule is None:
        return None
    catalogue = load_contract(args)
    keys = local_keys(args, catalogue, state, create=False)
    consumer = start_consumer(catalogue, keys.keys, state)
    try:
        bus.put_rule(CONSUMER_RULE, rule.pattern, [consumer_target(consumer.url)],
                     description=rule.description)
    except BaseException:
        consumer.close()
        raise
    return consumer


def _delivered(command: str, state: StateFolder, bus: LocalBus, consumer: ConsumerServer | None, wait_s: float,
               before: int) -> RunSummary:
    delivery: Delivery = deliver(bus, wait_s=wait_s, after_dead_letter=before)
    summary = RunSummary(command, str(state.path), str(state.bus_file))
    account(summary, delivery, consumer)
    if consumer is not None:
        write_opened(state, consumer.stats.opened)
    return summary


def _letter_json(letter: DeadLetter) -> dict[str, Any]:
    detail = letter.event.get("detail")
    return {"id": letter.id, "event_id": letter.event_id,
            "cloud_event_id": detail.get("id") if isinstance(detail, dict) else None,
            "type": letter.event.get("detail-type"), "rule": letter.rule, "target": letter.target,
            "attempts": letter.attempts, "code": letter.code, "message": letter.message,
            "condition": letter.condition, "replay": letter.replay, "failed_at": _iso(letter.failed_at)}


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
