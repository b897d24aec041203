"""Conformance to the official AsyncAPI JSON Schema of a document's declared version.

The document is checked after dereferencing (as the official parser does), except where AsyncAPI 3 demands a
Reference Object; errors point back to the file and JSON pointer the offending value came from, even when it came
through a ``$ref`` from another file.
"""

from __future__ import annotations

from typing import Any

import fastjsonschema
from jsonschema.exceptions import best_match

from . import specs
from .errors import ContractError, DiagnosticSink, Location
from .refs import Dereferencer, resolve_pointer


def check_official(version: str, root: Any, deref: Dereferencer, sink: DiagnosticSink,
                   settings: specs.SpecsSettings) -> None:
    """Validate the dereferenced document against the official AsyncAPI JSON Schema of its version, obtained as
    ``settings`` say."""
    origin = deref.origins.get(id(root), ("", ""))  # the copy below is not in origins: keep the root's file
    if not version.startswith("2."):
        root = _references_restored(root, deref)
    try:
        # The compiled validator checks a shared object once per definition, so it reads the dereferenced view as
        # it is, in time linear in the files. What it accepts, jsonschema accepts on the copy below (the view
        # checks every place the copy does, and {} only where the copy has it); the copy is made, and read by the
        # slow validator, only to list the errors of a document the fast one refused.
        specs.official_fast_validator(version, settings)(root)
        return
    except fastjsonschema.JsonSchemaException:
        pass
    except RecursionError:
        return _endless(deref, origin, sink)
    try:
        root = _each_schema_once(root, deref)
    except (_Endless, RecursionError):
        return _endless(deref, origin, sink)
    validator = specs.official_validator(version, settings)
    seen: set[tuple[str, str]] = set()
    for error in validator.iter_errors(root):
        detail = best_match([error])
        location = _source_location(root, list(detail.absolute_path), deref, origin)
        key = (location.pointer, detail.message)
        if key in seen:
            continue
        seen.add(key)
        sink.error("asyncapi-schema", f"{detail.message} (AsyncAPI {version} schema: "
                   f"{'/'.join(map(str, detail.relative_schema_path))})", location)


def _endless(deref: Dereferencer, origin: tuple[str, str], sink: DiagnosticSink) -> None:
    """A ``$ref`` to an object that contains it: the dereferenced document has no end."""
    sink.error("asyncapi-schema", "the document cannot be checked against the AsyncAPI schema: a $ref refers to an "
               "object that contains it (outside a schema), so the document never ends", deref.locate(*origin))


# AsyncAPI 3 requires a Reference Object (not the object itself) in these places, so the official schema must see
# them as written rather than dereferenced.
_REFERENCE_ONLY = {"operation": ("channel", "messages"), "reply": ("channel", "messages"), "channel": ("servers",)}


def _references_restored(root: dict[str, Any], deref: Dereferencer) -> dict[str, Any]:
    """A shallow copy of a dereferenced 3.x document with reference-only fields put back as written."""
    view = dict(root)
    deref.remember(view, deref.origins.get(id(root), ("", "")))
    view["operations"] = _each_restored(deref, root.get("operations"), "operation")
    view["channels"] = _each_restored(deref, root.get("channels"), "channel")
    components = root.get("components")
    if isinstance(components, dict):
        components = dict(components)
        for key, kind in (("operations", "operation"), ("channels", "channel"), ("replies", "reply")):
            if key in components:
                components[key] = _each_restored(deref, components[key], kind)
        deref.remember(components, deref.origins.get(id(root["components"]), ("", "/components")))
        view["components"] = components
    return {k: v for k, v in view.items() if v is not None or k in root}


# Module functions, not closures: a closure that calls itself is a reference cycle, which would keep the whole
# dereferenced document alive until the cyclic collector ran (the loader pauses it).
def _restored(deref: Dereferencer, value: Any, kind: str) -> Any:
    if not isinstance(value, dict):
        return value
    origin = deref.origins.get(id(value))
    try:
        raw = resolve_pointer(deref.document(origin[0]).data, origin[1]) if origin else None
    except (KeyError, ContractError):
        raw = None
    copy = dict(value)
    if origin:
        deref.remember(copy, origin)
    if isinstance(raw, dict):
        for key in _REFERENCE_ONLY[kind]:
            if key in raw:
                copy[key] = raw[key]
    if kind == "operation" and isinstance(copy.get("reply"), dict):
        copy["reply"] = _restored(deref, copy["reply"], "reply")
    return copy


def _each_restored(deref: Dereferencer, mapping: Any, kind: str) -> Any:
    if not isinstance(mapping, dict):
        return mapping
    out = {key: _restored(deref, value, kind) for key, value in mapping.items()}
    if id(mapping) in deref.origins:
        deref.remember(out, deref.origins[id(mapping)])
    return out


# Where a JSON Schema holds schemas: as a map of them, as one, or as a list of them (draft-04 to 2020-12).
_SCHEMA_MAPS = frozenset({"properties", "patternProperties", "definitions", "$defs", "dependentSchemas",
                          "dependencies"})
_SCHEMA_ONE = frozenset({"additionalProperties", "additionalItems", "unevaluatedProperties", "unevaluatedItems",
                         "contains", "propertyNames", "not", "if", "then", "else", "items"})
_SCHEMA_LISTS = frozenset({"allOf", "anyOf", "oneOf", "prefixItems", "items"})
_JSON_SCHEMA_FORMATS = ("application/schema", "application/vnd.aai.asyncapi")


def _each_schema_once(root: Any, deref: Dereferencer) -> Any:
    """A copy of the dereferenced document in which a schema met a second time is the empty schema.

    Dereferencing shares one object among all the ``$ref``s to it, so twenty levels of schemas that each refer twice
    to the next are a few kilobytes of YAML but a million schemas to a validator walking the expansion (a "$ref
    bomb": twelve levels took 17 s). The official schema now checks each schema once, where it is first met (the
    components first); a repeat becomes ``{}``, which every AsyncAPI version accepts wherever a schema may be (a
    ``$ref`` would not do: 2.x expects schemas dereferenced). A loop of schemas ends the same way. Only schemas are
    shared so: nothing else nests without end.
    """
    return _SchemaOnceCopy(root, deref).copy(root, "other")


class _SchemaOnceCopy:
    """The state of one :func:`_each_schema_once` (a class, not a closure that calls itself: see ``_restored``)."""

    def __init__(self, root: Any, deref: Dereferencer) -> None:
        self.root = root
        self.deref = deref
        self.copies: set[int] = set()
        self.path: set[int] = set()  # the objects being copied: meeting one again inside itself is a loop

    def copy(self, value: Any, kind: str) -> Any:
        if not isinstance(value, dict | list):
            return value
        key = id(value)
        if kind == "schema" and isinstance(value, dict):
            if key in self.copies:
                return {}  # the empty schema: valid wherever a schema may be, in 2.x (no Reference) and 3.x alike
            self.copies.add(key)
        if key in self.path:
            raise _Endless
        self.path.add(key)
        if isinstance(value, list):
            out_list = [self.copy(item, kind) for item in value]
            self.path.discard(key)
            return out_list
        out: dict[str, Any] = {}
        names = sorted(value, key=lambda name: name != "components") if value is self.root else list(value)
        for name in names:
            out[name] = self.copy(value[name], "schema" if kind == "map" else _kind_of(value, name, kind))
        self.path.discard(key)
        if key in self.deref.origins:
            self.deref.remember(out, self.deref.origins[key])
        return out


class _Endless(Exception):
    """A ``$ref`` outside a schema refers to an object that contains it."""


def _kind_of(parent: dict[str, Any], name: str, kind: str) -> str:
    """What ``parent[name]`` is: a ``schema`` (or a list of them), a ``map`` of schemas, or ``other``."""
    if kind == "schema":
        if name in _SCHEMA_MAPS:
            return "map"
        return "schema" if name in _SCHEMA_ONE or name in _SCHEMA_LISTS else "other"
    if name in ("payload", "headers"):  # a message or a trait; a 3.x multi-format wrapper is handled at "schema"
        value = parent[name]
        return "other" if isinstance(value, dict) and "schemaFormat" in value else "schema"
    if name == "schema":  # a 3.x multi-format schema, a 2.x parameter
        form = parent.get("schemaFormat")
        json_schema = form is None or (isinstance(form, str) and form.startswith(_JSON_SCHEMA_FORMATS))
        return "schema" if json_schema else "other"
    return "map" if name == "schemas" else "other"  # the components' schemas


def _source_location(root: Any, path: list[Any], deref: Dereferencer, root_origin: tuple[str, str]) -> Location:
    """Map a path in the dereferenced document back to the file and pointer it came from."""
    node = root
    origin = deref.origins.get(id(root), root_origin)
    rest: list[str] = []
    for token in path:
        try:
            node = node[token]
        except (KeyError, IndexError, TypeError):
            rest.append(str(token))
            continue
        if id(node) in deref.origins and isinstance(node, dict | list):
            origin, rest = deref.origins[id(node)], []
        else:
            rest.append(str(token).replace("~", "~0").replace("/", "~1"))
    uri, pointer = origin
    full = pointer + "".join(f"/{t}" for t in rest)
    return deref.locate(uri, full)
