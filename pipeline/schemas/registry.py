"""Where each event's published JSON Schema lives, and validators found by that URL.

The catalogue publishes ``schemas/<event name>/<version>.json`` (plus ``latest.json``); the pipeline stamps that
URL on every CloudEvent as ``dataschema``; a consumer validates the data against the schema the URL names. All
three use this module, so the paths cannot drift apart.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from pipeline.contract.model import Catalogue, Event
from pipeline.schemas.validate import PayloadValidator, compile_validator

BASE_URL_ENV = "EVENTDECK_CATALOGUE_URL"
# The example catalogue's public address (mkdocs.yml `site_url`). A deployment sets EVENTDECK_CATALOGUE_URL to the
# `site_url` its catalogue is published at, so the URLs stamped on events are the ones the registry serves.
DEFAULT_BASE_URL = "https://eventdeck.dev"


def base_url(configured: str | None = None) -> str:
    return (configured or os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL).rstrip("/")


def schema_path(name: str, version: str) -> str:
    """The site-relative path of an event's schema file."""
    return f"schemas/{name}/{version}.json"


def schema_url(event: Event, base: str | None = None) -> str:
    return f"{base_url(base)}/{schema_path(event.name, event.version)}"


class SchemaRegistry:
    """Compiled validators for a catalogue's events, looked up by ``dataschema`` URL or by event name."""

    def __init__(self, catalogue: Catalogue, base: str | None = None) -> None:
        self.base = base_url(base)
        self._events = {schema_url(e, self.base): e for e in catalogue.events if e.payload is not None}
        self._by_name = {e.name: e for e in catalogue.events}
        self._validators: dict[str, PayloadValidator] = {}

    def validator(self, event: Event) -> PayloadValidator:
        found = self._validators.get(event.key)
        if found is None:
            assert event.payload is not None
            found = self._validators[event.key] = compile_validator(event.payload)
        return found

    def for_dataschema(self, url: str | None, event_type: str) -> Callable[[str, Any], None]:
        """A ``validate(type, data)`` callable for :func:`pipeline.consumer.open_event`: the schema named by
        ``url`` when it is one of ours, else the current schema of ``event_type``."""
        event = self._events.get(url or "") or self._by_name.get(event_type)
        if event is None or event.payload is None:
            raise LookupError(f"no published schema for type {event_type!r} (dataschema {url!r})")
        validator = self.validator(event)

        def validate(_type: str, data: Any) -> None:
            validator.validate(data)

        return validate
