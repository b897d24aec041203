"""The local HTTP consumer `eventdeck run` delivers to: over real HTTP on 127.0.0.1, it opens each event under the
contract, drops duplicates, and answers with the status that tells a bus to retry or to dead-letter."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pipeline.consumer import ContractOpener
from pipeline.consumer.http_server import ConsumerServer
from pipeline.consumer.stores.sqlite import SQLiteStore
from pipeline.contract import Catalogue
from pipeline.enrichment.samples import sample_inputs
from pipeline.produce import Producer, Published, required_keys
from pipeline.sealing.keys import KeySet, keyset_for
from pipeline.sealing.open import OpenedEvent


@pytest.fixture(scope="module")
def keys(examples_catalogue: Catalogue) -> KeySet:
    return keyset_for(required_keys(examples_catalogue))


@pytest.fixture(scope="module")
def published(examples_catalogue: Catalogue, keys: KeySet) -> list[Published]:
    producer = Producer(examples_catalogue, keys)
    inputs = sample_inputs(examples_catalogue)
    outcomes = [o for _, e in inputs.events for o in producer.process_one(e, lookup_results=inputs.lookup_results)]
    assert outcomes and all(isinstance(o, Published) for o in outcomes)
    return outcomes  # type: ignore[return-value]


@pytest.fixture
def server(examples_catalogue: Catalogue, keys: KeySet, tmp_path: Path) -> Iterator[ConsumerServer]:
    with ConsumerServer(ContractOpener(examples_catalogue, keys), SQLiteStore(tmp_path / "dedupe.sqlite")) as s:
        yield s


def _eventbridge_event(published: Published) -> dict[str, Any]:
    """What an EventBridge rule delivers for a PutEvents entry: the event with the Detail JSON as ``detail``."""
    entry = published.entry
    return {"version": "0", "id": "b1c2", "detail-type": entry["DetailType"], "source": entry["Source"],
            "account": "000000000000", "time": entry["Time"], "region": "eu-west-1", "resources": [],
            "detail": json.loads(entry["Detail"])}


def _post(server: ConsumerServer, body: bytes, headers: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    port = int(server.url.split(":")[2].split("/")[0])
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("POST", "/events", body=body,
                           headers={"Content-Type": "application/json", **(headers or {})})
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def test_the_server_listens_on_loopback_only(server: ConsumerServer) -> None:
    assert server.url.startswith("http://127.0.0.1:")


def test_every_published_event_is_opened_once_and_its_duplicate_dropped(
        server: ConsumerServer, published: list[Published]) -> None:
    for outcome in published:
        status, body = _post(server, json.dumps(_eventbridge_event(outcome)).encode())
        assert (status, body["outcome"]) == (200, "opened"), body
    again = _post(server, json.dumps(_eventbridge_event(published[0])).encode())
    assert again == (200, {"outcome": "duplicate", "id": published[0].cloud_event["id"]})
    assert [o.id for o in server.stats.opened] == [p.cloud_event["id"] for p in published]
    assert server.stats.duplicates == 1 and not server.stats.rejected
    assert {o.type for o in server.stats.opened} == {p.event for p in published}
    assert any(o.sealed for o in server.stats.opened) and any(not o.sealed for o in server.stats.opened)


def test_a_put_events_entry_and_a_bare_cloud_event_are_accepted_too(
        server: ConsumerServer, published: list[Published]) -> None:
    assert _post(server, json.dumps(published[0].entry).encode())[1]["outcome"] == "opened"
    assert _post(server, json.dumps(published[1].cloud_event).encode())[1]["outcome"] == "opened"


def test_a_tampered_event_is_refused_for_good_with_its_id_and_reason(
        server: ConsumerServer, published: list[Published]) -> None:
    event = _eventbridge_event(next(p for p in published if p.cloud_event["datacontenttype"] == "application/jwt"))
    token = event["detail"]["data"]
    event["detail"]["data"] = token[:-6] + ("A" if token[-6] != "A" else "B") + token[-5:]
    status, body = _post(server, json.dumps(event).encode())
    assert status == 400 and body["outcome"] == "rejected" and body["id"] == event["detail"]["id"]
    assert body["reason"].split(":")[0] in {"DecryptionFailed", "TamperedToken", "BadSignature"}
    assert not server.stats.opened and sum(server.stats.rejected.values()) == 1


@pytest.mark.parametrize(("body", "reason"), [
    (b"not json", "not an event"),
    (b"\xff\xfe", "not an event"),
    (b"[1, 2]", "not an event"),
    (b'{"detail-type": "x", "detail": "y"}', "UnknownEventType"),
    (b'{"Detail": "{broken"}', "not an event"),
    (b"[" * 100_000, "not an event"),
])
def test_what_is_no_event_is_refused_with_400(server: ConsumerServer, body: bytes, reason: str) -> None:
    status, answer = _post(server, body)
    assert status == 400 and answer["reason"].startswith(reason), answer


def test_a_body_over_the_limit_is_refused_unread(server: ConsumerServer) -> None:
    status, answer = _post(server, b"x" * (server.max_body_bytes + 1))
    assert status == 413 and "too large" in answer["reason"]


def test_a_failing_handler_answers_500_and_the_retry_runs_it_again(
        examples_catalogue: Catalogue, keys: KeySet, tmp_path: Path, published: list[Published]) -> None:
    calls: list[OpenedEvent] = []

    def flaky(opened: OpenedEvent) -> None:
        calls.append(opened)
        if len(calls) == 1:
            raise RuntimeError("downstream unavailable")

    opener = ContractOpener(examples_catalogue, keys)
    with ConsumerServer(opener, SQLiteStore(tmp_path / "d.sqlite"), handler=flaky) as server:
        body = json.dumps(_eventbridge_event(published[0])).encode()
        status, answer = _post(server, body)
        assert status == 500 and "downstream unavailable" in answer["reason"]
        assert _post(server, body) == (200, {"outcome": "opened", "id": published[0].cloud_event["id"]})
        assert len(calls) == 2 and server.stats.retried == 1


def test_duplicates_are_remembered_across_restarts_in_the_same_store(
        examples_catalogue: Catalogue, keys: KeySet, tmp_path: Path, published: list[Published]) -> None:
    body = json.dumps(_eventbridge_event(published[0])).encode()
    opener = ContractOpener(examples_catalogue, keys)
    with ConsumerServer(opener, SQLiteStore(tmp_path / "d.sqlite")) as first:
        assert _post(first, body)[1]["outcome"] == "opened"
    with ConsumerServer(opener, SQLiteStore(tmp_path / "d.sqlite")) as second:
        assert _post(second, body)[1]["outcome"] == "duplicate"
