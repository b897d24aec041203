"""`eventdeck dlq list | redrive`: a target that fails for real (a local endpoint answering 400, or 500 until the
retries run out) fills the dead-letter table with the reason; `run` says so and exits 1; once the target works,
redriving delivers exactly the dead letters named."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cli_runner import Workspace, run, run_process, workspace
from recording_endpoint import RecordingEndpoint, recording_endpoint


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return workspace(tmp_path_factory.mktemp("dlq"))


@pytest.fixture
def target() -> Iterator[RecordingEndpoint]:
    with recording_endpoint() as endpoint:
        yield endpoint


def _letters(state: Path) -> list[dict[str, Any]]:
    listed = run("dlq", "list", "--state", state, "--format", "json")
    assert listed.code == 0, listed.err
    return json.loads(listed.out)


def _dead_lettered_run(ws: Workspace, state: Path, target: RecordingEndpoint) -> dict[str, Any]:
    target.status = 400
    result = run("run", *ws.contract_args, "--state", state, "--target", target.url, "--format", "json")
    assert result.code == 1, result.err
    return {"summary": json.loads(result.out), "err": result.err}


def test_a_target_answering_400_dead_letters_every_event_with_the_reason(ws: Workspace, tmp_path: Path,
                                                                          target: RecordingEndpoint) -> None:
    outcome = _dead_lettered_run(ws, tmp_path / "state", target)
    summary, n = outcome["summary"], len(ws.sealed)
    assert summary["published"] == n and summary["dead_lettered"] == n and summary["exit_code"] == 1
    assert summary["dead_lettered_by_reason"] == {"HTTP_400": n}
    assert summary["delivered"] == n and summary["consumer"]["opened"] == n  # the consumer's rule is unaffected
    assert target.answers == [400] * n  # a 400 is final: one try each, no retry
    letters = _letters(tmp_path / "state")
    assert len(letters) == n and {d["code"] for d in letters} == {"HTTP_400"}
    assert all(d["rule"] == "eventdeck-targets" and d["attempts"] == 1 and d["condition"] is None for d in letters)
    assert all("answered 400" in d["message"] for d in letters)
    for letter in letters:  # each one reported on stderr with its CloudEvent id
        assert f"#{letter['id']} event {letter['cloud_event_id']} ({letter['type']})" in outcome["err"]


def test_a_target_failing_with_500_is_retried_then_dead_lettered(ws: Workspace, tmp_path: Path,
                                                                 target: RecordingEndpoint) -> None:
    target.status = 500
    one = tmp_path / "one.jsonl"
    one.write_text(json.dumps(ws.samples[1]) + "\n")
    result = run("run", *ws.contract_args, "--state", tmp_path / "state", "--target", target.url, "--format", "json",
                 one)
    assert result.code == 1, result.err
    summary = json.loads(result.out)
    published = summary["published"]
    assert published >= 1 and summary["dead_lettered"] == published
    assert summary["dead_lettered_by_reason"] == {"HTTP_500 (MaximumRetryAttemptsExceeded)": published}
    assert target.answers == [500] * 6 * published  # the first try and five retries each
    assert {d["attempts"] for d in _letters(tmp_path / "state")} == {6}


def test_a_target_answering_500_then_200_delivers_after_a_retry(ws: Workspace, tmp_path: Path,
                                                                target: RecordingEndpoint) -> None:
    target.script = [500]
    one = tmp_path / "one.jsonl"
    one.write_text(json.dumps(ws.samples[1]) + "\n")
    result = run("run", *ws.contract_args, "--state", tmp_path / "state", "--target", target.url, "--format", "json",
                 one)
    assert result.code == 0, result.err
    summary = json.loads(result.out)
    assert summary["dead_lettered"] == 0 and target.answers[0] == 500 and len(target.received) == summary["published"]


def test_redrive_delivers_the_named_dead_letters_then_all_the_rest(ws: Workspace, tmp_path: Path,
                                                                   target: RecordingEndpoint) -> None:
    state = tmp_path / "state"
    _dead_lettered_run(ws, state, target)
    letters = _letters(state)
    target.status = 200  # the target is fixed
    chosen = letters[:2]
    result = run_process("dlq", "redrive", *(str(d["id"]) for d in chosen), *ws.contract_args, "--state", state,
                         "--format", "json", cwd=tmp_path)
    assert result.code == 0, result.err
    assert json.loads(result.out)["delivered"] == 2 and "2 dead letter(s) queued again" in result.err
    assert sorted(target.cloud_event_ids()) == sorted(d["cloud_event_id"] for d in chosen)
    assert [d["id"] for d in _letters(state)] == [d["id"] for d in letters[2:]]
    rest = run("dlq", "redrive", "--all", *ws.contract_args, "--state", state, "--format", "json")
    assert rest.code == 0 and json.loads(rest.out)["delivered"] == len(letters) - 2
    assert sorted(target.cloud_event_ids()) == sorted(d["cloud_event_id"] for d in letters)
    assert _letters(state) == []
    assert "no dead letters" in run("dlq", "list", "--state", state).out


def test_a_redrive_that_fails_again_stays_a_dead_letter(ws: Workspace, tmp_path: Path,
                                                        target: RecordingEndpoint) -> None:
    state = tmp_path / "state"
    _dead_lettered_run(ws, state, target)
    first = _letters(state)[0]
    result = run("dlq", "redrive", str(first["id"]), *ws.contract_args, "--state", state, "--format", "json")
    assert result.code == 1
    summary = json.loads(result.out)
    assert summary["dead_lettered"] == 1 and summary["delivered"] == 0
    assert len(_letters(state)) == len(ws.sealed)


def test_dlq_list_as_text_names_each_dead_letter_and_how_to_redrive(ws: Workspace, tmp_path: Path,
                                                                    target: RecordingEndpoint) -> None:
    state = tmp_path / "state"
    _dead_lettered_run(ws, state, target)
    listed = run("dlq", "list", "--state", state)
    lines = listed.out.splitlines()
    assert listed.code == 0 and len(lines) == len(ws.sealed) + 1
    assert lines[0].startswith("#1 event ") and "rule eventdeck-targets target target-1: HTTP_400" in lines[0]
    assert lines[-1].startswith(f"{len(ws.sealed)} dead letter(s); `eventdeck dlq redrive ID…` or `--all`")


@pytest.mark.parametrize(("args", "message"), [
    ((), "give the dead-letter numbers to redrive, or --all"),
    (("1", "--all"), "give the dead-letter numbers to redrive, or --all (not both)"),
    (("one",), "'one' is not a dead-letter number"),
    (("-3",), "'-3' is not a dead-letter number"),
    (("99999",), "no dead letter #99999"),
])
def test_bad_redrive_arguments_are_usage_errors(ws: Workspace, tmp_path: Path, target: RecordingEndpoint,
                                                args: tuple[str, ...], message: str) -> None:
    state = tmp_path / "state"
    _dead_lettered_run(ws, state, target)
    result = run("dlq", "redrive", *args, *ws.contract_args, "--state", state)
    assert result.code == 2 and message in result.err, result.err
    assert len(_letters(state)) == len(ws.sealed)  # nothing was redriven


@pytest.mark.parametrize("action", ["list", "redrive"])
def test_dlq_needs_a_bus_that_run_made(tmp_path: Path, action: str) -> None:
    result = run("dlq", action, *(["--all"] if action == "redrive" else []), "--state", tmp_path / "none")
    assert result.code == 2 and "no local bus here" in result.err
    assert not (tmp_path / "none").exists()
