"""A batch always completes: one hostile event among good ones becomes its own record, and every good one goes on.

Producer: each hostile internal event (a non-object detail, non-string keys, nesting deeper than any encoder goes,
NaN, lone surrogates, look-ups returning values JSON has no form for or too much of, a look-up that raises, ids and
times of the wrong type, mappings that fail) is a ``Failed`` record naming its stage, with the internal id where it
has one; a valid event whose numbers the fast JSON path cannot write (integers beyond 64 bits, nesting past
orjson's 254 levels) is published through the reference encoder, and a consumer reads it back exactly.

Consumer: each hostile CloudEvent (a dataschema that is an object, a list or a number, a type that is a list, data
that is a number, a token with non-ASCII characters, 10 MB strings, deep JSON in headers and in signed claims) is an
``EventRejected`` with the event id, and the good events around it open.
"""

from __future__ import annotations

import datetime
import decimal
import hashlib
import hmac
import json
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from joserfc import jwe

from pipeline.consumer import ContractOpener, OpenedEvent, Opener
from pipeline.contract import Catalogue, ContractLoader
from pipeline.errors import EventRejected
from pipeline.produce import Failed, Outcome, Producer, Published, Unrouted, required_keys
from pipeline.sealing.keys import KeySet, keyset_for
from pipeline.sealing.seal import JWE_REGISTRY

CONTRACT = """\
asyncapi: 3.0.0
info: {title: Notes, version: 1.0.0}
x-eventbridge: {bus: notes-bus, source: com.example.notes}
x-sealing: none
components:
  messages:
    Plain:
      name: Note.Written.Plain
      payload: {type: object}
      examples: [{name: small, payload: {text: hi, copied: 1}}]
      x-enrichment:
        from: {source: [com.example.internal]}
        patch: [{op: add, path: /copied, value: 1}]
    Sealed:
      name: Note.Written.Sealed
      payload: {type: object}
      examples: [{name: small, payload: {text: hi, copied: 1}}]
      x-sealing:
        sign: {alg: HS256, kid: notes-hmac}
        encrypt: {alg: dir, kid: notes-aes}
        issuer: urn:eventdeck:notes
      x-enrichment:
        from: {source: [com.example.internal]}
        patch: [{op: add, path: /copied, value: 1}]
    LookedUp:
      name: Note.LookedUp.Plain
      payload: {type: object}
      examples: [{name: small, payload: {text: hi, found: {}}}]
      x-enrichment:
        from: {source: [com.example.lookup]}
        lookups: [{name: found, callable: "test_batch_resilience:look_up"}]
        patch: [{op: copy, from: /_lookups/found, path: /found}]
    Flagged:
      name: Note.Flagged.Plain
      payload: {type: object}
      examples: [{name: small, payload: {flag: true}}]
      x-enrichment:
        from: {source: [com.example.flagged], detail: {flag: [true]}}
        patch: [{op: add, path: /flag, value: true}]
"""

PRODUCED = ("Note.Written.Plain", "Note.Written.Sealed")


def _circular() -> list[Any]:
    loop: list[Any] = []
    loop.append(loop)
    return loop


def _raises() -> Any:
    raise ConnectionError("merchant service unavailable")


# What the look-up answers, by the internal detail's "case": values no JSON parser makes, and too much of one.
LOOKUP_RESULTS: dict[str, Any] = {
    "good": lambda: {"name": "Zoë's Café"},
    "datetime": lambda: datetime.datetime(2026, 3, 14, tzinfo=datetime.UTC),
    "set": lambda: {1, 2},
    "bytes": lambda: b"\x00\xff",
    "decimal": lambda: decimal.Decimal("1.10"),
    "nan": lambda: float("nan"),
    "circular": _circular,
    "huge": lambda: {"blob": "x" * 300_000},
    "raises": _raises,
}


def look_up(detail: Mapping[str, Any]) -> Any:
    """The contract's callable look-up (``test_batch_resilience:look_up``)."""
    return LOOKUP_RESULTS[detail["case"]]()


def nested(depth: int) -> Any:
    value: Any = "leaf"
    for _ in range(depth):
        value = {"a": value}
    return value


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory: pytest.TempPathFactory) -> Catalogue:
    folder = tmp_path_factory.mktemp("notes")
    (folder / "notes.yaml").write_text(CONTRACT, encoding="utf-8")
    return ContractLoader().load([folder], strict=True)


@pytest.fixture(scope="module")
def keys(catalogue: Catalogue) -> KeySet:
    return keyset_for(required_keys(catalogue))


@pytest.fixture(scope="module")
def producer(catalogue: Catalogue, keys: KeySet) -> Producer:
    return Producer(catalogue, keys)


def internal(event_id: str, detail: Any, **fields: Any) -> dict[str, Any]:
    return {"version": "0", "id": event_id, "source": "com.example.internal", "detail-type": "NoteWritten",
            "time": "2026-03-14T10:15:03Z", "detail": detail, **fields}


GOOD_BEFORE = internal("good-1", {"text": "first"})
GOOD_AFTER = internal("good-2", {"text": "last"})
GOOD_LOOKUP = internal("good-3", {"case": "good"}, source="com.example.lookup")


def batch(producer: Producer, hostile: Any, **options: Any) -> tuple[list[Outcome], list[Outcome]]:
    """The hostile event between good ones: (the good events' outcomes, the hostile event's)."""
    events = [GOOD_BEFORE, GOOD_LOOKUP, hostile, GOOD_AFTER]
    outcomes = list(producer.process(events, **options))
    good = [o for o in outcomes if getattr(o, "internal_id", None) in ("good-1", "good-2", "good-3")]
    bad = [o for o in outcomes if o not in good]
    assert [(o.internal_id, o.event) for o in good if isinstance(o, Published)] == [
        ("good-1", PRODUCED[0]), ("good-1", PRODUCED[1]), ("good-3", "Note.LookedUp.Plain"),
        ("good-2", PRODUCED[0]), ("good-2", PRODUCED[1])], good
    return good, bad


def failed(outcomes: list[Outcome], internal_id: str | None, stage: str) -> list[Failed]:
    """Every outcome is a Failed record of ``stage`` naming ``internal_id``, with a reason of one bounded line."""
    assert outcomes and all(isinstance(o, Failed) for o in outcomes), outcomes
    records = [o for o in outcomes if isinstance(o, Failed)]
    for record in records:
        assert (record.internal_id, record.stage) == (internal_id, stage), record
        assert record.reason and len(record.reason) < 1000 and "\n" not in record.reason, record.reason
        if internal_id is not None:
            assert internal_id in record.reason, record.reason
    return records


# ---------------------------------------------------------------------------------------- producer: hostile events


class Exploding(Mapping[str, Any]):
    """A Python caller's mapping that fails as soon as it is read."""

    def __getitem__(self, key: str) -> Any:
        raise RuntimeError("a broken mapping")

    def __iter__(self) -> Iterator[str]:
        raise RuntimeError("a broken mapping")

    def __len__(self) -> int:
        return 1


@pytest.mark.parametrize(("name", "detail", "stage"), [
    ("detail not an object: a list", [1, 2], "input"),
    ("detail not an object: text", "text", "input"),
    ("detail missing", None, "input"),
    ("detail that cannot be read", Exploding(), "input"),  # routing reads it first
    ("an integer key", {1: "one"}, "seal"),
    ("a tuple key", {(1, 2): "pair"}, "seal"),
    ("a nested integer key", {"note": {2: "two"}}, "seal"),
    ("a key with a lone surrogate", {"\ud800": "x"}, "seal"),
    ("a text with a lone surrogate", {"text": "bad \udc80 text"}, "seal"),
    ("NaN", {"score": float("nan")}, "seal"),
    ("Infinity", {"score": float("inf")}, "seal"),
    ("nesting no encoder can write", nested(5_000), "seal"),
    ("an integer of 5,000 digits", {"n": 10**4999}, "seal"),
    ("a set", {"tags": {"a", "b"}}, "seal"),
    ("bytes", {"blob": b"\x00"}, "seal"),
    ("a datetime", {"at": datetime.datetime(2026, 3, 14, tzinfo=datetime.UTC)}, "seal"),
    ("a Decimal", {"amount": decimal.Decimal("1.10")}, "seal"),
    ("a 300 KB payload", {"text": "x" * 300_000}, "size"),
    ("a 10 MB payload", {"text": "x" * 10_000_000}, "size"),
], ids=lambda value: value if isinstance(value, str) and len(value) < 60 else "")
def test_a_hostile_detail_is_its_own_failed_record_and_the_batch_goes_on(
        producer: Producer, name: str, detail: Any, stage: str) -> None:
    _, bad = batch(producer, internal("hostile", detail))
    failed(bad, "hostile", stage)


def test_a_field_a_pattern_compares_nested_too_deeply_is_unrouted_and_the_batch_goes_on(producer: Producer) -> None:
    # EventBridge compares values at leaves: 5,000 levels of objects where the pattern wants `true` match nothing
    # (the engine walks no deeper than the pattern), so the event is unrouted, not a crash.
    good, bad = batch(producer, internal("hostile", {"flag": nested(5_000)}, source="com.example.flagged"))
    assert good and [type(outcome).__name__ for outcome in bad] == ["Unrouted"]
    assert "com.example.flagged" in bad[0].reason


@pytest.mark.parametrize("case", ["datetime", "set", "bytes", "decimal", "nan", "circular"])
def test_a_look_up_returning_what_json_cannot_write_is_a_failed_record(producer: Producer, case: str) -> None:
    _, bad = batch(producer, internal("hostile", {"case": case}, source="com.example.lookup"))
    (record,) = failed(bad, "hostile", "seal")
    assert record.event == "Note.LookedUp.Plain"


def test_a_look_up_returning_too_much_is_a_failed_record(producer: Producer) -> None:
    _, bad = batch(producer, internal("hostile", {"case": "huge"}, source="com.example.lookup"))
    failed(bad, "hostile", "size")


def test_a_look_up_that_raises_is_a_failed_record_naming_it(producer: Producer) -> None:
    _, bad = batch(producer, internal("hostile", {"case": "raises"}, source="com.example.lookup"))
    (record,) = failed(bad, "hostile", "enrich")
    assert "look-up 'found'" in record.reason and "merchant service unavailable" in record.reason


def test_canned_look_up_results_that_raise_or_are_not_an_object_are_failed_records(producer: Producer) -> None:
    def canned(event: Mapping[str, Any]) -> Any:
        if event["id"] == "hostile":
            raise KeyError("no canned results for this event")
        return None

    _, bad = batch(producer, internal("hostile", {"text": "x"}), lookup_results=canned)
    failed(bad, "hostile", "enrich")

    def not_an_object(event: Mapping[str, Any]) -> Any:
        return ["not", "an", "object"] if event["id"] == "hostile" else None

    hostile = internal("hostile", {"case": "good"}, source="com.example.lookup")
    outcomes = list(producer.process([hostile, GOOD_BEFORE], lookup_results=not_an_object))
    failed(outcomes[:1], "hostile", "enrich")
    assert [type(o) for o in outcomes[1:]] == [Published, Published]


@pytest.mark.parametrize("event_id", [{"nested": "id"}, ["id"], 42, 1.5, True],
                         ids=["object", "list", "integer", "float", "boolean"])
def test_an_id_that_is_not_text_is_a_failed_input_record(producer: Producer, event_id: Any) -> None:
    hostile = internal("placeholder", {"text": "x"}, id=event_id)
    _, bad = batch(producer, hostile)
    (record,) = failed(bad, None, "input")
    assert "'id'" in record.reason and record.internal_event is hostile


@pytest.mark.parametrize("event", [None, 42, "text", ["a", "list"], Exploding()],
                         ids=["None", "integer", "text", "list", "a failing mapping"])
def test_an_internal_event_that_is_not_an_object_is_a_failed_input_record(producer: Producer, event: Any) -> None:
    _, bad = batch(producer, event)
    (record,) = failed(bad, None, "input")
    assert record.internal_event is event


@pytest.mark.parametrize("source", [["com.example.internal"], {"prefix": "com"}, 42, 10**5000, "x" * 10_000_000],
                         ids=["list", "object", "number", "5,000 digits", "10 MB"])
def test_a_source_of_another_type_is_unrouted_with_a_bounded_reason(producer: Producer, source: Any) -> None:
    _, bad = batch(producer, internal("hostile", {"text": "x"}, source=source))
    (record,) = bad
    assert isinstance(record, Unrouted) and record.internal_id == "hostile" and len(record.reason) < 300


@pytest.mark.parametrize("time", [1710411303, {"at": "noon"}, ["2026-03-14T10:15:03Z"], "x" * 10_000_000,
                                  "2026-03-14T10:15:03\ud800Z"],
                         ids=["number", "object", "list", "10 MB", "lone surrogate"])
def test_a_time_that_is_no_time_falls_back_to_the_producers_clock(producer: Producer, time: Any) -> None:
    # Documented (tests/test_produce.py): the time is metadata; the ULID's instant is when the event was made.
    _, bad = batch(producer, internal("odd-time", {"text": "x"}, time=time))
    assert [type(o) for o in bad] == [Published, Published]
    assert all(o.cloud_event["time"].endswith("Z") and len(o.cloud_event["time"]) == 24 for o in bad)  # type: ignore[union-attr]
    assert len(producer._event_times) <= producer._event_times.max_entries
    assert "x" * 100 not in producer._event_times._texts  # a huge text is parsed, never kept


# ---------------------------------------------------------------------------------------- producer: exact numbers


@pytest.mark.parametrize("number", [2**64, 2**70, -(2**63) - 1, -(2**70), 10**300],
                         ids=["2**64", "2**70", "-2**63-1", "-2**70", "10**300"])
def test_integers_beyond_64_bits_are_published_and_read_back_exactly(
        producer: Producer, catalogue: Catalogue, keys: KeySet, number: int) -> None:
    hostile = internal("big", {"amount": number, "list": [number, {"deeper": number}]})
    _, bad = batch(producer, hostile)
    assert [type(o) for o in bad] == [Published, Published], bad
    opener = ContractOpener(catalogue, keys)
    for outcome in bad:
        assert isinstance(outcome, Published)
        cloud_event = json.loads(outcome.entry["Detail"])  # how a consumer (and `eventdeck open`) reads it
        opened = opener.open(cloud_event, verify_content_hash=True)  # the content hash holds: the same number
        assert opened.data == {"amount": number, "list": [number, {"deeper": number}], "copied": 1}
        assert type(opened.data["amount"]) is int


def test_nesting_past_the_fast_encoders_limit_is_published_and_read_back(
        producer: Producer, catalogue: Catalogue, keys: KeySet) -> None:
    deep = nested(300)  # orjson writes 254 levels; json, and every reader here, goes further
    _, bad = batch(producer, internal("deep", {"deep": deep}))
    assert [type(o) for o in bad] == [Published, Published], bad
    opener = ContractOpener(catalogue, keys)
    for outcome in bad:
        assert isinstance(outcome, Published)
        assert opener.open(json.loads(outcome.entry["Detail"]), verify_content_hash=True).data["deep"] == deep


# ---------------------------------------------------------------------------------------- consumer


def published(producer: Producer, *events: dict[str, Any]) -> list[dict[str, Any]]:
    outcomes = [o for o in producer.process(events) if isinstance(o, Published)]
    return [json.loads(o.entry["Detail"]) for o in outcomes]


def open_batch(opener: ContractOpener, events: list[Any]) -> list[OpenedEvent | EventRejected]:
    """What a consumer's batch loop does: open each event, record each refusal, go on. Any other exception is a
    bug: it escapes and fails the test."""
    results: list[OpenedEvent | EventRejected] = []
    for event in events:
        try:
            results.append(opener.open(event, verify_content_hash=True))
        except EventRejected as rejection:
            results.append(rejection)
    return results


def resealed_claims(event: dict[str, Any], keys: KeySet, claims_text: str) -> dict[str, Any]:
    """``event`` (HS256 -> dir) carrying ``claims_text`` as its claims, signed and encrypted with the real keys: what
    only a key holder (an insider, or a producer with a bug) can make."""
    import base64

    def b64(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    signing_input = f"{b64(json.dumps({'alg': 'HS256', 'kid': 'notes-hmac', 'typ': 'JWT'}).encode())}." \
                    f"{b64(claims_text.encode())}"
    signature = hmac.new(keys.verification_key("notes-hmac").get_op_key("verify"), signing_input.encode(),
                         hashlib.sha256).digest()
    header = {"alg": "dir", "enc": "A256GCM", "kid": "notes-aes", "cty": "JWT"}
    token = jwe.encrypt_compact(header, f"{signing_input}.{b64(signature)}", keys.encryption_key("notes-aes"),
                                registry=JWE_REGISTRY)
    return {**event, "data": token}


def claims_but(sealed: dict[str, Any], keys: KeySet, iat: str) -> str:
    """The claims text of ``sealed`` with ``iat`` written as the JSON text ``iat`` (a number json reads)."""
    import base64

    inner = jwe.decrypt_compact(sealed["data"], keys.decryption_key("notes-aes"), registry=JWE_REGISTRY).plaintext
    payload = inner.decode().split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["iat"] = "IAT"
    return json.dumps(claims).replace('"IAT"', iat)


def hostile_cloud_events(plain: dict[str, Any], sealed: dict[str, Any], keys: KeySet) -> dict[str, Any]:
    def deep_claims(depth: int) -> str:
        return json.dumps({"iss": "urn:eventdeck:notes", "iat": 1, "jti": sealed["id"]})[:-1] + \
            ',"data":' + "[" * depth + "]" * depth + "}"

    token = sealed["data"]
    rest = token.split(".", 1)[1]
    return {
        "dataschema is an object": {**sealed, "dataschema": {"$ref": "https://evil.example/lax.json"}},
        "dataschema is a list": {**plain, "dataschema": ["https://evil.example/lax.json"]},
        "dataschema is a number": {**sealed, "dataschema": 1},
        "type is a list": {**sealed, "type": [sealed["type"]]},
        "data is a number (sealed type)": {**sealed, "data": 42},
        "data is a number (jwt content type)": {**plain, "datacontenttype": "application/jwt", "data": 42},
        "source is an object": {**plain, "source": {"uri": "x"}},
        "source is null": {**sealed, "source": None},
        "specversion 0.3": {**plain, "specversion": "0.3"},
        "specversion is an object": {**sealed, "specversion": {}},
        "time is a number": {**plain, "time": 1710411303},
        "subject is a list": {**sealed, "subject": ["a"]},
        "datacontenttype is a list": {**plain, "datacontenttype": ["application/json"]},
        "token with non-ASCII": {**sealed, "data": token[:10] + "é" + token[11:]},
        "token with a lone surrogate": {**sealed, "data": token[:10] + "\ud800" + token[11:]},
        "10 MB token": {**sealed, "data": token + "A" * 10_000_000},
        "10 MB type": {**sealed, "type": "T" * 10_000_000},
        "10 MB dataschema": {**plain, "dataschema": "h" * 10_000_000},
        "10 MB idempotency key": {**plain, "idempotencykey": "k" * 10_000_000},
        "deep JSON header": {**sealed, "data": _b64_text("[" * 50_000 + "]" * 50_000) + "." + rest},
        "deep JSON in signed claims": resealed_claims(sealed, keys, deep_claims(5_000)),
        "iat of 400 digits in signed claims": resealed_claims(sealed, keys, claims_but(sealed, keys, "9" * 400)),
        "iat NaN in signed claims": resealed_claims(sealed, keys, claims_but(sealed, keys, "NaN")),
        "iat -Infinity in signed claims": resealed_claims(sealed, keys, claims_but(sealed, keys, "-Infinity")),
        "a header segment that is not JSON": {**sealed, "data": _b64_text("not json") + "." + rest},
        "a JSON list, not an event": [sealed],
        "no id": {k: v for k, v in sealed.items() if k != "id"},
    }


def _b64_text(text: str) -> str:
    import base64

    return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()


HOSTILE_CLOUD_EVENTS = [
    "dataschema is an object", "dataschema is a list", "dataschema is a number", "type is a list",
    "data is a number (sealed type)", "data is a number (jwt content type)", "source is an object",
    "source is null", "specversion 0.3", "specversion is an object",
    "time is a number", "subject is a list", "datacontenttype is a list", "token with non-ASCII",
    "token with a lone surrogate", "10 MB token", "10 MB type", "10 MB dataschema", "10 MB idempotency key",
    "deep JSON header", "deep JSON in signed claims", "iat of 400 digits in signed claims",
    "iat NaN in signed claims", "iat -Infinity in signed claims", "a header segment that is not JSON",
    "a JSON list, not an event", "no id",
]


@pytest.mark.parametrize("name", HOSTILE_CLOUD_EVENTS)
def test_a_hostile_cloud_event_is_rejected_with_its_id_and_the_batch_goes_on(
        producer: Producer, catalogue: Catalogue, keys: KeySet, name: str) -> None:
    plain, sealed = published(producer, internal("c-1", {"text": "for the consumer"}))
    good = published(producer, GOOD_BEFORE, GOOD_AFTER)
    hostile = hostile_cloud_events(plain, sealed, keys)[name]
    results = open_batch(ContractOpener(catalogue, keys), [good[0], good[1], hostile, good[2], good[3]])
    assert all(isinstance(r, OpenedEvent) for r in results[:2] + results[3:]), results
    rejection = results[2]
    assert isinstance(rejection, EventRejected), rejection
    event_id = hostile.get("id") if isinstance(hostile, dict) else None
    assert rejection.event_id == event_id
    assert len(rejection.message) < 1000
    if name.startswith("iat"):
        assert getattr(rejection, "claim", None) == "iat", rejection


@pytest.mark.parametrize("name", HOSTILE_CLOUD_EVENTS)
def test_an_opener_without_the_contract_rejects_the_same_events_with_their_ids(
        producer: Producer, keys: KeySet, name: str) -> None:
    plain, sealed = published(producer, internal("c-1", {"text": "for the consumer"}))
    hostile = hostile_cloud_events(plain, sealed, keys)[name]
    opener = Opener(keys)
    try:
        opened = opener.open(hostile, allow_unsealed=True, verify_content_hash=True)
    except EventRejected as rejection:
        event_id = hostile.get("id") if isinstance(hostile, dict) else None
        assert rejection.event_id == event_id
    else:  # without a contract, a plain event of a sealed type may open (allow_unsealed): its attributes are text
        assert all(isinstance(value, str | None) for value in (opened.source, opened.time, opened.dataschema))
