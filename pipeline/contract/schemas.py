"""Payload and headers schemas: bundle each into one standalone JSON Schema, and validate data against it.

A bundled schema is what the registry publishes and what validates events and examples, so it must stand alone:
every ``$ref`` of the source (other files, components, pointers into other files, itself) is rewritten to point
into the bundle's own ``$defs``, each referenced schema appears there once under a readable name, and recursive
schemas stay references — never expanded.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from jsonschema.protocols import Validator

from . import regexes
from .errors import ContractError, DiagnosticSink
from .formats import FORMAT_CHECKER
from .refs import Dereferencer

DRAFT7 = "http://json-schema.org/draft-07/schema#"
DIALECTS = {
    "draft-04": "http://json-schema.org/draft-04/schema#",
    "draft-06": "http://json-schema.org/draft-06/schema#",
    "draft-07": DRAFT7,
    "2019-09": "https://json-schema.org/draft/2019-09/schema",
    "2020-12": "https://json-schema.org/draft/2020-12/schema",
}
_ASYNCAPI_FORMAT = re.compile(r"^application/vnd\.aai\.asyncapi(\+json|\+yaml)?(;version=[\d.]+)?$")
_JSON_SCHEMA_FORMAT = re.compile(r"^application/schema(\+json|\+yaml)?;version=(draft-0[467]|2019-09|2020-12)$")


def dialect_of(schema_format: str | None, schema: Any) -> str:
    """The JSON Schema dialect URI a schema is written in, or ``"unsupported"`` (Avro, RAML, Protobuf...)."""
    if isinstance(schema, dict) and isinstance(schema.get("$schema"), str):
        return schema["$schema"]
    if not schema_format or _ASYNCAPI_FORMAT.match(schema_format):
        return DRAFT7  # the AsyncAPI Schema Object is a superset of draft-07
    match = _JSON_SCHEMA_FORMAT.match(schema_format)
    if match:
        return DIALECTS[match.group(2)]
    return "unsupported"


def _def_name(uri: str, pointer: str) -> str:
    if pointer:
        return pointer.rstrip("/").rsplit("/", 1)[-1].replace("~1", "/").replace("~0", "~") or "schema"
    return Path(uri).stem


#: Definitions already bundled for one document: (file, pointer) -> (the rewritten definition, the references it
#: names: their target and the ``$ref`` it was given). See :meth:`_Bundler.definition`.
Rewritten = dict[tuple[str, str], tuple[Any, tuple[tuple[str, str, Any, str], ...]]]


def bundle(deref: Dereferencer, uri: str, pointer: str, value: Any, sink: DiagnosticSink,
           rewritten: Rewritten | None = None) -> dict[str, Any] | Any:
    """The schema at ``uri#pointer`` (raw ``value``) as a standalone schema with every reference in ``$defs``.

    Unresolvable references become diagnostics and are left pointing nowhere, so the bundle is still usable for
    documentation; validation against it will report them. ``rewritten``: definitions bundled before with the same
    ``deref`` (the same document), shared by this bundle when they come out the same (see
    :meth:`_Bundler.definition`); treat the result as read-only.
    """
    bundler = _Bundler(deref, sink, uri, pointer, rewritten if rewritten is not None else {})
    root = bundler.rewrite(value, uri, pointer)
    defs, queue = bundler.defs, bundler.queue
    while queue:
        target_uri, target_pointer, target_value, name = queue.pop(0)
        defs[name] = bundler.definition(target_value, target_uri, target_pointer)
    _break_reference_loops(defs)
    if not isinstance(root, dict):
        return root
    own_defs = root.pop("$defs", None)
    if isinstance(own_defs, dict):
        # The root's own $defs are referenced by pointer from inside the root; keep them where they were.
        for key, schema in own_defs.items():
            defs.setdefault(key, schema)
    if defs:
        root["$defs"] = defs
    return root


class _Bundler:
    """The state of one :func:`bundle`: a class, not closures, because a closure that calls itself is a reference
    cycle, and this one would keep the whole dereferenced document alive until the cyclic collector ran."""

    def __init__(self, deref: Dereferencer, sink: DiagnosticSink, uri: str, pointer: str,
                 rewritten: Rewritten) -> None:
        self.deref = deref
        self.sink = sink
        self.names: dict[tuple[str, str], str] = {(uri, pointer): "#"}
        self.defs: dict[str, Any] = {}
        self.queue: list[tuple[str, str, Any, str]] = []
        self.rewritten = rewritten
        self.named: list[tuple[str, str, Any, str]] | None = None  # name_for's calls, while a definition is rewritten

    def definition(self, value: Any, uri: str, pointer: str) -> Any:
        """The rewritten definition at ``uri#pointer``: the one an earlier bundle of the document made, when each
        reference in it gets the same ``$ref`` here (asked in the order :meth:`rewrite` asks, so this bundle names
        and queues what it would have anyway).

        Why: every event of a document bundles its own copy of the shared definitions (Money, Address...);
        rewriting them once per document instead of once per event saves the time, and sharing them saves most
        of the memory of a large catalogue's schemas. A problem found in a definition is reported by the bundle
        that rewrote it, on the same sink (the loader keeps one diagnostic per place and message anyway)."""
        known = self.rewritten.get((uri, pointer))
        if known is not None and all(self.name_for(u, p, v) == ref for u, p, v, ref in known[1]):
            return known[0]
        self.named = []
        try:
            result = self.rewrite(value, uri, pointer)
            self.rewritten[(uri, pointer)] = (result, tuple(self.named))
        finally:
            self.named = None
        return result

    def name_for(self, target_uri: str, target_pointer: str, target_value: Any) -> str:
        names, defs = self.names, self.defs
        key = (target_uri, target_pointer)
        if key not in names:
            base = re.sub(r"[^A-Za-z0-9_.-]", "_", _def_name(target_uri, target_pointer))
            name, n = base, 1
            while name in defs:
                n += 1
                name = f"{base}_{n}"
            names[key] = name
            defs[name] = None  # reserve; filled when dequeued
            self.queue.append((target_uri, target_pointer, target_value, name))
        found = names[key]
        ref = "#" if found == "#" else f"#/$defs/{_escape(found)}"
        if self.named is not None:
            self.named.append((target_uri, target_pointer, target_value, ref))
        return ref

    def rewrite(self, node: Any, node_uri: str, node_pointer: str) -> Any:
        rewrite = self.rewrite
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str):
                try:
                    target_uri, target_pointer, target_value = self.deref.target_at(ref, node_uri,
                                                                                    node_pointer + "/$ref")
                except ContractError as exc:
                    self.sink.items.extend(exc.diagnostics)
                    # Already reported; keep the text for the docs, and let validation accept anything here.
                    return {"x-unresolved-ref": ref}
                siblings = {k: rewrite(v, node_uri, f"{node_pointer}/{_escape(k)}") if isinstance(v, dict | list)
                            else v for k, v in node.items() if k != "$ref"}
                return {"$ref": self.name_for(target_uri, target_pointer, target_value), **siblings}
            # Scalars are kept as they are, without a pointer: most values of a schema are scalars.
            return {k: rewrite(v, node_uri, f"{node_pointer}/{_escape(k)}") if isinstance(v, dict | list) else v
                    for k, v in node.items()}
        if isinstance(node, list):
            return [rewrite(v, node_uri, f"{node_pointer}/{i}") if isinstance(v, dict | list) else v
                    for i, v in enumerate(node)]
        return node


def _break_reference_loops(defs: dict[str, Any]) -> None:
    """A loop made only of references (A is B, B is A) validates forever; the loader already reported it, so
    neutralise its members. Recursion *through* a property or item is fine and untouched."""
    prefix = "#/$defs/"
    for start in list(defs):
        chain: list[str] = []
        name = start
        while True:
            schema = defs.get(name)
            if not (isinstance(schema, dict) and set(schema) == {"$ref"} and schema["$ref"].startswith(prefix)):
                break
            if name in chain:
                for member in chain[chain.index(name):]:
                    defs[member] = {"x-unresolved-ref": f"circular reference through '{member}'"}
                break
            chain.append(name)
            name = schema["$ref"][len(prefix):].replace("~1", "/").replace("~0", "~")


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


@cache
def _validator_class(dialect: str) -> type[Validator]:
    base = jsonschema.validators.validator_for({"$schema": dialect}, default=jsonschema.Draft7Validator)
    # A document's patterns run time-limited (regexes.py); the metaschema check (schema_problems) keeps the base.
    return jsonschema.validators.extend(base, {"pattern": regexes.pattern,  # type: ignore[return-value]
                                               "patternProperties": regexes.pattern_properties})


def validator_for(schema: Any, dialect: str) -> Validator:
    """A reusable validator for a bundled schema; formats are asserted (as the AsyncAPI tools do)."""
    return _validator_class(dialect)(schema, format_checker=FORMAT_CHECKER)


def schema_problems(schema: Any, dialect: str) -> Iterator[str]:
    """Why a bundled schema is not a valid schema of its dialect (empty when it is)."""
    cls = _validator_class(dialect)
    for error in cls(cls.META_SCHEMA).iter_errors(schema):
        yield f"{_path(error.absolute_path)}: {error.message}"


def data_problems(validator: Validator, instance: Any) -> list[tuple[str, str]]:
    """Every violation as ``(JSON pointer into the instance, message naming the rule)``."""
    problems = []
    for error in sorted(validator.iter_errors(instance), key=lambda e: list(map(str, e.absolute_path))):
        pointer = "".join(f"/{_escape(str(p))}" for p in error.absolute_path)
        problems.append((pointer, f"{error.message} (rule '{error.validator}' at {_path(error.absolute_schema_path)})"))
    return problems


def _path(parts: Any) -> str:
    return "#" + "".join(f"/{p}" for p in parts)

