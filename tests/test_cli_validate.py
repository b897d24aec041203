"""`eventdeck validate`: a table on success, every problem on failure, exit codes, and JSON for machines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import EXAMPLES, write
from portal.cli.main import main

BROKEN = """\
asyncapi: 3.0.0
info:
  title: Broken
  version: 1.0.0
components:
  messages:
    One:
      name: Thing.Made.Uk
      payload:
        type: object
        properties:
          id: {type: integer}
      examples:
        - name: bad
          payload: {id: "seven"}
    Two:
      name: Thing.Made.Uk
      payload:
        $ref: '#/components/schemas/Nope'
"""


def test_examples_print_documents_and_events_and_exit_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(EXAMPLES)]) == 0
    out = capsys.readouterr().out
    assert "document" in out and "payments" in out and "orders" in out and "baskets" in out
    assert "Payment.AuthorisedV2.Ecom" in out
    assert "✓ 3 document(s), 15 event(s) valid" in out


def test_every_problem_is_listed_with_its_location_and_exit_1(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "broken.yaml", BROKEN)
    assert main(["validate", str(path)]) == 1
    err = capsys.readouterr().err
    assert "broken.yaml:15:" in err and "example-invalid" in err  # the example, with its line
    assert "#/components/schemas/Nope" in err  # the unresolved reference too, not only the first problem
    assert "✗" in err


def test_json_output_for_machines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "broken.yaml", BROKEN)
    assert main(["validate", "--format", "json", str(path)]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["valid"] is False
    codes = {d["code"] for d in report["diagnostics"] if d["severity"] == "error"}
    assert {"example-invalid", "ref"} <= codes
    first = report["diagnostics"][0]
    assert {"file", "line", "column", "pointer", "message"} <= set(first)


def test_unreadable_document_fails_with_its_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "bad.yaml", "asyncapi: 3.0.0\ninfo: {title: [\n")
    assert main(["validate", str(path)]) == 1
    err = capsys.readouterr().err
    assert "bad.yaml:3:" in err and "invalid YAML" in err


def test_fatal_errors_in_json_mode(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "v.yaml", "asyncapi: 7.0.0\ninfo: {title: T, version: '1'}\n")
    assert main(["validate", "--format", "json", str(path)]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["diagnostics"][0]["code"] == "version"


def test_asyncapi_3_1_is_supported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "v31.yaml", """\
asyncapi: 3.1.0
info: {title: Three one, version: 1.0.0}
channels:
  c:
    address: c
    messages:
      m: {$ref: '#/components/messages/M'}
operations:
  o:
    action: send
    channel: {$ref: '#/channels/c'}
    messages: [{$ref: '#/channels/c/messages/m'}]
components:
  messages:
    M:
      name: Thing.Made.Uk
      payload: {type: object, properties: {id: {type: integer}}}
      examples: [{name: ok, payload: {id: 1}}]
""")
    assert main(["validate", str(path)]) == 0
    assert "3.1.0" in capsys.readouterr().out
