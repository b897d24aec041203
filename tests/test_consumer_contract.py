"""A consumer given the contract refuses every event weaker than its type's policy, and each refusal has its own
exception: forged plain JSON of a sealed type, the encryption layer stripped, another key or algorithm than the
policy's, a dataschema of another (laxer) type, a type the contract does not have."""

from __future__ import annotations

import json
from typing import Any

import pytest

from pipeline.consumer import ContractOpener, open_event
from pipeline.contract import Catalogue, EncryptSpec, SealingPolicy, SignSpec
from pipeline.enrichment.samples import sample_inputs
from pipeline.errors import (
    DataschemaMismatch,
    EventRejected,
    SealingDowngraded,
    SealingPolicyMismatch,
    UnknownEventType,
)
from pipeline.produce import Producer, Published, required_keys
from pipeline.schemas.registry import SchemaRegistry
from pipeline.sealing.keys import KeySet, generate_key, keyset_for
from pipeline.sealing.seal import Sealer

BASE = "https://events.example.com/schemas/"


@pytest.fixture(scope="module")
def keys(examples_catalogue: Catalogue) -> KeySet:
    return keyset_for(required_keys(examples_catalogue))


@pytest.fixture(scope="module")
def published(examples_catalogue: Catalogue, keys: KeySet) -> dict[str, dict[str, Any]]:
    """One published CloudEvent per event type of the examples, sealed as the contract says."""
    producer = Producer(examples_catalogue, keys, schema_base_url=BASE)
    inputs = sample_inputs(examples_catalogue)
    out: dict[str, dict[str, Any]] = {}
    for _, internal in inputs.events:
        for outcome in producer.process_one(internal, lookup_results=inputs.lookup_results):
            assert isinstance(outcome, Published), outcome
            out.setdefault(outcome.event, outcome.cloud_event)
    return out


def _registry(catalogue: Catalogue) -> SchemaRegistry:
    return SchemaRegistry.for_catalogue(catalogue, base_url=BASE)


@pytest.fixture(scope="module")
def opener(examples_catalogue: Catalogue, keys: KeySet) -> ContractOpener:
    return ContractOpener(examples_catalogue, keys, registry=_registry(examples_catalogue))


def _plain(event: dict[str, Any], data: Any) -> dict[str, Any]:
    return {**event, "datacontenttype": "application/json", "data": data}


def test_every_event_the_producer_publishes_opens_under_its_contract(
        published: dict[str, dict[str, Any]], opener: ContractOpener, examples_catalogue: Catalogue) -> None:
    assert set(published) == {e.name for e in examples_catalogue.events if e.enrichment is not None}
    for name, event in published.items():
        opened = opener.open(event)
        assert opened.type == name
        policy = examples_catalogue.event(name).sealing.policy
        assert opened.sealed == (policy is not None)
        if policy is not None:
            assert (opened.signing_kid, opened.issuer) == (policy.sign.kid, policy.issuer)


def test_plain_json_of_a_sealed_type_is_refused_as_a_downgrade(
        published: dict[str, dict[str, Any]], opener: ContractOpener, keys: KeySet) -> None:
    genuine = opener.open(published["Payment.AuthorisedV2.Ecom"])
    forged = _plain(published["Payment.AuthorisedV2.Ecom"], {**genuine.data, "amount": 0.01})
    with pytest.raises(SealingDowngraded, match="arrived unsealed") as caught:
        opener.open(forged)
    assert caught.value.event_id == forged["id"]


def test_plain_json_is_accepted_for_a_type_declared_unsealed(
        published: dict[str, dict[str, Any]], opener: ContractOpener) -> None:
    event = published["Basket.Created.Eu"]
    assert event["datacontenttype"] != "application/jwt"
    assert opener.open(event).data == event["data"]


def test_a_bare_signed_token_is_refused_where_the_policy_encrypts(
        examples_catalogue: Catalogue, published: dict[str, dict[str, Any]], opener: ContractOpener,
        keys: KeySet) -> None:
    genuine = published["Order.Created.Uk"]
    policy = examples_catalogue.event("Order.Created.Uk").sealing.policy
    # The producer's own signing key, the encryption layer left out: a valid JWS the producer could have made.
    signed_only = SealingPolicy(sign=policy.sign, issuer=policy.issuer, encrypt=None)
    data = opener.open(genuine).data
    stripped = {**genuine, "data": Sealer(signed_only, keys).seal({**genuine, "data": data})}
    # Without the contract, cryptography alone accepts it: it is genuinely signed.
    assert open_event(stripped, keys).data == data
    with pytest.raises(SealingDowngraded, match="bare signed token"):
        opener.open(stripped)
    with pytest.raises(SealingDowngraded):
        open_event(stripped, keys, contract=opener.contract, registry=opener.registry)


def test_another_signing_key_of_the_same_algorithm_is_refused(
        examples_catalogue: Catalogue, published: dict[str, dict[str, Any]], keys: KeySet) -> None:
    rogue = keys.merged(KeySet([generate_key("rogue-sign", "ES256")]))
    contract_opener = ContractOpener(examples_catalogue, rogue, registry=_registry(examples_catalogue))
    genuine = published["Payment.Captured.Ecom"]
    policy = examples_catalogue.event("Payment.Captured.Ecom").sealing.policy
    data = contract_opener.opener.open(genuine, allow_unsealed=False).data
    other = SealingPolicy(sign=SignSpec("ES256", "rogue-sign"), issuer=policy.issuer, encrypt=policy.encrypt)
    resealed = {**genuine, "data": Sealer(other, rogue).seal({**genuine, "data": data})}
    assert open_event(resealed, rogue).data == data  # every key is in the consumer's set: crypto says yes
    with pytest.raises(SealingPolicyMismatch, match="rogue-sign"):
        contract_opener.open(resealed)


def test_another_encryption_algorithm_or_key_is_refused_before_decrypting(
        examples_catalogue: Catalogue, published: dict[str, dict[str, Any]], keys: KeySet) -> None:
    extra = KeySet([generate_key("rogue-enc", "RSA-OAEP-256")])
    everything = keys.merged(extra)
    genuine = published["Payment.Refunded.Ecom"]
    policy = examples_catalogue.event("Payment.Refunded.Ecom").sealing.policy
    data = open_event(genuine, keys).data
    other = SealingPolicy(sign=policy.sign, issuer=policy.issuer, encrypt=EncryptSpec("RSA-OAEP-256", "rogue-enc"))
    resealed = {**genuine, "data": Sealer(other, everything).seal({**genuine, "data": data})}
    with pytest.raises(SealingPolicyMismatch, match="RSA-OAEP-256"):
        ContractOpener(examples_catalogue, everything, registry=_registry(examples_catalogue)).open(resealed)


def test_a_dataschema_of_another_type_is_refused(
        published: dict[str, dict[str, Any]], opener: ContractOpener) -> None:
    event = published["Basket.Created.Eu"]
    laxer = published["Basket.Abandoned.Eu"]["dataschema"]
    with pytest.raises(DataschemaMismatch, match=r"Basket\.Created\.Eu"):
        opener.open({**event, "dataschema": laxer})
    with pytest.raises(DataschemaMismatch):
        opener.open({**event, "dataschema": {"$ref": "https://evil.example/lax.json"}})


def test_a_type_the_contract_does_not_have_is_refused(
        published: dict[str, dict[str, Any]], opener: ContractOpener) -> None:
    with pytest.raises(UnknownEventType):
        opener.open({**published["Basket.Created.Eu"], "type": "Basket.Created.Mars"})


def test_every_refusal_is_an_event_rejection_with_the_event_id(
        published: dict[str, dict[str, Any]], opener: ContractOpener) -> None:
    event = published["Order.Shipped.Uk"]
    for forged in (_plain(event, {}), {**event, "type": "Nope.Nope.Nope"},
                   {**event, "dataschema": BASE + "Order.Created.Uk/1.2.0.json"}):
        with pytest.raises(EventRejected) as caught:
            opener.open(forged)
        assert caught.value.event_id == event["id"] and event["id"] in str(caught.value)
        json.dumps(str(caught.value))  # a one-line message, no payload objects
