"""Python models on the catalogue: each event page links to the pydantic module generated from its published
schema, and the module is published beside that schema (``schemas/<event>/<module>.py``).

The models are the ones ``eventdeck codegen python`` writes (:mod:`portal.codegen`), one self-contained module per
event, so a consumer downloads exactly the file for the event it reads. Generating takes about a tenth of a second
per event, so the catalogue does it only when asked (the plugin's ``python_models`` option) and keeps each module
until its schema changes (``mkdocs serve`` re-renders only what changed). An event the generator cannot model gets
a note with the reason on its page instead of a link: the catalogue never fails because of it.
"""

from __future__ import annotations

import posixpath
from collections.abc import MutableMapping
from typing import Any

from jinja2 import Environment

from pipeline.contract import Event
from portal.codegen import CodegenError, GeneratedModule, generate_module
from portal.codegen.names import module_names

from .paths import relative_link
from .views import CatalogueViews

TEMPLATE = "python-models.md.j2"


class PythonModels:
    """Adds the Python models to rendered pages; keeps each event's module while its schema is the same object (the
    loader hands back the very same schema objects for unchanged documents)."""

    def __init__(self) -> None:
        self._cache: dict[str, tuple[tuple[Any, ...], GeneratedModule | CodegenError]] = {}

    def add(self, pages: MutableMapping[str, str], files: MutableMapping[str, bytes], views: CatalogueViews,
            env: Environment, *, directory_urls: bool) -> None:
        """Append the *Python models* section to every event page in ``pages`` whose payload is JSON Schema, and
        put each generated module into ``files`` beside the event's published schema."""
        paths = views.paths
        events = views.catalogue.events
        names = module_names((e.key, e.name) for e in events)
        template = env.get_template(TEMPLATE)
        for event in events:
            here = paths.event(event)
            if here not in pages or event.payload is None or not event.payload.is_json_schema:
                continue
            result = self._module(event, names[event.key], paths.layout.url(event))
            context: dict[str, Any] = {"here": here, "directory_urls": directory_urls, "module": None,
                                       "link": None, "reason": None}
            if isinstance(result, GeneratedModule):
                target = posixpath.join(posixpath.dirname(paths.schema_latest(event)), f"{result.module}.py")
                files[target] = result.code.encode("utf-8")
                context.update(module=result, link=relative_link(here, target))
            else:
                context["reason"] = result.reason
            pages[here] = pages[here].rstrip("\n") + "\n\n" + template.render(**context)
        current = {event.key for event in events}
        self._cache = {key: entry for key, entry in self._cache.items() if key in current}

    def _module(self, event: Event, module: str, url: str) -> GeneratedModule | CodegenError:
        assert event.payload is not None
        key = (module, url, event.name, event.version, event.payload.document)
        cached = self._cache.get(event.key)
        if cached is not None and cached[0][:4] == key[:4] and cached[0][4] is key[4]:
            return cached[1]
        result: GeneratedModule | CodegenError
        try:
            result = generate_module(event, module, url)
        except CodegenError as exc:
            result = exc
        self._cache[event.key] = (key, result)
        return result


