"""EventBridge's target retry policy: how long and how often a failed delivery is tried again, and when.

EventBridge retries a retryable failure "for 24 hours and up to 185 times with an exponential back off and jitter"
by default; a target's ``RetryPolicy`` lowers either bound (``MaximumEventAgeInSeconds`` 60-86,400,
``MaximumRetryAttempts`` 0-185). The local bus refuses values outside those ranges so a rule that works locally is
a rule AWS accepts. The back-off itself is not documented by AWS; ours doubles from ``base_delay_s`` up to
``max_delay_s`` with "equal jitter" (half fixed, half random), so retries of many events spread out instead of
hammering a recovering endpoint in lock step.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, Final

from pipeline.bus.local.errors import RuleError

__all__ = ["DEFAULT_RETRY", "RetryPolicy"]

MIN_EVENT_AGE_S: Final = 60
MAX_EVENT_AGE_S: Final = 86_400
MAX_RETRY_ATTEMPTS: Final = 185


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """A target's retry policy (EventBridge ``RetryPolicy`` plus the local back-off's shape).

    ``maximum_retry_attempts`` counts retries after the first try: 0 means one try only.
    ``maximum_event_age_s`` is measured from the moment the delivery was scheduled (the event accepted, replayed or
    redriven)."""

    maximum_event_age_s: int = MAX_EVENT_AGE_S
    maximum_retry_attempts: int = MAX_RETRY_ATTEMPTS
    base_delay_s: float = 1.0
    max_delay_s: float = 300.0

    def __post_init__(self) -> None:
        age, attempts = self.maximum_event_age_s, self.maximum_retry_attempts
        if isinstance(age, bool) or not isinstance(age, int) or not MIN_EVENT_AGE_S <= age <= MAX_EVENT_AGE_S:
            raise RuleError(f"must be an integer from {MIN_EVENT_AGE_S} to {MAX_EVENT_AGE_S} (EventBridge's range), "
                            f"not {age!r}", where="retry.maximum_event_age_s")
        if isinstance(attempts, bool) or not isinstance(attempts, int) or not 0 <= attempts <= MAX_RETRY_ATTEMPTS:
            raise RuleError(f"must be an integer from 0 to {MAX_RETRY_ATTEMPTS} (EventBridge's range), not "
                            f"{attempts!r}", where="retry.maximum_retry_attempts")
        for field, value in (("base_delay_s", self.base_delay_s), ("max_delay_s", self.max_delay_s)):
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= MAX_EVENT_AGE_S:
                raise RuleError(f"must be a number of seconds from 0 to {MAX_EVENT_AGE_S}, not {value!r}",
                                where=f"retry.{field}")

    def delay_s(self, attempt: int, rng: random.Random) -> float:
        """The wait before retry number ``attempt`` (1 for the first retry)."""
        ceiling = min(self.max_delay_s, self.base_delay_s * (2.0 ** min(attempt - 1, 32)))
        return ceiling / 2 + rng.uniform(0, ceiling / 2)

    def as_json(self) -> dict[str, Any]:
        return {"maximum_event_age_s": self.maximum_event_age_s,
                "maximum_retry_attempts": self.maximum_retry_attempts,
                "base_delay_s": self.base_delay_s, "max_delay_s": self.max_delay_s}

    @classmethod
    def from_json(cls, data: Any) -> RetryPolicy:
        if not isinstance(data, dict):
            raise RuleError(f"expected an object, not {type(data).__name__}", where="retry")
        unknown = set(data) - {"maximum_event_age_s", "maximum_retry_attempts", "base_delay_s", "max_delay_s"}
        if unknown:
            raise RuleError(f"unknown field(s) {', '.join(sorted(unknown))}", where="retry")
        return cls(**data)


DEFAULT_RETRY: Final = RetryPolicy()
