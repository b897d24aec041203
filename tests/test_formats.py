"""The format predicates the compiled validators use decide exactly as the shared jsonschema checker does."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.contract.formats import FORMAT_CHECKER, format_functions

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Strings near the formats with a fast path (a regex before the checker's parser): generated from the shape
# itself and from a looser one; every format also gets arbitrary text.
NEAR = {
    "uuid": st.from_regex(r"\A[0-9a-fA-FxX{}-]{30,40}\Z")
    | st.uuids().map(str)
    | st.uuids().map(lambda u: str(u).upper())
    | st.uuids().map(lambda u: "{" + str(u) + "}")
    | st.uuids().map(lambda u: u.hex),
    "date-time": st.from_regex(r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,3})?"
                               r"([Zz]|[+-][0-9]{2}:[0-9]{2})?\n?\Z")
    | st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
    "ipv4": st.from_regex(r"\A[0-9]{1,4}(\.[0-9]{1,4}){2,4}\Z") | st.ip_addresses(v=4).map(str),
}


@pytest.mark.parametrize("name", sorted(FORMAT_CHECKER.checkers))
@SETTINGS
@given(data=st.data())
def test_the_compiled_validators_format_verdict_is_the_checkers(name: str, data: st.DataObject) -> None:
    value = data.draw(NEAR.get(name, st.nothing()) | st.text(max_size=40))
    predicate = format_functions({"format": name})[name]
    assert predicate(value) == FORMAT_CHECKER.conforms(value, name)


@pytest.mark.parametrize(("name", "value", "expected"), [
    ("uuid", "3f6c2a9e-8b1d-4c7a-9e2f-5a1b7c3d9e01", True),
    ("uuid", "3f6c2a9e8b1d4c7a9e2f5a1b7c3d9e01", False),  # UUID() parses it, the hyphen rule refuses it
    ("ipv4", "203.0.113.7", True),
    ("ipv4", "203.0.113.07", False),  # leading zero
    ("ipv4", "256.0.0.1", False),
    ("date-time", "2026-03-14T10:15:02Z", True),
    ("date-time", "2026-02-30T10:15:02Z", False),
    ("date-time", "0000-01-01T00:00:00Z", False),
    ("date-time", "2024-02-29T23:59:59.5+01:00", True),  # leap day: the checker's calendar decides
    ("relative-json-pointer", "0/a", True),
    ("relative-json-pointer", "²0", False),  # a digit to str.isdigit(), not to int(): jsonschema's check crashed
])
def test_known_verdicts(name: str, value: str, expected: bool) -> None:
    assert format_functions({"format": name})[name](value) is expected
