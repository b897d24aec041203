"""The typed extensions take any JSON a document can hold and answer with a value or a named problem, never a
crash; the effective sealing follows one precedence rule."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.contract import ContractLoader, Location
from pipeline.contract.artefact import FORMAT, FORMAT_VERSION, ArtefactError, read_artefact
from pipeline.contract.extensions import Enrichment, EnrichmentSpecError, EventBridge, Sealing

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(
        st.sampled_from(["from", "patch", "op", "path", "value", "lookups", "name", "url", "callable", "timeout",
                         "samples", "example", "event", "subject", "prune", "sign", "encrypt", "alg", "kid", "source",
                         "detail", "issuer", "compress", "enc", "bus", "x"]), children, max_size=5),
    max_leaves=25)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(json_values)
def test_any_json_is_an_enrichment_or_a_named_problem(value: object) -> None:
    try:
        Enrichment.parse(value)
    except EnrichmentSpecError as exc:
        assert exc.member == "" or exc.member.startswith("/")


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(json_values)
def test_any_json_is_a_sealing_policy_or_a_problem(value: object) -> None:
    sealing = Sealing.parse(value, "message", Location("doc.yaml"), default_issuer="com.example")
    assert (sealing.policy is None) or sealing.problem is None
    assert sealing.unsealed == (value == "none")
    EventBridge.from_extension(value)


def test_the_message_policy_replaces_the_document_policy_as_a_whole(tmp_path: Path) -> None:
    (tmp_path / "doc.yaml").write_text("""\
asyncapi: 3.0.0
info: {title: T, version: 1.0.0}
x-eventbridge: {bus: b, source: com.example.t}
x-sealing: {sign: {alg: HS256, kid: doc-sign}, encrypt: {alg: dir, kid: doc-enc}}
components:
  messages:
    Inherits: {name: A.Inherits.Uk, payload: {type: object}}
    Own:
      name: A.Own.Uk
      payload: {type: object}
      x-sealing: {sign: {alg: ES256, kid: own-sign}, issuer: urn:own}
    Public: {name: A.Public.Uk, payload: {type: object}, x-sealing: none}
""")
    catalogue = ContractLoader().load([tmp_path], strict=True)
    inherits, own, public = (catalogue.event(n).sealing for n in ("A.Inherits.Uk", "A.Own.Uk", "A.Public.Uk"))
    assert inherits.declared_on == "document" and inherits.policy.encrypt.kid == "doc-enc"
    assert inherits.policy.issuer == "com.example.t"  # the document's EventBridge source
    assert own.declared_on == "message" and own.policy.encrypt is None and own.policy.issuer == "urn:own"
    assert public.declared_on == "message" and public.unsealed and not public.sealed
    assert own.location.line is not None and own.location.pointer.endswith("/x-sealing")


def test_a_sealed_event_without_an_issuer_is_a_diagnostic_at_its_extension(tmp_path: Path) -> None:
    (tmp_path / "doc.yaml").write_text("""\
asyncapi: 3.0.0
info: {title: T, version: 1.0.0}
components:
  messages:
    M: {name: A.B.C, payload: {type: object}, x-sealing: {sign: {alg: HS256, kid: k}}}
""")
    catalogue = ContractLoader().load([tmp_path])
    (error,) = [d for d in catalogue.errors if "issuer" in d.message]
    assert error.location.pointer == "/components/messages/M/x-sealing" and error.location.line == 5
    assert catalogue.event("A.B.C").sealing.problem is not None and catalogue.event("A.B.C").sealing.policy is None


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(body=json_values)
def test_an_artefact_with_a_valid_hash_but_any_body_is_loaded_or_refused_by_name(tmp_path: Path, body: object) -> None:
    # Someone who can compute the hash can still not make the loader crash.
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    head = (f'{{\n "format": "{FORMAT}",\n "format_version": {FORMAT_VERSION},\n "content_hash": '
            f'"sha256:{hashlib.sha256(canonical).hexdigest()}",').encode()
    path = tmp_path / "a.json"
    path.write_bytes(head + b'\n "body": ' + canonical + b"\n}\n")
    try:
        read_artefact(path)
    except ArtefactError as exc:
        assert "a.json" in str(exc)
        assert "content_hash" not in str(exc)  # the hash is right: what is refused is the body
