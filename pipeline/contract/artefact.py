"""The runtime artefact: the normalised, validated contract in one file, for the deployed pipeline.

``eventdeck bundle`` loads the AsyncAPI documents strictly (YAML, ``$ref`` resolution, the official AsyncAPI schema
check — the tooling path) and writes what the producer and the consumer need: every event with its version, its
bundled payload schema, its typed extensions (sealing, enrichment, EventBridge routing) and the registry that says
where its schema is published. The runtime (a Lambda, a container) then loads that file with no YAML parsing, no
``$ref`` resolution, no npm, no network and nothing written anywhere.

The file is JSON::

    {"format": "eventdeck-contract", "format_version": 1, "content_hash": "sha256:<hex>",
     "sources": {"<relative path>": "sha256:<hex>", ...}, "body": {"registry": ..., "documents": [...],
     "events": [...]}}

``content_hash`` is the SHA-256 of the body's canonical JSON (sorted keys, no spaces); a file whose body does not
hash to it was changed after ``eventdeck bundle`` wrote it and is refused, as is a file of another format version.
``sources`` records the documents it was made from, so ``eventdeck bundle --check`` can tell that it is stale.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from .errors import ContractError, Location
from .extensions import EncryptSpec, Enrichment, EventBridge, Lookup, Sample, Sealing, SealingPolicy, SignSpec
from .model import Catalogue, Document, Event, Info, Schema
from .registry import RegistryLayout

FORMAT: Final = "eventdeck-contract"
FORMAT_VERSION: Final = 1
#: An artefact is read whole; anything larger than this is not one of ours.
MAX_ARTEFACT_BYTES: Final = 64 * 1024 * 1024

__all__ = ["FORMAT", "FORMAT_VERSION", "Artefact", "ArtefactError", "artefact_bytes", "load_artefact",
           "read_artefact"]


class ArtefactError(ContractError):
    """The artefact cannot be used: unreadable, not an eventdeck contract, another format version, or changed
    since it was written. The message says which and what to do."""

    code = "artefact"


@dataclass(frozen=True)
class Artefact:
    """A loaded artefact: the runtime's catalogue (with its :attr:`Catalogue.registry`) and what vouches for it."""

    catalogue: Catalogue
    content_hash: str
    sources: Mapping[str, str]
    path: str


# ------------------------------------------------------------------------------------------------------- write


def artefact_bytes(catalogue: Catalogue, registry: RegistryLayout, *, root: str | os.PathLike[str] = ".") -> bytes:
    """The artefact of ``catalogue`` (which must have no errors), its schemas published as ``registry`` says.

    Files are recorded relative to ``root`` so the artefact says nothing about the machine that built it."""
    if catalogue.errors:
        raise ArtefactError(f"the contract has {len(catalogue.errors)} error(s); fix them before bundling: "
                            f"{catalogue.errors[0]}", catalogue.errors[0].location)
    base = Path(root).resolve()
    body = {
        "registry": {"folder": registry.folder, "base_url": registry.base_url,
                     "names": {e.key: registry.names[e.key] for e in catalogue.events}},
        "documents": [_document(d, base) for d in catalogue.documents],
        "events": [_event(e, registry, base) for e in catalogue.events],
    }
    try:
        canonical = _canonical(body)
    except ValueError as exc:  # NaN or Infinity somewhere in a schema: JSON cannot carry it
        raise ArtefactError(f"the contract cannot be written as JSON: {exc}", Location(str(base))) from None
    head = {"format": FORMAT, "format_version": FORMAT_VERSION,
            "content_hash": "sha256:" + hashlib.sha256(canonical).hexdigest(),
            "sources": source_hashes(catalogue, base)}
    # The head, one member per line, then the body in its canonical form, byte for byte: the loader hashes those
    # very bytes (no re-encoding), and ``\n "body": `` can only be the top-level member (a newline inside a JSON
    # string is escaped).
    lines = [f" {json.dumps(key)}: {json.dumps(value, ensure_ascii=False, sort_keys=True)}"
             for key, value in head.items()]
    return ("{\n" + ",\n".join(lines) + ",").encode("utf-8") + _BODY_MARKER + canonical + b"\n}\n"


def source_hashes(catalogue: Catalogue, root: str | os.PathLike[str] = ".") -> dict[str, str]:
    """The documents (and every file they reference) an artefact of ``catalogue`` is made from, by path relative
    to ``root``, with their SHA-256."""
    base = Path(root).resolve()
    files = sorted({f for d in catalogue.documents for f in (d.files or (d.path,))})
    return {_relative(f, base): "sha256:" + _file_hash(f) for f in files if not _remote(f)}


_BODY_MARKER: Final = b'\n "body": '


def _canonical(body: Any) -> bytes:
    """Sorted keys, no spaces, UTF-8; the stdlib encoder, so integers of any size stay exact."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def _remote(file: str) -> bool:
    return file.startswith(("http://", "https://"))


def _file_hash(file: str) -> str:
    return hashlib.sha256(Path(file).read_bytes()).hexdigest()


def _relative(file: str, base: Path) -> str:
    if _remote(file):
        return file
    try:
        return Path(file).resolve().relative_to(base).as_posix()
    except ValueError:
        return Path(file).name


def _location(location: Location | None, base: Path) -> dict[str, Any] | None:
    if location is None:
        return None
    return {"file": _relative(location.file, base), "pointer": location.pointer, "line": location.line,
            "column": location.column}


def _policy(policy: SealingPolicy | None) -> dict[str, Any] | None:
    if policy is None:
        return None
    encrypt = policy.encrypt
    return {"sign": {"alg": policy.sign.alg, "kid": policy.sign.kid}, "issuer": policy.issuer,
            "compress": policy.compress,
            "encrypt": None if encrypt is None else {"alg": encrypt.alg, "kid": encrypt.kid, "enc": encrypt.enc}}


def _sealing(sealing: Sealing | None, base: Path) -> dict[str, Any] | None:
    if sealing is None:
        return None
    return {"policy": _policy(sealing.policy), "declared_on": sealing.declared_on,
            "location": _location(sealing.location, base), "problem": sealing.problem}


def _eventbridge(bridge: EventBridge | None) -> dict[str, Any] | None:
    if bridge is None:
        return None
    return {"source": bridge.source, "bus": bridge.bus, "region": bridge.region, "account": bridge.account}


def _enrichment(spec: Enrichment | None, base: Path) -> dict[str, Any] | None:
    if spec is None:
        return None
    return {"from": spec.source_pattern, "patch": list(spec.patch), "prune": spec.prune, "subject": spec.subject,
            "lookups": [{"name": item.name, "url": item.url, "callable": item.callable, "timeout": item.timeout}
                        for item in spec.lookups],
            "samples": [{"example": s.example, "event": s.event, "lookups": s.lookups} for s in spec.samples],
            "location": _location(spec.location, base)}


def _schema(schema: Schema | None, base: Path) -> dict[str, Any] | None:
    if schema is None:
        return None
    return {"document": schema.document, "format": schema.format, "dialect": schema.dialect,
            "location": _location(schema.location, base)}


def _document(document: Document, base: Path) -> dict[str, Any]:
    return {"id": document.id, "path": _relative(document.path, base), "asyncapi": document.asyncapi,
            "title": document.info.title, "version": document.info.version,
            "default_content_type": document.default_content_type,
            "eventbridge": _eventbridge(document.eventbridge), "sealing": _sealing(document.sealing, base)}


def _event(event: Event, registry: RegistryLayout, base: Path) -> dict[str, Any]:
    return {"key": event.key, "name": event.name, "parts": list(event.parts), "title": event.title,
            "summary": event.summary, "version": event.version, "document_id": event.document_id,
            "message_id": event.message_id, "content_type": event.content_type, "deprecated": event.deprecated,
            "dataschema": registry.url(event) if event.payload is not None else None,
            "payload": _schema(event.payload, base), "headers": _schema(event.headers, base),
            "sealing": _sealing(event.sealing, base), "enrichment": _enrichment(event.enrichment, base),
            "location": _location(event.location, base)}


# -------------------------------------------------------------------------------------------------------- read


def load_artefact(path: str | os.PathLike[str]) -> Catalogue:
    """The runtime catalogue in the artefact at ``path`` (its ``registry`` set); see :func:`read_artefact`."""
    return read_artefact(path).catalogue


def read_artefact(path: str | os.PathLike[str]) -> Artefact:
    """Read and verify an artefact. :raises ArtefactError: naming the file and what is wrong with it."""
    where = str(path)
    at = Location(where)
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_ARTEFACT_BYTES + 1)
    except OSError as exc:
        raise ArtefactError(f"cannot read the contract artefact: {exc.strerror or exc}", at) from None
    if len(data) > MAX_ARTEFACT_BYTES:
        raise ArtefactError(f"over {MAX_ARTEFACT_BYTES:,} bytes: not an eventdeck contract artefact", at)
    start = data.find(_BODY_MARKER)
    end = data.rstrip().rfind(b"}")
    try:
        head = json.loads(data[:start].rstrip(b",") + b"}") if start > 0 else None
    except (ValueError, UnicodeDecodeError):
        head = None
    if not isinstance(head, dict) or head.get("format") != FORMAT:
        raise ArtefactError("not an eventdeck contract artefact (write one with `eventdeck bundle`)", at)
    version = head.get("format_version")
    if version != FORMAT_VERSION:
        raise ArtefactError(
            f"format version {version!r}, but this eventdeck reads version {FORMAT_VERSION}: rebuild it "
            "with the `eventdeck bundle` of the eventdeck version you deploy", at)
    canonical = data[start + len(_BODY_MARKER):end].rstrip()
    stated, actual = head.get("content_hash"), "sha256:" + hashlib.sha256(canonical).hexdigest()
    if not isinstance(stated, str) or stated != actual:
        raise ArtefactError("its content does not match its content_hash: it was changed after "
                            "`eventdeck bundle` wrote it; rebuild it rather than editing it", at)
    try:
        body = json.loads(canonical)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise ArtefactError(f"malformed contract artefact ({type(exc).__name__})", at) from None
    if not isinstance(body, dict):
        raise ArtefactError("malformed contract artefact (no body object)", at)
    try:
        catalogue = _catalogue(body, where)
    except (KeyError, TypeError, ValueError) as exc:
        raise ArtefactError(f"malformed contract artefact ({type(exc).__name__}: {exc})", at) from None
    sources = head.get("sources")
    return Artefact(catalogue, stated, dict(sources) if isinstance(sources, dict) else {}, where)


def _read_location(value: Mapping[str, Any] | None, fallback: str) -> Location:
    if value is None:
        return Location(fallback)
    return Location(value["file"], value["pointer"], value["line"], value["column"])


def _read_sealing(value: Mapping[str, Any] | None, fallback: str) -> Sealing | None:
    if value is None:
        return None
    policy = value["policy"]
    parsed = None
    if policy is not None:
        encrypt = policy["encrypt"]
        parsed = SealingPolicy(sign=SignSpec(policy["sign"]["alg"], policy["sign"]["kid"]), issuer=policy["issuer"],
                               compress=policy["compress"],
                               encrypt=None if encrypt is None else EncryptSpec(encrypt["alg"], encrypt["kid"],
                                                                                encrypt["enc"]))
    return Sealing(parsed, value["declared_on"], _read_location(value["location"], fallback), value["problem"])


def _read_enrichment(value: Mapping[str, Any] | None, fallback: str) -> Enrichment | None:
    if value is None:
        return None
    return Enrichment(
        source_pattern=value["from"], patch=tuple(value["patch"]), prune=bool(value["prune"]), subject=value["subject"],
        lookups=tuple(Lookup(item["name"], item["url"], item["callable"], float(item["timeout"]))
                      for item in value["lookups"]),
        samples=tuple(Sample(item["example"], item["event"], item["lookups"]) for item in value["samples"]),
        location=_read_location(value["location"], fallback))


def _read_schema(value: Mapping[str, Any] | None, fallback: str) -> Schema | None:
    if value is None:
        return None
    return Schema(value["document"], value["format"], value["dialect"], _read_location(value["location"], fallback))


def _catalogue(body: Mapping[str, Any], where: str) -> Catalogue:
    events_by_document: dict[str, list[Event]] = {}
    by_key: dict[str, Event] = {}
    for item in body["events"]:
        event = Event(
            key=item["key"], name=item["name"], parts=tuple(item["parts"]), title=item["title"],
            summary=item["summary"], description=None, version=item["version"], document_id=item["document_id"],
            message_id=item["message_id"], content_type=item["content_type"],
            payload=_read_schema(item["payload"], where), headers=_read_schema(item["headers"], where),
            examples=(), tags=(), bindings={}, correlation_id=None, deprecated=bool(item["deprecated"]),
            extensions={}, operations=(), location=_read_location(item["location"], where),
            sealing=_read_sealing(item["sealing"], where), enrichment=_read_enrichment(item["enrichment"], where))
        events_by_document.setdefault(event.document_id, []).append(event)
        by_key[event.key] = event
    documents = tuple(_read_document(item, tuple(events_by_document.get(item["id"], ())), where)
                      for item in body["documents"])
    registry = body["registry"]
    layout = RegistryLayout(dict(registry["names"]), registry["folder"], registry["base_url"])
    return Catalogue(documents, (), by_key, registry=layout)


def _read_document(item: Mapping[str, Any], events: Iterable[Event], where: str) -> Document:
    bridge = item["eventbridge"]
    return Document(
        id=item["id"], path=item["path"], asyncapi=item["asyncapi"],
        info=Info(title=item["title"], version=item["version"], description=None, contact={}, license={},
                  extensions={}),
        default_content_type=item["default_content_type"], servers=(), tags=(), extensions={},
        events=tuple(events), operations=(), security_schemes={}, diagnostics=(), location=Location(item["path"]),
        eventbridge=None if bridge is None else EventBridge(bridge["source"], bridge["bus"], bridge["region"],
                                                            bridge["account"]),
        sealing=_read_sealing(item["sealing"], where))
