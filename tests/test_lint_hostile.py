"""Lint never crashes on a malformed document: every member of a document, in turn, replaced by each value of the
wrong kind, is either linted (findings) or refused as unreadable (ContractError) — never a Python exception.

The malformed documents are valid YAML that the official AsyncAPI schema rejects, which is exactly what lint must
still read: rules walk raw, dereferenced and modelled views of them.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cli_runner import run

from conftest import ROOT
from pipeline.contract import ContractError
from pipeline.contract.lint import lint
from pipeline.contract.lint.engine import RuleCrashed
from pipeline.contract.source import parse_text

FIXTURES = ROOT / "tests" / "fixtures" / "lint"
# Documents with the most structure: a 3.0 one with pii and sealing, a 2.6 one with parameters, one with headers.
BASES = ("eventdeck-pii-sealed/pass.yaml", "asyncapi-channel-parameters/pass-2.6.yaml",
         "asyncapi-headers-schema-type-object/pass.yaml")
WRONG = (None, True, 7, "text", [], {}, [{"$ref": "#/nowhere"}], {"$ref": "#/components"}, {"x-pii": "yes"})


def _paths(value: Any, at: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    if at:
        yield at
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, (*at, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _paths(child, (*at, index))


def _replaced(document: Any, path: tuple[str | int, ...], value: Any) -> Any:
    out = copy.deepcopy(document)
    node = out
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = copy.deepcopy(value)
    return out


def _cases() -> Iterator[Any]:
    for base in BASES:
        source = FIXTURES / base
        document = parse_text(source.read_text(encoding="utf-8"), str(source)).data
        for path in _paths(document):
            if path == ("asyncapi",):
                continue  # a wrong version is refused before any rule runs (tested in test_lint.py)
            yield pytest.param(base, document, path, id=f"{base}:/{'/'.join(map(str, path))}")


# The contract loader once raised here (a payload schema that is a list or text; a $ref to an enclosing object):
# it reports them now, and this test holds every member of the wrong kind to "findings or unreadable".
@pytest.mark.parametrize(("base", "document", "path"), list(_cases()))
def test_lint_survives_every_member_of_the_wrong_kind(tmp_path: Path, base: str, document: Any,
                                                       path: tuple[str | int, ...]) -> None:
    pointer = "/" + "/".join(map(str, path))
    for index, value in enumerate(WRONG):
        target = tmp_path / f"doc{index}.json"
        target.write_text(json.dumps(_replaced(document, path, value)), encoding="utf-8")
        try:
            report = lint([target])
        except ContractError:
            continue  # refused as unreadable: the CLI says so, exit 2
        except RuleCrashed:
            raise  # a lint rule failed: never acceptable
        except Exception as exc:  # the loader raised instead of reporting
            pytest.fail(f"{type(exc).__name__} for {value!r} at {pointer}: {exc}")
        for finding in report.findings:
            assert finding.location.file and finding.rule


def test_the_cli_reports_a_malformed_document_as_findings_not_a_crash(tmp_path: Path) -> None:
    source = FIXTURES / "eventdeck-pii-sealed" / "pass.yaml"
    document = parse_text(source.read_text(encoding="utf-8"), str(source)).data
    broken = _replaced(_replaced(document, ("components", "schemas", "Thing", "properties"), True),
                       ("channels",), [1, 2])
    target = tmp_path / "broken.json"
    target.write_text(json.dumps(broken), encoding="utf-8")
    result = run("lint", target, "--format", "json")
    assert result.code == 1, result.output
    rules = {f["rule"] for f in json.loads(result.out)["findings"]}
    assert "asyncapi-schema" in rules
