"""Read one YAML or JSON file into plain JSON values, safely, with YAML 1.2 semantics and source positions.

Why not ``yaml.safe_load``: PyYAML resolves scalars with YAML 1.1 rules (``on``/``off``/``yes``/``no`` become
booleans, ``2026-01-01`` becomes a date, ``0777`` octal), which corrupts enum values of real AsyncAPI documents,
and it cannot refuse an alias bomb before something walks the expanded tree. Here libyaml (the C parser) builds the
node graph — that is linear in the file, since an alias is a shared node — then we measure its expanded size, refuse
bombs and recursive aliases, and construct the values ourselves with the YAML 1.2 core schema while recording where
every mapping key and sequence item came from. Most contracts use none of what needs the node graph (anchors, merge
keys, tags, duplicate keys), so they are first read in one pass over libyaml's events (:func:`_construct_fast`, the
same values and positions at about half the cost); the first thing out of the ordinary sends the text to the
checking reader instead.
"""

from __future__ import annotations

import gc
import json
import math
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, ClassVar

import yaml

from .errors import Diagnostic, Location, Severity, SourceError

# Refuse before reading: the largest real AsyncAPI document in the corpus is 669 KB.
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
# Nodes a document may have once every alias is expanded. A billion-laughs bomb reaches 10^9 from 1 KB.
MAX_EXPANDED_NODES = 2_000_000
#: How many objects and arrays deep a document may nest (the top-level mapping is level 1), in one file and, through
#: ``$ref``, in the whole dereferenced document. The deepest document of the shared corpus nests 20 levels, even
#: with its ``$ref``s followed; 64 leaves room for real contracts three times deeper while every recursive reader
#: of the model (the bundler, jsonschema's validators, the enrichment's pruning plan, the catalogue's schema tree)
#: stays far below Python's 1,000-frame recursion limit, so a deeper document is a contract error with its place,
#: never a ``RecursionError``.
MAX_NESTING_DEPTH = 64
#: The message of a breach (with its place: file, line, pointer).
TOO_DEEP = (f"nested more than {MAX_NESTING_DEPTH} levels deep (objects and arrays); eventdeck refuses deeper "
            "documents")

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
    modelled; recoverable problems (duplicate keys) come back as diagnostics.

    A ``.json`` file is read as strictly as YAML: a duplicate key is an error with its position (the ``json``
    module would keep the last value silently), and ``NaN``/``Infinity`` are refused (``json`` accepts them, and a
    schema carrying one could not be published as JSON)."""
    if len(text) > MAX_DOCUMENT_BYTES:
        raise SourceError(
            f"document is {len(text):,} characters; eventdeck refuses documents over {MAX_DOCUMENT_BYTES:,} "
            "bytes (split it into files joined by $ref)", Location(uri))
    is_json = uri.lower().endswith(".json")
    if is_json or text.lstrip().startswith(("{", "[")):
        try:
            return _parse_json(text, uri)
        except json.JSONDecodeError as exc:
            if is_json:
                raise SourceError(f"invalid JSON: {exc.msg}", Location(uri, "", exc.lineno, exc.colno)) from exc
        except _NotAJsonNumber as exc:
            if is_json or exc.name[-1:].isdigit():
                raise SourceError(_not_a_number(exc.name), _non_finite_location(text, uri)) from None
            # Not a .json file: YAML reads the same text, and to YAML 1.2 a bare NaN is a string.
        except RecursionError:
            # Deeper than the json module can go: the YAML reader says where it stopped.
            try:
                _construct(text, uri)
            except SourceError as exc:
                raise SourceError(TOO_DEEP, exc.location) from None
            raise SourceError(TOO_DEEP, Location(uri)) from None
    if FAST_PATH:
        built = _construct_fast(text)
        if built is not None:
            return SourceDocument(uri, built[0], text, (), built[1])
    data, positions, diagnostics = _construct(text, uri)
    return SourceDocument(uri, data, text, tuple(diagnostics), positions)


class _NotAJsonNumber(ValueError):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def _refuse_constant(name: str) -> Any:
    raise _NotAJsonNumber(name)


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):  # 1e400: Python reads it as inf, and would publish it as Infinity
        raise _NotAJsonNumber(text)
    return number


def _not_a_number(text: str) -> str:
    if text.lstrip("-") in ("NaN", "Infinity"):
        return f"'{text}' is not a JSON number (JSON has no NaN or Infinity)"
    shown = text if len(text) <= 24 else text[:20] + "…"
    return f"'{shown}' is too large for a JSON number (it overflows a 64-bit float, as Infinity)"


def _parse_json(text: str, uri: str) -> SourceDocument:
    duplicated: list[dict[str, Any]] = []

    def mapping(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        built = dict(pairs)
        if len(built) != len(pairs):
            duplicated.append(built)
        return built

    data = json.loads(text, object_pairs_hook=mapping, parse_constant=_refuse_constant, parse_float=_finite_float)
    if _deeper_than(data, MAX_NESTING_DEPTH):
        raise SourceError(TOO_DEEP, _json_location(text, uri, data, _first_too_deep(data)))
    if not duplicated:
        return SourceDocument(uri, data, text)
    # Rare: read the text again with the YAML reader, which reports each duplicate with both lines.
    try:
        twin, positions, diagnostics = _construct(text, uri)
    except SourceError:
        ids = {id(built) for built in duplicated}
        pointer = _pointer_to(data, lambda value: id(value) in ids)
        return SourceDocument(uri, data, text, (Diagnostic(
            Severity.ERROR, "duplicate-key", "duplicate key in this JSON object; keys must be unique",
            Location(uri, pointer)),))
    return SourceDocument(uri, data, text, tuple(diagnostics), _rekey_positions(positions, data, twin))


def _children_of(value: Any) -> Any:
    return value.values() if value.__class__ is dict else value


def _deeper_than(data: Any, limit: int) -> bool:
    """Whether ``data`` (a tree of JSON values) nests more than ``limit`` objects/arrays deep: level by level."""
    level = [data] if isinstance(data, dict | list) else []
    for _ in range(limit):
        if not level:
            return False
        level = [child for value in level for child in _children_of(value)
                 if child.__class__ is dict or child.__class__ is list]
    return bool(level)


def _first_too_deep(data: Any) -> str:
    """The pointer of the first object or array (in document order) below :data:`MAX_NESTING_DEPTH` levels."""
    stack: list[tuple[Any, str, int]] = [(data, "", 1)]
    while stack:
        value, pointer, depth = stack.pop()
        if depth > MAX_NESTING_DEPTH:
            return pointer
        items = list(value.items()) if isinstance(value, dict) else list(enumerate(value))
        for key, child in reversed(items):
            if isinstance(child, dict | list):
                stack.append((child, f"{pointer}/{_escape(str(key))}", depth + 1))
    return ""


def _pointer_to(data: Any, wanted: Callable[[Any], bool]) -> str:
    """The pointer of the first value (in document order) for which ``wanted`` is true ('' if none)."""
    stack: list[tuple[Any, str]] = [(data, "")]
    while stack:
        value, pointer = stack.pop()
        if wanted(value):
            return pointer
        if isinstance(value, dict | list):
            items = list(value.items()) if isinstance(value, dict) else list(enumerate(value))
            stack.extend((child, f"{pointer}/{_escape(str(key))}") for key, child in reversed(items))
    return ""


def _json_location(text: str, uri: str, data: Any, pointer: str) -> Location:
    """Where ``pointer`` is in JSON ``text``, with a line when the YAML reader (which records them) can read it."""
    try:
        twin, positions, _ = _construct(text, uri, max_depth=None)
    except (SourceError, RecursionError):
        return Location(uri, pointer)
    return SourceDocument(uri, data, text, _positions=_rekey_positions(positions, data, twin)).locate(pointer)


# A JSON string, or a bare NaN/Infinity or number outside any string.
_JSON_CONSTANT = re.compile(r'"(?:[^"\\]|\\.)*"|(-?Infinity|NaN|-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?)')


def _non_finite_location(text: str, uri: str) -> Location:
    """File, line, column and pointer of the first NaN, Infinity or overflowing number of a JSON ``text`` (an error
    path: parses again)."""
    marker = object()

    def mark(_: str) -> object:
        return marker

    def mark_infinite(number: str) -> object:
        value = float(number)
        return value if math.isfinite(value) else marker

    try:
        data = json.loads(text, parse_constant=mark, parse_float=mark_infinite)
        pointer = _pointer_to(data, lambda value: value is marker)
    except (ValueError, RecursionError):
        pointer = ""
    for match in _JSON_CONSTANT.finditer(text):
        token = match.group(1)
        if token and (token[-1] in "Nny" or not math.isfinite(float(token))):
            offset = match.start(1)
            line = text.count("\n", 0, offset) + 1
            return Location(uri, pointer, line, offset - text.rfind("\n", 0, offset))
    return Location(uri, pointer)


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


#: Whether :func:`parse_text` tries :func:`_construct_fast` first (the benchmark turns it off to compare).
FAST_PATH = True

_SCALAR = yaml.ScalarEvent
_MAPPING_START = yaml.MappingStartEvent
_SEQUENCE_START = yaml.SequenceStartEvent
_ENDS = (yaml.MappingEndEvent, yaml.SequenceEndEvent)


class _Unusual(Exception):
    """The fast reader met something only :func:`_construct` handles (or reports) correctly."""


# Strings are interned as they are read (keys always, values up to this length): a catalogue repeats the same keys
# and words (``type``, ``string``, ``GBP``) hundreds of thousands of times, and every copy made of the values later
# (dereferenced views, bundled schemas, a forked worker's results, pickled once per string) shares them.
_INTERNED_LENGTH = 64
_intern = sys.intern


def _quoted(value: str) -> str:
    return _intern(value) if len(value) < _INTERNED_LENGTH else value


def _plain_value(value: str) -> Any:
    """A plain scalar's value under the YAML 1.2 core schema, or :class:`_Unusual` for what needs a diagnostic.
    (Its caller remembers the value of a short word, so the tag is not remembered here as well.)"""
    tag = _PLAIN_TAGS.get(value)
    if tag is None:
        tag = STR
        for candidate, regexp in _RESOLVERS.get(value[0] if value else None, ()):
            if regexp.match(value):
                tag = candidate
                break
    if tag is STR or tag == STR:
        return _quoted(value)
    if tag == INT:
        if value.startswith("0o"):
            return int(value[2:], 8)
        if value.startswith("0x"):
            return int(value[2:], 16)
        return int(value)
    if tag == FLOAT:
        lowered = value.lower()
        if lowered.endswith(".inf") or lowered.endswith(".nan"):
            raise _Unusual
        number = float(value)
        if not math.isfinite(number):
            raise _Unusual
        return number
    if tag == BOOL:
        return value in _TRUE
    if tag == NULL:
        return None
    raise _Unusual  # the merge key '<<' as a value


def _construct_fast(text: str) -> tuple[Any, dict[int, tuple[Position, Any]]] | None:
    """The values and positions of an ordinary YAML document straight from libyaml's events, or ``None``.

    Why: composing libyaml's node graph (a Python object and two marks per node, then a second walk to build the
    values) is most of the time of loading a contract. Events carry the same marks, so one pass builds the same
    values *and* the same positions at about half the cost. The pass handles only what every real contract uses —
    plain and quoted scalars, mappings with unique string keys, sequences, within the nesting limit — and gives up
    (``None``) at anything else: anchors and aliases (the bomb and recursion checks), merge keys, tags, duplicate
    keys, non-finite numbers, a second document, a YAML error. Then :func:`_construct`, the reader that checks and
    reports all of those with their places, reads the text again, so every guarantee and message stays its own.
    """
    # The cyclic garbage collector would walk every object alive (a whole catalogue, when loading many documents)
    # again and again while this pass allocates; it cannot find anything here (plain trees have no cycles), and
    # skipping it halves the time. Re-enabled on the way out, unless the caller had turned it off.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _read_events(text)
    finally:
        if collecting:
            gc.enable()


# Plain scalar text -> its value, for what :func:`_plain_value` accepts: a catalogue repeats the same plain words
# (``string``, ``object``, ``true``, ``GBP``) hundreds of thousands of times, and one dictionary look-up replaces the
# resolution of each. Values are immutable (str, int, float, bool, None), so sharing one object is invisible.
_PLAIN_VALUES: dict[str, Any] = {}
_PLAIN_VALUES_MAX = 100_000


def _read_events(text: str) -> tuple[Any, dict[int, tuple[Position, Any]]] | None:
    loader = _BaseLoader(text)
    get = loader.get_event
    limit = MAX_NESTING_DEPTH
    positions: dict[int, tuple[Position, Any]] = {}
    known = _PLAIN_VALUES
    intern = _intern
    scalar_kind = _SCALAR
    mapping_kind = _MAPPING_START
    sequence_kind = _SEQUENCE_START
    # The open containers: (container, its per-key/per-item positions, pending key). ``key`` is None between pairs.
    stack: list[tuple[Any, Any, Any]] = []
    push = stack.append
    pop = stack.pop
    container: Any = None
    where: Any = None
    key: str | None = None
    in_mapping = False
    root: Any = None
    missing = _MISSING
    try:
        for _ in range(2):  # StreamStart, DocumentStart
            get()
        while True:
            event = get()
            kind = event.__class__
            if kind is scalar_kind:
                if event.anchor is not None or event.tag is not None:
                    raise _Unusual
                value = event.value
                if in_mapping:
                    if key is None:
                        if value in container or value == "<<":
                            raise _Unusual
                        mark = event.start_mark
                        key = intern(value)
                        where[key] = (mark.line + 1, mark.column + 1)
                        continue
                elif container is None:
                    raise _Unusual  # a document that is a single scalar
                if event.implicit[0]:
                    built = known.get(value, missing)
                    if built is missing:
                        built = _plain_value(value)
                        if len(value) < _INTERNED_LENGTH and len(known) < _PLAIN_VALUES_MAX:
                            known[intern(value)] = built  # the key is the (interned) value of a string
                else:
                    built = intern(value) if len(value) < _INTERNED_LENGTH else value
                if in_mapping:
                    container[key] = built
                    key = None
                else:
                    container.append(built)
                    mark = event.start_mark
                    where.append((mark.line + 1, mark.column + 1))
            elif kind is mapping_kind or kind is sequence_kind:
                if event.anchor is not None or event.tag is not None or len(stack) >= limit:
                    raise _Unusual
                mark = event.start_mark
                at = (mark.line + 1, mark.column + 1)
                new: Any
                new_where: Any
                if kind is mapping_kind:
                    new, new_where = {}, {}
                else:
                    new, new_where = [], []
                positions[id(new)] = (at, new_where)
                if in_mapping:
                    if key is None:
                        raise _Unusual  # a collection as a key
                    container[key] = new
                elif container is not None:
                    container.append(new)
                    where.append(at)
                else:
                    root = new
                push((container, where, None))
                container, where, key = new, new_where, None
                in_mapping = kind is mapping_kind
            elif kind in _ENDS:
                container, where, key = pop()
                in_mapping = container.__class__ is dict
                if not stack:
                    break
            else:
                raise _Unusual  # an alias, an empty document
        if get().__class__ is not yaml.DocumentEndEvent or get().__class__ is not yaml.StreamEndEvent:
            raise _Unusual  # a second document
    except (_Unusual, yaml.YAMLError, ValueError, IndexError, AttributeError):
        return None
    finally:
        loader.dispose()
    return root, positions


_MISSING: Any = object()


def _construct(text: str, uri: str, *, max_depth: int | None = MAX_NESTING_DEPTH
               ) -> tuple[Any, dict[int, tuple[Position, Any]], list[Diagnostic]]:
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
    builder = _Builder(uri, max_depth, root)
    try:
        data = builder.build(root, 1)  # linear even for a bomb: an alias is a shared value, not a copy
    except _TooDeep as exc:
        raise SourceError(TOO_DEEP, builder.where(exc.node, _node_pointer(root, exc.node))) from None
    except RecursionError as exc:
        raise SourceError(TOO_DEEP, Location(uri)) from exc
    if builder.aliases:
        builder.check_expansion(root)
    builder.point_duplicates(root)
    return data, builder.positions, builder.diagnostics


class _TooDeep(Exception):
    def __init__(self, node: yaml.Node) -> None:
        super().__init__()
        self.node = node


def _node_pointer(root: yaml.Node, target: yaml.Node) -> str:
    """The JSON pointer of ``target`` in the node graph under ``root`` (an error path: searches)."""
    stack: list[tuple[yaml.Node, str]] = [(root, "")]
    seen: set[int] = set()
    while stack:
        node, pointer = stack.pop()
        if node is target:
            return pointer
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            stack.extend((child, f"{pointer}/{index}") for index, child in enumerate(node.value))
        elif isinstance(node, yaml.MappingNode):
            stack.extend((value, f"{pointer}/{_escape(str(key.value))}") for key, value in node.value
                         if isinstance(key, yaml.ScalarNode))
    return ""


def _yaml_error(exc: yaml.YAMLError, uri: str) -> SourceError:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    # Never str(exc): PyYAML's text can quote the offending line, and the file may not be a document at all.
    problem = getattr(exc, "problem", None) or type(exc).__name__
    context = getattr(exc, "context", None)
    message = f"invalid YAML: {problem}" + (f" ({context})" if context else "")
    if "expected a single document" in str(exc):
        message = "invalid YAML: a contract file holds exactly one YAML document (found a second '---')"
    if "exceeded maximum nesting depth" in message:  # libyaml's own limit (1,000), far past eventdeck's
        message = TOO_DEEP
    if mark is not None:
        return SourceError(message, Location(uri, "", mark.line + 1, mark.column + 1))
    return SourceError(message, Location(uri))


class _Builder:
    def __init__(self, uri: str, max_depth: int | None = MAX_NESTING_DEPTH, root: yaml.Node | None = None) -> None:
        self.uri = uri
        self.max_depth = max_depth
        self._limit = max_depth if max_depth is not None else 1 << 30  # one comparison per collection node
        self.root = root
        self.positions: dict[int, tuple[Position, Any]] = {}
        self.diagnostics: list[Diagnostic] = []
        self._built: dict[int, Any] = {}
        self._duplicates: list[tuple[yaml.Node, str, int, Position]] = []
        self.aliases = 0

    def where(self, node: yaml.Node, pointer: str = "") -> Location:
        return Location(self.uri, pointer, node.start_mark.line + 1, node.start_mark.column + 1)

    def point_duplicates(self, root: yaml.Node) -> None:
        """Report each duplicate key with its pointer (found only now: the build does not track paths)."""
        for mapping, name, first, where in self._duplicates:
            pointer = f"{_node_pointer(root, mapping)}/{_escape(name)}"
            self.diagnostics.append(Diagnostic(
                Severity.ERROR, "duplicate-key",
                f"duplicate key '{name}' in a mapping (first at line {first}); keys must be unique",
                Location(self.uri, pointer, *where)))

    def check_expansion(self, root: yaml.Node) -> None:
        """Refuse alias bombs and recursive aliases before anything expands them."""
        sizes: dict[int, int] = {}
        heights: dict[int, int] = {}
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
                heights[key] = (1 + max((heights[id(c)] for c in _children(node)), default=0)) \
                    if isinstance(node, yaml.CollectionNode) else 0
                continue
            if key in sizes:
                continue
            if key in in_progress:
                raise SourceError("a YAML alias refers to a node that contains it (recursive alias); refused",
                                  Location(self.uri, "", node.start_mark.line + 1, node.start_mark.column + 1))
            in_progress.add(key)
            stack.append((node, True))
            stack.extend((child, False) for child in _children(node) if id(child) not in sizes)
        if self.max_depth is not None and heights.get(id(root), 0) > self.max_depth:
            # An alias placed deep in the document repeats everything under its anchor there.
            node, pointer = root, ""
            for _ in range(self.max_depth):
                pairs = _keyed_children(node)
                token, node = max(pairs, key=lambda pair: heights[id(pair[1])])
                pointer += f"/{_escape(token)}"
            raise SourceError(TOO_DEEP + " once its YAML aliases are expanded", self.where(node, pointer))

    def build(self, node: yaml.Node, depth: int) -> Any:
        if isinstance(node, yaml.ScalarNode):
            return self._scalar(node)
        key = id(node)
        if key in self._built:  # an alias: share the value, as JSON consumers will copy if they must
            self.aliases += 1
            return self._built[key]
        if depth > self._limit:
            raise _TooDeep(node)
        depth += 1
        if isinstance(node, yaml.SequenceNode):
            self._check_tag(node, SEQ)
            items: list[Any] = []
            self._built[key] = items
            item_positions = []
            for child in node.value:
                items.append(self.build(child, depth))
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
                for source in self._merge_sources(value_node, depth):
                    for k, v in source.items():
                        merged.setdefault(k, v)
                continue
            name = self._key(key_node)
            where = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            if name in mapping:
                self._duplicates.append((node, name, key_positions[name][0], where))
            mapping[name] = self.build(value_node, depth)
            key_positions[name] = where
        for k, v in merged.items():
            mapping.setdefault(k, v)
        self.positions[id(mapping)] = ((node.start_mark.line + 1, node.start_mark.column + 1), key_positions)
        return mapping

    def _merge_sources(self, node: yaml.Node, depth: int) -> list[dict[str, Any]]:
        nodes = node.value if isinstance(node, yaml.SequenceNode) else [node]
        sources = []
        for item in nodes:
            value = self.build(item, depth)
            if not isinstance(value, dict):
                raise SourceError("a YAML merge key ('<<') must refer to a mapping or a list of mappings",
                                  self._where(item))
            sources.append(value)
        return sources

    def _key(self, node: yaml.Node) -> str:
        if not isinstance(node, yaml.ScalarNode):
            raise SourceError("mapping keys must be plain strings, not collections", self._where(node))
        # JSON has only string keys; keep what was written (`200:` stays "200", `on:` stays "on").
        self._check_tag(node, node.tag)
        return _intern(str(node.value))

    def _check_tag(self, node: yaml.Node, expected: str) -> None:
        if node.tag != expected and node.tag not in (STR, INT, FLOAT, BOOL, NULL, MAP, SEQ):
            raise SourceError(
                f"YAML tag '{node.tag}' is not allowed in a contract (only JSON-compatible values are)",
                self._where(node))

    def _scalar(self, node: yaml.ScalarNode) -> Any:
        tag, value = node.tag, node.value
        try:
            if tag == STR:
                return _quoted(value)
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
                number = float(value)
                if not math.isfinite(number):
                    raise SourceError(_not_a_number(value), self._where(node))
                return number
            if tag == BOOL:
                return value in _TRUE
            if tag == NULL:
                return None
        except ValueError as exc:
            raise SourceError(f"'{value}' is not a valid {tag.rsplit(':', 1)[-1]}", self._where(node)) from exc
        raise SourceError(f"YAML tag '{tag}' is not allowed in a contract (only JSON-compatible values are)",
                          self._where(node))

    def _where(self, node: yaml.Node) -> Location:
        """Where ``node`` is, with its pointer (an error path: searched from the root)."""
        return self.where(node, _node_pointer(self.root, node) if self.root is not None else "")


def _keyed_children(node: yaml.Node) -> list[tuple[str, yaml.Node]]:
    if isinstance(node, yaml.SequenceNode):
        return [(str(index), child) for index, child in enumerate(node.value)]
    if isinstance(node, yaml.MappingNode):
        return [(str(key.value), value) for key, value in node.value]
    return []


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


_OPEN = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
_CLOSE = (yaml.MappingEndEvent, yaml.SequenceEndEvent)


def top_level_has_key(stream: Any, name: str) -> bool | None:
    """Whether the top level of the YAML in ``stream`` (text or a binary file) is a mapping with the key ``name``,
    from libyaml's events: no value is built, and reading stops at that key. ``None`` when only the built value can
    tell (a merge key, a complex key). Raises ``yaml.YAMLError`` on what libyaml cannot read."""
    loader = _BaseLoader(stream)
    try:
        depth, expect_key = 0, False
        while loader.check_event():
            event = loader.get_event()
            if depth == 0:
                if isinstance(event, yaml.MappingStartEvent):
                    depth, expect_key = 1, True
                elif isinstance(event, yaml.NodeEvent):
                    return False  # the top level is a list or a scalar
                continue
            if depth == 1 and expect_key:
                if isinstance(event, yaml.ScalarEvent):
                    if event.value == name:
                        return True
                    if event.value == "<<" and event.implicit[0]:
                        return None
                    expect_key = False
                    continue
                if isinstance(event, yaml.MappingEndEvent):
                    return False
                return None  # an alias or a collection as a key
            if isinstance(event, _OPEN):
                depth += 1
            elif isinstance(event, _CLOSE):
                depth -= 1
                expect_key = depth == 1
            elif depth == 1:  # a scalar or alias value of a top-level key
                expect_key = True
        return False
    finally:
        loader.dispose()
