"""A local SQLite persistence layer for Powertools idempotency: the four storage primitives and nothing else.

Every decision (keys, hashing, expiry, in-progress handling, caching) stays in Powertools'
``BasePersistenceLayer``; this module only stores records. The conditional insert mirrors Powertools'
DynamoDB layer: a record may be (re)written when none exists, when it has expired, or when it is INPROGRESS
past its in-progress deadline; otherwise the existing record is returned to Powertools via
``IdempotencyItemAlreadyExistsError(old_data_record=...)``. The upsert is one SQL statement, so it is atomic
across threads and processes sharing the file (WAL mode, busy timeout).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from typing import Final

from aws_lambda_powertools.utilities.idempotency import BasePersistenceLayer
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyItemAlreadyExistsError,
    IdempotencyItemNotFoundError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord

__all__ = ["SQLiteStore"]

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS idempotency (
    id                     TEXT PRIMARY KEY,
    status                 TEXT NOT NULL,
    expiration             INTEGER NOT NULL,
    in_progress_expiration INTEGER,
    data                   TEXT,
    validation             TEXT
)
"""

_PUT: Final = """
INSERT INTO idempotency (id, status, expiration, in_progress_expiration, data, validation)
VALUES (:id, :status, :expiration, :in_progress_expiration, NULL, :validation)
ON CONFLICT (id) DO UPDATE SET
    status = excluded.status,
    expiration = excluded.expiration,
    in_progress_expiration = excluded.in_progress_expiration,
    data = NULL,
    validation = excluded.validation
WHERE idempotency.expiration < :now
   OR (idempotency.status = 'INPROGRESS'
       AND idempotency.in_progress_expiration IS NOT NULL
       AND idempotency.in_progress_expiration < :now_ms)
"""


class SQLiteStore(BasePersistenceLayer):
    """Idempotency records in an SQLite file (or ``":memory:"``), safe to share between threads.

    :param path: the database file; created with its table if missing.
    :param timeout: seconds to wait for another process's write lock.
    """

    def __init__(self, path: str | Path = ":memory:", *, timeout: float = 30.0) -> None:
        super().__init__()
        self.path = str(path)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, timeout=timeout, isolation_level=None, check_same_thread=False)
        if self.path != ":memory:":
            self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- primitives ------------------------------------------------------------------------------------

    def _get_record(self, idempotency_key: str) -> DataRecord:
        with self._lock:
            row = self._db.execute(
                "SELECT id, status, expiration, in_progress_expiration, data, validation FROM idempotency WHERE id = ?",
                (idempotency_key,),
            ).fetchone()
        if row is None:
            raise IdempotencyItemNotFoundError
        return _record(row)

    def _put_record(self, data_record: DataRecord) -> None:
        now = time.time()
        params = {
            "id": data_record.idempotency_key,
            "status": data_record.status,
            "expiration": data_record.expiry_timestamp,
            "in_progress_expiration": data_record.in_progress_expiry_timestamp,
            "validation": data_record.payload_hash if self.payload_validation_enabled else None,
            "now": int(now),
            "now_ms": int(now * 1000),
        }
        with self._lock:
            cursor = self._db.execute(_PUT, params)
            if cursor.rowcount == 1:
                return
            row = self._db.execute(
                "SELECT id, status, expiration, in_progress_expiration, data, validation FROM idempotency WHERE id = ?",
                (data_record.idempotency_key,),
            ).fetchone()
        old = _record(row) if row is not None else None
        if old is not None:
            # Same as Powertools' DynamoDB layer: a mismatching payload is an error, not a duplicate.
            self._validate_payload(data_payload=data_record, stored_data_record=old)
        raise IdempotencyItemAlreadyExistsError(old_data_record=old)

    def _update_record(self, data_record: DataRecord) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE idempotency SET data = ?, expiration = ?, status = ?, validation = ? WHERE id = ?",
                (
                    data_record.response_data,
                    data_record.expiry_timestamp,
                    data_record.status,
                    data_record.payload_hash if self.payload_validation_enabled else None,
                    data_record.idempotency_key,
                ),
            )

    def _delete_record(self, data_record: DataRecord) -> None:
        with self._lock:
            self._db.execute("DELETE FROM idempotency WHERE id = ?", (data_record.idempotency_key,))


def _record(row: tuple) -> DataRecord:
    key, status, expiration, in_progress_expiration, data, validation = row
    return DataRecord(
        idempotency_key=key,
        status=status,
        expiry_timestamp=expiration,
        in_progress_expiry_timestamp=in_progress_expiration,
        response_data=data or "",
        payload_hash=validation or "",
    )
