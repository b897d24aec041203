"""Write a synthetic catalogue of AsyncAPI documents for benchmarks (50 documents x 20 events by default).

Half the documents are AsyncAPI 3.0, half 2.6; every event has a 15-field payload that refers to a shared schema
file, headers, a recursive schema and two examples, so the loader does the work a real catalogue asks of it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import yaml

ENTITIES = ["Payment", "Order", "Basket", "Refund", "Shipment", "Invoice", "Customer", "Voucher", "Stock", "Price"]
VERBS = ["Created", "Updated", "Cancelled", "Completed", "Failed", "Authorised", "Captured", "Shipped", "Returned",
         "Expired"]
REGIONS = ["Uk", "Ie"]
# Real corpus documents average about 2 KB of YAML per message (Deepgram 2.2, ZBOS 2.1, Streetlights 2.0); with 10
# plain fields, Money, a recursive tree and two examples each, an event here is about 2.7 KB.

FIELDS = 10

SHARED = {
    "$defs": {
        "Money": {"type": "object", "required": ["amount", "currency"],
                  "properties": {"amount": {"type": "integer", "minimum": 0},
                                 "currency": {"type": "string", "enum": ["GBP", "EUR", "USD"]}}},
        "Node": {"type": "object", "properties": {"id": {"type": "string"},
                                                   "children": {"type": "array", "items": {"$ref": "#/$defs/Node"}}}},
    }
}


def _payload(doc: int, event: int) -> dict:
    properties = {
        "id": {"type": "string", "format": "uuid", "description": "Identifier."},
        "occurredAt": {"type": "string", "format": "date-time"},
        "total": {"$ref": "./shared.yaml#/$defs/Money"},
        "tree": {"$ref": "./shared.yaml#/$defs/Node"},
        "status": {"type": "string", "enum": ["NEW", "DONE", "FAILED"]},
    }
    for i in range(FIELDS):
        properties[f"field{i}"] = {"type": "string", "maxLength": 64, "description": f"Field {i} of {doc}/{event}."}
    return {"type": "object", "required": ["id", "occurredAt", "total"], "properties": properties}


def _example(n: int) -> dict:
    payload = {"id": f"00000000-0000-4000-8000-{n:012d}", "occurredAt": "2026-11-26T10:00:00Z",
               "total": {"amount": 1299, "currency": "GBP"}, "tree": {"id": "a", "children": [{"id": "b"}]},
               "status": "NEW"}
    payload.update({f"field{i}": f"value {i}" for i in range(FIELDS)})
    return {"name": f"example-{n}", "payload": payload, "headers": {"correlationId": f"c-{n}"}}


def _message(doc: int, event: int) -> dict:
    name = f"{ENTITIES[doc % 10]}{doc}.{VERBS[event % 10]}{event}.{REGIONS[event % 2]}"
    return {
        "name": name, "title": f"{name} title", "summary": f"Summary of {name}.", "contentType": "application/json",
        "headers": {"type": "object", "properties": {"correlationId": {"type": "string"}}},
        "payload": _payload(doc, event), "examples": [_example(event), _example(event + 100)],
    }


def document(doc: int, events: int) -> dict:
    messages = {f"m{e}": _message(doc, e) for e in range(events)}
    info = {"title": f"Domain {doc}", "version": "1.0.0", "description": f"Synthetic domain {doc}."}
    if doc % 2:
        return {"asyncapi": "2.6.0", "info": info,
                "channels": {f"topic.{doc}.{e}": {"subscribe": {"operationId": f"send{e}",
                                                                "message": {"$ref": f"#/components/messages/m{e}"}}}
                             for e in range(events)},
                "components": {"messages": messages}}
    return {"asyncapi": "3.0.0", "info": info,
            "channels": {f"c{e}": {"address": f"topic.{doc}.{e}",
                                   "messages": {f"m{e}": {"$ref": f"#/components/messages/m{e}"}}}
                         for e in range(events)},
            "operations": {f"send{e}": {"action": "send", "channel": {"$ref": f"#/channels/c{e}"},
                                        "messages": [{"$ref": f"#/channels/c{e}/messages/m{e}"}]}
                           for e in range(events)},
            "components": {"messages": messages}}


def write_catalogue(folder: Path, documents: int = 50, events: int = 20) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "shared.yaml").write_text(yaml.safe_dump(SHARED, sort_keys=False))
    paths = []
    for doc in range(documents):
        path = folder / f"domain-{doc:02d}.yaml"
        path.write_text(yaml.safe_dump(document(doc, events), sort_keys=False))
        paths.append(path)
    return paths


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--documents", type=int, default=50)
    parser.add_argument("--events", type=int, default=20)
    args = parser.parse_args()
    write_catalogue(args.folder, args.documents, args.events)
