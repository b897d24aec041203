"""Rules on schemas: defaults and examples valid against the schema that holds them, headers that are objects,
components that something uses.

Defaults and examples are checked at every depth of a schema (Spectral checks only the top level of each payload
and component schema), against the dereferenced subschema that holds them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import jsonschema
import referencing.exceptions

from ..errors import ContractError, Location
from ..refs import split_ref
from ..schemas import DRAFT7, validator_for
from .findings import LintSeverity
from .registry import rule
from .target import LintTarget, escape

Findings = Iterator[tuple[str, Location]]
ERROR = LintSeverity.ERROR

# Keywords whose value is a schema, a list of schemas or a map of schemas: the only places a walk descends, so a
# property *named* "default" is never mistaken for the keyword.
_ONE = ("items", "additionalItems", "additionalProperties", "contains", "propertyNames", "not", "if", "then", "else",
        "unevaluatedItems", "unevaluatedProperties")
_MANY = ("allOf", "anyOf", "oneOf", "prefixItems")
_MAP = ("properties", "patternProperties", "definitions", "$defs", "dependentSchemas")
# What jsonschema raises, rather than reports, on a malformed schema (a pattern that is no regular expression...).
_BROKEN = (re.error, AttributeError, TypeError, ValueError, KeyError, IndexError, RecursionError,
           jsonschema.exceptions.SchemaError, jsonschema.exceptions.UnknownType,
           referencing.exceptions.Unresolvable)


def subschemas(schema: Any) -> Iterator[dict[str, Any]]:
    """Every schema object in ``schema`` (itself included), once each, following schema keywords only."""
    stack, seen = [schema], set()
    while stack:
        node = stack.pop()
        if not isinstance(node, dict) or id(node) in seen:
            continue
        seen.add(id(node))
        yield node
        for key in _ONE:
            stack.append(node.get(key))
        for key in _MANY:
            value = node.get(key)
            if isinstance(value, list):
                stack.extend(value)
        for key in _MAP:
            value = node.get(key)
            if isinstance(value, dict):
                stack.extend(value.values())


def _problem(schema: dict[str, Any], value: Any) -> str | None:
    """The first reason ``value`` is not valid against ``schema``; ``None`` when valid or not checkable."""
    declared = schema.get("$schema")
    dialect = declared if isinstance(declared, str) else DRAFT7
    try:
        error = next(iter(validator_for(schema, dialect).iter_errors(value)), None)
    except _BROKEN:
        return None  # a malformed schema or a recursive $ref: the document checks report those
    if error is None:
        return None
    at = "".join(f"/{p}" for p in error.absolute_path)
    return f"{error.message}" + (f" (at '{at}')" if at else "")


def _defaults(target: LintTarget, schemas: list[Any]) -> Findings:
    seen: set[int] = set()
    for root in schemas:
        for node in subschemas(root):
            if "default" in node and id(node) not in seen:
                seen.add(id(node))
                problem = _problem(node, node["default"])
                if problem:
                    yield f"default is not valid against its schema: {problem}", target.where(node, "default")


def _examples(target: LintTarget, schemas: list[Any]) -> Findings:
    seen: set[int] = set()
    for root in schemas:
        for node in subschemas(root):
            examples = node.get("examples")
            if not isinstance(examples, list) or id(node) in seen:
                continue
            seen.add(id(node))
            for index, example in enumerate(examples):
                problem = _problem(node, example)
                if problem:
                    yield f"example #{index} is not valid against its schema: {problem}", \
                        target.where(examples, index)


def _payloads(target: LintTarget) -> list[Any]:
    return [payload for _, payload in target.payloads()]


def _component_schemas(target: LintTarget) -> list[Any]:
    schemas = list(target.mapping("components", "schemas").values())
    if target.major < 3:  # 2.x parameters hold a schema; 3.x parameters are plain strings
        groups = [c.get("parameters") for _, c in target.channels()] + [target.member("components", "parameters")]
        for group in groups:
            for parameter in (group.values() if isinstance(group, dict) else ()):
                if isinstance(parameter, dict):
                    schemas.append(parameter.get("schema"))
    return schemas


@rule("asyncapi-payload-default", ERROR, "schemas", "Defaults in payload schemas must be valid against their schema.",
      spectral=("asyncapi-payload-default",))
def payload_default(target: LintTarget) -> Findings:
    yield from _defaults(target, _payloads(target))


@rule("asyncapi-payload-examples", ERROR, "schemas", "Examples in payload schemas must be valid against their schema.",
      spectral=("asyncapi-payload-examples",))
def payload_examples(target: LintTarget) -> Findings:
    yield from _examples(target, _payloads(target))


@rule("asyncapi-schema-default", ERROR, "schemas",
      "Defaults in component and parameter schemas must be valid against their schema.",
      spectral=("asyncapi-schema-default",))
def schema_default(target: LintTarget) -> Findings:
    yield from _defaults(target, _component_schemas(target))


@rule("asyncapi-schema-examples", ERROR, "schemas",
      "Examples in component and parameter schemas must be valid against their schema.",
      spectral=("asyncapi-schema-examples",))
def schema_examples(target: LintTarget) -> Findings:
    yield from _examples(target, _component_schemas(target))


@rule("asyncapi-headers-schema-type-object", ERROR, "schemas", "Headers schema type must be \"object\".",
      spectral=("asyncapi-headers-schema-type-object", "asyncapi-3-headers-schema-type-object"))
def headers_object(target: LintTarget) -> Findings:
    holders = list(target.messages()) + [t for t in target.mapping("components", "messageTraits").values()
                                         if isinstance(t, dict)]
    for message in list(holders):
        traits = message.get("traits")
        holders.extend(t for t in (traits if isinstance(traits, list) else []) if isinstance(t, dict))
    seen: set[int] = set()
    for holder in holders:
        headers = holder.get("headers")
        if target.major >= 3 and isinstance(headers, dict) and "schemaFormat" in headers and "schema" in headers:
            headers = headers.get("schema")
        if not isinstance(headers, dict) or id(headers) in seen or "$ref" in headers:
            continue
        seen.add(id(headers))
        if headers.get("type") != "object":
            yield f"headers schema has type {headers.get('type')!r}; headers are always an object", \
                target.where(headers)


def _references(target: LintTarget) -> list[tuple[str, str, str]]:
    """``(pointer it leads to, file it is in, pointer where it is)`` of every ``$ref`` in the document's files
    that leads into the root document."""
    found: list[tuple[str, str, str]] = []
    for uri in target.document.files or (target.path,):
        try:
            data = target.deref.sources.get(uri).data
        except ContractError:
            continue
        stack: list[tuple[Any, str]] = [(data, "")]
        while stack:
            node, at = stack.pop()
            if isinstance(node, dict):
                ref = node.get("$ref")
                if isinstance(ref, str):
                    try:
                        ref_uri, pointer = split_ref(ref, uri)
                    except ContractError:
                        ref_uri, pointer = "", ""
                    if ref_uri == target.path:
                        found.append((pointer, uri, at))
                stack.extend((v, f"{at}/{escape(k)}") for k, v in node.items() if isinstance(v, dict | list))
            elif isinstance(node, list):
                stack.extend((v, f"{at}/{i}") for i, v in enumerate(node) if isinstance(v, dict | list))
    return found


def _unused(target: LintTarget, kind: str) -> Findings:
    components = target.raw.get("components") if isinstance(target.raw, dict) else None
    group = components.get(kind) if isinstance(components, dict) else None
    if not isinstance(group, dict) or not group:
        return
    references = _references(target)
    for name in group:
        pointer = f"/components/{kind}/{escape(name)}"
        # A reference from inside the component itself (a recursive schema) does not make it used.
        if not any((to == pointer or to.startswith(pointer + "/"))
                   and not (uri == target.path and (at == pointer or at.startswith(pointer + "/")))
                   for to, uri, at in references):
            yield f"components.{kind}.{name} is not referenced anywhere", target.at(pointer)


@rule("asyncapi-unused-components-schema", LintSeverity.WARN, "schemas",
      "Every schema in components.schemas is referenced somewhere.",
      spectral=("asyncapi-unused-components-schema",))
def unused_schemas(target: LintTarget) -> Findings:
    yield from _unused(target, "schemas")


@rule("asyncapi-unused-components-server", LintSeverity.WARN, "schemas",
      "Every server in components.servers is referenced somewhere.",
      spectral=("asyncapi-unused-components-server",))
def unused_servers(target: LintTarget) -> Findings:
    yield from _unused(target, "servers")
