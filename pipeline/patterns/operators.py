"""One field's array of values and operators, compiled into a single predicate on a leaf value.

A leaf is a JSON scalar (string, number, ``true``, ``false``, ``null``); values compare as JSON values: ``1``
equals ``1.0``, but not ``"1"`` or ``true``. The rules and error messages follow event-ruler's
``JsonRuleCompiler`` (the engine behind EventBridge), with the numeric range of EventBridge's documentation:
numbers in ``numeric`` and ``anything-but`` lie within ±5.0e9 and have at most six decimal places, and an event
number outside that range never satisfies a numeric comparison.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pipeline.patterns import wildcard
from pipeline.patterns.errors import PatternError

Test = Callable[[Any], bool]

FIVE_BILLION = 5_000_000_000
_SCALE = 1_000_000
_LIMIT = FIVE_BILLION * _SCALE
OPERATORS = frozenset({"prefix", "suffix", "equals-ignore-case", "anything-but", "numeric", "exists", "cidr",
                       "wildcard", "exactly"})
_IPV4 = re.compile(r"[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+")
_IPV6 = re.compile(r"[0-9a-fA-F:]*:[0-9a-fA-F:]*")


@dataclass(frozen=True)
class FieldSpec:
    """What one pattern field asks of the leaves at its path.

    ``test`` holds for a leaf that satisfies one of the array's alternatives; ``absent_ok`` says ``{"exists": false}``
    was among them (the field is also satisfied when no leaf exists at the path).
    """

    test: Test
    absent_ok: bool
    exact_strings: frozenset[str]
    only_exact_strings: bool


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def scaled(value: Any) -> int | None:
    """``value`` times 10**6 as an exact integer if it is a number EventBridge can compare (±5e9, ≤ 6 decimals)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value * _SCALE if -FIVE_BILLION <= value <= FIVE_BILLION else None
    if isinstance(value, float):
        if not -FIVE_BILLION <= value <= FIVE_BILLION:  # also false for NaN
            return None
        if value.is_integer():
            return int(value) * _SCALE
        shifted = Decimal(repr(value)).scaleb(6)  # repr is the shortest text that round-trips: the JSON text
        return int(shifted) if shifted == shifted.to_integral_value() else None
    return None


def _pattern_number(value: Any, path: str) -> int:
    """A number from a pattern, scaled; EventBridge's messages for one it cannot compare."""
    if isinstance(value, float) and not math.isfinite(value):
        raise PatternError(f"Cannot compare number : {value}", path)
    number = Decimal(value) if isinstance(value, int) else Decimal(repr(value))
    if number.normalize().as_tuple().exponent < -6:  # type: ignore[operator]
        raise PatternError("Only values upto 6 decimals are supported", path)
    shifted = int(number.scaleb(6))
    if not -_LIMIT <= shifted <= _LIMIT:
        raise PatternError("Value must be between -5.0E9 and 5.0E9, inclusive", path)
    return shifted


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    # event-ruler only treats strings shaped like addresses as IPs (no DNS names, no scoped IPv6)
    if not (_IPV4.fullmatch(text) or _IPV6.fullmatch(text)):
        return None
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def compile_field(values: Any, path: str) -> FieldSpec:
    """The predicate for a field's array (``["a", {"prefix": "b"}, {"exists": false}]``); alternatives are ORed."""
    if not isinstance(values, list):
        raise PatternError(f'"{path.rsplit("/", 1)[-1]}" must be an object or an array', path)
    if not values:
        raise PatternError("Empty arrays are not allowed", path)
    strings: set[str] = set()
    numbers: set[int | float] = set()
    literals: set[bool | None] = set()  # true, false, null
    addresses: set[ipaddress.IPv4Address | ipaddress.IPv6Address] = set()
    checks: list[Test] = []
    absent_ok = exists = False
    for index, item in enumerate(values):
        where = f"{path}/{index}"
        if isinstance(item, str):
            strings.add(item)
            address = _ip(item)
            if address is not None:
                addresses.add(address)
        elif item is None or isinstance(item, bool):
            literals.add(item)
        elif isinstance(item, int | float):
            if isinstance(item, float) and not math.isfinite(item):
                raise PatternError("Match value must be String, number, true, false, or null", where)
            numbers.add(item)
        elif isinstance(item, Mapping):
            name, argument = _single(item, where)
            if name == "exists":
                if not isinstance(argument, bool):
                    raise PatternError("exists match pattern must be either true or false.", where)
                if argument:
                    exists = True
                else:
                    absent_ok = True
                continue
            if name == "exactly":  # event-ruler's explicit exact string match, the same as a bare string
                strings.add(_string_argument("exact", argument, where))
                continue
            checks.append(_operator(name, argument, where))
        else:
            raise PatternError("Match value must be String, number, true, false, or null", where)
    return FieldSpec(_combine(strings, numbers, literals, addresses, checks, exists), absent_ok, frozenset(strings),
                     not (numbers or literals or addresses or checks or exists or absent_ok))


def _single(item: Mapping[Any, Any], path: str) -> tuple[str, Any]:
    if not item:
        raise PatternError("Match expression name not found", path)
    if len(item) != 1:
        raise PatternError("Only one key allowed in match expression", path)
    ((name, argument),) = item.items()
    if not isinstance(name, str) or name not in OPERATORS:
        raise PatternError(f"Unrecognized match type {name}", path)
    return name, argument


def _combine(strings: set[str], numbers: set[int | float], literals: set[bool | None],
             addresses: set[Any], checks: list[Test], exists: bool) -> Test:
    """One closure for the whole array, specialised for the common shapes (exact strings only, one operator)."""
    if exists:
        return lambda value: True  # any leaf satisfies {"exists": true}; the other alternatives cannot add to that
    frozen = frozenset(strings)
    if not (numbers or literals or addresses or checks):
        return lambda value: isinstance(value, str) and value in frozen
    if not (strings or numbers or literals or addresses) and len(checks) == 1:
        return checks[0]
    numeric = frozenset(numbers)
    has_true, has_false, has_null = True in literals, False in literals, None in literals
    ips = frozenset(addresses)
    rest = tuple(checks)

    def test(value: Any) -> bool:
        if isinstance(value, str):
            if value in frozen:
                return True
            if ips and _ip(value) in ips:  # "::1" is the address "0:0:0:0:0:0:0:1"
                return True
        elif value is None:
            if has_null:
                return True
        elif value is True:
            if has_true:
                return True
        elif value is False:
            if has_false:
                return True
        elif value in numeric:  # int/float only here: 1 == 1.0, and bools were handled above
            return True
        return any(check(value) for check in rest)

    return test


def _string_argument(name: str, argument: Any, path: str) -> str:
    if not isinstance(argument, str):
        raise PatternError(f"{name} match pattern must be a string", path)
    return argument


def _operator(name: str, argument: Any, path: str) -> Test:
    if name == "prefix":
        if isinstance(argument, Mapping):
            return _ignore_case_affix("prefix", argument, path)
        prefix = _string_argument("prefix", argument, path)
        return lambda value: isinstance(value, str) and value.startswith(prefix)
    if name == "suffix":
        if isinstance(argument, Mapping):
            return _ignore_case_affix("suffix", argument, path)
        suffix = _string_argument("suffix", argument, path)
        return lambda value: isinstance(value, str) and value.endswith(suffix)
    if name == "equals-ignore-case":
        folded = _string_argument("equals-ignore-case", argument, path).lower()
        return lambda value: isinstance(value, str) and value.lower() == folded
    if name == "wildcard":
        glob = wildcard.matcher(wildcard.parse(_string_argument("wildcard", argument, path), path))
        return lambda value: isinstance(value, str) and glob(value)
    if name == "numeric":
        return _numeric(argument, path)
    if name == "cidr":
        return _cidr(argument, path)
    return _anything_but(argument, path)


def _ignore_case_affix(name: str, argument: Mapping[Any, Any], path: str) -> Test:
    if not argument:
        raise PatternError(f"{name.capitalize()} expression name not found", path)
    if len(argument) != 1:
        raise PatternError("Only one key allowed in match expression", path)
    ((inner, text),) = argument.items()
    if inner != "equals-ignore-case":
        raise PatternError(f"Unsupported {name} pattern: {inner}", path)
    folded = _string_argument("equals-ignore-case", text, path).lower()
    size = len(folded)
    if name == "prefix":
        return lambda value: isinstance(value, str) and value[:size].lower() == folded
    if not size:
        return lambda value: isinstance(value, str)
    return lambda value: isinstance(value, str) and value[-size:].lower() == folded


_BOUNDS = {">": (False, True), ">=": (True, True), "<": (False, False), "<=": (True, False)}


def _numeric(argument: Any, path: str) -> Test:
    if not isinstance(argument, list):
        raise PatternError("Value of numeric must be an array.", path)
    if not argument or not isinstance(argument[0], str):
        raise PatternError(f"Invalid member in numeric match: {_shown(argument[0] if argument else ']')}", path)
    operator = argument[0]
    if operator not in ("=", *_BOUNDS):
        raise PatternError(f"Unrecognized numeric range operator: {operator}", path)
    if len(argument) < 2 or not is_number(argument[1]):
        raise PatternError(f"Value of {'equals' if operator == '=' else operator} must be numeric", path)
    first = _pattern_number(argument[1], path)
    if operator == "=":
        if len(argument) > 2:
            raise PatternError("Too many elements in numeric expression", path)
        return lambda value: scaled(value) == first
    low: int | None = None
    high: int | None = None
    low_inclusive = high_inclusive = False
    inclusive, is_lower = _BOUNDS[operator]
    if is_lower:
        low, low_inclusive = first, inclusive
    else:
        high, high_inclusive = first, inclusive
    if len(argument) > 2:
        if not is_lower:
            raise PatternError("Too many elements in numeric expression", path)
        second = argument[2]
        if not isinstance(second, str):
            raise PatternError(f"Bad value in numeric range: {_shown(second)}", path)
        if second not in ("<", "<="):
            raise PatternError(f"Bad numeric range operator: {second}", path)
        if len(argument) < 4 or not is_number(argument[3]):
            raise PatternError(f"Value of {second} must be numeric", path)
        if len(argument) > 4:
            raise PatternError("Too many terms in numeric range expression", path)
        high, high_inclusive = _pattern_number(argument[3], path), second == "<="
        assert low is not None
        if low >= high:
            raise PatternError("Bottom must be less than top", path)
    return _range(low, low_inclusive, high, high_inclusive)


def _range(low: int | None, low_inclusive: bool, high: int | None, high_inclusive: bool) -> Test:
    def test(value: Any) -> bool:
        number = scaled(value)
        if number is None:
            return False
        if low is not None and (number < low or (number == low and not low_inclusive)):
            return False
        return high is None or number < high or (number == high and high_inclusive)

    return test


def _cidr(argument: Any, path: str) -> Test:
    if not isinstance(argument, str):
        raise PatternError("prefix match pattern must be a string", path)  # sic: event-ruler's wording
    parts = argument.split("/")
    if len(parts) != 2:
        raise PatternError("Malformed CIDR, one '/' required", path)
    address_text, bits_text = parts
    try:
        bits = int(bits_text)
    except ValueError:
        raise PatternError("Malformed CIDR, mask bits must be an integer", path) from None
    if bits < 0:
        raise PatternError("Malformed CIDR, mask bits must not be negative", path)
    address = _ip(address_text)
    if address is None:
        raise PatternError(f"Invalid IP address: {address_text}", path)
    # event-ruler refuses a full-length mask (/32, /128): a single address is written as an exact value instead
    if address.version == 4 and bits > 31:
        raise PatternError("IPv4 mask bits must be < 32", path)
    if address.version == 6 and bits > 127:
        raise PatternError("IPv6 mask bits must be < 128", path)
    network = ipaddress.ip_network(f"{address}/{bits}", strict=False)  # host bits are masked, as event-ruler does

    def test(value: Any) -> bool:
        if not isinstance(value, str):
            return False
        candidate = _ip(value)
        return candidate is not None and candidate.version == network.version and candidate in network

    return test


def _anything_but(argument: Any, path: str) -> Test:
    """``anything-but``: a present value that is none of the excluded ones — of any type (a number is "anything but
    a string"), as event-ruler matches every value that did not hit the excluded set."""
    if isinstance(argument, Mapping):
        return _anything_but_set(argument, path)
    if isinstance(argument, list):
        has_string = any(isinstance(v, str) for v in argument)
        has_number = any(is_number(v) for v in argument)
        for item in argument:
            if not (isinstance(item, str) or is_number(item)):
                raise PatternError("Inside anything but list, start|null|boolean is not supported.", path)
            if is_number(item):
                _pattern_number(item, path)
        if has_string == has_number:
            raise PatternError("Inside anything but list, either all values are number or string, mixed type is not "
                               "supported", path)
        excluded = argument
    elif isinstance(argument, str):
        excluded = [argument]
    elif is_number(argument):
        _pattern_number(argument, path)
        excluded = [argument]
    else:
        raise PatternError("Value of anything-but must be an array or single string/number value.", path)
    if isinstance(excluded[0], str):
        strings = frozenset(excluded)
        return lambda value: not (isinstance(value, str) and value in strings)
    numbers = frozenset(excluded)
    return lambda value: not (is_number(value) and value in numbers)


def _anything_but_set(argument: Mapping[Any, Any], path: str) -> Test:
    if not argument:
        raise PatternError("Anything-But expression name not found", path)
    name = next(iter(argument))
    if name not in ("prefix", "suffix", "equals-ignore-case", "wildcard"):
        raise PatternError(f"Unsupported anything-but pattern: {name}", path)
    if len(argument) != 1:
        raise PatternError("Too many elements in numeric expression", path)  # sic: event-ruler's wording
    texts = argument[name]
    if isinstance(texts, str) or is_number(texts):  # a number passes event-ruler's type gate, then fails below
        texts = [texts]
    elif not isinstance(texts, list):
        raise PatternError("Value of anything-but must be an array or single string/number value.", path)
    for text in texts:
        if not isinstance(text, str):
            if name == "equals-ignore-case":
                raise PatternError("Inside anything-but/equals-ignore-case list, number|start|null|boolean is not "
                                   "supported.", path)
            raise PatternError("wildcard match pattern must be a string" if name == "wildcard"
                               else "prefix/suffix match pattern must be a string", path)
        if not text and name in ("prefix", "suffix"):
            raise PatternError("Null prefix/suffix not allowed", path)
    if name == "prefix":
        prefixes = tuple(texts)
        return lambda value: not (isinstance(value, str) and value.startswith(prefixes))
    if name == "suffix":
        suffixes = tuple(texts)
        return lambda value: not (isinstance(value, str) and value.endswith(suffixes))
    if name == "equals-ignore-case":
        folded = frozenset(text.lower() for text in texts)
        return lambda value: not (isinstance(value, str) and value.lower() in folded)
    globs = tuple(wildcard.matcher(wildcard.parse(text, path)) for text in texts)
    return lambda value: not (isinstance(value, str) and any(glob(value) for glob in globs))


def _shown(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)

