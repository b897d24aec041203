"""How each kind of target takes a batch of events: the I/O half of delivery, with no retry policy of its own.

A sender answers one result per event, in order: ``None`` when the target took it, else a :class:`SendFailure`
saying whether trying again can help. The HTTP sender keeps one keep-alive connection per endpoint per worker
thread and spreads a batch over ``concurrency`` workers, which is what makes thousands of POSTs a second possible
from Python.
"""

from __future__ import annotations

import functools
import http.client
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import SplitResult, urlsplit

import orjson

from pipeline.bus.local.targets import BusTarget, CallableTarget, FileTarget, HttpTarget, Target
from pipeline.bus.port import Accepted, BusUnavailable
from pipeline.errors import EventdeckError

if TYPE_CHECKING:
    from pipeline.bus.local.bus import LocalBus

__all__ = ["DeliveryRefused", "SendFailure", "Senders", "http_status_failure"]

#: API destinations retry these statuses (and 5xx, time-outs, connection failures); any other non-2xx is final.
RETRIED_STATUSES: Final = frozenset({401, 407, 409, 429})
_REASON_BYTES: Final = 300
_MAX_ANSWER_BYTES: Final = 64 * 1024


class DeliveryRefused(Exception):
    """Raised by a callable target to refuse an event for good: it is dead-lettered at once, not retried."""


@dataclass(frozen=True, slots=True)
class SendFailure:
    """Why a target did not take an event; ``code`` is short and stable (``HTTP_500``, ``TIMEOUT``…)."""

    code: str
    message: str
    retryable: bool


SendResult = SendFailure | None


def http_status_failure(status: int, reason: str, url: str, body: bytes) -> SendFailure | None:
    """Classify an HTTP answer the way EventBridge API destinations do."""
    if 200 <= status < 300:
        return None
    snippet = "".join(c if c.isprintable() else "?" for c in body[:_REASON_BYTES].decode("utf-8", "replace"))
    snippet = snippet.strip()
    reason = "".join(c for c in reason[:100] if c.isprintable())
    message = f"POST {url} answered {status} {reason}".rstrip() + (f": {snippet}" if snippet else "")
    return SendFailure(f"HTTP_{status}", message, status in RETRIED_STATUSES or 500 <= status <= 599)


@functools.lru_cache(maxsize=256)
def _request_of(target: HttpTarget) -> tuple[SplitResult, str, dict[str, str], tuple[str, str, int | None, float]]:
    """What every POST to ``target`` shares, worked out once: URL parts, path, headers, connection key."""
    parts = urlsplit(target.url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    headers = {"Content-Type": "application/json", "User-Agent": "eventdeck-local-bus", **dict(target.headers)}
    return parts, path, headers, (parts.scheme, parts.hostname or "", parts.port, target.timeout_s)


class _HttpPool:
    """Keep-alive connections, one per (thread, endpoint)."""

    def __init__(self) -> None:
        self._local = threading.local()

    def post(self, target: HttpTarget, body: bytes) -> SendResult:
        parts, path, headers, key = _request_of(target)
        connections: dict[tuple[str, str, int | None, float], http.client.HTTPConnection] = \
            self._local.__dict__.setdefault("connections", {})
        for attempt in (1, 2):
            connection = connections.get(key)
            reused = connection is not None
            if connection is None:
                kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
                connection = kind(parts.hostname or "", parts.port, timeout=target.timeout_s)
                connections[key] = connection
            try:
                connection.request("POST", path, body=body, headers=headers)
                response = connection.getresponse()
                answer = response.read(_MAX_ANSWER_BYTES)  # a consumer's answer is not ours to buffer whole
                if response.will_close or not response.isclosed():
                    connection.close()
                    del connections[key]
                return http_status_failure(response.status, response.reason, target.url, answer)
            except TimeoutError:
                connection.close()
                connections.pop(key, None)
                return SendFailure("TIMEOUT", f"POST {target.url}: no answer within {target.timeout_s} s", True)
            except (OSError, http.client.HTTPException) as exc:
                connection.close()
                connections.pop(key, None)
                # A kept-alive connection the server closed meanwhile: try once on a fresh one.
                if reused and attempt == 1:
                    continue
                return SendFailure("CONNECTION_ERROR", f"POST {target.url}: {type(exc).__name__}: {exc}", True)
        raise AssertionError("unreachable")

    def close(self) -> None:
        for connection in self._local.__dict__.get("connections", {}).values():
            connection.close()


class Senders:
    """The senders of one deliverer: HTTP workers, opened target buses, attached callables."""

    def __init__(self, callables: Mapping[str, Callable[[dict[str, Any]], object]], *, concurrency: int = 8,
                 open_bus: Callable[[str], LocalBus] | None = None) -> None:
        self._callables = callables
        self._concurrency = max(1, concurrency)
        self._pools: list[_HttpPool] = []
        self._pool_of_thread = threading.local()
        self._executor: ThreadPoolExecutor | None = None
        self._buses: dict[str, LocalBus] = {}
        self._open_bus = open_bus

    def ready(self, target: Target) -> bool:
        """Whether this process can deliver to ``target`` now (a callable target needs its function attached)."""
        return not isinstance(target, CallableTarget) or target.name in self._callables

    def send(self, target: Target, bodies: Sequence[bytes]) -> list[SendResult]:
        if isinstance(target, HttpTarget):
            return self._send_http(target, bodies)
        if isinstance(target, FileTarget):
            return self._send_file(target, bodies)
        if isinstance(target, BusTarget):
            return self._send_bus(target, bodies)
        return self._send_callable(target, bodies)

    def _pool(self) -> _HttpPool:
        pool = getattr(self._pool_of_thread, "pool", None)
        if pool is None:
            pool = self._pool_of_thread.pool = _HttpPool()
            self._pools.append(pool)
        return pool

    def _send_http(self, target: HttpTarget, bodies: Sequence[bytes]) -> list[SendResult]:
        if len(bodies) < 4 or self._concurrency == 1:
            pool = self._pool()
            return [pool.post(target, body) for body in bodies]
        if self._executor is None:
            self._executor = ThreadPoolExecutor(self._concurrency, thread_name_prefix="eventdeck-http")
        size = -(-len(bodies) // self._concurrency)
        chunks = [bodies[i:i + size] for i in range(0, len(bodies), size)]

        def deliver(chunk: Sequence[bytes]) -> list[SendResult]:
            pool = self._pool()
            return [pool.post(target, body) for body in chunk]

        results: list[SendResult] = []
        for part in self._executor.map(deliver, chunks):
            results.extend(part)
        return results

    def _send_file(self, target: FileTarget, bodies: Sequence[bytes]) -> list[SendResult]:
        try:
            with open(target.path, "ab") as file:
                file.write(b"".join(body + b"\n" for body in bodies))
                file.flush()
                os.fsync(file.fileno())
        except (FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError) as exc:
            failure = SendFailure("FILE_UNWRITABLE", f"{target.path}: {exc.strerror or exc}", False)
            return [failure] * len(bodies)
        except OSError as exc:
            return [SendFailure("FILE_ERROR", f"{target.path}: {exc.strerror or exc}", True)] * len(bodies)
        return [None] * len(bodies)

    def _send_bus(self, target: BusTarget, bodies: Sequence[bytes]) -> list[SendResult]:
        from pipeline.bus.local.errors import BusStoreError

        try:
            bus = self._buses.get(target.path)
            if bus is None:
                if self._open_bus is None:
                    raise BusUnavailable("no way to open another bus here")
                bus = self._buses[target.path] = self._open_bus(target.path)
            entries = []
            for body in bodies:
                event = orjson.loads(body)
                entries.append({"Source": event["source"], "DetailType": event["detail-type"],
                                "Detail": orjson.dumps(event["detail"]).decode(), "Time": event["time"],
                                "Resources": event["resources"]})
            answers = bus.put_events(entries)
        except BusStoreError as exc:
            return [SendFailure("BUS_UNUSABLE", str(exc), False)] * len(bodies)
        except (BusUnavailable, EventdeckError, OSError) as exc:
            return [SendFailure("BUS_UNAVAILABLE", f"{target.path}: {exc}", True)] * len(bodies)
        return [None if isinstance(a, Accepted) else SendFailure(a.code, f"{target.path}: {a.message}", a.retryable)
                for a in answers]

    def _send_callable(self, target: CallableTarget, bodies: Sequence[bytes]) -> list[SendResult]:
        function = self._callables[target.name]
        results: list[SendResult] = []
        for body in bodies:
            try:
                function(orjson.loads(body))
            except DeliveryRefused as exc:
                results.append(SendFailure("REFUSED", f"{target.name}: {exc}", False))
            except Exception as exc:
                results.append(SendFailure("CALLABLE_ERROR", f"{target.name}: {type(exc).__name__}: {exc}", True))
            else:
                results.append(None)
        return results

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None
        for pool in self._pools:
            pool.close()
        self._pools.clear()
        for bus in self._buses.values():
            bus.close()
        self._buses.clear()
