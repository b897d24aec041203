"""A quick proof that an example is valid, so that jsonschema runs only on the examples that may not be.

Checking examples against their schemas was a third of loading a large catalogue: jsonschema builds a validator
object for every subschema it descends into, for every value. Most examples are valid, and most schemas use a
small set of keywords, so :func:`surely_valid` walks a draft-07 schema and a value together and answers ``True``
only when every keyword it meets is one it decides exactly as the loader's jsonschema validator does
(:func:`.schemas.validator_for`: the same type rules, the same format checker, the same time-limited patterns).
Anything else answers ``False``, which means "ask jsonschema", never "invalid": another dialect, a keyword it does
not decide (``oneOf``, ``not``, ``if``, ``contains``, ``patternProperties``...), a ``$ref`` it cannot follow, an
``$id``, a ``$schema`` where jsonschema would switch validators, a value it cannot compare strictly, a pattern that
ran out of time. So the diagnostics are the same with it or without it; only what they cost changes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Final

from . import regexes
from .formats import FORMAT_CHECKER
from .schemas import DRAFT7, validator_for

#: Deeper than any schema the loader lets through (``source.MAX_NESTING_DEPTH``) with its references followed a
#: few times over; a walk that gets here is a loop of references, and jsonschema decides it.
_MAX_DEPTH: Final = 256
_JSON_TYPES = frozenset({str, int, float, bool, type(None), dict, list})
_MISSING = object()


def surely_valid(root: Any, instance: Any, dialect: str) -> bool:
    """Whether ``instance`` is certainly valid against the bundled schema ``root`` written in ``dialect``, as
    ``schemas.validator_for(root, dialect)`` would find it. ``False``: not known (jsonschema must decide)."""
    if dialect != DRAFT7 or root.__class__ is not dict or "$id" in root:
        return False
    try:  # the validator for ``root`` is of the dialect's class whatever ``$schema`` the root names
        return _valid_keywords(root, root, instance, 0)
    except _UNDECIDED:
        return False


def surely_valid_at(root: Any, schema: Any, instance: Any, dialect: str) -> bool:
    """:func:`surely_valid` for ``schema``, a subschema of ``root``, as ``validator.evolve(schema=schema)`` of the
    root's validator would find it."""
    if dialect != DRAFT7 or root.__class__ is not dict or "$id" in root:
        return False
    try:
        return _valid(root, schema, instance, 0)
    except _UNDECIDED:
        return False


# A schema or value of a shape the walk does not expect: jsonschema would report a broken schema, or decide
# something the walk does not mirror. Either way it is jsonschema's to decide.
_UNDECIDED = (TypeError, ValueError, AttributeError, KeyError, IndexError, ZeroDivisionError, OverflowError,
              RecursionError, re.error)


def _valid(root: dict[str, Any], schema: Any, instance: Any, depth: int) -> bool:
    if schema is True:
        return True
    if schema.__class__ is not dict or "$schema" in schema:  # jsonschema would pick a validator by $schema
        return False
    return _valid_keywords(root, schema, instance, depth)


def _valid_keywords(root: dict[str, Any], schema: dict[str, Any], instance: Any, depth: int) -> bool:
    if depth > _MAX_DEPTH or instance.__class__ not in _JSON_TYPES or "$id" in schema:
        return False
    ref = schema.get("$ref")
    if ref is not None:  # draft-07: a $ref's siblings are ignored
        target = _target(root, ref)
        return target is not _MISSING and _valid(root, target, instance, depth + 1)
    dispatch = _DISPATCH or _dispatch()
    ignored = _ignored
    for keyword, value in schema.items():
        check = dispatch.get(keyword, ignored)
        if check is not ignored and (check is None or not check(root, schema, value, instance, depth)):
            return False
    return True


def _ignored(root: Any, schema: Any, value: Any, instance: Any, depth: int) -> bool:
    return True


def _dispatch() -> dict[str, Callable[[Any, Any, Any, Any, int], bool] | None]:
    """For every keyword the loader's draft-07 validator asserts (jsonschema ignores any other), its check here, or
    ``None`` when it is jsonschema's to decide."""
    _DISPATCH.update({keyword: _CHECKS.get(keyword) for keyword in validator_for({}, DRAFT7).VALIDATORS})
    return _DISPATCH


_DISPATCH: dict[str, Callable[[Any, Any, Any, Any, int], bool] | None] = {}


def _target(root: dict[str, Any], ref: Any) -> Any:
    """The schema a local JSON-pointer ``$ref`` names, as ``referencing`` resolves it when no ``$id`` moves the
    base; ``_MISSING`` for anything else."""
    if ref.__class__ is not str or "%" in ref or not (ref == "#" or ref.startswith("#/")):
        return _MISSING
    node: Any = root
    for raw in ref[2:].split("/") if ref != "#" else ():
        if node.__class__ is dict:
            if node is not root and "$id" in node:
                return _MISSING
            token = raw.replace("~1", "/").replace("~0", "~")
            if token not in node:
                return _MISSING
            node = node[token]
        elif node.__class__ is list and raw.isdigit() and int(raw) < len(node):
            node = node[int(raw)]
        else:
            return _MISSING
    return node


# -- the keywords it decides: each mirrors jsonschema's own function for draft-07 -------------------------------

def _is(instance: Any, name: Any) -> bool | None:
    """jsonschema's draft-07 type check for a JSON value; ``None`` for a type name it does not know."""
    kind = instance.__class__
    if name == "string":
        return kind is str
    if name == "object":
        return kind is dict
    if name == "array":
        return kind is list
    if name == "integer":
        return kind is int or (kind is float and instance.is_integer())
    if name == "number":
        return kind is int or kind is float
    if name == "boolean":
        return kind is bool
    if name == "null":
        return instance is None
    return None


def _number(instance: Any) -> bool:
    return instance.__class__ is int or instance.__class__ is float


# The classes a type name accepts outright (``integer`` also takes a float with an integral value: see :func:`_is`).
_CLASSES: Final = {"string": str, "object": dict, "array": list, "integer": int, "boolean": bool}


def _type(root: Any, schema: Any, types: Any, instance: Any, depth: int) -> bool:
    if types.__class__ is str and _CLASSES.get(types) is instance.__class__:
        return True  # the common case, decided by one look-up
    for name in [types] if types.__class__ is str else types if types.__class__ is list else [None]:
        found = _is(instance, name)
        if found is None:
            return False  # an unknown type: jsonschema raises (unless an earlier name matched)
        if found:
            return True
    return False


def _properties(root: Any, schema: Any, properties: Any, instance: Any, depth: int) -> bool:
    if instance.__class__ is not dict:
        return True
    if properties.__class__ is not dict:
        return False
    for name, sub in properties.items():  # a loop, not all(): no generator per object checked
        if name in instance and not _valid(root, sub, instance[name], depth + 1):
            return False
    return True


def _required(root: Any, schema: Any, required: Any, instance: Any, depth: int) -> bool:
    if instance.__class__ is not dict:
        return True
    if required.__class__ is not list:
        return False
    for name in required:  # noqa: SIM110 (a loop: no generator per object checked)
        if name not in instance:
            return False
    return True


def _additional_properties(root: Any, schema: Any, extra: Any, instance: Any, depth: int) -> bool:
    if instance.__class__ is not dict:
        return True
    properties = schema.get("properties", {})
    if properties.__class__ is not dict or "patternProperties" in schema:
        return False
    extras = [name for name in instance if name not in properties]
    if extra.__class__ is dict:
        return all(_valid(root, extra, instance[name], depth + 1) for name in extras)
    return not (not extra and extras)


def _items(root: Any, schema: Any, items: Any, instance: Any, depth: int) -> bool:
    if instance.__class__ is not list:
        return True
    if items.__class__ is list:
        return False  # the tuple form: jsonschema decides
    return all(_valid(root, items, item, depth + 1) for item in instance)


def _strictly_equal(one: Any, two: Any) -> bool:
    """Equal scalars of the same type: then jsonschema's ``equal`` agrees. Anything else is not known here."""
    return one.__class__ is two.__class__ and one.__class__ not in (dict, list) and one == two


def _enum(root: Any, schema: Any, enum: Any, instance: Any, depth: int) -> bool:
    if enum.__class__ is not list:
        return False
    kind = instance.__class__
    if kind is dict or kind is list:
        return False
    for each in enum:  # noqa: SIM110 (_strictly_equal, inline; no generator)
        if each.__class__ is kind and each == instance:
            return True
    return False


def _const(root: Any, schema: Any, const: Any, instance: Any, depth: int) -> bool:
    return _strictly_equal(const, instance)


def _min_length(root: Any, schema: Any, limit: Any, instance: Any, depth: int) -> bool:
    return instance.__class__ is not str or not len(instance) < limit


def _max_length(root: Any, schema: Any, limit: Any, instance: Any, depth: int) -> bool:
    return instance.__class__ is not str or not len(instance) > limit


def _minimum(root: Any, schema: Any, limit: Any, instance: Any, depth: int) -> bool:
    return not _number(instance) or not instance < limit


def _maximum(root: Any, schema: Any, limit: Any, instance: Any, depth: int) -> bool:
    return not _number(instance) or not instance > limit


def _exclusive_minimum(root: Any, schema: Any, limit: Any, instance: Any, depth: int) -> bool:
    return not _number(instance) or not instance <= limit


def _exclusive_maximum(root: Any, schema: Any, limit: Any, instance: Any, depth: int) -> bool:
    return not _number(instance) or not instance >= limit


def _multiple_of(root: Any, schema: Any, factor: Any, instance: Any, depth: int) -> bool:
    if not _number(instance):
        return True
    return factor.__class__ is int and not instance % factor  # a float factor: jsonschema's own arithmetic


def _min_items(root: Any, schema: Any, limit: Any, instance: Any, depth: int) -> bool:
    return instance.__class__ is not list or not len(instance) < limit


def _max_items(root: Any, schema: Any, limit: Any, instance: Any, depth: int) -> bool:
    return instance.__class__ is not list or not len(instance) > limit


def _min_properties(root: Any, schema: Any, limit: Any, instance: Any, depth: int) -> bool:
    return instance.__class__ is not dict or not len(instance) < limit


def _max_properties(root: Any, schema: Any, limit: Any, instance: Any, depth: int) -> bool:
    return instance.__class__ is not dict or not len(instance) > limit


def _unique_items(root: Any, schema: Any, unique: Any, instance: Any, depth: int) -> bool:
    if not unique or instance.__class__ is not list or len(instance) < 2:
        return True
    return all(item.__class__ is str for item in instance) and len(set(instance)) == len(instance)


def _pattern(root: Any, schema: Any, pattern: Any, instance: Any, depth: int) -> bool:
    if instance.__class__ is not str or pattern.__class__ is not str:
        return True
    return regexes.search(pattern, instance) is True  # a pattern out of time is jsonschema's to report


def _format(root: Any, schema: Any, name: Any, instance: Any, depth: int) -> bool:
    return FORMAT_CHECKER.conforms(instance, name)


def _all_of(root: Any, schema: Any, schemas: Any, instance: Any, depth: int) -> bool:
    return schemas.__class__ is list and all(_valid(root, sub, instance, depth + 1) for sub in schemas)


def _any_of(root: Any, schema: Any, schemas: Any, instance: Any, depth: int) -> bool:
    # jsonschema tries the branches in order and stops at the first valid one; a later branch proven valid says
    # nothing of what an earlier one does there (it may raise: a broken schema, a loop of references).
    return schemas.__class__ is list and bool(schemas) and _valid(root, schemas[0], instance, depth + 1)


_CHECKS: dict[str, Callable[[Any, Any, Any, Any, int], bool]] = {
    "type": _type, "properties": _properties, "required": _required, "additionalProperties": _additional_properties,
    "items": _items, "enum": _enum, "const": _const, "minLength": _min_length, "maxLength": _max_length,
    "minimum": _minimum, "maximum": _maximum, "exclusiveMinimum": _exclusive_minimum,
    "exclusiveMaximum": _exclusive_maximum, "multipleOf": _multiple_of, "minItems": _min_items,
    "maxItems": _max_items, "minProperties": _min_properties, "maxProperties": _max_properties,
    "uniqueItems": _unique_items, "pattern": _pattern, "format": _format, "allOf": _all_of, "anyOf": _any_of,
}
