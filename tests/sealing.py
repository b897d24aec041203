"""Helpers the sealing, opening and interop tests share: a policy for a key set, and a payment CloudEvent."""

from __future__ import annotations

from typing import Any

from pipeline.envelope.cloudevent import build_cloud_event
from pipeline.sealing.keys import KeySet
from pipeline.sealing.seal import EncryptSpec, SealingPolicy, SignSpec

ISSUER = "urn:eventdeck:payments"
EVENT_TYPE = "Payment.Authorised.Ecom"


def policy_for(keys: KeySet, sign: str = "HS256", encrypt: str | None = "dir", **extra: Any) -> SealingPolicy:
    """A policy signing with the first ``sign`` key and encrypting to the first ``encrypt`` key of ``keys``."""
    return SealingPolicy(
        sign=SignSpec(sign, keys.kids_for(sign)[0]),
        encrypt=None if encrypt is None else EncryptSpec(encrypt, keys.kids_for(encrypt)[0]),
        issuer=ISSUER,
        **extra,
    )


def payment_event(data: Any) -> dict[str, Any]:
    """A fresh CloudEvent dict of ``EVENT_TYPE`` carrying ``data``."""
    return build_cloud_event(type=EVENT_TYPE, source=ISSUER, subject=EVENT_TYPE, data=data).to_dict()
