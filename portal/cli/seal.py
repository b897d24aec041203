"""``eventdeck seal`` and ``eventdeck open``: run the pipeline's two ends on JSON files, for debugging.

``seal`` turns internal events (EventBridge-shaped JSON) into the EventBridge entries the pipeline would publish,
one JSON line per outcome; ``open`` verifies, decrypts and validates what ``seal`` printed (or CloudEvents, or
EventBridge entries). A batch always completes: an event that fails, is rejected or cannot be read (a broken
JSON Lines line, a file that is not UTF-8) is reported on stderr with its file and line, and the others go on.
Both exit 1 when any event failed, and name the event id in the message.

A private key file that its group or others can read gives a warning, as ssh does; ``--strict-keys`` refuses it.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from pipeline.consumer import ContractOpener
from pipeline.enrichment.samples import sample_inputs
from pipeline.errors import SealingError
from pipeline.produce import Failed, Producer, Published, Unrouted
from pipeline.sealing.keys import (
    JwksEnvironment,
    JwksFile,
    JwksSecretsManager,
    KeyFileTooOpenWarning,
    KeySet,
    load_keyset,
)
from portal.cli.contract_input import add_contract_arguments, load_contract
from portal.cli.json_input import InputEvent, UnreadableInput, read_events

DEFAULT_KEYS = "keys/private.jwks.json"


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
                             f"default: {DEFAULT_KEYS} if present)")
    add_strict_keys_argument(parser)


def add_strict_keys_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--strict-keys", action="store_true",
                        help="refuse a key file holding secrets that its group or others can access (default: warn)")


def key_source(text: str) -> JwksFile | JwksEnvironment | JwksSecretsManager:
    """``env:NAME`` and ``aws-secretsmanager:ID`` name those sources; anything else is a file path."""
    scheme, _, rest = text.partition(":")
    if scheme == "env" and rest:
        return JwksEnvironment(rest)
    if scheme == "aws-secretsmanager" and rest:
        return JwksSecretsManager(rest)
    return JwksFile(text)


def load_keys(sources: list[str], *, strict: bool) -> KeySet | None:
    """The merged key sets of ``sources`` (``None`` when there are none). A key file that is too open is refused
    under ``strict`` (:class:`~pipeline.sealing.keys.KeyFileTooOpen`), else reported on stderr as a warning.

    :raises KeySetError: a source cannot be read, or is not a valid key set.
    """
    if not sources and Path(DEFAULT_KEYS).is_file():
        sources = [DEFAULT_KEYS]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", KeyFileTooOpenWarning)
        sets = [load_keyset(key_source(s), strict_permissions=strict) for s in sources]
    for warning in caught:
        if issubclass(warning.category, KeyFileTooOpenWarning):
            print(f"eventdeck: warning: {warning.message}; --strict-keys refuses such a file", file=sys.stderr)
        else:  # not ours to show differently: hand it back to the warnings machinery
            warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
    if not sets:
        return None
    return sets[0].merged(*sets[1:]) if len(sets) > 1 else sets[0]


def run_seal(args: argparse.Namespace) -> int:
    if args.samples and args.inputs:
        print("eventdeck seal: --samples takes no input files (it uses the contract's own samples)", file=sys.stderr)
        return 2
    catalogue = load_contract(args)
    try:
        producer = Producer(catalogue, load_keys(args.keys, strict=args.strict_keys))
    except (ValueError, SealingError) as exc:
        print(f"eventdeck: {exc}", file=sys.stderr)
        return 1
    samples = sample_inputs(catalogue)
    items: Iterable[InputEvent | UnreadableInput] = (
        (InputEvent(where, event) for where, event in samples.events) if args.samples else read_events(args.inputs))
    counts = {"published": 0, "unrouted": 0, "failed": 0, "unreadable": 0}
    for item in items:
        if isinstance(item, UnreadableInput):
            counts["unreadable"] += 1
            print(item, file=sys.stderr)
            continue
        where = item.where
        for outcome in producer.process_one(item.value,
                                            lookup_results=samples.lookup_results if args.samples else None):
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
    print(_summary(counts), file=sys.stderr)
    return 1 if counts["failed"] or counts["unreadable"] else 0


def _summary(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {k}" for k, n in counts.items() if n or k != "unreadable")


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
        keys = load_keys(args.keys, strict=args.strict_keys) or KeySet([], origin="no keys")
    except SealingError as exc:
        print(f"eventdeck: {exc}", file=sys.stderr)
        return 1
    # The contract decides: its types only, their own schemas, sealed at least as x-sealing says, plain JSON only
    # for types declared unsealed, the policy's issuer.
    opener = ContractOpener(catalogue, keys)
    counts = {"opened": 0, "rejected": 0, "unreadable": 0}
    for item in read_events(args.inputs):
        if isinstance(item, UnreadableInput):
            counts["unreadable"] += 1
            print(item, file=sys.stderr)
            continue
        where, value = item.where, item.value
        if value.get("outcome") == "failed":  # a line of `eventdeck seal` for an event it could not seal
            continue
        try:
            opened = opener.open(_cloud_event(value))
        except (SealingError, LookupError, ValueError) as exc:
            counts["rejected"] += 1
            print(f"{where}: rejected: {exc}", file=sys.stderr)
            continue
        counts["opened"] += 1
        print(json.dumps(asdict(opened)))
    print(_summary(counts), file=sys.stderr)
    return 1 if counts["rejected"] or counts["unreadable"] else 0
