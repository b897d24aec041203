"""Idempotent handling of opened events, keyed by the envelope's ``idempotencykey``.

This is AWS Lambda Powertools' idempotency utility with eventdeck's policy applied: Powertools owns the record
life cycle (INPROGRESS → COMPLETED, expiry, in-progress expiry so a crashed handler does not block retries
forever, an optional local cache, retry of racing writers), and its persistence layers own storage. eventdeck
adds only:

* the key: the envelope's ``idempotencykey`` (a content hash of type + data), so a re-emitted event with a new
  ``id`` but the same content is a duplicate too; Powertools stores it as ``{key_prefix}#md5(json(key))``;
* an in-progress deadline outside Lambda (Powertools takes it from the Lambda context's remaining time; here
  ``in_progress_timeout_seconds`` unless a real Lambda context is given);
* errors carrying the event id: :class:`~pipeline.errors.DuplicateInProgress`,
  :class:`~pipeline.errors.DedupeStoreError` (the store failed) and :class:`~pipeline.errors.UnstorableResult`
  (the handler returned what no store item can hold).

Backends (all Powertools ``BasePersistenceLayer`` subclasses): :class:`~pipeline.consumer.stores.sqlite.SQLiteStore`
(local default) and :func:`~pipeline.consumer.stores.dynamodb.dynamodb_store` (Powertools' own DynamoDB layer).

Contract for handlers: the handler's return value is recorded and returned again for duplicates, so it must be
JSON-serialisable by Powertools' encoder (``None`` is fine; a falsy result such as ``{}`` or ``0`` comes back as
``None``, a Powertools behaviour) and at most ``max_result_bytes`` as JSON. A handler that raises leaves no record,
so the event can be retried. A result that breaks the contract is checked before Powertools records it: the
handling fails with :class:`~pipeline.errors.UnstorableResult` and its in-progress record is released like a
raising handler's, so a retry runs at once (Powertools alone would fail in the store, blame it, and leave the
record in progress until the in-progress timeout).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from typing import Any, Final, Protocol, TypeVar, cast

from aws_lambda_powertools.shared.json_encoder import Encoder
from aws_lambda_powertools.utilities.idempotency import (
    BasePersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyPersistenceLayerError,
)

from pipeline.errors import DedupeStoreError, DuplicateInProgress, MalformedEnvelope, UnstorableResult
from pipeline.sealing.open import OpenedEvent

__all__ = [
    "DEFAULT_EXPIRY_SECONDS",
    "DEFAULT_IN_PROGRESS_TIMEOUT_SECONDS",
    "DEFAULT_MAX_RESULT_BYTES",
    "IdempotentConsumer",
    "idempotent",
]

R = TypeVar("R")
Event = OpenedEvent | Mapping[str, Any]

#: How long a completed record suppresses duplicates. EventBridge retries for up to 24 h by default and
#: archive replays can come later; one hour is Powertools' default and covers redeliveries, raise it for replays.
DEFAULT_EXPIRY_SECONDS: Final = 60 * 60
#: How long an INPROGRESS record blocks a second delivery before it is considered abandoned (crashed handler).
DEFAULT_IN_PROGRESS_TIMEOUT_SECONDS: Final = 5 * 60
#: The largest result (UTF-8 JSON, as Powertools writes it) recorded for duplicates. A DynamoDB item holds 400 KB
#: with its key, status, expiries and attribute names; 350 KiB leaves them room. A result is a summary of what the
#: handler did, not a payload.
DEFAULT_MAX_RESULT_BYTES: Final = 350 * 1024

_KEY_FIELD: Final = "idempotencykey"


class _ResultNotStorable(Exception):
    """Raised from inside Powertools' call of the handler, so Powertools releases the record as for any raising
    handler; turned into :class:`UnstorableResult` outside. ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _LambdaContext(Protocol):
    def get_remaining_time_in_millis(self) -> int: ...


class _FixedDeadline:
    """Stands in for a Lambda context outside Lambda: every handling gets the same in-progress window."""

    __slots__ = ("_millis",)

    def __init__(self, seconds: float) -> None:
        self._millis = int(seconds * 1000)

    def get_remaining_time_in_millis(self) -> int:
        return self._millis


class IdempotentConsumer:
    """Run a handler at most once per idempotency key (within the expiry window).

    :param store: a Powertools persistence layer; give each consumer its own store object. Powertools applies
        the configuration (expiry, cache) of the first consumer that uses a store, and keeps the key prefix on
        the store, so handlers sharing one store object must not run concurrently.
    :param key_prefix: namespaces the records, so two handlers of the same event keep separate records; by
        default the handler's ``module.qualname``.
    :param lambda_context: inside Lambda, pass the invocation context so the in-progress deadline is the
        invocation's remaining time (Powertools' behaviour); otherwise ``in_progress_timeout_seconds`` is used.
    :param max_result_bytes: the largest handler result recorded (its JSON in UTF-8); ``None``: no limit (a store
        without DynamoDB's item size, such as SQLite).
    """

    def __init__(
        self,
        store: BasePersistenceLayer,
        *,
        key_prefix: str | None = None,
        expires_after_seconds: int = DEFAULT_EXPIRY_SECONDS,
        in_progress_timeout_seconds: float = DEFAULT_IN_PROGRESS_TIMEOUT_SECONDS,
        use_local_cache: bool = False,
        lambda_context: _LambdaContext | None = None,
        max_result_bytes: int | None = DEFAULT_MAX_RESULT_BYTES,
    ) -> None:
        self.store = store
        self.key_prefix = key_prefix
        self.max_result_bytes = max_result_bytes
        self._config = IdempotencyConfig(
            event_key_jmespath=_KEY_FIELD,
            raise_on_no_idempotency_key=True,
            expires_after_seconds=expires_after_seconds,
            use_local_cache=use_local_cache,
        )
        self._config.register_lambda_context(cast(Any, lambda_context or _FixedDeadline(in_progress_timeout_seconds)))

    def register_lambda_context(self, lambda_context: _LambdaContext) -> None:
        """Use this Lambda invocation's remaining time as the in-progress deadline (call per invocation)."""
        self._config.register_lambda_context(cast(Any, lambda_context))  # any object with the Lambda timing

    def handle(self, event: Event, fn: Callable[[Any], R]) -> R:
        """Call ``fn(event)`` unless an event with the same idempotency key was already handled; then return
        the recorded result instead.

        :raises DuplicateInProgress: another delivery with the same key is being handled right now.
        :raises DedupeStoreError: the store failed; nothing is known to be recorded, retry the event.
        :raises UnstorableResult: ``fn`` ran but returned what cannot be recorded (not JSON to Powertools' encoder,
            or over ``max_result_bytes``); the in-progress record is removed, so a retry runs ``fn`` again at once.
        :raises MalformedEnvelope: the event has no idempotency key.
        Exceptions from ``fn`` propagate unchanged (and the in-progress record is removed).
        """
        key, event_id = _key_and_id(event)
        prefix = self.key_prefix or f"{fn.__module__}.{fn.__qualname__}"
        max_result_bytes = self.max_result_bytes

        @idempotent_function(
            data_keyword_argument="record",
            persistence_store=self.store,
            config=self._config,
            key_prefix=prefix,
        )
        def run(record: dict[str, str]) -> R:
            result = fn(event)
            if result is not None:  # Powertools records nothing else
                _check_storable(result, max_result_bytes)
            return result

        try:
            return run(record={_KEY_FIELD: key})
        except _ResultNotStorable as err:
            raise UnstorableResult(
                f"the handler's result cannot be recorded for de-duplication ({err.reason}); the handler ran and its "
                "record was released, so a retry runs it again", event_id=event_id
            ) from err.__cause__
        except IdempotencyAlreadyInProgressError:
            raise DuplicateInProgress(
                "an event with the same idempotency key is being handled", event_id=event_id
            ) from None
        except IdempotencyPersistenceLayerError as err:
            raise DedupeStoreError(f"de-duplication store failed: {err.message}", event_id=event_id) from err


def idempotent(store: BasePersistenceLayer, **options: Any) -> Callable[[Callable[[Any], R]], Callable[[Any], R]]:
    """Decorator form: ``@idempotent(store)`` over ``def handler(event): ...``; options as for
    :class:`IdempotentConsumer`."""

    def decorate(fn: Callable[[Any], R]) -> Callable[[Any], R]:
        consumer = IdempotentConsumer(store, **{"key_prefix": f"{fn.__module__}.{fn.__qualname__}", **options})

        @functools.wraps(fn)
        def handler(event: Event) -> R:
            return consumer.handle(event, fn)

        handler.consumer = consumer  # type: ignore[attr-defined]
        return handler

    return decorate


def _check_storable(result: Any, max_result_bytes: int | None) -> None:
    """Refuse what Powertools would fail to record: its own encoding of the result (``save_success`` writes
    ``json.dumps(result, cls=Encoder, sort_keys=True)``), and a result over ``max_result_bytes``."""
    try:
        text = json.dumps(result, cls=Encoder, sort_keys=True)
    except (TypeError, ValueError, RecursionError) as err:
        raise _ResultNotStorable(f"{type(err).__name__}: {str(err)[:200]}") from err
    if max_result_bytes is not None and len(text) > max_result_bytes:  # ASCII: json escapes the rest
        raise _ResultNotStorable(f"{len(text):,} bytes of JSON, over the {max_result_bytes:,}-byte limit")


def _key_and_id(event: Event) -> tuple[str, str | None]:
    if isinstance(event, OpenedEvent):
        return event.idempotency_key, event.id
    if isinstance(event, Mapping):
        key, event_id = event.get(_KEY_FIELD), event.get("id")
        if isinstance(key, str) and key:
            return key, event_id if isinstance(event_id, str) else None
        raise MalformedEnvelope(
            "the event has no idempotencykey", event_id=event_id if isinstance(event_id, str) else None
        )
    raise MalformedEnvelope(f"cannot de-duplicate a {type(event).__name__}")
