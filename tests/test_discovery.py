"""Discovery finds every document and only documents.

A file in a searched folder is a document when its *parsed* top level is a mapping with an ``asyncapi`` key: no
guess from the first bytes, so a long licence header, a quoted key or an upper-case suffix lose nothing, and a
shared schema that mentions ``asyncapi:`` is not taken for a document. A file that cannot be parsed is a lost
document unless a document refers to it; a folder with nothing in it is an error, never a success.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import write
from pipeline.contract import ContractError, ContractLoader, discover
from pipeline.contract import refs as refs_module
from pipeline.contract.loader import find_documents
from pipeline.contract.source import MAX_DOCUMENT_BYTES
from portal.cli.main import main

DOC = """\
asyncapi: 3.0.0
info:
  title: {title}
  version: 1.0.0
channels:
  things:
    address: things
    messages:
      thing:
        $ref: '#/components/messages/Thing'
components:
  messages:
    Thing:
      name: {name}
      payload:
        $ref: {payload}
  schemas:
    Thing:
      type: object
"""


def doc(name: str = "Thing.Created.Uk", payload: str = "'#/components/schemas/Thing'") -> str:
    return DOC.format(title=name, name=name, payload=payload)


def found(folder: Path) -> list[str]:
    return [p.name for p in discover([folder])]


def test_a_document_after_a_long_licence_header_is_found(tmp_path: Path) -> None:
    header = "".join(f"# Licensed under the Apache License, Version 2.0; line {n} of a long header.\n"
                     for n in range(200))
    assert len(header) > 4096 * 2
    write(tmp_path, "doc.yaml", header + doc())
    assert found(tmp_path) == ["doc.yaml"]
    assert ContractLoader().load([tmp_path], strict=True).events[0].name == "Thing.Created.Uk"


@pytest.mark.parametrize("key", ["'asyncapi'", '"asyncapi"', "? asyncapi\n:", "!!str asyncapi"])
def test_a_quoted_or_explicit_asyncapi_key_is_found(tmp_path: Path, key: str) -> None:
    write(tmp_path, "doc.yaml", doc().replace("asyncapi:", key + ":" if not key.endswith(":") else key, 1))
    assert found(tmp_path) == ["doc.yaml"]


@pytest.mark.parametrize("name", ["doc.YAML", "doc.Yml", "doc.YML", "doc.JSON"])
def test_suffixes_are_matched_whatever_their_case(tmp_path: Path, name: str) -> None:
    text = doc() if not name.lower().endswith(".json") else json.dumps(
        {"asyncapi": "3.0.0", "info": {"title": "T", "version": "1.0.0"}})
    write(tmp_path, name, text)
    assert found(tmp_path) == [name]
    assert len(ContractLoader().load([tmp_path]).documents) == 1


def test_the_asyncapi_key_may_come_last(tmp_path: Path) -> None:
    text = doc()
    body = text.split("\n", 1)[1]
    write(tmp_path, "last.yaml", body + "x-padding:\n" + "".join(f"  k{n}: {n}\n" for n in range(2000))
          + "asyncapi: 3.0.0\n")
    write(tmp_path, "last.json", json.dumps({"info": {"title": "J", "version": "1"}, "asyncapi": "3.0.0"}))
    assert found(tmp_path) == ["last.json", "last.yaml"]


def test_a_merge_key_that_brings_asyncapi_makes_a_document(tmp_path: Path) -> None:
    write(tmp_path, "merged.yaml", "x-base: &base {asyncapi: 3.0.0}\n<<: *base\ninfo: {title: M, version: '1'}\n")
    assert found(tmp_path) == ["merged.yaml"]


def test_shared_files_that_mention_asyncapi_are_not_documents(tmp_path: Path) -> None:
    write(tmp_path, "schemas/thing.yaml", "type: object\ndescription: |\n  asyncapi: 3.0.0\n"
                                          "  \"asyncapi\": \"3.0.0\"\nproperties:\n  asyncapi: {type: string}\n")
    write(tmp_path, "schemas/list.yaml", "- asyncapi: 3.0.0\n")
    write(tmp_path, "schemas/text.yaml", "asyncapi 3.0.0 is a specification\n")
    write(tmp_path, "schemas/nested.json", json.dumps({"x": {"asyncapi": "3.0.0"}}))
    write(tmp_path, "doc.yaml", doc(payload="'schemas/thing.yaml'"))
    assert found(tmp_path) == ["doc.yaml"]
    catalogue = ContractLoader().load([tmp_path], strict=True)
    assert [d.id for d in catalogue.documents] == ["doc"]


def test_a_broken_file_that_a_document_refers_to_is_not_a_broken_document(tmp_path: Path) -> None:
    write(tmp_path, "schemas/broken.yaml", "type: object\nproperties: [\n")
    write(tmp_path, "doc.yaml", doc(payload="'schemas/broken.yaml'"))
    catalogue = ContractLoader().load([tmp_path])  # lenient: the document is modelled
    (problem,) = [d for d in catalogue.all_diagnostics if d.code == "source"]
    assert problem.location.file.endswith("broken.yaml") and problem.location.line == 3
    assert [d.id for d in catalogue.documents] == ["doc"]


def test_a_broken_file_nobody_refers_to_is_a_lost_document(tmp_path: Path) -> None:
    write(tmp_path, "doc.yaml", doc())
    write(tmp_path, "other.yaml", doc("Other.Created.Uk").replace("  title: Other", "  title: [Other"))
    with pytest.raises(ContractError) as caught:
        ContractLoader().load([tmp_path])
    (problem,) = caught.value.diagnostics
    assert problem.location.file.endswith("other.yaml") and problem.location.line is not None
    assert "invalid YAML" in problem.message


def test_an_oversized_file_in_a_folder_is_reported_not_skipped(tmp_path: Path) -> None:
    write(tmp_path, "doc.yaml", doc())
    with (tmp_path / "huge.json").open("w") as handle:
        handle.truncate(MAX_DOCUMENT_BYTES + 1)
    with pytest.raises(ContractError, match="refuses documents over"):
        ContractLoader().load([tmp_path])


def test_a_folder_without_documents_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, "empty/readme.md", "nothing here\n")
    write(tmp_path, "schemas/thing.yaml", "type: object\n")
    for folder in ("empty", "schemas"):
        with pytest.raises(ContractError, match="no AsyncAPI documents found"):
            ContractLoader().load([tmp_path / folder])
    assert main(["validate", str(tmp_path / "schemas")]) == 1
    assert "no AsyncAPI documents found" in capsys.readouterr().err


def test_an_empty_folder_beside_one_with_documents_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, "specs/doc.yaml", doc())
    (tmp_path / "typo").mkdir()
    with pytest.raises(ContractError) as caught:
        ContractLoader().load([tmp_path / "specs", tmp_path / "typo"])
    assert [d.location.file for d in caught.value.diagnostics] == [str(tmp_path / "typo")]


def test_documents_in_sub_folders_are_found(tmp_path: Path) -> None:
    write(tmp_path, "a/one.yaml", doc())
    write(tmp_path, "a/b/two.yml", doc("Thing.Made.Uk"))
    assert sorted(found(tmp_path)) == ["one.yaml", "two.yml"]


def test_every_candidate_is_parsed_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, "schemas/thing.yaml", "type: object\nproperties:\n  id: {type: integer}\n")
    write(tmp_path, "schemas/money.json", json.dumps({"type": "object"}))
    write(tmp_path, "yaml-doc.yaml", doc(payload="'schemas/thing.yaml'"))
    write(tmp_path, "json-doc.json", json.dumps({
        "asyncapi": "3.0.0", "info": {"title": "J", "version": "1.0.0"},
        "components": {"messages": {"M": {"name": "Money.Moved.Uk", "payload": {"$ref": "schemas/money.json"}}}}}))
    parsed: list[str] = []
    real = refs_module.parse_text

    def counting(text: str, uri: str):  # type: ignore[no-untyped-def]
        parsed.append(Path(uri).name)
        return real(text, uri)

    monkeypatch.setattr(refs_module, "parse_text", counting)
    ContractLoader(workers=1).load([tmp_path], strict=True)
    assert sorted(parsed) == ["json-doc.json", "money.json", "thing.yaml", "yaml-doc.yaml"]


def test_find_documents_reports_what_it_could_not_read(tmp_path: Path) -> None:
    write(tmp_path, "doc.yaml", doc())
    write(tmp_path, "bad.json", "{\"asyncapi\": ")
    result = find_documents([tmp_path])
    assert [p.name for p in result.documents] == ["doc.yaml"]
    assert [Path(k).name for k in result.unreadable] == ["bad.json"] and not result.empty
