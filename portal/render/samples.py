"""An example generated from a schema, for messages that have none (marked as generated wherever it is shown).

The value is deterministic (the same schema always gives the same example, so committed pages stay stable) and
tries to be valid: ``examples``/``const``/``default``/``enum`` first, then a value for the ``format``, then a value
within the numeric and length bounds. Patterns cannot be inverted in general, so a string with a ``pattern`` may not
validate; callers check the result with the schema and say so.

Schemas come from third-party documents and may be malformed (``properties: true``, ``required: 5``, a pattern that is
no regular expression) or hostile (``minLength: 1000000000``, ``a{99999999}``): every keyword of the wrong type is
ignored, and strings, arrays and pattern repeats are bounded (:data:`MAX_TEXT`), so an example never costs more
than a page can show.
"""

from __future__ import annotations

import math
import re
from typing import Any, TypeGuard

try:  # Python 3.11+: the regular-expression parser moved; its node types are what we walk
    from re import _constants as sre_constants  # type: ignore[attr-defined]
    from re import _parser as sre_parse  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover
    import sre_constants  # type: ignore[no-redef]
    import sre_parse  # type: ignore[no-redef]

_FORMATS = {
    "date-time": "2026-01-01T12:00:00Z",
    "date": "2026-01-01",
    "time": "12:00:00Z",
    "duration": "PT1H",
    "email": "someone@example.com",
    "idn-email": "someone@example.com",
    "hostname": "example.com",
    "idn-hostname": "example.com",
    "ipv4": "192.0.2.1",
    "ipv6": "2001:db8::1",
    "uri": "https://example.com/",
    "uri-reference": "https://example.com/",
    "iri": "https://example.com/",
    "url": "https://example.com/",
    "uuid": "00000000-0000-4000-8000-000000000000",
    "regex": "^.*$",
    "json-pointer": "/",
}
MAX_DEPTH = 8
#: The longest string an example gets (from ``minLength`` or a pattern's repeats): a page shows it, nobody reads more.
MAX_TEXT = 200


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _sequence(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _count(value: Any) -> int | None:
    """A JSON Schema count keyword (``minLength``, ``minItems``...) when it is one: an integer, not a boolean."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class _Sampler:
    def __init__(self, document: Any) -> None:
        self.document = document

    def resolve(self, ref: str) -> Any:
        if ref == "#":
            return self.document
        node = self.document
        for raw in ref[2:].split("/") if ref.startswith("#/") else ["\0"]:
            token = raw.replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict) and token in node:
                node = node[token]
            else:
                return {}
        return node

    def merged(self, schema: Any, stack: tuple[str, ...]) -> tuple[dict[str, Any], tuple[str, ...], bool]:
        """``schema`` with ``$ref`` and ``allOf`` folded in; ``recursive`` when a reference loops."""
        if not isinstance(schema, dict):
            return {}, stack, False
        out: dict[str, Any] = {}
        recursive = False
        ref = schema.get("$ref")
        if isinstance(ref, str):
            if ref in stack:
                recursive = True
            else:
                target, stack, recursive = self.merged(self.resolve(ref), (*stack, ref))
                out.update(target)
        for sub in _sequence(schema.get("allOf")):
            part, stack, rec = self.merged(sub, stack)
            recursive = recursive or rec
            _merge_into(out, part)
        _merge_into(out, {k: v for k, v in schema.items() if k not in ("$ref", "allOf")})
        return out, stack, recursive

    def value(self, schema: Any, stack: tuple[str, ...], depth: int) -> Any:
        s, stack, recursive = self.merged(schema, stack)
        if recursive and not s:
            return None
        if "const" in s:
            return s["const"]
        if isinstance(s.get("examples"), list) and s["examples"]:
            return s["examples"][0]
        if "example" in s:
            return s["example"]
        if "default" in s:
            return s["default"]
        if isinstance(s.get("enum"), list) and s["enum"]:
            return s["enum"][0]
        for keyword in ("oneOf", "anyOf"):
            if isinstance(s.get(keyword), list) and s[keyword]:
                base = {k: v for k, v in s.items() if k != keyword}
                option, _, _ = self.merged(s[keyword][0], stack)
                combined = {**base, **option,
                            "properties": {**_mapping(base.get("properties")), **_mapping(option.get("properties"))},
                            "required": [*_sequence(base.get("required")), *_sequence(option.get("required"))]}
                return self.value(combined, stack, depth)
        kind = s.get("type")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), "null")
        if kind is None:
            kind = "object" if "properties" in s else "array" if "items" in s else None
        if kind == "object":
            return self.object(s, stack, depth)
        if kind == "array":
            if depth >= MAX_DEPTH or not isinstance(s.get("items"), dict):
                return []
            item = self.value(s["items"], stack, depth + 1)
            if item is None:  # a recursive item: leave the (optional) array out
                return None
            return [item] * min(max(1, _count(s.get("minItems")) or 0), 3)
        if kind == "string":
            return self.string(s)
        if kind in ("integer", "number"):
            return self.number(s, kind)
        if kind == "boolean":
            return True
        if kind == "null":
            return None
        return self.object(s, stack, depth) if s.get("properties") else "value"

    def object(self, s: dict[str, Any], stack: tuple[str, ...], depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if depth >= MAX_DEPTH:
            return out
        required = {name for name in _sequence(s.get("required")) if isinstance(name, str)}
        for name, sub in _mapping(s.get("properties")).items():
            value = self.value(sub, stack, depth + 1)
            if value is None and name not in required and not _allows_null(sub):
                continue
            out[name] = value
        return out

    @staticmethod
    def string(s: dict[str, Any]) -> str:
        text = _FORMATS.get(str(s.get("format")), "string")
        patterns = [p for p in _sequence(s.get("patterns")) if isinstance(p, str)]
        if patterns and not all(_matches(p, text) for p in patterns):
            for choice in range(4):  # which branch of each alternation to take
                for pattern in patterns:
                    candidate = string_matching(pattern, choice)
                    if candidate is not None and all(_matches(p, candidate) for p in patterns):
                        return candidate
        low, high = _count(s.get("minLength")), _count(s.get("maxLength"))
        if low is not None and len(text) < low:
            text = text + "x" * (min(low, MAX_TEXT) - len(text))
        if high is not None and len(text) > high >= 0:
            text = text[:high]
        return text

    @staticmethod
    def number(s: dict[str, Any], kind: str) -> int | float:
        low = s.get("minimum")
        high = s.get("maximum")
        ex_low = s.get("exclusiveMinimum")
        value: float = 0
        if _finite(low):
            value = low + (1 if ex_low is True else 0)
        elif _finite(ex_low):
            value = ex_low + 1
        elif _finite(high) and high < 0:
            value = high
        if kind == "integer":
            return int(value)
        return float(value) if value != int(value) else int(value)


def _finite(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _merge_into(out: dict[str, Any], part: dict[str, Any]) -> None:
    """Fold ``part`` into ``out`` as ``allOf`` does: properties of both (a property named twice gets both schemas),
    required of both, every pattern kept."""
    for key, value in part.items():
        if key == "properties" and isinstance(value, dict):
            props = dict(_mapping(out.get("properties")))
            for name, sub in value.items():
                props[name] = {"allOf": [props[name], sub]} if name in props else sub
            out["properties"] = props
        elif key == "required" and isinstance(value, list):
            out["required"] = [*_sequence(out.get("required")), *value]
        elif key == "pattern" and isinstance(value, str):
            out["patterns"] = [*_sequence(out.get("patterns")), value]
        elif key == "patterns" and isinstance(value, list):
            out["patterns"] = [*_sequence(out.get("patterns")), *value]
        else:
            out[key] = value


def _matches(pattern: str, text: str) -> bool:
    try:
        return re.search(pattern, text) is not None
    except re.error:
        return True


def string_matching(pattern: str, choice: int = 0) -> str | None:
    """A short string that ``pattern`` matches, for the common shapes of patterns (literals, classes, bounded
    repeats, groups, alternation); ``None`` when the pattern is beyond that."""
    try:
        parsed = sre_parse.parse(pattern)
    except (re.error, RecursionError, ValueError):
        return None
    try:
        return _generate(parsed, choice)
    except (ValueError, TypeError, RecursionError):
        return None


def _generate(items: Any, choice: int = 0) -> str:
    out: list[str] = []
    c = sre_constants
    for op, arg in items:
        if op is c.LITERAL:
            out.append(chr(arg))
        elif op is c.ANY:
            out.append("x")
        elif op is c.IN:
            out.append(_class_member(arg))
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT, getattr(c, "POSSESSIVE_REPEAT", None)):
            low, _high, sub = arg
            part = _generate(sub, choice)
            if len(part) * low > MAX_TEXT:
                raise ValueError("the shortest match is too long for an example")
            out.append(part * low)
        elif op is c.SUBPATTERN:
            out.append(_generate(arg[-1], choice))
        elif op is c.BRANCH:
            branches = arg[1]
            out.append(_generate(branches[min(choice, len(branches) - 1)], choice))
        elif op in (c.AT, c.ASSERT, c.ASSERT_NOT):
            continue
        elif op is c.CATEGORY:
            out.append(_category(arg))
        else:
            raise ValueError(f"unsupported regular expression node {op}")
        if sum(map(len, out)) > MAX_TEXT:
            raise ValueError("the shortest match is too long for an example")
    return "".join(out)


def _class_member(members: Any) -> str:
    c = sre_constants
    negated = False
    for op, arg in members:
        if op is c.NEGATE:
            negated = True
        elif negated:
            break
        elif op is c.LITERAL:
            return chr(arg)
        elif op is c.RANGE:
            return chr(arg[0])
        elif op is c.CATEGORY:
            return _category(arg)
    if negated:
        return "x" if not any(op is c.LITERAL and arg == ord("x") for op, arg in members) else "y"
    raise ValueError("empty character class")


def _category(category: Any) -> str:
    name = str(category)
    if "NOT_DIGIT" in name:
        return "a"
    if "DIGIT" in name:
        return "0"
    if "NOT_SPACE" in name or ("WORD" in name and "NOT" not in name):
        return "a"
    if "SPACE" in name:
        return " "
    return "a"


def _allows_null(schema: Any) -> bool:
    kind = schema.get("type") if isinstance(schema, dict) else None
    return kind == "null" or (isinstance(kind, list) and "null" in kind)


def sample(document: Any) -> Any:
    """A deterministic example value for the JSON Schema ``document``."""
    return _Sampler(document).value(document, ("#",), 0)
