"""Hostile strings in every string field of an AsyncAPI document: the catalogue renders without a traceback and
with nothing a browser would run.

Property-based (hypothesis, bounded to a few seconds): a valid AsyncAPI 2.6, 3.0 or 3.1 document with every kind of
text field (titles, summaries, descriptions, names, examples, enum values, patterns, server variables, the
eventdeck extensions, bindings, URLs) gets, in any of them and in property and extension names, HTML, ``javascript:``
URLs in every casing and with whitespace, controls and character references inside, Markdown links and attributes,
control characters, bidi marks, very long and non-ASCII text. The document is loaded leniently (a
:class:`ContractError` is the documented refusal of what cannot be modelled; any other exception is a bug) and the
site rendered with :func:`render_site`; :mod:`hostile` then checks every page as a browser would see it.

Beside it: payload schemas of any shape (malformed, hostile bounds and patterns) give a field tree and a bounded
generated example; the shared corpus (real documents) renders with nothing executable either; and one slow test
runs the real tools once on hostile documents: ``eventdeck validate``, ``eventdeck docs`` and ``mkdocs build``,
failing on any traceback and on any executable construct in the built pages.
"""

from __future__ import annotations

import html
import itertools
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup
from hostile import ALLOWED_ELEMENTS, HOSTILE_TEXT, HOSTILE_URLS, html_problems, page_problems, url_problem
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_portal_build import project
from test_urls import VERSIONS, base

from conftest import require_corpus
from corpus import root_documents
from pipeline.contract import ContractLoader
from pipeline.contract.errors import ContractError
from portal.render import Options, render_site
from portal.render.samples import sample
from portal.render.schema_tree import schema_tree
from portal.render.urls import safe_url

# ------------------------------------------------------------------------------------------- hostile strings

_NOISE = ("\t", "\n", "\r", "\x00", "\x0b", "\x0c", "\x1f", " ", "\u00a0", "\u200b", "\u200e", "\u202e", "\ufeff",
          "&#9;", "&#x0A;", "&Tab;", "&NewLine;")


@st.composite
def disguised_urls(draw: st.DrawFn) -> str:
    """``javascript:`` (or ``vbscript:``, ``data:``, ``file:``) in random casing, with whitespace, controls and
    character references before and inside it, and its colon written in several ways."""
    scheme = draw(st.sampled_from(["javascript", "vbscript", "data", "file"]))
    encoded = draw(st.integers(-len(scheme), len(scheme) - 1))  # a negative index: no letter as a reference
    letters = []
    for n, char in enumerate(scheme):
        letter = char.upper() if draw(st.booleans()) else char
        if n == encoded:
            letter = f"&#{ord(letter)};" if draw(st.booleans()) else f"&#x{ord(letter):x};"
        letters.append(letter)
        if draw(st.integers(0, 5)) == 0:
            letters.append(draw(st.sampled_from(_NOISE)))
    prefix = "".join(draw(st.lists(st.sampled_from(_NOISE), max_size=3)))
    colon = draw(st.sampled_from([":", "&colon;", "&#58;", "&#x3a;", "%3A"]))
    rest = draw(st.sampled_from(["alert(document.domain)", "text/html,<script>alert(1)</script>", "//evil.example/",
                                 "alert`1`"]))
    return prefix + "".join(letters) + colon + rest


_MARKUP = [*"<>\"'&[](){}`|\\!#*_-:;/=.@ \n\t", "\u202e", "\u200f", "j", "a", "x", "on", "script", "img", "href",
           "javascript:", "{:", "--8<--", "{%", "]("]
hostile_atoms = st.one_of(
    st.sampled_from(HOSTILE_URLS + HOSTILE_TEXT),
    disguised_urls(),
    st.text(max_size=30),  # any code point hypothesis likes: controls, U+2028, bidi marks, astral planes
    st.lists(st.sampled_from(_MARKUP), max_size=20).map("".join),
)
long_strings = st.tuples(st.text(min_size=1, max_size=4), st.integers(100, 600)).map(lambda pair: pair[0] * pair[1])
hostile_strings = st.one_of(
    hostile_atoms,
    hostile_atoms,  # twice: most fields get a short value, which keeps an example fast to render and check
    st.lists(hostile_atoms, min_size=2, max_size=4).map(" ".join),
    long_strings,
)

# ----------------------------------------------------------------------------------------- the documents

#: Values that decide what the document is rather than say something about it: kept, so the document stays one
#: the loader can model and the renderer gets to show everything else. ``pattern`` too: the loader's example check
#: raises ``re.error`` on a pattern that is no regular expression (reported under issue 9, item 5); the renderer's
#: side of that is held by test_a_malformed_payload_schema_without_examples_renders below.
STRUCTURAL = frozenset({"asyncapi", "$ref", "action", "type", "schemaFormat", "bindingVersion", "pattern"})
#: Mappings whose keys are names a document chooses (and no reference points at): renamed too.
FREE_KEYS = frozenset({"properties", "servers", "securitySchemes", "variables"})


def _text_fields(version: str) -> dict[str, Any]:
    """:func:`test_urls.base` with a text field in every place the catalogue may show one."""
    document = base(version)
    info = document["info"]
    info["description"] = "The **hostile** domain."
    info["x-backstage"] = {"owner": "team-a", "system": "shop", "domain": "retail", "lifecycle": "production"}
    document["x-eventbridge"] = {"source": "com.example.hostile", "bus": "hostile-bus", "region": "eu-west-1",
                                 "account": "123456789012"}
    document["x-team"] = {"name": "a", "links": ["https://ok.example/x"]}
    security = document["components"]["securitySchemes"]
    security["oidc"]["description"] = "OpenID Connect."
    message = document["components"]["messages"]["thing"]
    message.update({
        "title": "A thing", "summary": "Something happened.", "description": "It *happened*.",
        "contentType": "application/json",
        "x-lifecycle": {"status": "deprecated", "supersededBy": "Other.Thing.Happened", "sunset": "2030-01-01"},
        "correlationId": {"location": "$message.header#/correlationId", "description": "The interaction."},
        "headers": {"type": "object", "properties": {"correlationId": {"type": "string", "description": "Id."}}},
        "examples": [{"name": "one", "summary": "An example.", "headers": {"correlationId": "c-1"},
                      "payload": {"id": "a-1", "linked": "b"}}],
    })
    message["tags"][0]["description"] = "Things."
    properties = message["payload"]["properties"]
    properties["id"].update({"title": "Id", "description": "The id.", "examples": ["a-1"], "pattern": "^[a-z]-[0-9]+$",
                             "maxLength": 20})
    properties["kind"] = {"type": "string", "enum": ["big", "small"], "default": "big", "format": "hostname",
                          "description": "Kind."}
    properties["label"] = {"type": "string", "const": "fixed"}
    message["payload"]["required"] = ["id"]
    if version.startswith("2."):
        document["servers"]["production"].update({"url": "{host}:9092", "description": "Production.",
                                                  "variables": {"host": {"default": "broker.ok.example",
                                                                         "enum": ["broker.ok.example"],
                                                                         "description": "Host."}}})
        operation = document["channels"]["things"]["subscribe"]
        document["channels"]["things"]["description"] = "Things happen here."
    else:
        document["servers"]["production"].update({"description": "Production.", "title": "Prod",
                                                  "summary": "The broker."})
        operation = document["operations"]["sendThing"]
        document["channels"]["things"].update({"description": "Things happen here.", "title": "Things"})
        operation["title"] = "Send"
    operation.update({"summary": "Sends things.", "description": "Sends *things*."})
    return document


BASES = {version: _text_fields(version) for version in VERSIONS}


def _hostile(draw: st.DrawFn, node: Any, key: str | None = None) -> Any:
    """``node`` with any of its strings (and the names in :data:`FREE_KEYS` mappings) replaced by hostile ones."""
    if isinstance(node, dict):
        result: dict[str, Any] = {}
        for name, value in node.items():
            new_name = draw(hostile_strings) if key in FREE_KEYS and draw(st.booleans()) else name
            result[new_name if new_name not in result else name] = _hostile(draw, value, name)
        # An extension with a hostile name and value, anywhere but in a schema's properties, where an x- name is
        # a property whose schema must be a schema (the loader's handling of a string there is not this test's).
        if key != "properties" and draw(st.integers(0, 7)) == 0:
            result["x-" + draw(hostile_strings)] = draw(hostile_strings)
        return result
    if isinstance(node, list):
        return [_hostile(draw, item, key) for item in node]
    if isinstance(node, str) and key not in STRUCTURAL and draw(st.booleans()):
        return draw(hostile_strings)
    return node


@st.composite
def hostile_documents(draw: st.DrawFn) -> dict[str, Any]:
    version = draw(st.sampled_from(VERSIONS))
    return _hostile(draw, BASES[version])


def _catalogue(folder: Path, document: dict[str, Any]):  # type: ignore[no-untyped-def]
    path = folder / "hostile.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    try:
        return ContractLoader(workers=1).load([path])
    except ContractError:
        return None  # the documented refusal: a message naming the file, no page


# -------------------------------------------------------------------------------------------------- tests


def test_the_base_documents_are_valid_and_show_every_text_field() -> None:
    with tempfile.TemporaryDirectory() as folder:
        for version, document in BASES.items():
            catalogue = _catalogue(Path(folder), document)
            assert catalogue is not None and catalogue.errors == (), version
            pages = "\n".join(render_site(catalogue).pages.values())
            for shown in ("hostile", "It <em>happened</em>", "Something happened.", "The id.", "Production.",
                          "An example.", "team-a", "hostile-bus"):
                assert shown in pages, (version, shown)


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example])
@given(document=hostile_documents())
def test_hostile_strings_in_any_field_render_without_traceback_or_executable_html(document: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        catalogue = _catalogue(Path(folder), document)
        if catalogue is None:
            return
        site = render_site(catalogue)
        assert page_problems(site.pages) == []
        # The other URL style changes only the links between generated pages: rendering it must not fail either.
        assert render_site(catalogue, Options(directory_urls=False)).pages.keys() == site.pages.keys()


@settings(max_examples=200, deadline=None)
@given(url=disguised_urls())
def test_a_generated_disguise_of_a_script_url_is_refused_or_harmless(url: str) -> None:
    allowed = safe_url(url)
    # Allowed only when no browser would read a scheme into it (``javascript%3A...`` is a relative path).
    assert allowed is None or (url_problem(allowed) is None and url_problem(html.unescape(allowed)) is None)


# ------------------------------------------------------------------------------- malformed schemas, directly

_KEYWORDS = st.sampled_from([
    "type", "properties", "items", "prefixItems", "pattern", "patternProperties", "additionalProperties", "enum",
    "const", "default", "examples", "example", "format", "allOf", "anyOf", "oneOf", "not", "$ref", "$defs",
    "required", "minimum", "maximum", "exclusiveMinimum", "minLength", "maxLength", "minItems", "maxItems",
    "title", "description", "discriminator", "nullable", "x-note"])
_SCALARS = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10)
            | st.sampled_from(["string", "object", "array", "integer", "number", "null", "#", "#/$defs/a", "((",
                               "[z-a]", "a{99999999}", "((a{64}){64}){64}", "date-time", "email"]))
malformed_schemas = st.recursive(
    _SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_KEYWORDS | st.text(max_size=5), inner,
                                                                          max_size=5),
    max_leaves=30)


@settings(max_examples=300, deadline=None)
@given(schema=malformed_schemas)
def test_a_schema_of_any_shape_gives_a_field_tree_and_a_bounded_example(schema: Any) -> None:
    tree = schema_tree(schema, "payload")
    assert tree.root.anchor == "payload"
    assert len(json.dumps(sample(schema), default=str)) < 100_000


@pytest.mark.parametrize("payload", [
    {"type": "object", "properties": True}, {"allOf": True}, {"type": [None]}, {"required": 5, "properties": []},
    {"type": "object", "properties": {"a": {"type": "string", "pattern": "(("}, "b": "not a schema"}},
    {"type": "string", "minLength": 1_000_000_000}, {"type": "string", "pattern": "a{99999999}"},
    {"type": "array", "items": {"type": "string"}, "minItems": 10**12},
], ids=repr)
def test_a_malformed_payload_schema_without_examples_renders(tmp_path: Path, payload: Any) -> None:
    document = base("2.6.0")
    document["components"]["messages"]["thing"]["payload"] = payload
    catalogue = _catalogue(tmp_path, document)
    assert catalogue is not None
    site = render_site(catalogue)
    assert page_problems(site.pages) == []
    assert max(len(page) for page in site.pages.values()) < 1_000_000


@pytest.mark.corpus
def test_the_shared_corpus_renders_with_nothing_a_browser_would_run() -> None:
    corpus = require_corpus()
    roots = [path for path in root_documents(corpus) if "/valid/" in path.as_posix()]
    site = render_site(ContractLoader().load(roots))
    assert len(site.pages) > 600 and page_problems(site.pages) == []


# ------------------------------------------------------------------------------------- the real tools, once


def _all_fields_hostile(document: Any, values: itertools.cycle, key: str | None = None) -> Any:  # type: ignore[type-arg]
    """``document`` with every string that is not :data:`STRUCTURAL` replaced by the next of ``values``."""
    if isinstance(document, dict):
        return {name: _all_fields_hostile(value, values, name) for name, value in document.items()}
    if isinstance(document, list):
        return [_all_fields_hostile(item, values, key) for item in document]
    if isinstance(document, str) and key not in STRUCTURAL:
        return next(values)
    return document


def _eventdeck(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "portal.cli.main", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300, check=False)


@pytest.mark.slow
def test_validate_docs_and_mkdocs_build_on_hostile_documents_end_without_traceback_or_executable_html(
        tmp_path: Path) -> None:
    values = itertools.cycle([*HOSTILE_URLS, *HOSTILE_TEXT])
    documents = {f"hostile-{version}.json": json.dumps(_all_fields_hostile(BASES[version], values))
                 for version in VERSIONS}
    documents["names.json"] = json.dumps(_hostile_names(BASES["3.0.0"]))
    config = project(tmp_path, documents)
    for args in (["validate", "asyncapi"], ["docs", "-f", str(config), "--docs-dir", str(tmp_path / "prerendered")]):
        result = _eventdeck(*args, cwd=tmp_path)
        assert "Traceback" not in result.stderr + result.stdout, (args, result.stderr[-3000:])
    pages = sorted((tmp_path / "prerendered").rglob("*.md"))
    assert pages and page_problems((str(p), p.read_text(encoding="utf-8")) for p in pages) == []
    build = subprocess.run([sys.executable, "-m", "mkdocs", "build", "-f", str(config), "-d", str(tmp_path / "site")],
                           cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False)
    assert "Traceback" not in build.stderr, build.stderr[-3000:]
    assert build.returncode == 0, build.stderr[-3000:]
    built = sorted((tmp_path / "site").rglob("*.html"))
    problems = []
    for page in built:
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        content = soup.find("article")
        if content is None:
            continue
        # The theme's own markup in the article: heading permalinks, the copy button, icons.
        problems += [f"{page}: {p}" for p in html_problems(str(content), allowed=ALLOWED_ELEMENTS | {"article",
                                                                                                      "button", "nav"})]
    assert len(built) > 5 and problems == []


def _hostile_names(document: dict[str, Any]) -> dict[str, Any]:
    """The 3.0 base with hostile message, operation, tag and property names and extension keys."""
    result = json.loads(json.dumps(document))
    message = result["components"]["messages"]["thing"]
    message["name"] = '"><img src=x onerror=alert(1)>.[x](javascript:alert(1)).{: onclick=alert(1)}'
    message["tags"][0]["name"] = "<script>alert(1)</script>"
    message["payload"]["properties"]['"><svg onload=alert(1)>'] = {"type": "string", "description": "[x](javascript:1)"}
    message['x-"><script>alert(1)</script>'] = "javascript:alert(1)"
    result["info"]["title"] = "javascript:alert(1) <b onmouseover=alert(1)>title</b>"
    return result
