"""eventdeck's own SQLite files (the local bus, the outbox): opened with checks that turn every way a file can be
wrong into one error naming it, and never altered unless they are ours.

A file carries an ``application_id`` (which kind of eventdeck file it is) and a ``user_version`` (its schema), so a
foreign database, the other kind of eventdeck file, a damaged one or one written by a newer eventdeck is refused
before anything is written to it; an empty file is initialised under a write lock, once, even when several
processes open it at the same moment.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pipeline.errors import EventdeckError

__all__ = ["Durability", "FileKind", "open_sqlite"]

#: ``full``: a commit survives power loss (fsync per transaction); ``process``: it survives a crash of the
#: process (kill -9) but the last transactions may be lost with the machine.
Durability = Literal["full", "process"]


@dataclass(frozen=True)
class FileKind:
    """One kind of eventdeck SQLite file: what it is called in messages, its marks and its schema."""

    noun: str  # "eventdeck bus file", "eventdeck outbox"
    short: str  # "bus file", "outbox": in "(bus file version 2 …)"
    application_id: int
    schema_version: int
    statements: Sequence[str]  # creates every table and index
    tables: frozenset[str]  # what an initialised file must have
    foreign_keys: bool = False


def open_sqlite(path: str | os.PathLike[str], kind: FileKind, *, durability: Durability,
                error: Callable[[str, str], EventdeckError]) -> sqlite3.Connection:
    """Open (creating it if absent) the file at ``path`` as ``kind``, in WAL mode.

    :param error: makes the error to raise from a message and the file's path.
    :raises EventdeckError: (made by ``error``) the folder is missing or not writable, the file is a folder, not
        SQLite, another application's or kind's database, damaged, or written by a newer eventdeck."""
    where = os.fspath(path)
    if durability not in ("full", "process"):
        raise error(f"durability must be 'full' or 'process', not {durability!r}", where)
    file = Path(where)
    if file.is_dir():
        raise error(f"is a folder, not an {kind.noun}", where)
    if not file.parent.is_dir():
        raise error(f"the folder {file.parent} does not exist", where)
    if file.exists() and not os.access(file, os.R_OK | os.W_OK):
        raise error("cannot be read and written by this user", where)
    if not file.exists() and not os.access(file.parent, os.W_OK | os.X_OK):
        raise error(f"cannot be created: the folder {file.parent} is not writable", where)
    try:
        connection = sqlite3.connect(where, isolation_level=None, check_same_thread=False, timeout=30.0)
    except sqlite3.Error as exc:
        raise error(f"cannot be created or opened ({exc})", where) from exc
    try:
        _prepare(connection, where, kind, durability, error)
    except sqlite3.DatabaseError as exc:
        connection.close()
        raise error(f"is not a usable {kind.noun} ({exc})", where) from exc
    except BaseException:
        connection.close()
        raise
    return connection


def _prepare(connection: sqlite3.Connection, where: str, kind: FileKind, durability: Durability,
             error: Callable[[str, str], EventdeckError]) -> None:
    # Reading the header first: a file that is not SQLite fails here, before anything is written to it.
    application_id = connection.execute("PRAGMA application_id").fetchone()[0]
    version = connection.execute("PRAGMA user_version").fetchone()[0]
    tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if application_id != kind.application_id:
        if application_id != 0 or tables:
            raise error(f"is a SQLite database of another application, not an {kind.noun} (refusing to change it)",
                        where)
    elif version > kind.schema_version:
        raise error(f"was written by a newer eventdeck ({kind.short} version {version}; this one reads "
                    f"{kind.schema_version})", where)
    elif not tables >= kind.tables:
        raise error(f"is damaged: table(s) {', '.join(sorted(kind.tables - tables))} missing", where)
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute(f"PRAGMA synchronous = {'FULL' if durability == 'full' else 'NORMAL'}")
    if kind.foreign_keys:
        connection.execute("PRAGMA foreign_keys = ON")
    if application_id == 0:
        connection.execute("BEGIN IMMEDIATE")
        try:
            # Another process may have initialised the file between our look and our lock.
            if connection.execute("PRAGMA application_id").fetchone()[0] != kind.application_id:
                for statement in kind.statements:
                    connection.execute(statement)
                connection.execute(f"PRAGMA application_id = {kind.application_id}")
                connection.execute(f"PRAGMA user_version = {kind.schema_version}")
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
