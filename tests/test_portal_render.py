"""The renderer's parts on their own: schema trees, generated examples, sanitising, paths, envelopes, determinism."""

from __future__ import annotations

import jsonschema
import pytest

from conftest import write
from pipeline.contract import Catalogue, ContractLoader
from portal.mkdocs_plugin.html_stash import restore, search_entries, stash
from portal.render import Options, SitePaths, render_site
from portal.render.enrichment import enrichment_of
from portal.render.markup import description_html, json_block, md_text
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
