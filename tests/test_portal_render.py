"""The renderer's parts on their own: schema trees, generated examples, sanitising, paths, envelopes, determinism."""

from __future__ import annotations

import json
import textwrap

import jsonschema
import pytest
from bs4 import BeautifulSoup
from cli_runner import run as cli

from conftest import ROOT, write
from pipeline.contract import Catalogue, ContractLoader
from portal.kit.examples import example_events
from portal.kit.patterns import level_pattern, levels
from portal.kit.snippets import snippets
from portal.kit.specs import PLACEHOLDER_ACCOUNT, PLACEHOLDER_ENDPOINT, spec_for
from portal.kit.subscriptions import load_subscriptions
from portal.mkdocs_plugin.html_stash import restore, search_entries, stash
from portal.render import Options, SitePaths, render_site
from portal.render.enrichment import enrichment_of
from portal.render.kit import TABS
from portal.render.markup import code_block, description_html, json_block, md_text
from portal.render.paths import final_url, relative_link, slug
from portal.render.samples import sample, string_matching
from portal.render.schema_tree import MAX_NODES, schema_tree

# ------------------------------------------------------------------------------------------------ schema trees


def anchors(document: object) -> list[str]:
    return [node.anchor for node in schema_tree(document).root.walk()]


def test_all_of_branches_are_merged_and_required_is_kept() -> None:
    tree = schema_tree({"allOf": [
        {"type": "object", "required": ["a"], "properties": {"a": {"type": "string"}}},
        {"properties": {"b": {"type": "integer", "minimum": 1}}},
    ]})
    a, b = tree.root.children
    assert (a.anchor, a.required, a.type) == ("payload.a", True, "string")
    assert (b.anchor, b.required, [(f.label, f.value) for f in b.facts]) == ("payload.b", False, [("≥", "1")])


def test_a_reference_to_the_root_is_a_recursive_link() -> None:
    tree = schema_tree({"type": "object", "properties": {"id": {"type": "string"},
                                                         "children": {"type": "array", "items": {"$ref": "#"}}}})
    children = tree.root.children[1]
    assert children.link is not None and children.link.anchor == "payload" and children.link.reason == "recursive"
    assert children.children == ()


def test_mutual_recursion_stops_at_the_first_repeat() -> None:
    document = {"$ref": "#/$defs/A", "$defs": {
        "A": {"type": "object", "properties": {"b": {"$ref": "#/$defs/B"}}},
        "B": {"type": "object", "properties": {"a": {"$ref": "#/$defs/A"}}},
    }}
    assert anchors(document) == ["payload", "payload.b", "payload.b.a"]
    assert schema_tree(document).root.children[0].children[0].link.anchor == "payload"


def test_a_large_definition_used_twice_is_expanded_once() -> None:
    big = {"type": "object", "properties": {f"f{i}": {"type": "string"} for i in range(20)}}
    tree = schema_tree({"type": "object", "properties": {"x": {"$ref": "#/$defs/Big"}, "y": {"$ref": "#/$defs/Big"}},
                        "$defs": {"Big": big}})
    x, y = tree.root.children
    assert len(x.children) == 20 and y.children == ()
    assert y.link.reason == "repeated" and y.link.anchor == "payload.x"


def test_pathological_schemas_stay_finite() -> None:
    wide = {"type": "object", "properties": {
        f"p{i}": {"type": "object", "properties": {f"q{j}": {"type": "string"} for j in range(40)}}
        for i in range(60)}}
    tree = schema_tree(wide)
    assert tree.truncated and len(tree.anchors) <= MAX_NODES + 100
    deep: dict = {"type": "string"}
    for _ in range(40):
        deep = {"type": "object", "properties": {"d": deep}}
    assert schema_tree(deep).truncated


def test_any_of_pattern_properties_additional_properties_and_tuples_get_anchors() -> None:
    assert anchors({"type": "object",
                    "properties": {"v": {"anyOf": [{"type": "string"}, {"type": "null"}]},
                                   "t": {"type": "array", "items": [{"type": "string"}, {"type": "integer"}]}},
                    "patternProperties": {"^x-": {"type": "string"}},
                    "additionalProperties": {"type": "integer"}}) == [
        "payload", "payload.v", "payload.v.anyOf1", "payload.v.anyOf2", "payload.t", "payload.t.0", "payload.t.1",
        "payload.pattern1", "payload.additional"]


def test_anchors_for_enrichment_targets_skip_array_indices(examples_catalogue: Catalogue) -> None:
    tree = schema_tree(examples_catalogue.event("Order.Created.Uk").payload.document)
    assert tree.anchor_for_pointer("/lines/0/sku") == "payload.lines.sku"
    assert tree.anchor_for_pointer("/nope") is None


# ------------------------------------------------------------------------------------------ generated examples


def test_a_generated_example_validates_for_every_example_schema(examples_catalogue: Catalogue) -> None:
    for event in examples_catalogue.events:
        jsonschema.validate(sample(event.payload.document), event.payload.document)


@pytest.mark.parametrize("pattern", [r"^M[0-9]{4}$", r"^(UK|IE)-[0-9]{8}$", r"^\*{12}[0-9]{4}$", r"^[A-Z]{3}$",
                                     r"^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$", r"^[^@\s]+@[^@\s]+$"])
def test_strings_are_generated_to_match_common_patterns(pattern: str) -> None:
    import re
    generated = string_matching(pattern)
    assert generated is not None and re.search(pattern, generated)


def test_an_event_without_examples_gets_a_marked_generated_one(examples_catalogue: Catalogue) -> None:
    from portal.render.views import CatalogueViews
    event = examples_catalogue.event("Basket.Created.Eu")
    bare = type(event)(**{**{f: getattr(event, f) for f in event.__dataclass_fields__}, "examples": ()})
    views = CatalogueViews(examples_catalogue, Options())
    (example,) = views.examples(bare)
    assert example.generated and example.valid and example.name == "generated"


# ----------------------------------------------------------------------------------------------- sanitising


@pytest.mark.parametrize("hostile", [
    "<script>alert(1)</script>", '<img src=x onerror="alert(1)">', "[x](javascript:alert(1))",
    '<a href="javascript:alert(1)">x</a>', "<style>body {display: none}</style>", '<iframe src="https://e.example"></iframe>',
    '<svg onload="alert(1)"></svg>', '<p onclick="alert(1)">x</p>',
])
def test_descriptions_never_carry_active_content(hostile: str) -> None:
    html = str(description_html(f"Text {hostile} more **text**"))
    lowered = html.lower()
    for needle in ("<script", "onerror", "javascript:", "<style", "<iframe", "onload", "onclick", "<svg", "<img"):
        assert needle not in lowered, html
    assert "<strong>text</strong>" in html


def test_descriptions_have_no_blank_lines_so_they_stay_one_html_block() -> None:
    html = str(description_html("One.\n\n```\ncode\n\n\nmore\n```\n\nTwo."))
    assert "\n\n" not in html and "code\n&#10;\nmore" in html  # the same three newlines


def test_plain_text_is_made_literal_for_markdown() -> None:
    assert md_text("a *b* [c](d) | e_f") == r"a \*b\* \[c\](d) \| e\_f"
    assert "&lt;script&gt;" in str(md_text("<script>"))


def test_json_blocks_escape_markup_and_template_syntax() -> None:
    html = str(json_block({"a": "<b>{% dot x %}"}))
    assert "<b>" not in html and "{%" not in html and "&lt;b&gt;" in html


# ------------------------------------------------------------------------------------------------------ paths


def test_events_whose_names_differ_only_in_case_get_distinct_pages(tmp_path) -> None:
    # On a case-insensitive file system (macOS, Windows) Order.Created.UK.md and Order.Created.Uk.md are one file.
    write(tmp_path, "orders.yaml", """\
asyncapi: 2.6.0
info: {title: Orders, version: 1.0.0}
channels:
  orders:
    subscribe:
      message:
        oneOf:
          - {name: Order.Created.UK, payload: {type: object}}
          - {name: Order.Created.Uk, payload: {type: object}}
""")
    catalogue = ContractLoader().load([tmp_path])
    paths = SitePaths.for_catalogue(catalogue)

    pages = [paths.event(event) for event in catalogue.events]

    assert len(pages) == 2 and len({page.casefold() for page in pages}) == 2


def test_slugs_are_url_safe_and_links_are_relative_to_the_page() -> None:
    assert slug("Array<Person>") == "Array-Person"
    assert slug("...") == "unnamed"
    assert relative_link("events/a/b.md", "schemas/x.json") == "../../schemas/x.json"
    assert final_url("../schemas/X/1.json", "events/E.md") == "../../schemas/X/1.json"
    assert final_url("index.md", "events/E.md") == "../" and final_url("E.md#f", "events/index.md") == "E/#f"
    assert final_url("E.md", "events/F.md", directory_urls=False) == "E.html"


# ------------------------------------------------------------------------------------------- the whole site


def test_rendering_is_deterministic(examples_catalogue: Catalogue) -> None:
    first = render_site(examples_catalogue, Options(schema_base_url="https://x.test/s/"))
    second = render_site(examples_catalogue, Options(schema_base_url="https://x.test/s/"))
    assert first.pages == second.pages and first.files == second.files


def test_enrichment_rows_read_as_source_to_target(examples_catalogue: Catalogue) -> None:
    rows = enrichment_of(examples_catalogue.event("Payment.Refunded.Ecom").enrichment).rows
    assert [(r.op, r.source, r.target) for r in rows][:3] == [
        ("test", "/state", None), ("remove", "/state", None), ("copy", "/refundedAt", "/occurredAt")]


def test_raw_html_blocks_travel_around_markdown_and_come_back_unchanged(examples_catalogue: Catalogue) -> None:
    site = render_site(examples_catalogue)
    text = site.pages["events/Order.Created.Uk.md"]
    swapped, store = stash(text)
    assert len(swapped) < len(text) / 5 and len(store.blocks) > 5
    assert "payload.lines.components" in store.anchor_ids()
    assert restore(swapped, store) == text
    html = '<h1 id="t">T</h1><p>intro</p><h2 id="payload-schema">Payload<a class="headerlink" href="#">¶</a></h2>' \
           '<div id="payload.a"><code>a</code> the A field</div><div class="language-json highlight"><pre>' \
           '<code>{"noise": 1}</code></pre></div>'
    entries = search_entries(html, "events/T/", "T")
    assert entries == [{"location": "events/T/", "title": "T", "text": "intro"},
                       {"location": "events/T/#payload-schema", "title": "Payload", "text": "a the A field"}]


# ------------------------------------------------------------------------------------------- subscription kit

def kit_of(page: str) -> tuple[dict[str, str], dict[str, list[tuple[str, str, str]]]]:
    """A page's kit as a reader sees it: each level's pattern text, and each tab's (title, filename, code)."""
    soup = BeautifulSoup(page, "html.parser")
    levels = {p["data-level"]: p.find_next_sibling("div").pre.code.get_text() for p in soup.select("p.ed-level")}
    tabs = {block["data-format"]: [(title.get_text(), title.find_next_sibling("div").select_one("span.filename")
                                    .get_text(), title.find_next_sibling("div").pre.code.get_text())
                                   for title in block.select("p.ed-snippet-title")]
            for block in soup.select("div.tabbed-set.ed-kit div.tabbed-block")}
    return levels, tabs


@pytest.fixture(scope="module")
def kit_site(examples_catalogue: Catalogue):
    return render_site(examples_catalogue, subscriptions=load_subscriptions(ROOT / "subscriptions",
                                                                            examples_catalogue))


def test_every_page_snippet_is_the_kit_s_own_for_that_event_or_level(examples_catalogue: Catalogue,
                                                                       kit_site) -> None:
    examples = example_events(examples_catalogue)
    pages = {event.name: kit_site.pages[kit_site.paths.event(event)] for event in examples_catalogue.events}
    pages.update({label: kit_site.pages[kit_site.paths.level(label)] for label in kit_site.paths.levels})
    assert len(kit_site.paths.levels) == 6  # the levels of two events or more (Payment.*, Payment.Authorised.*, ...)
    for label, page in pages.items():
        shown_levels, tabs = kit_of(page)
        expected_levels = levels(examples_catalogue.event(label)) if not label.endswith(".*") else [label]
        assert list(shown_levels) == expected_levels, label
        for level, text in shown_levels.items():
            assert json.loads(text) == level_pattern(examples_catalogue, level, examples).pattern, (label, level)
        spec = spec_for(examples_catalogue, level_pattern(examples_catalogue, label, examples), examples,
                        endpoint=PLACEHOLDER_ENDPOINT)
        assert list(tabs) == [fmt for fmt, _ in TABS], label
        for fmt, shown in tabs.items():
            assert shown == [(s.title, s.filename, s.text.rstrip("\n")) for s in snippets(spec, fmt)], (label, fmt)
        names = {name for blocks in tabs.values() for _, name, _ in blocks}
        assert {"producer-forward.yaml", "consumer-bus-policy.yaml", "sqs-target.yaml", "api-destination.yaml",
                "lambda_target.tf", "api_destination.tf"} <= names, label
        assert PLACEHOLDER_ACCOUNT in tabs["cfn"][1][2] and PLACEHOLDER_ENDPOINT in tabs["cfn"][3][2]


@pytest.mark.parametrize(("label", "level"), [("Payment.Authorised.Ecom", "exact"),
                                               ("Basket.Created.Eu", "exact"), ("Payment.Authorised.*", None)])
def test_the_page_shows_what_eventdeck_kit_prints(kit_site, label: str, level: str | None) -> None:
    page = kit_site.pages[kit_site.paths.level(label) if label.endswith(".*") else kit_site.paths.event(label)]
    shown_levels, tabs = kit_of(page)
    options = ["--level", level] if level else []
    for row, text in shown_levels.items():
        row_options = ["--level", row] if level else []
        printed = cli(*(["kit", label, *row_options] if level else ["kit", label]), cwd=ROOT)
        assert printed.code == 0 and printed.out == text + "\n", printed.err
    for fmt, shown in tabs.items():
        printed = cli("kit", label, *options, "--format", fmt, "--endpoint", PLACEHOLDER_ENDPOINT, cwd=ROOT)
        expected = shown[0][2] + "\n" if len(shown) == 1 else "\n".join(
            f"# --- {name}: {title} ---\n{code}\n" for title, name, code in shown)
        assert printed.code == 0 and printed.out == expected, (fmt, printed.err)
    assert f"eventdeck kit {label}{' --level exact' if level else ''} --format FORMAT" in page


def test_a_sealed_event_says_why_it_offers_no_content_filter_and_an_open_one_offers_its_fields(kit_site) -> None:
    sealed = BeautifulSoup(kit_site.pages["events/Payment.Authorised.Ecom.md"], "html.parser")
    reasons = [p.select_one(".ed-no-filter").get_text() for p in sealed.select("p.ed-level")]
    assert len(reasons) == 3 and all("is sealed (x-sealing)" in r and "JWE/JWS" in r for r in reasons)
    open_page = BeautifulSoup(kit_site.pages["events/Basket.Created.Eu.md"], "html.parser")
    exact = open_page.select("p.ed-level")[0]
    assert exact.select_one(".ed-no-filter") is None
    assert "market (DE, FR" in exact.get_text() and "--filter market=DE" in exact.get_text()
    filtered = [row for row in open_page.select("p.ed-level") if row.select_one(".ed-no-filter") is None]
    assert [row["data-level"] for row in filtered] == ["Basket.Created.Eu", "Basket.Created.*"]  # Basket.*: sealed
    for row in filtered:  # the hint each level shows is a command that works
        hint = next(c.get_text() for c in row.find_all("code") if c.get_text().startswith("eventdeck kit"))
        printed = cli(*hint.split()[1:], cwd=ROOT)
        assert printed.code == 0 and json.loads(printed.out)["detail"] == {"data": {"market": ["DE"]}}, hint
    level = BeautifulSoup(kit_site.pages["events/levels/Payment.md"], "html.parser")
    listed = [a.get_text() for a in level.select("div.ed-events a")]
    assert len(listed) == 7 and "Payment.Captured.Ecom" in listed
    payment = BeautifulSoup(kit_site.pages["events/Payment.Captured.Ecom.md"], "html.parser")
    rows = {p["data-level"]: [a.get_text() for a in p.find_all("a")] for p in payment.select("p.ed-level")}
    assert rows["Payment.Captured.Ecom"] == []
    links = {p["data-level"]: [a["href"] for a in p.select("strong a")] for p in payment.select("p.ed-level")}
    assert links == {"Payment.Captured.Ecom": [], "Payment.Captured.*": [], "Payment.*": ["../levels/Payment/"]}
    assert "Payment.Authorised.Ecom" in rows["Payment.*"] and "Payment.Captured.Ecom" not in rows["Payment.*"]


def test_subscription_files_make_consumers_on_the_event_page_and_in_the_graph(kit_site) -> None:
    page = BeautifulSoup(kit_site.pages["events/Payment.Authorised.Ecom.md"], "html.parser")
    consumed = next(th for th in page.find_all("th") if th.get_text() == "Consumed by").find_next_sibling("td")
    assert "finance (finance-payments-authorised.yaml)" in consumed.get_text()
    graph = page.select_one("div.ed-graph")
    assert "finance (finance-payments-authorised.yaml)" in graph.select_one("p.ed-graph__caption").get_text()
    assert graph.select("g.ed-graph__node--subscriber")
    other = BeautifulSoup(kit_site.pages["events/Order.Shipped.Uk.md"], "html.parser")
    assert "finance" not in next(th for th in other.find_all("th") if th.get_text() == "Consumed by") \
        .find_next_sibling("td").get_text()


def test_the_subscribe_guide_s_example_request_is_accepted_by_eventdeck_kit(kit_site, tmp_path) -> None:
    guide = kit_site.pages[kit_site.paths.subscribe]
    example = guide.split("```yaml\n", 1)[1].split("```", 1)[0]
    request = write(tmp_path, "marketing-de-web-baskets.yaml", textwrap.dedent(example))
    printed = cli("kit", "--subscription", request, cwd=ROOT)
    assert printed.code == 0, printed.err
    assert json.loads(printed.out)["detail"] == {"data": {"market": ["DE"], "channel": ["web"]}}
    for step in ("eventdeck kit --subscription", "--format cfn", "Review", "pull request"):
        assert step in guide


def test_a_code_block_is_one_physical_line_that_reads_back_exactly() -> None:
    text = 'a:\n\n  b: "<x>" `y` [z] {w} | \\ & *_\n'
    block = code_block(text, "yaml", label="f<1>.yaml")
    assert "\n" not in block and "<x>" not in block
    soup = BeautifulSoup(block, "html.parser")
    assert soup.pre.code.get_text() == text and soup.select_one("span.filename").get_text() == "f<1>.yaml"
    assert soup.div["class"] == ["language-yaml", "highlight"]
    assert BeautifulSoup(code_block("x", 'js" onload="y'), "html.parser").div["class"][0] == "language-jsonloady"
