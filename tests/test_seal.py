"""Sealing: nested JWT layout, every algorithm combination, policy parsing, size caps, and key sets."""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from joserfc import jwe, jws
from joserfc.errors import ExceededSizeError
from joserfc.jwk import OctKey

import moto_server
from pipeline.consumer import open_event
from pipeline.envelope.cloudevent import build_cloud_event
from pipeline.errors import KeySetError, OversizedEvent, SealingPolicyError, UnknownKeyId
from pipeline.sealing.keys import (
    JwksEnvironment,
    JwksFile,
    JwksSecretsManager,
    KeySet,
    load_keyset,
    new_keyset,
    write_jwks,
)
from pipeline.sealing.seal import (
    JWE_REGISTRY,
    JWS_REGISTRY,
    MAX_CLAIMS_BYTES,
    MAX_TOKEN_BYTES,
    EncryptSpec,
    Sealer,
    SealingPolicy,
    SignSpec,
    claims_for,
    jwe_header,
    jws_header,
    seal,
    seal_event,
    sealing_policy_from_extension,
)
from sealing import ISSUER, policy_for
from sealing import payment_event as shared_payment_event

moto_endpoint = moto_server.moto_endpoint
aws_client = moto_server.aws_client

PAYMENT = {
    "paymentId": "pay_0001",
    "amount": {"value": 129999, "currency": "GBP"},
    "merchant": {"id": "m_123", "name": "Zoë's Café", "country": "GB"},
    "card": {"scheme": "VISA", "last4": "4242"},
}
SIGNERS = ["HS256", "ES256", "EdDSA", "RS256"]
ENCRYPTERS = [None, "dir", "ECDH-ES+A256KW", "RSA-OAEP-256"]


@pytest.fixture(scope="module")
def keys() -> KeySet:
    return new_keyset("test")


def payment_event(data: Any = PAYMENT) -> dict[str, Any]:
    return shared_payment_event(data)


def segment(part: str) -> dict[str, Any]:
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


# ---------------------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("encrypt", ENCRYPTERS, ids=lambda e: str(e))
@pytest.mark.parametrize("sign", SIGNERS)
def test_seal_then_open_returns_the_payload_for_every_combination(keys: KeySet, sign: str, encrypt: str | None) -> None:
    event = payment_event()
    sealed = seal_event(event, policy_for(keys, sign, encrypt), keys)
    opened = open_event(sealed, keys, expected_issuer=ISSUER)
    assert opened.data == PAYMENT
    assert opened.id == event["id"] and opened.type == event["type"]
    assert opened.idempotency_key == event["idempotencykey"]
    assert opened.sealed and opened.issuer == ISSUER
    assert opened.signing_kid == keys.kids_for(sign)[0]
    assert opened.encryption_kid == (None if encrypt is None else keys.kids_for(encrypt)[0])


@pytest.mark.parametrize("compress", [True, False])
def test_round_trip_with_and_without_compression(keys: KeySet, compress: bool) -> None:
    sealed = seal_event(payment_event(), policy_for(keys, "HS256", "dir", compress=compress), keys)
    assert open_event(sealed, keys).data == PAYMENT


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data=st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
        lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
        max_leaves=24,
    )
)
def test_seal_then_open_is_the_identity_on_json_payloads(keys: KeySet, data: Any) -> None:
    sealed = seal_event(payment_event(data), policy_for(keys, "HS256", "dir"), keys)
    assert open_event(sealed, keys).data == data


# ---------------------------------------------------------------------------------------- token layout


def test_routing_attributes_stay_clear_and_data_becomes_the_token(keys: KeySet) -> None:
    event = payment_event()
    sealed = seal_event(event, policy_for(keys, "ES256", "ECDH-ES+A256KW"), keys)
    assert sealed["datacontenttype"] == "application/jwt"
    assert isinstance(sealed["data"], str) and sealed["data"] != event["data"]
    for attribute in ("id", "type", "source", "subject", "time", "idempotencykey", "specversion"):
        assert sealed[attribute] == event[attribute]
    assert event["datacontenttype"] == "application/json"  # the input is not modified


def test_jwe_header_names_kid_cty_and_zip(keys: KeySet) -> None:
    token = seal(payment_event(), policy_for(keys, "HS256", "dir"), keys)
    header = segment(token.split(".")[0])
    assert header == {"alg": "dir", "enc": "A256GCM", "kid": keys.kids_for("dir")[0], "cty": "JWT", "zip": "DEF"}


def test_compression_off_means_no_zip_header(keys: KeySet) -> None:
    token = seal(payment_event(), policy_for(keys, "HS256", "dir", compress=False), keys)
    assert "zip" not in segment(token.split(".")[0])


def test_ecdh_es_header_carries_the_ephemeral_key(keys: KeySet) -> None:
    token = seal(payment_event(), policy_for(keys, "ES256", "ECDH-ES+A256KW"), keys)
    header = segment(token.split(".")[0])
    assert header["alg"] == "ECDH-ES+A256KW" and header["epk"]["crv"] == "P-256" and "d" not in header["epk"]
    # the header dict is fresh per token: two tokens, two ephemeral keys
    other = segment(seal(payment_event(), policy_for(keys, "ES256", "ECDH-ES+A256KW"), keys).split(".")[0])
    assert other["epk"] != header["epk"]


def test_inner_jws_carries_the_claims(keys: KeySet) -> None:
    event = payment_event()
    token = seal(event, policy_for(keys, "HS256", "dir"), keys, issued_at=1_750_000_000)
    inner = jwe.decrypt_compact(token, keys.decryption_key(keys.kids_for("dir")[0]), registry=JWE_REGISTRY)
    assert inner.protected["cty"] == "JWT"
    signed = jws.deserialize_compact(
        inner.plaintext, keys.verification_key(keys.kids_for("HS256")[0]), registry=JWS_REGISTRY
    )
    assert signed.protected == {"alg": "HS256", "kid": keys.kids_for("HS256")[0], "typ": "JWT"}
    assert json.loads(signed.payload) == {
        "iss": ISSUER,
        "iat": 1_750_000_000,
        "jti": event["id"],
        "type": "Payment.Authorised.Ecom",
        "sub": "Payment.Authorised.Ecom",
        "idempotencykey": event["idempotencykey"],
        "data": PAYMENT,
    }


def test_header_and_claims_helpers_describe_the_real_token(keys: KeySet) -> None:
    # the catalogue renders these helpers; they must be what sealing produces
    event, policy = payment_event(), policy_for(keys, "ES256", "dir")
    token = seal(event, policy, keys, issued_at=1_750_000_000)
    assert segment(token.split(".")[0]) == jwe_header(policy)
    inner = jwe.decrypt_compact(token, keys.decryption_key(keys.kids_for("dir")[0]), registry=JWE_REGISTRY)
    header, payload, _ = inner.plaintext.decode().split(".")
    assert segment(header) == jws_header(policy)
    assert segment(payload) == claims_for(event, policy, issued_at=1_750_000_000)
    assert jwe_header(policy_for(keys, "ES256", None)) is None


def test_sign_only_policy_gives_a_readable_jws(keys: KeySet) -> None:
    token = seal(payment_event(), policy_for(keys, "EdDSA", None), keys)
    header, payload, _ = token.split(".")
    assert segment(header)["alg"] == "EdDSA"
    assert segment(payload)["data"] == PAYMENT


def test_sealing_none_publishes_plain_json(keys: KeySet) -> None:
    event = payment_event()
    assert seal_event(event, None, keys) == event
    assert seal_event(event, None, None)["data"] == PAYMENT


def test_sealer_accepts_the_cloud_event_object(keys: KeySet) -> None:
    event = build_cloud_event(type="Order.Created.Uk", source="urn:eventdeck:orders", data={"orderId": "o-1"})
    sealed = Sealer(policy_for(keys, "ES256", "dir"), keys).seal_event(event)
    assert open_event(sealed, keys).data == {"orderId": "o-1"}
    assert "subject" not in sealed


# ---------------------------------------------------------------------------------------- policy


def test_policy_parses_the_x_sealing_extension() -> None:
    policy = sealing_policy_from_extension(
        {"sign": {"alg": "ES256", "kid": "p-1"}, "encrypt": {"alg": "ECDH-ES+A256KW", "kid": "c-1"}},
        default_issuer=ISSUER,
    )
    assert policy == SealingPolicy(
        sign=SignSpec("ES256", "p-1"), encrypt=EncryptSpec("ECDH-ES+A256KW", "c-1", "A256GCM"), issuer=ISSUER
    )
    assert policy.compress is True


def test_policy_none_means_no_sealing() -> None:
    assert sealing_policy_from_extension("none") is None


@pytest.mark.parametrize(
    ("extension", "field"),
    [
        ({"sign": {"alg": "none", "kid": "k"}, "issuer": ISSUER}, "sign.alg"),
        ({"sign": {"alg": "HS512", "kid": "k"}, "issuer": ISSUER}, "sign.alg"),
        ({"sign": {"alg": ["HS256"], "kid": "k"}, "issuer": ISSUER}, "sign.alg"),
        ({"sign": {"alg": "HS256"}, "issuer": ISSUER}, "sign.kid"),
        (
            {"sign": {"alg": "HS256", "kid": "k"}, "encrypt": {"alg": "RSA1_5", "kid": "e"}, "issuer": ISSUER},
            "encrypt.alg",
        ),
        (
            {
                "sign": {"alg": "HS256", "kid": "k"},
                "encrypt": {"alg": "dir", "kid": "e", "enc": "A128CBC-HS256"},
                "issuer": ISSUER,
            },
            "encrypt.enc",
        ),
        ({"sign": {"alg": "HS256", "kid": "k"}}, "issuer"),
        ({"sign": {"alg": "HS256", "kid": "k"}, "issuer": ISSUER, "compress": "yes"}, "compress"),
        ({"sign": {"alg": "HS256", "kid": "k"}, "issuer": ISSUER, "zip": True}, "zip"),
        ({"sign": {"alg": "HS256", "kid": "k", "key": "inline"}, "issuer": ISSUER}, "sign.key"),
        (
            {
                "sign": {"alg": "HS256", "kid": "k"},
                "encrypt": {"alg": "dir", "kid": "e", "zip": "DEF"},
                "issuer": ISSUER,
            },
            "encrypt.zip",
        ),
        ("sealed", "(root)"),
    ],
)
def test_invalid_policy_names_the_field(extension: Any, field: str) -> None:
    with pytest.raises(SealingPolicyError) as caught:
        sealing_policy_from_extension(extension)
    assert caught.value.field == field
    assert f"x-sealing.{field}" in str(caught.value)


def test_policy_kid_must_be_in_the_key_set(keys: KeySet) -> None:
    policy = SealingPolicy(sign=SignSpec("HS256", "nobody"), issuer=ISSUER)
    with pytest.raises(UnknownKeyId) as caught:
        seal(payment_event(), policy, keys)
    assert caught.value.kid == "nobody"


def test_policy_algorithm_must_match_the_key(keys: KeySet) -> None:
    policy = SealingPolicy(sign=SignSpec("HS256", keys.kids_for("ES256")[0]), issuer=ISSUER)
    with pytest.raises(SealingPolicyError, match="bound to ES256"):
        Sealer(policy, keys)


def test_public_keys_cannot_sign(keys: KeySet) -> None:
    with pytest.raises(UnknownKeyId, match="no signing key"):
        Sealer(policy_for(keys, "ES256", None), keys.public())


# ---------------------------------------------------------------------------------------- size caps


def test_the_largest_claims_the_producer_accepts_open_at_the_consumer(keys: KeySet) -> None:
    # Compressible claims: the token is small, but the signed payload (base64url of the claims, 4/3 of them) and
    # what the consumer inflates are the largest the producer lets through. Every consumer limit must admit them.
    policy = policy_for(keys, "HS256", "dir")

    def sealed_with(size: int) -> dict[str, Any] | None:
        try:
            return seal_event(payment_event({"blob": "x" * size}), policy, keys)
        except OversizedEvent:
            return None

    fits, too_big = MAX_CLAIMS_BYTES - 4096, MAX_CLAIMS_BYTES
    assert sealed_with(fits) is not None and sealed_with(too_big) is None
    while too_big - fits > 1:  # the exact boundary, as the producer decides it
        middle = (fits + too_big) // 2
        fits, too_big = (middle, too_big) if sealed_with(middle) is not None else (fits, middle)
    largest = sealed_with(fits)

    assert largest is not None
    assert open_event(largest, keys).data == {"blob": "x" * fits}


def test_eventdecks_larger_limits_leave_joserfc_defaults_in_force_for_other_code(keys: KeySet) -> None:
    blob = base64.b64encode(os.urandom(120_000)).decode()
    assert open_event(seal_event(payment_event({"blob": blob}), policy_for(keys, "HS256", "dir"), keys), keys)
    other = OctKey.generate_key(256)
    signed = jws.serialize_compact({"alg": "HS256"}, b"x" * 100_000, other)  # base64url payload > 128,000
    encrypted = jwe.encrypt_compact({"alg": "dir", "enc": "A128CBC-HS256"}, b"y" * 70_000, other)  # > 64 KiB
    inflating = jwe.encrypt_compact({"alg": "dir", "enc": "A128CBC-HS256", "zip": "DEF"}, bytes(300_000), other)

    with pytest.raises(ExceededSizeError):
        jws.deserialize_compact(signed, other)
    with pytest.raises(ExceededSizeError):
        jwe.decrypt_compact(encrypted, other)
    with pytest.raises(ExceededSizeError):
        jwe.decrypt_compact(inflating, other)  # inflates past 250 KiB


def test_an_event_bigger_than_joserfc_defaults_but_within_eventbridge_seals_and_opens(keys: KeySet) -> None:
    blob = base64.b64encode(os.urandom(120_000)).decode()  # incompressible: ciphertext ~ 220 KB > 64 KiB
    sealed = seal_event(payment_event({"blob": blob}), policy_for(keys, "HS256", "dir"), keys)
    assert 65536 < len(sealed["data"]) <= MAX_TOKEN_BYTES
    assert open_event(sealed, keys).data == {"blob": blob}


def test_claims_over_the_cap_are_refused_by_the_producer(keys: KeySet) -> None:
    event = payment_event({"blob": "x" * MAX_CLAIMS_BYTES})
    with pytest.raises(OversizedEvent) as caught:
        seal(event, policy_for(keys, "HS256", "dir"), keys)
    assert caught.value.event_id == event["id"]


def test_token_over_the_cap_is_refused_by_the_producer(keys: KeySet) -> None:
    # ~200 KB of incompressible claims fits the claims cap, but base64 twice over does not fit an entry.
    event = payment_event({"blob": base64.b64encode(os.urandom(150_000)).decode()})
    with pytest.raises(OversizedEvent, match="token"):
        seal(event, policy_for(keys, "HS256", "dir", compress=False), keys)


# ---------------------------------------------------------------------------------------- key sets


def test_keyset_resolves_by_kid_with_one_algorithm_per_key(keys: KeySet) -> None:
    assert {keys.alg_of(kid) for kid in keys} == {
        "HS256", "dir", "ES256", "ECDH-ES+A256KW", "EdDSA", "RS256", "RSA-OAEP-256",
    }  # fmt: skip
    assert len(keys) == 7


def test_keyset_repr_shows_kids_not_keys(keys: KeySet) -> None:
    text = repr(keys)
    private = keys.to_jwks(private=True)["keys"]
    assert all(k["kid"] in text for k in private)
    assert not any(value in text for k in private for name, value in k.items() if name in ("k", "d", "p", "q"))


def test_public_jwks_has_no_secrets(keys: KeySet) -> None:
    public = keys.to_jwks()["keys"]
    assert {k["alg"] for k in public} == {"ES256", "ECDH-ES+A256KW", "EdDSA", "RS256", "RSA-OAEP-256"}
    assert not any(member in k for k in public for member in ("d", "k", "p", "q", "dp", "dq", "qi"))


def test_written_jwks_files_load_back_and_the_private_one_is_owner_only(keys: KeySet, tmp_path: Path) -> None:
    write_jwks(keys, private_path=tmp_path / "private.jwks", public_path=tmp_path / "public.jwks")
    assert stat.S_IMODE((tmp_path / "private.jwks").stat().st_mode) == 0o600
    private = load_keyset(JwksFile(tmp_path / "private.jwks"))
    public = load_keyset(JwksFile(tmp_path / "public.jwks"))
    assert private.kids == keys.kids
    sealed = seal_event(payment_event(), policy_for(private, "ES256", None), private)
    assert open_event(sealed, public).data == PAYMENT


def test_producer_and_consumer_hold_only_their_halves(keys: KeySet) -> None:
    producer = new_keyset("producer")
    consumer = new_keyset("consumer")
    sign_kid, enc_kid = producer.kids_for("ES256")[0], consumer.kids_for("ECDH-ES+A256KW")[0]
    producer_view = producer.select(sign_kid).merged(consumer.public().select(enc_kid))
    consumer_view = consumer.select(enc_kid).merged(producer.public().select(sign_kid))
    policy = SealingPolicy(
        sign=SignSpec("ES256", sign_kid), encrypt=EncryptSpec("ECDH-ES+A256KW", enc_kid), issuer=ISSUER
    )
    sealed = seal_event(payment_event(), policy, producer_view)
    assert open_event(sealed, consumer_view).data == PAYMENT
    with pytest.raises(UnknownKeyId):  # the producer cannot open what it sealed to the consumer
        open_event(sealed, producer_view)


def test_keys_load_from_an_environment_variable(keys: KeySet, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVENTDECK_JWKS", json.dumps(keys.to_jwks(private=True)))
    assert load_keyset(JwksEnvironment("EVENTDECK_JWKS")).kids == keys.kids


def test_unset_environment_variable_is_named() -> None:
    with pytest.raises(KeySetError, match="EVENTDECK_MISSING is not set"):
        load_keyset(JwksEnvironment("EVENTDECK_MISSING", environ={}))


def test_keys_load_from_secrets_manager_over_http(keys: KeySet, aws_client: Any) -> None:
    client = aws_client("secretsmanager")
    name = moto_server.unique_name("eventdeck/jwks")
    client.create_secret(Name=name, SecretString=json.dumps(keys.to_jwks(private=True)))
    loaded = load_keyset(JwksSecretsManager(name, client=client))
    assert loaded.kids == keys.kids
    assert loaded.origin == f"secret {name}"
    sealed = seal_event(payment_event(), policy_for(loaded, "RS256", "RSA-OAEP-256"), loaded)
    assert open_event(sealed, keys).data == PAYMENT


def test_rotated_secret_is_picked_up_on_reload(aws_client: Any) -> None:
    client = aws_client("secretsmanager")
    name = moto_server.unique_name("eventdeck/jwks")
    old, new = new_keyset("old"), new_keyset("new")
    client.create_secret(Name=name, SecretString=json.dumps(old.to_jwks(private=True)))
    client.put_secret_value(SecretId=name, SecretString=json.dumps(old.merged(new).to_jwks(private=True)))
    assert set(load_keyset(JwksSecretsManager(name, client=client)).kids) == set(old.kids) | set(new.kids)


def test_invalid_jwks_json_names_the_file_and_not_its_content(tmp_path: Path) -> None:
    path = tmp_path / "broken.jwks"
    path.write_text('{"keys": [{"kty": "oct", "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQ", }]}')
    with pytest.raises(KeySetError) as caught:
        load_keyset(JwksFile(path))
    assert str(path) in str(caught.value) and "c2VjcmV0" not in str(caught.value)
    # the JSON error keeps the whole document in .doc: it must not be chained into the traceback
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(KeySetError, match=r"missing\.jwks"):
        load_keyset(JwksFile(tmp_path / "missing.jwks"))


@pytest.mark.parametrize(
    ("jwk", "message"),
    [
        ({"kty": "oct", "k": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "alg": "HS256"}, "has no 'kid'"),
        ({"kty": "oct", "k": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "kid": "k1"}, "has no 'alg'"),
        ({"kty": "oct", "k": "AAAAAAAAAAAAAAAAAAAAAA", "kid": "k1", "alg": "HS256"}, "at least 256 bits"),
        ({"kty": "oct", "k": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "kid": "k1", "alg": "ES256"}, "EC P-256"),
        (
            {"kty": "oct", "k": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "kid": "k1", "alg": "A256KW"},
            "not supported",
        ),
        (
            {"kty": "oct", "k": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "kid": "k1", "alg": "dir", "use": "sig"},
            "'use'",
        ),
        ({"kty": "XYZ", "kid": "k1"}, "unsupported 'kty'"),
        ({"kty": ["oct"], "kid": "k1"}, "unsupported 'kty'"),
        ({"kty": "EC", "kid": "k1", "alg": "ES256", "crv": "P-256", "x": "AA", "y": "AA"}, "does not import"),
    ],
)
def test_keys_that_do_not_fit_their_algorithm_are_refused_by_kid(jwk: dict[str, Any], message: str) -> None:
    with pytest.raises(KeySetError, match=message) as caught:
        KeySet.from_jwks({"keys": [jwk]}, origin="test JWKS")
    assert "test JWKS" in str(caught.value)
    assert "AAAAAAAAAAAAAAAAAAAA" not in str(caught.value)


def test_keyset_converts_to_a_joserfc_key_set(keys: KeySet) -> None:
    assert [key.kid for key in keys.to_joserfc().keys] == list(keys.kids)


def test_duplicate_kids_are_refused(keys: KeySet) -> None:
    with pytest.raises(KeySetError, match="twice"):
        keys.merged(keys)
