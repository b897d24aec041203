"""A URL a document supplies becomes a link only through ``portal.render.urls.safe_url`` (http, https, mailto and
same-site relative references); anything else is shown as inert text.

The rule on its own (every disguise of ``javascript:``, ``data:``, ``vbscript:``, ``file:``, network-path
references), the places that use it (the templates' ``link`` and ``email`` filters, nh3 for descriptions, the
Backstage entities), a rule held by reading the templates (no ``href`` or Markdown link from anything but a
generated page or a checked URL), and the whole catalogue: every URL-bearing field of the official AsyncAPI 2.6,
3.0 and 3.1 JSON Schemas, found by walking the schemas, gets hostile values and the rendered pages are checked
by :mod:`hostile`, which parses them as a browser would.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
from hostile import HOSTILE_TEXT, HOSTILE_URLS, html_problems, markdown_html, page_problems

from conftest import ROOT
from pipeline.contract import ContractLoader, specs
from portal.backstage.entities import DefinitionFiles, document_api
from portal.render import markup as markup_module
from portal.render import render_site
from portal.render.markup import description_html, email_html, link_html
from portal.render.urls import ALLOWED_SCHEMES, email_url, safe_url

# ------------------------------------------------------------------------------------------------ the rule


@pytest.mark.parametrize("url", [
    "https://example.com/a?b=1&c=2#d", "http://example.com", "HTTPS://Example.COM/", "mailto:team@example.com",
    "https://例え.jp/パス", "page.html", "../up/page/", "/from/the/root", "#fragment", "?query=1",
    "https://example.com/?a=1&amp;b=2",
])
def test_http_https_mailto_and_relative_references_are_links(url: str) -> None:
    assert safe_url(url) == url


def test_surrounding_whitespace_and_controls_are_trimmed_as_browsers_do() -> None:
    assert safe_url("  https://example.com/\n") == "https://example.com/"


@pytest.mark.parametrize("url", HOSTILE_URLS, ids=repr)
def test_every_disguise_of_another_scheme_and_network_paths_are_refused(url: str) -> None:
    assert safe_url(url) is None


@pytest.mark.parametrize("url", [
    "https:evil.example", "https:///path", "http://", "https:\\\\evil.example", "mailto:", "ftp://example.com/",
    "https://example.com/\u202egnp.exe", "https://exa\u200bmple.com/", "https://example.com/a b", "",
    " ", "\x00", "&amp;&#35;106;avascript:alert(1)",
], ids=repr)
def test_odd_forms_are_refused(url: str) -> None:
    assert safe_url(url) is None


@pytest.mark.parametrize("value", [None, 5, 1.5, True, ["https://example.com"], {"url": "https://example.com"}])
def test_a_value_that_is_not_a_string_is_never_a_link(value: object) -> None:
    assert safe_url(value) is None


def test_relative_references_are_refused_where_no_page_resolves_them() -> None:
    assert safe_url("docs/page.html", relative=False) is None
    assert safe_url("https://example.com/", relative=False) == "https://example.com/"


def test_an_email_address_becomes_a_mailto_url_that_cannot_add_headers() -> None:
    assert email_url("team@example.com") == "mailto:team@example.com"
    assert email_url("a@example.com?bcc=all@example.com&body=x") == \
        "mailto:a@example.com%3Fbcc=all@example.com%26body=x"
    for not_an_address in ("img src=x onerror=alert(1)", "javascript:alert(1)", "a@", "@b", "a @b.c", None, 3):
        assert email_url(not_an_address) is None, not_an_address


def test_descriptions_and_every_other_url_share_one_allow_list() -> None:
    assert markup_module.URL_SCHEMES is ALLOWED_SCHEMES == {"http", "https", "mailto"}


# ------------------------------------------------------------------------------------------ where it is used


@pytest.mark.parametrize("url", [*HOSTILE_URLS, *HOSTILE_TEXT], ids=repr)
def test_a_refused_url_is_inert_text_in_markdown_and_in_raw_html(url: str) -> None:
    for rendered in (link_html(url), link_html(url, "the label"), email_html(url)):
        assert "<a " not in rendered or safe_url(url) is not None
        for page in (f"| a | b |\n|---|---|\n| x | {rendered} |\n", f"text {rendered} text\n",
                     f"<div>{rendered}</div>\n"):
            assert html_problems(markdown_html(page)) == [], page


def test_an_allowed_url_is_a_link_with_its_label() -> None:
    assert link_html("https://example.com/a?b=1&c=2", "Docs") == \
        '<a href="https://example.com/a?b=1&amp;c=2" rel="noopener noreferrer">Docs</a>'
    assert link_html("javascript:alert(1)", "Docs") == 'Docs (<code class="ed-url">javascript:alert(1)</code>)'
    assert email_html("team@example.com") == '<a href="mailto:team@example.com">team@example.com</a>'


@pytest.mark.parametrize("url", HOSTILE_URLS, ids=repr)
def test_a_link_in_a_description_with_a_refused_url_loses_its_href(url: str) -> None:
    for text in (f"[click]({url})", f"[click](<{url}>)", f'<a href="{url}">click</a>', f"[click][r]\n\n[r]: {url}",
                 f"<{url}>", f"![x]({url})"):
        html = description_html(text)
        assert html_problems(markdown_html(f"<div>\n{html}\n</div>\n")) == [], (text, html)
        assert html_problems(markdown_html(f"| a |\n|---|\n| {html} |\n")) == [], (text, html)


def test_a_link_in_a_description_with_an_allowed_url_is_kept() -> None:
    html = description_html("See [the docs](https://example.com/docs) and [a page](other.html).")
    assert 'href="https://example.com/docs"' in html and 'href="other.html"' in html


def test_backstage_entity_links_take_only_absolute_allowed_urls(tmp_path: Path) -> None:
    for url, expected in (("javascript:alert(1)", None), ("//evil.example/x", None), ("team.html", None),
                          ("https://example.com/team", "https://example.com/team")):
        document = _load(tmp_path, _with(base_2(), "/info/contact/url", url)).documents[0]
        links = document_api(document, tmp_path, DefinitionFiles(tmp_path)).get("metadata", {}).get("links", [])
        assert [link["url"] for link in links] == ([expected] if expected else []), url


# --------------------------------------------------------------------------------- a rule held by the templates

TEMPLATES = ROOT / "portal" / "render" / "templates"
#: Template expressions that hold a link between generated pages (computed from the site's paths by the views).
INTERNAL_LINKS = frozenset({"row.href", "row.domain_href", "placed.node.href", "home", "domains", "link", "registry",
                            "field_mapping", "group.link", "links.domains", "links.tags", "links.registry",
                            "links.field_mapping", "links.subscribe", "row.link", "view.home",
                            "view.subscribe_link"})
_ATTRIBUTE = re.compile(r'\b(?:href|src|xlink:href|action|formaction|srcset|poster)\s*=\s*"([^"]*)"')
_MARKDOWN_LINK = re.compile(r"\]\(([^)]*)\)")
_EXPRESSION = re.compile(r"^\{\{\s*(.+?)\s*\}\}$")


def _internal(target: str) -> bool:
    """A link target a template may write: a literal (an anchor, an https constant), an anchor of a generated id,
    a generated page's link (``|url`` or one of :data:`INTERNAL_LINKS`)."""
    if "{{" not in target:
        return target.startswith(("#", "https://"))
    if target.startswith("#"):
        return True  # an anchor on the same page
    found = _EXPRESSION.match(target)
    if found is None:
        return False
    expression = found.group(1)
    return expression.endswith("|url") or expression in INTERNAL_LINKS


def test_templates_write_a_link_only_to_a_generated_page_or_through_the_link_filter() -> None:
    offenders = []
    for path in sorted(TEMPLATES.glob("*.j2")):
        text = path.read_text(encoding="utf-8")
        for pattern in (_ATTRIBUTE, _MARKDOWN_LINK):
            for found in pattern.finditer(text):
                if not _internal(found.group(1)):
                    line = text.count("\n", 0, found.start()) + 1
                    offenders.append(f"{path.name}:{line}: {found.group(0)}")
        for found in re.finditer(r"<\{\{", text):
            offenders.append(f"{path.name}:{text.count(chr(10), 0, found.start()) + 1}: autolink of a value")
    assert offenders == [], "use the link or email filter for a document's URL:\n" + "\n".join(offenders)


def test_the_template_rule_finds_a_document_url_written_as_a_link() -> None:
    assert not _internal('{{ d.info.contact.get("url") }}') and not _internal("{{ view.document.url }}")
    assert _internal("{{ link|url }}") and _internal("#{{ node.anchor }}") and _internal("https://cloudevents.io/")


# ----------------------------------------------------------- every URL field of the official AsyncAPI schemas

VERSIONS = ("2.6.0", "3.0.0", "3.1.0")
URL_FORMATS = frozenset({"uri", "uri-reference", "iri", "iri-reference", "uri-template", "email", "idn-email"})
#: Names of string properties that hold a URL or an address even where the schema gives no ``format``.
URL_NAME = re.compile(r"(?i)(?:^|[a-z])(?:url|uri)$|href|link|host$|pathname|termsofservice|email|^\$?id$|^\$ref$"
                      r"|^\$schema$")
_VERSION = re.compile(r"/\d+\.\d+\.\d+/")


def url_fields(version: str) -> set[tuple[str, str]]:
    """Every ``(definition, property)`` of AsyncAPI ``version``'s official schema that holds a URL: a string
    property with a URI or e-mail ``format``, or named like one (``url``, ``host``, ``x-linkedin``...). Definition
    names are version-free (``definitions/contact.json``, ``bindings/kafka/server.json``); a definition nested in
    another is ``outer#inner``."""
    schema = specs.official_schema(version, specs.settings_from_environment())
    found: set[tuple[str, str]] = set()

    def walk(node: Any, where: str) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item, where)
            return
        if not isinstance(node, dict):
            return
        properties = node.get("properties")
        if isinstance(properties, dict):
            for name, sub in properties.items():
                if not isinstance(sub, dict):
                    continue
                kind = sub.get("type")
                stringy = kind in ("string", None) or (isinstance(kind, list) and "string" in kind)
                if stringy and (sub.get("format") in URL_FORMATS or URL_NAME.search(name)):
                    found.add((where, name))
        for key, value in node.items():
            if key == "definitions" and isinstance(value, dict):
                for name, definition in value.items():
                    inner = _VERSION.sub("/", name.replace("http://asyncapi.com/", "")) if "/" in name \
                        else f"{where}#{name}"
                    walk(definition, inner)
            elif key == "properties" and isinstance(value, dict):
                for sub in value.values():
                    walk(sub, where)
            else:
                walk(value, where)

    walk(schema, "root")
    return found


OK = "https://ok.example"


def _docs() -> dict[str, str]:
    return {"url": f"{OK}/docs"}


def _payload() -> dict[str, Any]:
    return {"$id": f"{OK}/schemas/thing", "$schema": "http://json-schema.org/draft-07/schema#", "type": "object",
            "externalDocs": _docs(),
            "properties": {"id": {"type": "string"}, "linked": {"$ref": "#/components/schemas/Linked"}}}


def _openapi_payload() -> dict[str, Any]:
    return {"type": "object", "externalDocs": _docs(),
            "properties": {"a": {"type": "string", "xml": {"namespace": f"{OK}/ns"}}}}


def _security() -> dict[str, Any]:
    return {"oidc": {"type": "openIdConnect", "openIdConnectUrl": f"{OK}/.well-known/openid-configuration"}}


def _info() -> dict[str, Any]:
    return {"title": "Hostile", "version": "1.0.0", "termsOfService": f"{OK}/terms",
            "contact": {"name": "Team", "url": f"{OK}/team", "email": "team@ok.example"},
            "license": {"name": "MIT", "url": f"{OK}/licence"}}


def base_2() -> dict[str, Any]:
    """A valid AsyncAPI 2.6 document with every URL-bearing field the 2.6 schema has, each with a harmless URL."""
    return {
        "asyncapi": "2.6.0", "id": "urn:example:hostile", "info": _info(),
        "servers": {"production": {"url": "broker.ok.example:9092", "protocol": "kafka"}},
        "externalDocs": _docs(), "tags": [{"name": "shop", "externalDocs": _docs()}],
        "channels": {
            "things": {"bindings": {"amqp": {"is": "routingKey"}},
                       "subscribe": {"operationId": "sendThing", "externalDocs": _docs(),
                                     "bindings": {"kafka": {"bindingVersion": "0.4.0"}},
                                     "message": {"$ref": "#/components/messages/thing"}}},
            "others": {"publish": {"operationId": "receiveOther", "message": {"$ref": "#/components/messages/other"}}},
        },
        "components": {
            "messages": {
                "thing": {"name": "Thing.Happened.Uk", "externalDocs": _docs(),
                          "tags": [{"name": "thing", "externalDocs": _docs()}], "payload": _payload(),
                          "bindings": {"http": {"bindingVersion": "0.3.0"}}},
                "other": {"name": "Other.Thing.Happened", "schemaFormat": "application/vnd.oai.openapi;version=3.0.0",
                          "payload": _openapi_payload()},
            },
            "schemas": {"Linked": {"type": "string"}},
            "securitySchemes": {"oauth": {"type": "oauth2", "flows": {
                "implicit": {"authorizationUrl": f"{OK}/authorize", "scopes": {}},
                "authorizationCode": {"authorizationUrl": f"{OK}/authorize", "tokenUrl": f"{OK}/token",
                                      "refreshUrl": f"{OK}/refresh", "scopes": {}}}}, **_security()},
        },
    }


def base_3(version: str = "3.0.0") -> dict[str, Any]:
    """A valid AsyncAPI 3.x document with every URL-bearing field the 3.x schemas have (bindings included)."""
    return {
        "asyncapi": version, "id": "urn:example:hostile",
        "info": {**_info(), "tags": [{"name": "shop", "externalDocs": _docs()}], "externalDocs": _docs(),
                 "x-linkedin": "https://www.linkedin.com/company/ok"},
        "servers": {"production": {
            "host": "broker.ok.example:9092", "pathname": "/v1", "protocol": "kafka", "externalDocs": _docs(),
            "bindings": {"kafka": {"schemaRegistryUrl": f"{OK}/registry", "bindingVersion": "0.5.0"}}}},
        "channels": {
            "things": {"address": "things", "externalDocs": _docs(),
                       "messages": {"thing": {"$ref": "#/components/messages/thing"}},
                       "bindings": {"amqp": {"is": "routingKey", "exchange": {"name": "x", "vhost": "/ok"},
                                             "bindingVersion": "0.3.0"}}},
            "others": {"address": "others", "messages": {"other": {"$ref": "#/components/messages/other"}}},
        },
        "operations": {
            "sendThing": {"action": "send", "channel": {"$ref": "#/channels/things"}, "externalDocs": _docs(),
                          "bindings": {"sns": {"consumers": [{"protocol": "https", "rawMessageDelivery": False,
                                                              "endpoint": {"url": f"{OK}/hook",
                                                                           "email": "hook@ok.example"}}],
                                               "bindingVersion": "0.1.0"},
                                       "kafka": {"bindingVersion": "0.5.0"}}},
            "receiveOther": {"action": "receive", "channel": {"$ref": "#/channels/others"},
                             "bindings": {"sqs": {"queues": [{"name": "q", "fifoQueue": False}],
                                                  "bindingVersion": "0.2.0"}}},
        },
        "components": {
            "messages": {
                "thing": {"name": "Thing.Happened.Uk", "externalDocs": _docs(),
                          "tags": [{"name": "thing", "externalDocs": _docs()}], "payload": _payload(),
                          "bindings": {"http": {"bindingVersion": "0.3.0"}}},
                "other": {"name": "Other.Thing.Happened", "payload": {
                    "schemaFormat": "application/vnd.oai.openapi;version=3.0.0", "schema": _openapi_payload()}},
            },
            "schemas": {"Linked": {"type": "string"}},
            "securitySchemes": {"oauth": {"type": "oauth2", "flows": {
                "implicit": {"authorizationUrl": f"{OK}/authorize", "availableScopes": {}},
                "authorizationCode": {"authorizationUrl": f"{OK}/authorize", "tokenUrl": f"{OK}/token",
                                      "refreshUrl": f"{OK}/refresh", "availableScopes": {}}}}, **_security()},
        },
    }


def base(version: str) -> dict[str, Any]:
    return base_2() if version.startswith("2.") else base_3(version)


_FLOW = "/components/securitySchemes/oauth/flows"
_MESSAGE_2 = "/components/messages/thing"
#: Where each URL field of the schemas is in the base documents: every place a document can put it.
PLACES_2: dict[tuple[str, str], tuple[str, ...]] = {
    ("root", "id"): ("/id",),
    ("definitions/info.json", "termsOfService"): ("/info/termsOfService",),
    ("definitions/contact.json", "url"): ("/info/contact/url",),
    ("definitions/contact.json", "email"): ("/info/contact/email",),
    ("definitions/license.json", "url"): ("/info/license/url",),
    ("definitions/externalDocs.json", "url"): (
        "/externalDocs/url", "/tags/0/externalDocs/url", "/channels/things/subscribe/externalDocs/url",
        f"{_MESSAGE_2}/externalDocs/url", f"{_MESSAGE_2}/tags/0/externalDocs/url",
        f"{_MESSAGE_2}/payload/externalDocs/url"),
    ("definitions/openapiSchema_3_0.json#ExternalDocumentation", "url"): (
        "/components/messages/other/payload/externalDocs/url",),
    ("definitions/openapiSchema_3_0.json#XML", "namespace"): (
        "/components/messages/other/payload/properties/a/xml/namespace",),
    ("definitions/oauth2Flow.json", "authorizationUrl"): (f"{_FLOW}/implicit/authorizationUrl",
                                                         f"{_FLOW}/authorizationCode/authorizationUrl"),
    ("definitions/oauth2Flow.json", "tokenUrl"): (f"{_FLOW}/authorizationCode/tokenUrl",),
    ("definitions/oauth2Flow.json", "refreshUrl"): (f"{_FLOW}/authorizationCode/refreshUrl",),
    ("definitions/openIdConnect.json", "openIdConnectUrl"): ("/components/securitySchemes/oidc/openIdConnectUrl",),
    ("definitions/server.json", "url"): ("/servers/production/url",),
    ("http://json-schema.org/draft-07/schema", "$id"): (f"{_MESSAGE_2}/payload/$id",),
    ("http://json-schema.org/draft-07/schema", "$schema"): (f"{_MESSAGE_2}/payload/$schema",),
    ("http://json-schema.org/draft-07/schema", "$ref"): (f"{_MESSAGE_2}/payload/properties/linked/$ref",),
    ("definitions/Reference.json", "$ref"): ("/channels/things/subscribe/message/$ref",),
    ("definitions/channelItem.json", "$ref"): ("/channels/things/$ref",),
}
_MESSAGE_3 = "/components/messages/thing"
PLACES_3: dict[tuple[str, str], tuple[str, ...]] = {
    **{key: PLACES_2[key] for key in (
        ("root", "id"), ("definitions/info.json", "termsOfService"), ("definitions/contact.json", "url"),
        ("definitions/contact.json", "email"), ("definitions/license.json", "url"),
        ("definitions/oauth2Flow.json", "authorizationUrl"), ("definitions/oauth2Flow.json", "tokenUrl"),
        ("definitions/oauth2Flow.json", "refreshUrl"), ("definitions/openIdConnect.json", "openIdConnectUrl"),
        ("http://json-schema.org/draft-07/schema", "$id"), ("http://json-schema.org/draft-07/schema", "$schema"),
        ("http://json-schema.org/draft-07/schema", "$ref"))},
    ("definitions/externalDocs.json", "url"): (
        "/info/externalDocs/url", "/info/tags/0/externalDocs/url", "/servers/production/externalDocs/url",
        "/channels/things/externalDocs/url", "/operations/sendThing/externalDocs/url",
        f"{_MESSAGE_3}/externalDocs/url", f"{_MESSAGE_3}/tags/0/externalDocs/url",
        f"{_MESSAGE_3}/payload/externalDocs/url"),
    ("definitions/openapiSchema_3_0.json#ExternalDocumentation", "url"): (
        "/components/messages/other/payload/schema/externalDocs/url",),
    ("definitions/openapiSchema_3_0.json#XML", "namespace"): (
        "/components/messages/other/payload/schema/properties/a/xml/namespace",),
    ("definitions/infoExtensions.json", "x-linkedin"): ("/info/x-linkedin",),
    ("definitions/server.json", "host"): ("/servers/production/host",),
    ("definitions/server.json", "pathname"): ("/servers/production/pathname",),
    ("definitions/Reference.json", "$ref"): ("/channels/things/messages/thing/$ref",),
    ("bindings/kafka/server.json", "schemaRegistryUrl"): (
        "/servers/production/bindings/kafka/schemaRegistryUrl",),
    ("bindings/amqp/channel.json", "vhost"): ("/channels/things/bindings/amqp/exchange/vhost",),
    ("bindings/sns/operation.json#identifier", "url"): (
        "/operations/sendThing/bindings/sns/consumers/0/endpoint/url",),
    ("bindings/sns/operation.json#identifier", "email"): (
        "/operations/sendThing/bindings/sns/consumers/0/endpoint/email",),
    ("bindings/sqs/operation.json#queue", "$ref"): ("/operations/receiveOther/bindings/sqs/queues/0/$ref",),
}
PLACES = {"2.6.0": PLACES_2, "3.0.0": PLACES_3, "3.1.0": PLACES_3}
#: Where a document can put any URL the schemas do not name: extensions and bindings at every level (shown as JSON).
FREE_PLACES_2 = ("/x-docs", "/info/x-home", f"{_MESSAGE_2}/x-runbook", f"{_MESSAGE_2}/bindings/http/x-link",
                 "/channels/things/x-wiki", "/channels/things/subscribe/x-dashboard",
                 "/channels/things/subscribe/bindings/kafka/x-url", "/channels/things/bindings/amqp/x-url",
                 "/servers/production/x-console")
FREE_PLACES_3 = ("/x-docs", "/info/x-home", f"{_MESSAGE_3}/x-runbook", f"{_MESSAGE_3}/bindings/http/x-link",
                 "/channels/things/x-wiki", "/operations/sendThing/x-dashboard",
                 "/operations/sendThing/bindings/kafka/x-url", "/channels/things/bindings/amqp/x-url",
                 "/servers/production/x-console")


def _with(document: dict[str, Any], pointer: str, value: object) -> dict[str, Any]:
    """``document`` (a copy) with ``value`` at ``pointer``; the parent must exist, the last key may be new."""
    result = copy.deepcopy(document)
    *parents, last = [part.replace("~1", "/").replace("~0", "~") for part in pointer.split("/")[1:]]
    node: Any = result
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    node[int(last) if isinstance(node, list) else last] = value
    return result


_LOADER = ContractLoader(workers=1)


def _load(folder: Path, *documents: dict[str, Any]):  # type: ignore[no-untyped-def]
    paths = []
    for n, document in enumerate(documents):
        path = folder / f"hostile-{n}.json"
        path.write_text(json.dumps(document), encoding="utf-8")
        paths.append(path)
    return _LOADER.load(paths)


def _rendered_problems(folder: Path, *documents: dict[str, Any]) -> tuple[list[str], str]:
    """The executable constructs in the catalogue of ``documents``, and its pages' text."""
    catalogue = _load(folder, *documents)
    assert len(catalogue.documents) == len(documents)
    site = render_site(catalogue)
    return page_problems(site.pages), "\n".join(site.pages.values())


@pytest.mark.parametrize("version", VERSIONS)
def test_every_url_field_of_the_official_schema_has_a_place_in_the_hostile_documents(version: str) -> None:
    # A new field in a new schema version fails here until it is given a place (and so a hostile value).
    assert url_fields(version) == set(PLACES[version])


@pytest.mark.parametrize("version", VERSIONS)
def test_every_place_exists_in_the_valid_base_document(tmp_path: Path, version: str) -> None:
    document = base(version)
    for places in PLACES[version].values():
        for pointer in places:
            _with(document, pointer, "probe")  # raises if the parent is missing
    catalogue = _load(tmp_path, document)
    assert catalogue.errors == ()
    assert {e.name for e in catalogue.events} == {"Thing.Happened.Uk", "Other.Thing.Happened"}


FIELD_CASES = [(version, key) for version in VERSIONS for key in sorted(PLACES[version])]


@pytest.mark.parametrize(("version", "key"), FIELD_CASES, ids=[f"{v}-{d}.{p}" for v, (d, p) in FIELD_CASES])
def test_a_hostile_url_in_each_url_field_is_never_a_link(tmp_path: Path, version: str, key: tuple[str, str]) -> None:
    documents = []
    for value in ("javascript:alert(document.domain)", "&#106;avascript:alert(1)", "//evil.example/x",
                  '"><script>alert(1)</script>'):
        document = base(version)
        for pointer in PLACES[version][key]:
            document = _with(document, pointer, value)
        documents.append(document)
    problems, _ = _rendered_problems(tmp_path, *documents)
    assert problems == []


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("value", [*HOSTILE_URLS, *HOSTILE_TEXT], ids=repr)
def test_every_disguise_in_every_url_field_extension_and_binding_at_once_is_never_a_link(
        tmp_path: Path, version: str, value: str) -> None:
    document = base(version)
    refs = {key for key in PLACES[version] if key[1] == "$ref"}  # a broken $ref would hide the message's fields
    for key, places in PLACES[version].items():
        if key not in refs:
            for pointer in places:
                document = _with(document, pointer, value)
    for pointer in FREE_PLACES_2 if version.startswith("2.") else FREE_PLACES_3:
        document = _with(document, pointer, value)
    problems, _ = _rendered_problems(tmp_path, document)
    assert problems == []


def test_the_issue_example_validates_and_is_shown_as_text_on_the_domain_page(tmp_path: Path) -> None:
    url = "javascript:alert(document.domain)"
    catalogue = _load(tmp_path, _with(base_2(), "/info/contact/url", url))
    assert catalogue.errors == ()  # valid: only the catalogue stands between this URL and a reader
    page = render_site(catalogue).pages["events/domains/hostile-0.md"]
    assert f'<code class="ed-url">{url}</code>' in page and "href=\"javascript" not in page
    assert page_problems({"domain": page}) == []


def test_contact_and_licence_urls_that_are_allowed_are_links(tmp_path: Path) -> None:
    page = render_site(_load(tmp_path, base_2())).pages["events/domains/hostile-0.md"]
    assert f'<a href="{OK}/team" rel="noopener noreferrer">{OK}/team</a>' in page
    assert f'<a href="{OK}/licence" rel="noopener noreferrer">MIT</a>' in page
    assert '<a href="mailto:team@ok.example">team@ok.example</a>' in page


def test_urls_in_extensions_and_bindings_are_shown_as_code(tmp_path: Path) -> None:
    document = base_3()
    for pointer in FREE_PLACES_3:
        document = _with(document, pointer, "https://shown.example/as-code")
    site = render_site(_load(tmp_path, document))
    pages = "\n".join(site.pages.values())
    assert "https://shown.example/as-code" in pages
    assert 'href="https://shown.example' not in pages
