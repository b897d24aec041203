"""`eventdeck run` as a user runs it: the examples' samples through the pipeline, the outbox and the local bus to
the local HTTP consumer, which opens every one; exact summaries; bad input reported and the batch going on."""

from __future__ import annotations

import contextlib
import fcntl
import io
import json
import os
import pty
import re
import sqlite3
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from cli_runner import EVENTDECK, Workspace, run, run_process, workspace
from recording_endpoint import recording_endpoint

from pipeline.bus.local import LocalBus
from pipeline.contract.artefact import load_artefact
from pipeline.enrichment.samples import sample_inputs
from pipeline.produce import Producer, Published
from portal.cli.progress import Progress
from portal.cli.seal import load_keys

SUMMARY_KEYS = {"command", "state", "bus", "read", "unreadable", "unrouted", "published", "failed", "failed_by_stage",
                "delivered", "dead_lettered", "pending", "dead_lettered_by_reason", "consumer", "exit_code"}


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return workspace(tmp_path_factory.mktemp("run"))


def _run(ws: Workspace, state: Path, *extra: str | Path, stdin: bytes = b"") -> tuple[int, dict[str, Any], str]:
    result = run("run", *ws.contract_args, "--state", state, "--format", "json", *extra, stdin=stdin)
    assert "Traceback" not in result.err
    return result.code, json.loads(result.out), result.err


def _jsonl(events: list[Any]) -> bytes:
    return "".join(json.dumps(e) + "\n" for e in events).encode()


def _types(ws: Workspace) -> Counter[str]:
    return Counter(json.loads(line)["event"] for line in ws.sealed)


def test_every_sample_is_delivered_and_opened_by_the_local_consumer(ws: Workspace, tmp_path: Path) -> None:
    state = tmp_path / "state"
    result = run_process("run", *ws.contract_args, "--state", state, "--format", "json", cwd=tmp_path)
    assert result.code == 0, result.err
    summary = json.loads(result.out)
    assert set(summary) == SUMMARY_KEYS and set(summary["consumer"]) == {"url", "opened", "duplicates",
                                                                          "rejected_by_reason"}
    published = len(ws.sealed)  # what `eventdeck seal --samples` makes of the same samples
    assert (summary["read"], summary["published"], summary["delivered"]) == (len(ws.samples), published, published)
    assert (summary["failed"], summary["dead_lettered"], summary["pending"], summary["exit_code"]) == (0, 0, 0, 0)
    assert summary["consumer"]["opened"] == published and summary["consumer"]["duplicates"] == 0
    assert summary["consumer"]["url"].startswith("http://127.0.0.1:")
    opened = [json.loads(line) for line in (state / "opened.jsonl").read_text().splitlines()]
    assert Counter(o["type"] for o in opened) == _types(ws)
    assert all(o["sealed"] == (o["signing_kid"] is not None) for o in opened)
    assert any(o["sealed"] for o in opened)
    assert "\r" not in result.err  # no progress bar when stderr is not a terminal


def test_the_text_summary_says_what_happened(ws: Workspace, tmp_path: Path) -> None:
    result = run("run", *ws.contract_args, "--state", tmp_path / "s")
    n = len(ws.sealed)
    assert result.code == 0, result.err
    url = re.search(r"consumer (http://127\.0\.0\.1:\d+/events):", result.out)
    assert url is not None, result.out
    assert result.out.splitlines() == [
        f"✓ {len(ws.samples)} internal event(s) read",
        f"  {n} published onto the local bus {tmp_path / 's' / 'bus.sqlite'}",
        f"  {n} delivered",
        f"  consumer {url[1]}: {n} opened (verified, decrypted, validated), 0 duplicate(s) dropped",
    ]


def test_a_second_run_is_delivered_and_dropped_as_duplicates_by_the_consumer(ws: Workspace, tmp_path: Path) -> None:
    state = tmp_path / "state"
    assert _run(ws, state)[0] == 0
    code, summary, _ = _run(ws, state)
    n = len(ws.sealed)
    assert code == 0 and summary["published"] == summary["delivered"] == n
    assert summary["consumer"]["opened"] == 0 and summary["consumer"]["duplicates"] == n
    assert (state / "opened.jsonl").read_text() == ""


def test_a_first_run_with_no_keys_anywhere_creates_development_keys_in_the_state_folder(
        ws: Workspace, tmp_path: Path) -> None:
    state = tmp_path / ".eventdeck"
    result = run("run", "--contract", ws.artefact, "--state", state, "--format", "json", cwd=tmp_path)
    assert result.code == 0, result.err
    private = state / "keys" / "private.jwks.json"
    assert f"created development keys in {private}" in result.err
    assert oct(os.stat(private).st_mode & 0o777) == "0o600" and oct(os.stat(state).st_mode & 0o777) == "0o700"
    assert json.loads(result.out)["consumer"]["opened"] == len(ws.sealed)
    again = run("run", "--contract", ws.artefact, "--state", state, "--format", "json", cwd=tmp_path)
    assert again.code == 0 and "created" not in again.err  # the keys are reused, not made again
    assert sorted(p.name for p in tmp_path.iterdir()) == [".eventdeck"]  # nothing written outside the state folder


def test_a_bad_internal_event_is_reported_with_its_line_and_id_and_the_batch_goes_on(
        ws: Workspace, tmp_path: Path) -> None:
    invalid = json.loads(json.dumps(ws.samples[0]))
    invalid["id"] = "bad-event-0001"
    invalid["detail"] = {"unexpected": True}
    lines = _jsonl(ws.samples[:3]).splitlines(keepends=True)
    text = b"".join([*lines[:2], b"{not json\n", json.dumps(invalid).encode() + b"\n", *lines[2:]])
    (tmp_path / "events.jsonl").write_bytes(text)
    code, summary, err = _run(ws, tmp_path / "state", tmp_path / "events.jsonl")
    assert code == 1
    assert f"{tmp_path / 'events.jsonl'}:3:2: invalid JSON" in err
    assert f"{tmp_path / 'events.jsonl'}:4: " in err and "event bad-event-0001" in err
    assert summary["read"] == 4 and summary["unreadable"] == 1
    assert summary["failed"] == 2 and summary["failed_by_stage"]["input"] == 1
    expected = _published_count(ws, ws.samples[:3])
    assert summary["published"] == summary["delivered"] == summary["consumer"]["opened"] == expected > 0
    assert summary["exit_code"] == 1


def _published_count(ws: Workspace, samples: list[dict[str, Any]]) -> int:
    """How many public events the producer makes of ``samples`` (with the samples' canned look-ups)."""
    catalogue = load_artefact(ws.artefact)
    producer = Producer(catalogue, load_keys([str(ws.private_keys)], strict=False))
    inputs = sample_inputs(catalogue)
    return sum(isinstance(o, Published) for s in samples
               for o in producer.process_one(s, lookup_results=inputs.lookup_results))


def test_internal_events_are_read_from_stdin(ws: Workspace, tmp_path: Path) -> None:
    result = run_process("run", *ws.contract_args, "--state", tmp_path / "state", "--format", "json", "-",
                         stdin=_jsonl(ws.samples), cwd=tmp_path)
    assert result.code == 0, result.err
    summary = json.loads(result.out)
    assert summary["read"] == len(ws.samples)
    assert summary["published"] == summary["consumer"]["opened"] == len(ws.sealed)


@pytest.mark.parametrize(("args", "message"), [
    (("--wait", "-1"), "--wait -1: give a number of seconds"),
    (("--no-consumer",), "--no-consumer leaves nothing to deliver to"),
    (("--target", "ftp://127.0.0.1/x"), "--target: target 'target-1': 'ftp://127.0.0.1/x' is not an http(s) URL"),
    (("--target", "http://127.0.0.1:notaport/"), "has a port that is not a number"),
    (("missing.jsonl",), "missing.jsonl: no such file (nothing was run)"),
    (("--format", "xml"), "invalid choice: 'xml'"),
])
def test_bad_options_are_usage_errors_and_nothing_runs(ws: Workspace, tmp_path: Path, args: tuple[str, ...],
                                                       message: str) -> None:
    result = run("run", *ws.contract_args, "--state", tmp_path / "state", *args, cwd=tmp_path)
    assert result.code == 2 and message in result.err, result.err
    assert not (tmp_path / "state").exists()


def test_a_state_path_that_is_a_file_is_refused(ws: Workspace, tmp_path: Path) -> None:
    (tmp_path / "state").write_text("not a folder")
    result = run("run", *ws.contract_args, "--state", tmp_path / "state")
    assert result.code == 2 and f"{tmp_path / 'state'}: is not a folder" in result.err
    assert (tmp_path / "state").read_text() == "not a folder"


@pytest.mark.parametrize("name", ["bus.sqlite", "bus.sqlite-wal", "outbox.sqlite", "consumer-dedupe.sqlite-shm",
                                  "lock"])
def test_a_symbolic_link_in_the_state_folder_is_refused_not_followed(ws: Workspace, tmp_path: Path,
                                                                     name: str) -> None:
    (tmp_path / "state").mkdir()
    outside = tmp_path / "outside"
    (tmp_path / "state" / name).symlink_to(outside)
    result = run("run", *ws.contract_args, "--state", tmp_path / "state")
    assert result.code == 2 and f"{tmp_path / 'state' / name}: is a symbolic link" in result.err
    assert not outside.exists()


@pytest.mark.parametrize(("name", "message"), [
    ("bus.sqlite", "cannot be opened as a SQLite database|is not a usable eventdeck bus file"),
    ("outbox.sqlite", "is not a usable eventdeck outbox"),
    ("consumer-dedupe.sqlite", "is not a usable de-duplication store"),
])
def test_a_state_file_that_is_not_a_database_is_named_and_left_alone(ws: Workspace, tmp_path: Path, name: str,
                                                                     message: str) -> None:
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / name).write_bytes(b"not a database, but someone's file" * 100)
    result = run("run", *ws.contract_args, "--state", tmp_path / "state")
    assert result.code in (1, 2) and "Traceback" not in result.err
    assert str(tmp_path / "state" / name) in result.err and re.search(message, result.err), result.err
    assert (tmp_path / "state" / name).read_bytes() == b"not a database, but someone's file" * 100


def test_a_state_folder_in_use_by_another_command_is_refused(ws: Workspace, tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    with (state / "lock").open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        result = run("run", *ws.contract_args, "--state", state)
        replay = run("replay", "--from", "2026-03-14", "--to", "2026-03-15", *ws.contract_args, "--state", state)
    assert result.code == 2 and "another eventdeck command is using this state folder" in result.err
    assert (replay.code == 2 and "another eventdeck command" in replay.err) or "no local bus here" in replay.err
    assert sorted(p.name for p in state.iterdir()) == ["lock"]  # nothing else was touched


def test_a_bus_file_that_is_not_a_bus_is_named_and_left_alone(ws: Workspace, tmp_path: Path) -> None:
    (tmp_path / "state").mkdir()
    foreign = tmp_path / "state" / "bus.sqlite"
    with sqlite3.connect(foreign) as db:
        db.execute("CREATE TABLE mine (x)")
    before = foreign.read_bytes()
    result = run("run", *ws.contract_args, "--state", tmp_path / "state")
    assert result.code == 1 and "Traceback" not in result.err
    assert str(foreign) in result.err and "another application" in result.err
    assert foreign.read_bytes() == before


def test_the_progress_bar_draws_only_on_a_terminal_after_a_while() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    now = [0.0]
    screen = Terminal()
    with Progress("delivered", stream=screen, after_seconds=0.5, clock=lambda: now[0]) as bar:
        bar.update(1, 10)
        assert screen.getvalue() == ""  # a short run prints nothing extra
        now[0] = 1.0
        bar.update(5, 10)
        assert screen.getvalue().endswith("delivered [###############...............] 5/10")
    assert screen.getvalue().endswith("\r" + " " * len("delivered [###############...............] 5/10") + "\r")
    pipe = io.StringIO()
    with Progress("delivered", stream=pipe, after_seconds=0, clock=lambda: 5.0) as bar:
        bar.update(5, 10)
    assert pipe.getvalue() == ""


def test_deliveries_still_retrying_at_the_deadline_are_pending_and_the_next_run_delivers_them(
        ws: Workspace, tmp_path: Path) -> None:
    state, n = tmp_path / "state", len(ws.sealed)
    with recording_endpoint() as target:
        target.status = 503
        first = run("run", *ws.contract_args, "--state", state, "--target", target.url, "--wait", "0")
        assert first.code == 1 and f"{n} still pending (delivery resumes on the next run)" in first.out
        assert target.answers == [503] * n
        target.status = 200
        code, summary, _ = _run(ws, state, "--target", target.url)
    assert code == 0 and summary["pending"] == summary["dead_lettered"] == 0
    assert summary["delivered"] == 3 * n  # this run's events to both subscriptions, and the first run's to the target
    assert len(target.received) == 2 * n
    assert len(set(target.cloud_event_ids())) == 2 * n


def test_a_run_killed_mid_delivery_loses_nothing_the_next_run_delivers_it(ws: Workspace, tmp_path: Path) -> None:
    state = tmp_path / "state"
    with recording_endpoint() as target:
        target.hold.clear()  # the target takes requests but answers none: the run is stuck mid-delivery
        process = subprocess.Popen([str(EVENTDECK), "run", *ws.contract_args, "--state", str(state), "--target",
                                    target.url], cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 120
            while target.arrived == 0 and process.poll() is None and time.monotonic() < deadline:
                time.sleep(0.05)
            assert target.arrived > 0, "the run never reached its target"
        finally:
            process.kill()  # SIGKILL: no clean-up of any kind
            process.wait()
        target.hold.set()
        assert target.received == []  # nothing was acknowledged before the kill
        code, summary, _ = _run(ws, state, "--target", target.url)
        assert code == 0 and summary["pending"] == summary["dead_lettered"] == 0
        with LocalBus.open(state / "bus.sqlite") as bus:
            archived = {event["detail"]["id"] for event in bus.archived()}
    assert len(archived) == 2 * len(ws.sealed)  # both runs' events were accepted
    assert set(target.cloud_event_ids()) == archived  # and every one reached the target: the killed run's too


def test_the_subscriptions_are_the_ones_each_run_names(ws: Workspace, tmp_path: Path) -> None:
    state, n = tmp_path / "state", len(ws.sealed)
    with recording_endpoint() as target:
        code, summary, _ = _run(ws, state, "--no-consumer", "--target", target.url)
        assert code == 0 and summary["consumer"] is None and summary["delivered"] == n
        assert len(target.received) == n and not (state / "opened.jsonl").exists()
        code, summary, _ = _run(ws, state)  # no --target this time: the endpoint is no longer subscribed
        assert code == 0 and summary["delivered"] == summary["consumer"]["opened"] == n
        assert len(target.received) == n


def test_a_long_delivery_draws_a_progress_bar_on_a_terminal_and_erases_it(ws: Workspace, tmp_path: Path) -> None:
    with recording_endpoint() as target:
        target.hold.clear()  # the target answers only once released: the delivery lasts as long as the test says
        controller, terminal = pty.openpty()
        process = subprocess.Popen([str(EVENTDECK), "run", *ws.contract_args, "--state", str(tmp_path / "state"),
                                    "--target", target.url], cwd=tmp_path, stdout=subprocess.PIPE, stderr=terminal)
        os.close(terminal)
        try:
            deadline = time.monotonic() + 120
            while target.arrived == 0 and process.poll() is None and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(1.0)  # twice the bar's half-second grace, after delivery started
            target.hold.set()
            out, _ = process.communicate(timeout=120)
        finally:
            process.kill()
        screen = b""
        with contextlib.suppress(OSError):  # EIO once the process is gone and the terminal drained
            while chunk := os.read(controller, 65536):
                screen += chunk
        os.close(controller)
    assert process.returncode == 0, screen.decode(errors="replace")
    drawn = screen.decode()
    assert re.search(r"\rdelivered \[[#.]{30}\] \d+/\d+", drawn), drawn
    assert drawn.endswith("\r")  # erased: the summary on stdout starts on a clean line
    assert "✓" in out.decode() and "\r" not in out.decode()


def test_development_keys_are_not_kept_where_others_can_write(ws: Workspace, tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    state.chmod(0o777)
    result = run("run", "--contract", ws.artefact, "--state", state, cwd=tmp_path)
    assert result.code == 1 and f"{state}: writable by others (permissions 0777)" in result.err
    assert not (state / "keys").exists()
