"""Read one YAML or JSON file into plain JSON values, safely, with YAML 1.2 semantics and source positions.

Why not ``yaml.safe_load``: PyYAML resolves scalars with YAML 1.1 rules (``on``/``off``/``yes``/``no`` become
booleans, ``2026-01-01`` becomes a date, ``0777`` octal), which corrupts enum values of real AsyncAPI documents,
and it cannot refuse an alias bomb before something walks the expanded tree. Here libyaml (the C parser) builds the
node graph — that is linear in the file, since an alias is a shared node — then we measure its expanded size, refuse
bombs and recursive aliases, and construct the values ourselves with the YAML 1.2 core schema while recording where
every mapping key and sequence item came from.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, ClassVar

import yaml

from .errors import Diagnostic, Location, Severity, SourceError

# Refuse before reading: the largest real AsyncAPI document in the corpus is 669 KB.
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
# Nodes a document may have once every alias is expanded. A billion-laughs bomb reaches 10^9 from 1 KB.
MAX_EXPANDED_NODES = 2_000_000

_BaseLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

STR = "tag:yaml.org,2002:str"
INT = "tag:yaml.org,2002:int"
FLOAT = "tag:yaml.org,2002:float"
BOOL = "tag:yaml.org,2002:bool"
NULL = "tag:yaml.org,2002:null"
MAP = "tag:yaml.org,2002:map"
SEQ = "tag:yaml.org,2002:seq"
MERGE = "tag:yaml.org,2002:merge"


class _Yaml12Loader(_BaseLoader):  # type: ignore[misc,valid-type]
    """libyaml's parser with the YAML 1.2 core schema's implicit resolvers instead of YAML 1.1's."""

    yaml_implicit_resolvers: ClassVar[dict[str | None, list[tuple[str, re.Pattern[str]]]]] = {}


def _add_resolver(tag: str, pattern: str, first: str) -> None:
    regexp = re.compile(pattern, re.X)
    for ch in first:
        _Yaml12Loader.yaml_implicit_resolvers.setdefault(ch, []).append((tag, regexp))


_add_resolver(BOOL, r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF")
_add_resolver(NULL, r"^(?:~|null|Null|NULL|)$", "~nN")
_Yaml12Loader.yaml_implicit_resolvers.setdefault(None, []).append((NULL, re.compile(r"^$")))
_add_resolver(INT, r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", "-+0123456789")
_add_resolver(
    FLOAT,
    r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
    "-+.0123456789",
)
_add_resolver(MERGE, r"^<<$", "<")
_RESOLVERS = _Yaml12Loader.yaml_implicit_resolvers


_PLAIN_TAGS: dict[str, str] = {}  # plain scalar text -> tag; documents repeat the same words thousands of times


def _resolve(self: Any, kind: type, value: str, implicit: tuple[bool, bool]) -> str:
    """PyYAML's ``Resolver.resolve`` without path resolvers: called once per scalar, so kept lean."""
    if kind is yaml.ScalarNode:
        if not implicit[0]:
            return STR
        tag = _PLAIN_TAGS.get(value)
        if tag is None:
            tag = STR
            for candidate, regexp in _RESOLVERS.get(value[0] if value else None, ()):
                if regexp.match(value):
                    tag = candidate
                    break
            if len(_PLAIN_TAGS) < 100_000 and len(value) < 64:
                _PLAIN_TAGS[value] = tag
        return tag
    return SEQ if kind is yaml.SequenceNode else MAP


_Yaml12Loader.resolve = _resolve

_TRUE = {"true", "True", "TRUE"}


# Positions: id(container) -> (line, column, per-key or per-item positions). Lines and columns are 1-based.
Position = tuple[int, int]


@dataclass
class SourceDocument:
    """A parsed file: its JSON value, and a way to turn a JSON pointer into a line and column."""

    uri: str
    data: Any
    text: str = field(repr=False)
    diagnostics: tuple[Diagnostic, ...] = ()
    _positions: dict[int, tuple[Position, Any]] | None = field(default=None, repr=False)

    @cached_property
    def positions(self) -> dict[int, tuple[Position, Any]]:
        """Built on demand for JSON files (parsed by the fast ``json`` module, which records none)."""
        if self._positions is not None:
            return self._positions
        try:
            twin, positions, _ = _construct(self.text, self.uri)
        except SourceError:
            return {}
        return _rekey_positions(positions, self.data, twin)

    def locate(self, pointer: str) -> Location:
        """The location of ``pointer`` with the line/column of the deepest part of it that has a known position."""
        line = column = None
        node = self.data
        positions = self.positions
        own = positions.get(id(node))
        if own:
            (line, column), _ = own
        for token in _pointer_tokens(pointer):
            own = positions.get(id(node))
            if isinstance(node, dict):
                if token not in node:
                    break
                if own and token in own[1]:
                    line, column = own[1][token]
                node = node[token]
            elif isinstance(node, list):
                try:
                    index = int(token)
                    node = node[index]
                except (ValueError, IndexError):
                    break
                if own and index < len(own[1]):
                    line, column = own[1][index]
            else:
                break
        return Location(self.uri, pointer, line, column)


def _rekey_positions(positions: dict[int, tuple[Position, Any]], json_data: Any, yaml_data: Any
                     ) -> dict[int, tuple[Position, Any]]:
    """Map positions recorded on the YAML-built twin onto the containers of the JSON-built value."""
    out: dict[int, tuple[Position, Any]] = {}
    stack = [(json_data, yaml_data)]
    while stack:
        mine, theirs = stack.pop()
        if isinstance(mine, dict) and isinstance(theirs, dict):
            if id(theirs) in positions:
                out[id(mine)] = positions[id(theirs)]
            stack.extend((mine[k], theirs[k]) for k in mine if k in theirs)
        elif isinstance(mine, list) and isinstance(theirs, list):
            if id(theirs) in positions:
                out[id(mine)] = positions[id(theirs)]
            stack.extend(zip(mine, theirs, strict=False))
    return out


def _pointer_tokens(pointer: str) -> list[str]:
    if not pointer:
        return []
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer.lstrip("/").split("/")]


def parse_text(text: str, uri: str) -> SourceDocument:
    """Parse ``text`` (YAML 1.2 or JSON) that came from ``uri``. Raises :class:`SourceError` if it cannot be
    modelled; recoverable problems (duplicate keys) come back as diagnostics."""
    if len(text) > MAX_DOCUMENT_BYTES:
        raise SourceError(
            f"document is {len(text):,} characters; eventdeck refuses documents over {MAX_DOCUMENT_BYTES:,} "
            "bytes (split it into files joined by $ref)", Location(uri))
    stripped = text.lstrip()
    if uri.endswith(".json") or stripped.startswith(("{", "[")):
        try:
            return SourceDocument(uri, json.loads(text), text)
        except json.JSONDecodeError as exc:
            if uri.endswith(".json"):
                raise SourceError(f"invalid JSON: {exc.msg}", Location(uri, "", exc.lineno, exc.colno)) from exc
        except RecursionError as exc:
            raise SourceError("document is nested too deeply to be a contract", Location(uri)) from exc
    data, positions, diagnostics = _construct(text, uri)
    return SourceDocument(uri, data, text, tuple(diagnostics), positions)


def _construct(text: str, uri: str) -> tuple[Any, dict[int, tuple[Position, Any]], list[Diagnostic]]:
    loader = _Yaml12Loader(text)
    try:
        try:
            root = loader.get_single_node()
        except yaml.composer.ComposerError as exc:
            raise _yaml_error(exc, uri) from exc
        except yaml.YAMLError as exc:
            raise _yaml_error(exc, uri) from exc
    finally:
        loader.dispose()
    if root is None:
        raise SourceError("document is empty", Location(uri, "", 1, 1))
    builder = _Builder(uri)
    try:
        data = builder.build(root)  # linear even for a bomb: an alias is a shared value, not a copy
    except RecursionError as exc:
        raise SourceError("document is nested too deeply to be a contract", Location(uri)) from exc
    if builder.aliases:
        builder.check_expansion(root)
    return data, builder.positions, builder.diagnostics


def _yaml_error(exc: yaml.YAMLError, uri: str) -> SourceError:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    message = f"invalid YAML: {problem}" + (f" ({context})" if context else "")
    if "expected a single document" in str(exc):
        message = "invalid YAML: a contract file holds exactly one YAML document (found a second '---')"
    if mark is not None:
        return SourceError(message, Location(uri, "", mark.line + 1, mark.column + 1))
    return SourceError(message, Location(uri))


class _Builder:
    def __init__(self, uri: str) -> None:
        self.uri = uri
        self.positions: dict[int, tuple[Position, Any]] = {}
        self.diagnostics: list[Diagnostic] = []
        self._built: dict[int, Any] = {}
        self.aliases = 0

    def check_expansion(self, root: yaml.Node) -> None:
        """Refuse alias bombs and recursive aliases before anything expands them."""
        sizes: dict[int, int] = {}
        in_progress: set[int] = set()
        # Iterative post-order walk: a bomb may be deep as well as wide.
        stack: list[tuple[yaml.Node, bool]] = [(root, False)]
        while stack:
            node, done = stack.pop()
            key = id(node)
            if done:
                in_progress.discard(key)
                total = 1 + sum(sizes[id(c)] for c in _children(node))
                if total > MAX_EXPANDED_NODES:
                    raise SourceError(
                        f"YAML aliases expand this document past {MAX_EXPANDED_NODES:,} nodes (an alias bomb?); "
                        "refused", Location(self.uri, "", node.start_mark.line + 1, node.start_mark.column + 1))
                sizes[key] = total
                continue
            if key in sizes:
                continue
            if key in in_progress:
                raise SourceError("a YAML alias refers to a node that contains it (recursive alias); refused",
                                  Location(self.uri, "", node.start_mark.line + 1, node.start_mark.column + 1))
            in_progress.add(key)
            stack.append((node, True))
            stack.extend((child, False) for child in _children(node) if id(child) not in sizes)

    def build(self, node: yaml.Node) -> Any:
        if isinstance(node, yaml.ScalarNode):
            return self._scalar(node)
        key = id(node)
        if key in self._built:  # an alias: share the value, as JSON consumers will copy if they must
            self.aliases += 1
            return self._built[key]
        if isinstance(node, yaml.SequenceNode):
            self._check_tag(node, SEQ)
            items: list[Any] = []
            self._built[key] = items
            item_positions = []
            for child in node.value:
                items.append(self.build(child))
                item_positions.append((child.start_mark.line + 1, child.start_mark.column + 1))
            self.positions[id(items)] = ((node.start_mark.line + 1, node.start_mark.column + 1), item_positions)
            return items
        assert isinstance(node, yaml.MappingNode)
        self._check_tag(node, MAP)
        mapping: dict[str, Any] = {}
        self._built[key] = mapping
        key_positions: dict[str, Position] = {}
        merged: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == MERGE:
                for source in self._merge_sources(value_node):
                    for k, v in source.items():
                        merged.setdefault(k, v)
                continue
            name = self._key(key_node)
            where = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            if name in mapping:
                self.diagnostics.append(Diagnostic(
                    Severity.ERROR, "duplicate-key",
                    f"duplicate key '{name}' in a mapping (first at line {key_positions[name][0]}); "
                    "keys must be unique", Location(self.uri, "", *where)))
            mapping[name] = self.build(value_node)
            key_positions[name] = where
        for k, v in merged.items():
            mapping.setdefault(k, v)
        self.positions[id(mapping)] = ((node.start_mark.line + 1, node.start_mark.column + 1), key_positions)
        return mapping

    def _merge_sources(self, node: yaml.Node) -> list[dict[str, Any]]:
        nodes = node.value if isinstance(node, yaml.SequenceNode) else [node]
        sources = []
        for item in nodes:
            value = self.build(item)
            if not isinstance(value, dict):
                raise SourceError("a YAML merge key ('<<') must refer to a mapping or a list of mappings",
                                  Location(self.uri, "", item.start_mark.line + 1, item.start_mark.column + 1))
            sources.append(value)
        return sources

    def _key(self, node: yaml.Node) -> str:
        if not isinstance(node, yaml.ScalarNode):
            raise SourceError("mapping keys must be plain strings, not collections",
                              Location(self.uri, "", node.start_mark.line + 1, node.start_mark.column + 1))
        # JSON has only string keys; keep what was written (`200:` stays "200", `on:` stays "on").
        self._check_tag(node, node.tag)
        return str(node.value)

    def _check_tag(self, node: yaml.Node, expected: str) -> None:
        if node.tag != expected and node.tag not in (STR, INT, FLOAT, BOOL, NULL, MAP, SEQ):
            raise SourceError(
                f"YAML tag '{node.tag}' is not allowed in a contract (only JSON-compatible values are)",
                Location(self.uri, "", node.start_mark.line + 1, node.start_mark.column + 1))

    def _scalar(self, node: yaml.ScalarNode) -> Any:
        tag, value = node.tag, node.value
        try:
            if tag == STR:
                return value
            if tag == INT:
                if value.startswith("0o"):
                    return int(value[2:], 8)
                if value.startswith("0x"):
                    return int(value[2:], 16)
                return int(value)
            if tag == FLOAT:
                lowered = value.lower()
                if lowered.endswith(".inf") or lowered.endswith(".nan"):
                    raise SourceError(f"'{value}' is not a JSON number", self._where(node))
                return float(value)
            if tag == BOOL:
                return value in _TRUE
            if tag == NULL:
                return None
        except ValueError as exc:
            raise SourceError(f"'{value}' is not a valid {tag.rsplit(':', 1)[-1]}", self._where(node)) from exc
        raise SourceError(f"YAML tag '{tag}' is not allowed in a contract (only JSON-compatible values are)",
                          self._where(node))

    def _where(self, node: yaml.Node) -> Location:
        return Location(self.uri, "", node.start_mark.line + 1, node.start_mark.column + 1)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []
