"""Building catalogues that are not the examples: hostile descriptions, broken documents, strictness, the whole
shared corpus, and the TechDocs set-ups (techdocs-core with the plugin, and without it from pre-rendered pages)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from bs4 import BeautifulSoup
from test_portal_site import article, build_site

from conftest import ROOT, require_corpus, write
from corpus import root_documents
from pipeline.contract import ContractLoader
from portal.cli.main import main
from portal.render import SitePaths

EXTENSIONS = ["attr_list", "md_in_html", "tables", {"toc": {"permalink": True}}, "admonition", "pymdownx.details",
              "pymdownx.superfences"]

EVIL = """\
asyncapi: 3.0.0
info:
  title: Evil
  version: 1.0.0
  description: 'Hello <script>alert("doc")</script> <img src="https://evil.example/i.png">'
channels:
  c:
    address: Evil.Thing.Happened
    messages:
      m:
        $ref: '#/components/messages/m'
operations:
  send:
    action: send
    channel:
      $ref: '#/channels/c'
    messages:
      - $ref: '#/channels/c/messages/m'
components:
  messages:
    m:
      name: Evil.Thing.Happened
      title: <img src=x onerror=alert(1)>
      summary: A summary with <script>alert(2)</script>
      description: |
        Some **bold** text. <script>alert(3)</script>
        <img src="https://evil.example/x.png" onerror="alert(4)">
        [click](javascript:alert(5)) <a href="javascript:alert(6)">x</a> <style>body {display: none}</style>

        --8<-- "mkdocs.yml"

        {% dot attack.svg
        digraph G { a -> b }
        %}
      payload:
        type: object
        properties:
          field:
            type: string
            description: '<iframe src="https://evil.example"></iframe><b onmouseover="alert(7)">bold</b>'
          other:
            type: string
            enum: ['<script>alert(8)</script>']
"""

SMALL = """\
asyncapi: 3.0.0
info:
  title: Small
  version: 1.0.0
channels:
  c:
    address: Small.Thing.Happened
    messages:
      m:
        $ref: '#/components/messages/m'
operations:
  send:
    action: send
    channel:
      $ref: '#/channels/c'
    messages:
      - $ref: '#/channels/c/messages/m'
components:
  messages:
    m:
      name: Small.Thing.Happened
      payload:
        type: object
        required: [field]
        properties:
          field:
            type: string
      examples:
        - name: wrong
          payload:
            field: 5
"""


def project(folder: Path, documents: dict[str, str], *, plugin: dict[str, Any] | None = None,
            plugins: list[Any] | None = None) -> Path:
    """A MkDocs project with ``documents`` in asyncapi/ and the eventdeck plugin."""
    write(folder / "docs", "index.md", "# Home\n")
    for name, text in documents.items():
        write(folder / "asyncapi", name, text)
    config = {
        "site_name": "test catalogue",
        "theme": {"name": "material", "font": False},
        "plugins": plugins if plugins is not None else ["search", {"eventdeck": {"asyncapi": ["asyncapi"],
                                                                                  **(plugin or {})}}],
        "markdown_extensions": EXTENSIONS,
    }
    path = folder / "mkdocs.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def mkdocs(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mkdocs", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300, check=False)


# ------------------------------------------------------------------------------------------------- hostile input


def test_html_from_a_document_is_sanitised(tmp_path: Path) -> None:
    site = build_site(project(tmp_path, {"evil.yaml": EVIL}), tmp_path / "site")
    for url in ("events/Evil.Thing.Happened", "events/domains/evil", "events"):
        soup = article(site, url)
        assert soup.find_all(["script", "iframe", "style", "object", "embed"]) == [], url
        for tag in soup.find_all(True):
            assert not [a for a in tag.attrs if a.lower().startswith("on")], f"{url}: {tag.name} {tag.attrs}"
            assert not str(tag.get("href", "")).lower().startswith("javascript:"), url
        assert not [img for img in soup.find_all("img") if "evil.example" in img.get("src", "")], url
    text = article(site, "events/Evil.Thing.Happened").get_text(" ")
    assert "bold" in text and "<script>alert(2)</script>" in text  # shown as text, never as an element
    assert "site_name" not in text and "digraph" in text  # no snippet was included, no graph was drawn


# --------------------------------------------------------------------------------------------------- failing


def test_an_invalid_document_fails_the_build_naming_file_and_line_and_writes_nothing(tmp_path: Path) -> None:
    broken = "asyncapi: 3.0.0\ninfo:\n  title: Broken\n  version: 1.0.0\n  description: [unclosed\nchannels: {}\n"
    config = project(tmp_path, {"ok.yaml": SMALL, "broken.yaml": broken})
    result = mkdocs("build", "-f", str(config), "-d", str(tmp_path / "site"), cwd=tmp_path)
    assert result.returncode == 1
    assert re.search(r"broken\.yaml:\d+(:\d+)?", result.stderr), result.stderr
    assert "eventdeck: the AsyncAPI documents cannot be published" in result.stderr
    assert not (tmp_path / "site").exists()


def test_a_failed_rebuild_leaves_the_previous_site_untouched(tmp_path: Path) -> None:
    config = project(tmp_path, {"ok.yaml": SMALL})
    assert mkdocs("build", "-f", str(config), "-d", str(tmp_path / "site"), cwd=tmp_path).returncode == 0
    before = sorted(p.relative_to(tmp_path) for p in (tmp_path / "site").rglob("*"))
    write(tmp_path / "asyncapi", "ok.yaml", "asyncapi: 3.0.0\ninfo: [\n")
    assert mkdocs("build", "-f", str(config), "-d", str(tmp_path / "site"), cwd=tmp_path).returncode == 1
    assert sorted(p.relative_to(tmp_path) for p in (tmp_path / "site").rglob("*")) == before


def test_errors_are_shown_on_the_page_unless_the_strict_option_fails_the_build(tmp_path: Path) -> None:
    lenient = project(tmp_path / "lenient", {"small.yaml": SMALL})
    site = build_site(lenient, tmp_path / "lenient" / "site")
    problems = article(site, "events/Small.Thing.Happened").find(class_="ed-problems")
    assert problems is not None and "error" in problems.get_text()

    strict = project(tmp_path / "strict", {"small.yaml": SMALL}, plugin={"strict": True})
    result = mkdocs("build", "-f", str(strict), "-d", str(tmp_path / "strict" / "site"), cwd=tmp_path)
    assert result.returncode == 1
    assert re.search(r"small\.yaml:\d+:\d+ \(#/components/messages/m/examples/0", result.stderr), result.stderr
    assert not (tmp_path / "strict" / "site").exists()


def test_a_typo_in_the_plugin_options_is_reported_by_mkdocs(tmp_path: Path) -> None:
    config = project(tmp_path, {"small.yaml": SMALL}, plugin={"stirct": True})
    result = mkdocs("build", "--strict", "-f", str(config), "-d", str(tmp_path / "site"), cwd=tmp_path)
    assert result.returncode == 1 and "stirct" in result.stderr


def test_the_examples_build_with_mkdocs_strict(tmp_path: Path) -> None:
    result = mkdocs("build", "--strict", "-f", str(ROOT / "mkdocs.yml"), "-d", str(tmp_path / "site"), cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert "WARNING" not in result.stderr


# ---------------------------------------------------------------------------------------------------- corpus


@pytest.mark.corpus
def test_the_whole_corpus_builds_into_one_site_with_a_page_per_message(tmp_path: Path) -> None:
    corpus = require_corpus()
    roots = [p for p in root_documents(corpus) if "/valid/" in p.as_posix()]
    config = project(tmp_path, {}, plugin={"asyncapi": [str(p) for p in roots]})
    site = build_site(config, tmp_path / "site")
    catalogue = ContractLoader().load(roots)
    paths = SitePaths.for_catalogue(catalogue)
    assert len(catalogue.events) > 600
    missing = [e.key for e in catalogue.events
               if not (site / paths.event(e)[:-3] / "index.html").is_file()]
    assert not missing, missing[:10]
    for document in catalogue.documents:
        assert (site / paths.document(document.id)[:-3] / "index.html").is_file(), document.id
    # Every message of every document reaches a page, whatever its document-level problems.
    assert sum(len(d.events) for d in catalogue.documents) == len(catalogue.events)


# -------------------------------------------------------------------------------------------------- TechDocs


def _copy_repository(target: Path) -> Path:
    for name in ("docs", "asyncapi", "subscriptions"):
        shutil.copytree(ROOT / name, target / name)
    shutil.copy(ROOT / "mkdocs.yml", target / "mkdocs.yml")
    return target / "mkdocs.yml"


def _with_plugins(config_file: Path, keep_eventdeck: bool) -> Path:
    """The repository's mkdocs.yml as TechDocs rewrites it: techdocs-core added, eventdeck kept or removed."""
    config = yaml.safe_load(config_file.read_text(encoding="utf-8"))
    plugins = [p for p in config["plugins"] if keep_eventdeck or not (isinstance(p, dict) and "eventdeck" in p)]
    config["plugins"] = ["techdocs-core", *plugins]
    config_file.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return config_file


def event_texts(site: Path) -> dict[str, str]:
    texts = {}
    for html_file in sorted((site / "events").rglob("index.html")):
        soup = BeautifulSoup(html_file.read_text(encoding="utf-8"), "html.parser")
        texts[str(html_file.relative_to(site))] = " ".join(soup.find("article").get_text(" ").split())
    return texts


def test_techdocs_core_builds_the_same_pages_with_the_plugin_and_from_pre_rendered_pages(tmp_path: Path) -> None:
    assert main(["docs", "--check", "-f", str(ROOT / "mkdocs.yml"), "--docs-dir", str(ROOT / "docs")]) == 0
    with_plugin = _with_plugins(_copy_repository(tmp_path / "plugin"), keep_eventdeck=True)
    without = _with_plugins(_copy_repository(tmp_path / "plain"), keep_eventdeck=False)
    a = event_texts(build_site(with_plugin, tmp_path / "plugin" / "site"))
    b = event_texts(build_site(without, tmp_path / "plain" / "site"))
    assert len(a) >= 15 + 3 + 3 + 6
    assert a == b


@pytest.mark.parametrize(("overrides", "plugin"), [
    ({"use_directory_urls": False}, {}),
    ({}, {"section": "catalogue/events", "schemas": "registry"}),
])
def test_links_resolve_with_other_url_styles_and_folders(tmp_path: Path, overrides: dict[str, Any],
                                                         plugin: dict[str, Any]) -> None:
    from test_portal_site import _internal_links
    config = project(tmp_path, {}, plugin={"asyncapi": [str(ROOT / "asyncapi")], **plugin})
    site = build_site(config, tmp_path / "site", **overrides)
    section = plugin.get("section", "events")
    pages = [p for p in (site / section).rglob("*.html")]
    assert len(pages) >= 15 + 3 + 3 + 6
    broken = [f"{page.relative_to(site)} → {target}" for page in pages for target, _ in _internal_links(page, site)
              if not target.exists()]
    assert not broken, "\n".join(broken[:20])
    registry = plugin.get("schemas", "schemas")
    assert (site / registry / "Order.Created.Uk" / "1.2.0.json").is_file()


def test_extensions_and_bindings_of_operations_and_channels_are_shown(tmp_path: Path) -> None:
    document = """\
asyncapi: 2.6.0
info: {title: Bound, version: 1.0.0}
channels:
  things:
    x-team-channel: routing-a
    bindings: {amqp: {is: routingKey}}
    subscribe:
      operationId: sendThing
      x-rate-limit: 100
      bindings: {kafka: {clientId: {type: string}}}
      message:
        name: Thing.Made.Uk
        payload: {type: object, properties: {id: {type: string}}}
        examples: [{name: one, payload: {id: a}}]
"""
    site = build_site(project(tmp_path, {"bound.yaml": document}), tmp_path / "site")
    text = article(site, "events/Thing.Made.Uk").get_text(" ")
    assert "x-rate-limit" in text and "x-team-channel" in text and "sendThing" in text
    assert "clientId" in text and "routingKey" in text
