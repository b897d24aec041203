"""The embedded local bus: EventBridge's semantics (per-entry PutEvents answers, rules with the full pattern
engine, targets, retry policy, dead letters, archive and replay) in one SQLite file.

Typical use::

    bus = LocalBus.open("events.db", name="payments-public")
    bus.put_rule("to-consumer", {"source": ["com.retailer.payments"]},
                 [HttpTarget("http://127.0.0.1:8080/events")], retry=RetryPolicy(maximum_retry_attempts=5))
    results = bus.put_events(entries)          # one Accepted/Rejected per entry, durable once answered
    bus.drain()                                # or: with bus.deliverer(): ... (background delivery)
    bus.replay(start, end)                     # archived events of [start, end) delivered again
    bus.dead_letters(); bus.redrive()
"""

from pipeline.bus.local.bus import BusStats, LocalBus
from pipeline.bus.local.dead_letters import DeadLetter
from pipeline.bus.local.delivery import AGE_EXCEEDED, ATTEMPTS_EXCEEDED, Deliverer, DeliveryReport
from pipeline.bus.local.errors import BusStoreError, LocalBusError, ReplayError, RuleError, UnknownRule
from pipeline.bus.local.replay import ReplayReport
from pipeline.bus.local.retry import DEFAULT_RETRY, RetryPolicy
from pipeline.bus.local.rules import Rule
from pipeline.bus.local.senders import DeliveryRefused
from pipeline.bus.local.targets import BusTarget, CallableTarget, FileTarget, HttpTarget, Target

__all__ = [
    "AGE_EXCEEDED",
    "ATTEMPTS_EXCEEDED",
    "DEFAULT_RETRY",
    "BusStats",
    "BusStoreError",
    "BusTarget",
    "CallableTarget",
    "DeadLetter",
    "Deliverer",
    "DeliveryRefused",
    "DeliveryReport",
    "FileTarget",
    "HttpTarget",
    "LocalBus",
    "LocalBusError",
    "ReplayError",
    "ReplayReport",
    "RetryPolicy",
    "Rule",
    "RuleError",
    "Target",
    "UnknownRule",
]
