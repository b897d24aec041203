"""Rules on operations and message ids: every operation identified and described, no id used twice.

In AsyncAPI 3.x an operation's id is its key in ``operations`` and a message's id its key in ``messages``, unique
by construction, so the id rules apply to 2.x only (as in Spectral); the description rule applies to both.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..errors import Location
from .findings import LintSeverity
from .registry import rule
from .target import LintTarget

Findings = Iterator[tuple[str, Location]]


@rule("asyncapi-operation-operationId", LintSeverity.ERROR, "operations", "Operation must have \"operationId\" (2.x).",
      spectral=("asyncapi-operation-operationId",))
def operation_id(target: LintTarget) -> Findings:
    if target.major >= 3:
        return
    for name, op in target.operations():
        if not op.get("operationId"):
            yield f"operation {name} has no 'operationId' (code generators and docs name it by its id)", \
                target.where(op)


@rule("asyncapi-operation-operationId-uniqueness", LintSeverity.ERROR, "operations",
      "\"operationId\" must be unique across all the operations (2.x).",
      spectral=("asyncapi-operation-operationId-uniqueness",))
def operation_id_unique(target: LintTarget) -> Findings:
    if target.major >= 3:
        return
    seen: dict[str, str] = {}
    for name, op in target.operations():
        value = op.get("operationId")
        if not isinstance(value, str):
            continue
        if value in seen:
            yield f"operationId '{value}' of {name} is already used by {seen[value]}", \
                target.where(op, "operationId")
        else:
            seen[value] = name


@rule("asyncapi-operation-description", LintSeverity.WARN, "operations",
      "Operation \"description\" must be present and non-empty string.",
      spectral=("asyncapi-operation-description", "asyncapi-3-operation-description"))
def operation_description(target: LintTarget) -> Findings:
    for name, op in target.operations():
        if not op.get("description"):
            yield f"operation {name} has no 'description'", target.where(op)


def _message_id(message: dict[str, object]) -> tuple[str, tuple[str | int, ...]] | None:
    """The message's effective ``messageId``: the last trait's that sets one wins, as Spectral reads it."""
    traits = message.get("traits")
    if isinstance(traits, list):
        for index in range(len(traits) - 1, -1, -1):
            trait = traits[index]
            if isinstance(trait, dict) and isinstance(trait.get("messageId"), str):
                return trait["messageId"], ("traits", index, "messageId")
    value = message.get("messageId")
    return (value, ("messageId",)) if isinstance(value, str) else None


@rule("asyncapi-message-messageId-uniqueness", LintSeverity.ERROR, "operations",
      "\"messageId\" must be unique across all the messages (2.x).",
      spectral=("asyncapi-message-messageId-uniqueness",))
def message_id_unique(target: LintTarget) -> Findings:
    if target.major >= 3:
        return
    seen: set[str] = set()
    for message in target.messages():
        found = _message_id(message)
        if found is None:
            continue
        value, path = found
        if value in seen:
            yield f"messageId '{value}' is used by more than one message", target.where(message, *path)
        seen.add(value)
