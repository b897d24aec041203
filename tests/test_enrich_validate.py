"""Enrichment (JSON Patch, look-ups, pruning) and payload validation against the example domains."""

from __future__ import annotations

import importlib
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from pipeline.contract import Catalogue, ContractLoader
from pipeline.contract.extensions import Enrichment, EnrichmentSpecError
from pipeline.contract.model import Event
from pipeline.enrichment.enrich import EnrichmentError, EnrichmentFailed, compile_enrichment
from pipeline.schemas.validate import PayloadInvalid, compile_validator


def samples(catalogue: Catalogue):
    for event in catalogue.events:
        for sample in event.extension("x-enrichment")["samples"]:
            yield event, sample


def test_every_sample_enriches_into_its_documented_example(examples_catalogue: Catalogue) -> None:
    checked = 0
    for event, sample in samples(examples_catalogue):
        expected = next(e.payload for e in event.examples if e.name == sample["example"])
        enrichment = compile_enrichment(event)
        assert enrichment is not None
        before = json.dumps(sample["event"]["detail"], sort_keys=True)
        assert enrichment.apply(sample["event"]["detail"], lookup_results=sample.get("lookups")) == expected
        assert json.dumps(sample["event"]["detail"], sort_keys=True) == before  # the input is untouched
        checked += 1
    assert checked >= 20


def test_every_example_passes_the_compiled_validator(examples_catalogue: Catalogue) -> None:
    for event in examples_catalogue.events:
        validator = compile_validator(event.payload)
        assert validator.engine == "fastjsonschema"
        for example in event.examples:
            validator.validate(example.payload)


def _event(examples_catalogue: Catalogue, name: str) -> Event:
    return examples_catalogue.event(name)


def test_a_failed_test_operation_names_event_id_and_operation_index(examples_catalogue: Catalogue) -> None:
    event = _event(examples_catalogue, "Payment.Captured.Ecom")
    enrichment = compile_enrichment(event)
    ops = event.extension("x-enrichment")["patch"]
    index = next(i for i, op in enumerate(ops) if op["op"] == "test")
    sample = event.extension("x-enrichment")["samples"][0]
    detail = json.loads(json.dumps(sample["event"]["detail"]))
    path = ops[index]["path"].lstrip("/").split("/")
    target = detail
    for token in path[:-1]:
        target = target[token]
    target[path[-1]] = "SOMETHING-ELSE"
    with pytest.raises(EnrichmentFailed) as caught:
        enrichment.apply(detail, event_id="evt-123", lookup_results=sample.get("lookups"))
    assert caught.value.event_id == "evt-123" and caught.value.operation == index
    assert "evt-123" in str(caught.value) and f"#{index}" in str(caught.value)


def test_a_missing_path_is_a_per_event_failure(examples_catalogue: Catalogue) -> None:
    enrichment = compile_enrichment(_event(examples_catalogue, "Order.Shipped.Uk"))
    with pytest.raises(EnrichmentFailed, match="evt-9"):
        enrichment.apply({}, event_id="evt-9")


def _with_enrichment(event: Event, spec: dict) -> Event:
    from dataclasses import replace

    return replace(event, enrichment=Enrichment.parse(spec))


def _load_with_patch(tmp_path: Path, operation: dict) -> list:
    """Load a one-message document whose x-enrichment patch is ``[operation]``; the contract's diagnostics."""
    from pipeline.contract import ContractLoader

    (tmp_path / "doc.json").write_text(json.dumps({
        "asyncapi": "3.0.0", "info": {"title": "T", "version": "1.0.0"},
        "x-eventbridge": {"bus": "b", "source": "com.example.t"}, "x-sealing": "none",
        "components": {"messages": {"M": {
            "name": "Note.Written.Uk", "payload": {"type": "object"},
            "x-enrichment": {"from": {"source": ["x"]}, "patch": [operation]}}}}}))
    return list(ContractLoader().load([tmp_path]).errors)


def test_an_invalid_patch_is_refused_when_the_contract_loads(tmp_path: Path) -> None:
    errors = _load_with_patch(tmp_path, {"op": "jump", "path": "/a"})
    assert errors and all(e.location.file.endswith("doc.json") for e in errors)
    assert any(e.location.pointer.startswith("/components/messages/M/x-enrichment/patch") for e in errors)


@pytest.mark.parametrize("operation", [{"op": "add", "path": "/a"}, {"op": "copy", "path": "/a"},
                                       {"op": "move", "path": "/a"}, {"op": "move", "from": "a", "path": "/b"}])
def test_an_operation_without_its_value_or_from_is_refused_when_the_contract_loads(
        tmp_path: Path, operation: dict) -> None:
    errors = _load_with_patch(tmp_path, operation)
    assert any(e.location.pointer.startswith("/components/messages/M/x-enrichment/patch") for e in errors), errors


def test_the_typed_extension_names_the_offending_operation() -> None:
    with pytest.raises(EnrichmentSpecError) as caught:
        Enrichment.parse({"from": {"source": ["x"]}, "patch": [{"op": "add", "path": "/a", "value": 1},
                                                                {"op": "copy", "path": "/b"}]})
    assert caught.value.member == "/patch/1" and "'copy' operation without a 'from' member" in str(caught.value)


def test_pruning_drops_undeclared_properties_at_every_depth(examples_catalogue: Catalogue) -> None:
    event = _event(examples_catalogue, "Order.Created.Uk")
    example = event.examples[0].payload
    spec = {"from": {"source": ["x"]}, "patch": [], "prune": True}
    noisy = json.loads(json.dumps(example))
    noisy["internalRef"] = "secret"
    noisy["lines"][0]["warehouseBin"] = "B-12"
    assert compile_enrichment(_with_enrichment(event, spec)).apply(noisy) == example


class _Merchants(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps({"path": self.path, "name": "Corner Shop"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_http_lookups_fill_pointers_and_patch_their_results_in(examples_catalogue: Catalogue) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Merchants)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        spec = {"from": {"source": ["x"]},
                "lookups": [{"name": "merchant",
                             "url": f"http://127.0.0.1:{server.server_port}/merchants/{{/merchant/id}}"}],
                "patch": [{"op": "copy", "from": "/_lookups/merchant/name", "path": "/merchantName"},
                          {"op": "copy", "from": "/_lookups/merchant/path", "path": "/asked"}]}
        enrichment = compile_enrichment(_with_enrichment(_event(examples_catalogue, "Order.Shipped.Uk"), spec))
        out = enrichment.apply({"merchant": {"id": "m 1/2"}})
    finally:
        server.shutdown()
    assert out == {"merchant": {"id": "m 1/2"}, "merchantName": "Corner Shop", "asked": "/merchants/m%201%2F2"}


def test_a_failing_lookup_is_a_per_event_failure(examples_catalogue: Catalogue) -> None:
    spec = {"from": {"source": ["x"]}, "lookups": [{"name": "m", "url": "http://127.0.0.1:9/{/id}", "timeout": 1}],
            "patch": []}
    enrichment = compile_enrichment(_with_enrichment(_event(examples_catalogue, "Order.Shipped.Uk"), spec))
    with pytest.raises(EnrichmentFailed, match=r"look-up .m. failed"):
        enrichment.apply({"id": "1"}, event_id="evt-1")


def test_callable_lookups_are_resolved_when_compiled_not_per_event(examples_catalogue: Catalogue, tmp_path,
                                                                  monkeypatch) -> None:
    module = tmp_path / "merchant_directory.py"
    module.write_text("def merchant_name(detail):\n    return 'Corner Shop'\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    spec = {"from": {"source": ["x"]}, "lookups": [{"name": "n", "callable": "merchant_directory:merchant_name"}],
            "patch": [{"op": "copy", "from": "/_lookups/n", "path": "/merchantName"}]}
    enrichment = compile_enrichment(_with_enrichment(_event(examples_catalogue, "Order.Shipped.Uk"), spec))
    try:
        # Replacing the module's function after compiling changes nothing: the function was bound once, when
        # the enrichment was compiled, and is not looked up again for each event.
        monkeypatch.setattr(importlib.import_module("merchant_directory"), "merchant_name", lambda detail: "replaced")

        assert [enrichment.apply({"a": n})["merchantName"] for n in range(3)] == ["Corner Shop"] * 3
    finally:
        sys.modules.pop("merchant_directory", None)


def test_a_callable_lookup_that_cannot_be_imported_fails_compilation(examples_catalogue: Catalogue) -> None:
    spec = {"from": {"source": ["x"]}, "lookups": [{"name": "n", "callable": "no.such.module:f"}], "patch": []}
    with pytest.raises(EnrichmentError, match="cannot import"):
        compile_enrichment(_with_enrichment(_event(examples_catalogue, "Order.Shipped.Uk"), spec))


def test_invalid_payload_names_field_path_and_rule(examples_catalogue: Catalogue) -> None:
    event = _event(examples_catalogue, "Order.Created.Uk")
    payload = json.loads(json.dumps(event.examples[0].payload))
    payload["lines"][0]["quantity"] = 0
    with pytest.raises(PayloadInvalid) as caught:
        compile_validator(event.payload).validate(payload)
    assert caught.value.path == "/lines/0/quantity" and caught.value.rule == "minimum"


def test_newer_keywords_are_never_validated_loosely(tmp_path) -> None:
    (tmp_path / "doc.yaml").write_text("""\
asyncapi: 3.0.0
info: {title: T, version: 1.0.0}
components:
  messages:
    M:
      name: A.B.C
      payload:
        schemaFormat: application/schema+json;version=2020-12
        schema:
          $schema: https://json-schema.org/draft/2020-12/schema
          type: object
          properties: {a: {type: string}}
          unevaluatedProperties: false
          dependentRequired: {a: [b]}
""")
    event = ContractLoader().load([tmp_path]).events[0]
    validator = compile_validator(event.payload)
    assert validator.engine == "jsonschema"
    with pytest.raises(PayloadInvalid, match=r"unevaluatedProperties|dependentRequired"):
        validator.validate({"a": "x", "extra": 1})
    with pytest.raises(PayloadInvalid):
        validator.validate({"a": "x"})


def test_pattern_properties_count_as_declared_when_pruning(tmp_path) -> None:
    (tmp_path / "doc.yaml").write_text("""\
asyncapi: 3.0.0
info: {title: T, version: 1.0.0}
components:
  messages:
    M:
      name: A.B.C
      payload:
        type: object
        properties: {id: {type: string}}
        patternProperties:
          "^x-": {type: object, properties: {keep: {type: string}}}
""")
    event = ContractLoader().load([tmp_path]).events[0]
    spec = {"from": {"source": ["x"]}, "patch": [], "prune": True}
    enrichment = compile_enrichment(_with_enrichment(event, spec))
    out = enrichment.apply({"id": "1", "x-extra": {"keep": "k", "drop": "d"}, "other": 2})
    assert out == {"id": "1", "x-extra": {"keep": "k"}}
