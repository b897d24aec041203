"""A batch always completes (issue 9, item 6, the CLI half): `eventdeck seal` and `eventdeck open` read every event
they can, report every one they cannot — with its file and line — and every outcome, and exit 1 if any failed."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from cli_runner import Workspace, run, workspace

from portal.cli.json_input import InputEvent, UnreadableInput, read_events


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return workspace(tmp_path_factory.mktemp("batches"))


def baskets(ws: Workspace) -> list[dict[str, Any]]:
    """Sample internal events that need no look-up service (the basket domain's)."""
    found = [copy.deepcopy(e) for e in ws.samples if str(e.get("source", "")).startswith("com.retailer.baskets")]
    assert len(found) >= 3
    return found


def jsonl(values: list[Any]) -> str:
    return "".join(json.dumps(v) + "\n" for v in values)


def published(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if json.loads(line)["outcome"] == "published"]


def opened(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines()]


# ------------------------------------------------------------------------------------------------- reading input


def items(tmp_path: Path, content: bytes, name: str = "in.json") -> list[InputEvent | UnreadableInput]:
    path = tmp_path / name
    path.write_bytes(content)
    return list(read_events([str(path)]))


def test_a_broken_json_lines_line_is_reported_with_its_number_and_the_others_are_read(tmp_path: Path) -> None:
    found = items(tmp_path, b'{"a": 1}\n{oops\n\n{"b": 2}\n')
    assert [type(i).__name__ for i in found] == ["InputEvent", "UnreadableInput", "InputEvent"]
    assert str(found[1]).startswith(f"{tmp_path / 'in.json'}:2:2: invalid JSON")
    assert found[2].where.endswith("in.json:4")


def test_a_line_that_is_not_utf8_is_reported_and_the_others_are_read(tmp_path: Path) -> None:
    found = items(tmp_path, b'{"a": "caf\xc3\xa9"}\n{"b": "caf\xe9"}\n{"c": 3}\n')
    assert [i.where.rsplit(":", 1)[1] for i in found] == ["1", "2", "3"]
    assert isinstance(found[1], UnreadableInput) and "not UTF-8" in found[1].reason
    assert isinstance(found[0], InputEvent) and found[0].value == {"a": "café"}


def test_a_document_that_is_not_utf8_is_one_message_naming_the_file(tmp_path: Path) -> None:
    [found] = items(tmp_path, '{\n  "id": "café"\n}\n'.encode("latin-1"))
    assert isinstance(found, UnreadableInput)
    assert found.where == str(tmp_path / "in.json") and "not UTF-8 text (byte 14)" in found.reason


def test_a_broken_single_document_is_one_message_with_its_line_and_column(tmp_path: Path) -> None:
    [found] = items(tmp_path, b'{\n  "id": "x",\n  "detail": {,}\n}\n')
    assert isinstance(found, UnreadableInput) and found.where.endswith("in.json:3:14")


@pytest.mark.parametrize(("content", "reason"), [
    (b"", "empty: no events"),
    (b"  \n\n", "empty: no events"),
    (b"42", "not a JSON object but a number"),
    (b'"event"', "not a JSON object but a string"),
    (b"null", "not a JSON object but null"),
    (b'{"a": 1, "a": 2}', "duplicate key 'a'"),
    (b'{"a": NaN}', "NaN is not a JSON number"),
    (b'{"a": -Infinity}', "-Infinity is not a JSON number"),
    (b'{"a": 1e400}', "too large for a double"),
    (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
])
def test_input_that_is_no_event_is_named_with_the_reason(tmp_path: Path, content: bytes, reason: str) -> None:
    [found] = items(tmp_path, content)
    assert isinstance(found, UnreadableInput) and reason in found.reason, found
    assert found.where == str(tmp_path / "in.json")


def test_array_items_that_are_not_objects_are_reported_by_index(tmp_path: Path) -> None:
    found = items(tmp_path, b'[{"a": 1}, 2, [3], {"b": 4}]')
    assert [(i.where.rsplit("[", 1)[1], type(i).__name__) for i in found] == [
        ("0]", "InputEvent"), ("1]", "UnreadableInput"), ("2]", "UnreadableInput"), ("3]", "InputEvent")]


def test_a_missing_file_or_a_folder_is_reported_and_the_next_file_is_read(tmp_path: Path) -> None:
    (tmp_path / "ok.json").write_text('{"a": 1}')
    found = list(read_events([str(tmp_path / "missing.json"), str(tmp_path), str(tmp_path / "ok.json")]))
    assert [type(i).__name__ for i in found] == ["UnreadableInput", "UnreadableInput", "InputEvent"]
    assert "No such file" in str(found[0]) and "is a directory" in str(found[1])


def test_a_byte_order_mark_and_crlf_line_ends_are_read(tmp_path: Path) -> None:
    found = items(tmp_path, b'\xef\xbb\xbf{"a": 1}\r\n{"b": 2}\r\n')
    assert [i.value for i in found if isinstance(i, InputEvent)] == [{"a": 1}, {"b": 2}]


# ---------------------------------------------------------------------------------------------------- eventdeck seal


def test_seal_processes_every_readable_line_and_names_the_broken_ones(ws: Workspace, tmp_path: Path) -> None:
    good = baskets(ws)
    text = jsonl(good[:2]) + "{oops\n" + jsonl(good[2:3]) + "not json at all\n"
    (tmp_path / "in.jsonl").write_text(text, encoding="utf-8")
    result = run("seal", tmp_path / "in.jsonl", *ws.contract_args)
    assert result.code == 1
    assert len(published(result.out)) >= 3  # lines 1, 2 and 4 (an input may route to more than one event)
    assert f"{tmp_path / 'in.jsonl'}:3:2: invalid JSON" in result.err
    assert f"{tmp_path / 'in.jsonl'}:5:1: invalid JSON" in result.err
    assert "2 unreadable" in result.err.splitlines()[-1]


def test_seal_on_a_latin1_file_says_so_and_goes_on_with_the_next_file(ws: Workspace, tmp_path: Path) -> None:
    (tmp_path / "latin1.json").write_bytes(json.dumps({"id": "café"}, ensure_ascii=False).encode("latin-1"))
    (tmp_path / "good.json").write_text(json.dumps(baskets(ws)[0]))
    result = run("seal", tmp_path / "latin1.json", tmp_path / "good.json", *ws.contract_args)
    assert result.code == 1
    assert f"{tmp_path / 'latin1.json'}: not UTF-8 text (byte 11)" in result.err
    assert published(result.out)


def test_seal_prints_every_outcome_and_exits_1_when_one_failed(ws: Workspace, tmp_path: Path) -> None:
    good = baskets(ws)[0]
    broken = {**copy.deepcopy(good), "detail": "not an object"}
    (tmp_path / "in.json").write_text(json.dumps([good, broken, good]))
    result = run("seal", tmp_path / "in.json", *ws.contract_args)
    assert result.code == 1
    outcomes = [json.loads(line)["outcome"] for line in result.out.splitlines()]
    assert outcomes.count("failed") == 1 and outcomes.count("published") >= 2
    assert f"{tmp_path / 'in.json'}[1]: input failed" in result.err


def test_seal_reads_stdin(ws: Workspace) -> None:
    events = jsonl(baskets(ws)[:2]).encode("utf-8")
    for argv in (("seal",), ("seal", "-")):
        result = run(*argv, *ws.contract_args, stdin=events)
        assert result.code == 0, result.err
        assert len(published(result.out)) >= 2


def test_seal_on_empty_stdin_says_there_were_no_events(ws: Workspace) -> None:
    result = run("seal", *ws.contract_args, stdin=b"")
    assert result.code == 1 and "<stdin>: empty: no events" in result.err


def test_seal_on_an_event_with_a_huge_number_completes_the_batch(ws: Workspace, tmp_path: Path) -> None:
    good = baskets(ws)
    big = copy.deepcopy(good[0])
    big["detail"] = {**big["detail"], "unitCount": 2**70, "extra": 2**80}
    (tmp_path / "in.jsonl").write_text(jsonl([big, good[1]]))
    result = run("seal", tmp_path / "in.jsonl", *ws.contract_args)
    assert "Traceback" not in result.output
    lines = [json.loads(line) for line in result.out.splitlines()]
    assert lines and lines[-1]["outcome"] == "published"  # the event after it went through


def test_seal_and_input_files_with_samples_is_a_usage_error(ws: Workspace, tmp_path: Path) -> None:
    (tmp_path / "in.json").write_text("{}")
    result = run("seal", "--samples", tmp_path / "in.json", *ws.contract_args)
    assert result.code == 2 and "--samples" in result.err


# ---------------------------------------------------------------------------------------------------- eventdeck open


def test_open_rejects_an_object_dataschema_and_opens_the_rest(ws: Workspace, tmp_path: Path) -> None:
    events = ws.cloud_events()
    bad = {**events[0], "dataschema": {"$ref": "https://evil.example/lax.json"}}
    (tmp_path / "in.jsonl").write_text(jsonl([events[1], bad, events[2]]))
    result = run("open", tmp_path / "in.jsonl", *ws.contract_args)
    assert result.code == 1
    assert f"{tmp_path / 'in.jsonl'}:2: rejected: dataschema <dict> is not a published schema" in result.err
    assert [o["id"] for o in opened(result.out)] == [events[1]["id"], events[2]["id"]]
    assert result.err.splitlines()[-1] == "2 opened, 1 rejected"


def test_open_goes_on_after_unreadable_lines_and_events_that_are_not_objects(ws: Workspace, tmp_path: Path) -> None:
    events = ws.cloud_events()
    text = jsonl([events[0]]) + "{broken\n" + "[1, 2]\n" + jsonl([events[1]])
    (tmp_path / "in.jsonl").write_text(text)
    result = run("open", tmp_path / "in.jsonl", *ws.contract_args)
    assert result.code == 1
    assert len(opened(result.out)) == 2
    assert f"{tmp_path / 'in.jsonl'}:2:2: invalid JSON" in result.err
    assert f"{tmp_path / 'in.jsonl'}:3: not a JSON object but an array" in result.err


def test_open_on_a_latin1_file_names_the_file(ws: Workspace, tmp_path: Path) -> None:
    (tmp_path / "latin1.json").write_bytes('{"id": "é"}'.encode("latin-1"))
    result = run("open", tmp_path / "latin1.json", *ws.contract_args)
    assert result.code == 1 and f"{tmp_path / 'latin1.json'}: not UTF-8 text" in result.err
    assert "Traceback" not in result.output


def test_open_reads_what_seal_printed_from_stdin(ws: Workspace) -> None:
    result = run("open", *ws.contract_args, stdin="\n".join(ws.sealed).encode("utf-8"))
    assert result.code == 0, result.err
    assert len(opened(result.out)) == len(ws.sealed)


# A malformed envelope attribute is the event's own failure: it is rejected, and the batch goes on, for a sealed
# event and for one of a type declared unsealed (plain JSON). The opener (pipeline/sealing/open.py,
# pipeline/consumer/) now refuses every one of them, as CloudEvents requires (specversion 1.0, a source).
MALFORMED = [
    ("id", {"x": 1}), ("id", None), ("type", {"x": 1}), ("type", ["Basket.Paid.Eu"]), ("dataschema", {"a": 1}),
    ("dataschema", ["x"]), ("data", {"x": 1}), ("data", 12), ("datacontenttype", [1]), ("idempotencykey", [1]),
    ("subject", []), ("dataversion", {}), ("time", 5), ("time", {"x": 1}), ("source", None), ("source", {"x": 1}),
    ("specversion", {}), ("specversion", "0.3"),
]


def malformed(kind: str) -> list[Any]:
    return [pytest.param(field, value, id=f"{field}={value!r}") for field, value in MALFORMED]


def run_malformed(ws: Workspace, tmp_path: Path, bad: dict[str, Any]) -> None:
    good = ws.cloud_events()[0]
    (tmp_path / "in.jsonl").write_text(jsonl([bad, good]))
    result = run("open", tmp_path / "in.jsonl", *ws.contract_args)
    assert "Traceback" not in result.output
    assert result.code == 1, "accepted"
    assert f"{tmp_path / 'in.jsonl'}:1: rejected" in result.err
    assert [o["id"] for o in opened(result.out)] == [good["id"]]  # the batch went on


@pytest.mark.parametrize(("field", "value"), malformed("sealed"))
def test_open_rejects_a_sealed_event_with_a_malformed_attribute_and_goes_on(ws: Workspace, tmp_path: Path,
                                                                            field: str, value: Any) -> None:
    event = next(e for e in ws.cloud_events() if e.get("datacontenttype") == "application/jwt")
    run_malformed(ws, tmp_path, {**event, field: value})


@pytest.mark.parametrize(("field", "value"), malformed("unsealed"))
def test_open_rejects_an_unsealed_event_with_a_malformed_attribute_and_goes_on(ws: Workspace, tmp_path: Path,
                                                                               field: str, value: Any) -> None:
    event = next(e for e in ws.cloud_events() if e.get("datacontenttype") != "application/jwt")
    if field == "data" and not isinstance(value, dict):
        value = [value]  # plain JSON data that is not what the type's schema says
    run_malformed(ws, tmp_path, {**event, field: value})
