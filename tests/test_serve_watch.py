"""`mkdocs serve` hears of edits to the AsyncAPI documents as they happen (portal/mkdocs_plugin/serve_watch.py), with
MkDocs' own live-reload server (constructed, not serving: nothing listens)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from mkdocs.livereload import LiveReloadServer

from portal.mkdocs_plugin.plugin import EventdeckPlugin
from portal.mkdocs_plugin.serve_watch import BURST_SECONDS, SourceWatch


def _server(tmp_path: Path) -> LiveReloadServer:
    return LiveReloadServer(builder=lambda: None, host="127.0.0.1", port=0, root=str(tmp_path / "site"))


def _wait_for(condition: Any, seconds: float = 20.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_an_edit_asks_the_server_for_a_rebuild_and_reading_does_not(tmp_path: Path) -> None:
    folder = tmp_path / "asyncapi"
    (folder / "nested").mkdir(parents=True)
    document = folder / "nested" / "orders.yaml"
    document.write_text("asyncapi: 3.0.0\n", encoding="utf-8")
    server = _server(tmp_path)
    watch = SourceWatch(server, [folder])
    assert server.build_delay == 0.1  # MkDocs' own, for polling
    assert watch.start()
    assert server.build_delay == BURST_SECONDS
    try:
        time.sleep(0.2)  # the observer's watches are in place
        server._want_rebuild = False
        document.read_text(encoding="utf-8")  # as every rebuild reads the documents
        time.sleep(0.5)
        assert server._want_rebuild is False
        document.write_text("asyncapi: 3.0.0\ninfo: {}\n", encoding="utf-8")
        assert _wait_for(lambda: server._want_rebuild), "the edit never asked for a rebuild"
        server._want_rebuild = False
        (folder / "nested" / "new.yaml").write_text("asyncapi: 3.0.0\n", encoding="utf-8")
        assert _wait_for(lambda: server._want_rebuild), "a new document never asked for a rebuild"
        server._want_rebuild = False
        document.unlink()
        assert _wait_for(lambda: server._want_rebuild), "a removed document never asked for a rebuild"
    finally:
        watch.stop()
    assert watch._observer is None


class _OtherServer:
    """A live-reload server of some other MkDocs release: only the public `watch`."""

    def __init__(self) -> None:
        self.watched: list[str] = []

    def watch(self, path: str) -> None:
        self.watched.append(path)


def test_a_server_that_cannot_be_asked_so_polls_the_folders_itself(tmp_path: Path) -> None:
    (tmp_path / "asyncapi").mkdir()
    (tmp_path / "docs").mkdir()
    (tmp_path / "mkdocs.yml").write_text("site_name: t\n", encoding="utf-8")
    from mkdocs.config import load_config

    config = load_config(str(tmp_path / "mkdocs.yml"))
    plugin = EventdeckPlugin()
    plugin.load_config({})
    other = _OtherServer()
    assert plugin.on_serve(other, config=config, builder=None) is other
    assert other.watched == [str(tmp_path / "asyncapi")] and plugin._watch is None

    server = _server(tmp_path)
    plugin.on_serve(server, config=config, builder=None)
    try:
        assert plugin._watch is not None and str(tmp_path / "asyncapi") not in server._watched_paths
    finally:
        plugin.on_shutdown()
    assert plugin._watch is None


def test_a_folder_that_cannot_be_watched_leaves_the_server_as_it_was(tmp_path: Path) -> None:
    # The observer cannot start (here: the folder is gone by then): nothing runs, MkDocs' own wait is kept, and the
    # plugin hands the folder to the server's polling instead.
    server = _server(tmp_path)
    watch = SourceWatch(server, [tmp_path / "asyncapi-removed"])
    assert watch.start() is False
    assert watch._observer is None and server.build_delay == 0.1
