"""The fast seal/open paths: same tokens as joserfc's one-call API, same refusals, an opener's header cache that
never stands in for a key check, and encoders that accept exactly what the stdlib json module accepts."""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime
import decimal
import hashlib
import hmac
import json
import math
import threading
import zlib
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import given
from hypothesis import strategies as st
from joserfc import jwe, jws
from joserfc.jwk import ECKey
from joserfc.util import json_b64encode, urlsafe_b64decode

from pipeline.consumer import Opener, open_event
from pipeline.errors import (
    BadSignature,
    DecryptionFailed,
    DisallowedAlgorithm,
    NonCanonicalValue,
    TamperedToken,
    UnknownKeyId,
)
from pipeline.sealing import open as opening
from pipeline.sealing.keys import KeySet, new_keyset
from pipeline.sealing.seal import (
    JWE_REGISTRY,
    JWS_REGISTRY,
    Sealer,
    SealingPolicy,
    _claims_json,
    base64url_decode,
    base64url_encode,
    jwe_header,
    jws_header,
    seal,
)
from sealing import payment_event as shared_payment_event
from sealing import policy_for

PAYMENT = {"paymentId": "pay_0001", "amount": {"value": 129999, "currency": "GBP"}, "note": None}
NOW = 1_750_000_000


@pytest.fixture(scope="module")
def keys() -> KeySet:
    return new_keyset("fastpath")


def kid(keys: KeySet, alg: str) -> str:
    return keys.kids_for(alg)[0]


def policy(keys: KeySet, sign: str = "HS256", encrypt: str | None = "dir", *, compress: bool = True) -> SealingPolicy:
    return policy_for(keys, sign, encrypt, compress=compress)


def payment_event(data: Any = PAYMENT) -> dict[str, Any]:
    return shared_payment_event(data)


def sealed(keys: KeySet, sign: str = "HS256", encrypt: str | None = "dir", data: Any = PAYMENT) -> dict[str, Any]:
    event = payment_event(data)
    return {
        **event,
        "datacontenttype": "application/jwt",
        "data": Sealer(policy(keys, sign, encrypt), keys).seal(event, issued_at=NOW),
    }


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


# ---------------------------------------------------------------------------------------- same tokens


@pytest.mark.parametrize("encrypt", ["dir", "RSA-OAEP-256", "ECDH-ES+A256KW"])
@pytest.mark.parametrize("sign", ["HS256", "ES256", "EdDSA", "RS256"])
def test_header_segments_are_the_ones_joserfc_writes(keys: KeySet, sign: str, encrypt: str) -> None:
    pol = policy(keys, sign, encrypt)
    token = seal(payment_event(), pol, keys)
    outer = jwe.decrypt_compact(token, keys.decryption_key(kid(keys, encrypt)), registry=JWE_REGISTRY)
    inner_header = outer.plaintext.split(b".")[0]
    reference = jws.serialize_compact(jws_header(pol), b"{}", keys.signing_key(kid(keys, sign)), registry=JWS_REGISTRY)
    assert inner_header.decode() == reference.split(".")[0]
    jws.deserialize_compact(outer.plaintext, keys.verification_key(kid(keys, sign)), registry=JWS_REGISTRY)
    if encrypt != "ECDH-ES+A256KW":  # ECDH-ES adds a fresh "epk" to every header
        assert token.split(".")[0].encode() == json_b64encode(jwe_header(pol))  # type: ignore[arg-type]


def test_hs256_dir_token_is_the_reference_construction(keys: KeySet) -> None:
    # Recompute the token from its parts with bare primitives: same signature, and the ciphertext decrypts
    # under the header segment as associated data.
    pol = policy(keys, compress=False)
    token = seal(payment_event(), pol, keys, issued_at=NOW)
    header, encrypted_key, iv, ciphertext, tag = token.split(".")
    assert encrypted_key == ""
    dir_key = keys.decryption_key(kid(keys, "dir")).raw_value
    inner = AESGCM(dir_key).decrypt(
        urlsafe_b64decode(iv.encode()),
        urlsafe_b64decode(ciphertext.encode()) + urlsafe_b64decode(tag.encode()),
        header.encode(),
    )
    signing_input, signature = inner.rsplit(b".", 1)
    secret = keys.signing_key(kid(keys, "HS256")).raw_value
    assert hmac.compare_digest(
        urlsafe_b64decode(signature), hmac.new(secret, signing_input, hashlib.sha256).digest()
    )


def test_small_inputs_deflate_to_the_bytes_zlib_defaults_write(keys: KeySet) -> None:
    # The smaller deflate state used for event-sized inputs must cost nothing in size.
    zip_model = JWE_REGISTRY.get_zip("DEF")
    document = json.dumps({"items": [{"sku": f"SKU-{i:04d}", "qty": i % 3} for i in range(130)]}).encode()
    plaintext = base64.urlsafe_b64encode(document)
    assert 4096 < len(plaintext) < 8192 - 262
    reference = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    assert zip_model.compress(plaintext) == reference.compress(plaintext) + reference.flush()
    assert zip_model.decompress(zip_model.compress(plaintext * 20)) == plaintext * 20


def test_one_sealer_serves_many_threads(keys: KeySet) -> None:
    sealer = Sealer(policy(keys, "HS256", "RSA-OAEP-256"), keys)
    events = [payment_event({"n": n}) for n in range(40)]
    tokens: dict[int, str] = {}

    def work(n: int) -> None:
        tokens[n] = sealer.seal(events[n])

    threads = [threading.Thread(target=work, args=(n,)) for n in range(len(events))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for n, event in enumerate(events):
        assert open_event({**event, "datacontenttype": "application/jwt", "data": tokens[n]}, keys).data == {"n": n}


# ---------------------------------------------------------------------------------------- claims encoding


@dataclasses.dataclass
class Point:
    x: int


@pytest.mark.parametrize(
    "value",
    [
        math.nan,
        math.inf,
        -math.inf,
        {"nested": [1.0, math.nan]},
        datetime.datetime(2025, 6, 1, tzinfo=datetime.UTC),
        datetime.date(2025, 6, 1),
        Point(1),
        decimal.Decimal("1.5"),
        {1, 2},
        b"bytes",
        "\ud800",
    ],
    ids=repr,
)
def test_values_json_refuses_are_refused(keys: KeySet, value: Any) -> None:
    with pytest.raises(NonCanonicalValue):
        seal(payment_event({"value": value}), policy(keys), keys)


class Label(str):
    pass


@pytest.mark.parametrize(
    ("value", "opened"),
    [
        (None, None),
        (2**70, 2**70),
        (-(2**63) - 1, -(2**63) - 1),
        ({1: "a"}, {"1": "a"}),
        ((1, 2), [1, 2]),
        (Label("x"), "x"),
        (1e16, 1e16),
        ("null", "null"),
        ("12345678901234567890", "12345678901234567890"),
    ],
    ids=repr,
)
def test_values_json_writes_are_sealed_and_open_as_json_reads_them(keys: KeySet, value: Any, opened: Any) -> None:
    # The claims encoder writes what json writes; the envelope's canonical form is stricter (no integer keys), so
    # the value goes straight into the claims.
    event = {**payment_event({"value": None}), "data": {"value": value}}
    token = seal(event, policy(keys), keys)
    result = open_event({**event, "datacontenttype": "application/jwt", "data": token}, keys).data
    assert result == {"value": opened} and type(result["value"]) is type(opened)


JSONISH = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()  # NaN and ±Infinity included: json refuses them, orjson would write null
    | st.text(),
    lambda children: st.lists(children, max_size=4)
    | st.tuples(children, children)
    | st.dictionaries(st.text(max_size=6) | st.integers(), children, max_size=4),
    max_leaves=20,
)


def _exactly(value: Any) -> Any:
    """A JSON value with its types spelled out, so 1 == 1.0 == True cannot hide a difference."""
    if isinstance(value, dict):
        return {key: _exactly(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_exactly(item) for item in value]
    return (type(value).__name__, repr(value))


@given(JSONISH)
def test_claims_are_refused_exactly_when_json_refuses_them_and_read_back_the_same(value: Any) -> None:
    try:
        reference = json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()
    except (TypeError, ValueError):
        reference = None
    try:
        ours = _claims_json({"data": value}, "event-1")
    except NonCanonicalValue:
        ours = None
    assert (ours is None) == (reference is None)
    if ours is not None:
        assert _exactly(opening._loads(ours)) == _exactly(json.loads(b'{"data":' + reference + b"}"))


@given(JSONISH)
def test_documents_are_read_as_json_reads_them(value: Any) -> None:
    document = json.dumps(value).encode()  # NaN and Infinity written as json writes them
    assert _exactly(opening._loads(document)) == _exactly(json.loads(document))


# ---------------------------------------------------------------------------------------- base64url


ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def _reference_decode(segment: bytes) -> bytes | None:
    try:
        return urlsafe_b64decode(segment)
    except (ValueError, TypeError):
        return None


def _our_decode(segment: bytes) -> bytes | None:
    try:
        return base64url_decode(segment)
    except binascii.Error:
        return None


@given(st.text(alphabet=ALPHABET + "+/=.? \n\x00é", max_size=24).map(lambda text: text.encode()))
def test_base64url_decoding_accepts_exactly_what_joserfc_accepts(segment: bytes) -> None:
    assert _our_decode(segment) == _reference_decode(segment)


@given(st.binary(max_size=64))
def test_base64url_encoding_is_joserfcs(raw: bytes) -> None:
    encoded = base64url_encode(raw)
    assert encoded == base64.urlsafe_b64encode(raw).rstrip(b"=")
    assert base64url_decode(encoded) == raw


def test_non_canonical_trailing_bits_are_refused() -> None:
    assert base64url_decode(b"QQ") == b"A"
    for segment in (b"QR", b"QQ==", b"Q", b"QQ=", b"Q+", b"Q/"):
        with pytest.raises(binascii.Error):
            base64url_decode(segment)


# ---------------------------------------------------------------------------------------- header cache


def test_an_opener_remembers_the_headers_of_the_tokens_it_opened(keys: KeySet) -> None:
    opener = Opener(keys)
    assert opener.cache_size == 0
    for _ in range(3):
        assert opener.open(sealed(keys), now=NOW).data == PAYMENT
    assert opener.cache_size == 2  # one JWE and one JWS header segment, however many tokens carried them


def test_two_openers_share_nothing(keys: KeySet) -> None:
    event = sealed(keys, "ES256", "dir")
    warm = Opener(keys)
    assert warm.open(event, now=NOW).data == PAYMENT and warm.cache_size == 2
    # Openers over key sets without the dir key / the signing key: the other opener's cache vouches for nothing.
    without_dir = Opener(keys.select(*[k for k in keys if k != kid(keys, "dir")]))
    with pytest.raises(UnknownKeyId):
        without_dir.open(event, now=NOW)
    without_signer = Opener(keys.select(*[k for k in keys if k != kid(keys, "ES256")]))
    with pytest.raises(UnknownKeyId):
        without_signer.open(event, now=NOW)
    # Each remembers only what it checked itself: the second decrypted the outer layer before it was refused.
    assert (warm.cache_size, without_dir.cache_size, without_signer.cache_size) == (2, 0, 1)


def test_a_cached_header_is_still_checked_against_the_algorithm_its_kid_is_bound_to(keys: KeySet) -> None:
    event = sealed(keys)
    opener = Opener(keys)
    opener.open(event, now=NOW)
    # Another key set in which the token's dir kid names an ECDH-ES key: the cached "dir" header must not pass.
    impostor = ECKey.generate_key("P-256", parameters={"kid": kid(keys, "dir"), "alg": "ECDH-ES+A256KW"})
    rebound = Opener(keys.select(kid(keys, "HS256")).merged(KeySet([impostor])))
    with pytest.raises(DisallowedAlgorithm) as caught:
        rebound.open(event, now=NOW)
    assert caught.value.alg == "dir"


def test_a_header_enters_the_cache_only_once_the_token_decrypted_and_verified(keys: KeySet) -> None:
    event = sealed(keys)
    header = json.loads(urlsafe_b64decode(event["data"].split(".")[0].encode()))
    # The same header, written differently (a new segment), on a token that does not decrypt.
    respelled = b64(json.dumps(header, indent=1).encode())
    forged = {**event, "data": ".".join([respelled, *event["data"].split(".")[1:]])}
    opener = Opener(keys)
    with pytest.raises(DecryptionFailed):
        opener.open(forged, now=NOW)
    assert opener.cache_size == 0
    signed_only = sealed(keys, "HS256", None)
    header_segment, payload, _ = signed_only["data"].split(".")
    with pytest.raises(BadSignature):
        opener.open({**signed_only, "data": f"{header_segment}.{payload}.{b64(bytes(32))}"}, now=NOW)
    assert opener.cache_size == 0


def test_a_tampered_token_under_a_cached_header_is_still_refused(keys: KeySet) -> None:
    opener = Opener(keys)
    event = sealed(keys)
    opener.open(event, now=NOW)
    parts = event["data"].split(".")
    parts[3] = ("B" if parts[3][0] == "A" else "A") + parts[3][1:]
    with pytest.raises(DecryptionFailed):
        opener.open({**event, "data": ".".join(parts)}, now=NOW)
    signed_only = sealed(keys, "HS256", None)
    opener.open(signed_only, now=NOW)
    header, payload, _ = signed_only["data"].split(".")
    with pytest.raises(BadSignature):
        opener.open({**signed_only, "data": f"{header}.{payload}.{b64(bytes(32))}"}, now=NOW)


def test_ecdh_es_headers_are_not_cached(keys: KeySet) -> None:
    opener = Opener(keys)
    for _ in range(3):
        opener.open(sealed(keys, "ES256", "ECDH-ES+A256KW"), now=NOW)
    assert opener.cache_size == 1  # the inner JWS header; each JWE header carried its own ephemeral key


def test_the_cache_stays_bounded(keys: KeySet) -> None:
    # Distinct spellings of a genuine header, each on a genuine token: every one is authentic and cacheable.
    dir_key = keys.encryption_key(kid(keys, "dir"))
    event = sealed(keys)
    inner = jwe.decrypt_compact(event["data"], keys.decryption_key(kid(keys, "dir")), registry=JWE_REGISTRY).plaintext
    opener = Opener(keys)
    for n in range(opener.header_cache_limit + 10):
        header = {"alg": "dir", "enc": "A256GCM", "kid": kid(keys, "dir"), "cty": "JWT", "typ": "x" * n}
        token = jwe.encrypt_compact(header, inner, dir_key, registry=JWE_REGISTRY)
        assert opener.open({**event, "data": token}, now=NOW).data == PAYMENT
        assert opener.cache_size <= opener.header_cache_limit + 1  # the JWE headers, and the one JWS header


def test_an_opener_without_a_cache_opens_and_refuses_the_same(keys: KeySet) -> None:
    opener = Opener(keys, header_cache_limit=0)
    event = sealed(keys)
    for _ in range(2):
        assert opener.open(event, now=NOW).data == PAYMENT
    parts = event["data"].split(".")
    parts[3] = ("B" if parts[3][0] == "A" else "A") + parts[3][1:]
    with pytest.raises(DecryptionFailed):
        opener.open({**event, "data": ".".join(parts)}, now=NOW)
    assert opener.cache_size == 0


def test_one_opener_serves_many_threads(keys: KeySet) -> None:
    opener = Opener(keys, header_cache_limit=2)  # small: threads empty and refill it under each other
    sealers = [Sealer(policy(keys, sign, encrypt), keys) for sign, encrypt in
               [("HS256", "dir"), ("ES256", "RSA-OAEP-256"), ("EdDSA", None), ("HS256", "ECDH-ES+A256KW")]]
    events = [{**payment_event({"n": n})} for n in range(40)]
    tokens = [{**event, "datacontenttype": "application/jwt", "data": sealers[n % 4].seal(event)}
              for n, event in enumerate(events)]
    opened: dict[int, Any] = {}

    def work(n: int) -> None:
        opened[n] = opener.open(tokens[n]).data

    threads = [threading.Thread(target=work, args=(n,)) for n in range(len(tokens))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert opened == {n: {"n": n} for n in range(len(tokens))}


# ---------------------------------------------------------------------------------------- refusals kept


def test_dir_token_with_an_encrypted_key_is_tampered(keys: KeySet) -> None:
    event = sealed(keys)
    parts = event["data"].split(".")
    parts[1] = b64(bytes(32))
    with pytest.raises(TamperedToken):
        open_event({**event, "data": ".".join(parts)}, keys, now=NOW)


def test_rsa_oaep_cek_of_the_wrong_size_fails_like_any_wrong_key(keys: KeySet) -> None:
    event = sealed(keys, "HS256", "RSA-OAEP-256")
    parts = event["data"].split(".")
    public = keys.encryption_key(kid(keys, "RSA-OAEP-256")).public_key
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    parts[1] = b64(public.encrypt(bytes(16), oaep))  # a 128-bit CEK where A256GCM needs 256 bits
    with pytest.raises(DecryptionFailed):
        open_event({**event, "data": ".".join(parts)}, keys, now=NOW)


def test_short_auth_tag_is_tampered(keys: KeySet) -> None:
    event = sealed(keys)
    parts = event["data"].split(".")
    parts[4] = b64(urlsafe_b64decode(parts[4].encode())[:8])
    with pytest.raises(TamperedToken):
        open_event({**event, "data": ".".join(parts)}, keys, now=NOW)


def test_unknown_jwe_header_member_is_tampered_even_with_a_valid_tag(keys: KeySet) -> None:
    event = sealed(keys)
    inner = jwe.decrypt_compact(event["data"], keys.decryption_key(kid(keys, "dir")), registry=JWE_REGISTRY).plaintext
    header = {"alg": "dir", "enc": "A256GCM", "kid": kid(keys, "dir"), "cty": "JWT", "x-extra": 1}
    # joserfc refuses to write an unknown member, so encrypt by hand under that header.
    segment = b64(json.dumps(header).encode())
    iv = b"\x00" * 12
    sealed_bytes = AESGCM(keys.decryption_key(kid(keys, "dir")).raw_value).encrypt(iv, inner, segment.encode())
    token = ".".join([segment, "", b64(iv), b64(sealed_bytes[:-16]), b64(sealed_bytes[-16:])])
    with pytest.raises(TamperedToken):
        open_event({**event, "data": token}, keys, now=NOW)


def test_inner_alg_none_is_refused_even_when_its_kid_is_cached(keys: KeySet) -> None:
    event = sealed(keys, "HS256", None)
    opener = Opener(keys)
    opener.open(event, now=NOW)
    _, payload, _ = event["data"].split(".")
    unsigned = f"{b64(json.dumps({'alg': 'none', 'kid': kid(keys, 'HS256'), 'typ': 'JWT'}).encode())}.{payload}."
    with pytest.raises(DisallowedAlgorithm):
        opener.open({**event, "data": unsigned}, now=NOW)
