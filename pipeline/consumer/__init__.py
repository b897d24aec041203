"""The consumer side of sealed events: open (decrypt, verify, check, validate) and de-duplicate.

``Opener`` (built once per key set, reused for every event) and the one-shot ``open_event`` need only joserfc;
the de-duplication helpers (``IdempotentConsumer``, ``idempotent``) need aws-lambda-powertools and are imported
on first use.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pipeline.consumer.contract import ContractOpener
from pipeline.contract.model import Catalogue
from pipeline.sealing.keys import KeySet
from pipeline.sealing.open import DEFAULT_LEEWAY_SECONDS, OpenedEvent, Opener, Validator
from pipeline.sealing.open import open_event as _open_sealed

if TYPE_CHECKING:
    from pipeline.consumer.dedupe import IdempotentConsumer, idempotent

__all__ = [
    "DEFAULT_LEEWAY_SECONDS",
    "ContractOpener",
    "IdempotentConsumer",
    "OpenedEvent",
    "Opener",
    "Validator",
    "idempotent",
    "open_event",
]


def open_event(cloud_event: Mapping[str, Any], keys: KeySet, *, contract: Catalogue | None = None,
               **options: Any) -> OpenedEvent:
    """Open one CloudEvent. With ``contract`` (a runtime artefact's catalogue, or one loaded from the AsyncAPI
    documents) the event must keep its type's contract — known type, its own ``dataschema``, sealed at least as
    its ``x-sealing`` says, with the policy's algorithms, keys and issuer — and its data is validated against its
    type's schema (:class:`ContractOpener`; ``options`` may then be ``leeway``, ``max_age``,
    ``verify_content_hash``, ``now``). Without it, :func:`pipeline.sealing.open.open_event` with ``options``.

    For a stream of events build one :class:`ContractOpener` (or :class:`Opener`) and keep it.
    """
    if contract is None:
        return _open_sealed(cloud_event, keys, **options)
    decided = sorted({"expected_issuer", "validate", "allow_unsealed"} & set(options))
    if decided:
        raise TypeError(f"with a contract, {', '.join(decided)} come(s) from the contract")
    per_event = {k: options.pop(k) for k in ("verify_content_hash", "now") if k in options}
    return ContractOpener(contract, keys, **options).open(cloud_event, **per_event)


def __getattr__(name: str) -> Any:
    if name in ("IdempotentConsumer", "idempotent"):
        from pipeline.consumer import dedupe

        return getattr(dedupe, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
