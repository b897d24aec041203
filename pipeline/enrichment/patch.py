"""RFC 6902 JSON Patch compiled once into one small function per operation, applied with copy-on-write.

``jsonpatch`` parses and checks the operations (and is the oracle the tests compare against); applying them
through its operation objects costs ~5 us per operation (pointer walks, ABC checks, deep copies), which on the
producer's hot path is most of enrichment. Here each operation becomes a closure over pre-split pointer tokens
that copies only the containers it writes to, so the input is never modified and unchanged subtrees are shared.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jsonpatch
import jsonpointer

from pipeline.errors import EventdeckError

# A patched document shares every subtree it does not write to with its input. ``owned`` holds the ids of the
# containers this application made itself and may therefore change in place; any other container on the way to a
# write is copied first (and its copy owned). A container that is not owned never holds an owned one, which is what
# lets ``copy`` share a value instead of deep-copying it: it just gives up ownership of the value's owned part.
# The ids stay meaningful for the whole application: the caller's objects outlive it, so an id is only ever reused
# by an object made during the application, which is ours either way.

_Token = tuple[str, int | None]  # an RFC 6901 reference token, unescaped, and its value as an array index if any
_Step = Callable[[Any, set[int]], Any]  # (document, owned) -> the document after one operation

_ARRAY_INDEX = re.compile("0|[1-9][0-9]*")  # as jsonpointer: no sign, no leading zero
_ABSENT: Any = object()
_PLAIN_SCALARS = (str, int, float)  # not bool: equal to 1 and 0 in Python, not in JSON


class PatchFailed(EventdeckError, ValueError):
    """Operation ``index`` (``op`` at ``path``) of a compiled patch cannot be applied to this document."""

    def __init__(self, index: int, op: str, path: str, reason: str) -> None:
        self.index = index
        self.op = op
        self.path = path
        self.reason = reason
        super().__init__(f"{op} {path}: {reason}")


class _Conflict(Exception):
    """Raised by a compiled step; :meth:`Patch.apply` turns it into :class:`PatchFailed` naming the operation."""


@dataclass(frozen=True)
class Patch:
    """A JSON Patch (RFC 6902, as ``jsonpatch`` applies it) compiled into one function per operation."""

    steps: tuple[tuple[str, str, _Step], ...]  # (op, path, step)

    def apply(self, document: Any, owned: set[int] | None = None) -> Any:
        """``document`` patched; raises :class:`PatchFailed`.

        Only containers whose ids are in ``owned`` (the caller's own scratch copies) are changed in place; every
        other container is copied before it is written to, and ``owned`` grows by those copies. The result may share
        unchanged subtrees with ``document``, and values copied by a ``copy`` operation may appear twice in it."""
        owned = set() if owned is None else owned
        for index, (op, path, step) in enumerate(self.steps):
            try:
                document = step(document, owned)
            except _Conflict as exc:
                raise PatchFailed(index, op, path, str(exc)) from None
        return document


def compile_patch(operations: Any) -> Patch:
    """The compiled form of a list of RFC 6902 operations.

    ``jsonpatch`` parses and checks them; malformed operations raise its ``JsonPatchException`` (or jsonpointer's
    ``JsonPointerException``) here, including a missing ``value`` or ``from``, which jsonpatch itself only reports
    when applying (such an operation would fail every document)."""
    patch = jsonpatch.JsonPatch(operations)
    return Patch(tuple((op["op"], op["path"], _compile_operation(op)) for op in patch.patch))


def _tokens(pointer: Any) -> tuple[_Token, ...]:
    try:
        parts = jsonpointer.JsonPointer(pointer).parts
    except TypeError:
        raise jsonpatch.InvalidJsonPatch(f"invalid JSON pointer {pointer!r}") from None
    return tuple((part, int(part) if _ARRAY_INDEX.fullmatch(part) else None) for part in parts)


def _compile_operation(operation: Mapping[str, Any]) -> _Step:
    op = operation["op"]
    path = _tokens(operation["path"])
    for member, ops in (("value", ("add", "replace", "test")), ("from", ("move", "copy"))):
        if op in ops and member not in operation:
            raise jsonpatch.InvalidJsonPatch(f"'{op}' operation without a '{member}' member", op=operation)
    if op == "test":
        return _test(path, operation["value"])
    if op in ("move", "copy"):
        source = _tokens(operation["from"])
        return _move(source, path) if op == "move" else _copy(source, path)
    if op == "remove":
        return _remove(path)
    return _add(path, _constant(operation["value"]), replace=op == "replace")


def _constant(value: Any) -> Callable[[], Any]:
    """A fresh copy of an operation's ``value`` per document, so no payload shares objects with the contract."""
    if isinstance(value, dict | list):
        return lambda: _json_copy(value)
    return lambda: value


def _json_copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _json_copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_json_copy(item) for item in value]
    return value


def _child(node: Any, key: str, index: int | None) -> Any:
    """One step down, as ``JsonPointer.walk`` takes it (``-`` of an array is no element)."""
    if isinstance(node, dict):
        child = node.get(key, _ABSENT)
        if child is _ABSENT:
            raise _Conflict(f"member '{key}' not found")
        return child
    if isinstance(node, list):
        if index is None:
            raise _Conflict(f"'{key}' is not a valid array index")
        if index >= len(node):
            raise _Conflict(f"index '{index}' is out of bounds")
        return node[index]
    # Not JSON, but readable by jsonpointer: a look-up callable may return other mappings and sequences.
    if isinstance(node, Mapping):
        return _child(dict(node), key, index)
    if isinstance(node, Sequence) and not isinstance(node, str | bytes):
        return _child(list(node), key, index)
    raise _Conflict(f"cannot resolve '{key}' in {type(node).__name__} value")


def _resolve(document: Any, tokens: tuple[_Token, ...]) -> Any:
    for key, index in tokens:
        child = document.get(key, _ABSENT) if isinstance(document, dict) else _ABSENT  # the common case inline
        document = _child(document, key, index) if child is _ABSENT else child
    return document


def _owned(node: Any, owned: set[int]) -> Any:
    """An owned shallow copy of ``node``, which this application does not own (anything but a container as is)."""
    if isinstance(node, dict) or (not isinstance(node, list) and isinstance(node, Mapping)):
        node = dict(node)
    elif isinstance(node, list) or (isinstance(node, Sequence) and not isinstance(node, str | bytes)):
        node = list(node)
    else:
        return node
    owned.add(id(node))
    return node


def _writable_parent(document: Any, parents: tuple[_Token, ...], owned: set[int]) -> tuple[Any, Any]:
    """(document, the container at ``parents``), with that container and all above it owned (copy-on-write)."""
    if id(document) not in owned:
        document = _owned(document, owned)
    node = document
    for key, index in parents:
        child = node.get(key, _ABSENT) if isinstance(node, dict) else _ABSENT
        if child is _ABSENT:
            child = _child(node, key, index)
        if id(child) not in owned:
            copy = _owned(child, owned)
            if copy is not child:
                node[key if isinstance(node, dict) else index] = copy
            child = copy
        node = child
    return document, node


def _disown(value: Any, owned: set[int]) -> None:
    """Give up ownership of ``value``'s owned containers: it is about to be shared, so neither place may change it."""
    if id(value) in owned:
        owned.discard(id(value))
        for child in value.values() if isinstance(value, dict) else value:
            _disown(child, owned)


def _not_a_container(node: Any, key: str) -> _Conflict:
    return _Conflict(f"cannot resolve '{key}' in {type(node).__name__} value")


def _add(path: tuple[_Token, ...], value_of: Callable[[], Any], *, replace: bool) -> _Step:
    """``add`` or ``replace`` of a constant."""
    if not path:
        return lambda document, owned: value_of()  # the whole document, whatever it was
    parents, (key, index) = path[:-1], path[-1]
    insert = _insertion(parents, key, index)
    if not replace:
        return lambda document, owned: insert(document, owned, value_of())

    def step(document: Any, owned: set[int]) -> Any:
        document, parent = _writable_parent(document, parents, owned)
        if isinstance(parent, dict):
            if key not in parent:
                raise _Conflict(f"can't replace a non-existent object '{key}'")
            parent[key] = value_of()
        elif isinstance(parent, list):
            if index is None:
                raise _Conflict("'path' with '-' can't be applied to 'replace' operation" if key == "-"
                                else f"'{key}' is not a valid array index")
            if index >= len(parent):
                raise _Conflict("can't replace outside of list")
            parent[index] = value_of()
        else:
            raise _not_a_container(parent, key)
        return document

    return step


def _insertion(parents: tuple[_Token, ...], key: str, index: int | None) -> Callable[[Any, set[int], Any], Any]:
    """RFC 6902 ``add`` of a given value below the root: set a member, insert into an array, or append (``-``)."""
    def insert(document: Any, owned: set[int], value: Any) -> Any:
        document, parent = _writable_parent(document, parents, owned)
        if isinstance(parent, dict):
            parent[key] = value
        elif isinstance(parent, list):
            if index is None:
                if key != "-":
                    raise _Conflict(f"'{key}' is not a valid array index")
                parent.append(value)
            elif index > len(parent):
                raise _Conflict("can't insert outside of list")
            else:
                parent.insert(index, value)
        else:
            raise _not_a_container(parent, key)
        return document

    return insert


def _placing(path: tuple[_Token, ...]) -> Callable[[Any, set[int], Any], Any]:
    """``add`` of a given value anywhere, the root included (the target half of ``move`` and ``copy``)."""
    if not path:
        return lambda document, owned, value: value
    return _insertion(path[:-1], *path[-1])


def _remove(path: tuple[_Token, ...]) -> _Step:
    parents, (key, index) = path[:-1], path[-1] if path else ("", None)

    def step(document: Any, owned: set[int]) -> Any:
        if not path:
            raise _Conflict("can't remove the whole document")
        document, parent = _writable_parent(document, parents, owned)
        if isinstance(parent, dict):
            if key not in parent:
                raise _Conflict(f"can't remove a non-existent object '{key}'")
            del parent[key]
        elif isinstance(parent, list):
            if index is None:
                raise _Conflict(f"invalid array index '{key}'")
            if index >= len(parent):
                raise _Conflict(f"can't remove a non-existent object '{index}'")
            del parent[index]
        else:
            raise _not_a_container(parent, key)
        return document

    return step


def _move(source: tuple[_Token, ...], path: tuple[_Token, ...]) -> _Step:
    into_itself = path != source and path[:len(source)] == source  # checked first, as jsonpatch does
    detach = _remove(source)
    place = _placing(path)

    def step(document: Any, owned: set[int]) -> Any:
        if into_itself:
            raise _Conflict("Cannot move values into their own children")
        if not source:
            return document  # the whole document onto itself
        value = _resolve(document, source)  # it must exist
        if path == source:
            return document
        # The value keeps its identity, and so whether it is owned: it is only in one place afterwards.
        return place(detach(document, owned), owned, value)

    return step


def _copy(source: tuple[_Token, ...], path: tuple[_Token, ...]) -> _Step:
    place = _placing(path)

    def step(document: Any, owned: set[int]) -> Any:
        value = _resolve(document, source)  # it must exist
        _disown(value, owned)  # shared, not deep-copied: a later write to either place copies on write
        return place(document, owned, value)

    return step


def _test(path: tuple[_Token, ...], expected: Any) -> _Step:
    equal: Callable[[Any], bool]
    if isinstance(expected, str):
        equal = expected.__eq__  # a string equals strings only, so plain == is already JSON equality
    else:
        def equal(actual: Any) -> bool:
            return _json_equal(actual, expected)

    def step(document: Any, owned: set[int]) -> Any:
        actual = _resolve(document, path)
        if equal(actual) is not True:
            raise _Conflict(f"{actual} ({type(actual)}) is not equal to tested value {expected} ({type(expected)})")
        return document

    return step


def _json_equal(first: Any, second: Any) -> bool:
    """Equality as RFC 6902 4.6 and jsonpatch define it: numbers by value (``1`` equals ``1.0``), but ``true`` and
    ``false`` only equal themselves (Python has ``True == 1``); arrays and objects member by member."""
    if type(first) is type(second) and type(first) in _PLAIN_SCALARS:
        return bool(first == second)
    if isinstance(first, bool) or isinstance(second, bool):
        return isinstance(first, bool) and isinstance(second, bool) and first == second
    if isinstance(first, Mapping) and isinstance(second, Mapping):
        return len(first) == len(second) and all(
            key in second and _json_equal(item, second[key]) for key, item in first.items())
    if (isinstance(first, Sequence) and isinstance(second, Sequence)
            and not isinstance(first, str | bytes) and not isinstance(second, str | bytes)):
        return len(first) == len(second) and all(map(_json_equal, first, second))
    return bool(first == second)
