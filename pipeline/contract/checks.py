"""What JSON Schema alone cannot check: examples against their schemas, the eventdeck extensions, event names.

Each check reads the model-in-making and adds diagnostics; none raises. Whether a finding is an error or a warning
can depend on who wrote the document: an *eventdeck document* (one that declares ``x-eventbridge``) is held to the
house rules, a third-party document only gets warnings for them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from functools import cache
from importlib import resources
from typing import Any

import jsonschema
import referencing.exceptions
from jsonschema.exceptions import best_match

from .errors import DiagnosticSink, Location, Severity
from .extensions import EXTENSIONS_BY_PLACE
from .model import Example, Schema
from .schemas import data_problems, validator_for
from .surely_valid import surely_valid, surely_valid_at

#: The longest event name, in characters. The name is the ``DetailType`` of every EventBridge entry the producer
#: puts (``pipeline/produce.py``), and EventBridge takes at most 128 characters there (``PutEventsRequestEntry``:
#: "Free-form string, with a maximum of 128 characters", botocore's ``events`` service model), so a longer name
#: could be documented but never published. It also keeps the catalogue's page and schema file names far below the
#: 255-byte limit of common file systems.
MAX_EVENT_NAME_LENGTH = 128


def is_hierarchical(name: str) -> bool:
    """``{Entity}.{Event}.{Metadata}``: two or more PascalCase parts joined by dots. Letters of any script count
    (``Zahlung.Bestätigt.De``): each part starts with an upper-case letter and holds only letters and digits."""
    parts = name.split(".")
    return len(parts) >= 2 and all(part[:1].isupper() and part.isalnum() for part in parts)

@cache
def extension_validator(name: str) -> jsonschema.Draft202012Validator:
    """The validator of one extension's JSON Schema (shipped in ``pipeline/contract/extensions/``)."""
    text = resources.files("pipeline.contract").joinpath("extensions", f"{name}.json").read_text("utf-8")
    schema = json.loads(text)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def check_extensions(place: str, value: Any, location: Location, sink: DiagnosticSink) -> None:
    """Validate the eventdeck extensions on one object against their published JSON Schemas."""
    if not isinstance(value, dict):
        return
    for name in EXTENSIONS_BY_PLACE[place]:
        if name not in value:
            continue
        at = location.child(name)
        for error in extension_validator(name).iter_errors(value[name]):
            detail = best_match([error])
            pointer = "".join(f"/{p}" for p in detail.absolute_path)
            sink.error("extension-invalid", f"{name}{pointer or ''}: {detail.message}",
                       Location(at.file, at.pointer + pointer, location.line, location.column))


def check_examples(name: str, payload: Schema | None, headers: Schema | None, examples: tuple[Example, ...],
                   sink: DiagnosticSink, locate: Callable[[str, str], Location] | None = None) -> None:
    """Every example's payload and headers must be valid against the message's schemas."""
    for label, schema, pick in (("payload", payload, _payload), ("headers", headers, _headers)):
        if schema is None or not schema.is_json_schema or not examples:
            continue
        validator = _safe_validator(schema, sink)
        if validator is None:
            continue
        for index, example in enumerate(examples):
            present, value = pick(example)
            if not present or surely_valid(schema.document, value, schema.dialect):
                continue  # jsonschema would find nothing (it decides every example the quick proof cannot)
            shown = example.name or f"#{index}"
            try:
                problems = data_problems(validator, value)
            except referencing.exceptions.Unresolvable as exc:
                sink.error("schema-invalid", f"{label} schema of {name} has a reference that cannot be followed: "
                           f"{exc}", schema.location)
                break
            except _BROKEN_SCHEMA as exc:  # the schema itself is malformed: say so, at the schema
                sink.error("schema-invalid", f"{label} schema of {name} cannot validate its examples: "
                           f"{_broken(exc)}", schema.location)
                break
            for pointer, message in problems:
                full = f"{example.location.pointer}/{label}{pointer}"
                at = locate(example.location.file, full) if locate else \
                    Location(example.location.file, full, example.location.line, example.location.column)
                sink.error("example-invalid",
                           f"example '{shown}' of {name} does not match its {label} schema at "
                           f"'{pointer or '/'}': {message}", at)


# What jsonschema raises, instead of reporting, when a schema is malformed in ways its constructor does not check:
# a `pattern` that is no regular expression, a property schema that is a string, a `required` that is a number.
# A schema whose references loop without reaching a value (``S: {anyOf: [{$ref: S}, ...]}``) recurses without end.
_BROKEN_SCHEMA = (re.error, AttributeError, TypeError, ValueError, KeyError, IndexError, RecursionError,
                  jsonschema.exceptions.SchemaError, jsonschema.exceptions.UnknownType)


def _broken(exc: BaseException) -> str:
    if isinstance(exc, re.error):
        return f"a pattern is not a regular expression ({exc.msg})"
    if isinstance(exc, RecursionError):
        return "its $refs loop back to themselves before reaching a value"
    return f"the schema is malformed ({type(exc).__name__})"


def _payload(example: Example) -> tuple[bool, Any]:
    return example.has_payload, example.payload


def _headers(example: Example) -> tuple[bool, Any]:
    return example.headers is not None, example.headers


def _safe_validator(schema: Schema, sink: DiagnosticSink) -> Any:
    if not isinstance(schema.document, dict | bool):  # jsonschema would raise AttributeError on a list or text
        sink.error("schema-invalid", f"schema must be an object or a boolean, not {type(schema.document).__name__}",
                   schema.location)
        return None
    try:
        return validator_for(schema.document, schema.dialect)
    except (jsonschema.exceptions.SchemaError, jsonschema.exceptions.UnknownType, TypeError) as exc:
        sink.error("schema-invalid", f"schema cannot be used for validation: {exc}", schema.location)
        return None


def check_name(name: str, named: bool, eventdeck_document: bool, location: Location, sink: DiagnosticSink) -> None:
    """Event names follow ``{Entity}.{Event}.{Metadata}`` so consumers can filter on any prefix."""
    severity = Severity.ERROR if eventdeck_document else Severity.WARNING
    if not named:
        sink.add(severity, "name-missing",
                 f"message has no 'name'; eventdeck uses '{name}' (give it a name like 'Payment.Authorised.Ecom')",
                 location)
    elif not is_hierarchical(name):
        sink.add(severity, "name-hierarchy",
                 f"event name '{name}' does not follow {{Entity}}.{{Event}}.{{Metadata}} "
                 "(PascalCase parts joined by dots, e.g. 'Payment.Authorised.Ecom')", location)


def check_name_length(name: str, location: Location, sink: DiagnosticSink) -> None:
    """An event name is at most :data:`MAX_EVENT_NAME_LENGTH` characters, in every document."""
    if len(name) > MAX_EVENT_NAME_LENGTH:
        shown = name[:40] + "…"
        sink.error("name-too-long",
                   f"event name '{shown}' is {len(name):,} characters; at most {MAX_EVENT_NAME_LENGTH} are allowed "
                   "(the name is the EventBridge detail-type, which takes at most 128)", location)


def hierarchy_parts(name: str) -> tuple[str, ...]:
    return tuple(name.split(".")) if is_hierarchical(name) else (name,)


# Subtrees that hold user data or schemas, where a key named "tags" is not an AsyncAPI tag list.
_NOT_STRUCTURE = frozenset({"payload", "headers", "examples", "schemas", "schema", "bindings", "x-enrichment"})


def check_unique_tags(root: Any, locate: Any, sink: DiagnosticSink) -> None:
    """Tag names must be unique within each ``tags`` list (as the AsyncAPI tag object requires)."""
    stack: list[tuple[Any, str]] = [(root, "")]
    seen: set[int] = set()
    while stack:
        node, pointer = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, dict):
            for key, value in node.items():
                child = f"{pointer}/{key.replace('~', '~0').replace('/', '~1')}"
                if key == "tags" and isinstance(value, list):
                    names = [t.get("name") for t in value if isinstance(t, dict)]
                    for index, name in enumerate(names):
                        if name is not None and name in names[:index]:
                            sink.error("tags-unique", f"tag '{name}' appears twice in this tags list",
                                       locate(f"{child}/{index}"))
                elif key not in _NOT_STRUCTURE and not key.startswith("x-"):
                    stack.append((value, child))
        elif isinstance(node, list):
            stack.extend((item, f"{pointer}/{i}") for i, item in enumerate(node))


def check_schema_examples(name: str, schema: Schema | None, sink: DiagnosticSink) -> None:
    """``examples`` written inside a schema (at any depth) must be valid against that very subschema."""
    if schema is None or not schema.is_json_schema or not isinstance(schema.document, dict):
        return
    validator = None
    # Each node with the path to it as (path to its parent, its key): the pointer is written out only for a node
    # that has examples, not for each of the thousands of nodes of a large payload schema.
    stack: list[tuple[Any, Any]] = [(schema.document, None)]
    while stack:
        node, path = stack.pop()
        if isinstance(node, dict):
            examples = node.get("examples")
            if isinstance(examples, list) and examples and ("type" in node or "properties" in node
                                                           or "allOf" in node or "$ref" in node):
                validator = validator or _safe_validator(schema, sink)
                if validator is None:
                    return
                pointer = _pointer(path)
                sub = validator.evolve(schema=node)
                for index, example in enumerate(examples):
                    if surely_valid_at(schema.document, node, example, schema.dialect):
                        continue
                    try:
                        errors = list(sub.iter_errors(example))[:1]
                    except _BROKEN_SCHEMA as exc:
                        sink.error("schema-invalid", f"schema of {name} at '{pointer or '/'}' cannot validate its "
                                   f"examples: {_broken(exc)}", schema.location)
                        break
                    for error in errors:
                        sink.error("schema-example-invalid",
                                   f"schema example #{index} of {name} at '{pointer or '/'}' is not valid against "
                                   f"its own schema: {error.message}", schema.location)
            for key, value in node.items():  # only containers can hold examples: no pointer for a scalar
                if isinstance(value, _CONTAINERS) and key not in _NOT_SCHEMAS:
                    stack.append((value, (path, key)))
        elif isinstance(node, list):
            stack.extend((item, (path, i)) for i, item in enumerate(node) if isinstance(item, _CONTAINERS))


def _pointer(path: Any) -> str:
    """``(…((None, k1), k2)…, kn)`` as ``/k1/k2/…/kn`` (keys as written, as this check has always shown them)."""
    keys: list[str] = []
    while path is not None:
        path, key = path
        keys.append(f"/{key}")
    return "".join(reversed(keys))


_NOT_SCHEMAS = frozenset({"examples", "example", "default", "const", "enum"})  # values, never schemas
_CONTAINERS = (dict, list)
