"""Caches are proven to invalidate: an edit to a document shows after a rebuild, and nothing unrelated changes.

Two places keep what they learnt between builds: a :class:`~pipeline.contract.ContractLoader` keeps prepared
documents (keyed by the stamps of the document and of every file it references), and the MkDocs plugin keeps its
loader, its renderer (rendered event pages) and the pages and schemas it wrote, for the life of `mkdocs serve`.
A stale cache shows a consumer an old page after an edit. These tests make the edits a producer makes: a payload
field, a description, ``x-lifecycle``, ``x-enrichment``, a shared schema file that several documents ``$ref`` (and
a typo in one, then fixed), a consumer declared in another document; and read the result as a consumer would: the
built HTML, the published schema, the model.

Reuse is shown only by behaviour: a rebuild is correct, and a reload equals a cold load of the same files. No test
reads a private attribute or times anything.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from bs4 import BeautifulSoup
from mkdocs.commands.build import build
from mkdocs.config import load_config
from mkdocs.config.defaults import MkDocsConfig
from test_portal_build import project
from test_portal_site import article

from conftest import EXAMPLES
from pipeline.contract import Catalogue, ContractLoader, Document, Event
from portal.render import Options, SiteRenderer, render_site

SERVE_URL = "http://127.0.0.1:8000/"
CAPTURED = "Payment.Captured.Ecom"
UNRELATED = "Basket.Created.Eu"  # baskets.yaml references neither payments.yaml nor anything the edits touch
CAPTURED_MESSAGE = "    PaymentCapturedEcom:\n      name: Payment.Captured.Ecom\n"


# ------------------------------------------------------------------------------------------------------ edits


def edit(path: Path, old: str, new: str, *, after: str = "") -> None:
    """Replace the first ``old`` after the (unique) marker ``after`` in ``path``, as an editor saves a file.

    The loader knows a file changed by its stamp, (mtime_ns, size), as make does. A test edits faster than any
    person: two saves of a file within one tick of the file system's clock (a few milliseconds on Linux, up to
    two seconds on FAT) leave the modification time as it was, and an edit of the same length then leaves the
    whole stamp as it was. So the modification time is moved one second past the previous one, which is what a
    real save some time later looks like, and the test checks that the stamp did change.
    """
    text = path.read_text(encoding="utf-8")
    assert not after or text.count(after) == 1, f"marker not unique in {path.name}: {after!r}"
    start = text.index(after) + len(after)
    at = text.index(old, start)
    before = path.stat()
    path.write_text(text[:at] + new + text[at + len(old):], encoding="utf-8")
    written = path.stat()
    os.utime(path, ns=(written.st_atime_ns, max(written.st_mtime_ns, before.st_mtime_ns + 1_000_000_000)))
    after_stat = path.stat()
    assert (after_stat.st_mtime_ns, after_stat.st_size) != (before.st_mtime_ns, before.st_size)


class Change(NamedTuple):
    """An edit of one file below asyncapi/: ``old`` (the first one after the marker ``after``) becomes ``new``."""

    file: str
    old: str
    new: str
    after: str = ""

    def apply(self, folder: Path) -> None:
        edit(folder / self.file, self.old, self.new, after=self.after)

    def undo(self, folder: Path) -> None:
        edit(folder / self.file, self.new, self.old, after=self.after)


ADD_PAYLOAD_FIELD = Change("payments.yaml", "            finalCapture:\n", (
    "            captureChannel:\n"
    "              type: string\n"
    "              description: Which system asked for the capture, dispatch or customer service.\n"
    "            finalCapture:\n"), "    PaymentCapturedEcomPayload:\n")
# Same length on purpose: only the modification time tells this edit apart.
REWORD_DESCRIPTION = Change("payments.yaml", "typically when the order", "typically when the goods", CAPTURED_MESSAGE)
DEPRECATE = Change("payments.yaml", "      x-lifecycle:\n        status: active\n",
                   "      x-lifecycle:\n        status: deprecated\n        sunset: '2027-01-31'\n", CAPTURED_MESSAGE)
COPY_NOT_MOVE = Change("payments.yaml", "          - op: move\n            from: /currency\n",
                       "          - op: copy\n            from: /currency\n", CAPTURED_MESSAGE)
OLD_MONEY = "The amount in minor units, e.g."  # plain text, the same in the YAML, the HTML and the JSON
NEW_MONEY = "The amount in minor units of its currency, e.g."
REWORD_MONEY = Change("schemas/money.yaml", OLD_MONEY, NEW_MONEY)
BREAK_MONEY = Change("schemas/money.yaml", "type: object\n", "type: [object\n")
# Another document starts consuming Payment.Captured.Ecom: payments.yaml itself does not change.
CONSUME_IN_BASKETS = Change("baskets.yaml", "\noperations:\n", """\
  paymentCapturedEcom:
    address: Payment.Captured.Ecom
    messages:
      PaymentCapturedEcom:
        $ref: './payments.yaml#/components/messages/PaymentCapturedEcom'

operations:
  receivePaymentCapturedEcom:
    action: receive
    channel:
      $ref: '#/channels/paymentCapturedEcom'
    messages:
      - $ref: '#/channels/paymentCapturedEcom/messages/PaymentCapturedEcom'
""")


def examples_copy(folder: Path) -> Path:
    """A copy of the example documents, shared schema files included, that a test may edit."""
    shutil.copytree(EXAMPLES, folder)
    return folder


# ---------------------------------------------------------------------------------------- the serve rebuild


class Serve:
    """`mkdocs serve` in-process, without a server: what ``mkdocs.commands.serve`` does, build after build.

    MkDocs loads the configuration again for every rebuild; a plugin that has ``on_startup`` is kept across those
    loads (MkDocs' own plugin cache), so the eventdeck plugin, its loader and its renderer live from one build to
    the next exactly as they do under `mkdocs serve` (``dirty``: `mkdocs serve --dirty`).
    """

    def __init__(self, config_file: Path, site_dir: Path, *, dirty: bool) -> None:
        self.config_file, self.site, self.dirty = config_file, site_dir, dirty
        self.asyncapi = config_file.parent / "asyncapi"  # the documents, to edit
        config = self._config()
        config.plugins.on_startup(command="serve", dirty=dirty)
        self.plugin = config.plugins["eventdeck"]
        self._last = config
        self.rebuild(config)

    def _config(self) -> MkDocsConfig:
        config = load_config(str(self.config_file), site_dir=str(self.site))
        config.site_url = SERVE_URL
        return config

    def rebuild(self, config: MkDocsConfig | None = None) -> None:
        config = config or self._config()
        assert config.plugins["eventdeck"] is self.plugin, "not a rebuild: MkDocs made a new plugin"
        self._last = config
        build(config, serve_url=SERVE_URL, dirty=self.dirty)

    def close(self) -> None:
        self._last.plugins.on_shutdown()

    # ------------------------------------------------------------------------------------ reading the site
    def html(self, url: str) -> bytes:
        return (self.site / url / "index.html").read_bytes()

    def article(self, url: str) -> BeautifulSoup:
        return article(self.site, url)

    def text(self, url: str) -> str:
        return " ".join(self.article(url).get_text(" ").split())

    def event_pages(self) -> dict[str, bytes]:
        """Every event page's HTML, by event name (event pages are the folders named like ``A.B.C``)."""
        return {folder.name: (folder / "index.html").read_bytes()
                for folder in sorted((self.site / "events").iterdir()) if folder.is_dir() and "." in folder.name}

    def schemas(self) -> dict[str, bytes]:
        """Every published schema file, by its path below the site."""
        return {str(p.relative_to(self.site)): p.read_bytes() for p in sorted((self.site / "schemas").rglob("*.json"))}

    def written_at(self, url: str) -> int:
        return (self.site / url / "index.html").stat().st_mtime_ns


@pytest.fixture
def serve(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Serve]:
    """A `mkdocs serve --dirty` session of a copy of the examples, after its first build. `--dirty` is the mode
    with the most kept between builds (the pages and schemas written, besides the loader's and the renderer's
    caches); ``both_modes`` runs a test under a plain `mkdocs serve` too."""
    examples_copy(tmp_path / "asyncapi")
    server = Serve(project(tmp_path, {}), tmp_path / "site", dirty=getattr(request, "param", True))
    try:
        yield server
    finally:
        server.close()


both_modes = pytest.mark.parametrize("serve", [True, False], ids=["serve-dirty", "serve"], indirect=True)


def unchanged(serve: Serve, url: str, html: bytes, written_at: int) -> bool:
    """The page is as it was; under --dirty it was not even written again (MkDocs skipped it)."""
    return serve.html(url) == html and (not serve.dirty or serve.written_at(url) == written_at)


def test_a_new_payload_field_shows_on_the_page_and_in_the_published_schema(serve: Serve) -> None:
    url, control = f"events/{CAPTURED}", f"events/{UNRELATED}"
    assert serve.article(url).find(id="payload.captureChannel") is None
    html, written_at = serve.html(control), serve.written_at(control)
    schemas = serve.schemas()

    ADD_PAYLOAD_FIELD.apply(serve.asyncapi)
    serve.rebuild()

    field = serve.article(url).find(id="payload.captureChannel")
    assert field is not None and "dispatch or customer service" in field.get_text(" ")
    published = {path: json.loads(data) for path, data in serve.schemas().items() if CAPTURED in path}
    assert published and all("captureChannel" in json.dumps(schema) for schema in published.values())
    assert {p: d for p, d in serve.schemas().items() if CAPTURED not in p} == \
        {p: d for p, d in schemas.items() if CAPTURED not in p}
    assert unchanged(serve, control, html, written_at)


def test_a_reworded_description_of_the_same_length_shows_on_the_page_and_in_search(serve: Serve) -> None:
    reword_shows_on_the_page_and_in_search(serve)


def reword_shows_on_the_page_and_in_search(serve: Serve) -> None:
    """Reword a description (same length) under a dirty serve: the page and the search index show the new text, and
    an unrelated page is not rewritten. Shared with the forked-worker variant in test_portal_streaming."""
    url, control = f"events/{CAPTURED}", f"events/{UNRELATED}"
    assert "typically when the order" in serve.text(url)
    html, written_at = serve.html(control), serve.written_at(control)

    REWORD_DESCRIPTION.apply(serve.asyncapi)
    serve.rebuild()

    text = serve.text(url)
    assert "typically when the goods" in text and "typically when the order" not in text
    index = (serve.site / "search" / "search_index.json").read_text(encoding="utf-8")
    assert "typically when the goods" in index and "typically when the order" not in index
    assert unchanged(serve, control, html, written_at)


def test_a_deprecation_changes_the_status_badge(serve: Serve) -> None:
    url, control = f"events/{CAPTURED}", f"events/{UNRELATED}"
    assert serve.article(url).find(class_="ed-badge--active") is not None
    html, written_at = serve.html(control), serve.written_at(control)

    DEPRECATE.apply(serve.asyncapi)
    serve.rebuild()

    soup = serve.article(url)
    assert soup.find(class_="ed-badge--deprecated") is not None and soup.find(class_="ed-badge--active") is None
    assert "2027-01-31" in soup.get_text()
    assert unchanged(serve, control, html, written_at)


def patch_rows(soup: BeautifulSoup) -> list[list[str]]:
    """The field-origin table: target, operation, source."""
    return [[cell.get_text(" ", strip=True) for cell in row.find_all("td")][:3]
            for row in soup.find(class_="ed-patch").find_all("tr")[1:]]


def test_a_changed_enrichment_operation_changes_the_field_origin_table(serve: Serve) -> None:
    url, control = f"events/{CAPTURED}", f"events/{UNRELATED}"
    rows = patch_rows(serve.article(url))
    assert ["/amount/currency", "move", "/currency"] in rows
    html, written_at = serve.html(control), serve.written_at(control)

    COPY_NOT_MOVE.apply(serve.asyncapi)
    serve.rebuild()

    assert patch_rows(serve.article(url)) == [
        ["/amount/currency", "copy", "/currency"] if row == ["/amount/currency", "move", "/currency"] else row
        for row in rows]
    assert unchanged(serve, control, html, written_at)


@both_modes
def test_an_edited_shared_schema_file_changes_every_page_and_schema_that_uses_it(serve: Serve) -> None:
    pages, schemas = serve.event_pages(), serve.schemas()
    using = {name for name, html in pages.items() if OLD_MONEY.encode() in html}
    # money.yaml is referenced by all three documents, directly and through other shared files.
    assert {name.split(".")[0] for name in using} == {"Basket", "Order", "Payment"}
    published = {path for path, data in schemas.items() if OLD_MONEY.encode() in data}
    assert published and any(CAPTURED in path for path in published)

    REWORD_MONEY.apply(serve.asyncapi)
    serve.rebuild()

    after, after_schemas = serve.event_pages(), serve.schemas()
    assert {name for name, html in after.items() if NEW_MONEY.encode() in html} == using
    assert not [name for name, html in after.items() if OLD_MONEY.encode() in html]
    assert {name: html for name, html in after.items() if name not in using} == \
        {name: html for name, html in pages.items() if name not in using}
    assert {path for path, data in after_schemas.items() if NEW_MONEY.encode() in data} == published
    assert {p: d for p, d in after_schemas.items() if p not in published} == \
        {p: d for p, d in schemas.items() if p not in published}


def consumers(soup: BeautifulSoup) -> str:
    return soup.find("th", string="Consumed by").find_next("td").get_text(" ", strip=True)


def test_a_consumer_declared_in_another_document_shows_on_the_events_page(serve: Serve) -> None:
    url = f"events/{CAPTURED}"
    assert consumers(serve.article(url)) == "no documented consumer"

    CONSUME_IN_BASKETS.apply(serve.asyncapi)
    serve.rebuild()

    assert consumers(serve.article(url)) == "Baskets"


@both_modes
def test_fixing_a_broken_shared_schema_file_clears_its_error(serve: Serve) -> None:
    assert "error(s) in the contracts" not in serve.text("events")

    BREAK_MONEY.apply(serve.asyncapi)
    serve.rebuild()
    assert "error(s) in the contracts" in serve.text("events")
    assert "money.yaml" in serve.text("events/domains/payments")

    BREAK_MONEY.undo(serve.asyncapi)
    serve.rebuild()
    assert "error(s) in the contracts" not in serve.text("events")
    assert "invalid YAML" not in serve.text("events/domains/payments")


# -------------------------------------------------------------------------------------------- loader reloads


def content(value: Any) -> Any:
    """A model value as plain data, to compare two loads by what they say (an ``Operation`` compares by
    identity, by design: two loads of one document never give equal operations)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return type(value).__name__, {f.name: content(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {key: content(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [content(item) for item in value]
    return value


def catalogue_content(catalogue: Catalogue) -> Any:
    return content((catalogue.documents, catalogue.events, catalogue.diagnostics))


def documents(catalogue: Catalogue) -> dict[str, Document]:
    return {document.id: document for document in catalogue.documents}


def properties(event: Event) -> dict[str, Any]:
    """The payload's own properties, merged across its ``allOf`` branches."""
    schema = event.payload.document if event.payload is not None else {}
    found = dict(schema.get("properties", {}))
    for branch in schema.get("allOf", ()):
        found.update(branch.get("properties", {}))
    return found


def schema_text(event: Event) -> str:
    return json.dumps(event.payload.document if event.payload is not None else None)


def reload(tmp_path: Path, change: Change, *, untouched: set[str]) -> tuple[Catalogue, Catalogue]:
    """Load the examples, make ``change``, load again with the same loader, and check the reload: it says what a
    cold load of the same files says, and the ``untouched`` documents (which reference no edited file, and whose
    events no edited file uses) come back equal, operations included (an operation compares by identity, so only
    the very document kept from the first load is equal)."""
    folder = examples_copy(tmp_path / "asyncapi")
    loader = ContractLoader()
    first = loader.load([folder])
    assert not first.errors
    change.apply(folder)
    second = loader.load([folder])
    assert catalogue_content(second) == catalogue_content(ContractLoader().load([folder]))
    edited = str((folder / change.file).resolve())
    assert not [name for name in untouched if edited in documents(first)[name].files]
    assert all(documents(second)[name] == documents(first)[name] for name in untouched)
    return first, second


def test_a_reload_sees_a_new_payload_field(tmp_path: Path) -> None:
    first, second = reload(tmp_path, ADD_PAYLOAD_FIELD, untouched={"baskets"})
    assert "captureChannel" not in properties(first.event(CAPTURED))
    assert properties(second.event(CAPTURED))["captureChannel"]["type"] == "string"
    assert not second.errors


def test_a_reload_sees_a_reworded_description_of_the_same_length(tmp_path: Path) -> None:
    first, second = reload(tmp_path, REWORD_DESCRIPTION, untouched={"baskets"})
    assert "typically when the order" in (first.event(CAPTURED).description or "")
    assert "typically when the goods" in (second.event(CAPTURED).description or "")


def test_a_reload_sees_a_deprecation(tmp_path: Path) -> None:
    first, second = reload(tmp_path, DEPRECATE, untouched={"baskets"})
    assert not first.event(CAPTURED).deprecated
    event = second.event(CAPTURED)
    assert event.deprecated and event.lifecycle is not None
    assert (event.lifecycle.status, event.lifecycle.sunset) == ("deprecated", "2027-01-31")
    assert not second.errors


def test_a_reload_sees_a_changed_enrichment_operation(tmp_path: Path) -> None:
    first, second = reload(tmp_path, COPY_NOT_MOVE, untouched={"baskets"})

    def currency_op(catalogue: Catalogue) -> str:
        patch = catalogue.event(CAPTURED).extensions["x-enrichment"]["patch"]
        return next(op["op"] for op in patch if op.get("from") == "/currency")

    assert (currency_op(first), currency_op(second)) == ("move", "copy")
    assert not second.errors


def test_a_reload_sees_an_edited_shared_schema_file_in_every_document(tmp_path: Path) -> None:
    first, second = reload(tmp_path, REWORD_MONEY, untouched=set())
    using = {e.key for e in first.events if OLD_MONEY in schema_text(e)}
    assert {key.split(".")[0] for key in using} == {"Basket", "Order", "Payment"}
    assert {e.key for e in second.events if NEW_MONEY in schema_text(e)} == using
    assert not [e.key for e in second.events if OLD_MONEY in schema_text(e)]


def test_a_reload_sees_a_consumer_declared_in_another_document(tmp_path: Path) -> None:
    # payments.yaml does not change, but its event gains a consumer; orders.yaml's Order.Created.Ie is consumed by
    # baskets.yaml too, so no document comes back untouched.
    first, second = reload(tmp_path, CONSUME_IN_BASKETS, untouched=set())
    assert (first.event(CAPTURED).consumers, second.event(CAPTURED).consumers) == ((), ("baskets",))
    assert not second.errors


@pytest.mark.parametrize("broken", ["typo", "missing"])
def test_a_reload_clears_the_error_of_a_shared_file_once_it_is_fixed(tmp_path: Path, broken: str) -> None:
    folder = examples_copy(tmp_path / "asyncapi")
    money = folder / "schemas" / "money.yaml"
    good = money.read_bytes()
    loader = ContractLoader()
    assert not loader.load([folder]).errors
    if broken == "typo":
        BREAK_MONEY.apply(folder)
    else:
        money.unlink()
    errors = loader.load([folder]).errors
    assert errors and all("money.yaml" in str(d) for d in errors)

    money.write_bytes(good)
    assert not loader.load([folder]).errors


# ---------------------------------------------------------------------------------------------------- renderer


def test_a_renderer_used_again_renders_what_a_fresh_one_renders(tmp_path: Path) -> None:
    folder = examples_copy(tmp_path / "asyncapi")
    loader, options = ContractLoader(), Options(schema_base_url="https://x.test/s/")
    renderer = SiteRenderer(options)
    renderer.render(loader.load([folder]))
    for change in (REWORD_DESCRIPTION, REWORD_MONEY, DEPRECATE, CONSUME_IN_BASKETS):
        change.apply(folder)
        catalogue = loader.load([folder])
        again, fresh = renderer.render(catalogue), render_site(catalogue, options)
        assert again.pages == fresh.pages and again.files == fresh.files


AUDIT_REQUEST = """team: audit
consumer:
  account: "210987654321"
  bus: audit-inbound
subscribe:
  event: Payment.Captured.Ecom
"""


def _consumed_by(serve: Serve, url: str) -> str:
    cell = next(th for th in serve.article(url).find_all("th") if th.get_text() == "Consumed by")
    return cell.find_next_sibling("td").get_text(" ")


def test_a_subscription_request_added_changed_or_removed_shows_on_the_next_rebuild(
        serve: Serve, caplog: pytest.LogCaptureFixture) -> None:
    from mkdocs.exceptions import Abort

    url, control = f"events/{CAPTURED}", f"events/{UNRELATED}"
    assert "audit" not in _consumed_by(serve, url)
    html, written_at = serve.html(control), serve.written_at(control)
    folder = serve.config_file.parent / "subscriptions"  # the plugin's default folder, created while serving
    folder.mkdir()
    request = folder / "audit-captures.yaml"
    request.write_text(AUDIT_REQUEST, encoding="utf-8")
    serve.rebuild()
    assert "audit (audit-captures.yaml)" in _consumed_by(serve, url)
    assert serve.article(url).select("g.ed-graph__node--subscriber")
    assert unchanged(serve, control, html, written_at)

    request.write_text(AUDIT_REQUEST.replace("Payment.Captured.Ecom", "Payment.Captured.Ecomm"), encoding="utf-8")
    with pytest.raises(Abort):
        serve.rebuild()
    assert re.search(r"subscription requests cannot be published:\n  \S+/audit-captures\.yaml:6:3 "
                     r"\(#/subscribe/event\): no event is named 'Payment\.Captured\.Ecomm'", caplog.text)
    request.write_text(AUDIT_REQUEST.replace("team: audit", "team: audit-2"), encoding="utf-8")
    serve.rebuild()
    assert "audit-2 (audit-captures.yaml)" in _consumed_by(serve, url)
    request.unlink()
    serve.rebuild()
    assert "audit" not in _consumed_by(serve, url)
