"""Event buses: the :class:`Bus` port and its adapters (Amazon EventBridge, the embedded local bus)."""

from pipeline.bus.port import (
    DEFAULT_MAX_ENTRY_BYTES,
    MAX_BATCH_ENTRIES,
    Accepted,
    Bus,
    BusUnavailable,
    EntryResult,
    Rejected,
    entry_size,
)

__all__ = [
    "DEFAULT_MAX_ENTRY_BYTES",
    "MAX_BATCH_ENTRIES",
    "Accepted",
    "Bus",
    "BusUnavailable",
    "EntryResult",
    "Rejected",
    "entry_size",
]
