"""One registry: the ``dataschema`` the pipeline stamps is a file of the built catalogue whose ``$id`` equals it.

End to end for every case where two computations used to disagree: a version with build metadata
(``1.2.0+build.7``), names that differ only in case (``Order.Created.UK`` / ``Order.Created.Uk``), a non-ASCII name
(``Zahlung.Bestätigt.De``), a custom ``schemas`` folder and a custom ``schema_base_url``. The site is built by
``mkdocs build`` with the plugin, the events are sealed by ``eventdeck seal`` with the same ``mkdocs.yml``, and the
stamped URL is followed into the built site.
"""

from __future__ import annotations

import contextlib
import io
import json
import posixpath
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml
from test_portal_site import build_site

from conftest import write
from portal.cli.main import main

SITE_URL = "https://shop.example.test/catalogue/"
NAMES = ("Order.Created.Uk", "Order.Created.UK", "Zahlung.Bestätigt.De")


def _message(name: str) -> dict[str, Any]:
    return {
        "name": name, "title": name, "payload": {"type": "object", "required": ["id"],
                                                 "properties": {"id": {"type": "string"}}},
        "examples": [{"name": "one", "payload": {"id": "o-1"}}],
        "x-enrichment": {
            "from": {"source": ["com.shop.internal"], "detail-type": [name]},
            "patch": [{"op": "move", "from": "/orderId", "path": "/id"}],
            "samples": [{"example": "one", "event": {"id": str(uuid.uuid5(uuid.NAMESPACE_URL, name)),
                                                     "source": "com.shop.internal",
                                                     "detail-type": name, "detail": {"orderId": "o-1"}}}]},
    }


DOCUMENT = {
    "asyncapi": "3.0.0",
    "info": {"title": "Shop", "version": "1.2.0+build.7"},
    "x-eventbridge": {"bus": "shop-public", "source": "com.shop"},
    "x-sealing": "none",
    "components": {"messages": {f"m{index}": _message(name) for index, name in enumerate(NAMES)}},
}

CASES = {
    "defaults": {},
    "custom schemas folder": {"schemas": "registry/json"},
    "custom base URL": {"schema_base_url": "https://schemas.example.test/shop/v1/"},
    "custom folder and base URL": {"schemas": "api/schemas", "schema_base_url": "https://cdn.example.test/s"},
}


@pytest.fixture(scope="module", params=list(CASES), ids=list(CASES))
def built(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
          ) -> tuple[Path, dict[str, Any], list[dict[str, Any]]]:
    """(site folder, plugin options, the CloudEvents `eventdeck seal --samples` printed) for one case."""
    folder = tmp_path_factory.mktemp("registry")
    options = CASES[request.param]
    write(folder / "asyncapi", "shop.json", json.dumps(DOCUMENT, ensure_ascii=False))
    write(folder / "docs", "index.md", "# Shop\n")
    config = folder / "mkdocs.yml"
    config.write_text(yaml.safe_dump({"site_name": "Shop", "site_url": SITE_URL, "theme": {"name": "mkdocs"},
                                      "plugins": [{"eventdeck": {"asyncapi": ["asyncapi"], **options}}]}))
    site = build_site(config, folder / "site")
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        assert main(["seal", "--samples", "-f", str(config)]) == 0
    events = [json.loads(json.loads(line)["entry"]["Detail"]) for line in buffer.getvalue().splitlines()]
    return site, options, events


def _site_file(site: Path, options: dict[str, Any], url: str) -> Path:
    """Where a registry URL is served from in the built site: below the registry folder."""
    base = options.get("schema_base_url") or SITE_URL + options.get("schemas", "schemas").strip("/") + "/"
    base = base.rstrip("/") + "/"
    assert url.startswith(base), (url, base)
    return site / options.get("schemas", "schemas").strip("/") / posixpath.normpath(url[len(base):])


def test_every_stamped_dataschema_is_a_file_of_the_site_whose_id_is_that_url(
        built: tuple[Path, dict[str, Any], list[dict[str, Any]]]) -> None:
    site, options, events = built
    assert sorted(e["type"] for e in events) == sorted(NAMES)
    for event in events:
        published = _site_file(site, options, event["dataschema"])
        assert published.is_file(), f"{event['type']}: {event['dataschema']} -> {published} is not in the site"
        assert json.loads(published.read_text(encoding="utf-8"))["$id"] == event["dataschema"]


def test_names_differing_only_in_case_and_non_ascii_names_get_distinct_portable_files(
        built: tuple[Path, dict[str, Any], list[dict[str, Any]]]) -> None:
    site, _, events = built
    urls = {e["type"]: e["dataschema"] for e in events}
    assert len({u.lower() for u in urls.values()}) == len(NAMES)  # distinct on case-insensitive file systems
    assert all(u.isascii() for u in urls.values())
    assert all("+" not in u for u in urls.values())  # build metadata: one spelling, in the URL and on disk
    event_pages = {p.parent.name for p in (site / "events").glob("*/index.html")}
    for url in urls.values():  # each schema folder is also its event's page
        assert url.rsplit("/", 2)[-2] in event_pages
