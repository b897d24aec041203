"""`eventdeck replay --from … --to …` re-delivers exactly the archived events of the window, to the subscriptions
`eventdeck run` configured; the local consumer drops them as duplicates; bad windows are usage errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cli_runner import Workspace, run, run_process, workspace
from recording_endpoint import RecordingEndpoint, recording_endpoint

from conftest import EXAMPLES


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return workspace(tmp_path_factory.mktemp("replay"))


@pytest.fixture
def target() -> Iterator[RecordingEndpoint]:
    with recording_endpoint() as endpoint:
        yield endpoint


def _after_run(ws: Workspace, state: Path, target: RecordingEndpoint) -> list[dict[str, Any]]:
    """Run the samples to the local consumer and ``target``; the CloudEvents the target took."""
    first = run("run", *ws.contract_args, "--state", state, "--target", target.url, "--format", "json")
    assert first.code == 0, first.err
    assert len(target.received) == len(ws.sealed)
    events = [event["detail"] for event in target.received]
    target.received.clear()
    return events


def _time(event: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(event["time"]).replace(microsecond=0)  # the bus keeps times to the second


def test_a_replay_delivers_exactly_the_archived_events_of_the_window(ws: Workspace, tmp_path: Path,
                                                                      target: RecordingEndpoint) -> None:
    state = tmp_path / "state"
    events = _after_run(ws, state, target)
    start, end = datetime(2026, 3, 14, tzinfo=UTC), datetime(2026, 3, 15, 8, 1, 46, tzinfo=UTC)
    inside = sorted(e["id"] for e in events if start <= _time(e) < end)
    assert 0 < len(inside) < len(events)  # the window is a real subset, with an event right at its end left out
    assert any(_time(e) == end for e in events)  # the end is exclusive: that event must not come again
    result = run_process("replay", "--from", "2026-03-14", "--to", "2026-03-15T08:01:46Z", *ws.contract_args,
                         "--state", state, "--format", "json", cwd=tmp_path)
    assert result.code == 0, result.err
    summary = json.loads(result.out)
    assert sorted(target.cloud_event_ids()) == inside
    assert all(event["replay-name"].startswith("replay-") for event in target.received)
    # Both subscriptions got the window again; the consumer had opened every one already and drops them.
    assert summary["delivered"] == 2 * len(inside)
    assert summary["consumer"]["duplicates"] == len(inside) and summary["consumer"]["opened"] == 0
    assert summary["dead_lettered"] == summary["pending"] == summary["exit_code"] == 0
    assert f"{len(inside)} archived event(s)" in result.err


def test_a_window_with_an_offset_is_read_in_its_own_zone(ws: Workspace, tmp_path: Path,
                                                         target: RecordingEndpoint) -> None:
    state = tmp_path / "state"
    events = _after_run(ws, state, target)
    result = run("replay", "--from", "2026-03-14T11:00:00+01:00", "--to", "2026-03-14T11:30:00+01:00",
                 *ws.contract_args, "--state", state, "--format", "json")
    assert result.code == 0, result.err
    expected = sorted(e["id"] for e in events
                      if datetime(2026, 3, 14, 10, tzinfo=UTC) <= _time(e) < datetime(2026, 3, 14, 10, 30, tzinfo=UTC))
    assert expected and sorted(target.cloud_event_ids()) == expected


def test_an_empty_window_delivers_nothing_and_succeeds(ws: Workspace, tmp_path: Path,
                                                       target: RecordingEndpoint) -> None:
    state = tmp_path / "state"
    _after_run(ws, state, target)
    result = run("replay", "--from", "2020-01-01", "--to", "2020-01-02", *ws.contract_args, "--state", state)
    assert result.code == 0, result.err
    assert "0 archived event(s)" in result.err and "0 delivered" in result.out and target.received == []


@pytest.mark.parametrize(("window", "message"), [
    (("--from", "yesterday", "--to", "2026-03-15"), "--from 'yesterday': not an ISO 8601 date-time"),
    (("--from", "2026-03-14", "--to", "2026-13-01"), "--to '2026-13-01': not an ISO 8601 date-time"),
    (("--from", "2026-03-15", "--to", "2026-03-14"), "--to '2026-03-14' is not after --from '2026-03-15'"),
    (("--from", "2026-03-15", "--to", "2026-03-15"), "the window [from, to) is empty"),
    (("--from", "2026-03-15",), "the following arguments are required: --to"),
])
def test_bad_windows_are_usage_errors(ws: Workspace, tmp_path: Path, window: tuple[str, ...], message: str) -> None:
    result = run("replay", *window, *ws.contract_args, "--state", tmp_path / "state")
    assert result.code == 2 and message in result.err, result.err
    assert "Traceback" not in result.err


def test_replay_needs_a_bus_that_run_made(ws: Workspace, tmp_path: Path) -> None:
    result = run("replay", "--from", "2026-03-14", "--to", "2026-03-15", *ws.contract_args,
                 "--state", tmp_path / "nothing-here")
    assert result.code == 2 and "no local bus here" in result.err and "eventdeck run" in result.err
    assert not (tmp_path / "nothing-here").exists()


def test_a_replay_name_is_used_once(ws: Workspace, tmp_path: Path, target: RecordingEndpoint) -> None:
    state = tmp_path / "state"
    _after_run(ws, state, target)
    window = ("--from", "2026-03-14", "--to", "2026-03-15", "--name", "again", *ws.contract_args, "--state", state)
    assert run("replay", *window).code == 0
    second = run("replay", *window)
    assert second.code == 1 and "a replay named 'again' already exists" in second.err


def test_events_the_consumer_cannot_open_are_rejected_and_dead_lettered_with_the_reason(
        ws: Workspace, tmp_path: Path, target: RecordingEndpoint) -> None:
    state = tmp_path / "state"
    _after_run(ws, state, target)
    # Another key set with the same key ids: the consumer of the replay cannot verify or decrypt what was sealed.
    assert run("keys", "new", "--contract", EXAMPLES, "--out", tmp_path / "other").code == 0
    result = run("replay", "--from", "2026-03-14", "--to", "2026-03-15", "--contract", ws.artefact,
                 "--keys", tmp_path / "other" / "private.jwks.json", "--state", state, "--format", "json")
    assert result.code == 1
    summary = json.loads(result.out)
    rejected = summary["consumer"]["rejected_by_reason"]
    sealed_in_window = sum(rejected.values())
    assert sealed_in_window > 0 and set(rejected) <= {"DecryptionFailed", "BadSignature", "UnknownKeyId"}
    assert summary["dead_lettered_by_reason"] == {"HTTP_400": sealed_in_window}
    assert summary["consumer"]["opened"] == 0
    # Plain (x-sealing: none) events of the window open with any keys: they are duplicates of the first run's.
    assert summary["consumer"]["duplicates"] == len(target.received) - sealed_in_window
    assert "dead-lettered: #1 event " in result.err and "to the local consumer: HTTP_400" in result.err
