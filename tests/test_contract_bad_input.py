"""Every kind of bad contract gets its own clear message: file, line where known, pointer, what was expected."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from conftest import ROOT, write
from pipeline.contract import (
    ContractError,
    ContractInvalid,
    ContractLoader,
    RefError,
    SourceError,
    VersionError,
)
from pipeline.contract.source import parse_text

DOC_30 = """\
asyncapi: 3.0.0
info:
  title: Test
  version: 1.0.0
channels:
  things:
    address: things
    messages:
      thing:
        $ref: '#/components/messages/Thing'
operations:
  sendThing:
    action: send
    channel:
      $ref: '#/channels/things'
    messages:
      - $ref: '#/channels/things/messages/thing'
components:
  messages:
    Thing:
      name: Thing.Created.Uk
      payload:
        $ref: {payload_ref}
      examples:
        - name: one
          payload:
            id: 7
"""


def doc(payload_ref: str = "'#/components/schemas/Thing'", extra: str = "") -> str:
    schemas = "  schemas:\n    Thing:\n      type: object\n      properties:\n        id:\n          type: integer\n"
    return DOC_30.replace("{payload_ref}", payload_ref) + schemas + extra


def only_problem(exc: ContractError, code: str):
    matching = [d for d in exc.diagnostics if d.code == code]
    assert matching, [str(d) for d in exc.diagnostics]
    return matching[0]


def test_a_minimal_document_is_valid(tmp_path: Path, loader: ContractLoader) -> None:
    catalogue = loader.load([write(tmp_path, "ok.yaml", doc())], strict=True)
    assert [e.name for e in catalogue.events] == ["Thing.Created.Uk"]


def test_malformed_yaml_names_the_line(tmp_path: Path, loader: ContractLoader) -> None:
    path = write(tmp_path, "bad.yaml", doc().replace("  title: Test", "  title: [Test"))
    with pytest.raises(SourceError) as caught:
        loader.load([path])
    assert caught.value.location.file == str(path.resolve())
    assert caught.value.location.line is not None
    assert "invalid YAML" in caught.value.message


def test_unresolved_ref_names_file_pointer_and_target(tmp_path: Path, loader: ContractLoader) -> None:
    path = write(tmp_path, "doc.yaml", doc("'#/components/schemas/Missing'"))
    with pytest.raises(ContractInvalid) as caught:
        loader.load([path], strict=True)
    problem = only_problem(caught.value, "ref")
    assert problem.location.pointer == "/components/messages/Thing/payload/$ref"
    assert problem.location.line == 23
    assert "'Missing' not found" in problem.message


def test_missing_external_file_is_named(tmp_path: Path, loader: ContractLoader) -> None:
    path = write(tmp_path, "doc.yaml", doc("'./schemas/nope.yaml'"))
    with pytest.raises(ContractInvalid) as caught:
        loader.load([path], strict=True)
    assert "nope.yaml' does not exist" in only_problem(caught.value, "ref").message


def test_circular_ref_across_two_files(tmp_path: Path, loader: ContractLoader) -> None:
    write(tmp_path, "a.yaml", "Loop:\n  $ref: './b.yaml#/Loop'\n")
    write(tmp_path, "b.yaml", "Loop:\n  $ref: './a.yaml#/Loop'\n")
    path = write(tmp_path, "doc.yaml", doc("'./a.yaml#/Loop'"))
    with pytest.raises(ContractInvalid) as caught:
        loader.load([path], strict=True)
    problem = only_problem(caught.value, "ref-cycle")
    assert "a.yaml#/Loop -> b.yaml#/Loop -> a.yaml#/Loop" in problem.message


def test_recursive_schema_across_files_is_not_an_error(tmp_path: Path, loader: ContractLoader) -> None:
    write(tmp_path, "schemas/node.yaml",
          "type: object\nproperties:\n  id: {type: integer}\n  child:\n    $ref: './node.yaml'\n")
    path = write(tmp_path, "doc.yaml", doc("'./schemas/node.yaml'"))
    event = loader.load([path], strict=True).events[0]
    assert event.payload.document["properties"]["child"] == {"$ref": "#"}


def test_example_that_violates_its_schema(tmp_path: Path, loader: ContractLoader) -> None:
    path = write(tmp_path, "doc.yaml", doc().replace("id: 7", "id: seven"))
    with pytest.raises(ContractInvalid) as caught:
        loader.load([path], strict=True)
    problem = only_problem(caught.value, "example-invalid")
    assert problem.location.pointer.endswith("/examples/0/payload/id")
    assert "'seven' is not of type 'integer'" in problem.message
    assert "example 'one' of Thing.Created.Uk" in problem.message


def test_lenient_load_keeps_the_model_and_lists_the_problem(tmp_path: Path, loader: ContractLoader) -> None:
    path = write(tmp_path, "doc.yaml", doc().replace("id: 7", "id: seven"))
    catalogue = loader.load([path])
    assert len(catalogue.events) == 1
    assert [d.code for d in catalogue.errors] == ["example-invalid"]


def test_unknown_asyncapi_version(tmp_path: Path, loader: ContractLoader) -> None:
    path = write(tmp_path, "doc.yaml", doc().replace("asyncapi: 3.0.0", "asyncapi: 9.9.9"))
    with pytest.raises(VersionError) as caught:
        loader.load([path])
    assert caught.value.location.line == 1
    assert "9.9.9" in caught.value.message and "3.0.0" in caught.value.message


def test_alias_bomb_document_is_refused(tmp_path: Path, loader: ContractLoader) -> None:
    lines = ["asyncapi: 3.0.0", 'x-a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    previous = "a"
    for name in "bcdefghi":
        lines.append(f"x-{name}: &{name} [" + ", ".join([f"*{previous}"] * 9) + "]")
        previous = name
    path = write(tmp_path, "bomb.yaml", "\n".join(lines) + "\n")
    with pytest.raises(SourceError, match="alias bomb"):
        loader.load([path])


def test_duplicate_event_names_across_documents(tmp_path: Path, loader: ContractLoader) -> None:
    eventdeck = "x-eventbridge:\n  bus: test-bus\n  source: com.example.test\n"
    write(tmp_path, "one.yaml", doc() + eventdeck)
    write(tmp_path, "two.yaml", doc() + eventdeck)
    with pytest.raises(ContractInvalid) as caught:
        loader.load([tmp_path], strict=True)
    problem = only_problem(caught.value, "name-duplicate")
    assert "'Thing.Created.Uk' is used by 2 different messages" in problem.message


def test_duplicate_names_in_third_party_documents_are_warnings(tmp_path: Path, loader: ContractLoader) -> None:
    write(tmp_path, "one.yaml", doc())
    write(tmp_path, "two.yaml", doc())
    catalogue = loader.load([tmp_path], strict=True)
    assert sorted(e.key for e in catalogue.events) == ["Thing.Created.Uk", "Thing.Created.Uk~two"]
    assert [d.code for d in catalogue.diagnostics] == ["name-duplicate"]


def test_extension_with_a_wrong_shape(tmp_path: Path, loader: ContractLoader) -> None:
    path = write(tmp_path, "doc.yaml", doc() + "x-eventbridge:\n  bus: test-bus\n  source: 42\n")
    with pytest.raises(ContractInvalid) as caught:
        loader.load([path], strict=True)
    problem = only_problem(caught.value, "extension-invalid")
    assert problem.location.pointer == "/x-eventbridge/source"
    assert "x-eventbridge/source" in problem.message


def test_house_naming_rules_bind_eventdeck_documents(tmp_path: Path, loader: ContractLoader) -> None:
    text = doc().replace("Thing.Created.Uk", "thingCreated") + \
        "x-eventbridge:\n  bus: test-bus\n  source: com.example.test\n"
    with pytest.raises(ContractInvalid) as caught:
        loader.load([write(tmp_path, "doc.yaml", text)], strict=True)
    assert "{Entity}.{Event}.{Metadata}" in only_problem(caught.value, "name-hierarchy").message


def test_schema_violation_points_into_the_document(tmp_path: Path, loader: ContractLoader) -> None:
    path = write(tmp_path, "doc.yaml", doc().replace("    action: send", "    action: sned"))
    with pytest.raises(ContractInvalid) as caught:
        loader.load([path], strict=True)
    problem = only_problem(caught.value, "asyncapi-schema")
    assert problem.location.pointer == "/operations/sendThing/action"
    assert problem.location.line == 13
    assert "'sned' is not one of ['send', 'receive']" in problem.message


def test_relative_refs_resolve_from_the_document_folder_not_the_cwd(tmp_path: Path, loader: ContractLoader,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, "specs/schemas/thing.yaml", "type: object\nproperties:\n  id: {type: integer}\n")
    path = write(tmp_path, "specs/doc.yaml", doc("'./schemas/thing.yaml'"))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    catalogue = loader.load([os.path.relpath(path, elsewhere)], strict=True)
    assert catalogue.events[0].payload.document["properties"]["id"] == {"type": "integer"}


def test_remote_refs_are_reported_not_fetched_by_default(tmp_path: Path, loader: ContractLoader) -> None:
    path = write(tmp_path, "doc.yaml", doc("'http://127.0.0.1:9/thing.yaml'"))
    with pytest.raises(ContractInvalid) as caught:
        loader.load([path], strict=True)
    assert "remote references are off" in only_problem(caught.value, "ref").message


class _Schemas(BaseHTTPRequestHandler):
    hits = 0

    def do_GET(self) -> None:
        type(self).hits += 1
        body = b"type: object\nproperties:\n  id: {type: integer}\n"
        self.send_response(200)
        self.send_header("Content-Type", "application/yaml")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_remote_refs_are_fetched_when_allowed_and_cached(tmp_path: Path) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Schemas)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/thing.yaml"
        path = write(tmp_path, "doc.yaml", doc(f"'{url}'"))
        cache = tmp_path / "cache"
        first = ContractLoader(allow_http=True, http_cache_dir=cache).load([path], strict=True)
        again = ContractLoader(allow_http=True, http_cache_dir=cache).load([path], strict=True)
    finally:
        server.shutdown()
    assert first.events[0].payload.document["properties"]["id"] == {"type": "integer"}
    assert again.events[0].payload.document == first.events[0].payload.document
    assert _Schemas.hits == 1


def test_unreachable_remote_ref_fails_fast_with_reason(tmp_path: Path) -> None:
    path = write(tmp_path, "doc.yaml", doc("'http://127.0.0.1:9/thing.yaml'"))
    with pytest.raises(ContractInvalid) as caught:
        ContractLoader(allow_http=True).load([path], strict=True)
    assert "could not be fetched" in only_problem(caught.value, "ref").message


def test_not_a_mapping(tmp_path: Path, loader: ContractLoader) -> None:
    with pytest.raises(ContractError, match="mapping at the top level"):
        loader.load([write(tmp_path, "list.yaml", "- asyncapi\n")])


def test_every_broken_document_is_reported_not_only_the_first(tmp_path: Path, loader: ContractLoader) -> None:
    write(tmp_path, "a.yaml", "asyncapi: 3.0.0\ninfo: [\n")
    write(tmp_path, "b.yaml", "asyncapi: 1.0.0\ninfo: {}\n")
    with pytest.raises(ContractError) as caught:
        loader.load([tmp_path])
    files = {Path(d.location.file).name for d in caught.value.diagnostics}
    assert files == {"a.yaml", "b.yaml"}


def test_no_documents_found(tmp_path: Path, loader: ContractLoader) -> None:
    with pytest.raises(ContractError, match="no AsyncAPI documents found"):
        loader.load([tmp_path])


def test_ref_error_type_is_part_of_the_family() -> None:
    assert issubclass(RefError, ContractError) and issubclass(ContractInvalid, ContractError)


def test_a_file_that_is_not_utf8_is_named(tmp_path: Path, loader: ContractLoader) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(doc().replace("title: Test", "title: Caf\u00e9").encode("latin-1"))
    with pytest.raises(SourceError, match="not UTF-8") as caught:
        loader.load([path])
    assert caught.value.location.file == str(path.resolve())


def test_an_oversized_file_is_refused_before_it_is_read(tmp_path: Path, loader: ContractLoader) -> None:
    from pipeline.contract.source import MAX_DOCUMENT_BYTES

    path = tmp_path / "huge.yaml"
    with path.open("w") as handle:
        handle.write("asyncapi: 3.0.0\n")
        handle.truncate(MAX_DOCUMENT_BYTES + 1)
    with pytest.raises(SourceError, match="refuses documents over"):
        loader.load([path])


def test_a_missing_document_is_named(tmp_path: Path, loader: ContractLoader) -> None:
    with pytest.raises(RefError, match="does not exist"):
        loader.load([tmp_path / "nope.yaml"])


def test_a_ref_to_a_folder_is_named(tmp_path: Path, loader: ContractLoader) -> None:
    (tmp_path / "schemas").mkdir()
    path = write(tmp_path, "doc.yaml", doc("'./schemas'"))
    with pytest.raises(ContractInvalid) as caught:
        loader.load([path], strict=True)
    assert "is a folder" in only_problem(caught.value, "ref").message


def test_a_malformed_schema_with_examples_is_a_contract_error_not_a_traceback(tmp_path) -> None:
    from pipeline.contract import ContractLoader

    (tmp_path / "doc.yaml").write_text("""\
asyncapi: 3.0.0
info: {title: T, version: 1.0.0}
components:
  messages:
    M:
      name: A.B.C
      payload:
        type: object
        properties: {x-a: "str", b: {type: string, pattern: "(unclosed", examples: ["x"]}}
      examples: [{name: one, payload: {b: "x"}}]
""")
    errors = ContractLoader().load([tmp_path]).errors
    broken = [e for e in errors if e.code == "schema-invalid"]
    assert broken and all(e.location.file.endswith("doc.yaml") and e.location.line for e in broken)
    assert any("not a regular expression" in e.message for e in broken)


# A payload that is not a schema, a $ref to an object that contains it, a root member of the wrong kind: each is a
# diagnostic with the document's file, never an exception out of the loader.
def _thing_document(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    source = ROOT / "tests" / "fixtures" / "lint" / "eventdeck-pii-sealed" / "pass.yaml"
    document = parse_text(source.read_text(encoding="utf-8"), str(source)).data
    change(document)
    return document


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    *parents, last = path.split("/")

    def change(document: dict[str, Any]) -> None:
        node: Any = document
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        node[int(last) if isinstance(node, list) else last] = value
    return change


@pytest.mark.parametrize(("change", "expected"), [
    (_set("components/messages/ThingCreatedUk/payload", []), "schema must be an object or a boolean, not list"),
    (_set("components/messages/ThingCreatedUk/payload", "text"), "schema must be an object or a boolean, not str"),
    (_set("components/schemas/Thing/required/0", {"$ref": "#/components"}), "a $ref refers to an object that contains"),
])
def test_malformed_schemas_are_diagnostics_with_their_file(tmp_path: Path, change: Any, expected: str) -> None:
    path = tmp_path / "things.json"
    path.write_text(json.dumps(_thing_document(change)), encoding="utf-8")
    catalogue = ContractLoader().load([path])
    (problem,) = [d for d in catalogue.errors if expected in d.message]
    assert problem.location.file == str(path), str(problem)


def test_a_root_member_of_the_wrong_kind_names_its_file(tmp_path: Path) -> None:
    path = tmp_path / "things.json"
    path.write_text(json.dumps(_thing_document(_set("info", 7))), encoding="utf-8")
    (problem,) = [d for d in ContractLoader().load([path]).errors if d.location.pointer == "/info"]
    assert problem.location.file == str(path) and problem.location.line == 1, str(problem)
