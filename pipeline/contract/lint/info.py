"""Rules on the document as a whole: who to contact, what it is, under which licence, its tags and servers.

The ground of Spectral's ``spectral:asyncapi`` rules of the same ids, for AsyncAPI 2.x and 3.x alike (3.x keeps
its tags under ``info``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..errors import Location
from .findings import LintSeverity
from .registry import rule
from .target import LintTarget

WARN = LintSeverity.WARN
Findings = Iterator[tuple[str, Location]]


def _info(target: LintTarget) -> dict[str, Any]:
    return target.mapping("info")


@rule("asyncapi-info-contact", WARN, "info", "Info object must have a \"contact\" object.",
      spectral=("asyncapi-info-contact",))
def info_contact(target: LintTarget) -> Findings:
    if not _info(target).get("contact"):
        yield "info has no 'contact' (name, url and email of the team that owns the events)", target.at("/info")


@rule("asyncapi-info-contact-properties", WARN, "info", "Contact object must have \"name\", \"url\" and \"email\".",
      spectral=("asyncapi-info-contact-properties",))
def info_contact_properties(target: LintTarget) -> Findings:
    contact = _info(target).get("contact")
    if not isinstance(contact, dict):
        return
    for member in ("name", "url", "email"):
        if not contact.get(member):
            yield f"info.contact has no '{member}'", target.where(contact)


@rule("asyncapi-info-description", WARN, "info", "Info \"description\" must be present and non-empty string.",
      spectral=("asyncapi-info-description",))
def info_description(target: LintTarget) -> Findings:
    if not _info(target).get("description"):
        yield "info has no 'description' (what the events are, for whom)", target.at("/info")


@rule("asyncapi-info-license", WARN, "info", "Info object must have a \"license\" object.",
      spectral=("asyncapi-info-license",))
def info_license(target: LintTarget) -> Findings:
    if not _info(target).get("license"):
        yield "info has no 'license'", target.at("/info")


@rule("asyncapi-info-license-url", WARN, "info", "License object must include \"url\".",
      spectral=("asyncapi-info-license-url",))
def info_license_url(target: LintTarget) -> Findings:
    licence = _info(target).get("license")
    if not (isinstance(licence, dict) and licence.get("url")):
        yield "info.license has no 'url'", target.at("/info/license" if licence else "/info")


def _root_tags(target: LintTarget) -> tuple[Any, str]:
    return (target.member("info", "tags"), "/info/tags") if target.major >= 3 else (target.member("tags"), "/tags")


@rule("asyncapi-tags", WARN, "info", "The document must have a non-empty \"tags\" array (3.x: under info).",
      spectral=("asyncapi-tags", "asyncapi-3-tags"))
def tags(target: LintTarget) -> Findings:
    value, pointer = _root_tags(target)
    if not value:
        yield f"the document has no tags at '{pointer}' (consumers browse events by tag)", \
            target.at("/info" if target.major >= 3 else "")


@rule("asyncapi-tag-description", WARN, "info", "Tag objects of the document must have a \"description\".",
      spectral=("asyncapi-tag-description", "asyncapi-3-tag-description"))
def tag_description(target: LintTarget) -> Findings:
    value, _ = _root_tags(target)
    for index, tag in enumerate(value if isinstance(value, list) else []):
        if isinstance(tag, dict) and not tag.get("description"):
            yield f"tag '{tag.get('name')}' has no 'description'", target.where(value, index)


@rule("asyncapi-servers", WARN, "info", "The document must have a non-empty \"servers\" object.",
      spectral=("asyncapi-servers",))
def servers(target: LintTarget) -> Findings:
    value = target.member("servers")
    if not (isinstance(value, dict) and value):
        yield "the document has no servers (where are the events published?)", target.at("/servers" if value else "")
