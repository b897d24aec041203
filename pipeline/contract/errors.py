"""Where a contract problem is, how bad it is, and the one exception family that carries it.

Every problem eventdeck finds in an AsyncAPI document is a :class:`Diagnostic` with a :class:`Location` (file,
line/column where known, JSON pointer). The loader collects diagnostics instead of stopping at the first one; it
raises a :class:`ContractError` only for what cannot be modelled at all (unreadable YAML, an alias bomb, an unknown
``asyncapi`` version), or — in strict mode — when any error-level diagnostic was found.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from pipeline.errors import EventdeckError


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True, slots=True)
class Location:
    """A place in a source document: file (path or URL), JSON pointer, and 1-based line/column when known."""

    file: str
    pointer: str = ""
    line: int | None = None
    column: int | None = None

    def child(self, *tokens: str | int) -> Location:
        """The location of a descendant (line/column are filled in later by whoever knows the source)."""
        pointer = self.pointer
        for token in tokens:
            pointer += "/" + str(token).replace("~", "~0").replace("/", "~1")
        return Location(self.file, pointer)

    def __str__(self) -> str:
        where = _display_path(self.file)
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        if self.pointer:
            where += f" (#{self.pointer})"
        return where


def _display_path(file: str) -> str:
    """Paths relative to the working directory read better in a terminal; URLs stay as they are."""
    if "://" in file:
        return file
    try:
        return str(Path(file).resolve().relative_to(Path.cwd()))
    except ValueError:
        return file


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem: a stable ``code`` for machines, a ``message`` that says what was expected, and where."""

    severity: Severity
    code: str
    message: str
    location: Location

    def __str__(self) -> str:
        return f"{self.location}: {self.severity.value}: {self.message} [{self.code}]"

    def to_dict(self) -> dict[str, object]:
        return {
            "severity": self.severity.value,
            "code": self.code,
            "message": self.message,
            "file": self.location.file,
            "line": self.location.line,
            "column": self.location.column,
            "pointer": self.location.pointer,
        }


class ContractError(EventdeckError):
    """Base of every contract failure. ``diagnostics`` holds all problems found, never only the first."""

    code = "contract"

    def __init__(self, message: str, location: Location | None = None,
                 diagnostics: Iterable[Diagnostic] = ()) -> None:
        self.location = location
        found = tuple(diagnostics)
        if not found and location is not None:
            found = (Diagnostic(Severity.ERROR, self.code, message, location),)
        self.diagnostics: tuple[Diagnostic, ...] = found
        self.message = message
        super().__init__(f"{location}: {message}" if location is not None else message)

    def __reduce__(self) -> tuple[object, ...]:
        # Keep location and diagnostics when an error crosses a process boundary (parallel loading).
        return (self.__class__, (self.message, self.location, self.diagnostics))


class SourceError(ContractError):
    """The file cannot be read as YAML/JSON safely: syntax, size, aliases, tags, duplicate keys."""

    code = "source"


class RefError(ContractError):
    """A ``$ref`` cannot be resolved: missing file or pointer, forbidden scheme, or a cycle of references."""

    code = "ref"


class VersionError(ContractError):
    """The document declares no ``asyncapi`` version eventdeck supports."""

    code = "version"


class ContractInvalid(ContractError):
    """Strict mode found error-level diagnostics; all of them are in ``diagnostics``."""

    code = "invalid"


@dataclass(slots=True)
class DiagnosticSink:
    """Collects diagnostics while a document is being modelled (mutable on purpose; frozen into the model)."""

    items: list[Diagnostic] = field(default_factory=list)

    def add(self, severity: Severity, code: str, message: str, location: Location) -> None:
        self.items.append(Diagnostic(severity, code, message, location))

    def error(self, code: str, message: str, location: Location) -> None:
        self.add(Severity.ERROR, code, message, location)

    def warning(self, code: str, message: str, location: Location) -> None:
        self.add(Severity.WARNING, code, message, location)

    def info(self, code: str, message: str, location: Location) -> None:
        self.add(Severity.INFO, code, message, location)
