"""EventBridge pattern semantics for the operators eventdeck supports, and clear refusals for the rest."""

from __future__ import annotations

import pytest

from pipeline.patterns import PatternError, compile_pattern

EVENT = {
    "source": "com.retailer.payments.internal",
    "detail-type": "CardPaymentAuthorised",
    "detail": {"channel": "ecom", "amount": 12.5, "tags": ["a", "b"], "flag": False, "nothing": None},
}


@pytest.mark.parametrize("pattern", [
    {"source": ["com.retailer.payments.internal"]},
    {"source": ["other", "com.retailer.payments.internal"]},
    {"detail": {"channel": ["ecom"]}},
    {"detail-type": [{"prefix": "CardPayment"}]},
    {"detail-type": [{"suffix": "Authorised"}]},
    {"detail": {"tags": ["b"]}},
    {"detail": {"amount": [{"numeric": [">", 10, "<=", 12.5]}]}},
    {"detail": {"channel": [{"anything-but": ["pos", "phone"]}]}},
    {"detail": {"channel": [{"anything-but": {"prefix": "po"}}]}},
    {"detail": {"channel": [{"exists": True}]}},
    {"detail": {"missing": [{"exists": False}]}},
    {"detail": {"flag": [False]}},
    {"detail": {"nothing": [None]}},
    {"detail": {"amount": [12.5]}},
    {"$or": [{"source": ["nope"]}, {"detail": {"channel": ["ecom"]}}]},
    {"detail": {"$or": [{"channel": ["pos"]}, {"flag": [False]}]}},
])
def test_matching_patterns(pattern: dict) -> None:
    assert compile_pattern(pattern).matches(EVENT)


@pytest.mark.parametrize("pattern", [
    {"source": ["com.retailer.orders.internal"]},
    {"detail": {"channel": ["pos"]}},
    {"detail-type": [{"prefix": "Order"}]},
    {"detail": {"missing": ["x"]}},
    {"detail": {"channel": [{"exists": False}]}},
    {"detail": {"missing": [{"exists": True}]}},
    {"detail": {"amount": [{"numeric": [">", 20]}]}},
    {"detail": {"channel": [{"anything-but": "ecom"}]}},
    {"detail": {"flag": [0]}},
    {"detail": {"channel": {"nested": ["x"]}}},
    {"source": ["com.retailer.payments.internal"], "detail": {"channel": ["pos"]}},
    {"$or": [{"source": ["nope"]}, {"detail": {"channel": ["pos"]}}]},
    {"source": ["nope"], "$or": [{"detail-type": ["CardPaymentAuthorised"]}, {"detail": {"flag": [False]}}]},
])
def test_non_matching_patterns(pattern: dict) -> None:
    assert not compile_pattern(pattern).matches(EVENT)


@pytest.mark.parametrize(("pattern", "where"), [
    ({"source": "not-a-list"}, "/source"),
    ({"source": []}, "/source"),
    ({"detail": {"x": [{"wildcard": "a*"}]}}, "/detail/x/0"),
    ({"$or": [{"source": ["a"]}]}, "/$or"),
    ({"$and": [{"source": ["a"]}, {"source": ["b"]}]}, "/$and"),
    ({"detail": {"x": [{"numeric": ["~", 1]}]}}, "/detail/x/0"),
    ({}, ""),
])
def test_unsupported_or_malformed_patterns_are_refused_with_their_path(pattern: dict, where: str) -> None:
    with pytest.raises(PatternError) as caught:
        compile_pattern(pattern)
    assert caught.value.path == where
