"""The eventdeck extensions of AsyncAPI documents, typed.

Each extension has a JSON Schema here (``x-*.json``, published in the reference docs) that the loader checks
values against, and a typed form the model carries (``Document.eventbridge``, ``Event.sealing``,
``Event.enrichment``, ``Document.backstage``, ``Event.lifecycle``). Nothing outside :mod:`pipeline.contract`
reads an ``x-`` key of a raw document: every reader uses these.
"""

from .enrichment import Enrichment, EnrichmentSpecError, Lookup, Sample
from .eventbridge import EventBridge
from .sealing import (
    CONTENT_ENCRYPTION_ALGORITHMS,
    ENCRYPTION_ALGORITHMS,
    SIGNING_ALGORITHMS,
    EncryptSpec,
    Sealing,
    SealingPolicy,
    SignSpec,
    effective_sealing,
    sealing_policy_from_extension,
)

__all__ = [
    "CONTENT_ENCRYPTION_ALGORITHMS",
    "ENCRYPTION_ALGORITHMS",
    "SIGNING_ALGORITHMS",
    "EncryptSpec",
    "Enrichment",
    "EnrichmentSpecError",
    "EventBridge",
    "Lookup",
    "Sample",
    "Sealing",
    "SealingPolicy",
    "SignSpec",
    "effective_sealing",
    "sealing_policy_from_extension",
]

#: Where each eventdeck extension may stand, by the kind of object that carries it.
EXTENSIONS_BY_PLACE: dict[str, tuple[str, ...]] = {
    "document": ("x-eventbridge", "x-sealing"),
    "info": ("x-backstage",),
    "server": ("x-eventbridge",),
    "message": ("x-enrichment", "x-sealing", "x-lifecycle"),
}
KNOWN_EXTENSIONS: tuple[str, ...] = tuple(sorted({name for names in EXTENSIONS_BY_PLACE.values() for name in names}))
