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
from .extensions import (
    EncryptSpec,
    Enrichment,
    EventBridge,
    Lookup,
    Sample,
    Sealing,
    SealingPolicy,
    SignSpec,
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
    "EncryptSpec",
    "Enrichment",
    "Event",
    "EventBridge",
    "Example",
    "Info",
    "Lifecycle",
    "Location",
    "Lookup",
    "Operation",
    "RefError",
    "Sample",
    "Schema",
    "Sealing",
    "SealingPolicy",
    "Server",
    "Severity",
    "SignSpec",
    "SourceError",
    "Tag",
    "VersionError",
    "discover",
    "load_catalogue",
]
