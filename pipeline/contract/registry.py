"""The schema registry: where each event's published JSON Schema lives, and validators found by that address.

One :class:`RegistryLayout` decides, for an event and a version, both the **site-relative file** the catalogue
writes (``schemas/<event>/<version>.json``, plus ``latest.json``) and the **public URL** the pipeline stamps on
every CloudEvent as ``dataschema``. The catalogue (MkDocs plugin and ``eventdeck docs``), the producer, the
consumer and the runtime artefact all ask it, so a consumer that follows ``dataschema`` finds the file.

``base_url`` is the public URL of the registry *folder* (the ``schemas`` folder of the published site): the URL of
a schema is ``base_url`` + ``<event>/<version>.json``. The MkDocs plugin's ``schema_base_url`` option sets it; by
default it is the site's ``site_url`` + the ``schemas`` option + ``/``.

Event names and versions become path segments through :func:`slug`: characters outside ``A-Z a-z 0-9 . _ ~ -``
(non-ASCII letters, ``+`` of build metadata, ``<>`` of third-party names) become ``-``, and names that would
collide — including names that differ only in case, which collide on macOS and Windows file systems — get a
``-2``, ``-3`` suffix in catalogue order. The same event folder names serve the catalogue's event pages.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .model import Catalogue, Event

#: The example catalogue's registry (mkdocs.yml ``site_url`` + ``schemas/``): used only when nothing is configured.
DEFAULT_BASE_URL = "https://eventdeck.dev/schemas/"
DEFAULT_FOLDER = "schemas"

_UNSAFE = re.compile(r"[^A-Za-z0-9._~-]+")
#: Names the catalogue's own pages use inside its section: no event folder may take them.
RESERVED_NAMES = frozenset({"index", "tags", "schemas", "domains", "groups", "field-mapping", "subscribe", "assets"})
#: A file name's length limit on common file systems is 255 bytes; leave room for a suffix and ``.json``/``.md``.
MAX_SEGMENT = 200


def slug(text: str) -> str:
    """A URL- and filesystem-safe form of ``text``: never empty, no leading dot, at most :data:`MAX_SEGMENT`."""
    cleaned = _UNSAFE.sub("-", text).strip("-.")[:MAX_SEGMENT].strip("-.")
    return cleaned or "unnamed"


def unique_slugs(names: Iterable[tuple[str, str]], reserved: frozenset[str] = frozenset(), *,
                 make: Callable[[str], str] = slug, separator: str = "-") -> dict[str, str]:
    """``key -> make(wanted)`` for every ``(key, wanted)``, unique case-insensitively (a ``-2``, ``-3``... suffix,
    joined by ``separator``), avoiding ``reserved``."""
    taken = {name.lower() for name in reserved}
    result: dict[str, str] = {}
    for key, wanted in names:
        base = make(wanted)
        candidate, n = base, 1
        while candidate.lower() in taken:
            n += 1
            candidate = f"{base}{separator}{n}"
        taken.add(candidate.lower())
        result[key] = candidate
    return result


def event_slugs(catalogue: Catalogue) -> dict[str, str]:
    """The folder (and page) name of every event of ``catalogue``, by event key."""
    return unique_slugs(((e.key, e.key) for e in catalogue.events), RESERVED_NAMES)


@dataclass(frozen=True)
class RegistryLayout:
    """Where a catalogue's schemas are published: ``folder`` below the site root, ``base_url`` its public URL."""

    names: Mapping[str, str]
    folder: str = DEFAULT_FOLDER
    base_url: str = DEFAULT_BASE_URL

    @classmethod
    def for_catalogue(cls, catalogue: Catalogue, *, folder: str | None = None,
                      base_url: str | None = None) -> RegistryLayout:
        """The layout of ``catalogue``'s registry; ``base_url`` defaults to :data:`DEFAULT_BASE_URL`."""
        return cls(event_slugs(catalogue), (folder or DEFAULT_FOLDER).strip("/"),
                   normalised_base_url(base_url or DEFAULT_BASE_URL))

    def _name(self, event: Event | str) -> str:
        key = event if isinstance(event, str) else event.key
        return self.names[key]

    def relative(self, event: Event | str, version: str) -> str:
        """``<event>/<version>.json``: the path below the registry folder (and below ``base_url``)."""
        return f"{self._name(event)}/{slug(version)}.json"

    def path(self, event: Event, version: str | None = None) -> str:
        """The site-relative file of ``event``'s schema at ``version`` (default: its current version)."""
        return posixpath.join(self.folder, self.relative(event, version or event.version))

    def latest_path(self, event: Event) -> str:
        return posixpath.join(self.folder, self._name(event), "latest.json")

    def url(self, event: Event | str, version: str | None = None) -> str:
        """The public URL of the schema: the CloudEvents ``dataschema`` the producer stamps."""
        if version is None:
            if isinstance(event, str):
                raise TypeError("a version is required when the event is given by key")
            version = event.version
        return self.base_url + self.relative(event, version)

    def latest_url(self, event: Event) -> str:
        return f"{self.base_url}{self._name(event)}/latest.json"


def normalised_base_url(url: str) -> str:
    """``url`` ending in exactly one ``/`` (a folder)."""
    return url.rstrip("/") + "/"
