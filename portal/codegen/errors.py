"""What can go wrong when eventdeck generates payload models, each naming the event and where its schema is.

A generator that cannot model a schema must say so: Modelina's failure the contract-tooling issue cites — no models
at all, exit 0 — is exactly what these exceptions exist to prevent. The CLI turns each into one line.
"""

from __future__ import annotations

from pipeline.contract import Location
from pipeline.errors import EventdeckError


class CodegenError(EventdeckError):
    """The models of one event cannot be generated. ``event`` is its name, ``location`` where its payload schema
    is defined (file, line, JSON pointer)."""

    def __init__(self, event: str, location: Location | None, reason: str) -> None:
        self.event = event
        self.location = location
        self.reason = reason
        where = f"{location}: " if location is not None else ""
        super().__init__(f"{where}{event}: {reason}")


class UnsupportedSchema(CodegenError):
    """The event has no payload eventdeck can generate models from: no payload, a payload in another schema
    format (Avro, RAML, …), or a ``$ref`` that leaves the bundled schema."""


class GeneratorFailed(CodegenError):
    """datamodel-code-generator refused the schema (its reason is in the message)."""


class EmptyModels(CodegenError):
    """The generator wrote no model for the payload's root: refused rather than written as an empty module."""


class UnsafeGeneratedCode(CodegenError):
    """The generated module holds a construct a declaration of models never needs (a function, an import of
    another module, an expression with effects): refused, so a hostile schema can never make a consumer's import
    run code."""
