"""The CloudEvents HTTP binding of an API destination target, shared by every infrastructure language.

The EventBridge event's ``detail`` *is* the CloudEvent (the producer puts the CloudEvent JSON as ``Detail``):

* structured mode sends it whole as the body (``InputPath: $.detail``) with ``application/cloudevents+json``;
* binary mode sends each attribute as a ``ce-`` header, taken from the event by JSON path (API destinations
  resolve ``$.detail.…`` in header values), and the data as the body: for a sealed event the token as text
  (an input transformer with a bare ``<data>`` template inserts a string unquoted), else the data JSON.
"""

from __future__ import annotations

from typing import Any, Final

from portal.kit.snippets.spec import Mode, SnippetSpec

__all__ = ["BINARY_HEADERS", "target_input"]

#: ``ce-`` headers of binary mode and the paths they come from; every eventdeck CloudEvent has each of them.
BINARY_HEADERS: Final = {
    "ce-specversion": "$.detail.specversion",
    "ce-id": "$.detail.id",
    "ce-source": "$.detail.source",
    "ce-type": "$.detail.type",
    "ce-time": "$.detail.time",
    "ce-dataschema": "$.detail.dataschema",
    "ce-idempotencykey": "$.detail.idempotencykey",
    "Content-Type": "$.detail.datacontenttype",
}


def target_input(spec: SnippetSpec, mode: Mode) -> dict[str, Any]:
    """The target's input settings in EventBridge API (and CloudFormation) spelling."""
    if mode is Mode.STRUCTURED:
        return {"InputPath": "$.detail",
                "HttpParameters": {"HeaderParameters": {"Content-Type": "application/cloudevents+json"}}}
    settings: dict[str, Any] = {"HttpParameters": {"HeaderParameters": dict(BINARY_HEADERS)}}
    if spec.sealed:
        settings["InputTransformer"] = {"InputPathsMap": {"data": "$.detail.data"}, "InputTemplate": "<data>"}
    else:
        settings["InputPath"] = "$.detail.data"
    return settings
