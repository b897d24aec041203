"""Event names on a phone (420 px wide, headless Chromium): a name that does not fit wraps at its dots, never inside
a segment (``Payment.AuthorisedV2.Ecom`` once broke as ``Payment.AuthorisedV2.Eco`` / ``m``)."""

from __future__ import annotations

import pytest
from test_portal_browser import base_url, browser  # noqa: F401  (the served example site and Chromium)

pytestmark = pytest.mark.slow

PHONE = {"width": 420, "height": 900}

#: The text of each line box of an element, read character by character from the layout (permalinks left out).
LINES = """(element) => {
  const lines = [];
  let top = null;
  const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (node.parentElement.closest(".headerlink")) continue;
    for (let i = 0; i < node.data.length; i++) {
      const range = document.createRange();
      range.setStart(node, i);
      range.setEnd(node, i + 1);
      const box = range.getBoundingClientRect();
      if (box.width === 0 && box.height === 0) continue;
      if (top === null || box.top > top + box.height / 2) { lines.push(""); top = box.top; }
      lines[lines.length - 1] += node.data[i];
    }
  }
  return lines;
}"""


def broken_inside_a_segment(lines: list[str]) -> bool:
    return any(not line.endswith(".") for line in lines[:-1])


def test_an_event_page_title_wraps_at_its_dots(browser, base_url: str) -> None:  # noqa: F811
    page = browser.new_page(viewport=PHONE)
    page.goto(base_url + "events/Payment.AuthorisedV2.Ecom/")
    lines = page.locator("article h1").first.evaluate(LINES)
    assert "".join(lines) == "Payment.AuthorisedV2.Ecom"
    assert len(lines) > 1, "the name fits on one line at this width: the check would prove nothing"
    assert not broken_inside_a_segment(lines), lines
    page.close()


@pytest.mark.parametrize("url", ["events/", "events/groups/Payment/", "events/domains/payments/", "events/tags/"])
def test_event_name_links_wrap_only_at_their_dots(browser, base_url: str, url: str) -> None:  # noqa: F811
    page = browser.new_page(viewport=PHONE)
    page.goto(base_url + url)
    links = page.locator("article .ed-events td:first-child a").all()
    assert links
    wrapped = 0
    for link in links:
        lines = link.evaluate(LINES)
        assert not broken_inside_a_segment(lines), (url, lines)
        wrapped += len(lines) > 1
    assert wrapped, f"{url}: no name wraps at 420 px, so the check would prove nothing"
    page.close()
