"""Rules the contract loader already checks: its diagnostics, given a rule id and a severity.

Validity against the official AsyncAPI JSON Schema, ``$ref`` resolution, message examples against their schemas,
tag uniqueness, extension values against their JSON Schemas and event names are checked once, by the loader, for
every command; lint reports those diagnostics under its own rule ids rather than checking them a second time.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..errors import Diagnostic, Location
from .findings import LintSeverity
from .registry import rule
from .target import LintTarget

Findings = Iterator[tuple[str, Location]]
ERROR = LintSeverity.ERROR

#: Loader diagnostic code -> lint rule id. Codes not listed here belong to ``asyncapi-schema`` (the document is
#: not a valid AsyncAPI document), except those in :data:`NOT_REPORTED`.
RULE_OF_CODE = {
    "example-invalid": "asyncapi-message-examples",
    "tags-unique": "asyncapi-tags-uniqueness",
    "extension-invalid": "eventdeck-extensions",
    "name-missing": "eventdeck-event-name",
    "name-hierarchy": "eventdeck-event-name",
    "name-too-long": "eventdeck-event-name",
    "name-duplicate": "eventdeck-message-name-unique",
    "schema-format-unsupported": "asyncapi-payload-unsupported-schemaFormat",
}
#: ``schema-example-invalid`` is reported, with a better location, by ``asyncapi-payload-examples``.
NOT_REPORTED = frozenset({"schema-example-invalid"})


def _own(target: LintTarget) -> Iterator[Diagnostic]:
    files = set(target.document.files) | {target.path}
    yield from target.document.diagnostics
    yield from (d for d in target.catalogue.diagnostics if d.location.file in files)


def _mapped(target: LintTarget, rule_id: str) -> Findings:
    for diagnostic in _own(target):
        if diagnostic.code in NOT_REPORTED:
            continue
        if RULE_OF_CODE.get(diagnostic.code, "asyncapi-schema") == rule_id:
            location = diagnostic.location
            if not location.file:  # the official-schema check cannot always name the file of a root member
                location = target.at(location.pointer)
            yield diagnostic.message, location


@rule("asyncapi-schema", ERROR, "document",
      "The document is valid against the official AsyncAPI JSON Schema of its version, and every $ref resolves.",
      spectral=("asyncapi-schema", "asyncapi-3-document-resolved", "asyncapi-3-document-unresolved"))
def document_schema(target: LintTarget) -> Findings:
    yield from _mapped(target, "asyncapi-schema")


@rule("asyncapi-message-examples", ERROR, "document",
      "Message examples must be valid against the message's payload and headers schemas.",
      spectral=("asyncapi-message-examples",))
def message_examples(target: LintTarget) -> Findings:
    yield from _mapped(target, "asyncapi-message-examples")


@rule("asyncapi-tags-uniqueness", ERROR, "document", "Each tag of a tags list must have a unique name.",
      spectral=("asyncapi-tags-uniqueness", "asyncapi-3-tags-uniqueness"))
def tags_unique(target: LintTarget) -> Findings:
    yield from _mapped(target, "asyncapi-tags-uniqueness")


@rule("asyncapi-payload-unsupported-schemaFormat", LintSeverity.INFO, "document",
      "Payloads in a schema format other than JSON Schema are documented, not validated.",
      spectral=("asyncapi-payload-unsupported-schemaFormat", "asyncapi-3-payload-unsupported-schemaFormat"))
def unsupported_schema_format(target: LintTarget) -> Findings:
    yield from _mapped(target, "asyncapi-payload-unsupported-schemaFormat")


@rule("eventdeck-event-name", ERROR, "house",
      "Every message has a name of the form {Entity}.{Event}.{Metadata}: PascalCase parts joined by dots.")
def event_name(target: LintTarget) -> Findings:
    yield from _mapped(target, "eventdeck-event-name")


@rule("eventdeck-message-name-unique", ERROR, "house",
      "An event name is used by one message only, across every document of the catalogue.")
def message_name_unique(target: LintTarget) -> Findings:
    yield from _mapped(target, "eventdeck-message-name-unique")
