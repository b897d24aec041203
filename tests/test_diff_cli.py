"""`eventdeck diff` at the edge: every bad input gets one clear line naming the side, file and place, and exit 4
(never a traceback); the output formats carry the same verdict; the exit codes tell a refused breaking change (1)
from a wrong version bump (3)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from cli_runner import run
from test_diff import F, document, remove, replace

FIXTURES = Path(__file__).parent / "fixtures" / "diff"
BASE = FIXTURES / "base.yaml"


def side(folder: Path, name: str, patch: list[dict[str, object]], version: str = "1.0.0") -> Path:
    path = folder / name
    doc = document([*patch, replace("/info/version", version)])
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


@pytest.mark.parametrize(("make", "expected"), [
    (lambda d: d / "nope.yaml", "nope.yaml: no such file or folder"),
    (lambda d: (d / "bad.yaml").write_text("asyncapi: 3.0.0\ninfo: [unclosed\n") and d / "bad.yaml", "bad.yaml:"),
    (lambda d: (d / "empty").mkdir() or d / "empty", "no AsyncAPI documents found"),
    (lambda d: (d / "list.yaml").write_text("- 1\n") and d / "list.yaml", "list.yaml"),
    (lambda d: (d / "v9.yaml").write_text("asyncapi: 9.9.9\n") and d / "v9.yaml", "is not a version eventdeck"),
], ids=["missing", "unparsable", "empty-folder", "not-a-mapping", "unknown-asyncapi-version"])
def test_an_unreadable_side_is_one_message_and_exit_4(make: object, expected: str, tmp_path: Path) -> None:
    bad = make(tmp_path)  # type: ignore[operator]
    for argv in ((bad, BASE), (BASE, bad)):
        result = run("diff", *argv)
        assert result.code == 4, result.output
        assert expected in result.err and "Traceback" not in result.output
        assert result.err.startswith(f"eventdeck diff: {bad}")
        assert result.out == ""


def test_the_unparsable_side_is_named_with_its_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("asyncapi: 3.0.0\ninfo:\n  title: x\n  version: [1\n", encoding="utf-8")
    result = run("diff", BASE, bad)
    assert result.code == 4 and f"{bad}:5:1: error: invalid YAML" in result.err


def test_outside_a_git_checkout_a_git_side_is_refused(tmp_path: Path) -> None:
    (tmp_path / "asyncapi").mkdir()
    result = run("diff", "git:HEAD:asyncapi", BASE, cwd=tmp_path)
    assert result.code == 4 and "is not inside a git checkout" in result.err


@pytest.mark.parametrize("spec", ["git:", "git::asyncapi"])
def test_a_git_side_without_a_revision_is_refused(spec: str) -> None:
    result = run("diff", spec, BASE)
    assert result.code == 4 and "expected git:REF:PATH" in result.err


@pytest.mark.parametrize(("text", "expected"), [
    (None, "no such file"),
    ("breaking: sometimes\n", "breaking: 'sometimes' is not 'new-type' or 'major'"),
    ("fix: tiny\n", "fix: 'tiny' is not one of major, minor, patch, none"),
    ("brekaing: major\n", "unknown key(s) brekaing"),
    ("- major\n", "a version policy is a mapping"),
    ("breaking: [major\n", "policy.yaml:"),
    ("\udcff", "not UTF-8 text"),
], ids=["missing", "bad-breaking", "bad-bump", "typo", "list", "unparsable", "binary"])
def test_a_bad_policy_file_is_refused_with_its_name(text: str | None, expected: str, tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    if text is not None:
        policy.write_bytes(text.encode("utf-8", "surrogateescape"))
    result = run("diff", "--policy", policy, BASE, BASE)
    assert result.code == 4, result.output
    assert str(policy) in result.err and expected in result.err


def test_breaking_wins_over_a_wrong_bump_and_both_are_reported(tmp_path: Path) -> None:
    old = side(tmp_path, "old.yaml", [])
    new = side(tmp_path, "new.yaml", [remove(f"{F}/properties/note")], "1.0.0")
    result = run("diff", old, new)
    assert result.code == 1
    assert "✗ breaking: Order.Placed.Web: 1 breaking change(s)" in result.out
    assert "✗ version: old: info.version 1.0.0 → 1.0.0 is a none bump; the changes need a minor bump" in result.out


def test_a_version_that_is_not_semantic_is_a_version_violation(tmp_path: Path) -> None:
    result = run("diff", side(tmp_path, "old.yaml", []), side(tmp_path, "new.yaml", [], "v-next"))
    assert result.code == 3 and "info.version 'v-next' is not a semantic version" in result.out


def test_going_backwards_is_a_version_violation(tmp_path: Path) -> None:
    result = run("diff", side(tmp_path, "old.yaml", [], "1.2.0"), side(tmp_path, "new.yaml", [], "1.1.0"))
    assert result.code == 3 and "went backwards, 1.2.0 → 1.1.0" in result.out


def test_json_output_carries_every_change_and_the_exit_code(tmp_path: Path) -> None:
    new = side(tmp_path, "new.yaml", [remove(f"{F}/properties/note")], "2.0.0")
    result = run("diff", BASE, new, "--format", "json")
    report = json.loads(result.out)
    assert report["exit"] == result.code == 1
    assert report["summary"] == {"breaking": 1, "non-breaking": 0, "annotation": 0}
    change, = report["events"][0]["changes"]
    assert change == {"event": "Order.Placed.Web", "impact": "breaking", "kind": "field-removed",
                      "where": "/payload/properties/note", "message": "field 'note' removed", "old": "note",
                      "new": None}


def test_markdown_output_is_a_pull_request_comment_with_hostile_names_escaped(tmp_path: Path) -> None:
    hostile = "a|b<script>alert(1)</script>"
    new = side(tmp_path, "new.yaml", [{"op": "add", "path": f"{F}/properties/{hostile.replace('/', '~1')}",
                                       "value": {"type": "string", "description": "x"}}], "1.1.0")
    result = run("diff", BASE, new, "--format", "markdown")
    assert result.code == 0, result.output
    assert result.out.startswith("### eventdeck diff:")
    assert "| Event | Impact | Where | Change |" in result.out
    assert "<script>" not in result.out and "a\\|b&lt;script>" in result.out


def test_identical_sides_have_no_changes_and_exit_0() -> None:
    result = run("diff", BASE, BASE)
    assert result.code == 0
    assert "no changes to any event" in result.out and "✓ the version policy is satisfied" in result.out
