"""Backstage's two renderers, for real, in headless Chromium (Debian's package, driven by Playwright; never
`playwright install`), on pages served from 127.0.0.1 with no file system behind them.

* The API *Definition* tab: Backstage renders `spec.definition` with the official `@asyncapi/react-component` in the
  browser. Every definition `eventdeck backstage --per-event` writes is rendered here with that component's
  standalone bundle (tests/js), which fails on its error panel; the documents as written (with `$ref`s into other
  files) show that panel, as they do in Backstage, so the test can fail.
* TechDocs: the reader sanitises each page with DOMPurify (`FORBID_TAGS: ['style']`, every `<link>` removed but
  mkdocs-material's `main.<hash>.min.css`, scripts always) and never runs the page's scripts. The pre-rendered
  pages are built with a stock mkdocs (no eventdeck plugin), stripped here with DOMPurify 3 and Backstage's own
  rules (tests/js), and their badges, tables, schema tree and graph must compute the same styles as before.
"""

from __future__ import annotations

import functools
import http.server
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from conftest import EXAMPLES, IN_CI, ROOT
from pipeline.contract import Catalogue
from portal.cli.main import main

pytestmark = pytest.mark.slow

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync"]
JS = ROOT / "tests" / "js" / "node_modules"
REACT_COMPONENT = JS / "@asyncapi" / "react-component"
DOMPURIFY = JS / "dompurify" / "dist" / "purify.min.js"
ERROR_PANEL = "There are errors in your"

HARNESS = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><link rel="stylesheet" href="/default.min.css"></head>
<body><div id="asyncapi"></div><script src="/index.js"></script></body></html>
"""

#: As Backstage's AsyncApiDefinition does: the definition's text is the component's `schema`. Resolves with the
#: text shown once the component shows its messages section or its error panel.
RENDER = """
async ([name, panel]) => {
  const element = document.createElement('div');
  document.getElementById('asyncapi').replaceChildren(element);
  const text = await (await fetch(name)).text();
  AsyncApiStandalone.render({schema: text, config: {show: {sidebar: false}}}, element);
  // Not a time limit on the component: only a guard so that a component that never settles fails, not hangs.
  for (let polls = 0; polls < 6000; polls++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    if (element.innerText.includes(panel) || element.querySelector('#messages') !== null) return element.innerText;
  }
  return 'NEVER RENDERED: ' + element.innerText;
}
"""


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def serve(folder: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler,
                                                                                  directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}/"


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        if IN_CI:
            pytest.fail("chromium is missing: scripts/bootstrap installs it (apt-get install chromium)")
        pytest.skip("chromium not installed")
    if not (REACT_COMPONENT / "browser" / "standalone" / "index.js").is_file() or not DOMPURIFY.is_file():
        if IN_CI:
            pytest.fail("@asyncapi/react-component or dompurify is missing from tests/js: run scripts/bootstrap")
        pytest.skip("tests/js/node_modules is not installed (run scripts/bootstrap)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield instance
        finally:
            instance.close()


@pytest.fixture(scope="module")
def definitions_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The definitions `eventdeck backstage --per-event` writes, the original documents (under `source/`) and the
    component's standalone bundle, served from 127.0.0.1."""
    folder = tmp_path_factory.mktemp("definitions")
    assert main(["backstage", str(EXAMPLES), "-o", str(folder / "catalog-info.yaml"), "--per-event"]) == 0
    shutil.copy(REACT_COMPONENT / "browser" / "standalone" / "index.js", folder / "index.js")
    shutil.copy(REACT_COMPONENT / "styles" / "default.min.css", folder / "default.min.css")
    shutil.copytree(EXAMPLES, folder / "source")
    (folder / "render.html").write_text(HARNESS, encoding="utf-8")
    server, url = serve(folder)
    try:
        yield url, folder
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def component(browser, definitions_site: tuple[str, Path]) -> Iterator[tuple[object, list[str]]]:
    """A page with the component loaded once; requests that try to leave 127.0.0.1 are refused and recorded."""
    url, _ = definitions_site
    page = browser.new_page()
    outside: list[str] = []

    def route(request_route) -> None:
        if request_route.request.url.startswith(url):
            request_route.continue_()
        else:
            outside.append(request_route.request.url)
            request_route.abort()

    page.route("**/*", route)
    page.goto(url + "render.html")
    try:
        yield page, outside
    finally:
        page.close()


def rendered(component: tuple[object, list[str]], definition: str) -> tuple[str, list[str]]:
    """The text the component shows for ``definition`` (a path on the server), and the requests it tried to make
    outside 127.0.0.1."""
    page, outside = component
    outside.clear()
    text = page.evaluate(RENDER, [definition, ERROR_PANEL])  # type: ignore[attr-defined]
    return text, list(outside)


def _definitions(folder: Path) -> list[str]:
    root = folder / "docs" / "asyncapi"
    return sorted(str(p.relative_to(folder)) for p in root.rglob("*.yaml"))


def test_every_generated_definition_renders_its_messages_in_the_official_component(
        component, definitions_site: tuple[str, Path], examples_catalogue: Catalogue) -> None:
    _, folder = definitions_site
    names = _definitions(folder)
    assert len(names) == 3 + len(examples_catalogue.events)
    failures = []
    for name in names:
        text, outside = rendered(component, name)
        content = yaml.safe_load((folder / name).read_text(encoding="utf-8"))
        events = [e.name for e in examples_catalogue.events
                  if (name.endswith(f"/events/{e.key}.yaml") or
                      (name.split("/")[-2] != "events" and e.document_id == Path(name).stem))]
        missing = [e for e in events if e not in text]
        if ERROR_PANEL in text or missing or outside or "asyncapi" not in content:
            failures.append(f"{name}: error panel: {ERROR_PANEL in text}; messages not shown: {missing}; "
                            f"requests outside: {outside}; {text[:300]!r}")
    assert not failures, "\n".join(failures)


def test_the_documents_as_written_show_the_error_panel_that_backstage_showed(
        component) -> None:
    text, _ = rendered(component, "source/payments.yaml")
    assert ERROR_PANEL in text


# --- TechDocs: styles that survive the sanitiser ------------------------------------------------------------------

#: Backstage's TechDocs reader (@backstage/plugin-techdocs 1.20, reader/transformers/html: the sanitizer transformer
#: and its hooks), applied to the page as the reader applies it to the page it fetched: links other than
#: mkdocs-material's main CSS and Google Fonts removed, `<style>` forbidden, `<meta>` only for a refresh, scripts
#: (always) gone. The default configuration: no iframe hosts, no custom elements, the default URI protocols.
TECHDOCS_SANITISE = """
(html) => {
  const MKDOCS_CSS = /main\\.[A-Fa-f0-9]{8}\\.min\\.css$/;
  const GOOGLE_FONTS = /^https:\\/\\/fonts\\.googleapis\\.com/;
  const GSTATIC_FONTS = /^https:\\/\\/fonts\\.gstatic\\.com/;
  const purify = DOMPurify();
  purify.addHook('beforeSanitizeElements', (node) => {
    if (node.nodeType !== 1) return;
    if (node.nodeName === 'LINK') {
      const href = node.getAttribute('href') || '';
      if (!(href.match(MKDOCS_CSS) || href.match(GOOGLE_FONTS) || href.match(GSTATIC_FONTS))) node.remove();
    }
  });
  purify.addHook('uponSanitizeElement', (node, data) => {
    if (node.nodeType !== 1) return;
    const refresh = node.getAttribute('http-equiv') === 'refresh'
      && (node.getAttribute('content') || '').includes('url=');
    if (data.tagName === 'meta' && !refresh) node.parentNode?.removeChild(node);
  });
  purify.addHook('uponSanitizeAttribute', (node, data) => {
    if (node.tagName !== 'META' && (data.attrName === 'http-equiv' || data.attrName === 'content')) {
      node.removeAttribute(data.attrName);
    }
  });
  const protocols = ['callto', 'cid', 'ftp', 'ftps', 'http', 'https', 'mailto', 'matrix', 'sms', 'tel', 'xmpp'];
  const dom = purify.sanitize(html, {
    ADD_TAGS: ['link', 'meta'], FORBID_TAGS: ['style'], ADD_ATTR: ['http-equiv', 'content', 'dominant-baseline'],
    WHOLE_DOCUMENT: true, RETURN_DOM: true,
    ALLOWED_URI_REGEXP: new RegExp(`^(?:${protocols.join('|')}:|[^a-z]|[a-z+.-]+(?:[^a-z+.\\\\-:]|$))`, 'i'),
  });
  return dom.outerHTML;
}
"""

#: What each piece of the catalogue must keep: CSS selector → properties whose computed values must not change.
STYLED = {
    ".ed-badge": ["display", "background-color", "color", "border-top-left-radius", "padding-left", "font-size",
                  "white-space"],
    # Plain tables (mkdocs-material styles only class-less ones) in a classed wrapper. Not `display`: in plain
    # MkDocs, Material's script wraps tables in a scroll box that changes it.
    ".ed-table table": ["border-collapse", "font-size"],
    ".ed-table th": ["padding-left", "padding-top", "text-align", "background-color", "font-weight"],
    ".ed-table td": ["padding-left", "padding-top", "vertical-align", "border-top-width"],
    "details.ed-field": ["border-left-width", "border-top-width", "box-shadow", "padding-left", "margin-top",
                         "background-color", "border-top-left-radius"],
    "details.ed-field > summary": ["padding-left", "padding-top", "font-size", "font-weight",
                                   "background-color"],
    ".ed-field__type": ["color", "font-size"],
    ".ed-graph svg": ["max-width", "color"],
    ".ed-graph__node--event rect": ["stroke-width"],
    ".ed-breadcrumb": ["font-size"],
}

STYLES_OF = """
(styled) => {
  const out = {};
  for (const [selector, properties] of Object.entries(styled)) {
    out[selector] = [...document.querySelectorAll(selector)].slice(0, 25).map((element) => {
      const style = getComputedStyle(element);
      return Object.fromEntries(properties.map((p) => [p, style.getPropertyValue(p)]));
    });
  }
  return out;
}
"""

PAGES = ["events/Payment.AuthorisedV2.Ecom/", "events/Order.Created.Uk/", "events/", "events/domains/payments/"]


def _techdocs_config(folder: Path) -> Path:
    """The repository's site as TechDocs builds it from the pre-rendered pages: mkdocs.yml without the eventdeck
    plugin (TechDocs removes plugins it does not know)."""
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    config["plugins"] = ["search"]
    config["docs_dir"] = str(ROOT / "docs")
    config["site_dir"] = str(folder / "site")
    path = folder / "mkdocs.yml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def prerendered_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("techdocs")
    config = _techdocs_config(folder)
    mkdocs = ROOT / ".venv" / "bin" / "mkdocs"
    command = [str(mkdocs) if mkdocs.exists() else "mkdocs", "build", "-q", "-f", str(config)]
    subprocess.run(command, check=True, capture_output=True, timeout=600)
    shutil.copy(DOMPURIFY, folder / "site" / "purify.min.js")
    server, url = serve(folder / "site")
    try:
        yield url
    finally:
        server.shutdown()
        server.server_close()


def styles(page, html: str | None = None) -> dict[str, list[dict[str, str]]]:
    if html is not None:
        page.set_content(html, wait_until="load")
    return page.evaluate(STYLES_OF, STYLED)


@pytest.mark.parametrize("path", PAGES)
def test_the_pages_keep_their_styles_when_techdocs_strips_style_elements_links_and_scripts(
        browser, prerendered_site: str, path: str) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        page.goto(prerendered_site + path, wait_until="load")
        before = styles(page)
        page.add_script_tag(url=prerendered_site + "purify.min.js")
        # The page as the reader fetches it (not as mkdocs-material's scripts left it), sanitised as it does.
        html = page.evaluate("async (url) => (await fetch(url)).text()", prerendered_site + path)
        sanitised = page.evaluate(TECHDOCS_SANITISE, html)
        # Loaded where the page was (its relative links resolve the same), with JavaScript off: TechDocs never
        # runs the page's scripts.
        assert "<script" not in sanitised and "<style" not in sanitised
        assert "eventdeck.css" not in sanitised  # the reader removes the extra_css link
        context = browser.new_context(java_script_enabled=False, viewport={"width": 1280, "height": 900})
        stripped = context.new_page()
        stripped.route(prerendered_site + path, lambda route: route.fulfill(
            body=sanitised, content_type="text/html; charset=utf-8"))
        stripped.goto(prerendered_site + path, wait_until="load")
        after = styles(stripped)
        context.close()
    finally:
        page.close()
    assert any(before[".ed-badge"]), "no badge on the page: the selectors no longer match the markup"
    # Styled, not merely equally plain: badges are pills, the tree's <details> are not admonition boxes.
    assert all(b["display"] == "inline-block" and b["border-top-left-radius"] != "0px" for b in after[".ed-badge"])
    assert all(d["box-shadow"] == "none" and d["border-top-width"] == "0px" for d in after["details.ed-field"])
    differences = [f"{selector}[{i}].{prop}: {b[prop]!r} in MkDocs, {a[prop]!r} after the TechDocs sanitiser"
                   for selector in STYLED for i, (b, a) in enumerate(zip(before[selector], after[selector],
                                                                          strict=True))
                   for prop in b if b[prop] != a[prop]]
    assert not differences, "\n".join(differences[:40])


@pytest.mark.parametrize("path", ["events/Payment.AuthorisedV2.Ecom/", "events/levels/Order/"])
def test_the_snippet_tabs_still_switch_after_the_techdocs_sanitiser_with_scripts_off(
        browser, prerendered_site: str, path: str) -> None:
    page = browser.new_page()
    try:
        page.goto(prerendered_site + path, wait_until="load")
        page.add_script_tag(url=prerendered_site + "purify.min.js")
        html = page.evaluate("async (url) => (await fetch(url)).text()", prerendered_site + path)
        sanitised = page.evaluate(TECHDOCS_SANITISE, html)
    finally:
        page.close()
    context = browser.new_context(java_script_enabled=False, viewport={"width": 1280, "height": 900})
    try:
        stripped = context.new_page()
        stripped.route(prerendered_site + path, lambda route: route.fulfill(
            body=sanitised, content_type="text/html; charset=utf-8"))
        stripped.goto(prerendered_site + path, wait_until="load")
        labels = stripped.locator("div.tabbed-set.ed-kit div.tabbed-labels > label")
        blocks = stripped.locator("div.tabbed-set.ed-kit div.tabbed-content > div.tabbed-block")
        assert labels.count() == blocks.count() == 7
        assert stripped.locator("div.tabbed-set.ed-kit > input[type=radio]").count() == 7  # kept by DOMPurify
        for i in (4, 1, 6, 0):
            labels.nth(i).click()
            assert [blocks.nth(j).is_visible() for j in range(7)] == [j == i for j in range(7)]
            assert blocks.nth(i).locator("pre > code").first.inner_text().strip()
    finally:
        context.close()
