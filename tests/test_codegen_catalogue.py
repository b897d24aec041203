"""The catalogue offers each event's Python models: with the plugin's ``python_models`` option, every event page
links to the pydantic module generated from its published schema, published beside that schema."""

from __future__ import annotations

import json
import os
import posixpath
import subprocess
import sys
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from conftest import ROOT, write
from pipeline.contract import Catalogue, ContractLoader
from portal.codegen import python_package
from portal.codegen.names import module_name
from portal.render import Options, render_site
from portal.render.paths import SitePaths


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return ContractLoader().load([ROOT / "asyncapi"], strict=True)


def test_off_by_default(catalogue: Catalogue) -> None:
    site = render_site(catalogue, Options())
    assert not any("## Python models" in page for page in site.pages.values())
    assert not any(path.endswith(".py") for path in site.files)


def test_each_event_page_links_to_its_module_published_beside_its_schema(catalogue: Catalogue) -> None:
    options = Options(python_models=True)
    site = render_site(catalogue, options)
    paths = SitePaths.for_catalogue(catalogue, options.section, options.schemas, options.schema_base_url)
    package = python_package(catalogue, paths.layout)
    for event in catalogue.events:
        module = module_name(event.name)
        target = posixpath.join(posixpath.dirname(paths.schema_latest(event)), f"{module}.py")
        assert site.files[target] == package.files[f"{module}.py"]  # what `eventdeck codegen python` writes
        page = site.pages[paths.event(event)]
        assert "## Python models" in page and f"<code>{module}.py</code>" in page
        href = BeautifulSoup(page.split("## Python models", 1)[1], "html.parser").find("a")["href"]
        # directory URLs: the page is served from <section>/<event>/, one folder below its source file
        assert posixpath.normpath(posixpath.join(posixpath.dirname(paths.event(event)), "x", href)) == target


DOC = """\
asyncapi: 3.0.0
info:
  title: Catalogue models
  version: 1.0.0
channels:
  things:
    address: things
    messages:
      Good: {$ref: '#/components/messages/Good'}
      Impossible: {$ref: '#/components/messages/Impossible'}
operations:
  sendThing:
    action: send
    channel: {$ref: '#/channels/things'}
components:
  messages:
    Good:
      name: Thing.Created.Uk
      payload: {type: object, properties: {id: {type: string}}}
    Impossible:
      name: Thing.Broken.Uk
      payload: PAYLOAD
"""


def test_an_event_the_generator_cannot_model_gets_a_note_and_the_catalogue_still_renders(tmp_path: Path) -> None:
    payload = json.dumps({"allOf": [{"type": "string"}, {"type": "integer"}]})
    path = write(tmp_path, "doc.yaml", DOC.replace("PAYLOAD", payload))
    catalogue = ContractLoader().load([path])
    site = render_site(catalogue, Options(python_models=True))
    paths = SitePaths.for_catalogue(catalogue)
    broken = site.pages[paths.event(catalogue.event(next(e.key for e in catalogue.events
                                                          if e.name == "Thing.Broken.Uk")))]
    assert "No Python models for this event:" in broken and "no value satisfies" in broken
    good = next(e for e in catalogue.events if e.name == "Thing.Created.Uk")
    assert "<code>thing_created_uk.py</code>" in site.pages[paths.event(good)]
    assert sum(1 for p in site.files if p.endswith(".py")) == 1


@pytest.mark.slow
def test_mkdocs_build_publishes_the_modules_and_they_import(tmp_path: Path) -> None:
    config = write(tmp_path, "mkdocs.yml", f"""\
site_name: Models
site_url: https://models.example/
docs_dir: docs
markdown_extensions: [attr_list]
plugins:
  - eventdeck:
      asyncapi: [{ROOT / "asyncapi"}]
      python_models: true
""")
    write(tmp_path / "docs", "index.md", "# Models\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}  # this checkout's eventdeck, whatever the venv's install says
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config), "-d",
                           str(tmp_path / "site")], cwd=tmp_path, capture_output=True, text=True, check=False, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    module = tmp_path / "site" / "schemas" / "Payment.AuthorisedV2.Ecom" / "payment_authorised_v2_ecom.py"
    html = (tmp_path / "site" / "events" / "Payment.AuthorisedV2.Ecom" / "index.html").read_text(encoding="utf-8")
    link = BeautifulSoup(html, "html.parser").select_one("#python-models ~ div a[download]")
    assert link is not None and link["href"] == "../../schemas/Payment.AuthorisedV2.Ecom/payment_authorised_v2_ecom.py"
    text = module.read_text(encoding="utf-8")
    assert "DATASCHEMA = 'https://models.example/schemas/Payment.AuthorisedV2.Ecom/2.0.0.json'" in text
    check = subprocess.run([sys.executable, "-c", "import runpy, sys; print(runpy.run_path(sys.argv[1])['EVENT_TYPE'])",
                            str(module)], capture_output=True, text=True, check=False)
    assert check.stdout.strip() == "Payment.AuthorisedV2.Ecom", check.stderr
