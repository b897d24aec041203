"""``eventdeck seal`` and ``eventdeck open``: run the pipeline's two ends on JSON files, for debugging.

``seal`` turns internal events (EventBridge-shaped JSON) into the EventBridge entries the pipeline would publish,
one JSON line per outcome; ``open`` verifies, decrypts and validates what ``seal`` printed (or CloudEvents, or
EventBridge entries). Both exit 1 when any event failed, and name the event id in the message.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from pipeline.consumer import ContractOpener
from pipeline.enrichment.samples import sample_inputs
from pipeline.errors import SealingError
from pipeline.produce import Failed, Producer, Published, Unrouted
from pipeline.sealing.keys import JwksEnvironment, JwksFile, JwksSecretsManager, KeySet, load_keyset
from portal.cli.contract_input import add_contract_arguments, load_contract
from portal.cli.json_input import InputError, read_values


def register(sub: Any) -> None:
    seal = sub.add_parser("seal", help="turn internal events into sealed EventBridge entries",
                          description="Enrich, validate, envelope and seal internal events as the contract says. "
                                      "Prints one JSON line per outcome.")
    seal.add_argument("inputs", nargs="*", help="JSON files of internal events ('-' or nothing: stdin)")
    seal.add_argument("--samples", action="store_true",
                      help="use the contract's own x-enrichment samples as input (with their canned look-ups)")
    _common(seal)
    seal.set_defaults(run=run_seal)
    opener = sub.add_parser("open", help="verify, decrypt and validate sealed events",
                            description="Open what `eventdeck seal` printed, CloudEvents, or EventBridge entries.")
    opener.add_argument("inputs", nargs="*", help="JSON files ('-' or nothing: stdin)")
    _common(opener)
    opener.add_argument("--issuer", help="the issuer to expect (default: any)")
    opener.set_defaults(run=run_open)


def _common(parser: argparse.ArgumentParser) -> None:
    add_contract_arguments(parser)
    parser.add_argument("--keys", action="append", default=[], metavar="SOURCE",
                        help="a JWKS: a file path, env:VARIABLE, or aws-secretsmanager:SECRET-ID (repeatable; "
                             "default: keys/private.jwks.json if present)")


def key_source(text: str) -> JwksFile | JwksEnvironment | JwksSecretsManager:
    """``env:NAME`` and ``aws-secretsmanager:ID`` name those sources; anything else is a file path."""
    scheme, _, rest = text.partition(":")
    if scheme == "env" and rest:
        return JwksEnvironment(rest)
    if scheme == "aws-secretsmanager" and rest:
        return JwksSecretsManager(rest)
    return JwksFile(text)


def _keys(sources: list[str]) -> KeySet | None:
    if not sources and Path("keys/private.jwks.json").is_file():
        sources = ["keys/private.jwks.json"]
    sets = [load_keyset(key_source(s)) for s in sources]
    if not sets:
        return None
    return sets[0].merged(*sets[1:]) if len(sets) > 1 else sets[0]


def run_seal(args: argparse.Namespace) -> int:
    catalogue = load_contract(args)
    try:
        producer = Producer(catalogue, _keys(args.keys))
    except (ValueError, SealingError) as exc:
        print(f"eventdeck: {exc}", file=sys.stderr)
        return 1
    samples = sample_inputs(catalogue)
    if args.samples:
        inputs: list[tuple[str, Any]] = list(samples.events)
    else:
        try:
            inputs = list(read_values(args.inputs))
        except InputError as exc:
            print(f"eventdeck: {exc}", file=sys.stderr)
            return 1
    counts = {"published": 0, "unrouted": 0, "failed": 0}
    for where, internal in inputs:
        for outcome in producer.process_one(internal, lookup_results=samples.lookup_results if args.samples else None):
            if isinstance(outcome, Published):
                counts["published"] += 1
                print(json.dumps({"outcome": "published", "event": outcome.event, "entry": outcome.entry}))
            elif isinstance(outcome, Unrouted):
                counts["unrouted"] += 1
                print(f"{where}: unrouted: {outcome.reason}", file=sys.stderr)
            else:
                assert isinstance(outcome, Failed)
                counts["failed"] += 1
                print(f"{where}: {outcome.stage} failed: {outcome.reason}", file=sys.stderr)
                print(json.dumps({"outcome": "failed", **asdict(outcome)}))
    print(", ".join(f"{n} {k}" for k, n in counts.items()), file=sys.stderr)
    return 1 if counts["failed"] else 0


def _cloud_event(value: Any) -> Any:
    """The CloudEvent in ``value``: a line of `eventdeck seal`, an EventBridge entry or event, or a CloudEvent."""
    if isinstance(value, dict) and "entry" in value:
        value = value["entry"]
    if isinstance(value, dict) and isinstance(value.get("Detail"), str):
        try:
            return json.loads(value["Detail"])
        except ValueError:
            raise ValueError("the entry's Detail is not JSON") from None
    if isinstance(value, dict) and isinstance(value.get("detail"), dict) and "detail-type" in value:
        return value["detail"]
    return value


def run_open(args: argparse.Namespace) -> int:
    catalogue = load_contract(args)
    try:
        keys = _keys(args.keys) or KeySet([], origin="no keys")
    except SealingError as exc:
        print(f"eventdeck: {exc}", file=sys.stderr)
        return 1
    # The contract decides: its types only, their own schemas, sealed at least as x-sealing says, plain JSON only
    # for types declared unsealed, the policy's issuer.
    opener = ContractOpener(catalogue, keys)
    failed = 0
    try:
        values = list(read_values(args.inputs))
    except InputError as exc:
        print(f"eventdeck: {exc}", file=sys.stderr)
        return 1
    for where, value in values:
        if isinstance(value, dict) and value.get("outcome") == "failed":
            continue
        try:
            opened = opener.open(_cloud_event(value))
        except (SealingError, LookupError, ValueError) as exc:
            failed += 1
            print(f"{where}: rejected: {exc}", file=sys.stderr)
            continue
        print(json.dumps(asdict(opened)))
    return 1 if failed else 0
