"""A fault-injecting HTTP proxy for tests: sits on 127.0.0.1 in front of moto and makes EventBridge fail for real.

boto3 talks to the proxy as it would to AWS (``endpoint_url=proxy.url``); the proxy forwards every request to the
emulator unchanged and passes the answer back, except for the ``PutEvents`` calls a test has planned a fault for.
Faults are consumed one per ``PutEvents`` call, in order; once the plan is empty, calls pass through:

* :meth:`FaultProxy.fail_entries` — the listed entries of the next call fail with the given ``ErrorCode`` (e.g.
  ``ThrottlingException``, ``InternalException``, ``MalformedDetail``). They are **removed from the request** before
  it reaches moto, so a failed entry is really not on the bus, and the answer is merged back in request order with
  ``FailedEntryCount`` adjusted: exactly what EventBridge answers for a partial failure.
* :meth:`FaultProxy.fail_call` — the next call is answered with an error status and body (a 500
  ``InternalException``, a 400 ``ThrottlingException``…) without reaching moto.

``calls`` records the entries of every ``PutEvents`` call as the proxy received them (before any fault), so a test
counts calls and sees exactly which entries each one carried.
"""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import pytest

PUT_EVENTS_TARGET = "AWSEvents.PutEvents"


@dataclass(frozen=True)
class EntryFaults:
    """Entries of one call to fail: request position -> error code."""

    codes: Mapping[int, str]


@dataclass(frozen=True)
class CallFault:
    """One call answered with ``status`` and a JSON 1.1 error body of ``code``."""

    status: int
    code: str
    message: str = "injected by the test proxy"


@dataclass
class FaultProxy:
    """The running proxy: its URL, the plan of faults still to come and the record of ``PutEvents`` calls."""

    upstream: str
    url: str = ""
    calls: list[list[dict[str, Any]]] = field(default_factory=list)
    plan: list[EntryFaults | CallFault] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fail_entries(self, codes: Mapping[int, str]) -> None:
        """The next planned ``PutEvents`` call fails the entries at these request positions with these codes."""
        with self.lock:
            self.plan.append(EntryFaults(dict(codes)))

    def fail_call(self, status: int, code: str, message: str = "injected by the test proxy") -> None:
        """The next planned ``PutEvents`` call is answered ``status`` with error ``code`` (not forwarded)."""
        with self.lock:
            self.plan.append(CallFault(status, code, message))

    def next_fault(self, entries: list[dict[str, Any]]) -> EntryFaults | CallFault | None:
        with self.lock:
            self.calls.append(entries)
            return self.plan.pop(0) if self.plan else None

    def reset(self) -> None:
        with self.lock:
            self.calls.clear()
            self.plan.clear()


def _handler_for(proxy: FaultProxy) -> type[BaseHTTPRequestHandler]:
    upstream = urlsplit(proxy.upstream)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def _forward(self, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
            connection = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=30)
            try:
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("content-length", "connection")}
                headers["Content-Length"] = str(len(body))
                connection.request(self.command, self.path, body=body, headers=headers)
                response = connection.getresponse()
                return response.status, response.getheaders(), response.read()
            finally:
                connection.close()

        def _answer(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
            self.send_response(status)
            for name, value in headers:
                if name.lower() not in ("content-length", "connection", "transfer-encoding", "date", "server"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.headers.get("X-Amz-Target") != PUT_EVENTS_TARGET:
                self._answer(*self._forward(body))
                return
            request = json.loads(body)
            entries = request.get("Entries", [])
            fault = proxy.next_fault(entries)
            if isinstance(fault, CallFault):
                error = json.dumps({"__type": fault.code, "message": fault.message}).encode()
                self._answer(fault.status, [("Content-Type", "application/x-amz-json-1.1"),
                                            ("x-amzn-ErrorType", fault.code)], error)
                return
            if fault is None or not fault.codes:
                self._answer(*self._forward(body))
                return
            kept = [e for i, e in enumerate(entries) if i not in fault.codes]
            answers: list[dict[str, Any]] = []
            headers: list[tuple[str, str]] = [("Content-Type", "application/x-amz-json-1.1")]
            if kept:
                status, headers, upstream_body = self._forward(json.dumps({**request, "Entries": kept}).encode())
                if status != 200:
                    self._answer(status, headers, upstream_body)
                    return
                answers = json.loads(upstream_body)["Entries"]
            merged, forwarded = [], iter(answers)
            for i in range(len(entries)):
                if i in fault.codes:
                    merged.append({"ErrorCode": fault.codes[i], "ErrorMessage": f"{fault.codes[i]} (injected)"})
                else:
                    merged.append(next(forwarded))
            failed = sum(1 for a in merged if "ErrorCode" in a)
            self._answer(200, headers, json.dumps({"FailedEntryCount": failed, "Entries": merged}).encode())

        def do_GET(self) -> None:
            self._answer(*self._forward(b""))

    return Handler


def start(upstream: str) -> tuple[FaultProxy, ThreadingHTTPServer]:
    """Start a proxy to ``upstream`` on a free loopback port (stop it with ``server.shutdown()``)."""
    proxy = FaultProxy(upstream)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(proxy))
    server.daemon_threads = True
    host, port = server.server_address[:2]
    proxy.url = f"http://{host}:{port}"
    threading.Thread(target=server.serve_forever, name="fault-proxy", daemon=True).start()
    return proxy, server


@pytest.fixture(scope="session")
def fault_proxy_server(moto_endpoint: str) -> Iterator[FaultProxy]:
    proxy, server = start(moto_endpoint)
    try:
        yield proxy
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def fault_proxy(fault_proxy_server: FaultProxy) -> Iterator[FaultProxy]:
    """The session's proxy with an empty plan and record for this test."""
    fault_proxy_server.reset()
    yield fault_proxy_server
    fault_proxy_server.reset()
