"""The state folder ``eventdeck run``, ``replay`` and ``dlq`` own (``.eventdeck/`` by default), and what they set up
in it: the local bus file, the consumer's de-duplication store, development keys, the local HTTP consumer.

Nothing is written outside the folder: every file these commands create is a fixed name inside it, and a file
there that is a symbolic link is refused rather than followed (it could lead anywhere). The folder is created
``0700``, since it may hold development keys.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import fcntl
import json
import os
import sqlite3
import stat
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from pipeline.consumer import ContractOpener
from pipeline.consumer.http_server import ConsumerServer
from pipeline.consumer.stores.sqlite import SQLiteStore
from pipeline.contract import Catalogue
from pipeline.errors import EventdeckError
from pipeline.produce import required_keys
from pipeline.schemas.registry import SchemaRegistry
from pipeline.sealing.keys import KeySet, keyset_for, write_jwks
from pipeline.sealing.open import OpenedEvent
from portal.cli.keys import PRIVATE, PUBLIC
from portal.cli.owned_files import write_file
from portal.cli.seal import DEFAULT_KEYS, add_strict_keys_argument, load_keys

DEFAULT_STATE: Final = ".eventdeck"
BUS_FILE: Final = "bus.sqlite"
DEDUPE_FILE: Final = "consumer-dedupe.sqlite"
OUTBOX_FILE: Final = "outbox.sqlite"
LOCK_FILE: Final = "lock"
OPENED_FILE: Final = "opened.jsonl"
KEYS_FOLDER: Final = "keys"

#: The rule ``run`` keeps pointed at the consumer it starts (``replay`` and ``dlq redrive`` re-point it at theirs).
CONSUMER_RULE: Final = "eventdeck-consumer"
#: The rule holding the ``--target`` endpoints of the last ``run``.
TARGETS_RULE: Final = "eventdeck-targets"


class StateProblem(EventdeckError):
    """The state folder (or a file in it) cannot be used; the message names it. A usage error: nothing ran."""


@dataclass(frozen=True)
class StateFolder:
    path: Path

    @property
    def bus_file(self) -> Path:
        return self.path / BUS_FILE

    @property
    def dedupe_file(self) -> Path:
        return self.path / DEDUPE_FILE

    @property
    def outbox_file(self) -> Path:
        return self.path / OUTBOX_FILE

    @property
    def opened_file(self) -> Path:
        return self.path / OPENED_FILE

    @property
    def keys_folder(self) -> Path:
        return self.path / KEYS_FOLDER


def add_state_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--state", default=DEFAULT_STATE, metavar="FOLDER",
                        help=f"the folder holding the local bus and the consumer's state (default: {DEFAULT_STATE}/; "
                             "nothing is written outside it)")


def add_format_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=("text", "json"), default="text",
                        help="the summary on stdout: text for people, one JSON object for machines")


def state_folder(text: str, *, create: bool) -> StateFolder:
    """The state folder named ``text``: created (``0700``) when ``create``, else it must hold a bus already.

    :raises StateProblem: naming the path and what is wrong with it."""
    if not text or any(ord(c) < 0x20 for c in text):
        raise StateProblem(f"--state {text!r}: not a usable folder name")
    folder = StateFolder(Path(text))
    try:
        info = folder.path.stat()
    except FileNotFoundError:
        if not create:
            raise StateProblem(f"{folder.path}: no local bus here (the folder does not exist); `eventdeck run` "
                               "creates one") from None
        try:
            folder.path.mkdir(mode=0o700, parents=True)
        except OSError as exc:
            raise StateProblem(f"{folder.path}: cannot create the state folder: {exc.strerror or exc}") from None
        return folder
    except OSError as exc:
        raise StateProblem(f"{folder.path}: cannot use it as the state folder: {exc.strerror or exc}") from None
    if not stat.S_ISDIR(info.st_mode):
        raise StateProblem(f"{folder.path}: is not a folder (--state names the folder eventdeck keeps its local "
                           "bus in)")
    # SQLite writes beside each database (-wal, -shm, -journal) and follows a link there as well.
    databases = [f"{db}{suffix}" for db in (BUS_FILE, DEDUPE_FILE, OUTBOX_FILE) for suffix in ("", "-wal", "-shm",
                                                                                              "-journal")]
    for name in (*databases, OPENED_FILE, KEYS_FOLDER, LOCK_FILE):
        if (folder.path / name).is_symlink():
            raise StateProblem(f"{folder.path / name}: is a symbolic link; eventdeck writes only inside its state "
                               "folder and never follows a link out of it (remove the link)")
    if not create and not folder.bus_file.is_file():
        raise StateProblem(f"{folder.path}: no local bus here ({BUS_FILE} is missing); `eventdeck run` creates one")
    if not os.access(folder.path, os.W_OK | os.X_OK):
        raise StateProblem(f"{folder.path}: the state folder is not writable by this user")
    return folder


def add_key_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--keys", action="append", default=[], metavar="SOURCE",
                        help="a JWKS: a file path, env:VARIABLE, or aws-secretsmanager:SECRET-ID (repeatable; "
                             f"default: {DEFAULT_KEYS} if present, else development keys in the state folder, "
                             "created on the first run)")
    add_strict_keys_argument(parser)


@dataclass(frozen=True)
class Keys:
    """The key set a local run seals and opens with, where it came from, and whether this run created it."""

    keys: KeySet | None
    origin: str
    created: bool = False


def local_keys(args: argparse.Namespace, catalogue: Catalogue, state: StateFolder, *, create: bool) -> Keys:
    """The keys as ``eventdeck seal`` finds them (``--keys``, else ``keys/private.jwks.json``), else the state
    folder's development keys, created for exactly what the contract's sealing names when ``create`` (a first run
    on a fresh machine needs nothing prepared).

    :raises KeySetError: a key source cannot be read (the CLI reports it)."""
    if args.keys or Path(DEFAULT_KEYS).is_file():
        sources = args.keys or [DEFAULT_KEYS]
        return Keys(load_keys(sources, strict=args.strict_keys), ", ".join(sources))
    private = state.keys_folder / PRIVATE
    for folder in (state.path, state.keys_folder):  # anyone who can write there could swap the keys
        _refuse_if_others_can_write(folder)
    if private.is_file():
        return Keys(load_keys([str(private)], strict=args.strict_keys), str(private))
    needed = required_keys(catalogue)
    if not needed:
        return Keys(None, "none (the contract seals nothing)")
    if not create:
        raise StateProblem(f"{state.path}: no keys to open the events with: give --keys (the key set `eventdeck run` "
                           "sealed them with)")
    keys = keyset_for(needed)
    try:
        state.keys_folder.mkdir(mode=0o700, exist_ok=True)
        write_jwks(keys, private_path=private, public_path=state.keys_folder / PUBLIC, replace=False)
    except OSError as exc:
        raise StateProblem(f"{state.keys_folder}: cannot write development keys: {exc.strerror or exc}") from None
    return Keys(keys, str(private), created=True)


def _refuse_if_others_can_write(folder: Path) -> None:
    try:
        mode = folder.stat().st_mode
    except FileNotFoundError:
        return
    if mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise StateProblem(f"{folder}: writable by others (permissions {stat.S_IMODE(mode):04o}), so anyone could "
                           f"replace the development keys: chmod go-w {folder}, or give --keys")


def keys_note(keys: Keys) -> str:
    return (f"eventdeck: created development keys in {keys.origin} (for local runs only; `eventdeck keys new` makes "
            "a key set to keep and share)")


def start_consumer(catalogue: Catalogue, keys: KeySet | None, state: StateFolder, *,
                   registry: SchemaRegistry | None = None) -> ConsumerServer:
    """The local HTTP consumer on 127.0.0.1 (an ephemeral port), opening under the contract with ``keys`` and
    de-duplicating in the state folder's store, started. ``registry``: the producer's, when it runs in the same
    process: the same contract's validators, compiled once for both ends."""
    opener = ContractOpener(catalogue, keys or KeySet([], origin="no keys"), registry=registry)
    try:
        store = SQLiteStore(state.dedupe_file)
    except sqlite3.Error as exc:
        raise StateProblem(f"{state.dedupe_file}: is not a usable de-duplication store ({exc}); remove it to start "
                           "the consumer with an empty one") from None
    return ConsumerServer(opener, store).start()


@contextlib.contextmanager
def exclusive(state: StateFolder) -> Iterator[None]:
    """Hold the state folder for one command: two commands delivering from one bus at once would each point the
    consumer rule at their own consumer. :raises StateProblem: another command holds it."""
    try:
        handle = os.open(state.path / LOCK_FILE, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
    except OSError as exc:
        raise StateProblem(f"{state.path / LOCK_FILE}: cannot open the lock file: {exc.strerror or exc}") from None
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StateProblem(f"{state.path}: another eventdeck command is using this state folder; wait for it, "
                               "or give another --state") from None
        yield
    finally:
        os.close(handle)  # closing releases the lock


def write_opened(state: StateFolder, opened: Iterable[OpenedEvent]) -> None:
    """What the consumer opened in this command, one JSON line each (replacing the previous command's file)."""
    text = "".join(json.dumps(dataclasses.asdict(o), ensure_ascii=False) + "\n" for o in opened)
    write_file(state.opened_file, text.encode())


def warn(message: str) -> None:
    print(f"eventdeck: {message}", file=sys.stderr)
