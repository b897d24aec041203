"""A consumer's HTTP endpoint on loopback: what an API destination (or the local bus's HTTP target) calls.

Each request body is one event — an EventBridge event whose ``detail`` is the CloudEvent (what a rule delivers),
a PutEvents entry whose ``Detail`` is the CloudEvent JSON, or the CloudEvent itself. The receiver opens it with
the consumer library under the contract (:class:`~pipeline.consumer.ContractOpener`: verify, decrypt, validate)
and de-duplicates it by its idempotency key (:class:`~pipeline.consumer.dedupe.IdempotentConsumer`), then answers
as EventBridge's HTTP targets expect, so the bus retries what may succeed later and dead-letters the rest:

* ``200`` the event was opened and handled, or it is a duplicate of one that was (dropped, not handled again);
* ``400`` the event is refused for good (not JSON, not an event, tampered, off-contract…): the body is the reason;
* ``409`` an event with the same idempotency key is being handled right now (EventBridge retries 409);
* ``411``/``413`` no ``Content-Length`` / a body over the limit;
* ``503`` the de-duplication store failed (retried).

It lives in ``pipeline.consumer`` rather than the CLI because it is the consumer side of the contract: a
consumer's own tests can start it against a local bus with nothing but the runtime installed (stdlib
``http.server``, no extra dependency). It binds ``127.0.0.1`` only and is meant for local runs and tests, not as
a production ingress.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Final

from aws_lambda_powertools.utilities.idempotency import BasePersistenceLayer

from pipeline.consumer.contract import ContractOpener
from pipeline.consumer.dedupe import IdempotentConsumer
from pipeline.errors import DedupeStoreError, DuplicateInProgress, EventdeckError
from pipeline.sealing.open import OpenedEvent

__all__ = ["DEFAULT_MAX_BODY_BYTES", "ConsumerServer", "ConsumerStats", "Receipt"]

#: The largest request body read: an EventBridge entry is at most 256 KiB by default and AWS raises limits per
#: account; 1 MiB leaves room for the event around it without letting a caller make the server buffer anything.
DEFAULT_MAX_BODY_BYTES: Final = 1024 * 1024

#: What records of this receiver are prefixed with in the de-duplication store.
KEY_PREFIX: Final = "eventdeck.consumer.http"


@dataclass(frozen=True, slots=True)
class Receipt:
    """What the receiver made of one delivery: ``outcome`` is ``opened``, ``duplicate``, ``rejected`` or
    ``retry``; ``status`` the HTTP status answered; ``reason`` why it was not opened (one line)."""

    outcome: str
    status: int
    event_id: str | None = None
    type: str | None = None
    reason: str | None = None


@dataclass
class ConsumerStats:
    """Counts since the server started, and the events it opened (first deliveries only), in arrival order."""

    opened: list[OpenedEvent] = field(default_factory=list)
    duplicates: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    retried: int = 0


class ConsumerServer:
    """An HTTP consumer on ``127.0.0.1`` (an ephemeral port unless ``port`` is given), serving from a thread.

    :param opener: opens each event under the contract (build it once, as a consumer does at start).
    :param store: the de-duplication store (e.g. :class:`~pipeline.consumer.stores.sqlite.SQLiteStore`); give the
        server its own store object.
    :param handler: called once per new event with the :class:`OpenedEvent` (not for duplicates); its result is
        not recorded. An exception from it answers ``500`` and releases the event's record, so a retry runs it.

    Use it as a context manager, or call :meth:`start` and :meth:`close`.
    """

    def __init__(self, opener: ContractOpener, store: BasePersistenceLayer, *,
                 handler: Callable[[OpenedEvent], object] | None = None, port: int = 0,
                 max_body_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        self.opener = opener
        self.consumer = IdempotentConsumer(store, key_prefix=KEY_PREFIX, max_result_bytes=None)
        self.handler = handler
        self.max_body_bytes = max_body_bytes
        self.stats = ConsumerStats()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _handler_class(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/events"

    def start(self) -> ConsumerServer:
        if self._thread is None:
            self._thread = threading.Thread(target=self._server.serve_forever, name="eventdeck-consumer",
                                            kwargs={"poll_interval": 0.05}, daemon=True)
            self._thread.start()
        return self

    def close(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> ConsumerServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def receive(self, body: bytes) -> Receipt:
        """Open, de-duplicate and handle one request body; never raises (every failure is a :class:`Receipt`)."""
        try:
            cloud_event = cloud_event_of(json.loads(body))
        except (ValueError, RecursionError) as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
            return self._count(Receipt("rejected", 400, reason=f"not an event: {_line(exc)}"))
        event_id = _text(cloud_event.get("id"))
        event_type = _text(cloud_event.get("type"))
        try:
            opened = self.opener.open(cloud_event)
        except (EventdeckError, LookupError, ValueError, TypeError, RecursionError) as exc:
            return self._count(Receipt("rejected", 400, event_id, event_type, f"{type(exc).__name__}: {_line(exc)}"))
        first: list[OpenedEvent] = []
        try:
            self.consumer.handle(opened, self._handle(first))
        except DuplicateInProgress as exc:
            return self._count(Receipt("retry", 409, opened.id, opened.type, _line(exc)))
        except DedupeStoreError as exc:
            return self._count(Receipt("retry", 503, opened.id, opened.type, _line(exc)))
        except Exception as exc:  # the handler's own failure: the record is released, the bus retries
            return self._count(Receipt("retry", 500, opened.id, opened.type, f"the handler failed: {_line(exc)}"))
        if first:
            with self._lock:
                self.stats.opened.append(opened)
            return Receipt("opened", 200, opened.id, opened.type)
        return self._count(Receipt("duplicate", 200, opened.id, opened.type))

    def _handle(self, first: list[OpenedEvent]) -> Callable[[OpenedEvent], None]:
        def handle(opened: OpenedEvent) -> None:
            if self.handler is not None:
                self.handler(opened)
            first.append(opened)

        return handle

    def _count(self, receipt: Receipt) -> Receipt:
        with self._lock:
            if receipt.outcome == "duplicate":
                self.stats.duplicates += 1
            elif receipt.outcome == "rejected":
                self.stats.rejected[receipt.reason.split(":", 1)[0] if receipt.reason else "rejected"] += 1
            elif receipt.outcome == "retry":
                self.stats.retried += 1
        return receipt


def cloud_event_of(value: Any) -> Mapping[str, Any]:
    """The CloudEvent in a request body: an EventBridge event's ``detail``, a PutEvents entry's ``Detail`` JSON,
    or the body itself. :raises ValueError: it is none of them."""
    if isinstance(value, Mapping) and isinstance(value.get("detail"), Mapping) and "detail-type" in value:
        value = value["detail"]
    elif isinstance(value, Mapping) and isinstance(value.get("Detail"), str):
        value = json.loads(value["Detail"])
    if not isinstance(value, Mapping):
        raise ValueError("expected a JSON object (an EventBridge event, a PutEvents entry or a CloudEvent)")
    return value


def _handler_class(server: ConsumerServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: a bus delivering many events reuses its connection

        def do_POST(self) -> None:
            length = self.headers.get("Content-Length")
            if length is None or not length.isdigit():
                self._answer(server._count(Receipt("rejected", 411, reason="no Content-Length: one is required")))
                return
            if int(length) > server.max_body_bytes:
                self._discard(int(length))
                self._answer(server._count(Receipt("rejected", 413,
                                                   reason=f"too large: over {server.max_body_bytes} bytes")))
                return
            self._answer(server.receive(self.rfile.read(int(length))))

        def _discard(self, length: int) -> None:
            """Read an oversized body away in chunks (never held whole), so the client reads the 413; a body far
            over the limit is not read at all and the connection is closed instead."""
            if length > 8 * server.max_body_bytes:
                self.close_connection = True
                return
            while length > 0:
                chunk = self.rfile.read(min(length, 64 * 1024))
                if not chunk:
                    break
                length -= len(chunk)

        def _answer(self, receipt: Receipt) -> None:
            body = json.dumps({k: v for k, v in (("outcome", receipt.outcome), ("id", receipt.event_id),
                                                 ("reason", receipt.reason)) if v is not None}).encode()
            self.send_response(receipt.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the receipts are the log."""

    return Handler


def _text(value: Any) -> str | None:
    return value[:200] if isinstance(value, str) else None


def _line(exc: BaseException) -> str:
    """One bounded line of an exception's message (it goes back to the caller and into dead-letter reasons)."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 300 else text[:297] + "..."
