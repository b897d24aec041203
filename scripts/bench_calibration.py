"""The benchmark's calibration contract: a flat ~1.5 KB card-payment event, shaped like the one the pipeline's
throughput targets were measured on (pipeline-anchors §4: a 1.3-1.5 KB payment, a schema of ~43 declared
properties, a 5-operation JSON Patch, pruning on).

The example contract's own events are smaller but deeper (Order.Created.Uk with a bundle is a recursive
allOf/$ref schema of ~70 fields, which costs fastjsonschema three times as much as this flat one), so the
benchmark reports the chain on both. The document is written to a folder and loaded through the ordinary
contract loader, so every check applies to it.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

EVENT_NAME = "Payment.Authorised.Bench"
EXAMPLE = "visa-ecom-gbp"


def public_payload() -> dict[str, Any]:
    """The published payload, ~1.5 KB of JSON."""
    return {
        "paymentId": "3f6c2a9e-8b1d-4c7a-9e2f-5a1b7c3d9e01",
        "merchantAccount": "AcmeRetailGB",
        "merchant": {"id": "m_0012345", "name": "Acme Retail Ltd", "mcc": "5411", "country": "GB"},
        "amount": {"value": 129999, "currency": "GBP"},
        "card": {"scheme": "visa", "bin": "424242", "last4": "4242", "expiry": "12/29", "fundingType": "credit",
                 "issuerCountry": "GB", "tokenised": True},
        "authorisation": {
            "code": "A1B2C3", "responseCode": "00", "avsResult": "Y", "cvcResult": "M",
            "threeDS": {"version": "2.2.0", "eci": "05", "authenticationValue": "AAABBBCCCDDDEEEFFFGGGHHHIII=",
                        "dsTransId": "f25084f0-5b16-4c0a-ae5d-b24808a95e4b"},
        },
        "customer": {"id": "c_987654", "email": "jane.doe@example.com", "ip": "203.0.113.7",
                     "billing": {"line1": "1 High Street", "city": "London", "postcode": "SW1A 1AA", "country": "GB"}},
        "items": [{"sku": f"SKU-{i:04d}", "description": f"Item number {i}", "qty": i % 3 + 1, "unitPrice": 1999 + i}
                  for i in range(8)],
        "channel": "ecom",
        "createdAt": "2026-03-14T10:15:02.789Z",
        "riskScore": 12.5,
        "tags": ["first-purchase", "promo-summer"],
    }


def internal_event() -> tuple[dict[str, Any], dict[str, Any]]:
    """The internal event the payload is enriched from, and the look-up result the patch copies in."""
    detail = copy.deepcopy(public_payload())
    merchant = detail.pop("merchant")
    detail.pop("merchantAccount")
    detail["authCode"] = detail["authorisation"].pop("code")
    detail["amountMinor"] = detail["amount"].pop("value")
    detail["internalRef"] = "pay-int-000042"
    detail["debug"] = {"node": "pay-7", "attempt": 1}
    event = {"version": "0", "id": "6a0c1e52-3b7d-4f19-8e2a-90c4d5b6e701", "source": "com.retailer.payments.internal",
             "detail-type": "PaymentAuthorised", "account": "111122223333", "time": "2026-03-14T10:15:03Z",
             "region": "eu-west-1", "resources": [], "detail": detail}
    return event, {"merchant": merchant}


PATCH = [
    {"op": "test", "path": "/channel", "value": "ecom"},
    {"op": "move", "from": "/authCode", "path": "/authorisation/code"},
    {"op": "move", "from": "/amountMinor", "path": "/amount/value"},
    {"op": "copy", "from": "/_lookups/merchant", "path": "/merchant"},
    {"op": "add", "path": "/merchantAccount", "value": "AcmeRetailGB"},
]


def _string(**more: Any) -> dict[str, Any]:
    return {"type": "string", "minLength": 1, "maxLength": 120, **more}


def _object(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {"type": "object", "additionalProperties": False, "required": required or list(properties),
            "properties": properties}


def payload_schema() -> dict[str, Any]:
    """A draft-07 schema declaring every field (~45), with the usual types, patterns, formats and bounds."""
    country = {"type": "string", "pattern": "^[A-Z]{2}$"}
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        **_object({
            "paymentId": {"type": "string", "format": "uuid"},
            "merchantAccount": _string(),
            "merchant": _object({"id": _string(), "name": _string(), "mcc": {"type": "string", "pattern": "^[0-9]{4}$"},
                                 "country": country}),
            "amount": _object({"value": {"type": "integer", "minimum": 0},
                               "currency": {"type": "string", "pattern": "^[A-Z]{3}$"}}),
            "card": _object({"scheme": {"type": "string", "enum": ["visa", "mastercard", "amex"]},
                             "bin": {"type": "string", "pattern": "^[0-9]{6,8}$"},
                             "last4": {"type": "string", "pattern": "^[0-9]{4}$"},
                             "expiry": {"type": "string", "pattern": "^[0-9]{2}/[0-9]{2}$"},
                             "fundingType": {"type": "string", "enum": ["credit", "debit", "prepaid"]},
                             "issuerCountry": country, "tokenised": {"type": "boolean"}}),
            "authorisation": _object({
                "code": _string(), "responseCode": _string(), "avsResult": _string(), "cvcResult": _string(),
                "threeDS": _object({"version": _string(), "eci": _string(), "authenticationValue": _string(),
                                    "dsTransId": {"type": "string", "format": "uuid"}}),
            }),
            "customer": _object({"id": _string(), "email": {"type": "string", "format": "email"},
                                 "ip": {"type": "string", "format": "ipv4"},
                                 "billing": _object({"line1": _string(), "city": _string(), "postcode": _string(),
                                                     "country": country})}),
            "items": {"type": "array", "minItems": 1, "maxItems": 100,
                      "items": _object({"sku": _string(), "description": _string(),
                                        "qty": {"type": "integer", "minimum": 1},
                                        "unitPrice": {"type": "integer", "minimum": 0}})},
            "channel": {"type": "string", "enum": ["ecom", "pos"]},
            "createdAt": {"type": "string", "format": "date-time"},
            "riskScore": {"type": "number", "minimum": 0, "maximum": 100},
            "tags": {"type": "array", "items": _string()},
        }),
    }


def document() -> dict[str, Any]:
    """The AsyncAPI 3.0 document with the one calibration message."""
    event, lookups = internal_event()
    return {
        "asyncapi": "3.0.0",
        "id": "urn:eventdeck:bench:payments",
        "info": {"title": "Benchmark payments", "version": "1.0.0",
                 "description": "The pipeline benchmark's calibration event."},
        "defaultContentType": "application/json",
        "x-eventbridge": {"bus": "bench-public", "source": "com.retailer.bench"},
        "x-sealing": {"sign": {"alg": "HS256", "kid": "bench-sign"},
                      "encrypt": {"alg": "dir", "enc": "A256GCM", "kid": "bench-enc"}, "compress": False},
        "channels": {"payments": {"address": "bench-public", "messages": {
            "PaymentAuthorisedBench": {"$ref": "#/components/messages/PaymentAuthorisedBench"}}}},
        "operations": {"publishPaymentAuthorisedBench": {
            "action": "send", "channel": {"$ref": "#/channels/payments"},
            "messages": [{"$ref": "#/channels/payments/messages/PaymentAuthorisedBench"}]}},
        "components": {"messages": {"PaymentAuthorisedBench": {
            "name": EVENT_NAME, "title": "Payment authorised (benchmark)", "contentType": "application/json",
            "payload": payload_schema(),
            "examples": [{"name": EXAMPLE, "payload": public_payload()}],
            "x-enrichment": {"from": {"source": ["com.retailer.payments.internal"],
                                      "detail-type": ["PaymentAuthorised"]},
                             "lookups": [{"name": "merchant", "url": "http://127.0.0.1:8090/merchants/{/internalRef}"}],
                             "patch": PATCH, "prune": True, "subject": "/paymentId",
                             "samples": [{"example": EXAMPLE, "event": event, "lookups": lookups}]},
        }}},
    }


def write(folder: Path) -> Path:
    """Write the document into ``folder`` and return its path."""
    path = folder / "bench-payments.yaml"
    path.write_text(yaml.safe_dump(document(), sort_keys=False), encoding="utf-8")
    return path
