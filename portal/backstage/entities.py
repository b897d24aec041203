"""Backstage catalog entities for a catalogue: a Component for the pipeline, an API per AsyncAPI document and,
optionally, an API per event, so consumers find the events in the Backstage catalog and its API docs.

Everything comes from the documents: ``info.x-backstage`` (owner, system, domain, lifecycle), ``info`` (title,
description, contact) and the tags. The entities follow the Backstage catalog model (``backstage.io/v1alpha1``);
names are made valid for it (``[A-Za-z0-9]`` separated by ``-_.``, at most 63 characters) and tags too
(lower-case ``[a-z0-9:+#]`` words joined by ``-``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from pipeline.contract import Backstage, Catalogue, Document, Event
from portal.render.urls import safe_url

API_VERSION = "backstage.io/v1alpha1"
TECHDOCS_REF = "backstage.io/techdocs-ref"
DOMAIN_LABEL = "eventdeck.dev/domain"
DEFINITION_NOTE = "eventdeck.dev/definition-note"
_NAME_BAD = re.compile(r"[^A-Za-z0-9._-]+")
_TAG_BAD = re.compile(r"[^a-z0-9:+#]+")
LIFECYCLES = {"experimental", "production", "deprecated"}


@dataclass(frozen=True)
class DefinitionFiles:
    """Where the self-contained definitions are (:mod:`portal.backstage.definitions`): the folder, and the notes
    of those that could not be emitted in a version Backstage renders (by path inside the folder)."""

    folder: Path
    notes: Mapping[str, str] = field(default_factory=dict)

    def document(self, document: Document) -> str:
        return f"{document.id}.yaml"

    def event(self, event: Event) -> str:
        return f"events/{event.key}.yaml"


@dataclass(frozen=True)
class ComponentSpec:
    """The pipeline Component: its name, and who owns it (defaults: from the documents)."""

    name: str = "eventdeck-pipeline"
    owner: str | None = None
    system: str | None = None
    lifecycle: str = "production"
    site_url: str | None = None
    section: str = "events"


def entity_name(text: str) -> str:
    """``text`` as a valid Backstage entity name."""
    name = _NAME_BAD.sub("-", text).strip("-_.")
    name = re.sub(r"[-_.]{2,}", "-", name)[:63].strip("-_.")
    return name or "unnamed"


def entity_tag(text: str) -> str | None:
    tag = "-".join(part for part in _TAG_BAD.split(text.lower()) if part)[:63].strip("-")
    return tag or None


def _backstage(document: Document) -> Backstage:
    return document.backstage or Backstage(None)


def _first_paragraph(text: str | None, limit: int = 400) -> str | None:
    if not text:
        return None
    paragraph = " ".join(text.strip().split("\n\n", 1)[0].split())
    return paragraph if len(paragraph) <= limit else paragraph[: limit - 1].rstrip() + "…"


def _tags(names: Iterable[str]) -> list[str]:
    return sorted({t for t in (entity_tag(n) for n in names) if t})


def _lifecycle(value: Any) -> str:
    return value if isinstance(value, str) and value in LIFECYCLES else "production"


def _definition(path: Path, base: Path) -> dict[str, str]:
    relative = os.path.relpath(path.resolve(), base.resolve()).replace(os.sep, "/")
    return {"$text": relative if relative.startswith("../") else f"./{relative}"}


def _noted(description: str | None, note: str | None) -> str | None:
    """The entity's description, with why its definition is not rendered by Backstage when it is not."""
    if note is None:
        return description
    return f"{description} ({note})" if description else note


def _clean(mapping: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in mapping.items() if v not in (None, [], {})}


def document_api(document: Document, base: Path, files: DefinitionFiles) -> dict[str, Any]:
    backstage = _backstage(document)
    note = files.notes.get(files.document(document))
    links = []
    contact = document.info.contact
    # Backstage shows entity links as links: only a URL safe_url allows, and only an absolute one (no page here
    # would resolve a relative reference).
    url = safe_url(contact.get("url"), relative=False)
    if url is not None:
        links.append({"url": url, "title": str(contact.get("name") or "Contact")})
    metadata = _clean({
        "name": entity_name(document.id),
        "title": document.info.title or document.id,
        "description": _noted(_first_paragraph(document.info.description), note),
        "tags": _tags(t.name for t in document.tags) or None,
        "labels": {DOMAIN_LABEL: entity_name(backstage.domain)} if backstage.domain else None,
        "annotations": {DEFINITION_NOTE: note} if note else None,
        "links": links or None,
    })
    spec = _clean({
        "type": "asyncapi",
        "lifecycle": _lifecycle(backstage.lifecycle),
        "owner": backstage.owner or "unknown",
        "system": backstage.system,
        "definition": _definition(files.folder / files.document(document), base),
    })
    return {"apiVersion": API_VERSION, "kind": "API", "metadata": metadata, "spec": spec}


def event_api(event: Event, document: Document, base: Path, spec: ComponentSpec,
              files: DefinitionFiles) -> dict[str, Any]:
    backstage = _backstage(document)
    note = files.notes.get(files.event(event))
    lifecycle = "deprecated" if event.deprecated or _status(event) in ("deprecated", "retired") \
        else _lifecycle(backstage.lifecycle)
    links = []
    if spec.site_url:
        page = f"{spec.site_url.rstrip('/')}/{spec.section.strip('/')}/{event.key}/"
        links.append({"url": page, "title": "Event catalogue page"})
    metadata = _clean({
        "name": entity_name(event.name),
        "title": event.title or event.name,
        "description": _noted(_first_paragraph(event.summary or event.description), note),
        "tags": _tags(t.name for t in event.tags) or None,
        "labels": {DOMAIN_LABEL: entity_name(backstage.domain)} if backstage.domain else None,
        "annotations": _clean({"eventdeck.dev/event": event.name, "eventdeck.dev/document": document.id,
                               DEFINITION_NOTE: note}),
        "links": links or None,
    })
    body = _clean({
        "type": "asyncapi",
        "lifecycle": lifecycle,
        "owner": backstage.owner or "unknown",
        "system": backstage.system,
        "definition": _definition(files.folder / files.event(event), base),
    })
    return {"apiVersion": API_VERSION, "kind": "API", "metadata": metadata, "spec": body}


def _status(event: Event) -> str | None:
    return event.lifecycle.status if event.lifecycle is not None else None


def entities(catalogue: Catalogue, base: Path, spec: ComponentSpec | None = None, *,
             per_event: bool = False, files: DefinitionFiles | None = None) -> list[dict[str, Any]]:
    """The entities for ``catalogue``; ``base`` is the folder ``catalog-info.yaml`` is written to (definitions
    refer to the files in ``files.folder`` relative to it; by default ``<base>/docs/asyncapi``)."""
    spec = spec or ComponentSpec()
    files = files or DefinitionFiles(base / "docs" / "asyncapi")
    documents = sorted(catalogue.documents, key=lambda d: d.id)
    apis = [document_api(d, base, files) for d in documents]
    if per_event:
        by_id = {d.id: d for d in documents}
        taken = {api["metadata"]["name"] for api in apis}
        for event in sorted(catalogue.events, key=lambda e: e.name):
            if event.document_id not in by_id:
                continue
            entity = event_api(event, by_id[event.document_id], base, spec, files)
            name = entity["metadata"]["name"]
            if name in taken:  # an event named like a document, or two names that sanitise alike
                entity["metadata"]["name"] = entity_name(f"{name}-event")
            taken.add(entity["metadata"]["name"])
            apis.append(entity)
    # By default the pipeline belongs to whoever owns most of the events it publishes.
    weighted = sorted(documents, key=lambda d: -len(d.events))
    owners = [d.owner for d in weighted if d.owner]
    systems = [b.system for b in (_backstage(d) for d in weighted) if b.system]
    component = {
        "apiVersion": API_VERSION,
        "kind": "Component",
        "metadata": _clean({
            "name": entity_name(spec.name),
            "title": "eventdeck pipeline",
            "description": "Turns internal domain events into the published cross-domain events (JSON Patch "
                           "enrichment, CloudEvents envelope, nested-JWT sealing) and publishes them on Amazon "
                           "EventBridge, as documented by its AsyncAPI documents.",
            "annotations": {TECHDOCS_REF: "dir:."},
        }),
        "spec": _clean({
            "type": "service",
            "lifecycle": spec.lifecycle,
            "owner": spec.owner or (owners[0] if owners else "unknown"),
            "system": spec.system or (systems[0] if systems else None),
            "providesApis": [api["metadata"]["name"] for api in apis],
        }),
    }
    return [component, *apis]


HEADER = ("# Generated by `eventdeck backstage` from the AsyncAPI documents; do not edit.\n"
          "# Regenerate with `eventdeck backstage`; `eventdeck backstage --check` fails when this file is stale.\n")


def catalog_info_yaml(items: list[dict[str, Any]]) -> str:
    """The entities as one multi-document YAML file."""
    body = "---\n".join(yaml.safe_dump(item, sort_keys=False, allow_unicode=True, width=120) for item in items)
    return HEADER + "---\n" + body
