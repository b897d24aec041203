"""The local bus file: one SQLite database in WAL mode, opened with checks that turn every way a file can be wrong
into a :class:`BusStoreError` naming it.

Tables: ``events`` (the archive, append-only), ``rules`` and ``targets`` (persisted routing), ``deliveries`` (the
work queue: one row per event x target still to deliver; a row leaves only when the target took the event or it
was dead-lettered, which is what makes delivery at-least-once across crashes), ``dead_letters``, ``replays`` and
``meta``. The file carries an ``application_id`` so a foreign SQLite database is refused instead of altered.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Final, Literal

from pipeline.bus.local.errors import BusStoreError

__all__ = ["APPLICATION_ID", "SCHEMA_VERSION", "Durability", "open_store"]

#: "EVDB" — marks a file as an eventdeck local bus.
APPLICATION_ID: Final = 0x45564442
SCHEMA_VERSION: Final = 1

#: ``full``: a commit survives power loss (fsync per transaction); ``process``: it survives a crash of the
#: process (kill -9) but the last transactions may be lost with the machine.
Durability = Literal["full", "process"]

SCHEMA: Final = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE events (seq INTEGER PRIMARY KEY, id TEXT NOT NULL, time_ms INTEGER NOT NULL,
                     accepted_ms INTEGER NOT NULL, body BLOB NOT NULL);
CREATE INDEX events_time ON events (time_ms);
CREATE TABLE rules (name TEXT PRIMARY KEY, pattern TEXT NOT NULL, enabled INTEGER NOT NULL,
                    description TEXT NOT NULL, created_ms INTEGER NOT NULL);
CREATE TABLE targets (rule TEXT NOT NULL REFERENCES rules (name) ON DELETE CASCADE, id TEXT NOT NULL,
                      position INTEGER NOT NULL, kind TEXT NOT NULL, config TEXT NOT NULL, retry TEXT NOT NULL,
                      PRIMARY KEY (rule, id));
CREATE TABLE deliveries (id INTEGER PRIMARY KEY, seq INTEGER NOT NULL, rule TEXT NOT NULL, target TEXT NOT NULL,
                         attempts INTEGER NOT NULL DEFAULT 0, since_ms INTEGER NOT NULL, due_ms INTEGER NOT NULL,
                         replay TEXT, last_error TEXT);
CREATE INDEX deliveries_due ON deliveries (due_ms);
CREATE TABLE dead_letters (id INTEGER PRIMARY KEY, seq INTEGER NOT NULL, rule TEXT NOT NULL, target TEXT NOT NULL,
                           attempts INTEGER NOT NULL, code TEXT NOT NULL, message TEXT NOT NULL,
                           condition TEXT, replay TEXT, failed_ms INTEGER NOT NULL);
CREATE TABLE replays (name TEXT PRIMARY KEY, start_ms INTEGER NOT NULL, end_ms INTEGER NOT NULL, rule TEXT,
                      events INTEGER NOT NULL, deliveries INTEGER NOT NULL, created_ms INTEGER NOT NULL);
"""

EXPECTED_TABLES: Final = frozenset({"meta", "events", "rules", "targets", "deliveries", "dead_letters", "replays"})


def open_store(path: str | os.PathLike[str], *, durability: Durability = "full") -> sqlite3.Connection:
    """Open (creating it if absent) the bus file at ``path``.

    :raises BusStoreError: the folder is missing or not writable, the file is not SQLite, is another
        application's database, or was written by a newer eventdeck."""
    where = os.fspath(path)
    if durability not in ("full", "process"):
        raise BusStoreError(f"durability must be 'full' or 'process', not {durability!r}", path=where)
    file = Path(where)
    if file.is_dir():
        raise BusStoreError("is a folder, not a bus file", path=where)
    if not file.parent.is_dir():
        raise BusStoreError(f"the folder {file.parent} does not exist", path=where)
    if file.exists() and not os.access(file, os.R_OK | os.W_OK):
        raise BusStoreError("cannot be read and written by this user", path=where)
    if not file.exists() and not os.access(file.parent, os.W_OK | os.X_OK):
        raise BusStoreError(f"cannot be created: the folder {file.parent} is not writable", path=where)
    try:
        connection = sqlite3.connect(where, isolation_level=None, check_same_thread=False, timeout=30.0)
    except sqlite3.Error as exc:
        raise BusStoreError(f"cannot be created or opened ({exc})", path=where) from exc
    try:
        _prepare(connection, where, durability)
    except sqlite3.DatabaseError as exc:
        connection.close()
        raise BusStoreError(f"is not a usable eventdeck bus file ({exc})", path=where) from exc
    except BaseException:
        connection.close()
        raise
    return connection


def _prepare(connection: sqlite3.Connection, where: str, durability: Durability) -> None:
    # Reading the header first: a file that is not SQLite fails here, before anything is written to it.
    application_id = connection.execute("PRAGMA application_id").fetchone()[0]
    version = connection.execute("PRAGMA user_version").fetchone()[0]
    tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if application_id != APPLICATION_ID:
        if application_id != 0 or tables:
            raise BusStoreError("is a SQLite database of another application, not an eventdeck bus file "
                                "(refusing to change it)", path=where)
    elif version > SCHEMA_VERSION:
        raise BusStoreError(f"was written by a newer eventdeck (bus file version {version}; this one reads "
                            f"{SCHEMA_VERSION})", path=where)
    elif not tables >= EXPECTED_TABLES:
        raise BusStoreError(f"is damaged: table(s) {', '.join(sorted(EXPECTED_TABLES - tables))} missing",
                            path=where)
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute(f"PRAGMA synchronous = {'FULL' if durability == 'full' else 'NORMAL'}")
    connection.execute("PRAGMA foreign_keys = ON")
    if application_id == 0:
        connection.execute("BEGIN IMMEDIATE")
        try:
            # Another process may have initialised the file between our look and our lock.
            if connection.execute("PRAGMA application_id").fetchone()[0] != APPLICATION_ID:
                for statement in filter(str.strip, SCHEMA.split(";")):
                    connection.execute(statement)
                connection.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
