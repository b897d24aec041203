"""What a rule reads: one document of the catalogue, as the model has it and as it is written.

Rules that concern events read the model (:class:`~pipeline.contract.Event`: traits merged, names resolved, the
effective sealing). Rules that concern the shape of the document (operation ids, channel addresses, parameters,
components) read its dereferenced view, built by the contract package's own :class:`Dereferencer` over the same
cached parsed files the loader read — nothing is parsed twice — so every container knows the file and pointer it
came from, and every finding gets a file, line and JSON pointer.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ..errors import DiagnosticSink, Location
from ..model import Catalogue, Document
from ..refs import Dereferencer, RefRoot, Sources

JSON = Any


def escape(token: str | int) -> str:
    return str(token).replace("~", "~0").replace("/", "~1")


@dataclass
class LintTarget:
    """One root document: its model, its catalogue, the raw root file and the dereferenced view."""

    document: Document
    catalogue: Catalogue
    raw: JSON
    view: JSON
    deref: Dereferencer
    _by_origin: dict[tuple[str, str], Any] = field(default_factory=dict, repr=False)

    @classmethod
    def build(cls, document: Document, catalogue: Catalogue, sources: Sources, root: str) -> LintTarget:
        deref = Dereferencer(sources, DiagnosticSink(), root=RefRoot.of(root))
        raw = sources.get(document.path).data
        view = deref.deref_root(document.path)
        target = cls(document, catalogue, raw, view, deref)
        for node in target._containers():
            origin = deref.origins.get(id(node))
            if origin is not None:
                target._by_origin.setdefault(origin, node)
        return target

    # -- where ------------------------------------------------------------------------------------------------
    @property
    def major(self) -> int:
        return self.document.major

    @property
    def path(self) -> str:
        return self.document.path

    def at(self, pointer: str) -> Location:
        """The root file's ``pointer``, with its line and column."""
        return self.deref.locate(self.path, pointer)

    def where(self, node: Any, *tokens: str | int) -> Location:
        """The location of ``node`` (a container of the dereferenced view) or of a member below it."""
        uri, pointer = self.deref.origins.get(id(node), (self.path, ""))
        for token in tokens:
            pointer += "/" + escape(token)
        return self.deref.locate(uri, pointer)

    def node_at(self, location: Location) -> Any:
        """The dereferenced container built from ``location`` (a model object's place), or ``None``."""
        return self._by_origin.get((location.file, location.pointer))

    def _containers(self) -> Iterator[Any]:
        stack = [self.view]
        seen: set[int] = set()
        while stack:
            node = stack.pop()
            if id(node) in seen:
                continue
            seen.add(id(node))
            yield node
            children = node.values() if isinstance(node, dict) else node
            stack.extend(c for c in children if isinstance(c, dict | list))

    # -- the parts of the document rules look at ---------------------------------------------------------------
    def member(self, *path: str) -> Any:
        """``view[path0][path1]...`` or ``None`` where a step is missing or not an object."""
        node = self.view
        for key in path:
            if not isinstance(node, dict):
                return None
            node = node.get(key)
        return node

    def mapping(self, *path: str) -> dict[str, Any]:
        node = self.member(*path)
        return node if isinstance(node, dict) else {}

    def channels(self) -> Iterator[tuple[str, dict[str, Any]]]:
        for key, channel in self.mapping("channels").items():
            if isinstance(channel, dict):
                yield key, channel

    def address(self, key: str, channel: dict[str, Any]) -> str | None:
        """A channel's address: its key in 2.x, its ``address`` in 3.x (``None`` when it has none)."""
        if self.major < 3:
            return key
        address = channel.get("address")
        return address if isinstance(address, str) else None

    def operations(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """(a name for it, the operation): ``channel:verb`` in 2.x, the operation key in 3.x."""
        if self.major < 3:
            for key, channel in self.channels():
                for verb in ("publish", "subscribe"):
                    op = channel.get(verb)
                    if isinstance(op, dict):
                        yield f"{key}:{verb}", op
        else:
            for key, op in self.mapping("operations").items():
                if isinstance(op, dict):
                    yield key, op

    def messages(self) -> Iterator[dict[str, Any]]:
        """Every message object of the document, once each (as written: traits not merged)."""
        seen: set[int] = set()

        def once(candidates: Any) -> Iterator[dict[str, Any]]:
            for message in candidates:
                if isinstance(message, dict) and "$ref" not in message and id(message) not in seen:
                    seen.add(id(message))
                    yield message

        if self.major < 3:
            for _, op in self.operations():
                message = op.get("message")
                if isinstance(message, dict) and isinstance(message.get("oneOf"), list):
                    yield from once(message["oneOf"])
                else:
                    yield from once([message])
        else:
            for _, channel in self.channels():
                messages = channel.get("messages")
                if isinstance(messages, dict):
                    yield from once(messages.values())
        yield from once(self.mapping("components", "messages").values())

    def payloads(self) -> Iterator[tuple[dict[str, Any], Any]]:
        """(message, its payload schema) for every message whose payload is a JSON Schema (no foreign
        ``schemaFormat``): the 3.x multi-format wrapper is looked through."""
        for message in self.messages():
            payload = message.get("payload")
            schema_format = message.get("schemaFormat")
            if self.major >= 3 and isinstance(payload, dict) and "schemaFormat" in payload and "schema" in payload:
                schema_format, payload = payload.get("schemaFormat"), payload.get("schema")
            if payload is None or not is_schema_format_json(schema_format):
                continue
            yield message, payload


def is_schema_format_json(schema_format: Any) -> bool:
    if schema_format is None:
        return True
    if not isinstance(schema_format, str):
        return False
    return schema_format.startswith(("application/vnd.aai.asyncapi", "application/schema"))
