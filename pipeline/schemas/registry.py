"""Payload validators found by event type, checked against the ``dataschema`` an event names.

Where each schema is published (file and URL) is decided by :class:`pipeline.contract.registry.RegistryLayout`,
re-exported here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pipeline.contract.model import Catalogue, Event
from pipeline.contract.registry import (
    DEFAULT_BASE_URL,
    RegistryLayout,
    event_slugs,
    normalised_base_url,
    slug,
    unique_slugs,
)
from pipeline.schemas.validate import PayloadValidator, compile_validator

__all__ = ["DEFAULT_BASE_URL", "RegistryLayout", "SchemaRegistry", "event_slugs", "normalised_base_url", "slug",
           "unique_slugs"]


@dataclass
class SchemaRegistry:
    """Compiled validators for a catalogue's events, looked up by event type and checked against ``dataschema``.

    Validators are compiled on first use and kept by the registry (bounded by the catalogue's size)."""

    catalogue: Catalogue
    layout: RegistryLayout
    _validators: dict[str, PayloadValidator] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._by_name = {e.name: e for e in self.catalogue.events}
        self._dataschemas: dict[str, frozenset[str]] = {}

    @classmethod
    def for_catalogue(cls, catalogue: Catalogue, *, folder: str | None = None,
                      base_url: str | None = None) -> SchemaRegistry:
        """The registry of ``catalogue``: the given layout settings, else the catalogue's own, else the default."""
        if folder is None and base_url is None and catalogue.registry is not None:
            return cls(catalogue, catalogue.registry)
        return cls(catalogue, RegistryLayout.for_catalogue(catalogue, folder=folder, base_url=base_url))

    def event(self, event_type: str) -> Event | None:
        return self._by_name.get(event_type)

    def validator(self, event: Event) -> PayloadValidator:
        found = self._validators.get(event.key)
        if found is None:
            if event.payload is None:
                raise LookupError(f"{event.name} has no payload schema")
            found = self._validators[event.key] = compile_validator(event.payload)
        return found

    def dataschemas(self, event: Event) -> frozenset[str]:
        """The ``dataschema`` URLs an event of this type may carry: its published versioned schema URLs."""
        found = self._dataschemas.get(event.key)
        if found is None:  # computed once per type: a consumer checks it on every event
            found = self._dataschemas[event.key] = frozenset({self.layout.url(event)})
        return found

    def for_dataschema(self, url: str | None, event_type: str) -> Callable[[str, Any], None]:
        """A ``validate(type, data)`` callable for :func:`pipeline.consumer.open_event`: the schema of
        ``event_type``. ``url`` must be absent or one of that type's own schema URLs (:meth:`dataschemas`): an event
        cannot name another, laxer schema than its own.

        :raises LookupError: when the type is unknown or has no schema, or ``url`` is not a schema of the type.
        """
        event = self._by_name.get(event_type) if isinstance(event_type, str) else None
        if event is None or event.payload is None:
            raise LookupError(f"no published schema for type {_shown(event_type)}")
        if url is not None and url not in self.dataschemas(event):
            raise LookupError(f"dataschema {_shown(url)} is not a published schema of {event.name}")
        validator = self.validator(event)

        def validate(_type: str, data: Any) -> None:
            validator.validate(data)

        return validate


def _shown(value: Any) -> str:
    return repr(value) if isinstance(value, str) and len(value) <= 200 else f"<{type(value).__name__}>"
