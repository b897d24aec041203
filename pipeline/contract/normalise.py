"""Turn one dereferenced AsyncAPI 2.x or 3.x document into the model's :class:`Document`.

The two majors differ in shape (2.x hangs operations and messages off channels, 3.x has top-level operations that
point at channels and messages) and in direction (2.x ``subscribe`` = the application sends). Everything version
specific stays in this module; the model has one shape.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from .errors import ContractError, DiagnosticSink, Location
from .extensions import Enrichment, EventBridge, Sealing
from .model import Action, Example, Info, Operation, Schema, Server, Tag
from .refs import Dereferencer, resolve_pointer
from .schemas import Rewritten, bundle, dialect_of


@dataclass
class RawEvent:
    """An event before the catalogue assigns its unique key (that needs every document)."""

    name: str
    named: bool
    message: dict[str, Any]
    origin: tuple[str, str]
    message_id: str | None
    payload: Schema | None
    headers: Schema | None
    examples: tuple[Example, ...]
    location: Location
    operations: list[Operation] = field(default_factory=list)
    sealing: Sealing | None = None
    enrichment: Enrichment | None = None


@dataclass
class Normalised:
    info: Info
    default_content_type: str | None
    servers: tuple[Server, ...]
    tags: tuple[Tag, ...]
    extensions: dict[str, Any]
    security_schemes: dict[str, Any]
    events: list[RawEvent]
    operations: list[Operation]
    eventbridge: EventBridge | None = None
    sealing: Sealing | None = None


def extensions_of(value: Any) -> dict[str, Any]:
    return {k: v for k, v in value.items() if k.startswith("x-")} if isinstance(value, dict) else {}


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON Merge Patch, which AsyncAPI prescribes for applying traits.

    Values taken over unchanged keep their identity, so the loader still knows which file they came from."""
    if not isinstance(patch, dict):
        return patch
    if not isinstance(target, dict) and not _has_null(patch):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _mapping(value: Any) -> dict[str, Any]:
    """``value`` if it is a JSON object, else an empty one (the schema checks report what is wrong)."""
    return value if isinstance(value, dict) else {}


def _has_null(value: Any) -> bool:
    if isinstance(value, dict):
        return any(v is None or _has_null(v) for v in value.values())
    return False


def tags_of(value: Any, locate: Callable[[Any], Location | None] = lambda _: None) -> tuple[Tag, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(Tag(str(t["name"]), t.get("description"), locate(t))
                 for t in value if isinstance(t, dict) and "name" in t)


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


class Normaliser:
    def __init__(self, document_id: str, root_uri: str, root: dict[str, Any], deref: Dereferencer,
                 sink: DiagnosticSink) -> None:
        self.document_id = document_id
        self.root_uri = root_uri
        self.root = root
        self.deref = deref
        self.sink = sink
        self.major = int(str(root.get("asyncapi", "0")).split(".", 1)[0])
        self.default_content_type = _str(root.get("defaultContentType"))
        self._events: dict[tuple[str, str], RawEvent] = {}
        self._message_keys: dict[int, str] = {}
        self._operations: list[Operation] = []
        self._rewritten: Rewritten = {}  # definitions bundled so far: the document's schemas share them

    # -- where things came from -------------------------------------------------------------------------------
    def origin(self, value: Any, fallback: tuple[str, str]) -> tuple[str, str]:
        return self.deref.origins.get(id(value), fallback)

    def locate(self, origin: tuple[str, str]) -> Location:
        return self.deref.locate(*origin)

    def _where(self, value: Any) -> Location | None:
        origin = self.deref.origins.get(id(value))
        return self.locate(origin) if origin else None

    # -- the whole document -----------------------------------------------------------------------------------
    def run(self) -> Normalised:
        root = self.root
        info = _mapping(root.get("info"))
        components = _mapping(root.get("components"))
        if self.major >= 3:
            self._collect_v3(components)
        else:
            self._collect_v2(components)
        return Normalised(
            info=Info(
                title=str(info.get("title", "")),
                version=str(info.get("version", "")),
                description=_str(info.get("description")),
                contact=_mapping(info.get("contact")),
                license=_mapping(info.get("license")),
                extensions=extensions_of(info),
                location=self.locate(self.origin(info, (self.root_uri, "/info"))),
            ),
            default_content_type=self.default_content_type,
            servers=self._servers(root.get("servers")),
            tags=tags_of(info.get("tags") if self.major >= 3 else root.get("tags"), self._where),
            extensions=extensions_of(root),
            security_schemes=(components.get("securitySchemes") or {})
            if isinstance(components.get("securitySchemes"), dict) else {},
            events=list(self._events.values()),
            operations=self._operations,
        )

    def _servers(self, servers: Any) -> tuple[Server, ...]:
        if not isinstance(servers, dict):
            return ()
        out = []
        for name, server in servers.items():
            if not isinstance(server, dict):
                continue
            if self.major >= 3:
                protocol = str(server.get("protocol", ""))
                url = f"{protocol}://{server.get('host', '')}{server.get('pathname', '') or ''}"
            else:
                url = str(server.get("url", ""))
            out.append(Server(
                name=name, url=url, protocol=str(server.get("protocol", "")),
                protocol_version=_str(server.get("protocolVersion")), description=_str(server.get("description")),
                security=tuple(server.get("security") or ()), extensions=extensions_of(server),
                location=(where := self.locate(self.origin(server, (self.root_uri, f"/servers/{name}")))),
                eventbridge=EventBridge.from_extension(server.get("x-eventbridge"), where.child("x-eventbridge")),
            ))
        return tuple(out)

    # -- AsyncAPI 2.x -----------------------------------------------------------------------------------------
    def _collect_v2(self, components: dict[str, Any]) -> None:
        channels = _mapping(self.root.get("channels"))
        for address, channel in channels.items():
            if not isinstance(channel, dict):
                continue
            for verb, action in (("subscribe", Action.SEND), ("publish", Action.RECEIVE)):
                op = channel.get(verb)
                if not isinstance(op, dict):
                    continue
                op_pointer = f"/channels/{_escape(address)}/{verb}"
                operation = Operation(
                    document_id=self.document_id, operation_id=_str(op.get("operationId")), action=action,
                    channel_id=address, address=address, summary=_str(op.get("summary")),
                    location=self.locate(self.origin(op, (self.root_uri, op_pointer))),
                    **_extras(op, channel))
                self._operations.append(operation)
                message = op.get("message")
                alternatives = message.get("oneOf") if isinstance(message, dict) else None
                candidates = alternatives if isinstance(alternatives, list) else [message]
                for index, candidate in enumerate(candidates):
                    pointer = f"{op_pointer}/message" + (f"/oneOf/{index}" if alternatives is not None else "")
                    event = self._event(candidate, (self.root_uri, pointer), None)
                    if event is not None:
                        event.operations.append(operation)
        messages = components.get("messages")
        if isinstance(messages, dict):
            for key, message in messages.items():
                self._event(message, (self.root_uri, f"/components/messages/{_escape(key)}"), key)

    # -- AsyncAPI 3.x -----------------------------------------------------------------------------------------
    def _collect_v3(self, components: dict[str, Any]) -> None:
        channels = _mapping(self.root.get("channels"))
        channel_ids: dict[int, str] = {}
        for channel_id, channel in channels.items():
            if not isinstance(channel, dict):
                continue
            channel_ids[id(channel)] = channel_id
            messages = channel.get("messages")
            if isinstance(messages, dict):
                for key, message in messages.items():
                    self._message_keys.setdefault(id(message), key)
        component_messages = _mapping(components.get("messages"))
        for key, message in component_messages.items():
            self._message_keys[id(message)] = key

        operations = _mapping(self.root.get("operations"))
        for op_id, op in operations.items():
            if not isinstance(op, dict):
                continue
            op_pointer = f"/operations/{_escape(op_id)}"
            channel = _mapping(op.get("channel"))
            channel_id = channel_ids.get(id(channel)) or self.origin(channel, ("", "?"))[1].rsplit("/", 1)[-1]
            action = Action.SEND if op.get("action") == "send" else Action.RECEIVE
            operation = Operation(
                document_id=self.document_id, operation_id=op_id, action=action, channel_id=channel_id,
                address=_str(channel.get("address")) or channel_id, summary=_str(op.get("summary")),
                location=self.locate(self.origin(op, (self.root_uri, op_pointer))),
                **_extras(op, channel))
            self._operations.append(operation)
            messages = op.get("messages")
            if not isinstance(messages, list):  # no list: every message of the channel
                channel_messages = channel.get("messages")
                messages = list(channel_messages.values()) if isinstance(channel_messages, dict) else []
            for index, message in enumerate(messages):
                event = self._event(message, (self.root_uri, f"{op_pointer}/messages/{index}"),
                                    self._message_keys.get(id(message)))
                if event is not None and operation not in event.operations:
                    event.operations.append(operation)
        # Messages no operation names still get a page.
        for channel_id, channel in channels.items():
            messages = channel.get("messages") if isinstance(channel, dict) else None
            if isinstance(messages, dict):
                for key, message in messages.items():
                    pointer = f"/channels/{_escape(channel_id)}/messages/{_escape(key)}"
                    self._event(message, (self.root_uri, pointer), key)
        for key, message in component_messages.items():
            self._event(message, (self.root_uri, f"/components/messages/{_escape(key)}"), key)

    # -- one message ------------------------------------------------------------------------------------------
    def _event(self, message: Any, fallback: tuple[str, str], key: str | None) -> RawEvent | None:
        if not isinstance(message, dict) or "$ref" in message:
            return None  # unresolved: already a diagnostic
        origin = self.origin(message, fallback)
        if origin in self._events:
            return self._events[origin]
        merged = self._apply_traits(message)
        message_id = _str(merged.get("messageId")) or key
        name = _str(merged.get("name"))
        named = name is not None
        if name is None:
            name = message_id or _str(merged.get("title")) or f"{self.document_id}-message-{len(self._events) + 1}"
        location = self.locate(origin)
        payload = self._schema(merged, "payload", origin)
        headers = self._schema(merged, "headers", origin)
        event = RawEvent(
            name=name, named=named, message=merged, origin=origin, message_id=message_id, payload=payload,
            headers=headers, examples=tuple(self._examples(merged, origin)), location=location)
        self._events[origin] = event
        return event

    def _apply_traits(self, message: dict[str, Any]) -> dict[str, Any]:
        traits = message.get("traits")
        if not isinstance(traits, list) or not traits:
            return message
        own = {k: v for k, v in message.items() if k != "traits"}
        if self.major >= 3:  # 3.x: the message wins over its traits
            merged: dict[str, Any] = {}
            for trait in traits:
                merged = merge_patch(merged, _trait_body(trait))
            return merge_patch(merged, own)
        merged = own  # 2.x: traits are merged into the message, in order
        for trait in traits:
            merged = merge_patch(merged, _trait_body(trait))
        return merged

    def _schema(self, message: dict[str, Any], field_name: str, message_origin: tuple[str, str]) -> Schema | None:
        value = message.get(field_name)
        if value is None:
            return None
        schema_format = _str(message.get("schemaFormat")) if field_name == "payload" else None
        if self.major >= 3 and isinstance(value, dict) and "schemaFormat" in value and "schema" in value:
            schema_format = _str(value.get("schemaFormat"))
            value = value["schema"]
        origin = self.origin(value, (message_origin[0], f"{message_origin[1]}/{field_name}"))
        location = self.locate(origin)
        uri, pointer = origin
        try:
            source_value = resolve_pointer(self.deref.document(uri).data, pointer)
        except (KeyError, ContractError):
            source_value = value  # not addressable in its source: bundle the dereferenced copy
        dialect = dialect_of(schema_format, source_value)
        if dialect == "unsupported":
            self.sink.info("schema-format-unsupported",
                           f"schema format '{schema_format}' is shown as written; only JSON Schema formats are "
                           "validated", location)
            return Schema(source_value, schema_format or "", dialect, location)
        document = bundle(self.deref, uri, pointer, source_value, self.sink, self._rewritten)
        if isinstance(document, dict) and "$schema" not in document:
            document = {"$schema": dialect, **document}
        return Schema(document, schema_format or "application/vnd.aai.asyncapi+json", dialect, location)

    def _examples(self, message: dict[str, Any], origin: tuple[str, str]) -> Iterable[Example]:
        examples = message.get("examples")
        if not isinstance(examples, list):
            return
        for index, example in enumerate(examples):
            if not isinstance(example, dict):
                continue
            where = self.origin(example, (origin[0], f"{origin[1]}/examples/{index}"))
            yield Example(
                name=_str(example.get("name")), summary=_str(example.get("summary")),
                payload=example.get("payload"), headers=example.get("headers"),
                location=self.locate(where), has_payload="payload" in example)


def _extras(op: dict[str, Any], channel: dict[str, Any]) -> dict[str, Any]:
    """The extensions and bindings of an operation and of its channel (2.x operation traits included)."""
    merged = op
    for trait in op.get("traits") or ():
        merged = merge_patch(merged, _trait_body(trait))
    return {"extensions": extensions_of(merged), "bindings": _mapping(merged.get("bindings")),
            "channel_extensions": extensions_of(channel), "channel_bindings": _mapping(channel.get("bindings"))}


def _trait_body(trait: Any) -> dict[str, Any]:
    return {k: v for k, v in trait.items() if k != "$ref"} if isinstance(trait, dict) else {}


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")
