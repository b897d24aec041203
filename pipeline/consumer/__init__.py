"""The consumer side of sealed events: open (decrypt, verify, check, validate) and de-duplicate.

``open_event`` needs only joserfc; the de-duplication helpers (``IdempotentConsumer``, ``idempotent``) need
aws-lambda-powertools and are imported on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pipeline.sealing.open import DEFAULT_LEEWAY_SECONDS, OpenedEvent, Validator, open_event

if TYPE_CHECKING:
    from pipeline.consumer.dedupe import IdempotentConsumer, idempotent

__all__ = ["DEFAULT_LEEWAY_SECONDS", "IdempotentConsumer", "OpenedEvent", "Validator", "idempotent", "open_event"]


def __getattr__(name: str) -> Any:
    if name in ("IdempotentConsumer", "idempotent"):
        from pipeline.consumer import dedupe

        return getattr(dedupe, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
