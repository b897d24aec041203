"""The :class:`~portal.kit.snippets.SnippetSpec` of a kit pattern: one place that decides what a snippet is made
from, so ``eventdeck kit`` and the catalogue's pages print the very same text for the same event, level and format.

Where the consumer's own values are unknown (a page is written for every reader) the spec takes placeholders that
cannot be mistaken for real ones: AWS's documentation account ``123456789012``, the bus ``consumer-inbound`` and an
endpoint on the reserved ``example.com`` domain.
"""

from __future__ import annotations

import re
from typing import Any

from pipeline.contract.model import Catalogue
from pipeline.patterns import compile_pattern
from portal.kit.errors import KitError
from portal.kit.examples import ExampleEvent, is_sealed
from portal.kit.patterns import KitPattern
from portal.kit.snippets import ApiDestination, SnippetSpec

PLACEHOLDER_ACCOUNT = "123456789012"
PLACEHOLDER_BUS = "consumer-inbound"
PLACEHOLDER_ENDPOINT = "https://consumer.example.com/eventdeck/events"


def rule_name(label: str) -> str:
    """The rule name of a level: ``eventdeck-Payment.Authorised-all`` for ``Payment.Authorised.*``."""
    name = re.sub(r"[^A-Za-z0-9._-]", "-", label.replace(".*", "-all"))
    return f"eventdeck-{name}"[:64]


def spec_for(catalogue: Catalogue, kit: KitPattern, examples: list[ExampleEvent], *,
             consumer_account: str | None = None, consumer_bus: str | None = None, endpoint: str | None = None,
             rule: str | None = None) -> SnippetSpec:
    """The spec of ``kit``'s subscription; unknown consumer values are the placeholders.

    :raises KitError: the contract does not say on which bus, account and region the events are put.
    :raises SnippetError: a value AWS would refuse (from a document or a request), by field."""
    bridge = kit.eventbridge
    if bridge is None or not (bridge.bus and bridge.account and bridge.region):
        raise KitError(f"{kit.label}: the contract does not say which bus, account and region its events are put "
                       "on (x-eventbridge bus, account, region), so no snippet can name the producer's bus")
    engine = compile_pattern(kit.pattern)  # the boto3 snippet's smoke test puts an example the rule matches
    entry: dict[str, Any] | None = next((e.entry(bridge.bus) for e in examples if engine.matches(e.event)), None)
    return SnippetSpec(
        rule_name=rule or rule_name(kit.label), event_pattern=kit.pattern, producer_account=bridge.account,
        producer_bus_name=bridge.bus, region=bridge.region,
        consumer_account=consumer_account or PLACEHOLDER_ACCOUNT,
        consumer_bus_name=consumer_bus or PLACEHOLDER_BUS, event_names=kit.matches,
        sealed=any(is_sealed(catalogue.event(key)) for key in kit.matches),
        example_entry=entry, api_destination=ApiDestination(endpoint) if endpoint else None)
