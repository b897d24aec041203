"""The contract model: load, resolve and validate AsyncAPI 2.x/3.x documents into one typed model.

Everything in eventdeck reads the AsyncAPI documents through this package, never by parsing YAML itself.
"""

from .errors import (
    ContractError,
    ContractInvalid,
    Diagnostic,
    Location,
    RefError,
    Severity,
    SourceError,
    VersionError,
)
from .loader import ContractLoader, discover, load_catalogue
from .model import (
    Action,
    Backstage,
    Catalogue,
    Document,
    Event,
    Example,
    Info,
    Lifecycle,
    Operation,
    Schema,
    Server,
    Tag,
)

__all__ = [
    "Action",
    "Backstage",
    "Catalogue",
    "ContractError",
    "ContractInvalid",
    "ContractLoader",
    "Diagnostic",
    "Document",
    "Event",
    "Example",
    "Info",
    "Lifecycle",
    "Location",
    "Operation",
    "RefError",
    "Schema",
    "Server",
    "Severity",
    "SourceError",
    "Tag",
    "VersionError",
    "discover",
    "load_catalogue",
]
