"""Rule targets of the local bus, as plain data: what to deliver to, and how it is stored in the bus file.

Four kinds, each the local stand-in for an EventBridge target:

* :class:`HttpTarget` — an HTTP endpoint (an API destination): the event JSON is POSTed; 2xx is delivered;
  401, 407, 409, 429, 5xx, time-outs and connection failures are retried; any other status is not (as AWS
  documents for API destinations);
* :class:`BusTarget` — another local bus file (a bus-to-bus rule): the event is put on it as a new entry;
* :class:`FileTarget` — a JSON Lines file: one event per line, appended and synced;
* :class:`CallableTarget` — a Python callable, stored by name only; a process attaches the function with
  :meth:`LocalBus.attach` (functions cannot be stored), and deliveries wait until one is attached.

Every target except the callable is persisted with its rule, so a restarted process resumes delivery.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import urlsplit

from pipeline.bus.local.errors import RuleError
from pipeline.bus.local.retry import RetryPolicy

__all__ = ["BusTarget", "CallableTarget", "FileTarget", "HttpTarget", "Target", "target_from_json"]

#: EventBridge's client time-out for API destinations.
HTTP_TIMEOUT_S: Final = 5.0
_TARGET_ID = re.compile(r"^[\w.\-]{1,64}$")  # EventBridge's target Id: 1-64 of [.\-_A-Za-z0-9]
_HEADER_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")


@dataclass(frozen=True, slots=True)
class HttpTarget:
    """POST each event (``application/json``) to ``url`` (``http`` or ``https``) with ``headers``."""

    url: str
    headers: tuple[tuple[str, str], ...] = ()
    timeout_s: float = HTTP_TIMEOUT_S
    id: str | None = None
    retry: RetryPolicy | None = None
    kind: str = field(default="http", init=False)

    def __post_init__(self) -> None:
        where = f"target {self.id or self.url!r}"
        if not isinstance(self.url, str):
            raise RuleError("the URL must be text", where=where)
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise RuleError(f"{self.url!r} is not an http(s) URL with a host", where=where)
        try:
            parts.port  # noqa: B018 - raises for a port that is not a number
        except ValueError:
            raise RuleError(f"{self.url!r} has a port that is not a number", where=where) from None
        if isinstance(self.headers, dict):
            object.__setattr__(self, "headers", tuple(self.headers.items()))
        for name, value in self.headers:
            if not isinstance(name, str) or not _HEADER_NAME.match(name) or not isinstance(value, str) \
                    or any(c in value for c in "\r\n\0"):
                raise RuleError(f"header {name!r} is not a valid HTTP header", where=where)
        if isinstance(self.timeout_s, bool) or not isinstance(self.timeout_s, int | float) \
                or not 0 < self.timeout_s <= 60:
            raise RuleError(f"timeout_s must be a number of seconds above 0 and at most 60, not {self.timeout_s!r}",
                            where=where)

    def config(self) -> dict[str, Any]:
        return {"url": self.url, "headers": [list(h) for h in self.headers], "timeout_s": self.timeout_s}


@dataclass(frozen=True, slots=True)
class BusTarget:
    """Put each event on the local bus stored at ``path`` (its rules then route it, with a new event id, as
    EventBridge does across buses)."""

    path: str
    id: str | None = None
    retry: RetryPolicy | None = None
    kind: str = field(default="bus", init=False)

    def __post_init__(self) -> None:
        if not isinstance(self.path, str | os.PathLike) or not str(self.path):
            raise RuleError("the bus path must be a file path", where=f"target {self.id or self.path!r}")
        object.__setattr__(self, "path", os.path.abspath(os.fspath(self.path)))

    def config(self) -> dict[str, Any]:
        return {"path": self.path}


@dataclass(frozen=True, slots=True)
class FileTarget:
    """Append each event as one line of JSON to ``path`` (JSON Lines), synced before it counts as delivered."""

    path: str
    id: str | None = None
    retry: RetryPolicy | None = None
    kind: str = field(default="file", init=False)

    def __post_init__(self) -> None:
        if not isinstance(self.path, str | os.PathLike) or not str(self.path):
            raise RuleError("the file path must be a file path", where=f"target {self.id or self.path!r}")
        object.__setattr__(self, "path", os.path.abspath(os.fspath(self.path)))

    def config(self) -> dict[str, Any]:
        return {"path": self.path}


@dataclass(frozen=True, slots=True)
class CallableTarget:
    """Call the function attached under ``name`` (:meth:`LocalBus.attach`) with each event as a dict. It raises
    :class:`~pipeline.bus.local.senders.DeliveryRefused` to refuse an event for good (dead-lettered at once);
    any other exception is retried."""

    name: str
    id: str | None = None
    retry: RetryPolicy | None = None
    kind: str = field(default="callable", init=False)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise RuleError("a callable target needs a name", where=f"target {self.id or self.name!r}")

    def config(self) -> dict[str, Any]:
        return {"name": self.name}


Target = HttpTarget | BusTarget | FileTarget | CallableTarget


def target_id(target: Target, index: int) -> str:
    """The target's id: its own, else its position in the rule (``1``, ``2``…), as EventBridge ids are per rule."""
    ident = target.id if target.id is not None else str(index + 1)
    if not isinstance(ident, str) or not _TARGET_ID.match(ident):
        raise RuleError("a target id is 1 to 64 letters, digits, '.', '-' or '_'", where=f"target {ident!r}")
    return ident


def target_from_json(kind: str, ident: str, config: dict[str, Any], retry: RetryPolicy | None) -> Target:
    """Rebuild a stored target (the inverse of ``kind`` + ``config()``)."""
    if kind == "http":
        return HttpTarget(config["url"], tuple((n, v) for n, v in config.get("headers", ())),
                          config.get("timeout_s", HTTP_TIMEOUT_S), id=ident, retry=retry)
    if kind == "bus":
        return BusTarget(config["path"], id=ident, retry=retry)
    if kind == "file":
        return FileTarget(config["path"], id=ident, retry=retry)
    if kind == "callable":
        return CallableTarget(config["name"], id=ident, retry=retry)
    raise RuleError(f"unknown target kind {kind!r}", where=f"target {ident!r}")
