"""One object per distinct JSON value: what lets a large catalogue's model stay small in memory.

A catalogue repeats itself. Every event's bundled schema carries its own copy of the shared definitions (Money,
Address...), the same small property schemas (``{type: string, format: uuid}``) recur in every payload, and every
key (``type``, ``properties``, ``description``) is a separate string object as the parser read it. With 1,000
realistic events, copies of equal strings alone held 27 MB of a 72 MB model. :class:`SharedValues` rebuilds a JSON
value so that equal parts are the same object, compared exactly (``1``, ``1.0`` and ``true`` stay apart, key order
counts), so nothing that reads the value can tell, except by identity.

The model's JSON values are read-only (see :mod:`.model`); sharing makes that a must: a value changed in place
would change every place that shares it.
"""

from __future__ import annotations

import sys
from typing import Any

_intern = sys.intern


class SharedValues:
    """Shares equal parts between the values passed to :meth:`share` while it lives (keep one per document: its
    table holds every distinct part it has seen, so it is dropped once the document is built)."""

    __slots__ = ("_done", "_table")

    def __init__(self) -> None:
        # id(a container passed in) -> (it, its shared form): a part reached again (a definition shared by several
        # bundled schemas, a YAML alias) is not walked again. Holding the container keeps its id from being reused.
        self._done: dict[int, tuple[Any, Any]] = {}
        # The structure of a container (its keys, and for each member the member itself when it is a string, the
        # identity of its shared form when it is a container, (type, value) otherwise) -> its shared form. A
        # container's identity stays valid as a key because the table holds that container.
        self._table: dict[tuple[Any, ...], Any] = {}

    def share(self, value: Any) -> Any:
        """``value`` with every string interned and every container replaced by the first equal one shared so far
        (a new container where a member changed; ``value``'s own containers are never modified)."""
        kind = value.__class__
        if kind is str:
            return _intern(value)
        if kind is dict:
            return self._dict(value)
        if kind is list:
            return self._list(value)
        return value

    def _dict(self, value: dict[str, Any]) -> dict[str, Any]:
        done = self._done.get(id(value))
        if done is not None:
            return done[1]  # type: ignore[no-any-return]
        # Reached again while it is walked (a value that contains itself: a hostile document's references can
        # make one): that member stays as it is.
        self._done[id(value)] = (value, value)
        built: dict[str, Any] = {}
        shape: list[Any] = [dict]
        add = shape.append
        for key, member in value.items():
            key = _intern(key)
            add(key)
            kind = member.__class__
            if kind is str:
                member = _intern(member)
                add(member)
            elif kind is dict:
                member = self._dict(member)
                add(id(member))
            elif kind is list:
                member = self._list(member)
                add(id(member))
            else:
                add(_scalar(member))
            built[key] = member
        return self._shared(value, built, shape)  # type: ignore[no-any-return]

    def _list(self, value: list[Any]) -> list[Any]:
        done = self._done.get(id(value))
        if done is not None:
            return done[1]  # type: ignore[no-any-return]
        # Reached again while it is walked (a value that contains itself: a hostile document's references can
        # make one): that member stays as it is.
        self._done[id(value)] = (value, value)
        built: list[Any] = []
        shape: list[Any] = [list]
        add = shape.append
        for member in value:
            kind = member.__class__
            if kind is str:
                member = _intern(member)
                add(member)
            elif kind is dict:
                member = self._dict(member)
                add(id(member))
            elif kind is list:
                member = self._list(member)
                add(id(member))
            else:
                add(_scalar(member))
            built.append(member)
        return self._shared(value, built, shape)  # type: ignore[no-any-return]

    def _shared(self, value: Any, built: Any, shape: list[Any]) -> Any:
        signature = tuple(shape)
        found = self._table.get(signature)
        if found is None:
            found = self._table[signature] = built
        self._done[id(value)] = (value, found)
        return found


def _scalar(value: Any) -> Any:
    """What tells a non-string member apart: its type with its value (``True == 1 == 1.0`` in Python), the exact
    bits of a float (``0.0 == -0.0``), the identity of anything that is not JSON (kept as it is, never shared)."""
    kind = value.__class__
    if kind is int or kind is bool or value is None:
        return (kind, value)
    if kind is float:
        return (float, value.hex())
    return (kind, id(value))
