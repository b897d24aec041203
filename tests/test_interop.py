"""Interoperability with an independent JOSE implementation (jwcrypto): both directions, keys from both sides.

A consumer in another stack must be able to open what eventdeck seals with nothing but the public JWKS, its own
key and a standard JOSE library; and eventdeck must open nested JWTs such a stack produces.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from jwcrypto import jwk, jwt

from pipeline.consumer import open_event
from pipeline.envelope.cloudevent import build_cloud_event
from pipeline.sealing.keys import KeySet, new_keyset
from pipeline.sealing.seal import EncryptSpec, SealingPolicy, SignSpec, seal_event

ISSUER = "urn:eventdeck:payments"
PAYMENT = {
    "paymentId": "pay_0001",
    "amount": {"value": 129999, "currency": "GBP"},
    "merchant": {"name": "Zoë's Café", "country": "GB"},
    "items": [{"sku": "SKU-1", "qty": 2}],
}
COMBINATIONS = [
    ("HS256", "dir", True),
    ("HS256", "dir", False),
    ("ES256", "dir", True),
    ("ES256", "ECDH-ES+A256KW", True),
    ("EdDSA", "ECDH-ES+A256KW", True),
    ("RS256", "RSA-OAEP-256", True),
    ("RS256", "ECDH-ES+A256KW", False),
]
IDS = [f"{s}-{e}-{'DEF' if z else 'nozip'}" for s, e, z in COMBINATIONS]


@pytest.fixture(scope="module")
def keys() -> KeySet:
    return new_keyset("interop")


def jwcrypto_keys(jwks: dict[str, Any]) -> jwk.JWKSet:
    return jwk.JWKSet.from_json(json.dumps(jwks))


def payment_event() -> dict[str, Any]:
    return build_cloud_event(
        type="Payment.Authorised.Ecom", source=ISSUER, subject="Payment.Authorised.Ecom", data=PAYMENT
    ).to_dict()


@pytest.mark.parametrize(("sign", "encrypt", "compress"), COMBINATIONS, ids=IDS)
def test_jwcrypto_opens_what_eventdeck_seals(keys: KeySet, sign: str, encrypt: str, compress: bool) -> None:
    event = payment_event()
    policy = SealingPolicy(
        sign=SignSpec(sign, keys.kids_for(sign)[0]),
        encrypt=EncryptSpec(encrypt, keys.kids_for(encrypt)[0]),
        compress=compress,
        issuer=ISSUER,
    )
    sealed = seal_event(event, policy, keys)

    # The consumer side of jwcrypto: its decryption key, and the producer's *public* JWKS to verify.
    decrypt_with = jwcrypto_keys(keys.select(keys.kids_for(encrypt)[0]).to_jwks(private=True))
    verify_with = (
        jwcrypto_keys(keys.select(keys.kids_for("HS256")[0]).to_jwks(private=True))
        if sign == "HS256"
        else jwcrypto_keys(keys.public().to_jwks())
    )
    outer = jwt.JWT(jwt=sealed["data"], key=decrypt_with, expected_type="JWE", algs=[encrypt, "A256GCM"])
    outer_header = json.loads(outer.token.objects["protected"])
    assert outer_header["cty"] == "JWT" and outer_header["kid"] == keys.kids_for(encrypt)[0]
    assert ("zip" in outer_header) is compress
    inner = jwt.JWT(jwt=outer.claims, key=verify_with, expected_type="JWS", algs=[sign])
    claims = json.loads(inner.claims)
    assert claims["data"] == PAYMENT
    assert claims["jti"] == event["id"] and claims["idempotencykey"] == event["idempotencykey"]
    assert claims["iss"] == ISSUER and claims["type"] == event["type"]


def _jwcrypto_generated_keys() -> tuple[dict[str, jwk.JWK], KeySet]:
    """Keys made by jwcrypto (kid and alg set the way a JWKS publisher would), loaded into eventdeck."""
    made = {
        "HS256": jwk.JWK.generate(kty="oct", size=256, kid="jc-hs256", alg="HS256", use="sig"),
        "dir": jwk.JWK.generate(kty="oct", size=256, kid="jc-dir", alg="dir", use="enc"),
        "ES256": jwk.JWK.generate(kty="EC", crv="P-256", kid="jc-es256", alg="ES256", use="sig"),
        "EdDSA": jwk.JWK.generate(kty="OKP", crv="Ed25519", kid="jc-eddsa", alg="EdDSA", use="sig"),
        "RS256": jwk.JWK.generate(kty="RSA", size=2048, kid="jc-rs256", alg="RS256", use="sig"),
        "ECDH-ES+A256KW": jwk.JWK.generate(kty="EC", crv="P-256", kid="jc-ecdh", alg="ECDH-ES+A256KW", use="enc"),
        "RSA-OAEP-256": jwk.JWK.generate(kty="RSA", size=2048, kid="jc-oaep", alg="RSA-OAEP-256", use="enc"),
    }
    jwks = {"keys": [json.loads(key.export(private_key=True)) for key in made.values()]}
    return made, KeySet.from_jwks(jwks, origin="jwcrypto JWKS")


def jwcrypto_claims(event: dict[str, Any]) -> dict[str, Any]:
    """The claims eventdeck seals for ``event``, written out by hand for jwcrypto to sign."""
    return {
        "iss": ISSUER,
        "iat": 1_750_000_000,
        "jti": event["id"],
        "type": event["type"],
        "sub": event["subject"],
        "idempotencykey": event["idempotencykey"],
        "data": PAYMENT,
    }


@pytest.mark.parametrize(("sign", "encrypt", "compress"), COMBINATIONS, ids=IDS)
def test_eventdeck_opens_what_jwcrypto_seals(sign: str, encrypt: str, compress: bool) -> None:
    made, keys = _jwcrypto_generated_keys()
    event = payment_event()
    claims = jwcrypto_claims(event)
    signed = jwt.JWT(header={"alg": sign, "kid": made[sign]["kid"], "typ": "JWT"}, claims=claims)
    signed.make_signed_token(made[sign])
    outer_header = {"alg": encrypt, "enc": "A256GCM", "kid": made[encrypt]["kid"], "cty": "JWT"}
    if compress:
        outer_header["zip"] = "DEF"
    encrypted = jwt.JWT(header=outer_header, claims=signed.serialize())
    recipient = made[encrypt] if encrypt == "dir" else jwk.JWK(**made[encrypt].export_public(as_dict=True))
    encrypted.make_encrypted_token(recipient)
    sealed = {**event, "datacontenttype": "application/jwt", "data": encrypted.serialize()}

    opened = open_event(sealed, keys, expected_issuer=ISSUER, now=1_750_000_000, verify_content_hash=True)
    assert opened.data == PAYMENT
    assert opened.signing_kid == made[sign]["kid"] and opened.encryption_kid == made[encrypt]["kid"]


def test_public_jwks_imports_into_jwcrypto_without_private_members(keys: KeySet) -> None:
    imported = jwcrypto_keys(keys.to_jwks())
    assert {key["kid"] for key in imported} == set(keys.public().kids)
    assert not any(key.has_private for key in imported)


# ---------------------------------------------------------------------------------------- every combination
#
# Sealing and opening run joserfc's models directly with precomputed headers (pipeline.sealing.seal.Sealer, the header
# cache in pipeline.sealing.open); these hold every combination to the standard, both ways.

SIGNERS = ["HS256", "ES256", "EdDSA", "RS256"]
ALL_COMBINATIONS = [
    (sign, encrypt, compress)
    for sign in SIGNERS
    for encrypt in ("dir", "ECDH-ES+A256KW", "RSA-OAEP-256")
    for compress in (True, False)
] + [(sign, None, False) for sign in SIGNERS]
ALL_IDS = [f"{s}-{e or 'sign-only'}-{'DEF' if z else 'nozip'}" for s, e, z in ALL_COMBINATIONS]


def _verification_keys(keys: KeySet, sign: str) -> jwk.JWKSet:
    if sign == "HS256":
        return jwcrypto_keys(keys.select(keys.kids_for("HS256")[0]).to_jwks(private=True))
    return jwcrypto_keys(keys.public().to_jwks())


@pytest.mark.parametrize(("sign", "encrypt", "compress"), ALL_COMBINATIONS, ids=ALL_IDS)
def test_jwcrypto_opens_every_combination_the_sealer_writes(
    keys: KeySet, sign: str, encrypt: str | None, compress: bool
) -> None:
    policy = SealingPolicy(
        sign=SignSpec(sign, keys.kids_for(sign)[0]),
        encrypt=None if encrypt is None else EncryptSpec(encrypt, keys.kids_for(encrypt)[0]),
        compress=compress,
        issuer=ISSUER,
    )
    for _ in range(2):  # the second token comes from the same, already warm, Sealer
        event = payment_event()
        token = seal_event(event, policy, keys)["data"]
        signed = token
        if encrypt is not None:
            decrypt_with = jwcrypto_keys(keys.select(keys.kids_for(encrypt)[0]).to_jwks(private=True))
            outer = jwt.JWT(jwt=token, key=decrypt_with, expected_type="JWE", algs=[encrypt, "A256GCM"])
            assert ("zip" in json.loads(outer.token.objects["protected"])) is compress
            signed = outer.claims
        inner = jwt.JWT(jwt=signed, key=_verification_keys(keys, sign), expected_type="JWS", algs=[sign])
        claims = json.loads(inner.claims)
        assert claims["data"] == PAYMENT and claims["jti"] == event["id"]


@pytest.fixture(scope="module")
def jwcrypto_made() -> tuple[dict[str, jwk.JWK], KeySet]:
    return _jwcrypto_generated_keys()


@pytest.mark.parametrize(("sign", "encrypt", "compress"), ALL_COMBINATIONS, ids=ALL_IDS)
def test_every_combination_jwcrypto_writes_opens_twice(
    jwcrypto_made: tuple[dict[str, jwk.JWK], KeySet], sign: str, encrypt: str | None, compress: bool
) -> None:
    # Twice: the first token's headers are checked and remembered, the second one's are found in the cache.
    made, keys = jwcrypto_made
    for _ in range(2):
        event = payment_event()
        claims = jwcrypto_claims(event)
        signed = jwt.JWT(header={"alg": sign, "kid": made[sign]["kid"], "typ": "JWT"}, claims=claims)
        signed.make_signed_token(made[sign])
        token = signed.serialize()
        if encrypt is not None:
            outer_header = {"alg": encrypt, "enc": "A256GCM", "kid": made[encrypt]["kid"], "cty": "JWT"}
            if compress:
                outer_header["zip"] = "DEF"
            encrypted = jwt.JWT(header=outer_header, claims=token)
            recipient = made[encrypt] if encrypt == "dir" else jwk.JWK(**made[encrypt].export_public(as_dict=True))
            encrypted.make_encrypted_token(recipient)
            token = encrypted.serialize()
        sealed = {**event, "datacontenttype": "application/jwt", "data": token}
        opened = open_event(sealed, keys, expected_issuer=ISSUER, now=1_750_000_000, verify_content_hash=True)
        assert opened.data == PAYMENT and opened.signing_kid == made[sign]["kid"]
        assert opened.encryption_kid == (None if encrypt is None else made[encrypt]["kid"])
