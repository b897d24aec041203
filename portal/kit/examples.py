"""Every contract example as the EventBridge event a rule sees, built the way the producer builds it.

The producer puts ``Source`` = the document's ``x-eventbridge.source``, ``DetailType`` = the event name and
``Detail`` = the CloudEvent JSON (``pipeline.produce._detail_json``), whose ``data`` is the payload — or, for a sealed
event, the compact JWE/JWS token (``Sealer.seal_event``). A rule matches the event EventBridge wraps around that
entry, so that is what the kit's patterns are proven against.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pipeline.contract.model import Catalogue, Document, Event
from pipeline.envelope.cloudevent import cloud_event_dict

#: What a sealed CloudEvent's ``data`` looks like to the bus: an opaque compact token (five base64url parts).
SEALED_DATA_STAND_IN = "eyJhbGciOiJFQ0RILUVTK0EyNTZLVyJ9.e30.AAAA.AAAA.AAAA"
JWT_CONTENT_TYPE = "application/jwt"
ACCOUNT = "111122223333"
REGION = "eu-west-1"


@dataclass(frozen=True)
class ExampleEvent:
    """One contract example of ``event_key`` as the bus sees it (``event``) and as a ``PutEvents`` entry."""

    event_key: str
    label: str
    event: Mapping[str, Any]

    def entry(self, bus: str | None = None) -> dict[str, Any]:
        """The ``PutEvents`` entry the producer would send for this example."""
        entry = {"Source": self.event["source"], "DetailType": self.event["detail-type"],
                 "Detail": json.dumps(self.event["detail"], separators=(",", ":"))}
        if bus:
            entry["EventBusName"] = bus
        return entry


def document_of(catalogue: Catalogue, event: Event) -> Document:
    """The document that defines ``event`` (its ``x-eventbridge`` says where the event is put)."""
    for document in catalogue.documents:
        if document.id == event.document_id:
            return document
    raise LookupError(event.document_id)  # the loader builds events from their documents: never reached


def is_sealed(event: Event) -> bool:
    """Whether the bus sees the event's payload only as a token."""
    return event.sealing is not None and event.sealing.policy is not None


def example_events(catalogue: Catalogue) -> list[ExampleEvent]:
    """Every example of every event with a payload, as the EventBridge event a rule on its bus would see; an event
    without one is represented by its envelope around an empty payload, so patterns on names still find it."""
    found: list[ExampleEvent] = []
    for event in catalogue.events:
        bridge = document_of(catalogue, event).eventbridge
        source = bridge.source if bridge is not None else None
        if source is None:
            continue  # an event with no source is put nowhere
        payloads = [example for example in event.examples if example.has_payload]
        if not payloads:  # e.g. a runtime artefact, which keeps no examples: the envelope alone still routes
            found.append(ExampleEvent(event.key, "no example (source and detail-type only)",
                                      wrap(event, source, {}, f"01KIT{len(found) + 1:021d}")))
        for number, example in enumerate(event.examples, 1):
            if not example.has_payload:
                continue
            event_id = f"01KIT{len(found) + 1:021d}"  # unique across the contract: one delivery tells which
            found.append(ExampleEvent(event.key, example.name or f"example {number}",
                                      wrap(event, source, example.payload, event_id)))
    return found


def wrap(event: Event, source: str, payload: Any, event_id: str = "01KIT000000000000000000001") -> dict[str, Any]:
    """``payload`` of ``event`` in its CloudEvent, in the EventBridge event (sealed data replaced by a token)."""
    cloud_event = cloud_event_dict(type=event.name, source=source, data=payload, dataversion=event.version,
                                   id=event_id, time="2026-03-14T10:15:02Z")
    if is_sealed(event):
        cloud_event["data"] = SEALED_DATA_STAND_IN
        cloud_event["datacontenttype"] = JWT_CONTENT_TYPE
    return {"version": "0", "id": f"kit-{event_id}", "detail-type": event.name, "source": source,
            "account": ACCOUNT, "time": "2026-03-14T10:15:02Z", "region": REGION, "resources": [],
            "detail": cloud_event}
