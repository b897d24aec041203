"""Validate event payloads against their published JSON Schema, with a validator compiled once per schema.

On the hot path a ``fastjsonschema`` validator is about 30 times faster than a reused ``jsonschema`` one, but it
silently ignores some newer keywords (``unevaluatedProperties``, ``dependentRequired``…) and knows nothing of
2019-09/2020-12. So a schema is compiled only when every keyword in it is one fastjsonschema enforces; otherwise
``jsonschema`` validates it. A schema is never validated less strictly than it says.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import fastjsonschema
import jsonschema

from pipeline.contract import fastcode
from pipeline.contract.formats import FORMAT_CHECKER, format_functions
from pipeline.contract.model import Schema
from pipeline.errors import EventdeckError

_FAST_DIALECTS = {
    "http://json-schema.org/draft-04/schema#",
    "http://json-schema.org/draft-06/schema#",
    "http://json-schema.org/draft-07/schema#",
}
# Keywords fastjsonschema's draft-04/06/07 code generators enforce. Anything else that is not a pure annotation
# sends the schema to jsonschema.
_FAST_KEYWORDS = frozenset({
    "$schema", "$id", "id", "$ref", "$defs", "definitions", "$comment", "title", "description", "default",
    "examples", "example", "deprecated", "readOnly", "writeOnly", "discriminator", "externalDocs", "xml",
    "type", "enum", "const", "format", "pattern", "minLength", "maxLength", "minimum", "maximum",
    "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "items", "additionalItems", "minItems", "maxItems",
    "uniqueItems", "contains", "properties", "patternProperties", "additionalProperties", "required",
    "minProperties", "maxProperties", "dependencies", "propertyNames", "allOf", "anyOf", "oneOf", "not",
    "if", "then", "else", "contentEncoding", "contentMediaType",
})
_ANNOTATION_PREFIX = "x-"
class PayloadInvalid(EventdeckError, ValueError):
    """A payload violates its schema: ``path`` is a JSON pointer into the payload, ``rule`` the failing keyword."""

    def __init__(self, message: str, path: str, rule: str) -> None:
        self.path = path
        self.rule = rule
        super().__init__(f"payload at '{path or '/'}' violates '{rule}': {message}")


@dataclass(frozen=True)
class PayloadValidator:
    """``validate(payload)`` raises :class:`PayloadInvalid` naming the field path and rule; ``engine`` says which
    implementation was chosen (``fastjsonschema`` or ``jsonschema``)."""

    engine: str
    _check: Callable[[Any], None]

    def validate(self, payload: Any) -> None:
        self._check(payload)


def compile_validator(schema: Schema) -> PayloadValidator:
    """Compile a validator for a bundled schema once; call ``validate`` per event."""
    document = schema.document
    if schema.dialect in _FAST_DIALECTS and _only_fast_keywords(document):
        formats = format_functions(document)
        try:
            name, code = fastcode.generate(document, filename=f"<payload validator {schema.location}>",
                                           formats=formats, use_default=False)
        except (fastjsonschema.JsonSchemaDefinitionException, ValueError):
            pass  # e.g. an unknown format: let jsonschema decide
        else:
            return PayloadValidator("fastjsonschema", _fast(functools.partial(fastcode.load(name, code),
                                                                              custom_formats=formats)))
    cls = jsonschema.validators.validator_for(document, default=jsonschema.Draft7Validator)
    validator = cls(document, format_checker=FORMAT_CHECKER)
    return PayloadValidator("jsonschema", _slow(validator))


def _fast(compiled: Callable[[Any], Any]) -> Callable[[Any], None]:
    def check(payload: Any) -> None:
        try:
            compiled(payload)
        except fastjsonschema.JsonSchemaValueException as exc:
            path = "".join(f"/{p}" for p in (exc.path or [])[1:])
            raise PayloadInvalid(exc.message, path, str(exc.rule)) from None

    return check


def _slow(validator: Any) -> Callable[[Any], None]:
    def check(payload: Any) -> None:
        error = jsonschema.exceptions.best_match(validator.iter_errors(payload))
        if error is not None:
            path = "".join(f"/{p}" for p in error.absolute_path)
            raise PayloadInvalid(error.message, path, str(error.validator))

    return check


def _only_fast_keywords(schema: Any) -> bool:
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                if key not in _FAST_KEYWORDS and not key.startswith(_ANNOTATION_PREFIX):
                    return False
                if key in ("properties", "patternProperties", "$defs", "definitions", "dependencies"):
                    if isinstance(value, dict):
                        stack.extend(value.values())
                elif key not in ("enum", "const", "default", "examples", "example", "required"):
                    stack.append(value)
        elif isinstance(node, list):
            stack.extend(node)
    return True
