"""The subscription requests of ``subscriptions/`` as rules of ``eventdeck run``'s local bus.

Each request whose consumer is an HTTP endpoint becomes a rule ``sub-<file>`` with that endpoint as its target, so
a consumer team can watch its subscription deliver before it is deployed; a request for an AWS bus has nothing
local to deliver to and is skipped with a note. Rules of earlier runs' requests that are gone are removed.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

from pipeline.bus.local import HttpTarget, LocalBus, LocalBusError
from pipeline.contract import Catalogue
from portal.cli.local_delivery import LOCAL_RETRY
from portal.kit.errors import KitError
from portal.kit.subscriptions import load_subscriptions

RULE_PREFIX = "sub-"


@dataclass(frozen=True)
class SubscriptionRule:
    """A local-bus rule for one subscription request."""

    name: str
    pattern: dict[str, Any]
    target: HttpTarget
    file: str


def subscription_rules(folder: str, catalogue: Catalogue) -> list[SubscriptionRule]:
    """The rules for the HTTP subscriptions in ``folder``. :raises SubscriptionError: every mistake of every file
    (nothing is run); :raises KitError: an endpoint the local bus cannot deliver to."""
    rules = []
    for subscription in load_subscriptions(folder, catalogue):
        if subscription.endpoint is None:
            print(f"eventdeck: {subscription.file}: {subscription.team} subscribes with the bus {subscription.bus}: "
                  "no local rule (only HTTP endpoints are delivered to locally)", file=sys.stderr)
            continue
        try:
            target = HttpTarget(subscription.endpoint, id="endpoint", retry=LOCAL_RETRY)
        except LocalBusError as exc:
            raise KitError(f"{subscription.file}: consumer.endpoint: {exc}") from None
        rules.append(SubscriptionRule(subscription.rule_name, subscription.pattern, target, subscription.file))
    return rules


def configure_subscriptions(bus: LocalBus, rules: list[SubscriptionRule]) -> None:
    """Put each subscription's rule on ``bus``; remove the subscription rules this run no longer has."""
    wanted = {rule.name for rule in rules}
    for existing in bus.rules():
        if existing.name.startswith(RULE_PREFIX) and existing.name not in wanted:
            bus.delete_rule(existing.name)
    for rule in rules:
        bus.put_rule(rule.name, rule.pattern, [rule.target], description=f"subscription request {rule.file}")
