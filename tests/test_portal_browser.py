"""The built catalogue in a real browser: headless Chromium (Debian's package) driven by Playwright, on a site
served from 127.0.0.1. Never `playwright install`: the browser is the system one."""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_portal_site import build_site

from conftest import IN_CI, ROOT
from pipeline.contract import Catalogue

pytestmark = pytest.mark.slow

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync"]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    site = build_site(ROOT / "mkdocs.yml", tmp_path_factory.mktemp("browser") / "site")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        if IN_CI:
            pytest.fail("chromium is missing: scripts/bootstrap installs it (apt-get install chromium)")
        pytest.skip("chromium not installed")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield instance
        finally:
            instance.close()


def test_the_home_page_lists_every_event(browser, base_url: str, examples_catalogue: Catalogue) -> None:
    page = browser.new_page()
    page.goto(base_url + "events/")
    names = set(page.locator("article a").all_inner_texts())
    assert {e.name for e in examples_catalogue.events} <= names
    page.close()


def test_searching_a_field_name_finds_its_event(browser, base_url: str) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(base_url, wait_until="networkidle")  # the search index is fetched by a web worker
    box = page.locator("input.md-search__input")
    box.click()
    box.press_sequentially("declineReason", delay=20)  # key by key, as a reader types: each keystroke queries the index
    results = page.locator(".md-search-result__item a")
    results.first.wait_for(timeout=60000)
    hrefs = [link.get_attribute("href") or "" for link in results.all()]
    assert any("events/Payment.Declined.Ecom/" in href for href in hrefs), hrefs
    page.close()


def test_an_event_page_has_no_console_errors_and_requests_nothing_outside_the_site(
        browser, base_url: str) -> None:
    page = browser.new_page()
    errors: list[str] = []
    outside: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("request", lambda request: None if request.url.startswith((base_url, "data:")) else
            outside.append(request.url))
    page.goto(base_url + "events/Payment.AuthorisedV2.Ecom/", wait_until="networkidle")
    assert page.locator("h1").first.inner_text().startswith("Payment.AuthorisedV2.Ecom")
    assert page.locator("[id='payload.amount.currency']").count() == 1
    assert errors == []
    assert outside == []
    page.close()


def test_a_field_anchor_opens_its_collapsed_parents(browser, base_url: str) -> None:
    page = browser.new_page()
    page.goto(base_url + "events/Order.Created.Uk/#payload.lines.unitPrice.currency")
    assert page.locator("[id='payload.lines.unitPrice.currency']").is_visible()
    page.close()


@pytest.mark.parametrize("url", ["events/Payment.Authorised.Ecom/", "events/levels/Basket/"])
def test_snippet_tabs_switch_without_javascript_and_show_the_snippets_as_plain_text(
        browser, base_url: str, url: str) -> None:
    from test_portal_render import kit_of

    context = browser.new_context(java_script_enabled=False, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(base_url + url)
    labels = page.locator("div.tabbed-set.ed-kit div.tabbed-labels > label")
    blocks = page.locator("div.tabbed-set.ed-kit div.tabbed-content > div.tabbed-block")
    count = labels.count()
    assert count == 7 and blocks.count() == 7
    _, expected = kit_of((ROOT / "docs" / (url.rstrip("/") + ".md")).read_text(encoding="utf-8"))
    assert [blocks.nth(i).is_visible() for i in range(count)] == [True] + [False] * 6
    for i, fmt in reversed(list(enumerate(expected))):  # last tab first: every click really switches
        labels.nth(i).click()
        assert [blocks.nth(j).is_visible() for j in range(count)] == [j == i for j in range(count)], fmt
        codes = blocks.nth(i).locator("pre > code")
        assert codes.count() == len(expected[fmt])
        for n, (_, _, text) in enumerate(expected[fmt]):
            assert codes.nth(n).is_visible()
            assert codes.nth(n).inner_text().rstrip("\n") == text, (fmt, n)
    context.close()
