"""De-duplication: a handler runs once per idempotency key, on SQLite locally and on DynamoDB (moto over HTTP).

The same behaviours are specified once and run against both stores.
"""

from __future__ import annotations

import datetime
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import moto_server
from pipeline.consumer import IdempotentConsumer, OpenedEvent, idempotent, open_event
from pipeline.consumer.dedupe import DEFAULT_MAX_RESULT_BYTES
from pipeline.consumer.stores.dynamodb import create_table, dynamodb_store
from pipeline.consumer.stores.sqlite import SQLiteStore
from pipeline.envelope.cloudevent import build_cloud_event
from pipeline.errors import DedupeStoreError, DuplicateInProgress, MalformedEnvelope, UnstorableResult
from pipeline.sealing.keys import new_keyset
from pipeline.sealing.seal import EncryptSpec, SealingPolicy, SignSpec, seal_event

moto_endpoint = moto_server.moto_endpoint
aws_client = moto_server.aws_client


def order(number: int = 1) -> dict[str, Any]:
    return build_cloud_event(
        type="Order.Created.Uk", source="urn:eventdeck:orders", data={"orderId": f"o-{number}", "total": 1999}
    ).to_dict()


class Recorder:
    """A handler that counts its calls and returns something recordable."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def __call__(self, event: Any) -> dict[str, Any]:
        event_id = event.id if isinstance(event, OpenedEvent) else event["id"]
        self.calls.append(event_id)
        return {"handled": event_id}


# ---------------------------------------------------------------------------------------- stores


class SQLiteBackend:
    name = "sqlite"

    def __init__(self, folder: Path) -> None:
        self.path = folder / "dedupe.sqlite3"

    def new_store(self) -> SQLiteStore:
        return SQLiteStore(self.path)

    def expire_everything(self) -> None:
        with sqlite3.connect(self.path) as db:
            db.execute("UPDATE idempotency SET expiration = 0")


class DynamoDBBackend:
    name = "dynamodb"

    def __init__(self, client: Any) -> None:
        self.client = client
        self.table = moto_server.unique_name("eventdeck-dedupe")
        create_table(client, self.table)

    def new_store(self) -> Any:
        return dynamodb_store(self.table, client=self.client)

    def expire_everything(self) -> None:
        for item in self.client.scan(TableName=self.table)["Items"]:
            self.client.update_item(
                TableName=self.table,
                Key={"id": item["id"]},
                UpdateExpression="SET expiration = :past",
                ExpressionAttributeValues={":past": {"N": "0"}},
            )


@pytest.fixture(params=["sqlite", "dynamodb"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    if request.param == "sqlite":
        yield SQLiteBackend(tmp_path)
    else:
        yield DynamoDBBackend(moto_server.client("dynamodb", request.getfixturevalue("moto_endpoint")))


# ---------------------------------------------------------------------------------------- behaviours


def test_a_duplicate_is_not_handled_again_and_gets_the_recorded_result(backend: Any) -> None:
    consumer = IdempotentConsumer(backend.new_store(), key_prefix="orders")
    handler = Recorder()
    event = order()
    first = consumer.handle(event, handler)
    again = consumer.handle(event, handler)
    assert handler.calls == [event["id"]]
    assert first == again == {"handled": event["id"]}


def test_a_redelivery_with_a_new_id_but_the_same_content_is_a_duplicate(backend: Any) -> None:
    consumer = IdempotentConsumer(backend.new_store(), key_prefix="orders")
    handler = Recorder()
    original = order()
    reemitted = build_cloud_event(
        type="Order.Created.Uk", source="urn:eventdeck:orders", data=original["data"]
    ).to_dict()
    assert reemitted["id"] != original["id"] and reemitted["idempotencykey"] == original["idempotencykey"]
    consumer.handle(original, handler)
    consumer.handle(reemitted, handler)
    assert handler.calls == [original["id"]]


def test_different_content_is_handled(backend: Any) -> None:
    consumer = IdempotentConsumer(backend.new_store(), key_prefix="orders")
    handler = Recorder()
    consumer.handle(order(1), handler)
    consumer.handle(order(2), handler)
    assert len(handler.calls) == 2


def test_a_failed_handling_leaves_no_record_so_the_retry_runs(backend: Any) -> None:
    consumer = IdempotentConsumer(backend.new_store(), key_prefix="orders")
    event = order()

    def failing(_: Any) -> None:
        raise RuntimeError("downstream unavailable")

    with pytest.raises(RuntimeError, match="downstream unavailable"):
        consumer.handle(event, failing)
    handler = Recorder()
    consumer.handle(event, handler)
    assert handler.calls == [event["id"]]


def test_a_second_delivery_while_the_first_is_in_progress_is_refused(backend: Any) -> None:
    consumer = IdempotentConsumer(backend.new_store(), key_prefix="orders")
    event = order()
    seen: list[BaseException] = []

    def slow(_: Any) -> str:
        # the same event arrives again while this handling is still running
        with pytest.raises(DuplicateInProgress) as caught:
            consumer.handle(event, Recorder())
        seen.append(caught.value)
        return "done"

    assert consumer.handle(event, slow) == "done"
    assert seen[0].event_id == event["id"]


def test_an_abandoned_in_progress_record_does_not_block_forever(backend: Any) -> None:
    # in_progress_timeout 0: the first handling's INPROGRESS record is already past its deadline
    consumer = IdempotentConsumer(backend.new_store(), key_prefix="orders", in_progress_timeout_seconds=-1)
    event = order()
    inner = Recorder()

    def crashed_midway(_: Any) -> str:
        consumer.handle(event, inner)  # a redelivery takes over the stale record
        return "outer"

    consumer.handle(event, crashed_midway)
    assert inner.calls == [event["id"]]


def test_an_expired_record_no_longer_suppresses(backend: Any) -> None:
    consumer = IdempotentConsumer(backend.new_store(), key_prefix="orders")
    handler = Recorder()
    event = order()
    consumer.handle(event, handler)
    backend.expire_everything()
    consumer.handle(event, handler)
    assert handler.calls == [event["id"], event["id"]]


def test_records_survive_a_restart(backend: Any) -> None:
    handler = Recorder()
    event = order()
    IdempotentConsumer(backend.new_store(), key_prefix="orders").handle(event, handler)
    IdempotentConsumer(backend.new_store(), key_prefix="orders").handle(event, handler)
    assert handler.calls == [event["id"]]


def test_two_handlers_of_the_same_event_keep_separate_records(backend: Any) -> None:
    store = backend.new_store()
    billing, shipping = Recorder(), Recorder()
    event = order()
    IdempotentConsumer(store, key_prefix="billing").handle(event, billing)
    IdempotentConsumer(store, key_prefix="shipping").handle(event, shipping)
    assert billing.calls == shipping.calls == [event["id"]]


def test_decorator_form_over_opened_events(backend: Any) -> None:
    keys = new_keyset("dedupe")
    sealing = SealingPolicy(
        sign=SignSpec("ES256", keys.kids_for("ES256")[0]),
        encrypt=EncryptSpec("ECDH-ES+A256KW", keys.kids_for("ECDH-ES+A256KW")[0]),
        issuer="urn:eventdeck:orders",
    )
    calls: list[dict[str, Any]] = []

    @idempotent(backend.new_store())
    def on_order_created(event: OpenedEvent) -> None:
        calls.append(event.data)

    sealed = seal_event(order(), sealing, keys)
    for _ in range(3):
        on_order_created(open_event(sealed, keys))
    assert calls == [{"orderId": "o-1", "total": 1999}]
    assert on_order_created.__name__ == "on_order_created"


# ---------------------------------------------------------------------------------------- unstorable results


def _circular() -> list[Any]:
    loop: list[Any] = []
    loop.append(loop)
    return loop


UNSTORABLE_RESULTS = {
    "a set": lambda: {"ids": {1, 2}},
    "bytes": lambda: b"\x00\xff",
    "an object": lambda: object(),
    "a circular list": _circular,
    "mixed key types": lambda: {1: "one", "two": 2},
    "a datetime": lambda: {"at": datetime.datetime(2026, 3, 14, tzinfo=datetime.UTC)},
}


@pytest.mark.parametrize("name", UNSTORABLE_RESULTS)
def test_a_result_the_store_cannot_encode_blames_the_handler_and_a_retry_runs_at_once(backend: Any, name: str) -> None:
    consumer = IdempotentConsumer(backend.new_store(), key_prefix="orders")  # the 5-minute in-progress timeout
    event = order()
    runs: list[str] = []

    def returns_unstorable(_: Any) -> Any:
        runs.append("unstorable")
        return UNSTORABLE_RESULTS[name]()

    with pytest.raises(UnstorableResult) as caught:
        consumer.handle(event, returns_unstorable)
    assert not isinstance(caught.value, DedupeStoreError)
    assert caught.value.event_id == event["id"] and "handler's result" in str(caught.value)
    assert isinstance(caught.value.__cause__, TypeError | ValueError)  # the encoder's own refusal
    handler = Recorder()
    assert consumer.handle(event, handler) == {"handled": event["id"]}  # at once: the record was released
    assert runs == ["unstorable"] and handler.calls == [event["id"]]
    consumer.handle(event, handler)  # and the retry's result was recorded as usual
    assert handler.calls == [event["id"]]


def test_a_result_too_large_for_a_store_item_blames_the_handler_and_a_retry_runs_at_once(backend: Any) -> None:
    consumer = IdempotentConsumer(backend.new_store(), key_prefix="orders")
    event = order()
    with pytest.raises(UnstorableResult, match="over the") as caught:
        consumer.handle(event, lambda _: {"report": "x" * 500_000})
    assert caught.value.event_id == event["id"]
    handler = Recorder()
    consumer.handle(event, handler)
    assert handler.calls == [event["id"]]


def test_the_largest_result_allowed_fits_a_dynamodb_item(moto_endpoint: str) -> None:
    backend = DynamoDBBackend(moto_server.client("dynamodb", moto_endpoint))
    consumer = IdempotentConsumer(backend.new_store(), key_prefix="orders")
    event = order()
    largest = {"report": "x" * (DEFAULT_MAX_RESULT_BYTES - len('{"report": ""}'))}
    assert consumer.handle(event, lambda _: largest) == largest
    assert consumer.handle(event, Recorder()) == largest  # recorded, and read back for the duplicate


def test_without_the_limit_dynamodb_refuses_a_large_result_as_a_store_failure(moto_endpoint: str) -> None:
    # Why the limit exists: DynamoDB's own refusal comes after the handler ran, as a store error.
    backend = DynamoDBBackend(moto_server.client("dynamodb", moto_endpoint))
    consumer = IdempotentConsumer(backend.new_store(), key_prefix="orders", max_result_bytes=None)
    with pytest.raises(DedupeStoreError):
        consumer.handle(order(), lambda _: {"report": "x" * 500_000})


def test_sqlite_records_a_large_result_when_the_limit_is_lifted(tmp_path: Path) -> None:
    consumer = IdempotentConsumer(SQLiteStore(tmp_path / "big.sqlite3"), key_prefix="orders", max_result_bytes=None)
    event = order()
    report = {"report": "x" * 500_000}
    assert consumer.handle(event, lambda _: report) == report
    assert consumer.handle(event, Recorder()) == report


# ---------------------------------------------------------------------------------------- sqlite specifics


def test_concurrent_deliveries_run_the_handler_once(tmp_path: Path) -> None:
    consumer = IdempotentConsumer(SQLiteStore(tmp_path / "race.sqlite3"), key_prefix="orders")
    event = order()
    release = threading.Event()
    entered = threading.Event()
    handler_runs: list[str] = []
    outcomes: list[str] = []

    def handler(_: Any) -> str:
        handler_runs.append("run")
        entered.set()
        release.wait()
        return "ok"

    def deliver() -> None:
        try:
            outcomes.append(consumer.handle(event, handler))
        except DuplicateInProgress:
            outcomes.append("in progress")

    first = threading.Thread(target=deliver)
    first.start()
    entered.wait()  # the first delivery is inside the handler
    others = [threading.Thread(target=deliver) for _ in range(4)]
    for thread in others:
        thread.start()
    for thread in others:
        thread.join()
    release.set()  # only now may the first handling finish
    first.join()
    assert handler_runs == ["run"]
    assert sorted(outcomes) == ["in progress"] * 4 + ["ok"]


def test_a_store_failure_is_reported_with_the_event_id(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "closed.sqlite3")
    store.close()
    event = order()
    with pytest.raises(DedupeStoreError) as caught:
        IdempotentConsumer(store, key_prefix="orders").handle(event, Recorder())
    assert caught.value.event_id == event["id"]
    assert isinstance(caught.value.__cause__, Exception)


def test_an_event_without_idempotency_key_is_refused(tmp_path: Path) -> None:
    event = order()
    del event["idempotencykey"]
    with pytest.raises(MalformedEnvelope):
        IdempotentConsumer(SQLiteStore(tmp_path / "k.sqlite3")).handle(event, Recorder())


def test_memory_store_works_for_a_single_process() -> None:
    consumer = IdempotentConsumer(SQLiteStore(), key_prefix="orders")
    handler: Callable[[Any], Any] = Recorder()
    event = order()
    consumer.handle(event, handler)
    consumer.handle(event, handler)
    assert handler.calls == [event["id"]]  # type: ignore[attr-defined]
