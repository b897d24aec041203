"""A real HTTP endpoint on 127.0.0.1 for delivery tests: it records every POSTed body and answers the status a test
sets (``endpoint.status = 400``), or a per-request script (``endpoint.script = [500, 200]`` answers 500, then 200
to the next request, then ``status``), so a target fails for real. While ``hold`` is clear, requests wait unanswered
(``arrived`` counts them), so a test can kill a deliverer mid-delivery."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class RecordingEndpoint:
    def __init__(self) -> None:
        self.status = 200
        self.script: list[int] = []
        self.received: list[dict[str, Any]] = []
        self.answers: list[int] = []
        self.arrived = 0
        self.hold = threading.Event()
        self.hold.set()
        self._lock = threading.Lock()
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with endpoint._lock:
                    endpoint.arrived += 1
                endpoint.hold.wait()
                with endpoint._lock:
                    status = endpoint.script.pop(0) if endpoint.script else endpoint.status
                    endpoint.answers.append(status)
                    if 200 <= status < 300:
                        endpoint.received.append(json.loads(body))
                answer = b'{"answer": "as scripted"}'
                self.send_response(status)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        # A client killed while its request was held leaves a broken pipe: not the endpoint's concern to report.
        self.server.handle_error = lambda request, address: None  # type: ignore[method-assign]
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def cloud_event_ids(self) -> list[str]:
        """The CloudEvent ids of the events taken (2xx), in arrival order."""
        return [event["detail"]["id"] for event in self.received]


@contextmanager
def recording_endpoint() -> Iterator[RecordingEndpoint]:
    endpoint = RecordingEndpoint()
    thread = threading.Thread(target=endpoint.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield endpoint
    finally:
        endpoint.hold.set()
        endpoint.server.shutdown()
        thread.join()
        endpoint.server.server_close()
