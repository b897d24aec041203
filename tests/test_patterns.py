"""EventBridge pattern semantics, case by case, from the EventBridge user guide and event-ruler's documentation.

Each group cites where its cases come from. "EB guide" is the Amazon EventBridge User Guide
(docs.aws.amazon.com/eventbridge/latest/userguide/…); "ruler README" is github.com/aws/event-ruler README.md;
"JsonRuleCompiler" is event-ruler's src/main/software/amazon/event/ruler/JsonRuleCompiler.java (its validation
messages). Property-based comparisons with real delivery live in test_patterns_moto.py.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from pipeline.patterns import MAX_COMBINATIONS, PatternError, compile_pattern

# The example event of the ruler README ("Ruler by Example") and of EB guide content-filtering-with-event-patterns.
EC2_EVENT: dict[str, Any] = {
    "version": "0",
    "id": "ddddd4-aaaa-7777-4444-345dd43cc333",
    "detail-type": "EC2 Instance State-change Notification",
    "source": "aws.ec2",
    "account": "012345679012",
    "time": "2017-10-02T16:24:49Z",
    "region": "us-east-1",
    "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000"],
    "detail": {
        "c-count": 5,
        "d-count": 3,
        "x-limit": 301.8,
        "source-ip": "10.0.0.33",
        "instance-id": "i-000000aaaaaa00000",
        "state": "running",
    },
}


def with_detail(**detail: Any) -> dict[str, Any]:
    event = copy.deepcopy(EC2_EVENT)
    event["detail"] = detail
    return event


def check(pattern: dict[str, Any], event: dict[str, Any], expected: bool) -> None:
    assert compile_pattern(pattern).matches(event) is expected, (pattern, event)


# --- ruler README "Ruler by Example": simple, prefix, suffix, equals-ignore-case, wildcard, anything-but, numeric,
# --- IP address, exists, complex example. All of these match EC2_EVENT; each has a near miss that does not.
@pytest.mark.parametrize(("pattern", "expected"), [
    ({"detail-type": ["EC2 Instance State-change Notification"],
      "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000"],
      "detail": {"state": ["initializing", "running"]}}, True),
    ({"detail-type": ["EC2 Instance State-change Notification"], "detail": {"state": ["initializing"]}}, False),
    ({"time": [{"prefix": "2017-10-02"}]}, True),
    ({"time": [{"prefix": "2017-10-03"}]}, False),
    ({"source": [{"prefix": {"equals-ignore-case": "AWS.EC"}}]}, True),
    ({"source": [{"prefix": {"equals-ignore-case": "AWS.S3"}}]}, False),
    ({"source": [{"suffix": "ec2"}]}, True),
    ({"source": [{"suffix": "EC2"}]}, False),
    ({"source": [{"suffix": {"equals-ignore-case": "EC2"}}]}, True),
    ({"source": [{"suffix": {"equals-ignore-case": "S3"}}]}, False),
    ({"source": [{"equals-ignore-case": "AWS.EC2"}]}, True),
    ({"source": [{"equals-ignore-case": "AWS.EC"}]}, False),
    ({"detail-type": [{"wildcard": "EC2*State-change*"}]}, True),
    ({"detail-type": [{"wildcard": "EC2*State-change"}]}, False),
    ({"detail": {"state": [{"anything-but": "initializing"}]}}, True),
    ({"detail": {"state": [{"anything-but": "running"}]}}, False),
    ({"detail": {"x-limit": [{"anything-but": 123}]}}, True),
    ({"detail": {"x-limit": [{"anything-but": 301.8}]}}, False),
    ({"detail": {"state": [{"anything-but": ["stopped", "overloaded"]}]}}, True),
    ({"detail": {"state": [{"anything-but": ["stopped", "running"]}]}}, False),
    ({"detail": {"x-limit": [{"anything-but": [100, 200, 300]}]}}, True),
    ({"detail": {"x-limit": [{"anything-but": [100, 301.8]}]}}, False),
    ({"detail": {"state": [{"anything-but": {"prefix": "init"}}]}}, True),
    ({"detail": {"state": [{"anything-but": {"prefix": "run"}}]}}, False),
    ({"detail": {"state": [{"anything-but": {"prefix": ["init", "error"]}}]}}, True),
    ({"detail": {"state": [{"anything-but": {"prefix": ["init", "run"]}}]}}, False),
    ({"detail": {"instance-id": [{"anything-but": {"suffix": "1234"}}]}}, True),
    ({"detail": {"instance-id": [{"anything-but": {"suffix": "000"}}]}}, False),
    ({"detail": {"instance-id": [{"anything-but": {"suffix": ["1234", "6789"]}}]}}, True),
    ({"detail": {"state": [{"anything-but": {"equals-ignore-case": "Stopped"}}]}}, True),
    ({"detail": {"state": [{"anything-but": {"equals-ignore-case": "RUNNING"}}]}}, False),
    ({"detail": {"state": [{"anything-but": {"equals-ignore-case": ["Stopped", "OverLoaded"]}}]}}, True),
    ({"detail": {"state": [{"anything-but": {"wildcard": "*/bin/*.jar"}}]}}, True),
    ({"detail": {"state": [{"anything-but": {"wildcard": "r*g"}}]}}, False),
    ({"detail": {"state": [{"anything-but": {"wildcard": ["*/bin/*.jar", "*/bin/*.class"]}}]}}, True),
    ({"detail": {"c-count": [{"numeric": [">", 0, "<=", 5]}], "d-count": [{"numeric": ["<", 10]}],
                 "x-limit": [{"numeric": ["=", 3.018e2]}]}}, True),
    ({"detail": {"c-count": [{"numeric": [">", 0, "<", 5]}]}}, False),
    ({"detail": {"source-ip": [{"cidr": "10.0.0.0/24"}]}}, True),
    ({"detail": {"source-ip": [{"cidr": "10.0.1.0/24"}]}}, False),
    ({"detail": {"c-count": [{"exists": True}]}}, True),
    ({"detail": {"c-count": [{"exists": False}]}}, False),
    ({"time": [{"prefix": "2017-10-02"}],
      "detail": {"state": [{"anything-but": "initializing"}], "c-count": [{"numeric": [">", 0, "<=", 5]}],
                 "d-count": [{"numeric": ["<", 10]}], "x-limit": [{"anything-but": [100, 200, 300]}],
                 "source-ip": [{"cidr": "10.0.0.0/8"}]}}, True),
])
def test_ruler_readme_examples(pattern: dict[str, Any], expected: bool) -> None:
    check(pattern, EC2_EVENT, expected)


# --- EB guide eb-create-pattern-operators.html (the summary table of comparison operators), one row each.
@pytest.mark.parametrize(("pattern", "detail", "expected"), [
    ({"Location": ["New York"], "Day": ["Monday"]}, {"Location": "New York", "Day": "Monday"}, True),   # And
    ({"Location": ["New York"], "Day": ["Monday"]}, {"Location": "New York", "Day": "Sunday"}, False),
    ({"Region": [{"anything-but": {"prefix": "us-"}}]}, {"Region": "eu-west-1"}, True),
    ({"Region": [{"anything-but": {"prefix": "us-"}}]}, {"Region": "us-east-1"}, False),
    ({"FileName": [{"anything-but": {"suffix": ".png"}}]}, {"FileName": "a.jpg"}, True),
    ({"FileName": [{"anything-but": {"suffix": ".png"}}]}, {"FileName": "a.png"}, False),
    ({"state": [{"anything-but": {"equals-ignore-case": "initializing"}}]}, {"state": "INITIALIZING"}, False),
    ({"FilePath": [{"anything-but": {"wildcard": "*/lib/*"}}]}, {"FilePath": "/usr/bin/x"}, True),
    ({"FilePath": [{"anything-but": {"wildcard": "*/lib/*"}}]}, {"FilePath": "/usr/lib/x"}, False),
    ({"Region": [{"prefix": "us-"}]}, {"Region": "us-east-1"}, True),
    ({"service": [{"prefix": {"equals-ignore-case": "eventb"}}]}, {"service": "EventBridge"}, True),
    ({"LastName": [""]}, {"LastName": ""}, True),                                                       # Empty
    ({"LastName": [""]}, {"LastName": "Doe"}, False),
    ({"Name": ["Alice"]}, {"Name": "Alice"}, True),                                                     # Equals
    ({"Name": ["Alice"]}, {"Name": "alice"}, False),
    ({"Name": [{"equals-ignore-case": "alice"}]}, {"Name": "Alice"}, True),
    ({"FileName": [{"suffix": ".png"}]}, {"FileName": "a.png"}, True),
    ({"service": [{"suffix": {"equals-ignore-case": "tbridge"}}]}, {"service": "EventBridge"}, True),
    ({"ProductName": [{"exists": True}]}, {"ProductName": "x"}, True),                                  # Exists
    ({"ProductName": [{"exists": False}]}, {"Other": "x"}, True),                                       # Not exists
    ({"ProductName": [{"exists": False}]}, {"ProductName": "x"}, False),
    ({"Weather": ["Sunny", "Cloudy"]}, {"Weather": "Cloudy"}, True),                                    # Or
    ({"$or": [{"Location": ["New York"]}, {"Day": ["Monday"]}]}, {"Day": "Monday"}, True),              # Or (fields)
    ({"$or": [{"Location": ["New York"]}, {"Day": ["Monday"]}]}, {"Day": "Sunday"}, False),
    ({"UserID": [None]}, {"UserID": None}, True),                                                       # Null
    ({"UserID": [None]}, {"Other": None}, False),
    ({"source-ip": [{"cidr": "10.0.0.0/24"}]}, {"source-ip": "10.0.0.255"}, True),                      # IP address
    ({"source-ip": [{"cidr": "2001:db8::/32"}]}, {"source-ip": "2001:db8:ffff::1"}, True),
    ({"source-ip": [{"cidr": "2001:db8::/32"}]}, {"source-ip": "2001:db9::1"}, False),
    ({"source-ip": [{"cidr": "10.0.0.0/24"}]}, {"source-ip": "2001:db8::1"}, False),
    ({"c-count": [{"numeric": [">", 0, "<=", 5]}]}, {"c-count": 5}, True),                             # Numeric
    ({"c-count": [{"numeric": [">", 0, "<=", 5]}]}, {"c-count": 0}, False),
    ({"EventBusArn": [{"wildcard": "arn:aws:events:us-east-1:*:event-bus/*"}]},                         # Wildcard
     {"EventBusArn": "arn:aws:events:us-east-1:123456789012:event-bus/default"}, True),
    ({"EventBusArn": [{"wildcard": "arn:aws:events:us-east-1:*:event-bus/*"}]},
     {"EventBusArn": "arn:aws:events:eu-west-1:123456789012:event-bus/default"}, False),
])
def test_eventbridge_operator_table(pattern: dict[str, Any], detail: dict[str, Any], expected: bool) -> None:
    check({"detail": pattern}, with_detail(**detail), expected)


# --- EB guide eb-event-patterns-null-values.html: null and "" are not interchangeable; a missing field is neither.
@pytest.mark.parametrize(("pattern", "expected"), [
    ({"detail": {"eventVersion": [""]}}, True),
    ({"detail": {"responseElements": [None]}}, True),
    ({"detail": {"eventVersion": [None]}}, False),
    ({"detail": {"responseElements": [""]}}, False),
    ({"detail": {"missing": [None]}}, False),
    ({"detail": {"missing": [""]}}, False),
    ({"detail": {"responseElements": [{"exists": True}]}}, True),   # null is a value: the field exists
    ({"resources": [{"exists": True}]}, False),                     # an empty array holds no value
    ({"resources": [{"exists": False}]}, True),
])
def test_null_and_empty_string(pattern: dict[str, Any], expected: bool) -> None:
    event = with_detail(eventVersion="", responseElements=None)
    event["resources"] = []
    check(pattern, event, expected)


# --- EB guide eb-event-patterns-arrays.html: a field matches when the intersection of the pattern's and the
# --- event's arrays is non-empty.
def test_event_arrays_match_on_any_element() -> None:
    pattern = {"resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f",
                             "arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f"]}
    event = copy.deepcopy(EC2_EVENT)
    event["resources"] = ["arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:x",
                          "arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f"]
    check(pattern, event, True)
    event["resources"] = ["arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:x"]
    check(pattern, event, False)


# --- ruler README "JSON Array Matching": arrays of objects are flattened ("crushed out"), multi-level too, and
# --- rulesForJSONEvent's array consistency refuses leaves from different elements of one array.
EMPLOYEES = [{"firstName": "John", "lastName": "Doe"}, {"firstName": "Anna", "lastName": "Smith"},
             {"firstName": "Peter", "lastName": "Jones"}]


@pytest.mark.parametrize(("pattern", "employees", "expected"), [
    ({"employees": {"firstName": ["Anna"]}}, EMPLOYEES, True),
    ({"employees": {"firstName": ["Anna"]}}, [EMPLOYEES[:2], EMPLOYEES[2:]], True),      # multi-level arrays
    ({"employees": {"firstName": ["Anna"], "lastName": ["Jones"]}}, EMPLOYEES, False),   # array consistency
    ({"employees": {"firstName": ["Anna"], "lastName": ["Smith"]}}, EMPLOYEES, True),
    ({"employees": {"firstName": ["Anna"], "lastName": ["Jones"]}}, [EMPLOYEES[:2], EMPLOYEES[2:]], False),
    ({"employees": {"firstName": ["Anna"], "lastName": [{"exists": False}]}},           # absence is per element
     [{"firstName": "Anna"}, {"firstName": "John", "lastName": "Doe"}], True),
    ({"employees": {"firstName": ["Anna"], "lastName": [{"exists": False}]}}, EMPLOYEES, False),
    ({"employees": {"firstName": [{"prefix": "P"}], "lastName": [{"suffix": "es"}]}}, EMPLOYEES, True),
    ({"employees": {"firstName": [{"exists": True}]}}, [], False),
    ({"employees": {"firstName": [{"exists": False}]}}, [], True),
])
def test_arrays_of_objects(pattern: dict[str, Any], employees: list[Any], expected: bool) -> None:
    check({"detail": pattern}, with_detail(employees=employees), expected)


def test_array_consistency_spans_nested_arrays_and_or_branches() -> None:
    event = with_detail(orders=[{"lines": [{"sku": "A", "qty": 1}, {"sku": "B", "qty": 5}]},
                                {"lines": [{"sku": "A", "qty": 5}]}])
    check({"detail": {"orders": {"lines": {"sku": ["A"], "qty": [5]}}}}, event, True)   # second order's line
    event["detail"]["orders"].pop()
    check({"detail": {"orders": {"lines": {"sku": ["A"], "qty": [5]}}}}, event, False)
    check({"detail": {"orders": {"lines": {"$or": [{"sku": ["A"], "qty": [5]}, {"sku": ["B"]}]}}}}, event, True)
    check({"detail": {"orders": {"lines": {"sku": ["A"], "$or": [{"qty": [5]}, {"qty": [7]}]}}}}, event, False)


# --- ruler README "Exists matching": exists only works on leaf nodes.
@pytest.mark.parametrize(("c_count", "pattern", "expected"), [
    ({"c1": 100}, {"c-count": [{"exists": False}]}, True),    # an object is not a leaf
    ({"c1": 100}, {"c-count": [{"exists": True}]}, False),
    ({}, {"c-count": [{"exists": False}]}, True),
    ([1, 2], {"c-count": [{"exists": True}]}, True),
    ([[]], {"c-count": [{"exists": True}]}, False),
    ("x", {"c-count": {"c1": [{"exists": False}]}}, True),    # a scalar has no member c1
])
def test_exists_is_about_leaves(c_count: Any, pattern: dict[str, Any], expected: bool) -> None:
    check({"detail": pattern}, with_detail(**{"c-count": c_count}), expected)


# --- ruler README "$or" examples ("Normal Or", "Parallel Or", "Or has an And inside", "Nested Or and And").
CLOUDWATCH = {"source": "aws.cloudwatch", "metricName": "CPUUtilization", "namespace": "AWS/EC2",
              "metricType": "MetricType", "scope": "Service", "detail": {"source": "aws.cloudwatch"}}


@pytest.mark.parametrize(("pattern", "changes", "expected"), [
    ({"source": ["aws.cloudwatch"], "$or": [{"metricName": ["CPUUtilization", "ReadLatency"]},
                                            {"namespace": ["AWS/EC2", "AWS/ES"]}]}, {}, True),
    ({"source": ["aws.cloudwatch"], "$or": [{"metricName": ["ReadLatency"]}, {"namespace": ["AWS/ES"]}]}, {}, False),
    ({"$or": [{"metricName": ["CPUUtilization"]}, {"namespace": ["AWS/ES"]}],
      "detail": {"$or": [{"source": ["aws.cloudwatch"]}, {"detail-type": ["CloudWatch Alarm State Change"]}]}},
     {}, True),
    ({"$or": [{"metricName": ["CPUUtilization"]}, {"namespace": ["AWS/ES"]}],
      "detail": {"$or": [{"source": ["aws.s3"]}, {"detail-type": ["CloudWatch Alarm State Change"]}]}}, {}, False),
    ({"source": ["aws.cloudwatch"], "$or": [{"metricName": ["ReadLatency"]},
                                            {"metricType": ["MetricType"], "namespace": ["AWS/EC2", "AWS/ES"]},
                                            {"scope": ["Service"]}]}, {"scope": "Other"}, True),
    ({"source": ["aws.cloudwatch"], "$or": [{"metricName": ["ReadLatency"]},
                                            {"metricType": ["MetricType"], "namespace": ["AWS/EC2"],
                                             "$or": [{"metricId": [1234]}, {"spaceId": [1000]}]},
                                            {"scope": ["Service"]}]}, {"scope": "Other", "spaceId": 1000}, True),
    ({"source": ["aws.cloudwatch"], "$or": [{"metricName": ["ReadLatency"]},
                                            {"metricType": ["MetricType"], "namespace": ["AWS/EC2"],
                                             "$or": [{"metricId": [1234]}, {"spaceId": [1000]}]},
                                            {"scope": ["Service"]}]}, {"scope": "Other", "spaceId": 1}, False),
])
def test_or_relationships(pattern: dict[str, Any], changes: dict[str, Any], expected: bool) -> None:
    check(pattern, {**CLOUDWATCH, **changes}, expected)


# --- JSON values compare as JSON values (ruler README "JSON text matching"; JsonRuleCompiler adds a numeric
# --- equality matcher for every number, so 300 equals 3.0e2).
@pytest.mark.parametrize(("pattern_value", "event_value", "expected"), [
    (1, 1.0, True),
    (300, 3.0e2, True),
    (1, "1", False),
    ("1", 1, False),
    (True, "true", False),
    ("true", True, False),
    (True, 1, False),
    (1, True, False),
    (False, 0, False),
    (0, False, False),
    (None, "null", False),
    (None, False, False),
    (0, -0.0, True),
    (2 ** 53 + 1, float(2 ** 53), False),     # no silent float rounding
    (12345678901234, 12345678901234, True),   # an account number: beyond the numeric range, still an exact value
])
def test_values_compare_as_json_values(pattern_value: Any, event_value: Any, expected: bool) -> None:
    check({"detail": {"v": [pattern_value]}}, with_detail(v=event_value), expected)


# --- EB guide content filtering "Numeric matching": numbers only (not strings or booleans), within ±5.0e9,
# --- six decimal places (event-ruler ComparableNumber, commit 23e75a2 "respects precisions as documented").
@pytest.mark.parametrize(("range_", "value", "expected"), [
    ([">", 0], 1, True),
    ([">", 0], 0, False),
    ([">=", 0], 0, True),
    (["<", 0], -0.000001, True),
    (["<=", 5], 5.0, True),
    (["=", 5], 5.000000, True),
    (["=", 0.1], 0.1, True),
    ([">", 0, "<", 1], 0.999999, True),
    ([">", 0, "<", 1], 1, False),
    ([">=", -5e9, "<=", 5e9], 5e9, True),
    ([">", 0], 5000000001, False),       # out of EventBridge's numeric range: never compared
    ([">", 0], 0.0000001, False),        # seven decimals: not comparable
    ([">", 0], "5", False),
    ([">", 0], True, False),
    ([">", 0], None, False),
])
def test_numeric_ranges(range_: list[Any], value: Any, expected: bool) -> None:
    check({"detail": {"v": [{"numeric": range_}]}}, with_detail(v=value), expected)


# --- anything-but semantics (ruler README "Anything-but matching"; ByteMachine: every present value that did not
# --- hit the excluded set matches, whatever its type; an absent field never matches).
@pytest.mark.parametrize(("pattern", "value", "expected"), [
    ({"anything-but": "a"}, 5, True),
    ({"anything-but": "a"}, None, True),
    ({"anything-but": "a"}, True, True),
    ({"anything-but": [1, 2]}, "1", True),
    ({"anything-but": [1, 2]}, 1.0, False),
    ({"anything-but": [1, 2]}, True, True),
    ({"anything-but": {"prefix": "a"}}, 12, True),
    ({"anything-but": "a"}, ["a", "b"], True),     # any element that is not excluded
    ({"anything-but": "a"}, ["a"], False),
    ({"anything-but": "a"}, [], False),            # no value at all
])
def test_anything_but(pattern: dict[str, Any], value: Any, expected: bool) -> None:
    check({"detail": {"v": [pattern]}}, with_detail(v=value), expected)
    check({"detail": {"absent": [pattern]}}, with_detail(v=value), False)


# --- ruler README "Wildcard matching": zero or more characters, \* and \\ escapes.
@pytest.mark.parametrize(("glob", "value", "expected"), [
    ("Simple*Service", "SimpleService", True),
    ("Simple*Service", "Simple Queue Service", True),
    ("*", "", True),
    ("a*", "b", False),
    ("*.png", "x.png", True),
    ("a*b*c", "abc", True),
    ("a*b*c", "acb", False),
    ("a*aa", "aa", False),
    ("a*aa", "aaa", True),
    ("a\\*b", "a*b", True),
    ("a\\*b", "axb", False),
    ("a\\\\b", "a\\b", True),
    ("line*end", "line\nend", True),
])
def test_wildcards(glob: str, value: str, expected: bool) -> None:
    check({"detail": {"v": [{"wildcard": glob}]}}, with_detail(v=value), expected)
    check({"detail": {"v": [{"wildcard": glob}]}}, with_detail(v=7), False)


def test_equals_ignore_case_prefix_and_suffix_are_string_only_and_case_blind() -> None:
    check({"detail": {"v": [{"prefix": {"equals-ignore-case": "ÄB"}}]}}, with_detail(v="äbc"), True)
    check({"detail": {"v": [{"suffix": {"equals-ignore-case": ""}}]}}, with_detail(v="x"), True)
    check({"detail": {"v": [{"prefix": ""}]}}, with_detail(v=""), True)
    check({"detail": {"v": [{"prefix": "1"}]}}, with_detail(v=12), False)
    check({"detail": {"v": [{"equals-ignore-case": "TRUE"}]}}, with_detail(v=True), False)


def test_an_exact_ip_matches_the_same_address_written_differently() -> None:
    # JsonRuleCompiler turns a string that is an IP address into a one-address range (CIDR.ipToRangeIfPossible)
    check({"detail": {"ip": ["2001:db8::1"]}}, with_detail(ip="2001:0db8:0:0:0:0:0:1"), True)
    check({"detail": {"ip": ["2001:db8::1"]}}, with_detail(ip="2001:db8::2"), False)


def test_nested_objects_need_objects_in_the_event() -> None:
    check({"detail": {"state": {"name": ["running"]}}}, with_detail(state="running"), False)
    check({"detail": {"state": {"name": ["running"]}}}, with_detail(state={"name": "running"}), True)
    check({"detail": {"state": ["running"]}}, with_detail(state={"name": "running"}), False)


@pytest.mark.parametrize("event", [None, "event", 3, [EC2_EVENT], {"detail": None}, {"detail": [None, [[]]]}])
def test_any_json_event_is_answered_without_raising(event: Any) -> None:
    assert compile_pattern({"detail": {"state": [{"anything-but": "x"}]}}).matches(event) is False


def test_exactly_is_an_explicit_exact_string() -> None:
    # JsonRuleCompiler.processMatchExpression: {"exactly": "x"} is the exact match of the string "x"
    check({"source": [{"exactly": "aws.ec2"}]}, EC2_EVENT, True)
    check({"detail": {"c-count": [{"exactly": "5"}]}}, EC2_EVENT, False)


def test_dollar_prefixed_names_other_than_or_are_ordinary_fields() -> None:
    # event-ruler only reserves "$or"; a "$version" key is just a field name
    check({"detail": {"$version": ["2"]}}, with_detail(**{"$version": "2"}), True)


# --- Invalid patterns: JsonRuleCompiler's checks and messages (and EB guide limits), with where they point.
@pytest.mark.parametrize(("pattern", "where", "message"), [
    ({}, "", "Empty objects are not allowed"),
    ({"detail": {}}, "/detail", "Empty objects are not allowed"),
    ({"source": "aws.ec2"}, "/source", '"source" must be an object or an array'),
    ({"source": 1}, "/source", "must be an object or an array"),
    ({"source": []}, "/source", "Empty arrays are not allowed"),
    ({"source": [["a"]]}, "/source/0", "Match value must be String, number, true, false, or null"),
    ({"source": [{}]}, "/source/0", "Match expression name not found"),
    ({"source": [{"prefix": "a", "suffix": "b"}]}, "/source/0", "Only one key allowed in match expression"),
    ({"source": [{"contains": "a"}]}, "/source/0", "Unrecognized match type contains"),
    ({"source": [{"regex": "a.*"}]}, "/source/0", "Unrecognized match type regex"),
    ({"source": [{"exactly": 1}]}, "/source/0", "exact match pattern must be a string"),
    ({"$or": [{"date-after": ["a"]}, {"source": ["b"]}]}, "/$or/0/date-after", "reserved fieldName"),
    ({"source": [{"prefix": 1}]}, "/source/0", "prefix match pattern must be a string"),
    ({"source": [{"prefix": {"ignore-case": "a"}}]}, "/source/0", "Unsupported prefix pattern: ignore-case"),
    ({"source": [{"prefix": {"equals-ignore-case": 1}}]}, "/source/0",
     "equals-ignore-case match pattern must be a string"),
    ({"source": [{"suffix": None}]}, "/source/0", "suffix match pattern must be a string"),
    ({"source": [{"equals-ignore-case": ["a"]}]}, "/source/0", "equals-ignore-case match pattern must be a string"),
    ({"source": [{"exists": "true"}]}, "/source/0", "exists match pattern must be either true or false."),
    ({"source": [{"anything-but": None}]}, "/source/0", "must be an array or single string/number value"),
    ({"source": [{"anything-but": [None]}]}, "/source/0", "start|null|boolean is not supported"),
    ({"source": [{"anything-but": [True]}]}, "/source/0", "start|null|boolean is not supported"),
    ({"source": [{"anything-but": ["a", 1]}]}, "/source/0", "mixed type is not supported"),
    ({"source": [{"anything-but": []}]}, "/source/0", "mixed type is not supported"),
    ({"source": [{"anything-but": [{"prefix": "a"}]}]}, "/source/0", "start|null|boolean is not supported"),
    ({"source": [{"anything-but": {"contains": "a"}}]}, "/source/0", "Unsupported anything-but pattern: contains"),
    ({"source": [{"anything-but": {"prefix": ""}}]}, "/source/0", "Null prefix/suffix not allowed"),
    ({"source": [{"anything-but": {"suffix": [1]}}]}, "/source/0", "prefix/suffix match pattern must be a string"),
    ({"source": [{"anything-but": {"equals-ignore-case": 1}}]}, "/source/0", "number|start|null|boolean"),
    ({"source": [{"anything-but": {"wildcard": "a**"}}]}, "/source/0", "Consecutive wildcard characters"),
    ({"source": [{"anything-but": 5e10}]}, "/source/0", "Value must be between -5.0E9 and 5.0E9, inclusive"),
    ({"v": [{"numeric": 5}]}, "/v/0", "Value of numeric must be an array."),
    ({"v": [{"numeric": []}]}, "/v/0", "Invalid member in numeric match"),
    ({"v": [{"numeric": [5, ">"]}]}, "/v/0", "Invalid member in numeric match: 5"),
    ({"v": [{"numeric": ["~", 1]}]}, "/v/0", "Unrecognized numeric range operator: ~"),
    ({"v": [{"numeric": [">", "a"]}]}, "/v/0", "Value of > must be numeric"),
    ({"v": [{"numeric": ["=", True]}]}, "/v/0", "Value of equals must be numeric"),
    ({"v": [{"numeric": [">"]}]}, "/v/0", "Value of > must be numeric"),
    ({"v": [{"numeric": ["=", 1, "<", 2]}]}, "/v/0", "Too many elements in numeric expression"),
    ({"v": [{"numeric": ["<", 1, ">", 0]}]}, "/v/0", "Too many elements in numeric expression"),
    ({"v": [{"numeric": [">", 1, ">", 2]}]}, "/v/0", "Bad numeric range operator: >"),
    ({"v": [{"numeric": [">", 1, 2, 3]}]}, "/v/0", "Bad value in numeric range: 2"),
    ({"v": [{"numeric": [">", 1, "<", "x"]}]}, "/v/0", "Value of < must be numeric"),
    ({"v": [{"numeric": [">", 1, "<", 5, "x"]}]}, "/v/0", "Too many terms in numeric range expression"),
    ({"v": [{"numeric": [">", 5, "<", 5]}]}, "/v/0", "Bottom must be less than top"),
    ({"v": [{"numeric": [">", 6, "<", 5]}]}, "/v/0", "Bottom must be less than top"),
    ({"v": [{"numeric": [">", 5000000001]}]}, "/v/0", "Value must be between -5.0E9 and 5.0E9, inclusive"),
    ({"v": [{"numeric": [">", -5.1e9]}]}, "/v/0", "Value must be between -5.0E9 and 5.0E9, inclusive"),
    ({"v": [{"numeric": ["=", 0.1234567]}]}, "/v/0", "Only values upto 6 decimals are supported"),
    ({"v": [{"numeric": ["=", float("nan")]}]}, "/v/0", "Cannot compare number"),
    ({"v": [{"cidr": 10}]}, "/v/0", "prefix match pattern must be a string"),
    ({"v": [{"cidr": "10.0.0.0"}]}, "/v/0", "Malformed CIDR, one '/' required"),
    ({"v": [{"cidr": "10.0.0.0/x"}]}, "/v/0", "Malformed CIDR, mask bits must be an integer"),
    ({"v": [{"cidr": "10.0.0.0/-1"}]}, "/v/0", "mask bits must not be negative"),
    ({"v": [{"cidr": "10.0.0.0/32"}]}, "/v/0", "IPv4 mask bits must be < 32"),
    ({"v": [{"cidr": "::/128"}]}, "/v/0", "IPv6 mask bits must be < 128"),
    ({"v": [{"cidr": "example.com/8"}]}, "/v/0", "Invalid IP address: example.com"),
    ({"v": [{"cidr": "300.0.0.0/8"}]}, "/v/0", "Invalid IP address: 300.0.0.0"),
    ({"v": [{"wildcard": 1}]}, "/v/0", "wildcard match pattern must be a string"),
    ({"v": [{"wildcard": "a**b"}]}, "/v/0", "Consecutive wildcard characters at pos 2"),
    ({"v": [{"wildcard": "a\\b"}]}, "/v/0", "Invalid escape character at pos 2"),
    ({"v": [{"wildcard": "a\\"}]}, "/v/0", "Invalid escape character at pos 2"),
    ({"v": [{"wildcard": "*a" * 101}]}, "/v/0", "Rule is too complex"),
    ({"$or": [{"source": ["a"]}]}, "/$or", "There must have at least 2 Objects in $or relationship."),
    ({"$or": {"source": ["a"]}}, "/$or", "It must be an Array followed with $or."),
    ({"$or": [{"source": ["a"]}, "b"]}, "/$or/1", "Only JSON object is allowed in array of $or relationship."),
    ({"$or": [{"source": ["a"]}, {}]}, "/$or/1", "Empty objects are not allowed"),
    ({"$or": [{"prefix": ["a"]}, {"source": ["b"]}]}, "/$or/0/prefix", "reserved fieldName"),
    ({"$and": [{"source": ["a"]}, {"source": ["b"]}]}, "/$and/0", "Unrecognized match type source"),
    ({"a": {"b": ["x"]}, "a.b": ["y"]}, "/a.b", "Path `a.b` cannot be allowed multiple times"),
    ({"a": ["x"], "$or": [{"a": ["y"]}, {"b": ["z"]}]}, "/$or/0/a", "Path `a` cannot be allowed multiple times"),
    ({"d/x": {"y~": []}}, "/d~1x/y~0", "Empty arrays are not allowed"),
    ({1: ["a"]}, "", "field names are strings"),
])
def test_invalid_patterns_are_refused_with_their_path_and_eventbridges_reason(
        pattern: Any, where: str, message: str) -> None:
    with pytest.raises(PatternError) as caught:
        compile_pattern(pattern)
    assert caught.value.path == where
    assert message in str(caught.value)
    assert str(caught.value).startswith(f"event pattern at '{where or '/'}': ")


@pytest.mark.parametrize("pattern", [None, "source", ["source"], 3])
def test_a_pattern_must_be_an_object(pattern: Any) -> None:
    with pytest.raises(PatternError, match="Filter is not an object"):
        compile_pattern(pattern)


def test_or_combinations_are_capped() -> None:
    # each "$or" multiplies the alternatives event-ruler compiles; 4**5 = 1024 is over the cap
    group = [{"a": ["1"]}, {"b": ["2"]}, {"c": ["3"]}, {"d": ["4"]}]
    fine = {"x": {"$or": group}, "y": {"$or": group}, "z": {"$or": group}, "w": {"$or": group}}
    assert compile_pattern(fine).matches({"x": {"a": "1"}, "y": {"b": "2"}, "z": {"c": "3"}, "w": {"d": "4"}})
    with pytest.raises(PatternError, match=f"expand to 1024 combinations; EventBridge allows at most "
                                           f"{MAX_COMBINATIONS}"):
        compile_pattern({**fine, "v": {"$or": group}})


def test_a_hostile_or_nesting_is_refused_quickly() -> None:
    pattern: dict[str, Any] = {"s": ["x"]}
    for _ in range(60):  # 2**60 combinations described by 60 shared objects
        pattern = {"$or": [pattern, pattern]}
    with pytest.raises(PatternError, match="combinations"):
        compile_pattern(pattern)


def test_valid_edge_values_compile() -> None:
    for pattern in [
        {"v": [{"numeric": [">=", -5e9, "<=", 5e9]}]},
        {"v": [{"numeric": ["=", 0.000001]}]},
        {"v": [{"anything-but": {"prefix": []}}]},
        {"v": [{"cidr": "10.1.2.3/8"}]},           # host bits are masked, as event-ruler does
        {"v": [{"wildcard": "a\\*b\\\\c*"}]},
        {"v": [{"exists": True}, {"exists": False}]},
        {"v": [1e300, 12345678901234567890]},      # exact values need not be comparable numbers
    ]:
        compile_pattern(pattern)


# --- event-ruler src/test/software/amazon/event/ruler/GenericMachineTest.java, nestedArraysTest, with its data files
# --- src/test/data/arrayRule{1,2,3}.json and arrayEvent{1,2,3,4}.json (rulesForJSONEvent's expected results;
# --- arrayEvent1/2 abridged to the fields the rules read).
ARRAY_RULES = {
    "rule1": {"source": ["aws.cloudwatch"], "detail-type": ["CloudWatch Alarm State Change"],
              "detail": {"state": {"value": ["ALARM"]},
                         "configuration": {"metrics": {"metricStat": {"metric": {"namespace": ["AWS/EC2"]}}}}}},
    "rule2": {"source": ["aws.cloudwatch"], "detail-type": ["CloudWatch Alarm State Change"],
              "detail": {"state": {"value": ["ALARM"]},
                         "configuration": {"metrics": {"metricStat": {"metric": {"metricName": ["CPUUtilization"]}}}}}},
    "rule3": {"metrics": {"metricName": ["CPUUtilization"], "namespace": ["AWS/ES"]}},
}


def _alarm(*metrics: tuple[str, str]) -> dict[str, Any]:
    return {"source": "aws.cloudwatch", "detail-type": "CloudWatch Alarm State Change",
            "detail": {"state": {"value": "ALARM"}, "previousState": {"value": "OK"},
                       "configuration": {"metrics": [{"id": f"M{n}", "metricStat": {"metric": {
                           "metricName": name, "namespace": namespace}, "period": 60, "unit": None}}
                           for n, (name, namespace) in enumerate(metrics)] + [{"id": "E1", "expression": "M1"}]}}}


@pytest.mark.parametrize(("event", "expected"), [
    (_alarm(("CPUUtilization", "AWS/EC2")), {"rule1", "rule2"}),                                      # arrayEvent1
    (_alarm(("ConsumedReadCapacityUnits", "AWS/DynamoDB"), ("ProvisionedReadCapacityUnits", "AWS/DynamoDB")),
     set()),                                                                                           # arrayEvent2
    ({"metrics": [{"metricName": "CPUUtilization", "namespace": "AWS/EC2"},
                  {"metricName": "RequestCount", "namespace": "AWS/ES"}]}, set()),                     # arrayEvent3
    ({"metrics": [{"metricName": "CPUUtilization", "namespace": "AWS/ES"}]}, {"rule3"}),               # arrayEvent4
])
def test_ruler_nested_arrays(event: dict[str, Any], expected: set[str]) -> None:
    assert {name for name, rule in ARRAY_RULES.items() if compile_pattern(rule).matches(event)} == expected


# --- event-ruler ACMachineTest.testACWithExistFalseRule: exists:false is judged within the array element that
# --- satisfies the other fields (abridged to the fields the rules read).
def _task(state: str, provider: str, interface: str | None) -> dict[str, Any]:
    resource: dict[str, Any] = {"legacyFocusCategory": "XXXXXFocus", "endpointIdentifier": {"type": "XXXIdentifier"}}
    if interface is not None:
        resource["additionalContext"] = {"capabilityInterfaces": [{"interfaceName": interface}]}
    return {"taskInstanceId": "id1", "taskInstanceState": state, "provider": {"id": provider, "type": "XXXXXXXX"},
            "resources": [resource]}


def test_ruler_exists_false_inside_arrays() -> None:
    def rule(absent: str) -> dict[str, Any]:
        return {"requestContext": {"taskInstances": {
            "taskInstanceState": ["ACTIVE"], "provider": {"id": ["XXXXXXXXXXXX"]},
            "resources": {"additionalContext": {"capabilityInterfaces": {absent: [{"exists": False}]}}}}}}

    event1 = {"requestContext": {"taskInstances": [_task("ACTIVE", "XXXXXXXXXXXX", None),
                                                   _task("InACTIVE", "SomeRandom", "Dummy.DummyDumDum")]}}
    event2 = {"requestContext": {"taskInstances": [_task("ACTIVE", "XXXXXXXXXXXX", "XXXX.XXXXXXXXXXXXXX"),
                                                   _task("InACTIVE", "SomeRandom", "XXXX.XXXXXXXXXXXXXX")]}}
    r1, r2 = compile_pattern(rule("interfaceName")), compile_pattern(rule("abc"))
    assert (r1.matches(event1), r2.matches(event1)) == (True, True)
    assert (r1.matches(event2), r2.matches(event2)) == (False, True)


def test_array_consistency_stays_fast_on_large_arrays() -> None:
    # hostile input: the exact search is linear in the event, not combinatorial in its arrays
    pattern = compile_pattern({"detail": {"lines": {"sku": ["A"], "qty": [1], "x": [{"exists": False}]}}})
    lines = [{"sku": "A", "qty": 1, "x": 1} for _ in range(20_000)]
    assert not pattern.matches(with_detail(lines=lines))
    assert pattern.matches(with_detail(lines=[*lines, {"sku": "A", "qty": 1}]))
