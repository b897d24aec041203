"""Whatever arrives as a CloudEvent, opening it either succeeds or raises an ``EventRejected`` carrying the event id.

Random bytes, random JSON and mutated genuine tokens (bit flips, truncation, swapped, duplicated and huge segments,
header members re-encoded with other values, claims re-signed with hostile values) go into every way of opening:
``open_event`` (with and without the contract), an ``Opener`` kept across events and a ``ContractOpener``. Nothing
else may come out: no TypeError, ValueError, KeyError, RecursionError, UnicodeError, OverflowError, ...

Bounded: a few hundred examples in all, a few seconds.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from joserfc import jwe

from pipeline.consumer import ContractOpener, Opener, open_event
from pipeline.contract import Catalogue
from pipeline.enrichment.samples import sample_inputs
from pipeline.errors import EventRejected
from pipeline.produce import Producer, Published, required_keys
from pipeline.sealing.keys import KeySet, keyset_for
from pipeline.sealing.seal import JWE_REGISTRY

FUZZ = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# The types of the example contract, one per sealing: HS256 -> dir +DEF, ES256 -> ECDH-ES+A256KW +DEF, plain JSON.
TYPES = ("Order.Created.Uk", "Payment.Authorised.Ecom", "Basket.Created.Eu")


@pytest.fixture(scope="module")
def keys(examples_catalogue: Catalogue) -> KeySet:
    return keyset_for(required_keys(examples_catalogue))


@pytest.fixture(scope="module")
def genuine(examples_catalogue: Catalogue, keys: KeySet) -> dict[str, dict[str, Any]]:
    """One published CloudEvent per type of the example contract, as the producer writes it."""
    producer = Producer(examples_catalogue, keys)
    inputs = sample_inputs(examples_catalogue)
    out: dict[str, dict[str, Any]] = {}
    for _, internal in inputs.events:
        for outcome in producer.process_one(internal, lookup_results=inputs.lookup_results):
            assert isinstance(outcome, Published), outcome
            out.setdefault(outcome.event, json.loads(outcome.entry["Detail"]))
    assert set(TYPES) <= set(out)
    return out


@pytest.fixture(scope="module")
def openers(examples_catalogue: Catalogue, keys: KeySet) -> list[Callable[[Any], Any]]:
    """Every way to open an event: the one-shot ``open_event`` and an ``Opener`` and a ``ContractOpener`` kept across
    the examples, as a consumer keeps them. (``open_event(..., contract=...)`` is a fresh ``ContractOpener``.)"""
    opener = Opener(keys)
    contract_opener = ContractOpener(examples_catalogue, keys)
    return [
        lambda event: open_event(event, keys, allow_unsealed=True, verify_content_hash=True),
        lambda event: opener.open(event, validate=lambda _type, _data: True),
        contract_opener.open,
    ]


def only_rejections(openers: list[Callable[[Any], Any]], event: Any) -> None:
    """Open ``event`` every way: it opens, or the refusal is an EventRejected naming the event's id."""
    event_id = event.get("id") if isinstance(event, dict) else None
    for open_ in openers:
        try:
            opened = open_(event)
        except EventRejected as rejection:
            if isinstance(event_id, str) and event_id:
                assert rejection.event_id == event_id, rejection
            assert len(rejection.message) < 2000, "a message quotes what it should only name"
            continue
        # Anything else propagates and fails the test with its traceback. What opened hands on text as text.
        for name in ("id", "type", "source", "subject", "time", "dataschema", "dataversion", "idempotency_key"):
            assert isinstance(getattr(opened, name), str | None), name


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
ENVELOPE_FIELDS = ["id", "type", "source", "subject", "time", "datacontenttype", "dataschema", "dataversion",
                   "idempotencykey", "data", "specversion"]
envelope_fields = st.sampled_from(ENVELOPE_FIELDS)


def nested(depth: int, leaf: Any = 1) -> str:
    return "[" * depth + json.dumps(leaf) + "]" * depth


class Shown:
    """A drawn value that hypothesis reports by name (a 10 MB string's repr would drown the report)."""

    def __init__(self, name: str, value: Any) -> None:
        self.name, self.value = name, value

    def __repr__(self) -> str:
        return self.name


def shown(value: Any) -> Shown:
    text = repr(value)
    return Shown(text if len(text) <= 80 else f"<{type(value).__name__} {text[:60]}...>", value)


# Values for one field: what a JSON parser can hand over, at sizes and depths no event has.
NAMED_HOSTILE_VALUES = [
    Shown("10**400", 10**400), Shown("-10**400", -(10**400)), Shown("nan", float("nan")), Shown("inf", float("inf")),
    Shown("lone surrogate", "\ud800"), Shown("non-ASCII", "é" * 10), Shown("10 MB text", "x" * 10_000_000),
    Shown("500 nested arrays", json.loads(nested(500))), Shown("a $ref", {"$ref": "https://evil.example/lax.json"}),
    Shown("a list", ["a", "b"]), Shown("0", 0), Shown("empty", ""), Shown("a dot", "."), Shown("dots", "...."),
    Shown("True", True), Shown("an object", {"a": 1}),
]
hostile_values = json_values.map(shown) | st.sampled_from(NAMED_HOSTILE_VALUES)

# JSON texts for a segment or the claims: deep, huge, odd or not JSON at all.
odd_documents = st.sampled_from([
    Shown("100,000 nested arrays", nested(100_000)), Shown("3,000 nested arrays", nested(3000)),
    Shown("995 nested arrays", nested(995)), Shown("5,000 open braces", "{" * 5000),
    Shown("2,000 open objects", '{"a":' * 2000), Shown("5,000 digits", "1" * 5000), Shown("[1e999]", "[1e999]"),
    Shown("NaN", "NaN"), Shown("duplicate alg", '{"alg":"dir","alg":"HS256"}'), Shown("lone surrogate", '"\\ud800"'),
    Shown("BOM", "\ufeff{}"), Shown("empty", ""), Shown("[]", "[]"), Shown("null", "null"), Shown("1", "1"),
])


# ---------------------------------------------------------------------------------------- whole events


@FUZZ
@given(event=json_values)
def test_any_json_value_as_the_event_is_only_ever_rejected(openers: list[Any], event: Any) -> None:
    only_rejections(openers, event)


def test_every_named_hostile_value_in_every_envelope_attribute_is_only_ever_rejected(
        openers: list[Any], genuine: dict[str, dict[str, Any]]) -> None:
    for kind in TYPES:
        for field in ENVELOPE_FIELDS:
            for hostile in NAMED_HOSTILE_VALUES:
                only_rejections(openers, {**genuine[kind], field: hostile.value})
            only_rejections(openers, {key: value for key, value in genuine[kind].items() if key != field})


@FUZZ
@given(kind=st.sampled_from(TYPES), field=envelope_fields, hostile=hostile_values)
def test_any_value_in_any_envelope_attribute_is_only_ever_rejected(
        openers: list[Any], genuine: dict[str, dict[str, Any]], kind: str, field: str, hostile: Shown) -> None:
    only_rejections(openers, {**genuine[kind], field: hostile.value})


# ---------------------------------------------------------------------------------------- tokens


@FUZZ
@given(kind=st.sampled_from(TYPES[:2]), raw=st.binary(max_size=400), dots=st.integers(0, 6))
def test_random_bytes_as_the_token_are_only_ever_rejected(
        openers: list[Any], genuine: dict[str, dict[str, Any]], kind: str, raw: bytes, dots: int) -> None:
    text = raw.decode("latin-1")
    step = max(1, len(text) // (dots + 1))
    token = ".".join(text[i:i + step] for i in range(0, len(text), step)) if dots else text
    only_rejections(openers, {**genuine[kind], "data": token})


@FUZZ
@given(kind=st.sampled_from(TYPES[:2]), position=st.integers(min_value=0), bit=st.integers(0, 7))
def test_a_flipped_bit_anywhere_in_a_token_is_only_ever_rejected(
        openers: list[Any], genuine: dict[str, dict[str, Any]], kind: str, position: int, bit: int) -> None:
    token = bytearray(genuine[kind]["data"].encode())
    token[position % len(token)] ^= 1 << bit
    only_rejections(openers, {**genuine[kind], "data": token.decode("latin-1")})


@FUZZ
@given(kind=st.sampled_from(TYPES[:2]), cut=st.integers(min_value=0), from_start=st.booleans())
def test_a_truncated_token_is_only_ever_rejected(
        openers: list[Any], genuine: dict[str, dict[str, Any]], kind: str, cut: int, from_start: bool) -> None:
    token = genuine[kind]["data"]
    cut %= len(token)
    only_rejections(openers, {**genuine[kind], "data": token[cut:] if from_start else token[:cut]})


@FUZZ
@given(kind=st.sampled_from(TYPES[:2]), data=st.data())
def test_segments_swapped_duplicated_dropped_or_inflated_are_only_ever_rejected(
        openers: list[Any], genuine: dict[str, dict[str, Any]], kind: str, data: st.DataObject) -> None:
    segments = genuine[kind]["data"].split(".")
    other = genuine[TYPES[1] if kind == TYPES[0] else TYPES[0]]["data"].split(".")
    operation = data.draw(st.sampled_from(["swap", "duplicate", "drop", "huge", "foreign", "shuffle"]))
    at = data.draw(st.integers(0, len(segments) - 1))
    if operation == "swap":
        to = data.draw(st.integers(0, len(segments) - 1))
        segments[at], segments[to] = segments[to], segments[at]
    elif operation == "duplicate":
        segments.insert(at, segments[at])
    elif operation == "drop":
        del segments[at]
    elif operation == "huge":
        segments[at] = data.draw(st.sampled_from(["A", "_", "eyJ"])) * data.draw(
            st.sampled_from([300, 70_000, 300_000, 3_000_000]))
    elif operation == "foreign":  # the same position of another type's token
        segments[at] = other[at % len(other)]
    else:
        segments = data.draw(st.permutations(segments))
    only_rejections(openers, {**genuine[kind], "data": ".".join(segments)})


@FUZZ
@given(kind=st.sampled_from(TYPES[:2]), member=st.sampled_from(["alg", "enc", "zip", "kid", "cty", "epk", "crit",
                                                              "typ", "b64", "jwk", "x5c", "p2c", "iv", "tag"]),
       hostile=hostile_values, drop=st.booleans())
def test_outer_header_edits_re_encoded_are_only_ever_rejected(
        openers: list[Any], genuine: dict[str, dict[str, Any]], kind: str, member: str, hostile: Shown,
        drop: bool) -> None:
    segments = genuine[kind]["data"].split(".")
    header = json.loads(unb64(segments[0]))
    if drop:
        header.pop(member, None)
    else:
        header[member] = hostile.value
    segments[0] = b64(json.dumps(header).encode())  # NaN as json writes it; a lone surrogate escaped
    only_rejections(openers, {**genuine[kind], "data": ".".join(segments)})


@FUZZ
@given(document=odd_documents, kind=st.sampled_from(TYPES[:2]), at=st.integers(0, 4))
def test_segments_of_deep_huge_or_odd_json_are_only_ever_rejected(
        openers: list[Any], genuine: dict[str, dict[str, Any]], document: Shown, kind: str, at: int) -> None:
    segments = genuine[kind]["data"].split(".")
    segments[at % len(segments)] = b64(document.value.encode("utf-8", "surrogatepass"))
    only_rejections(openers, {**genuine[kind], "data": ".".join(segments)})


# ---------------------------------------------------------------------------------------- past the crypto
# An insider on the bus holding the HS256 and dir keys (or a producer with a bug) can make tokens that decrypt and
# verify: what they carry must still be checked without an unexpected exception.


def resealed(event: dict[str, Any], keys: KeySet, *, header: dict[str, Any] | None = None,
             claims: Any = None, claims_text: str | None = None) -> dict[str, Any]:
    """``event`` (HS256 -> dir) with its inner JWS rebuilt from ``header`` and ``claims`` (or the exact
    ``claims_text``), signed and encrypted with the real keys."""
    dir_kid, hs_kid = keys.kids_for("dir")[0], keys.kids_for("HS256")[0]
    inner = jwe.decrypt_compact(event["data"], keys.decryption_key(dir_kid), registry=JWE_REGISTRY).plaintext
    protected = inner.decode().split(".")[0]
    header = json.loads(unb64(protected)) if header is None else header
    text = claims_text if claims_text is not None else json.dumps(claims, ensure_ascii=False)
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(text.encode('utf-8', 'surrogatepass'))}"
    secret = keys.verification_key(hs_kid).get_op_key("verify")
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    token = jwe.encrypt_compact(
        json.loads(unb64(event["data"].split(".")[0])), f"{signing_input}.{b64(signature)}".encode(),
        keys.encryption_key(dir_kid), registry=JWE_REGISTRY)
    return {**event, "data": token}


def genuine_claims(event: dict[str, Any], keys: KeySet) -> dict[str, Any]:
    dir_kid = keys.kids_for("dir")[0]
    inner = jwe.decrypt_compact(event["data"], keys.decryption_key(dir_kid), registry=JWE_REGISTRY).plaintext
    return json.loads(unb64(inner.decode().split(".")[1]))  # type: ignore[no-any-return]


def smaller(value: Any) -> Any:
    """``value``, or a 1,000-character text when it would make a token over the size cap (exercised above)."""
    return "x" * 1000 if isinstance(value, str) and len(value) > 100_000 else value


@FUZZ
@given(claim=st.sampled_from(["iss", "iat", "jti", "type", "sub", "idempotencykey", "data", "exp", "nbf"]),
       hostile=hostile_values, drop=st.booleans())
def test_signed_claims_with_hostile_values_are_only_ever_rejected(
        openers: list[Any], genuine: dict[str, dict[str, Any]], keys: KeySet, claim: str, hostile: Shown,
        drop: bool) -> None:
    event = genuine[TYPES[0]]
    claims = genuine_claims(event, keys)
    if drop:
        claims.pop(claim, None)
    else:
        claims[claim] = smaller(hostile.value)
    only_rejections(openers, resealed(event, keys, claims=claims))


claims_texts = odd_documents | st.sampled_from([
    Shown("iat of 5,000 digits", '{"iat":' + "9" * 5000 + "}"),
    Shown("iat of 400 digits", '{"iat":' + "9" * 400 + "}"), Shown("iat 1e999", '{"iat": 1e999}'),
    Shown("iat NaN", '{"iat": NaN}'), Shown("iat -Infinity", '{"iat": -Infinity}'),
    Shown("data 995 deep", '{"data":' + nested(995) + "}"),
]) | json_values.map(lambda value: shown(json.dumps(value)))


@FUZZ
@given(text=claims_texts)
def test_signed_claims_that_are_not_a_claims_object_are_only_ever_rejected(
        openers: list[Any], genuine: dict[str, dict[str, Any]], keys: KeySet, text: Shown) -> None:
    only_rejections(openers, resealed(genuine[TYPES[0]], keys, claims_text=text.value))


@FUZZ
@given(member=st.sampled_from(["alg", "kid", "typ", "crit", "b64", "jwk", "cty", "x5u"]), hostile=hostile_values)
def test_signed_inner_header_edits_are_only_ever_rejected(
        openers: list[Any], genuine: dict[str, dict[str, Any]], keys: KeySet, member: str, hostile: Shown) -> None:
    event = genuine[TYPES[0]]
    header = {"alg": "HS256", "kid": keys.kids_for("HS256")[0], "typ": "JWT", member: smaller(hostile.value)}
    only_rejections(openers, resealed(event, keys, header=header, claims=genuine_claims(event, keys)))
