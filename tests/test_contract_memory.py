"""What keeps a large catalogue's model small changes no value: equal parts are shared only when they are equal as
JSON (never ``1`` and ``true``, never two key orders), a definition is shared by two bundled schemas only when its
references get the same names in both, the values handed in are never modified, and a document's own parse is
dropped once it is built (read again only when needed) without losing a line number."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from conftest import write
from pipeline.contract import ContractLoader
from pipeline.contract import refs as refs_module
from pipeline.contract.sharing import SharedValues
from pipeline.contract.source import parse_text


def test_equal_parts_become_one_object() -> None:
    shared = SharedValues()
    first = shared.share({"amount": {"type": "integer", "minimum": 0}, "codes": ["GBP", "EUR"]})
    second = shared.share({"amount": {"type": "integer", "minimum": 0}, "codes": ["GBP", "EUR"], "x": None})
    assert first["amount"] is second["amount"] and first["codes"] is second["codes"]
    assert first is not second and second == {"amount": {"type": "integer", "minimum": 0},
                                               "codes": ["GBP", "EUR"], "x": None}
    assert shared.share({"amount": {"type": "integer", "minimum": 0}, "codes": ["GBP", "EUR"]}) is first


@pytest.mark.parametrize(("one", "other"), [
    ({"v": 1}, {"v": True}),
    ({"v": 1}, {"v": 1.0}),
    ({"v": 0}, {"v": False}),
    ({"v": 0.0}, {"v": -0.0}),
    ({"v": None}, {"v": "null"}),
    ({"v": "1"}, {"v": 1}),
    ({"a": 1, "b": 2}, {"b": 2, "a": 1}),
    ({"v": []}, {"v": {}}),
    (["a", ["b"]], [["a"], "b"]),
], ids=["int-bool", "int-float", "zero-false", "signed-zeros", "null-string", "string-number", "key-order",
        "list-object", "nesting"])
def test_values_python_calls_equal_but_json_does_not_stay_apart(one: object, other: object) -> None:
    shared = SharedValues()
    a, b = shared.share(one), shared.share(other)
    assert a is not b
    assert repr(a) == repr(one) and repr(b) == repr(other)  # each keeps its own types and key order


def test_the_values_given_are_never_modified() -> None:
    shared = SharedValues()
    shared.share({"inner": {"type": "string"}})
    inner: dict[str, str] = {"type": "string"}
    items: list[dict[str, str]] = [{"type": "string"}]
    given = {"inner": inner, "list": items}
    result = shared.share(given)
    assert given == {"inner": {"type": "string"}, "list": [{"type": "string"}]}
    assert given["inner"] is inner and given["list"] is items and items[0] is not inner
    assert result["inner"] is result["list"][0]


def test_the_strings_of_parsed_files_are_interned() -> None:
    # Built at run time, so the two texts hold equal strings that are distinct objects before parsing.
    word = "".join(["curr", "ency"])
    one = parse_text(f"{word}:\n  code: GBP\n", "a.yaml").data
    other = parse_text(f"other:\n  {word}: x\n  code: 'GBP'\n", "b.yaml").data
    (key,) = one
    assert key is next(k for k in other["other"] if k == word)
    assert one[key]["code"] is other["other"]["code"]


SHARED = """\
Money:
  type: object
  properties:
    amount: {type: integer}
TaxLine:
  type: object
  properties:
    amount:
      $ref: '#/Money'
"""

DOCUMENT = """\
asyncapi: 3.0.0
info:
  title: Taxes
  version: 1.0.0
components:
  schemas:
    Money:
      type: string
  messages:
    Taxed:
      name: Order.Taxed.Web
      payload:
        type: object
        properties:
          tax:
            $ref: './shared.yaml#/TaxLine'
      examples:
      - payload: {tax: {amount: {amount: 5}}}
    Priced:
      name: Order.Priced.Web
      payload:
        type: object
        properties:
          price:
            $ref: '#/components/schemas/Money'
          tax:
            $ref: './shared.yaml#/TaxLine'
      examples:
      - payload: {price: '5', tax: {amount: {amount: 5}}}
    Refunded:
      name: Order.Refunded.Web
      payload:
        type: object
        properties:
          tax:
            $ref: './shared.yaml#/TaxLine'
      examples:
      - payload: {tax: {amount: {amount: 5}}}
"""


def test_a_definition_is_shared_only_where_its_references_get_the_same_names(tmp_path: Path) -> None:
    write(tmp_path, "shared.yaml", SHARED)
    catalogue = ContractLoader(workers=1).load([write(tmp_path, "doc.yaml", DOCUMENT)], strict=True)
    taxed, priced, refunded = (catalogue.event(f"Order.{name}.Web").payload for name in ("Taxed", "Priced",
                                                                                          "Refunded"))
    assert taxed is not None and priced is not None and refunded is not None
    # Priced names its own Money first, so the shared file's Money is Money_2 there, and its TaxLine must say so.
    assert priced.document["$defs"]["Money"] == {"type": "string"}
    assert priced.document["$defs"]["TaxLine"]["properties"]["amount"] == {"$ref": "#/$defs/Money_2"}
    assert priced.document["$defs"]["TaxLine"] is not taxed.document["$defs"]["TaxLine"]
    assert taxed.document["$defs"]["TaxLine"]["properties"]["amount"] == {"$ref": "#/$defs/Money"}
    # Where the names are the same, the definitions are one object.
    assert refunded.document["$defs"]["TaxLine"] is taxed.document["$defs"]["TaxLine"]
    assert refunded.document["$defs"]["Money"] is taxed.document["$defs"]["Money"]
    assert not catalogue.all_diagnostics  # every example is valid against its own bundle


def _two_documents(tmp_path: Path) -> tuple[Path, Path, Path]:
    shared = write(tmp_path, "shared.yaml", SHARED)
    documents = [write(tmp_path, f"{name}.yaml", DOCUMENT.replace("Order.", f"Order{name.upper()}.")
                       .replace("title: Taxes", f"title: Taxes {name}")) for name in ("a", "b")]
    return documents[0], documents[1], shared


def _counting_parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    parsed: list[str] = []
    real = refs_module.parse_text

    def counting(text: str, uri: str):  # type: ignore[no-untyped-def]
        parsed.append(Path(uri).name)
        return real(text, uri)

    monkeypatch.setattr(refs_module, "parse_text", counting)
    return parsed


def _touch(path: Path, stamp: int) -> None:
    path.write_text(path.read_text("utf-8") + "\n", "utf-8")
    os.utime(path, ns=(stamp, stamp))  # a different stamp even on a file system with a coarse clock


def test_a_documents_own_parse_is_dropped_once_built_and_a_shared_files_is_kept(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a, _, shared = _two_documents(tmp_path)
    parsed = _counting_parses(monkeypatch)
    loader = ContractLoader(workers=1)
    first = loader.load([tmp_path], strict=True)
    assert sorted(parsed) == ["a.yaml", "b.yaml", "shared.yaml"]

    parsed.clear()
    _touch(a, 1)
    loader.load([tmp_path], strict=True)
    assert parsed == ["a.yaml"]  # b is not built again; the shared file is still parsed

    parsed.clear()
    _touch(shared, 2)
    again = loader.load([tmp_path], strict=True)
    assert sorted(parsed) == ["a.yaml", "b.yaml", "shared.yaml"]  # both built again, so both read again
    assert [e.location for e in again.events] == [e.location for e in first.events]


def test_a_document_referring_into_one_built_before_it_still_has_lines(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", """\
asyncapi: 3.0.0
info: {title: A, version: 1.0.0}
components:
  schemas:
    Thing:
      type: object
      properties:
        size: {type: integer}
  messages:
    Made:
      name: Thing.Made.Uk
      payload: {type: object}
""")
    write(tmp_path, "b.yaml", """\
asyncapi: 3.0.0
info: {title: B, version: 1.0.0}
components:
  messages:
    Sized:
      name: Thing.Sized.Uk
      payload:
        $ref: './a.yaml#/components/schemas/Thing'
      examples:
      - payload: {size: big}
""")
    catalogue = ContractLoader(workers=1).load([tmp_path])  # a.yaml is built (and its parse dropped) first
    payload = catalogue.event("Thing.Sized.Uk").payload
    assert payload is not None and Path(payload.location.file).name == "a.yaml"
    assert (payload.location.line, payload.location.column) == (5, 5)  # the key "Thing"
    (invalid,) = [d for d in catalogue.errors if d.code == "example-invalid"]
    assert Path(invalid.location.file).name == "b.yaml" and invalid.location.line == 10, str(invalid)


def test_what_forked_workers_prepared_is_remembered_by_the_main_process(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, "shared.yaml", SHARED)
    for n in range(10):  # enough documents for forked workers
        write(tmp_path, f"doc{n}.yaml", DOCUMENT.replace("Order.", f"Order{n}.").replace("Taxes", f"Taxes {n}"))
    loader = ContractLoader(workers=2)
    first = loader.load([tmp_path], strict=True)
    parsed = _counting_parses(monkeypatch)
    again = loader.load([tmp_path], strict=True)
    assert parsed == [] and len(again.events) == len(first.events) == 30
    assert all(a.payload is b.payload for a, b in zip(first.events, again.events, strict=True))


def test_a_value_that_contains_itself_is_shared_without_endless_recursion() -> None:
    from pipeline.contract.sharing import SharedValues

    cyclic: dict[str, Any] = {"type": "object", "properties": {}}
    cyclic["properties"]["self"] = cyclic
    looped: list[Any] = ["x"]
    looped.append(looped)
    shared = SharedValues().share({"a": cyclic, "b": looped})
    assert shared["a"]["type"] == "object" and shared["a"]["properties"]["self"] is cyclic
    assert shared["b"][0] == "x" and shared["b"][1] is looped
