"""Canonical JSON and the idempotency key: one form, stable everywhere, sensitive to every value."""

from __future__ import annotations

import json
import math
import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.envelope.canonical import (
    _reference_json,
    canonical_json,
    has_null_value,
    hash_algorithm_of,
    idempotency_key,
)
from pipeline.errors import NonCanonicalValue, SealingError

ROOT = Path(__file__).resolve().parent.parent

ORDER = {"orderId": "o-1", "total": {"value": 1999, "currency": "GBP"}, "lines": [{"sku": "A", "qty": 2}]}

# ----------------------------------------------------------------------------------------------- strategies

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=16,
)
json_objects = st.dictionaries(st.text(max_size=8), json_values, min_size=1, max_size=6)

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def reordered(value: Any, rng: random.Random) -> Any:
    """The same JSON value with every object's keys in a shuffled insertion order."""
    if isinstance(value, dict):
        items = list(value.items())
        rng.shuffle(items)
        return {k: reordered(v, rng) for k, v in items}
    if isinstance(value, list):
        return [reordered(v, rng) for v in value]
    return value


def source_text(value: Any, rng: random.Random) -> str:
    """A differently formatted source document for ``value``: indentation, spacing, escaping vary."""
    return json.dumps(
        reordered(value, rng),
        indent=rng.choice([None, 0, 2, "\t"]),
        separators=rng.choice([(",", ":"), (", ", ": "), (" ,", " : ")]),
        ensure_ascii=rng.choice([True, False]),
    )


# ----------------------------------------------------------------------------------------------- the form


def test_canonical_json_sorts_keys_and_drops_whitespace() -> None:
    assert canonical_json({"b": [1, 2.5, None, True], "a": "x", "c": {"z": 1, "y": 0}}) == (
        b'{"a":"x","b":[1,2.5,null,true],"c":{"y":0,"z":1}}'
    )


def test_canonical_json_writes_non_ascii_as_utf8() -> None:
    assert canonical_json({"name": "Zoë 支付"}) == '{"name":"Zoë 支付"}'.encode()


def test_integer_and_float_stay_distinct() -> None:
    assert canonical_json(1) != canonical_json(1.0)
    assert idempotency_key("T", {"v": 1}) != idempotency_key("T", {"v": 1.0})


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, {"nested": [1, math.nan]}])
def test_nan_and_infinity_are_refused(value: Any) -> None:
    with pytest.raises(NonCanonicalValue) as caught:
        canonical_json(value)
    assert isinstance(caught.value, SealingError) and isinstance(caught.value, ValueError)


@pytest.mark.parametrize("value", [{1, 2}, object(), {"when": b"bytes"}])
def test_values_json_cannot_represent_are_refused(value: Any) -> None:
    with pytest.raises(NonCanonicalValue):
        canonical_json(value)


# The fast encoder (orjson) must never change a byte of the form the stdlib encoder defines.
any_json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()  # beyond 64 bits too: orjson refuses those, the reference writes them
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from([1e-7, -1e-07, 1e-05, 0.00001234, 5e-324, 1e16, 1e-4, 0.0001, 123.0, -0.0, 2.0**64])
    | st.text()  # every code point hypothesis likes: controls, U+2028, astral planes
    | st.sampled_from(["null", "1e-7", "0.00001", "e-", "\x7f", "\u2028", "\"\\/"])
)
any_json_values = st.recursive(
    any_json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(any_json_values)
def test_fast_encoder_writes_exactly_the_reference_form(value: Any) -> None:
    try:
        expected = _reference_json(value)
    except NonCanonicalValue:  # e.g. a lone surrogate: both refuse
        with pytest.raises(NonCanonicalValue):
            canonical_json(value)
        return
    assert canonical_json(value) == expected


@pytest.mark.parametrize("value", [
    {"small": 1e-7}, {"tiny": 1e-05}, [0.00001234], {"big": 2**64}, {"neg": -(2**63) - 1}, {"nan": math.nan},
    {"inf": [math.inf]}, {"text": "1e-7 and null"}, {2: "non-string key"}, 1e-7, -1e-05, math.nan, None,
    {"id": "3f6c2a9e-8b1d-4c7a-9e2f-5a1b7c3d9e01", "n": [1.5e-8]},
    # Sorting by code point, not by UTF-16 unit: an astral key sorts after U+E000..U+FFFF.
    {"\U00010000": 1, "\uffff": 2, "\ue000": 3, "a": 4, "é": 5, "Z": 6},
])
def test_values_where_orjson_differs_take_the_reference_path(value: Any) -> None:
    try:
        expected = _reference_json(value)
    except NonCanonicalValue:
        with pytest.raises(NonCanonicalValue):
            canonical_json(value)
    else:
        assert canonical_json(value) == expected


@pytest.mark.parametrize(("text", "expected"), [
    (b"null", True), (b'{"a":null}', True), (b"[1,null]", True), (b'["null"]', False), (b'{"null":1}', False),
    (b'{"a":"x,null"}', True),  # looks like a value inside a string: only costs the slow path
    (b'{"a":1}', False),
])
def test_null_values_are_told_from_the_letters(text: bytes, expected: bool) -> None:
    assert has_null_value(text) is expected


# ----------------------------------------------------------------------------------------------- the key


def test_idempotency_key_is_md5_of_the_canonical_type_and_data() -> None:
    # Golden value: changing the canonical form (or the wrapping object) changes every stored key.
    assert idempotency_key("Order.Created.Uk", ORDER) == "2303fb8f55c58711362c5f3dfebf06dc"


def test_idempotency_key_can_use_sha256() -> None:
    key = idempotency_key("Order.Created.Uk", ORDER, "sha256")
    assert key == "6056040e9088c9c452298335cba34c7165e811ac4f2cef0231a8eaa5d265e4ef"
    assert hash_algorithm_of(key) == "sha256"
    assert hash_algorithm_of(idempotency_key("Order.Created.Uk", ORDER)) == "md5"


def test_unknown_hash_algorithm_is_refused() -> None:
    with pytest.raises(ValueError, match="sha1"):
        idempotency_key("T", {}, "sha1")  # type: ignore[arg-type]


def test_the_event_type_is_part_of_the_key() -> None:
    assert idempotency_key("Order.Created.Uk", ORDER) != idempotency_key("Order.Created.Fr", ORDER)


def test_key_is_identical_in_another_process_with_another_hash_seed() -> None:
    data = {f"k{i}": {"n": i, "s": "é" * (i % 3), "f": i / 7} for i in range(50)}
    shuffled = dict(reversed(list(data.items())))
    script = (
        "import json, sys; from pipeline.envelope.canonical import idempotency_key; "
        "print(idempotency_key('Payment.Authorised.Ecom', json.loads(sys.stdin.read())))"
    )
    keys = set()
    for seed in ("0", "12345"):
        result = subprocess.run(
            [sys.executable, "-c", script],
            input=json.dumps(shuffled),
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
            env={**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)},
        )
        keys.add(result.stdout.strip())
    assert keys == {idempotency_key("Payment.Authorised.Ecom", data)}


# ----------------------------------------------------------------------------------------------- properties


@FAST
@given(value=json_values, seed=st.integers(0, 2**32 - 1))
def test_key_ignores_key_order_and_whitespace_of_the_source_document(value: Any, seed: int) -> None:
    reparsed = json.loads(source_text(value, random.Random(seed)))
    assert canonical_json(reparsed) == canonical_json(value)
    assert idempotency_key("T.E.M", reparsed) == idempotency_key("T.E.M", value)


@FAST
@given(a=json_values, b=json_values)
def test_different_values_give_different_keys(a: Any, b: Any) -> None:
    if a == b:  # Python equality is looser than JSON's (1 == 1.0 == True), so only unequal pairs are tested
        return
    assert idempotency_key("T.E.M", a) != idempotency_key("T.E.M", b)


@st.composite
def object_and_single_change(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    """A JSON object and a deep copy of it with exactly one leaf replaced by a different value."""
    original = draw(json_objects)
    changed = json.loads(json.dumps(original))
    container: Any = changed
    while True:
        keys = list(container) if isinstance(container, dict) else list(range(len(container)))
        slot = draw(st.sampled_from(keys))
        child = container[slot]
        if isinstance(child, (dict, list)) and child and draw(st.booleans()):
            container = child
            continue
        new = draw(json_scalars.filter(lambda v, old=child: json.dumps(v) != json.dumps(old)))
        container[slot] = new
        return original, changed


@FAST
@given(pair=object_and_single_change())
def test_changing_any_single_value_changes_the_key(pair: tuple[dict[str, Any], dict[str, Any]]) -> None:
    original, changed = pair
    assert idempotency_key("T.E.M", original) != idempotency_key("T.E.M", changed)
