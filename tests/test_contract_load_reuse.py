"""What the loader does to load fast changes nothing but the time: an object shared by several places of a
document is checked at each of them, a value changed between two checks is checked again, a file changed between
two loads is read again, a ``$ref`` whose line is looked up only when it fails still names its file, line and
pointer, and pausing the garbage collector neither leaks a document's working state nor outlives the load."""

from __future__ import annotations

import copy
import gc
import os
from pathlib import Path

import fastjsonschema
import pytest

from conftest import write
from pipeline.contract import ContractError, ContractLoader, specs
from pipeline.contract.errors import Diagnostic
from pipeline.contract.refs import Dereferencer

HEAD = """\
asyncapi: 3.0.0
info:
  title: Shared places
  version: 1.0.0
"""

# A message where a channel belongs: valid as a message, not as a channel.
MESSAGE_AS_CHANNEL = HEAD + """\
channels:
  orders:
    address: orders
    messages:
      Placed:
        $ref: '#/components/messages/Placed'
  misplaced:
    $ref: '#/components/messages/Placed'
components:
  messages:
    Placed:
      name: Order.Placed.Web
      payload:
        type: object
"""

# A channel where a message belongs: valid as a channel, not as a message.
CHANNEL_AS_MESSAGE = HEAD + """\
channels:
  audit:
    $ref: '#/components/channels/Audit'
components:
  channels:
    Audit:
      address: audit
  messages:
    Misplaced:
      $ref: '#/components/channels/Audit'
"""


def official_problems(path: Path, loader: ContractLoader | None = None) -> list[Diagnostic]:
    catalogue = (loader or ContractLoader()).load([path])
    return [d for d in catalogue.all_diagnostics if d.code == "asyncapi-schema"]


@pytest.mark.parametrize(("text", "shared"), [(MESSAGE_AS_CHANNEL, "/components/messages/Placed"),
                                              (CHANNEL_AS_MESSAGE, "/components/channels/Audit")],
                         ids=["message-as-channel", "channel-as-message"])
def test_an_object_two_places_share_is_checked_against_the_definition_of_each(tmp_path: Path, text: str,
                                                                                shared: str) -> None:
    (problem,) = official_problems(write(tmp_path, "doc.yaml", text))
    assert problem.location.pointer == shared and problem.location.line is not None, str(problem)
    assert "is not valid under any of the given schemas" in problem.message


def test_an_object_valid_where_it_is_first_met_is_still_refused_where_it_is_met_again(tmp_path: Path) -> None:
    # The compiled validator checks a shared object once per definition. The contact is met first, as a contact
    # (valid), then as the licence (no name, and a key a licence does not take): a memo that forgot the definition
    # would pass it there.
    text = HEAD + "  contact:\n    email: team@example.com\n  license:\n    $ref: '#/info/contact'\n"
    problems = official_problems(write(tmp_path, "doc.yaml", text))
    assert {(d.location.pointer, d.location.line) for d in problems} == {("/info/contact", 5)}
    assert any("'name' is a required property" in d.message and "license" in d.message for d in problems)


def test_the_compiled_official_validator_checks_a_value_changed_in_place_again() -> None:
    # The same containers (same identities) between two calls: only forgetting what the first call checked lets
    # the second see the broken schema.
    validate = specs.official_fast_validator("3.0.0", ContractLoader().specs_settings)
    schema = {"type": "object", "properties": {"id": {"type": "string"}}}
    document = {"asyncapi": "3.0.0", "info": {"title": "T", "version": "1"}, "components": {"schemas": {
        "A": schema, "B": schema}}}
    validate(document)
    schema["properties"]["id"]["type"] = 5
    with pytest.raises(fastjsonschema.JsonSchemaValueException):
        validate(document)
    schema["properties"]["id"]["type"] = "string"
    validate(copy.deepcopy(document))


SHARED_DOC = HEAD + """\
components:
  messages:
    Paid:
      name: Order.Paid.Web
      payload:
        $ref: './shared.yaml#/Money'
      examples:
      - payload: {amount: 5}
    Refunded:
      name: Order.Refunded.Web
      payload:
        type: object
        properties:
          total:
            $ref: './shared.yaml#/Money'
"""


def test_a_shared_file_changed_between_two_loads_is_read_and_checked_again(tmp_path: Path) -> None:
    loader = ContractLoader()
    document = write(tmp_path, "doc.yaml", SHARED_DOC)
    shared = write(tmp_path, "shared.yaml", "Money:\n  type: object\n  properties:\n    amount: {type: integer}\n")
    assert official_problems(document, loader) == []

    shared.write_text("Money:\n  type: object\n  properties:\n    amount: {type: 5}\n", "utf-8")
    os.utime(shared, ns=(1, 1))  # a different stamp even on a file system with a coarse clock
    (problem,) = official_problems(document, loader)
    assert "'amount': {'type': 5}" in problem.message and problem.location.line is not None, str(problem)

    shared.write_text("Money:\n  type: object\n  properties:\n    amount: {type: string}\n", "utf-8")
    os.utime(shared, ns=(2, 2))
    catalogue = loader.load([document])
    assert not [d for d in catalogue.all_diagnostics if d.code == "asyncapi-schema"]
    (invalid,) = [d for d in catalogue.errors if d.code == "example-invalid"]
    assert "5 is not of type 'string'" in invalid.message


CHAINED_DOC = HEAD + """\
components:
  messages:
    Thing:
      name: Thing.Created.Uk
      payload:
        type: object
        properties:
          money:
            $ref: './shared.yaml#/Money'
          other:
            $ref: './shared.yaml#/Gone'
"""
CHAINED_SHARED = """\
Money:
  $ref: './more.yaml#/Missing'
Gone:
  type: object
  properties:
    deep:
      $ref: '#/Nowhere'
"""


def test_a_ref_that_fails_names_its_own_file_line_and_pointer_once(tmp_path: Path) -> None:
    # Each failing $ref is met twice (dereferencing, then bundling the payload): the line is found only on failure,
    # and both report the same place, so it is one problem.
    document = write(tmp_path, "doc.yaml", CHAINED_DOC)
    shared = write(tmp_path, "shared.yaml", CHAINED_SHARED)
    write(tmp_path, "more.yaml", "Present:\n  type: string\n")
    problems = [d for d in ContractLoader().load([document]).all_diagnostics if d.code == "ref"]
    assert [(d.location.file, d.location.line, d.location.column, d.location.pointer) for d in problems] == [
        (str(shared.resolve()), 2, 3, "/Money/$ref"), (str(shared.resolve()), 7, 7, "/Gone/properties/deep/$ref")]
    assert "'Missing' not found in more.yaml" in problems[0].message
    assert "'Nowhere' not found in shared.yaml" in problems[1].message


SAME_REF_DOC = HEAD + """\
components:
  messages:
    Made:
      name: Thing.Made.Uk
      payload:
        type: object
        properties:
          top: {$ref: './common.yaml#/S'}
          part: {$ref: './sub/part.yaml#/Part'}
      examples:
      - payload: {top: text, part: {inner: 5}}
      - payload: {top: 5, part: {inner: text}}
"""


def test_the_same_ref_written_in_two_folders_leads_to_two_files(tmp_path: Path) -> None:
    # Both files write './common.yaml#/S'; each means the common.yaml beside it (a string here, an integer there).
    document = write(tmp_path, "doc.yaml", SAME_REF_DOC)
    write(tmp_path, "common.yaml", "S:\n  type: string\n")
    write(tmp_path, "sub/part.yaml", "Part:\n  type: object\n  properties:\n    inner: {$ref: './common.yaml#/S'}\n")
    write(tmp_path, "sub/common.yaml", "S:\n  type: integer\n")
    catalogue = ContractLoader().load([document])
    (event,) = catalogue.events
    assert event.payload is not None
    defs = event.payload.document["$defs"]
    assert sorted(schema["type"] for name, schema in defs.items() if name.startswith("S")) == ["integer", "string"]
    problems = sorted((d.location.pointer, d.message) for d in catalogue.errors)
    assert [pointer for pointer, _ in problems] == ["/components/messages/Made/examples/1/payload/part/inner",
                                                    "/components/messages/Made/examples/1/payload/top"], problems
    assert "'text' is not of type 'integer'" in problems[0][1] and "5 is not of type 'string'" in problems[1][1]


@pytest.fixture
def collector_restored():
    """Whatever a test does to the garbage collector, the next test finds it on."""
    yield
    gc.enable()


@pytest.mark.usefixtures("collector_restored")
def test_the_collector_is_paused_only_while_loading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    document = write(tmp_path, "doc.yaml", SHARED_DOC)
    write(tmp_path, "shared.yaml", "Money:\n  type: object\n")
    seen: list[bool] = []
    original = ContractLoader._prepare

    def watched(self: ContractLoader, *args: object) -> object:
        seen.append(gc.isenabled())
        return original(self, *args)

    monkeypatch.setattr(ContractLoader, "_prepare", watched)
    ContractLoader().load([document])
    assert seen == [False] and gc.isenabled()
    with pytest.raises(ContractError):  # a load that fails puts it back too
        ContractLoader().load([tmp_path / "missing.yaml"])
    assert gc.isenabled()
    gc.disable()  # a caller that had it off keeps it off
    ContractLoader().load([document])
    assert not gc.isenabled()


@pytest.mark.usefixtures("collector_restored")
def test_a_prepared_document_leaves_nothing_only_the_collector_could_free(tmp_path: Path) -> None:
    # With the collector paused, anything a document's preparation leaves in a reference cycle (a closure that calls
    # itself holds the dereferencer, and through it the whole dereferenced view) stays in memory until the end of
    # the load: across a catalogue of thousands of events, hundreds of megabytes. Reference counting alone must free
    # it, as soon as the document is done.
    for name in ("a.yaml", "b.yaml"):
        write(tmp_path, name, SHARED_DOC.replace("Order.", f"Order{name[0].upper()}."))
    write(tmp_path, "shared.yaml", "Money:\n  type: object\n  properties:\n    amount: {type: integer}\n")
    write(tmp_path, "v3.yaml", MESSAGE_AS_CHANNEL)  # 3.x: the reference-only fields restored, then errors listed
    gc.collect()
    gc.disable()
    loader = ContractLoader(workers=1)
    catalogue = loader.load([tmp_path])
    assert len(catalogue.documents) == 3 and catalogue.errors  # the slow, error-listing path ran too
    assert [o for o in gc.get_objects() if isinstance(o, Dereferencer)] == []
