"""A real HTTP consumer on 127.0.0.1 for delivery tests: records every POSTed body and answers with a status the
test scripts (``answer(n, event) -> status``, ``n`` counting requests from 0), over HTTP/1.1 keep-alive.

Run it in the test process (``with HttpSink() as sink``) or as a process of its own (``python tests/http_sink.py
PORT_FILE [DELAY_S]``: serves 200 after ``DELAY_S``, appends each body as a line to ``PORT_FILE + '.log'``)."""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Answer = Callable[[int, dict[str, Any]], int]


class HttpSink:
    def __init__(self, answer: Answer | None = None, *, delay_s: float = 0.0) -> None:
        self.answer: Answer = answer or (lambda n, event: 200)
        self.delay_s = delay_s
        self.requests: list[dict[str, Any]] = []  # every request, whatever the answer
        self.delivered: list[dict[str, Any]] = []  # those answered 2xx
        self.lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                event = json.loads(body)
                with sink.lock:
                    n = len(sink.requests)
                    sink.requests.append(event)
                if sink.delay_s:
                    time.sleep(sink.delay_s)
                status = sink.answer(n, event)
                if 200 <= status < 300:
                    with sink.lock:
                        sink.delivered.append(event)
                reply = b'{"error":"scripted failure"}' if status >= 300 else b"{}"
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.handle_error = lambda request, address: None  # type: ignore[method-assign]  # a client gone
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/events"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> HttpSink:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def delivered_ids(self) -> list[str]:
        with self.lock:
            return [event["id"] for event in self.delivered]


def _serve(port_file: str, delay_s: float) -> None:
    log = open(port_file + ".log", "a", encoding="utf-8")  # noqa: SIM115 - open for the process's life

    def answer(n: int, event: dict[str, Any]) -> int:
        log.write(json.dumps(event) + "\n")
        log.flush()
        return 200

    with HttpSink(answer, delay_s=delay_s) as sink:
        with open(port_file + ".tmp", "w", encoding="utf-8") as file:
            file.write(sink.url)
        import os

        os.replace(port_file + ".tmp", port_file)
        threading.Event().wait()


if __name__ == "__main__":
    _serve(sys.argv[1], float(sys.argv[2]) if len(sys.argv) > 2 else 0.0)
