"""The runtime's one exception family.

:class:`EventdeckError` is the root of every exception eventdeck raises on purpose: contract problems
(:class:`pipeline.contract.ContractError`), patterns, enrichment, payload validation, the producer, and everything
below. An edge (CLI, MkDocs plugin, Lambda handler) catches it and turns it into one friendly line.

Hashing, sealing, opening and de-duplicating raise :class:`SealingError` subclasses, each carrying the
CloudEvent ``id`` it concerns (``event_id``, ``None`` when no event is involved, e.g. while loading a key set).
Messages name the event, the key id and the algorithm at most: never key material, never the decrypted payload.
Callers at the edges (CLI, Lambda handler) turn them into one line; nothing in the middle swallows them.

Consumer-side failures (:func:`pipeline.consumer.open_event`) derive from :class:`EventRejected`, so a
consumer that only wants "drop and alert" catches one class; one that wants to tell an attack from a
misconfiguration catches the specific ones.
"""

from __future__ import annotations

__all__ = [
    "BadSignature",
    "ClaimsRejected",
    "ContractViolation",
    "DataschemaMismatch",
    "DecryptionFailed",
    "DedupeStoreError",
    "DisallowedAlgorithm",
    "DuplicateInProgress",
    "EventRejected",
    "EventdeckError",
    "InflateLimitExceeded",
    "KeySetError",
    "MalformedEnvelope",
    "NonCanonicalValue",
    "OversizedEvent",
    "OversizedToken",
    "PayloadRejected",
    "SealingDowngraded",
    "SealingError",
    "SealingPolicyError",
    "SealingPolicyMismatch",
    "TamperedToken",
    "UlidOverflow",
    "UnknownEventType",
    "UnknownKeyId",
    "UnstorableResult",
]


class EventdeckError(Exception):
    """Base of every exception eventdeck raises on purpose (see the module docstring)."""


class SealingError(EventdeckError):
    """Base of every error in hashing, sealing, opening and de-duplication.

    ``event_id`` is the CloudEvent id the failure concerns (``None`` when there is none). ``str(exc)`` is
    the message followed by the event id; it never contains key material.
    """

    def __init__(self, message: str, *, event_id: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.event_id = event_id

    def __str__(self) -> str:
        if self.event_id is None:
            return self.message
        return f"{self.message} (event {self.event_id})"


class NonCanonicalValue(SealingError, ValueError):
    """A value has no canonical JSON form (NaN, Infinity, or a type JSON cannot represent)."""


class UlidOverflow(SealingError):
    """The 80-bit random part of a monotonic ULID overflowed within one millisecond (ULID spec: must fail)."""


class KeySetError(SealingError):
    """A key set could not be loaded or is inconsistent (names the source and the kid, never the key)."""


class SealingPolicyError(SealingError, ValueError):
    """An ``x-sealing`` policy is invalid; ``field`` names the offending member (e.g. ``sign.alg``)."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(f"x-sealing.{field}: {message}")
        self.field = field


class OversizedEvent(SealingError):
    """The producer refused to seal: the claims or the token would exceed the event size caps."""


class DuplicateInProgress(SealingError):
    """Another consumer is handling an event with the same idempotency key right now; retry later."""


class DedupeStoreError(SealingError):
    """The de-duplication store failed (its exception is chained as ``__cause__``); the event was not handled
    or its outcome was not recorded, so it must be retried."""


class UnstorableResult(SealingError):
    """The handler ran, but its result cannot be recorded for duplicates: the store's JSON encoder refuses it (the
    encoder's exception is chained as ``__cause__``) or it is over the size a store item holds. The handler's
    fault, not the store's: the in-progress record is released, so a retry runs the handler again at once."""


# --------------------------------------------------------------------------------------------- consumer


class EventRejected(SealingError):
    """Base of every reason :func:`pipeline.consumer.open_event` refuses an event."""


class UnknownKeyId(EventRejected):
    """No key with this ``kid`` (or none usable for the operation) is in the key set.

    Raised when opening (the token's ``kid``) and also when sealing (the policy's ``kid``), hence it is the
    one consumer-side class a producer may see too.
    """

    def __init__(self, message: str, *, kid: str | None, event_id: str | None = None) -> None:
        super().__init__(message, event_id=event_id)
        self.kid = kid


class MalformedEnvelope(EventRejected):
    """The CloudEvent is not a sealed event we can open (missing id, wrong datacontenttype, no token)."""


class TamperedToken(EventRejected):
    """The token is structurally invalid: wrong number of segments, bad base64/JSON, forbidden header."""


class OversizedToken(EventRejected):
    """The token or one of its segments exceeds the size caps derived from the EventBridge entry limit."""


class InflateLimitExceeded(EventRejected):
    """The compressed plaintext inflates past the cap (a compression bomb, or a producer over the limit)."""


class DisallowedAlgorithm(EventRejected):
    """The token names an algorithm outside the allow-list, or not the one bound to its ``kid``."""

    def __init__(self, message: str, *, alg: object, event_id: str | None = None) -> None:
        super().__init__(message, event_id=event_id)
        self.alg = alg


class DecryptionFailed(EventRejected):
    """The JWE did not decrypt: wrong key, or modified ciphertext/header/tag (AEAD cannot tell which)."""


class BadSignature(EventRejected):
    """The inner JWS signature does not verify with the producer's key for its ``kid``."""


class ClaimsRejected(EventRejected):
    """A verified token's claims do not fit the envelope or the clock; ``claim`` names the claim."""

    def __init__(self, message: str, *, claim: str, event_id: str | None = None) -> None:
        super().__init__(message, event_id=event_id)
        self.claim = claim


class PayloadRejected(EventRejected):
    """The ``validate`` callable refused the opened payload (its exception is chained as ``__cause__``)."""


# --------------------------------------------------------------------------------------- consumer, contract


class ContractViolation(EventRejected):
    """The event does not keep its type's contract (raised by a consumer given the contract)."""


class UnknownEventType(ContractViolation):
    """The event's ``type`` is not an event of the contract the consumer opens with."""


class SealingDowngraded(ContractViolation):
    """The event is sealed more weakly than its type's ``x-sealing`` demands: unsealed for a sealed type, or
    signed only (the encryption layer stripped) where the policy encrypts."""


class SealingPolicyMismatch(ContractViolation):
    """The event is sealed with another algorithm or key (``kid``) than its type's ``x-sealing`` names, or its
    type's sealing policy is invalid in the contract."""


class DataschemaMismatch(ContractViolation):
    """The event's ``dataschema`` is not a published schema URL of its own type (it could name a laxer schema)."""
