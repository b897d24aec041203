"""A payload (or headers) schema as a tree a reader can follow, with a stable anchor on every field.

The input is the model's bundled schema (:attr:`pipeline.contract.Schema.document`: every ``$ref`` points into its
own ``$defs`` or is ``#``). What the tree does with it:

* ``allOf`` branches (and the targets of ``$ref``) are **merged** into one node: a consumer reads the fields the
  event has, not how the producer composed them; the names of the definitions used are kept (``ref``).
* ``oneOf`` / ``anyOf`` become **alternatives**, each option a node of its own.
* arrays are transparent: the fields of ``lines[]`` items sit under ``lines`` (anchor ``payload.lines.sku``).
* a ``$ref`` to a definition that is being expanded further up the same branch (a recursive schema such as a line
  item's ``components``) becomes a **link** to that field, never an expansion; a large definition used a second
  time links to its first expansion; a node budget and a depth limit keep pathological schemas finite.

Anchors are ``<prefix>.<property>.<property>``; alternatives add ``oneOf1``/``anyOf2`` (1-based), pattern and
additional properties add ``pattern1``/``additional``. They depend only on the schema, so deep links survive
rebuilds.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from functools import lru_cache
from typing import Any

from markupsafe import Markup

from pipeline.contract.refs import resolve_pointer

from .markup import description_html, json_inline

MAX_NODES = 1500
MAX_DEPTH = 16
MAX_ENUM = 60
MAX_LEAVES = 32768  # schema dicts a LeafMemo remembers (a few megabytes), then it starts again
SMALL_DEFINITION = 12  # nodes: a definition this small is shown in full wherever it is used
RANGE = "\u2013"  # an en dash between the bounds of a range
_ANCHOR_UNSAFE = re.compile(r"[\s#%\"'<>`]+")


@dataclass(frozen=True, slots=True)
class Fact:
    """One constraint or property of a field, e.g. ``("pattern", "^M[0-9]{4}$")``."""

    label: str
    value: str = ""
    code: bool = True


@dataclass(frozen=True, slots=True)
class FieldLink:
    """A field that is not expanded here: ``anchor`` is where it is (recursion) or was first (repetition)."""

    anchor: str
    reason: str  # "recursive" | "repeated" | "truncated"
    label: str


@dataclass(frozen=True, slots=True)
class Alternatives:
    keyword: str  # "oneOf" | "anyOf"
    options: tuple[FieldNode, ...]

    @property
    def label(self) -> str:
        return "exactly one of" if self.keyword == "oneOf" else "any of"


@dataclass(frozen=True, slots=True)
class FieldNode:
    anchor: str
    name: str
    role: str  # "root" | "property" | "pattern" | "additional" | "option"
    type: str
    required: bool = False
    title: str | None = None
    description: Markup = field(default_factory=Markup)
    ref: str | None = None
    format: str | None = None
    facts: tuple[Fact, ...] = ()
    enum: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()
    link: FieldLink | None = None
    children: tuple[FieldNode, ...] = ()
    alternatives: tuple[Alternatives, ...] = ()

    @property
    def is_container(self) -> bool:
        return bool(self.children or self.alternatives)

    def walk(self) -> Iterable[FieldNode]:
        yield self
        for child in self.children:
            yield from child.walk()
        for alternative in self.alternatives:
            for option in alternative.options:
                yield from option.walk()


@dataclass(frozen=True, slots=True)
class SchemaTree:
    root: FieldNode
    anchors: frozenset[str]
    truncated: bool = False

    def anchor_for_pointer(self, pointer: str) -> str | None:
        """The anchor of the field a JSON Pointer into an instance names (array indices skipped), if shown."""
        tokens = [t.replace("~1", "/").replace("~0", "~") for t in pointer.split("/")[1:]]
        tokens = [t for t in tokens if not (t.isdigit() or t == "-")]
        anchor = ".".join([self.root.anchor, *(_anchor_token(t) for t in tokens)])
        return anchor if anchor in self.anchors else None

    @property
    def field_count(self) -> int:
        return len(self.anchors) - 1


_SLOTS = [getattr(FieldNode, f.name).__set__ for f in fields(FieldNode)]  # the slots' setters, in field order


def _field_node(anchor: str, name: str, role: str, type_: str, required: bool, title: str | None,
                description: Markup, ref: str | None, format_: str | None, facts: tuple[Fact, ...],
                enum: tuple[str, ...], examples: tuple[str, ...], flags: tuple[str, ...], link: FieldLink | None,
                children: tuple[FieldNode, ...], alternatives: tuple[Alternatives, ...], *, _new: Any = object.__new__,
                s0: Any = _SLOTS[0], s1: Any = _SLOTS[1], s2: Any = _SLOTS[2], s3: Any = _SLOTS[3], s4: Any = _SLOTS[4],
                s5: Any = _SLOTS[5], s6: Any = _SLOTS[6], s7: Any = _SLOTS[7], s8: Any = _SLOTS[8], s9: Any = _SLOTS[9],
                s10: Any = _SLOTS[10], s11: Any = _SLOTS[11], s12: Any = _SLOTS[12], s13: Any = _SLOTS[13],
                s14: Any = _SLOTS[14], s15: Any = _SLOTS[15]) -> FieldNode:
    """``FieldNode(...)``, its slots filled directly: the generated ``__init__`` of a frozen dataclass sets each
    field through ``object.__setattr__``, which cost more than the rest of a leaf field's work (the setters are
    bound as defaults: local names). The node is the same: equal, hashable, immutable."""
    node = _new(FieldNode)
    s0(node, anchor)
    s1(node, name)
    s2(node, role)
    s3(node, type_)
    s4(node, required)
    s5(node, title)
    s6(node, description)
    s7(node, ref)
    s8(node, format_)
    s9(node, facts)
    s10(node, enum)
    s11(node, examples)
    s12(node, flags)
    s13(node, link)
    s14(node, children)
    s15(node, alternatives)
    return node


class _Flat:
    """Everything known about one field after merging ``allOf`` and following ``$ref``."""

    __slots__ = ("additional", "alternatives", "closed", "const", "description", "enum", "examples", "facts",
                 "flags", "format", "has_const", "items", "patterns", "properties", "recursion", "refs", "repeated",
                 "required", "title", "tuple_items", "types")

    def __init__(self) -> None:
        self.types: list[str] = []
        self.title: str | None = None
        self.description: str | None = None
        self.refs: list[str] = []
        self.recursion: str | None = None
        self.repeated: str | None = None
        self.properties: dict[str, list[Any]] = {}
        self.required: set[str] = set()
        self.items: list[Any] = []
        self.tuple_items: list[Any] = []
        self.additional: list[Any] = []
        self.closed = False
        self.patterns: dict[str, list[Any]] = {}
        self.alternatives: list[tuple[str, list[Any]]] = []
        self.enum: list[Any] | None = None
        self.has_const = False
        self.const: Any = None
        self.format: str | None = None
        self.facts: list[Fact] = []
        self.examples: list[Any] = []
        self.flags: list[str] = []

    def fact(self, label: str, value: Any = "", *, code: bool = True) -> None:
        item = Fact(label, value if isinstance(value, str) else json_inline(value), code)
        if item not in self.facts:
            self.facts.append(item)


#: The keywords :meth:`_Builder.constraint_facts` reads besides ``x-`` extensions: a schema with none of them (most
#: fields: a type, a description, a format) skips those checks.
_CONSTRAINTS = frozenset({
    "minLength", "maxLength", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "pattern",
    "minItems", "maxItems", "uniqueItems", "minProperties", "maxProperties", "contentEncoding", "contentMediaType",
    "default", "not", "if", "discriminator"})
#: Keywords of :meth:`_Builder.keywords` that few schemas have, checked only when one of them is there.
_RARE = frozenset({"nullable", "prefixItems", "unevaluatedProperties", "patternProperties", "oneOf", "anyOf", "const",
                   "examples", "example", "deprecated", "readOnly", "writeOnly"})


@lru_cache(maxsize=4096)
def _anchor_token(name: str) -> str:
    """A property name as a part of an anchor (the same names recur in every event: ``id``, ``amount``...)."""
    return _ANCHOR_UNSAFE.sub("_", name) or "_"


def _ref_name(ref: str) -> str:
    if ref == "#":
        return "(root)"
    return ref.rsplit("/", 1)[-1].replace("~1", "/").replace("~0", "~")


class Leaf:
    """What a plain leaf schema shows, whichever field it is: the parts of its :class:`FieldNode` that depend
    only on the schema (a dict with neither ``$ref`` nor ``allOf``: nothing of it depends on where it is used)."""

    __slots__ = ("description", "enum", "examples", "facts", "flags", "format", "title", "type")

    def __init__(self, type_: str, title: str | None, description: Markup, format_: str | None,
                 facts: tuple[Fact, ...], enum: tuple[str, ...], examples: tuple[str, ...],
                 flags: tuple[str, ...]) -> None:
        self.type, self.title, self.description, self.format = type_, title, description, format_
        self.facts, self.enum, self.examples, self.flags = facts, enum, examples, flags


#: Plain leaves by the ``id`` of their schema dict, with the dict (which keeps its ``id`` from being reused). A
#: catalogue's events share their definitions' dicts (a document's ``Money``, a shared ``$ref`` file's
#: ``Address``): a view of the catalogue keeps one memo for all of its event pages (at most :data:`MAX_LEAVES`).
LeafMemo = dict[int, tuple[Any, "Leaf"]]


class _Builder:
    def __init__(self, document: Any, prefix: str, leaves: LeafMemo | None = None) -> None:
        self.document = document
        self.prefix = prefix
        self.leaves = leaves
        self.anchors: set[str] = set()
        self.count = 0
        self.truncated = False
        self.first_expansion: dict[str, str] = {}
        self.sizes: dict[str, int] = {}

    # -------------------------------------------------------------------------------------------- resolving
    def resolve(self, ref: str) -> Any:
        if ref == "#":
            return self.document
        if not ref.startswith("#/"):
            return None
        try:
            return resolve_pointer(self.document, ref[1:])
        except KeyError:
            return None

    def ref_title(self, ref: str) -> str:
        target = self.resolve(ref)
        title = target.get("title") if isinstance(target, dict) else None
        return title if isinstance(title, str) and title else _ref_name(ref)

    def option_label(self, option: Any, n: int) -> str:
        """What an alternative is called: its title, or the title (else name) of the definition it refers to."""
        if isinstance(option, dict):
            if isinstance(option.get("title"), str) and option["title"]:
                return option["title"]
            if isinstance(option.get("$ref"), str):
                return self.ref_title(option["$ref"])
        return f"option {n}"

    # ------------------------------------------------------------------------------------------- flattening
    def absorb(self, flat: _Flat, schema: Any, stack: Mapping[str, str], visiting: set[str]) -> None:
        if schema is False:
            flat.fact("never valid", code=False)
            return
        if not isinstance(schema, dict):
            return
        self.keywords(flat, schema)
        ref = schema.get("$ref")
        if isinstance(ref, str):
            if ref in stack or ref in visiting:
                flat.recursion = flat.recursion or ref
            elif ref in self.first_expansion and (self.sizes.get(ref, 0) > SMALL_DEFINITION
                                                  or self.count > MAX_NODES):
                flat.repeated = flat.repeated or ref
            else:
                target = self.resolve(ref)
                if target is None:
                    flat.fact("unresolved $ref", ref)
                else:
                    flat.refs.append(ref)
                    visiting.add(ref)
                    self.absorb(flat, target, stack, visiting)
        all_of = schema.get("allOf")
        for sub in all_of if isinstance(all_of, list) else ():
            self.absorb(flat, sub, stack, visiting)

    def keywords(self, flat: _Flat, s: dict[str, Any]) -> None:
        get = s.get
        kind = get("type")
        if isinstance(kind, str):
            if kind not in flat.types:
                flat.types.append(kind)
        elif isinstance(kind, list):
            for t in kind:
                if isinstance(t, str) and t not in flat.types:
                    flat.types.append(t)
        rare = not _RARE.isdisjoint(s)
        if rare and get("nullable") is True and "null" not in flat.types:
            flat.types.append("null")
        if flat.title is None:
            title = get("title")
            if isinstance(title, str):
                flat.title = title
        if flat.description is None:
            description = get("description")
            if isinstance(description, str):
                flat.description = description
        if flat.format is None:
            format_ = get("format")
            if isinstance(format_, str):
                flat.format = format_
        props = get("properties")
        if isinstance(props, dict):
            properties = flat.properties
            for name, sub in props.items():
                properties.setdefault(str(name), []).append(sub)
        required = get("required")
        if isinstance(required, list):
            flat.required.update(str(r) for r in required)
        items = get("items")
        if items is not None:
            if isinstance(items, (dict, bool)):
                flat.items.append(items)
            elif isinstance(items, list):  # draft-07 tuple form
                flat.tuple_items.extend(items)
        if rare and isinstance(get("prefixItems"), list):
            flat.tuple_items.extend(s["prefixItems"])
        extra = get("additionalProperties")
        if extra is False or (rare and get("unevaluatedProperties") is False):
            flat.closed = True
        elif isinstance(extra, dict) and extra:
            flat.additional.append(extra)
        if rare:
            patterns = get("patternProperties")
            if isinstance(patterns, dict):
                for pattern, sub in patterns.items():
                    flat.patterns.setdefault(str(pattern), []).append(sub)
            for keyword in ("oneOf", "anyOf"):
                options = get(keyword)
                if isinstance(options, list) and options:
                    flat.alternatives.append((keyword, options))
        enum = get("enum")
        if isinstance(enum, list):
            flat.enum = enum if flat.enum is None else [v for v in flat.enum if v in enum]
        if rare and "const" in s:
            flat.has_const, flat.const = True, s["const"]
        if not _CONSTRAINTS.isdisjoint(s):
            self.constraint_facts(flat, s)
        for key in s:
            if isinstance(key, str) and key.startswith("x-"):
                flat.fact(key, s[key])
        if rare:
            examples = get("examples")
            if isinstance(examples, list):
                flat.examples.extend(examples)
            if "example" in s:
                flat.examples.append(s["example"])
            for flag in ("deprecated", "readOnly", "writeOnly"):
                if get(flag) is True and flag not in flat.flags:
                    flat.flags.append(flag)

    @staticmethod
    def constraint_facts(flat: _Flat, s: dict[str, Any]) -> None:
        """The facts of the :data:`_CONSTRAINTS` keywords, in a fixed order (``x-`` extensions follow them)."""
        get = s.get
        low, high = get("minLength"), get("maxLength")
        if low is not None and high is not None:
            flat.fact("length", f"{low}{RANGE}{high}")
        elif low is not None:
            flat.fact("min length", low)
        elif high is not None:
            flat.fact("max length", high)
        minimum, maximum = get("minimum"), get("maximum")
        ex_min, ex_max = get("exclusiveMinimum"), get("exclusiveMaximum")
        if minimum is not None:
            flat.fact(">" if ex_min is True else "≥", minimum)
        if maximum is not None:
            flat.fact("<" if ex_max is True else "≤", maximum)
        if isinstance(ex_min, (int, float)) and not isinstance(ex_min, bool):
            flat.fact(">", ex_min)
        if isinstance(ex_max, (int, float)) and not isinstance(ex_max, bool):
            flat.fact("<", ex_max)
        if get("multipleOf") is not None:
            flat.fact("multiple of", s["multipleOf"])
        if isinstance(get("pattern"), str):
            flat.fact("pattern", s["pattern"])
        low, high = get("minItems"), get("maxItems")
        if low is not None or high is not None:
            flat.fact("items", f"{low if low is not None else 0}{RANGE}{high if high is not None else '∞'}")
        if get("uniqueItems") is True:
            flat.fact("unique items", code=False)
        low, high = get("minProperties"), get("maxProperties")
        if low is not None or high is not None:
            flat.fact("properties", f"{low if low is not None else 0}{RANGE}{high if high is not None else '∞'}")
        for keyword in ("contentEncoding", "contentMediaType"):
            if isinstance(get(keyword), str):
                flat.fact(keyword, s[keyword])
        if "default" in s:
            flat.fact("default", s["default"])
        if "not" in s:
            flat.fact("must not match", s["not"])
        if "if" in s:
            flat.fact("conditional", "if/then/else", code=False)
        if isinstance(get("discriminator"), (str, dict)):
            value = s["discriminator"]
            flat.fact("discriminator", value.get("propertyName", "") if isinstance(value, dict) else value)

    # ---------------------------------------------------------------------------------------------- nodes
    def node(self, name: str, role: str, schemas: list[Any], wanted: str, required: bool,
             stack: Mapping[str, str], depth: int, register: bool = True) -> FieldNode:
        """The field ``name`` (``schemas`` merged), its anchor ``wanted`` (made unique when ``register``). Called once
        per field of a page, positionally: this is the hot loop of an event page's view."""
        anchor = wanted
        if register:
            anchors = self.anchors
            n = 1
            while anchor in anchors:
                n += 1
                anchor = f"{wanted}-{n}"
            anchors.add(anchor)
        self.count += 1
        start = self.count
        leaves = self.leaves
        plain = None  # the schema dict, when this field is one dict that could be a plain leaf
        if leaves is not None and len(schemas) == 1 and type(schemas[0]) is dict:
            plain = schemas[0]
            known = leaves.get(id(plain))
            if known is not None and known[0] is plain:
                leaf = known[1]
                return _field_node(anchor, name, role, leaf.type, required,
                                   leaf.title if leaf.title and leaf.title != name else None, leaf.description,
                                   None, leaf.format, leaf.facts, leaf.enum, leaf.examples, leaf.flags, None, (), ())
            elif "$ref" in plain or "allOf" in plain:
                plain = None
            elif len(leaves) >= MAX_LEAVES:
                leaves.clear()  # a memory bound for a large catalogue (its events share mostly nearby)
        flat = _Flat()
        visiting: set[str] = set()
        for schema in schemas:
            self.absorb(flat, schema, stack, visiting)
        refs = flat.refs
        child_stack: Mapping[str, str]
        if refs:
            # Never changed once made: a field without references passes its own stack on.
            child_stack = {**stack, **{ref: anchor for ref in refs}}
            for ref in refs:
                self.first_expansion.setdefault(ref, anchor)
        else:
            child_stack = stack

        link = None
        if flat.recursion is not None and flat.recursion in stack:
            link = FieldLink(stack[flat.recursion], "recursive", self.ref_title(flat.recursion))
        elif flat.repeated is not None:
            link = FieldLink(self.first_expansion[flat.repeated], "repeated", self.ref_title(flat.repeated))

        children: list[FieldNode] = []
        alternatives: list[Alternatives] = []
        facts = flat.facts  # the flat is this node's own
        enum = list(flat.enum or ())
        item_type = None
        ref_name = (flat.title or self.ref_title(refs[0])) if refs else None
        is_leaf = not (flat.properties or flat.patterns or flat.additional or flat.tuple_items or flat.alternatives
                       or flat.items)
        if is_leaf:
            pass  # a leaf: nothing below it (the common case)
        elif depth >= MAX_DEPTH or self.count > MAX_NODES:
            if flat.properties or flat.items or flat.alternatives:
                self.truncated = True
                link = link or FieldLink(anchor, "truncated", "too deep or too large to show here")
        else:
            below = depth + 1
            node = self.node
            required_names = flat.required
            for prop, subs in flat.properties.items():
                children.append(node(prop, "property", subs, f"{anchor}.{_anchor_token(prop)}",
                                     prop in required_names, child_stack, below))
            for n, (pattern, subs) in enumerate(flat.patterns.items(), 1):
                children.append(node(f"/{pattern}/", "pattern", subs, f"{anchor}.pattern{n}", False, child_stack,
                                     below))
            if flat.additional:
                children.append(node("(any other name)", "additional", flat.additional, f"{anchor}.additional",
                                     False, child_stack, below))
            for n, sub in enumerate(flat.tuple_items, 1):
                children.append(node(f"[{n - 1}]", "property", [sub], f"{anchor}.{n - 1}", False, child_stack,
                                     below))
            for keyword, options in flat.alternatives:
                built = []
                for n, option in enumerate(options, 1):
                    label = self.option_label(option, n)
                    built.append(node(label, "option", [option], f"{anchor}.{keyword}{n}", False, child_stack,
                                      below))
                alternatives.append(Alternatives(keyword, tuple(built)))
            if flat.items:
                # The item shares the array's anchor: its fields are the array's children.
                item = node(name, "item", flat.items, anchor, False, child_stack, below, False)
                children.extend(item.children)
                alternatives.extend(item.alternatives)
                facts.extend(Fact(f"each item: {f.label}", f.value, f.code) for f in item.facts)
                if item.enum:
                    facts.append(Fact("each item one of", ", ".join(item.enum)))
                if item.format:
                    facts.append(Fact("each item format", item.format))
                link = link or item.link
                item_type = item.type
                if item.link is not None and item.type == "any":
                    item_type = item.link.label
                elif item.ref and item.type == "object":
                    item_type = f"{item.ref}"
        if flat.closed and (flat.properties or "object" in flat.types):
            facts.append(Fact("no other properties", code=False))
        if flat.has_const:
            facts.insert(0, Fact("always", json_inline(flat.const)))
        if len(enum) > MAX_ENUM:
            facts.append(Fact(f"and {len(enum) - MAX_ENUM} more values", code=False))
            enum = enum[:MAX_ENUM]

        if refs:
            sizes = self.sizes
            for ref in refs:
                sizes[ref] = max(sizes.get(ref, 0), self.count - start + 1)
        type_label = _type_label(flat, item_type)
        if type_label == "any" and link is not None and link.reason != "truncated":
            type_label = link.label
        result = _field_node(
            anchor, name, role, type_label, required,  # anchor, name, role, type, required
            flat.title if flat.title and flat.title != name and not refs else None,  # title
            description_html(flat.description), ref_name if ref_name != name else None,  # description, ref
            flat.format, tuple(facts), tuple(map(json_inline, enum)),  # format, facts, enum
            tuple(map(json_inline, flat.examples[:5])), tuple(flat.flags), link,  # examples, flags, link
            tuple(children), tuple(alternatives),  # children, alternatives
        )
        if plain is not None and is_leaf:
            # Without $ref and allOf, the flat is this dict's keywords alone (no refs, no link); a leaf has
            # nothing below it, so neither the stack, the depth nor the node budget changed anything but its anchor.
            assert leaves is not None
            leaves[id(plain)] = (plain, Leaf(type_label, flat.title, result.description, flat.format, result.facts,
                                             result.enum, result.examples, result.flags))
        return result


def _type_label(flat: _Flat, item_type: str | None) -> str:
    types = list(flat.types)
    if not types:
        if flat.properties or flat.patterns or flat.additional:
            types = ["object"]
        elif flat.items or flat.tuple_items:
            types = ["array"]
        elif flat.has_const:
            types = [_json_type(flat.const)]
        elif flat.enum:
            types = list(dict.fromkeys(_json_type(v) for v in flat.enum))
        elif flat.alternatives:
            return "one of" if flat.alternatives[0][0] == "oneOf" else "any of"
        else:
            return "any"
    labels = [f"array of {item_type}" if t == "array" and item_type else t for t in types]
    return " | ".join(labels)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def schema_tree(document: Any, prefix: str = "payload", leaves: LeafMemo | None = None) -> SchemaTree:
    """The tree of ``document`` (a bundled JSON Schema) with anchors under ``prefix``. ``leaves``: a memo shared by
    the trees of one catalogue (:data:`LeafMemo`); its schemas must not change while it is in use."""
    builder = _Builder(document, prefix, leaves)
    root = builder.node(prefix, "root", [document], prefix, True, {"#": prefix}, 0)
    return SchemaTree(root, frozenset(builder.anchors), builder.truncated)
