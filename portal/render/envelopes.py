"""What a consumer actually receives for an event: the EventBridge event, the CloudEvent in its ``detail`` and, for
sealed events, the layers of the token in the CloudEvent's ``data``.

The values are built from one of the event's examples with the pipeline's own code
(:func:`pipeline.envelope.cloudevent.cloud_event_dict`, the contract's typed ``x-sealing``), so the documentation
shows the attribute names and header fields the pipeline produces. Everything that is random in production (ULID,
EventBridge id, ciphertext) is derived from the example here, so a page is the same on every build.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ulid import ULID

from pipeline.contract import Document, Event, SealingPolicy
from pipeline.contract import Sealing as DeclaredSealing
from pipeline.enrichment.enrich import EnrichmentError, event_subject
from pipeline.envelope.cloudevent import cloud_event_dict
from pipeline.sealing.seal import claims_for, jwe_header, jws_header

PLACEHOLDER_ACCOUNT = "123456789012"
PLACEHOLDER_REGION = "eu-west-1"
_DEFAULT_TIME = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Routing:
    """Where a document's events are put: the ``x-eventbridge`` values, or placeholders (``declared`` False)."""

    source: str
    bus: str
    region: str
    account: str
    declared: bool


@dataclass(frozen=True, slots=True)
class Sealing:
    """How the catalogue shows an event's effective sealing (the contract's :attr:`Event.sealing`)."""

    policy: SealingPolicy | None
    declared_on: str  # "message" | "document" | "nowhere"
    problem: str | None = None

    @classmethod
    def of(cls, declared: DeclaredSealing | None) -> Sealing:
        if declared is None:
            return cls(None, "nowhere")
        return cls(declared.policy, declared.declared_on, declared.problem)

    @property
    def sealed(self) -> bool:
        return self.policy is not None

    @property
    def jws_header(self) -> dict[str, str] | None:
        return jws_header(self.policy) if self.policy is not None else None

    @property
    def jwe_header(self) -> dict[str, Any] | None:
        header: dict[str, Any] | None = jwe_header(self.policy) if self.policy is not None else None
        if header is None:
            return None
        if header["alg"].startswith("ECDH-ES"):  # added by the key agreement when the token is made
            header["epk"] = {"kty": "EC", "crv": "P-256", "x": "<ephemeral public key x>",
                             "y": "<ephemeral public key y>"}
        return header


@dataclass(frozen=True, slots=True)
class Envelopes:
    example_name: str | None
    generated: bool
    put_events_entry: dict[str, Any]
    eventbridge_event: dict[str, Any]
    cloud_event: dict[str, Any]
    sealing: Sealing
    claims: dict[str, Any] | None


def routing_of(document: Document | None) -> Routing:
    bridge = document.eventbridge if document is not None else None
    if bridge is not None and bridge.source is not None:
        return Routing(source=bridge.source, bus=bridge.bus or "default", region=bridge.region or PLACEHOLDER_REGION,
                       account=bridge.account or PLACEHOLDER_ACCOUNT, declared=True)
    name = document.id if document is not None else "unknown"
    return Routing(source=f"urn:eventdeck:{name}", bus="default", region=PLACEHOLDER_REGION,
                   account=PLACEHOLDER_ACCOUNT, declared=False)


def _event_time(payload: Any) -> datetime:
    if isinstance(payload, dict):
        for key in ("occurredAt", "time", "timestamp"):
            value = payload.get(key)
            if isinstance(value, str):
                try:
                    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
                except ValueError:
                    continue
                if moment.tzinfo is not None:
                    return moment.astimezone(UTC)
    return _DEFAULT_TIME


def _digest(*parts: str) -> bytes:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).digest()


def _b64(value: Any) -> str:
    raw = json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def envelopes_for(event: Event, document: Document | None, payload: Any, *, example_name: str | None,
                  generated: bool, dataschema: str | None) -> Envelopes:
    """The envelopes of ``event`` carrying ``payload`` (one of its examples, or a generated one)."""
    routing = routing_of(document)
    sealing = Sealing.of(event.sealing)
    moment = _event_time(payload)
    seed = _digest(event.key, example_name or "")
    ms = int(moment.timestamp() * 1000)
    event_id = str(ULID.from_bytes(ms.to_bytes(6, "big") + seed[:10]))
    try:
        subject = event_subject(event, payload)
    except EnrichmentError:
        subject = None  # the contract checks report a malformed pointer; the page shows no subject
    cloud = cloud_event_dict(type=event.name, source=routing.source, data=payload, subject=subject,
                             dataschema=dataschema, dataversion=event.version, time=moment, id=event_id)
    claims = None
    if sealing.policy is not None:
        policy = sealing.policy
        claims = claims_for(cloud, policy, issued_at=int(moment.timestamp()))
        claims["data"] = "<the payload: the example above>"
        cloud["datacontenttype"] = "application/jwt"
        if sealing.jwe_header is not None:
            encrypted_key = "" if policy.encrypt is not None and policy.encrypt.alg == "dir" else "<encrypted key>"
            cloud["data"] = f"{_b64(sealing.jwe_header)}.{encrypted_key}.<iv>.<ciphertext>.<tag>"
        else:
            cloud["data"] = f"{_b64(sealing.jws_header)}.{_b64(claims)}.<signature>"
    stamp = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    bridge = {
        "version": "0",
        "id": str(uuid.UUID(bytes=seed[10:26], version=4)),
        "detail-type": event.name,
        "source": routing.source,
        "account": routing.account,
        "time": stamp,
        "region": routing.region,
        "resources": [],
        "detail": cloud,
    }
    entry = {"EventBusName": routing.bus, "Source": routing.source, "DetailType": event.name, "Time": stamp,
             "Detail": "<the CloudEvent below, serialised as a JSON string>"}
    return Envelopes(example_name, generated, entry, bridge, cloud, sealing, claims)
