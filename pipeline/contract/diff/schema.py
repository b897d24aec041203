"""Compare two bundled JSON Schemas (:attr:`pipeline.contract.Schema.document`) and classify every difference.

The schemas are the loader's bundles: every ``$ref`` points into the schema's own ``$defs`` (or at ``#``), so a
reference is followed here by pointer, and ``allOf`` is flattened into one object schema before comparing (an event
payload is usually ``allOf: [base event, fields]``). ``oneOf``/``anyOf`` branches are paired by their ``$ref``,
title or discriminating ``const``, else by position. Recursion is guarded: a pair of references already being
compared (a recursive schema) or already compared elsewhere (a shared definition) is not entered again, so a
hostile schema cannot make the comparison exponential.
"""

from __future__ import annotations

import json
from typing import Any

from .changes import Change, Kind

#: Keywords that describe but never constrain.
ANNOTATIONS = frozenset({"description", "title", "$comment", "default", "deprecated", "readOnly", "writeOnly",
                         "discriminator", "externalDocs", "examples", "example"})
_LOWER = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties", "minContains")
_UPPER = ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties", "maxContains")
_HANDLED = frozenset({*_LOWER, *_UPPER, "type", "enum", "const", "pattern", "format", "multipleOf", "uniqueItems",
                      "properties", "required", "additionalProperties", "unevaluatedProperties", "items",
                      "prefixItems", "additionalItems", "oneOf", "anyOf", "allOf", "$ref", "$defs", "definitions",
                      "$schema", "$id", "x-unresolved-ref"})
#: A reference chain longer than this is treated as unresolvable (the loader reports real loops).
MAX_REF_CHAIN = 64
#: Work budget per compared pair of schemas: beyond it, the rest is compared as whole values.
MAX_STEPS = 20_000


def canonical(value: Any) -> str:
    """A comparable text of a JSON value (``1`` and ``true`` differ, key order does not matter)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def short(value: Any, limit: int = 80) -> Any:
    """``value`` for display: scalars as they are, long or nested values as shortened JSON text."""
    if value is None or isinstance(value, bool | int | float):
        return value
    text = value if isinstance(value, str) else canonical(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


class SchemaDiffer:
    """Compares one event's old and new schema (payload or headers); :meth:`run` yields the changes."""

    def __init__(self, event: str, old_root: Any, new_root: Any) -> None:
        self.event = event
        self.old_root = old_root
        self.new_root = new_root
        self._active: set[tuple[str, str]] = set()
        self._done: set[tuple[str, str]] = set()
        self._steps = 0
        self.changes: list[Change] = []

    def run(self, where: str) -> list[Change]:
        self.compare(self.old_root, self.new_root, where)
        return self.changes

    # ------------------------------------------------------------------------------------------- helpers
    def _add(self, kind: Kind, where: str, message: str, old: Any = None, new: Any = None) -> None:
        self.changes.append(Change(kind, self.event, where, message, short(old), short(new)))

    @staticmethod
    def _lookup(root: Any, ref: str) -> Any:
        if ref == "#":
            return root
        if not ref.startswith("#/"):
            return None
        node = root
        for token in ref[2:].split("/"):
            token = token.replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict) and token in node:
                node = node[token]
            elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
                node = node[int(token)]
            else:
                return None
        return node

    def _resolve(self, root: Any, node: Any) -> tuple[Any, str | None]:
        """``node`` with its ``$ref`` chain followed (siblings of a ``$ref`` are kept as an ``allOf`` member),
        and the last reference followed (``None`` when ``node`` is no reference)."""
        ref_seen: str | None = None
        siblings: list[dict[str, Any]] = []
        for _ in range(MAX_REF_CHAIN):
            if node is True:
                return {}, ref_seen
            if node is False:
                return {"not": {}}, ref_seen
            if not isinstance(node, dict) or not isinstance(node.get("$ref"), str):
                break
            rest = {k: v for k, v in node.items() if k != "$ref"}
            if rest:
                siblings.append(rest)
            ref_seen = node["$ref"]
            target = self._lookup(root, ref_seen)
            node = target if target is not None else {}
        else:
            node = {}
        if siblings and isinstance(node, dict):
            node = {"allOf": [node, *siblings]}
        return node, ref_seen

    def _flatten(self, root: Any, node: Any, depth: int = 0) -> dict[str, Any]:
        """``node`` (resolved) with its ``allOf`` members merged into it, recursively."""
        node, _ = self._resolve(root, node)
        if not isinstance(node, dict):
            return {}
        members = node.get("allOf")
        if not isinstance(members, list) or depth > MAX_REF_CHAIN:
            return node
        merged = {k: v for k, v in node.items() if k != "allOf"}
        for member in members:
            self._merge(merged, self._flatten(root, member, depth + 1))
        return merged

    @staticmethod
    def _merge(into: dict[str, Any], other: dict[str, Any]) -> None:
        for key, value in other.items():
            if key not in into:
                into[key] = value
            elif key == "properties" and isinstance(value, dict) and isinstance(into[key], dict):
                properties = dict(into[key])
                for name, schema in value.items():
                    properties[name] = schema if name not in properties else {"allOf": [properties[name], schema]}
                into[key] = properties
            elif key == "required" and isinstance(value, list) and isinstance(into[key], list):
                into[key] = list(dict.fromkeys([*into[key], *value]))
            elif key == "type":
                mine, theirs = _types(into[key]), _types(value)
                if mine is not None and theirs is not None:
                    kept = [t for t in mine if _covered(t, theirs)] + \
                           [t for t in theirs if t == "integer" and "number" in mine and "integer" not in mine]
                    into[key] = kept if len(kept) != 1 else kept[0]
            elif key == "enum" and isinstance(value, list) and isinstance(into[key], list):
                theirs_set = {canonical(v) for v in value}
                into[key] = [v for v in into[key] if canonical(v) in theirs_set]
            elif key in _LOWER and _number(value) and _number(into[key]):
                into[key] = max(into[key], value)
            elif key in _UPPER and _number(value) and _number(into[key]):
                into[key] = min(into[key], value)
            elif key in ("additionalProperties", "unevaluatedProperties") and value is False:
                into[key] = False

    # ------------------------------------------------------------------------------------------- compare
    def compare(self, old: Any, new: Any, where: str) -> None:
        self._steps += 1
        old_node, old_ref = self._resolve(self.old_root, old)
        new_node, new_ref = self._resolve(self.new_root, new)
        pair = (old_ref or "", new_ref or "")
        if old_ref is not None and new_ref is not None:
            if pair in self._active or pair in self._done:
                return  # recursion, or a shared definition already compared at its first use
            self._active.add(pair)
        try:
            if self._steps > MAX_STEPS:
                if canonical(old_node) != canonical(new_node):
                    self._add(Kind.SCHEMA_CHANGED, where, "schema changed (too large to compare in detail)")
                return
            self._compare_nodes(self._flatten(self.old_root, old_node), self._flatten(self.new_root, new_node),
                                where)
        finally:
            if old_ref is not None and new_ref is not None:
                self._active.discard(pair)
                self._done.add(pair)

    def _compare_nodes(self, old: dict[str, Any], new: dict[str, Any], where: str) -> None:
        self._types(old, new, where)
        self._enum(old, new, where)
        self._bounds(old, new, where)
        self._texts(old, new, where)
        self._objects(old, new, where)
        self._arrays(old, new, where)
        self._variants(old, new, where)
        self._annotations(old, new, where)
        self._others(old, new, where)

    def _types(self, old: dict[str, Any], new: dict[str, Any], where: str) -> None:
        before, after = _types(old.get("type")), _types(new.get("type"))
        if before == after or (before is not None and after is not None and set(before) == set(after)):
            return
        shown_old, shown_new = _shown_types(before), _shown_types(after)
        lost = [t for t in (before or ["any"]) if after is not None and (t == "any" or not _covered(t, after))]
        gained = [t for t in (after or ["any"]) if before is not None and (t == "any" or not _covered(t, before))]
        if lost:
            self._add(Kind.TYPE_NARROWED, f"{where}/type", f"type narrowed from {shown_old} to {shown_new}",
                      old.get("type"), new.get("type"))
        elif gained:
            self._add(Kind.TYPE_WIDENED, f"{where}/type", f"type widened from {shown_old} to {shown_new}",
                      old.get("type"), new.get("type"))

    def _enum(self, old: dict[str, Any], new: dict[str, Any], where: str) -> None:
        for keyword in ("enum", "const"):
            before, after = old.get(keyword), new.get(keyword)
            if keyword == "const":
                before = [before] if keyword in old else None
                after = [after] if keyword in new else None
            if not isinstance(before, list) and not isinstance(after, list):
                continue
            at = f"{where}/{keyword}"
            if not isinstance(before, list):
                self._add(Kind.CONSTRAINT_TIGHTENED, at, f"{keyword} added: only {_values(after)} allowed",
                          None, new.get(keyword))
                continue
            if not isinstance(after, list):
                self._add(Kind.CONSTRAINT_RELAXED, at, f"{keyword} removed: any value allowed", old.get(keyword))
                continue
            after_set, before_set = {canonical(v) for v in after}, {canonical(v) for v in before}
            removed = [v for v in before if canonical(v) not in after_set]
            added = [v for v in after if canonical(v) not in before_set]
            if removed:
                self._add(Kind.ENUM_VALUE_REMOVED, at, f"{keyword} value(s) removed: {_values(removed)}", removed)
            if added:
                self._add(Kind.ENUM_WIDENED, at, f"{keyword} value(s) added: {_values(added)}", None, added)

    def _bounds(self, old: dict[str, Any], new: dict[str, Any], where: str) -> None:
        for keyword in (*_LOWER, *_UPPER):
            before, after = old.get(keyword), new.get(keyword)
            before = before if _number(before) else None
            after = after if _number(after) else None
            if before == after:
                continue
            at = f"{where}/{keyword}"
            if before is None:
                self._add(Kind.CONSTRAINT_TIGHTENED, at, f"{keyword} {after} added", None, after)
            elif after is None:
                self._add(Kind.CONSTRAINT_RELAXED, at, f"{keyword} {before} removed", before)
            elif (after > before) == (keyword in _LOWER):
                self._add(Kind.CONSTRAINT_TIGHTENED, at, f"{keyword} tightened from {before} to {after}", before,
                          after)
            else:
                self._add(Kind.CONSTRAINT_RELAXED, at, f"{keyword} relaxed from {before} to {after}", before, after)
        before, after = old.get("multipleOf"), new.get("multipleOf")
        before = before if _number(before) else None
        after = after if _number(after) else None
        if before != after and (_number(before) or _number(after)):
            at = f"{where}/multipleOf"
            if after is None:
                self._add(Kind.CONSTRAINT_RELAXED, at, f"multipleOf {before} removed", before)
            elif before is not None and after != 0 and float(before / after).is_integer():
                self._add(Kind.CONSTRAINT_RELAXED, at, f"multipleOf relaxed from {before} to {after}", before, after)
            else:
                self._add(Kind.CONSTRAINT_TIGHTENED, at, f"multipleOf {'added' if before is None else 'changed'}: "
                          f"{after}", before, after)
        if bool(old.get("uniqueItems")) != bool(new.get("uniqueItems")):
            tightened = bool(new.get("uniqueItems"))
            self._add(Kind.CONSTRAINT_TIGHTENED if tightened else Kind.CONSTRAINT_RELAXED, f"{where}/uniqueItems",
                      "items must now be unique" if tightened else "items need no longer be unique",
                      old.get("uniqueItems"), new.get("uniqueItems"))

    def _texts(self, old: dict[str, Any], new: dict[str, Any], where: str) -> None:
        for keyword in ("pattern", "format"):
            before, after = old.get(keyword), new.get(keyword)
            if before == after:
                continue
            at = f"{where}/{keyword}"
            if before is None:
                self._add(Kind.CONSTRAINT_TIGHTENED, at, f"{keyword} {after!r} added", None, after)
            elif after is None:
                self._add(Kind.CONSTRAINT_RELAXED, at, f"{keyword} {before!r} removed", before)
            else:
                # Whether one regular expression (or format) accepts everything another does is not decidable
                # in general: a changed one may refuse values the old one allowed.
                self._add(Kind.CONSTRAINT_TIGHTENED, at, f"{keyword} changed from {before!r} to {after!r}", before,
                          after)

    def _objects(self, old: dict[str, Any], new: dict[str, Any], where: str) -> None:
        before = _properties(old)
        after = _properties(new)
        required_before = {r for r in old.get("required") or () if isinstance(r, str)} \
            if isinstance(old.get("required"), list) else set()
        required_after = {r for r in new.get("required") or () if isinstance(r, str)} \
            if isinstance(new.get("required"), list) else set()
        removed = [name for name in before if name not in after]
        added = [name for name in after if name not in before]
        for name in list(removed):
            twin = next((a for a in added if (a in required_after) == (name in required_before)
                         and _shape(before[name]) == _shape(after[a])), None)
            if twin is not None:
                removed.remove(name)
                added.remove(twin)
                self._add(Kind.FIELD_RENAMED, f"{where}/properties/{escape(name)}",
                          f"field '{name}' renamed to '{twin}'", name, twin)
        for name in removed:
            self._add(Kind.FIELD_REMOVED, f"{where}/properties/{escape(name)}", f"field '{name}' removed", name)
        for name in added:
            required = name in required_after
            self._add(Kind.FIELD_ADDED_REQUIRED if required else Kind.FIELD_ADDED_OPTIONAL,
                      f"{where}/properties/{escape(name)}",
                      f"{'required' if required else 'optional'} field '{name}' added", None, name)
        declared_new = set(added)
        declared_gone = set(removed) | {n for n in before if n not in after}
        for name in sorted(required_after - required_before - declared_new):
            self._add(Kind.FIELD_NOW_REQUIRED, f"{where}/required", f"field '{name}' is now required", None, name)
        for name in sorted(required_before - required_after - declared_gone):
            self._add(Kind.FIELD_NOW_OPTIONAL, f"{where}/required",
                      f"field '{name}' is no longer required (consumers can no longer rely on it)", name)
        for name in before:
            if name in after:
                self.compare(before[name], after[name], f"{where}/properties/{escape(name)}")
        for keyword in ("additionalProperties", "unevaluatedProperties"):
            self._additional(keyword, old, new, where)

    def _additional(self, keyword: str, old: dict[str, Any], new: dict[str, Any], where: str) -> None:
        before, after = old.get(keyword, True), new.get(keyword, True)
        before = True if before == {} else before
        after = True if after == {} else after
        if before is after or (isinstance(before, dict) is False and before == after):
            return
        at = f"{where}/{keyword}"
        if after is False:
            self._add(Kind.ADDITIONAL_PROPERTIES_CLOSED, at, f"{keyword} closed: undeclared fields are refused",
                      before, after)
        elif before is False:
            self._add(Kind.ADDITIONAL_PROPERTIES_OPENED, at, f"{keyword} opened: undeclared fields are allowed",
                      before, after)
        elif before is True and isinstance(after, dict):
            self._add(Kind.CONSTRAINT_TIGHTENED, at, f"{keyword} now constrained by a schema", None, after)
        elif isinstance(before, dict) and after is True:
            self._add(Kind.CONSTRAINT_RELAXED, at, f"{keyword} no longer constrained", before)
        elif isinstance(before, dict) and isinstance(after, dict):
            self.compare(before, after, at)

    def _arrays(self, old: dict[str, Any], new: dict[str, Any], where: str) -> None:
        for keyword in ("items", "prefixItems", "additionalItems"):
            before, after = old.get(keyword), new.get(keyword)
            if before is None and after is None:
                continue
            at = f"{where}/{keyword}"
            if isinstance(before, list) and isinstance(after, list):
                for index, (b, a) in enumerate(zip(before, after, strict=False)):
                    self.compare(b, a, f"{at}/{index}")
                if len(after) > len(before):
                    self._add(Kind.CONSTRAINT_TIGHTENED, at, f"{keyword}: {len(after) - len(before)} position(s) "
                              "constrained", len(before), len(after))
                elif len(after) < len(before):
                    self._add(Kind.CONSTRAINT_RELAXED, at, f"{keyword}: {len(before) - len(after)} position(s) no "
                              "longer constrained", len(before), len(after))
            elif before is None:
                self._add(Kind.CONSTRAINT_TIGHTENED, at, f"{keyword} schema added", None, after)
            elif after is None:
                self._add(Kind.CONSTRAINT_RELAXED, at, f"{keyword} schema removed", before)
            elif isinstance(before, list) or isinstance(after, list):
                self._add(Kind.SCHEMA_CHANGED, at, f"{keyword} changed between a list and a schema")
            else:
                self.compare(before, after, at)

    def _variants(self, old: dict[str, Any], new: dict[str, Any], where: str) -> None:
        for keyword in ("oneOf", "anyOf"):
            before, after = old.get(keyword), new.get(keyword)
            if not isinstance(before, list) and not isinstance(after, list):
                continue
            at = f"{where}/{keyword}"
            if not isinstance(before, list):
                self._add(Kind.CONSTRAINT_TIGHTENED, at, f"{keyword} added", None, len(after or ()))
                continue
            if not isinstance(after, list):
                self._add(Kind.CONSTRAINT_RELAXED, at, f"{keyword} removed", len(before))
                continue
            old_keys = [self._variant_key(self.old_root, b, i) for i, b in enumerate(before)]
            new_keys = [self._variant_key(self.new_root, a, i) for i, a in enumerate(after)]
            for i, key in enumerate(old_keys):
                if key in new_keys:
                    j = new_keys.index(key)
                    self.compare(before[i], after[j], f"{at}/{j}")
                else:
                    self._add(Kind.VARIANT_REMOVED, f"{at}/{i}", f"{keyword} variant {key} removed", key)
            for j, key in enumerate(new_keys):
                if key not in old_keys:
                    self._add(Kind.VARIANT_ADDED, f"{at}/{j}", f"{keyword} variant {key} added", None, key)

    def _variant_key(self, root: Any, branch: Any, index: int) -> str:
        """What identifies a branch across versions: its discriminating constant, its title, its reference, or
        its position."""
        node, ref = self._resolve(root, branch)
        flat = self._flatten(root, node) if isinstance(node, dict) else {}
        properties = _properties(flat)
        discriminator = flat.get("discriminator")
        names = sorted(properties, key=lambda n: (n != discriminator, n))
        for single_enum in (False, True):  # a const discriminates more surely than an enum of one value
            for name in names:
                resolved, _ = self._resolve(root, properties[name])
                if not isinstance(resolved, dict):
                    continue
                if not single_enum and "const" in resolved:
                    return f"{name}={canonical(resolved['const'])}"
                if single_enum and isinstance(resolved.get("enum"), list) and len(resolved["enum"]) == 1:
                    return f"{name}={canonical(resolved['enum'][0])}"
        if isinstance(flat.get("title"), str):
            return f"'{flat['title']}'"
        if ref is not None:
            return f"'{ref.rsplit('/', 1)[-1]}'"
        return f"#{index}"

    def _annotations(self, old: dict[str, Any], new: dict[str, Any], where: str) -> None:
        for keyword in sorted(ANNOTATIONS | {k for k in (*old, *new) if isinstance(k, str) and k.startswith("x-")}):
            if keyword == "x-unresolved-ref":
                continue
            before, after = old.get(keyword), new.get(keyword)
            if canonical(before) == canonical(after):
                continue
            kind = Kind.EXAMPLES_CHANGED if keyword in ("examples", "example") else Kind.ANNOTATION_CHANGED
            verb = "added" if before is None else "removed" if after is None else "changed"
            self._add(kind, f"{where}/{keyword}", f"{keyword} {verb}", before, after)

    def _others(self, old: dict[str, Any], new: dict[str, Any], where: str) -> None:
        for keyword in sorted({k for k in (*old, *new) if isinstance(k, str)}):
            if keyword in _HANDLED or keyword in ANNOTATIONS or keyword.startswith("x-"):
                continue
            if canonical(old.get(keyword)) != canonical(new.get(keyword)):
                self._add(Kind.SCHEMA_CHANGED, f"{where}/{keyword}",
                          f"{keyword} changed (eventdeck cannot tell whether it accepts less; assumed breaking)",
                          old.get(keyword), new.get(keyword))


def _properties(schema: dict[str, Any]) -> dict[str, Any]:
    found = schema.get("properties")
    return found if isinstance(found, dict) else {}


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _types(value: Any) -> list[str] | None:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [t for t in value if isinstance(t, str)]
    return None


def _covered(kind: str, types: list[str]) -> bool:
    return kind in types or (kind == "integer" and "number" in types)


def _shown_types(types: list[str] | None) -> str:
    return "any" if types is None else " or ".join(types) or "nothing"


def _values(values: Any) -> str:
    return ", ".join(canonical(v) for v in values) if isinstance(values, list) else canonical(values)


def _shape(schema: Any) -> str:
    """The schema without its annotations: two fields with equal shapes are the same field renamed."""
    def strip(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: strip(v) for k, v in node.items() if k not in ANNOTATIONS and not str(k).startswith("x-")}
        if isinstance(node, list):
            return [strip(v) for v in node]
        return node
    return canonical(strip(schema))


def schema_changes(event: str, old: Any, new: Any, where: str) -> list[Change]:
    """Every classified difference between the bundled schemas ``old`` and ``new`` of ``event`` at ``where``."""
    return SchemaDiffer(event, old, new).run(where)
