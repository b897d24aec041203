"""Edits to the AsyncAPI documents reach `mkdocs serve` when the file system reports them, not at its next poll.

MkDocs' live-reload server looks for changes by polling what it watches every half second, then waits a tenth of a
second for the burst of writes to end: on average a third of a second before a rebuild starts, a third of the
one-second target for an edit to be visible on a 1,000-event catalogue. So the plugin watches its own sources (the
AsyncAPI documents and subscription requests) with watchdog's native observer (inotify on Linux, FSEvents on macOS),
which reports a change as it happens, and asks the server for a rebuild as MkDocs' own watcher does: it sets the
server's ``_want_rebuild`` under its ``_rebuild_cond`` (and shortens the server's wait for the end of a burst of
writes, ``build_delay``, from 0.1 to 0.04 s). Those two are private to MkDocs (the same since the
live-reload server was written, MkDocs 1.2), so when a server lacks them, or the observer cannot start (no inotify
watches left, say), the folders are handed to ``server.watch`` instead, as before: a slower rebuild, never none.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

log = logging.getLogger("mkdocs.plugins.eventdeck")
_CHANGES = frozenset({"created", "modified", "deleted", "moved", "closed"})
#: How long the server waits for more writes after one it was told of (see SourceWatch.start).
BURST_SECONDS = 0.04


class SourceWatch:
    """The plugin's sources, watched for a live-reload ``server`` (see the module docstring)."""

    def __init__(self, server: Any, paths: Sequence[Path]) -> None:
        self.server = server
        self.paths = [str(path) for path in paths]
        self._observer: Any = None

    def start(self) -> bool:
        """Watch the paths; ``False`` (nothing started) when the server cannot be asked this way or the observer
        cannot run, and the caller should hand the paths to ``server.watch``."""
        condition = getattr(self.server, "_rebuild_cond", None)
        if not isinstance(condition, threading.Condition) or \
                not isinstance(getattr(self.server, "_want_rebuild", None), bool):
            return False
        observer = Observer()
        handler = _Changed(self.server, condition)
        try:
            for path in self.paths:
                observer.schedule(handler, path, recursive=os.path.isdir(path))
            observer.start()
        except OSError as exc:  # e.g. the inotify watch limit: MkDocs' polling still works
            log.debug("eventdeck: watching %s as it changes is not possible (%s); polling", self.paths, exc)
            observer.stop()
            return False
        self._observer = observer
        # The server waits this long after a change for the burst of writes to end. Its tenth of a second suits
        # polling every half second; an editor's save reported as it happens is over within milliseconds.
        if isinstance(getattr(self.server, "build_delay", None), float):
            self.server.build_delay = min(self.server.build_delay, BURST_SECONDS)
        log.info("eventdeck: watching %s for changes as they happen", ", ".join(self.paths))
        return True

    def stop(self) -> None:
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout=5)
            self._observer = None


class _Changed(FileSystemEventHandler):
    def __init__(self, server: Any, condition: threading.Condition) -> None:
        self.server, self.condition = server, condition

    def on_any_event(self, event: FileSystemEvent) -> None:
        # A file written, made, moved or removed, as MkDocs' polling sees it (a folder's own events say nothing
        # new; a file opened or read, as every rebuild reads the documents, is no change).
        if event.is_directory or event.event_type not in _CHANGES:
            return
        with self.condition:
            self.server._want_rebuild = True
            self.condition.notify_all()
