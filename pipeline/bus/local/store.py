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
from typing import Final

from pipeline.bus.local.errors import BusStoreError
from pipeline.sqlite_files import Durability, FileKind, open_sqlite

__all__ = ["APPLICATION_ID", "BUS_FILE", "SCHEMA_VERSION", "Durability", "open_store"]

#: "EVDB" — marks a file as an eventdeck local bus.
APPLICATION_ID: Final = 0x45564442
SCHEMA_VERSION: Final = 1

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


BUS_FILE: Final = FileKind(
    noun="eventdeck bus file", short="bus file", application_id=APPLICATION_ID, schema_version=SCHEMA_VERSION,
    statements=tuple(filter(str.strip, SCHEMA.split(";"))), tables=EXPECTED_TABLES, foreign_keys=True)


def open_store(path: str | os.PathLike[str], *, durability: Durability = "full") -> sqlite3.Connection:
    """Open (creating it if absent) the bus file at ``path``.

    :raises BusStoreError: the folder is missing or not writable, the file is not SQLite, is another
        application's database, or was written by a newer eventdeck."""
    return open_sqlite(path, BUS_FILE, durability=durability,
                       error=lambda message, where: BusStoreError(message, path=where))
