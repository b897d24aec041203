"""Write a synthetic catalogue of AsyncAPI documents for benchmarks: 20 events per document, 50 documents per 1,000.

Two shapes. The default, *realistic*, is sized and shaped like real payment and order events (about 9-10 KB of YAML
per event: nested objects, arrays of objects, enums, formats, patterns, two full examples each) in AsyncAPI 2.6 and
3.0 documents that share three ``$ref`` files, so the loader and the catalogue do the work an organisation's
catalogue asks of them. ``--small`` keeps the earlier shape (about 2.7 KB per event: 15 fields, Money, a recursive
tree). Both are deterministic: the same arguments (and ``--seed``) write the same bytes.

    python scripts/synthetic_catalogue.py out/ --events 1000          # realistic, 50 documents
    python scripts/synthetic_catalogue.py out/ --events 1000 --small  # the small shape
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path
from typing import Any

import yaml

EVENTS_PER_DOCUMENT = 20

ENTITIES = ["Payment", "Order", "Basket", "Refund", "Shipment", "Invoice", "Customer", "Voucher", "Stock", "Price"]
VERBS = ["Created", "Updated", "Cancelled", "Completed", "Failed", "Authorised", "Captured", "Shipped", "Returned",
         "Expired"]
REGIONS = ["Uk", "Ie"]

# -- the small shape (the earlier generator) ------------------------------------------------------------------------
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


def _small_document(doc: int, events: int) -> dict:
    messages = {f"m{e}": _message(doc, e) for e in range(events)}
    info = {"title": f"Domain {doc}", "version": "1.0.0", "description": f"Synthetic domain {doc}."}
    return _wrap(doc, events, info, messages)


def _wrap(doc: int, events: int, info: dict, messages: dict, channel_names: list[str] | None = None) -> dict:
    """The channels and operations around ``messages``: AsyncAPI 2.6 for odd documents, 3.0 for even ones."""
    addresses = channel_names or [f"topic.{doc}.{e}" for e in range(events)]
    keys = list(messages)
    if doc % 2:
        return {"asyncapi": "2.6.0", "info": info,
                "channels": {addresses[e]: {"subscribe": {"operationId": f"send{keys[e]}",
                                                          "message": {"$ref": f"#/components/messages/{keys[e]}"}}}
                             for e in range(events)},
                "components": {"messages": messages}}
    return {"asyncapi": "3.0.0", "info": info,
            "channels": {f"c{e}": {"address": addresses[e],
                                   "messages": {keys[e]: {"$ref": f"#/components/messages/{keys[e]}"}}}
                         for e in range(events)},
            "operations": {f"send{keys[e]}": {"action": "send", "channel": {"$ref": f"#/channels/c{e}"},
                                              "messages": [{"$ref": f"#/channels/c{e}/messages/{keys[e]}"}]}
                           for e in range(events)},
            "components": {"messages": messages}}


# -- the realistic shape ----------------------------------------------------------------------------------------------
# Shared files, as a real organisation keeps them: money and addresses, party details, common headers.

CURRENCIES = ["GBP", "EUR", "USD", "CHF", "SEK", "PLN"]
COUNTRIES = ["GB", "IE", "FR", "DE", "NL", "ES", "IT", "PL"]

SHARED_FILES: dict[str, dict[str, Any]] = {
    "shared/money.yaml": {"$defs": {
        "Money": {"type": "object", "description": "An amount in minor units of an ISO 4217 currency.",
                  "required": ["amount", "currency"], "additionalProperties": False,
                  "properties": {"amount": {"type": "integer", "minimum": 0, "maximum": 100_000_000_00,
                                            "description": "Minor units (pence, cents)."},
                                 "currency": {"type": "string", "enum": CURRENCIES,
                                              "description": "ISO 4217 alphabetic code."}}},
        "TaxLine": {"type": "object", "required": ["rate", "amount"],
                    "properties": {"rate": {"type": "number", "minimum": 0, "maximum": 1},
                                   "amount": {"$ref": "#/$defs/Money"},
                                   "jurisdiction": {"type": "string", "pattern": "^[A-Z]{2}(-[A-Z0-9]{1,3})?$"}}},
    }},
    "shared/party.yaml": {"$defs": {
        "Address": {"type": "object", "required": ["line1", "city", "postcode", "country"],
                    "properties": {"line1": {"type": "string", "minLength": 1, "maxLength": 120},
                                   "line2": {"type": "string", "maxLength": 120},
                                   "city": {"type": "string", "minLength": 1, "maxLength": 80},
                                   "region": {"type": "string", "maxLength": 80},
                                   "postcode": {"type": "string", "pattern": "^[A-Z0-9 -]{3,10}$"},
                                   "country": {"type": "string", "enum": COUNTRIES,
                                               "description": "ISO 3166-1 alpha-2."}}},
        "Contact": {"type": "object", "required": ["email"],
                    "properties": {"email": {"type": "string", "format": "email"},
                                   "phone": {"type": "string", "pattern": "^\\+[1-9][0-9]{6,14}$"},
                                   "preferredLanguage": {"type": "string", "enum": ["en", "ga", "fr", "de"]}}},
    }},
    "shared/headers.yaml": {"$defs": {
        "Headers": {"type": "object", "required": ["correlationId", "producedAt"],
                    "properties": {"correlationId": {"type": "string", "format": "uuid",
                                                     "description": "Carried unchanged through every hop."},
                                   "causationId": {"type": "string", "format": "uuid"},
                                   "producedAt": {"type": "string", "format": "date-time"},
                                   "producer": {"type": "string", "pattern": "^[a-z][a-z0-9-]{2,40}$"},
                                   "traceparent": {"type": "string",
                                                   "pattern": "^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$"}}},
    }},
}

MONEY = "../shared/money.yaml#/$defs/Money"
TAX = "../shared/money.yaml#/$defs/TaxLine"
ADDRESS = "../shared/party.yaml#/$defs/Address"
CONTACT = "../shared/party.yaml#/$defs/Contact"
HEADERS = "../shared/headers.yaml#/$defs/Headers"

WORDS = ["settlement", "merchant", "acquirer", "ledger", "basket", "fulfilment", "carrier", "warehouse", "tender",
         "loyalty", "dispute", "chargeback", "instalment", "wallet", "terminal", "channel", "promotion", "voucher"]


def _text(rng: random.Random, words: int) -> str:
    chosen = [rng.choice(WORDS) for _ in range(words)]
    return (" ".join(chosen)).capitalize() + "."


def _string(rng: random.Random, what: str, **extra: Any) -> dict[str, Any]:
    return {"type": "string", "description": f"The {what}: {_text(rng, 3)}", **extra}


def _line_item(rng: random.Random) -> dict[str, Any]:
    return {"type": "object", "required": ["sku", "quantity", "unitPrice"], "additionalProperties": False,
            "properties": {
                "sku": _string(rng, "stock keeping unit", pattern="^[A-Z0-9]{4,12}$"),
                "description": _string(rng, "line as shown to the customer", maxLength=200),
                "quantity": {"type": "integer", "minimum": 1, "maximum": 999},
                "unitPrice": {"$ref": MONEY},
                "discount": {"$ref": MONEY},
                "taxes": {"type": "array", "maxItems": 4, "items": {"$ref": TAX}},
                "category": {"type": "string", "enum": ["GROCERY", "CLOTHING", "ELECTRONICS", "HOME", "GIFT_CARD"]},
                "attributes": {"type": "array", "maxItems": 10, "items": {
                    "type": "object", "required": ["name", "value"],
                    "properties": {"name": {"type": "string", "maxLength": 40},
                                   "value": {"type": "string", "maxLength": 120}}}},
            }}


OPTIONAL_SECTIONS = ["paymentMethod", "lineItems", "fulfilment", "risk", "taxes"]
ARRAYS_OF_OBJECTS = ["lineItems", "fulfilment", "risk"]


def _realistic_payload(rng: random.Random, entity: str, extra_fields: int) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "id": _string(rng, f"{entity.lower()} identifier", format="uuid"),
        "occurredAt": _string(rng, "moment it happened", format="date-time"),
        "businessDate": _string(rng, "trading day it counts towards", format="date"),
        "status": {"type": "string", "enum": ["PENDING", "AUTHORISED", "CAPTURED", "SETTLED", "DECLINED", "REVERSED"],
                   "description": _text(rng, 8)},
        "total": {"$ref": MONEY},
        "merchant": {"type": "object", "required": ["id", "name", "address"], "description": _text(rng, 6),
                     "properties": {"id": _string(rng, "merchant identifier", pattern="^M[0-9]{6,10}$"),
                                    "name": _string(rng, "trading name", maxLength=80),
                                    "categoryCode": _string(rng, "merchant category code", pattern="^[0-9]{4}$"),
                                    "address": {"$ref": ADDRESS},
                                    "website": _string(rng, "storefront", format="uri")}},
        "customer": {"type": "object", "required": ["id", "contact"], "description": _text(rng, 6),
                     "properties": {"id": _string(rng, "customer identifier", format="uuid"),
                                    "contact": {"$ref": CONTACT},
                                    "billingAddress": {"$ref": ADDRESS},
                                    "shippingAddress": {"$ref": ADDRESS},
                                    "segment": {"type": "string", "enum": ["RETAIL", "SMALL_BUSINESS", "CORPORATE"]},
                                    "loyalty": {"type": "object", "properties": {
                                        "tier": {"type": "string", "enum": ["BRONZE", "SILVER", "GOLD", "PLATINUM"]},
                                        "points": {"type": "integer", "minimum": 0}}}}},
        "paymentMethod": {"type": "object", "required": ["kind"], "description": _text(rng, 6),
                          "properties": {
                              "kind": {"type": "string", "enum": ["CARD", "WALLET", "BANK_TRANSFER", "VOUCHER"]},
                              "card": {"type": "object", "required": ["scheme", "last4"], "properties": {
                                  "scheme": {"type": "string", "enum": ["VISA", "MASTERCARD", "AMEX", "MAESTRO"]},
                                  "last4": _string(rng, "last four digits of the card", pattern="^[0-9]{4}$"),
                                  "expiry": _string(rng, "expiry month", pattern="^(0[1-9]|1[0-2])/[0-9]{2}$"),
                                  "threeDSecure": {"type": "object", "properties": {
                                      "version": {"type": "string", "enum": ["2.1.0", "2.2.0"]},
                                      "outcome": {"type": "string",
                                                  "enum": ["AUTHENTICATED", "ATTEMPTED", "FAILED"]}}}}},
                              "walletProvider": {"type": "string", "enum": ["APPLE_PAY", "GOOGLE_PAY", "PAYPAL"]}}},
        "lineItems": {"type": "array", "minItems": 1, "maxItems": 500, "description": _text(rng, 8),
                      "items": _line_item(rng)},
        "fulfilment": {"type": "object", "description": _text(rng, 6), "properties": {
            "method": {"type": "string", "enum": ["DELIVERY", "COLLECTION", "DIGITAL"]},
            "promisedBy": _string(rng, "latest promised delivery", format="date-time"),
            "shipments": {"type": "array", "maxItems": 20, "items": {
                "type": "object", "required": ["carrier", "trackingNumber"], "properties": {
                    "carrier": {"type": "string", "enum": ["ROYAL_MAIL", "DPD", "AN_POST", "DHL", "UPS"]},
                    "trackingNumber": _string(rng, "carrier's tracking number", pattern="^[A-Z0-9]{8,30}$"),
                    "dispatchedAt": {"type": "string", "format": "date-time"},
                    "parcels": {"type": "integer", "minimum": 1, "maximum": 50}}}}}},
        "risk": {"type": "object", "description": _text(rng, 6), "properties": {
            "score": {"type": "number", "minimum": 0, "maximum": 100},
            "decision": {"type": "string", "enum": ["ACCEPT", "REVIEW", "REJECT"]},
            "rules": {"type": "array", "maxItems": 50, "items": {
                "type": "object", "required": ["id", "outcome"], "properties": {
                    "id": {"type": "string", "pattern": "^R[0-9]{3,5}$"},
                    "outcome": {"type": "string", "enum": ["PASS", "FLAG", "BLOCK"]},
                    "weight": {"type": "number", "minimum": -10, "maximum": 10}}}}}},
        "taxes": {"type": "array", "maxItems": 8, "items": {"$ref": TAX}},
        "channel": {"type": "string", "enum": ["WEB", "APP", "STORE", "PHONE", "MARKETPLACE"]},
        "metadata": {"type": "object", "description": "Free-form labels set by the producer.",
                     "additionalProperties": {"type": "string", "maxLength": 256}, "maxProperties": 20},
    }
    # Each event carries two of the optional sections, one of them with an array of objects.
    first = rng.choice(ARRAYS_OF_OBJECTS)
    kept = {first, rng.choice([s for s in OPTIONAL_SECTIONS if s != first])}
    for section in OPTIONAL_SECTIONS:
        if section not in kept:
            del properties[section]
    for i in range(extra_fields):
        properties[f"{rng.choice(WORDS)}Ref{i}"] = _string(rng, f"reference {i}", maxLength=64)
    return {"type": "object", "required": ["id", "occurredAt", "status", "total", "merchant"],
            "additionalProperties": False, "properties": properties}


def _uuid(rng: random.Random) -> str:
    return f"{rng.getrandbits(32):08x}-{rng.getrandbits(16):04x}-4{rng.getrandbits(12):03x}-" \
           f"{8 + rng.getrandbits(2):x}{rng.getrandbits(12):03x}-{rng.getrandbits(48):012x}"


def _money(rng: random.Random, currency: str) -> dict[str, Any]:
    return {"amount": rng.randrange(50, 200_000), "currency": currency}


def _address(rng: random.Random) -> dict[str, Any]:
    return {"line1": f"{rng.randrange(1, 300)} {rng.choice(WORDS).capitalize()} Street",
            "city": rng.choice(["London", "Dublin", "Leeds", "Cork", "Bristol", "Galway"]),
            "postcode": rng.choice(["EC1A 1BB", "D02 X285", "LS1 4AP", "T12 K8AF"]),
            "country": rng.choice(COUNTRIES)}


def _realistic_example(rng: random.Random, n: int, extra: list[str], properties: dict[str, Any]) -> dict[str, Any]:
    currency = rng.choice(CURRENCIES)
    day = 1 + n % 28
    items = [{"sku": f"SKU{rng.randrange(10_000, 99_999)}", "description": _text(rng, 4),
              "quantity": rng.randrange(1, 5), "unitPrice": _money(rng, currency),
              "taxes": [{"rate": 0.2, "amount": _money(rng, currency), "jurisdiction": "GB"}],
              "category": rng.choice(["GROCERY", "CLOTHING", "ELECTRONICS", "HOME"]),
              "attributes": [{"name": "colour", "value": rng.choice(["red", "blue", "green"])},
                             {"name": "size", "value": rng.choice(["S", "M", "L"])}]}
             for _ in range(1 + n % 2)]
    payload: dict[str, Any] = {
        "id": _uuid(rng), "occurredAt": f"2026-11-{day:02d}T10:{n % 60:02d}:00Z", "businessDate": f"2026-11-{day:02d}",
        "status": rng.choice(["PENDING", "AUTHORISED", "CAPTURED", "SETTLED"]),
        "total": _money(rng, currency),
        "merchant": {"id": f"M{rng.randrange(1_000_000, 9_999_999)}", "name": f"{rng.choice(WORDS).capitalize()} Ltd",
                     "categoryCode": "5411", "address": _address(rng), "website": "https://shop.example.com/"},
        "customer": {"id": _uuid(rng), "contact": {"email": f"customer{n}@example.com", "phone": "+447700900123",
                                                   "preferredLanguage": "en"},
                     "billingAddress": _address(rng), "segment": "RETAIL",
                     "loyalty": {"tier": rng.choice(["BRONZE", "GOLD"]), "points": rng.randrange(0, 5000)}},
        "paymentMethod": {"kind": "CARD", "card": {"scheme": rng.choice(["VISA", "MASTERCARD"]), "last4": "4242",
                                                   "expiry": "09/29",
                                                   "threeDSecure": {"version": "2.2.0", "outcome": "AUTHENTICATED"}}},
        "lineItems": items,
        "fulfilment": {"method": "DELIVERY", "promisedBy": f"2026-11-{day:02d}T18:00:00Z",
                       "shipments": [{"carrier": "DPD", "trackingNumber": f"DPD{rng.randrange(10**9, 10**10)}",
                                      "dispatchedAt": f"2026-11-{day:02d}T12:00:00Z", "parcels": 1}]},
        "risk": {"score": round(rng.random() * 100, 2), "decision": "ACCEPT",
                 "rules": [{"id": f"R{rng.randrange(100, 999)}", "outcome": "PASS", "weight": 1.5}]},
        "channel": rng.choice(["WEB", "APP", "STORE"]),
        "metadata": {"campaign": rng.choice(WORDS), "source": "synthetic"},
    }
    payload = {key: value for key, value in payload.items() if key in properties}
    payload.update({name: f"{name[:3].upper()}-{rng.randrange(10**5, 10**6)}" for name in extra})
    return {"name": f"example-{n}", "summary": _text(rng, 5),
            "headers": {"correlationId": _uuid(rng), "producedAt": f"2026-11-{day:02d}T10:{n % 60:02d}:01Z",
                        "producer": "checkout-service"},
            "payload": payload}


def _realistic_message(rng: random.Random, doc: int, event: int) -> dict[str, Any]:
    entity = ENTITIES[(doc + event) % 10]
    name = f"{entity}.{VERBS[event % 10]}V{1 + doc % 3}.{REGIONS[event % 2]}{doc}x{event}"
    payload = _realistic_payload(rng, entity, extra_fields=2)
    extra = [key for key in payload["properties"] if "Ref" in key]
    return {
        "name": name, "title": f"{entity} {VERBS[event % 10].lower()}",
        "summary": f"A {entity.lower()} was {VERBS[event % 10].lower()} ({_text(rng, 4).lower()[:-1]}).",
        "description": f"{_text(rng, 12)}\n\n{_text(rng, 8)}", "contentType": "application/json",
        "tags": [{"name": entity.lower()}, {"name": "payments" if doc % 2 else "orders"}],
        "headers": {"$ref": HEADERS},
        "payload": payload,
        "examples": [_realistic_example(rng, event * 2, extra, payload["properties"]),
                     _realistic_example(rng, event * 2 + 1, extra, payload["properties"])],
    }


def _realistic_document(rng: random.Random, doc: int, events: int) -> dict:
    messages = {f"{ENTITIES[(doc + e) % 10]}{VERBS[e % 10]}{e}": _realistic_message(rng, doc, e)
                for e in range(events)}
    info = {"title": f"{ENTITIES[doc % 10]} domain {doc}", "version": f"{1 + doc % 4}.{doc % 7}.0",
            "description": _text(rng, 30), "contact": {"name": "Team " + ENTITIES[doc % 10],
                                                        "email": f"team{doc}@example.com"}}
    channels = [f"{ENTITIES[(doc + e) % 10].lower()}.{VERBS[e % 10].lower()}.{doc}.{e}" for e in range(events)]
    return _wrap(doc, events, info, messages, channels)


def document(doc: int, events: int = EVENTS_PER_DOCUMENT, *, realistic: bool = True, seed: int = 13) -> dict:
    """Document number ``doc`` of a catalogue (the same document for the same arguments)."""
    if not realistic:
        return _small_document(doc, events)
    return _realistic_document(random.Random(f"{seed}/{doc}"), doc, events)


def write_catalogue(folder: Path, documents: int = 50, events: int = EVENTS_PER_DOCUMENT, *,
                    realistic: bool = False, seed: int = 13) -> list[Path]:
    """Write ``documents`` documents of ``events`` events each (and the shared files) into ``folder``.

    The small shape by default, as the benchmarks written before the realistic one expect (``domain-NN.yaml`` next
    to ``shared.yaml``); the realistic one writes ``domains/domain-NNN.yaml`` and ``shared/*.yaml``."""
    folder.mkdir(parents=True, exist_ok=True)
    if not realistic:
        (folder / "shared.yaml").write_text(yaml.safe_dump(SHARED, sort_keys=False))
        paths = []
        for doc in range(documents):
            path = folder / f"domain-{doc:02d}.yaml"
            path.write_text(yaml.safe_dump(_small_document(doc, events), sort_keys=False))
            paths.append(path)
        return paths
    for name, content in SHARED_FILES.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(yaml.safe_dump(content, sort_keys=False, width=120))
    domains = folder / "domains"
    domains.mkdir(exist_ok=True)
    paths = []
    for doc in range(documents):
        path = domains / f"domain-{doc:03d}.yaml"
        path.write_text(yaml.safe_dump(document(doc, events, seed=seed), sort_keys=False, width=120))
        paths.append(path)
    return paths


def documents_for(events: int) -> int:
    """How many documents hold ``events`` events (50 per 1,000)."""
    return max(1, -(-events // EVENTS_PER_DOCUMENT))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--events", type=int, default=1000,
                        help=f"events in all ({EVENTS_PER_DOCUMENT} per document; 1000, 5000, 10000)")
    parser.add_argument("--small", action="store_true", help="the small shape (about 2.7 KB per event)")
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    write_catalogue(args.folder, documents_for(args.events), EVENTS_PER_DOCUMENT, realistic=not args.small,
                    seed=args.seed)
