"""Opening sealed events: every way a token can be wrong is refused with its own exception.

Forged tokens are built the way an attacker would: with joserfc/hmac directly, re-encrypted with the shared
``dir`` key where the attack needs a valid outer layer (an insider on the bus, or a leaked ``dir`` key), so the
inner-layer defences are tested on their own.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
import zlib
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from joserfc import jwe
from joserfc.jwa import JWEZipModel
from joserfc.jwe import JWERegistry
from joserfc.jwk import ECKey, OctKey

from pipeline.consumer import open_event
from pipeline.envelope.cloudevent import build_cloud_event
from pipeline.errors import (
    BadSignature,
    ClaimsRejected,
    DecryptionFailed,
    DisallowedAlgorithm,
    EventRejected,
    InflateLimitExceeded,
    MalformedEnvelope,
    OversizedToken,
    PayloadRejected,
    SealingError,
    TamperedToken,
    UnknownKeyId,
)
from pipeline.sealing.keys import KeySet, new_keyset
from pipeline.sealing.seal import (
    JWE_REGISTRY,
    MAX_INFLATED_BYTES,
    MAX_TOKEN_BYTES,
    EncryptSpec,
    SealingPolicy,
    SignSpec,
    seal_event,
)
from sealing import ISSUER, policy_for

SECRET_MARKER = "4111-1111-1111-1111"  # a value in the payload that must never show up in an error
PAYMENT = {"paymentId": "pay_0001", "amount": {"value": 129999, "currency": "GBP"}, "pan": SECRET_MARKER}
NOW = 1_750_000_000


@pytest.fixture(scope="module")
def keys() -> KeySet:
    return new_keyset("consumer-test")


def kid(keys: KeySet, alg: str) -> str:
    return keys.kids_for(alg)[0]


def policy(keys: KeySet, sign: str = "HS256", encrypt: str | None = "dir", **extra: Any) -> SealingPolicy:
    return policy_for(keys, sign, encrypt, **extra)


def sealed_payment(keys: KeySet, sign: str = "HS256", encrypt: str | None = "dir", *, issued_at: int = NOW) -> dict:
    event = build_cloud_event(
        type="Payment.Authorised.Ecom", source=ISSUER, subject="Payment.Authorised.Ecom", data=PAYMENT
    )
    return seal_event(event, policy(keys, sign, encrypt), keys, issued_at=issued_at)


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def inner_of(sealed: dict, keys: KeySet) -> str:
    """The inner JWS of a sealed event (decrypted with the shared dir key)."""
    return jwe.decrypt_compact(
        sealed["data"], keys.decryption_key(kid(keys, "dir")), registry=JWE_REGISTRY
    ).plaintext.decode()


def rewrapped(sealed: dict, keys: KeySet, inner: str | bytes, **header: Any) -> dict:
    """The event with its token replaced by ``inner`` encrypted under the genuine dir key."""
    protected = {"alg": "dir", "enc": "A256GCM", "kid": kid(keys, "dir"), "cty": "JWT", "zip": "DEF", **header}
    protected = {k: v for k, v in protected.items() if v is not None}
    token = jwe.encrypt_compact(protected, inner, keys.encryption_key(kid(keys, "dir")), registry=JWE_REGISTRY)
    return {**sealed, "data": token}


def hs256_jws(header: dict, claims: dict, secret: bytes) -> str:
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature)}"


def claims_of(sealed: dict, keys: KeySet) -> dict:
    return json.loads(unb64(inner_of(sealed, keys).split(".")[1]))


def refused(error: type[EventRejected], sealed: dict, keys: KeySet, **options: Any) -> EventRejected:
    """Open ``sealed`` expecting ``error``; check it carries the event id; return it."""
    options.setdefault("now", NOW)
    with pytest.raises(error) as caught:
        open_event(sealed, keys, **options)
    assert isinstance(caught.value, EventRejected) and isinstance(caught.value, SealingError)
    assert caught.value.event_id == sealed.get("id")
    return caught.value


def test_genuine_event_opens(keys: KeySet) -> None:
    opened = open_event(sealed_payment(keys), keys, expected_issuer=ISSUER, now=NOW)
    assert opened.data == PAYMENT and opened.issued_at == NOW


# ---------------------------------------------------------------------------------------- outer layer


def test_tampered_ciphertext_fails_decryption(keys: KeySet) -> None:
    sealed = sealed_payment(keys)
    parts = sealed["data"].split(".")
    ciphertext = bytearray(unb64(parts[3]))
    ciphertext[10] ^= 0x01
    parts[3] = b64(bytes(ciphertext))
    refused(DecryptionFailed, {**sealed, "data": ".".join(parts)}, keys)


def test_tampered_auth_tag_fails_decryption(keys: KeySet) -> None:
    sealed = sealed_payment(keys)
    parts = sealed["data"].split(".")
    parts[4] = b64(bytes(16))
    refused(DecryptionFailed, {**sealed, "data": ".".join(parts)}, keys)


def test_tampered_protected_header_fails_decryption(keys: KeySet) -> None:
    # The header is the AEAD's associated data: dropping "zip" is detected even though it still parses.
    sealed = sealed_payment(keys)
    parts = sealed["data"].split(".")
    header = json.loads(unb64(parts[0]))
    del header["zip"]
    parts[0] = b64(json.dumps(header).encode())
    refused(DecryptionFailed, {**sealed, "data": ".".join(parts)}, keys)


def test_wrong_decryption_key_fails_decryption(keys: KeySet) -> None:
    sealed = sealed_payment(keys)
    impostor = OctKey.generate_key(256, parameters={"kid": kid(keys, "dir"), "alg": "dir", "use": "enc"})
    others = keys.select(*[k for k in keys if k != kid(keys, "dir")])
    error = refused(DecryptionFailed, sealed, others.merged(KeySet([impostor])))
    assert kid(keys, "dir") in str(error)


def test_wrong_ecdh_private_key_fails_decryption(keys: KeySet) -> None:
    sealed = sealed_payment(keys, "ES256", "ECDH-ES+A256KW")
    enc_kid = kid(keys, "ECDH-ES+A256KW")
    impostor = ECKey.generate_key("P-256", parameters={"kid": enc_kid, "alg": "ECDH-ES+A256KW", "use": "enc"})
    refused(DecryptionFailed, sealed, keys.select(*[k for k in keys if k != enc_kid]).merged(KeySet([impostor])))


def test_unknown_encryption_kid_is_refused(keys: KeySet) -> None:
    sealed = sealed_payment(keys)
    error = refused(UnknownKeyId, sealed, keys.select(*[k for k in keys if k != kid(keys, "dir")]))
    assert error.kid == kid(keys, "dir")


def test_public_half_cannot_decrypt(keys: KeySet) -> None:
    refused(UnknownKeyId, sealed_payment(keys, "ES256", "ECDH-ES+A256KW"), keys.public())


def test_jwe_algorithm_must_be_the_one_bound_to_its_kid(keys: KeySet) -> None:
    sealed = sealed_payment(keys)
    forged = rewrapped(sealed, keys, inner_of(sealed, keys))
    parts = forged["data"].split(".")
    header = json.loads(unb64(parts[0]))
    header["kid"] = kid(keys, "ECDH-ES+A256KW")  # "dir" with the ECDH key's kid
    parts[0] = b64(json.dumps(header).encode())
    error = refused(DisallowedAlgorithm, {**forged, "data": ".".join(parts)}, keys)
    assert error.alg == "dir"


@pytest.mark.parametrize(
    ("member", "value"),
    [("alg", "A256KW"), ("alg", "RSA1_5"), ("enc", "A128CBC-HS256"), ("zip", "GZIP"), ("alg", ["dir"]), ("zip", {})],
)
def test_jwe_algorithms_outside_the_allow_list_are_refused(keys: KeySet, member: str, value: str) -> None:
    sealed = sealed_payment(keys)
    parts = sealed["data"].split(".")
    header = json.loads(unb64(parts[0]))
    header[member] = value
    parts[0] = b64(json.dumps(header).encode())
    assert refused(DisallowedAlgorithm, {**sealed, "data": ".".join(parts)}, keys).alg == value


def test_jwe_without_cty_jwt_is_refused(keys: KeySet) -> None:
    sealed = sealed_payment(keys)
    refused(TamperedToken, rewrapped(sealed, keys, inner_of(sealed, keys), cty=None), keys)


@pytest.mark.parametrize("token", ["a.b.c.d", "not-a-token", "%%%.b.c.d.e", "eyJhbGciOiJkaXIifQ.....", "W10.a.b.c.d"])
def test_structurally_broken_tokens_are_tampered(keys: KeySet, token: str) -> None:
    refused(TamperedToken, {**sealed_payment(keys), "data": token}, keys)


def test_token_larger_than_an_eventbridge_entry_is_refused_before_any_crypto(keys: KeySet) -> None:
    sealed = sealed_payment(keys)
    parts = sealed["data"].split(".")
    parts[3] = "A" * MAX_TOKEN_BYTES
    refused(OversizedToken, {**sealed, "data": ".".join(parts)}, keys)


B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    position=st.integers(min_value=0),
    replacement=st.sampled_from(B64URL + ".="),
    encrypt=st.sampled_from(["dir", None]),
)
def test_any_single_character_change_is_refused_as_an_event_rejection(
    keys: KeySet, position: int, replacement: str, encrypt: str | None
) -> None:
    sealed = sealed_payment(keys, "ES256", encrypt)
    token = sealed["data"]
    position %= len(token)
    assume(token[position] != replacement)
    forged = {**sealed, "data": token[:position] + replacement + token[position + 1 :]}
    with pytest.raises(EventRejected):
        open_event(forged, keys, now=NOW)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    token=st.text(max_size=300) | st.from_regex(r"[A-Za-z0-9_\-]{0,40}(\.[A-Za-z0-9_\-]{0,40}){2,4}", fullmatch=True)
)
def test_arbitrary_tokens_are_refused_as_event_rejections(keys: KeySet, token: str) -> None:
    with pytest.raises(EventRejected):
        open_event({**sealed_payment(keys), "data": token}, keys, now=NOW)


# ---------------------------------------------------------------------------------------- compression


def test_compression_bomb_is_refused_while_inflating(keys: KeySet) -> None:
    sealed = sealed_payment(keys)
    bomb = b"A" * (64 * 1024 * 1024)  # 64 MiB of plaintext deflates to ~64 KB
    forged = rewrapped(sealed, keys, bomb)
    assert len(forged["data"]) < 100 * 1024  # a small token...
    error = refused(InflateLimitExceeded, forged, keys)  # ...that would inflate ~250x past the cap
    assert str(MAX_INFLATED_BYTES) in str(error)


def test_plaintext_exactly_at_the_inflate_cap_passes_the_inflate_step(keys: KeySet) -> None:
    sealed = sealed_payment(keys)
    refused(TamperedToken, rewrapped(sealed, keys, b"A" * MAX_INFLATED_BYTES), keys)  # not a JWS, but inflated
    refused(InflateLimitExceeded, rewrapped(sealed, keys, b"A" * (MAX_INFLATED_BYTES + 1)), keys)


class _TruncatingDeflate(JWEZipModel):
    name = "DEF"
    description = "DEFLATE, last bytes cut"

    def compress(self, s: bytes) -> bytes:
        compressor = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
        return (compressor.compress(s) + compressor.flush())[:-8]

    def decompress(self, s: bytes) -> bytes:  # pragma: no cover - only used to forge
        raise NotImplementedError


class _ForgingRegistry(JWERegistry):
    algorithms = {  # noqa: RUF012
        "alg": JWERegistry.algorithms["alg"],
        "enc": JWERegistry.algorithms["enc"],
        "zip": {"DEF": _TruncatingDeflate()},
    }


def test_truncated_deflate_stream_is_tampered(keys: KeySet) -> None:
    sealed = sealed_payment(keys)
    header = {"alg": "dir", "enc": "A256GCM", "kid": kid(keys, "dir"), "cty": "JWT", "zip": "DEF"}
    token = jwe.encrypt_compact(
        header,
        inner_of(sealed, keys),
        keys.encryption_key(kid(keys, "dir")),
        registry=_ForgingRegistry(algorithms=["dir", "A256GCM", "DEF"]),
    )
    refused(TamperedToken, {**sealed, "data": token}, keys)


# ---------------------------------------------------------------------------------------- inner layer


def test_modified_payload_under_a_genuine_outer_layer_fails_the_signature(keys: KeySet) -> None:
    sealed = sealed_payment(keys)
    header, payload, signature = inner_of(sealed, keys).split(".")
    claims = json.loads(unb64(payload))
    claims["data"]["amount"]["value"] = 1
    forged = rewrapped(sealed, keys, f"{header}.{b64(json.dumps(claims).encode())}.{signature}")
    refused(BadSignature, forged, keys)


@pytest.mark.parametrize("sign", ["ES256", "EdDSA", "RS256"])
def test_signature_by_another_private_key_fails(keys: KeySet, sign: str) -> None:
    impostors = new_keyset("impostor")
    sealed = sealed_payment(keys, sign, "dir")
    forged_source = seal_event(
        {**sealed, "data": PAYMENT, "datacontenttype": "application/json"},
        SealingPolicy(
            sign=SignSpec(sign, kid(impostors, sign)), encrypt=EncryptSpec("dir", kid(keys, "dir")), issuer=ISSUER
        ),
        impostors.select(kid(impostors, sign)).merged(keys.select(kid(keys, "dir"))),
        issued_at=NOW,
    )
    # keep the impostor's signature but claim the genuine signing kid
    _, payload, signature = inner_of(forged_source, keys).split(".")
    genuine_header = b64(json.dumps({"alg": sign, "kid": kid(keys, sign), "typ": "JWT"}).encode())
    refused(BadSignature, rewrapped(sealed, keys, f"{genuine_header}.{payload}.{signature}"), keys)


def test_wrong_hmac_key_fails_the_signature(keys: KeySet) -> None:
    sealed = sealed_payment(keys)
    hs_kid = kid(keys, "HS256")
    impostor = OctKey.generate_key(256, parameters={"kid": hs_kid, "alg": "HS256", "use": "sig"})
    refused(BadSignature, sealed, keys.select(*[k for k in keys if k != hs_kid]).merged(KeySet([impostor])))


def test_unknown_signing_kid_is_refused(keys: KeySet) -> None:
    sealed = sealed_payment(keys, "ES256", "dir")
    error = refused(UnknownKeyId, sealed, keys.select(*[k for k in keys if k != kid(keys, "ES256")]))
    assert error.kid == kid(keys, "ES256")


def test_alg_none_inner_token_is_refused(keys: KeySet) -> None:
    sealed = sealed_payment(keys)
    claims = claims_of(sealed, keys)
    unsigned = (
        f"{b64(json.dumps({'alg': 'none', 'kid': kid(keys, 'HS256')}).encode())}.{b64(json.dumps(claims).encode())}."
    )
    assert refused(DisallowedAlgorithm, rewrapped(sealed, keys, unsigned), keys).alg == "none"


@pytest.mark.parametrize("alg", [None, ["HS256"], {"alg": "HS256"}, 256])
def test_inner_alg_that_is_not_a_string_is_refused(keys: KeySet, alg: Any) -> None:
    sealed = sealed_payment(keys)
    _, payload, signature = inner_of(sealed, keys).split(".")
    forged_header = b64(json.dumps({"alg": alg, "kid": kid(keys, "HS256")}).encode())
    refused(DisallowedAlgorithm, rewrapped(sealed, keys, f"{forged_header}.{payload}.{signature}"), keys)


def test_alg_none_as_the_whole_token_is_refused(keys: KeySet) -> None:
    sealed = sealed_payment(keys)
    claims = claims_of(sealed, keys)
    unsigned = f"{b64(json.dumps({'alg': 'none'}).encode())}.{b64(json.dumps(claims).encode())}."
    refused(DisallowedAlgorithm, {**sealed, "data": unsigned}, keys)


@pytest.mark.parametrize("asymmetric", ["RS256", "ES256", "EdDSA"])
def test_hmac_signed_with_a_public_key_is_algorithm_confusion(keys: KeySet, asymmetric: str) -> None:
    # The classic attack: take the producer's *public* key (published in its JWKS), use its bytes as the
    # HS256 secret and name the asymmetric key's kid, hoping the verifier lets the token choose the algorithm.
    sealed = sealed_payment(keys, asymmetric, "dir")
    public_kid = kid(keys, asymmetric)
    public = keys.verification_key(public_kid)
    claims = claims_of(sealed, keys)
    for secret in (public.as_pem(private=False), json.dumps(public.as_dict(private=False)).encode()):
        forged = hs256_jws({"alg": "HS256", "kid": public_kid, "typ": "JWT"}, claims, secret)
        error = refused(DisallowedAlgorithm, rewrapped(sealed, keys, forged), keys)
        assert error.alg == "HS256" and asymmetric in str(error)


def test_hs256_token_naming_the_dir_key_is_refused(keys: KeySet) -> None:
    # A leaked/shared dir key must not double as a signing key.
    sealed = sealed_payment(keys)
    dir_kid = kid(keys, "dir")
    secret = keys.decryption_key(dir_kid).raw_value
    forged = hs256_jws({"alg": "HS256", "kid": dir_kid}, claims_of(sealed, keys), secret)
    refused(UnknownKeyId, rewrapped(sealed, keys, forged), keys)


@pytest.mark.parametrize("member", ["b64", "crit", "jwk", "jku"])
def test_inner_headers_that_change_verification_are_refused(keys: KeySet, member: str) -> None:
    sealed = sealed_payment(keys)
    secret = keys.verification_key(kid(keys, "HS256")).raw_value
    value: Any = {
        "b64": False,
        "crit": ["b64"],
        "jwk": {"kty": "oct", "k": "AAAA"},
        "jku": "https://evil.example/jwks",
    }[member]
    forged = hs256_jws({"alg": "HS256", "kid": kid(keys, "HS256"), member: value}, claims_of(sealed, keys), secret)
    refused(TamperedToken, rewrapped(sealed, keys, forged), keys)


def test_inner_token_that_is_not_a_jws_is_tampered(keys: KeySet) -> None:
    sealed = sealed_payment(keys)
    refused(TamperedToken, rewrapped(sealed, keys, "just.some.plain.text"), keys)


# ---------------------------------------------------------------------------------------- claims


def test_iat_in_the_future_beyond_leeway_is_refused(keys: KeySet) -> None:
    sealed = sealed_payment(keys, issued_at=NOW + 3600)
    assert refused(ClaimsRejected, sealed, keys, leeway=60).claim == "iat"


def test_iat_in_the_future_within_leeway_is_accepted(keys: KeySet) -> None:
    sealed = sealed_payment(keys, issued_at=NOW + 30)
    assert open_event(sealed, keys, leeway=60, now=NOW).data == PAYMENT


def test_token_older_than_max_age_is_refused(keys: KeySet) -> None:
    sealed = sealed_payment(keys, issued_at=NOW - 7200)
    assert refused(ClaimsRejected, sealed, keys, max_age=3600).claim == "iat"
    assert open_event(sealed, keys, now=NOW).data == PAYMENT  # no max_age: age is not checked


def test_token_within_max_age_is_accepted(keys: KeySet) -> None:
    sealed = sealed_payment(keys, issued_at=NOW - 3000)
    assert open_event(sealed, keys, max_age=3600, now=NOW).data == PAYMENT


def test_now_defaults_to_the_clock(keys: KeySet) -> None:
    sealed = sealed_payment(keys, issued_at=int(time.time()))
    assert open_event(sealed, keys, max_age=24 * 3600).data == PAYMENT


def test_unexpected_issuer_is_refused(keys: KeySet) -> None:
    assert refused(ClaimsRejected, sealed_payment(keys), keys, expected_issuer="urn:other").claim == "iss"


@pytest.mark.parametrize(
    ("attribute", "value", "claim"),
    [
        ("id", "01JZZZZZZZZZZZZZZZZZZZZZZZ", "jti"),
        ("type", "Payment.Refunded.Ecom", "type"),
        ("subject", "Payment.Refunded.Ecom", "sub"),
        ("idempotencykey", "0" * 32, "idempotencykey"),
    ],
)
def test_token_moved_under_other_clear_attributes_is_refused(
    keys: KeySet, attribute: str, value: str, claim: str
) -> None:
    moved = {**sealed_payment(keys), attribute: value}
    assert refused(ClaimsRejected, moved, keys).claim == claim


def test_content_hash_check_catches_a_producer_that_hashed_wrongly(keys: KeySet) -> None:
    event = build_cloud_event(type="Payment.Authorised.Ecom", source=ISSUER, data=PAYMENT).to_dict()
    event["idempotencykey"] = "f" * 32  # signed into the token as well, so only a recomputation notices
    sealed = seal_event(event, policy(keys), keys, issued_at=NOW)
    assert open_event(sealed, keys, now=NOW).data == PAYMENT
    assert refused(ClaimsRejected, sealed, keys, verify_content_hash=True).claim == "idempotencykey"


# ---------------------------------------------------------------------------------------- envelope


def test_unsealed_event_is_refused_by_default(keys: KeySet) -> None:
    plain = build_cloud_event(type="Payment.Authorised.Ecom", source=ISSUER, data=PAYMENT).to_dict()
    refused(MalformedEnvelope, plain, keys)


def test_unsealed_event_opens_when_allowed_and_its_hash_is_checked(keys: KeySet) -> None:
    plain = build_cloud_event(type="Order.Created.Uk", source=ISSUER, data={"orderId": "o-1"}).to_dict()
    opened = open_event(plain, keys, allow_unsealed=True, verify_content_hash=True)
    assert opened.data == {"orderId": "o-1"} and not opened.sealed and opened.signing_kid is None
    altered = {**plain, "data": {"orderId": "o-2"}}
    refused(ClaimsRejected, altered, keys, allow_unsealed=True, verify_content_hash=True)


def test_jwt_content_type_without_a_token_is_malformed_even_when_unsealed_is_allowed(keys: KeySet) -> None:
    sealed = {**sealed_payment(keys), "data": PAYMENT}
    refused(MalformedEnvelope, sealed, keys, allow_unsealed=True)


@pytest.mark.parametrize("missing", ["id", "type", "idempotencykey"])
def test_envelope_without_required_attributes_is_malformed(keys: KeySet, missing: str) -> None:
    sealed = sealed_payment(keys)
    del sealed[missing]
    with pytest.raises(MalformedEnvelope):
        open_event(sealed, keys, now=NOW)


def test_envelope_that_is_not_an_object_is_malformed(keys: KeySet) -> None:
    with pytest.raises(MalformedEnvelope):
        open_event(["not", "an", "event"], keys)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------- validation hook


def test_validator_gets_type_and_data(keys: KeySet) -> None:
    seen: list[tuple[str, Any]] = []
    open_event(sealed_payment(keys), keys, now=NOW, validate=lambda t, d: seen.append((t, d)))
    assert seen == [("Payment.Authorised.Ecom", PAYMENT)]


def test_validator_exception_becomes_payload_rejected_with_its_cause(keys: KeySet) -> None:
    def strict(event_type: str, data: Any) -> None:
        raise ValueError(f"amount {data['amount']['value']} too large")

    error = refused(PayloadRejected, sealed_payment(keys), keys, validate=strict)
    assert isinstance(error.__cause__, ValueError)
    assert "129999" not in str(error)


def test_validator_returning_false_rejects(keys: KeySet) -> None:
    refused(PayloadRejected, sealed_payment(keys), keys, validate=lambda t, d: False)


# ---------------------------------------------------------------------------------------- rotation


def test_rotation_old_and_new_kids_coexist_then_the_old_one_retires() -> None:
    old, new = new_keyset("2025-q1"), new_keyset("2025-q2")
    both = old.merged(new)
    before = seal_event(
        build_cloud_event(type="Order.Created.Uk", source=ISSUER, data={"orderId": "o-1"}),
        policy(old, "ES256", "ECDH-ES+A256KW"),
        old,
    )
    after = seal_event(
        build_cloud_event(type="Order.Created.Uk", source=ISSUER, data={"orderId": "o-2"}),
        policy(new, "ES256", "ECDH-ES+A256KW"),
        new,
    )
    assert open_event(before, both).data == {"orderId": "o-1"}
    assert open_event(after, both).data == {"orderId": "o-2"}
    with pytest.raises(UnknownKeyId):
        open_event(before, new)


# ---------------------------------------------------------------------------------------- no secrets leak


def _secret_strings(keys: KeySet) -> list[str]:
    secrets_: list[str] = []
    for jwk in keys.to_jwks(private=True)["keys"]:
        secrets_.extend(str(v) for k, v in jwk.items() if k in ("k", "d", "p", "q", "dp", "dq", "qi"))
    for k in keys:
        key = (
            keys.decryption_key(k)
            if keys.alg_of(k) in ("dir", "ECDH-ES+A256KW", "RSA-OAEP-256")
            else keys.signing_key(k)
        )
        if hasattr(key, "as_pem"):
            secrets_.extend(line for line in key.as_pem(private=True).decode().splitlines() if "-----" not in line)
        else:
            secrets_.append(key.raw_value.hex())
    return [s for s in secrets_ if len(s) >= 16]


FAILURES: dict[str, Callable[[KeySet], tuple[dict, KeySet, dict]]] = {
    "tampered ciphertext": lambda ks: (
        {
            **(s := sealed_payment(ks)),
            "data": s["data"][:-30] + ("A" if s["data"][-30] != "A" else "B") + s["data"][-29:],
        },
        ks,
        {},
    ),
    "wrong dir key": lambda ks: (
        sealed_payment(ks),
        ks.select(*[k for k in ks if k != kid(ks, "dir")]).merged(
            KeySet([OctKey.generate_key(256, parameters={"kid": kid(ks, "dir"), "alg": "dir", "use": "enc"})])
        ),
        {},
    ),
    "bad signature": lambda ks: (
        rewrapped(
            s := sealed_payment(ks),
            ks,
            inner_of(s, ks).rsplit(".", 1)[0] + "." + b64(bytes(32)),
        ),
        ks,
        {},
    ),
    "algorithm confusion": lambda ks: (
        rewrapped(
            s := sealed_payment(ks, "RS256", "dir"),
            ks,
            hs256_jws(
                {"alg": "HS256", "kid": kid(ks, "RS256")},
                claims_of(s, ks),
                ks.verification_key(kid(ks, "RS256")).as_pem(),
            ),
        ),
        ks,
        {},
    ),
    "future iat": lambda ks: (sealed_payment(ks, issued_at=NOW + 10_000), ks, {}),
    "moved subject": lambda ks: ({**sealed_payment(ks), "subject": "Other"}, ks, {}),
    "compression bomb": lambda ks: (rewrapped(sealed_payment(ks), ks, b"A" * (8 * 1024 * 1024)), ks, {}),
    "validator": lambda ks: (
        sealed_payment(ks),
        ks,
        {"validate": lambda t, d: (_ for _ in ()).throw(ValueError("no"))},
    ),
}


@pytest.mark.parametrize("failure", sorted(FAILURES))
def test_errors_and_logged_tracebacks_contain_no_key_material_or_payload(
    keys: KeySet, failure: str, caplog: pytest.LogCaptureFixture
) -> None:
    sealed, consumer_keys, options = FAILURES[failure](keys)
    with pytest.raises(EventRejected) as caught:
        open_event(sealed, consumer_keys, now=NOW, **options)
    logger = logging.getLogger("eventdeck.test.consumer")
    with caplog.at_level(logging.DEBUG):
        logger.exception("event rejected: %s", caught.value)
    texts = [str(caught.value), repr(caught.value), caplog.text]
    for secret in _secret_strings(keys) + _secret_strings(consumer_keys):
        assert not any(secret in text for text in texts), failure
    assert not any(SECRET_MARKER in text for text in texts)
    assert caught.value.event_id == sealed["id"] and sealed["id"] in str(caught.value)
