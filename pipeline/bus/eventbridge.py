"""The Amazon EventBridge adapter of the :class:`~pipeline.bus.port.Bus` port: ``PutEvents`` through boto3.

What it adds to a bare ``client.put_events``:

* **Batches as EventBridge takes them**: at most :data:`~pipeline.bus.port.MAX_BATCH_ENTRIES` entries per call, and
  the entries of one call together within ``max_request_bytes`` ("the total entry size must be less than 256KB"),
  sizes computed as EventBridge computes them (:func:`~pipeline.bus.port.entry_size`). An entry over
  ``max_entry_bytes``, or one boto3 would refuse for the whole call (a field PutEvents does not have, a value of the
  wrong type), is :class:`~pipeline.bus.port.Rejected` locally, without a call, so it cannot sink its neighbours.
* **Resending only what failed**: ``PutEvents`` answers per entry; the entries that failed retryably
  (``ThrottlingException``, ``InternalFailure``/``InternalException``), and whole calls throttled or answered 5xx
  or not answered at all, are sent again after a capped exponential back-off with full jitter
  (``sleep(random() * min(max_delay, base_delay * 2 ** (attempt - 1)))``), up to ``max_attempts`` sends per entry.
  Permanent errors (``MalformedDetail``, ``InvalidArgument``, ``AccessDeniedException``, a missing bus…) are not
  retried.
* **Nothing dropped**: what could not be delivered is ``Rejected`` — with EventBridge's own code for a permanent
  error, ``Undeliverable`` (``retryable=True``) once the retries are spent — and :class:`~pipeline.bus.port.
  BusUnavailable` is raised when no call got any answer (nothing is known to be accepted).

boto3's own retries: a client built by :func:`eventbridge_client` makes **one attempt per call**
(``retries={"total_max_attempts": 1}``). botocore's standard mode would otherwise retry throttled and 5xx calls
itself (3 attempts, its own back-off): those sleeps would be invisible to this adapter's policy and injected clock,
and every one of our attempts would become up to three sends. It never retries the per-entry failures inside a 200
answer, which are most of what EventBridge throttles, so the adapter has to own the policy anyway; owning all of it
keeps one budget (``max_attempts``) and one back-off. Pass another client only if it is configured the same way.
"""

from __future__ import annotations

import random as _random
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    HTTPClientError,
    ParamValidationError,
)
from botocore.exceptions import (
    ConnectionError as BotoConnectionError,
)
from botocore.validate import ParamValidator

from pipeline.bus.port import (
    DEFAULT_MAX_ENTRY_BYTES,
    ENTRY_FIELDS,
    MAX_BATCH_ENTRIES,
    Accepted,
    BusUnavailable,
    EntryResult,
    Rejected,
    entry_size,
)

__all__ = [
    "RETRYABLE_ENTRY_CODES",
    "THROTTLING_CODES",
    "EventBridgeBus",
    "RetryPolicy",
    "eventbridge_client",
]

#: Per-entry ``ErrorCode`` values EventBridge documents as retryable (PutEventsResultEntry), plus the
#: ``InternalException`` spelling of the internal error.
RETRYABLE_ENTRY_CODES: Final = frozenset({"ThrottlingException", "InternalFailure", "InternalException"})

#: Whole-call error codes that mean "throttled": the union botocore's standard retry mode treats so.
THROTTLING_CODES: Final = frozenset({
    "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
    "TooManyRequestsException", "ProvisionedThroughputExceededException", "TransactionInProgressException",
    "RequestLimitExceeded", "BandwidthLimitExceeded", "LimitExceededException", "RequestThrottled", "SlowDown",
    "PriorRequestNotComplete", "EC2ThrottledException",
})

#: Whole-call error codes that are transient whatever their status (botocore's standard mode), besides any 5xx.
_TRANSIENT_CODES: Final = frozenset({"RequestTimeout", "RequestTimeoutException", "PriorRequestNotComplete",
                                     "InternalFailure", "InternalException", "ServiceUnavailable"})

UNDELIVERABLE: Final = "Undeliverable"
ENTRY_TOO_LARGE: Final = "EntryTooLarge"
INVALID_ENTRY: Final = "InvalidEntry"

# What botocore's validator accepts without a doubt: non-empty texts (its only string constraint here is a minimum
# length of 1 on some fields), a list of non-empty texts, a datetime or an RFC 3339 instant for Time.
_RFC3339: Final = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})")

Sleep = Callable[[float], None]
Random = Callable[[], float]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how patiently failed entries are resent: ``max_attempts`` sends per entry in all (1 = never
    resend), and before resend ``n`` a sleep of ``random() * min(max_delay, base_delay * 2 ** (n - 1))`` seconds
    ("full jitter": concurrent senders spread out instead of retrying in lock-step)."""

    max_attempts: int = 4
    base_delay: float = 0.1
    max_delay: float = 5.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be 1 or more, not {self.max_attempts}")
        if not (self.base_delay >= 0 and self.max_delay >= 0):
            raise ValueError("base_delay and max_delay must not be negative")

    def delay_cap(self, resend: int) -> float:
        """The upper bound of the sleep before resend number ``resend`` (1-based)."""
        return min(self.max_delay, self.base_delay * 2 ** (resend - 1))


def eventbridge_client(*, endpoint_url: str | None = None, region_name: str | None = None,
                       session: Any = None, connect_timeout: float = 2.0, read_timeout: float = 10.0) -> Any:
    """A boto3 ``events`` client for :class:`EventBridgeBus`: one attempt per call (the adapter owns the retry
    policy, see the module docstring), short timeouts, the ambient credentials and region unless given."""
    import boto3
    from botocore.config import Config

    config = Config(retries={"total_max_attempts": 1, "mode": "standard"}, connect_timeout=connect_timeout,
                    read_timeout=read_timeout)
    session = session if session is not None else boto3.session.Session()
    return session.client("events", endpoint_url=endpoint_url, region_name=region_name, config=config)


@dataclass(slots=True)
class _Failure:
    """The last retryable failure of a pending entry: what becomes its ``Undeliverable`` message."""

    code: str
    message: str


class EventBridgeBus:
    """The :class:`~pipeline.bus.port.Bus` on Amazon EventBridge.

    :param client: a boto3 ``events`` client, best from :func:`eventbridge_client`.
    :param event_bus_name: send every entry to this bus (a name or an ARN) whatever its ``EventBusName`` says: the
        deployment decides where the contract's bus is (e.g. the ARN of a bus in another account). By default each
        entry goes where its ``EventBusName`` says (the account's default bus when it has none).
    :param max_entry_bytes: the entry size limit (EventBridge's 256 KiB by default; AWS raises it per account).
    :param max_request_bytes: the limit on the total size of the entries of one call (by default the entry limit).
    :param sleep: ``time.sleep`` by default; tests pass a recorder.
    :param random: ``random.random`` by default (a float in [0, 1)); tests pass a constant.
    """

    name = "eventbridge"

    def __init__(self, client: Any, *, event_bus_name: str | None = None,
                 max_entry_bytes: int = DEFAULT_MAX_ENTRY_BYTES, max_request_bytes: int | None = None,
                 retry: RetryPolicy | None = None, sleep: Sleep = time.sleep, random: Random = _random.random
                 ) -> None:
        if max_entry_bytes < 1:
            raise ValueError(f"max_entry_bytes must be 1 or more, not {max_entry_bytes}")
        self.client = client
        self.event_bus_name = event_bus_name
        self.max_entry_bytes = max_entry_bytes
        self.max_request_bytes = max(max_request_bytes or max_entry_bytes, max_entry_bytes)
        self.retry = retry or RetryPolicy()
        self.sleep = sleep
        self.random = random
        self._entry_shape = client.meta.service_model.operation_model("PutEvents").input_shape
        self._validator = ParamValidator()

    def put_events(self, entries: Sequence[Mapping[str, Any]]) -> list[EntryResult]:
        """One result per entry, in order (see the module docstring for batching, retries and local refusals).

        :raises BusUnavailable: no call got an answer from EventBridge (unreachable, timing out) and nothing is
            known to be accepted; the caller keeps every entry.
        """
        results: list[EntryResult | None] = [None] * len(entries)
        prepared: dict[int, tuple[dict[str, Any], int]] = {}
        for index, entry in enumerate(entries):
            refusal = self._refusal(entry)
            if isinstance(refusal, Rejected):
                results[index] = refusal
            else:
                prepared[index] = refusal
        pending = list(prepared)
        failures: dict[int, _Failure] = {}
        answered = False  # did any call get an answer (a response, even an error)?
        attempt = 1
        while pending:
            retry: list[int] = []
            for batch in self._batches(pending, prepared):
                answered |= self._send(batch, prepared, results, failures, retry)
            if not retry:
                break
            if attempt >= self.retry.max_attempts:
                if not answered and not any(isinstance(r, Accepted) for r in results):
                    last = failures[retry[0]]
                    raise BusUnavailable(f"EventBridge could not be reached after {attempt} attempt(s): "
                                         f"{last.message}")
                for index in retry:
                    failure = failures[index]
                    results[index] = Rejected(UNDELIVERABLE, f"still failing after {attempt} attempt(s): "
                                              f"{failure.code}: {failure.message}", retryable=True)
                break
            self.sleep(self.random() * self.retry.delay_cap(attempt))
            attempt += 1
            pending = retry
        assert all(r is not None for r in results)
        return results  # type: ignore[return-value]

    # ------------------------------------------------------------------------------------------ one call

    def _send(self, batch: list[int], prepared: Mapping[int, tuple[dict[str, Any], int]],
              results: list[EntryResult | None], failures: dict[int, _Failure], retry: list[int]) -> bool:
        """Send one batch; fill in ``results`` for what is settled and append what to resend to ``retry``.
        Returns whether EventBridge answered at all."""
        try:
            response = self.client.put_events(Entries=[prepared[i][0] for i in batch])
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code = str(error.get("Code") or "Unknown")
            message = str(error.get("Message") or exc)
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if code in THROTTLING_CODES or code in _TRANSIENT_CODES or status == 429 or \
                    (isinstance(status, int) and status >= 500):
                self._to_retry(batch, code, message, failures, retry)
            else:  # the whole call is refused for a reason sending it again cannot fix (a missing bus, access)
                for index in batch:
                    results[index] = Rejected(code, message, retryable=False)
            return True
        except (BotoConnectionError, HTTPClientError) as exc:  # not reached, reset, timed out: try again
            self._to_retry(batch, "Unreachable", str(exc), failures, retry)
            return False
        except BotoCoreError as exc:  # anything else botocore refuses (credentials, a response it cannot parse)
            for index in batch:
                results[index] = Rejected(type(exc).__name__, str(exc), retryable=False)
            return True
        answers = response.get("Entries") or []
        for position, index in enumerate(batch):
            answer = answers[position] if position < len(answers) else {}
            event_id, error_code = answer.get("EventId"), answer.get("ErrorCode")
            if event_id and not error_code:
                results[index] = Accepted(str(event_id))
            elif error_code in RETRYABLE_ENTRY_CODES or not answer:  # a missing answer: unknown, so send it again
                self._to_retry([index], str(error_code or "MissingResult"),
                               str(answer.get("ErrorMessage") or "no result for the entry"), failures, retry)
            else:
                results[index] = Rejected(str(error_code), str(answer.get("ErrorMessage") or error_code),
                                          retryable=False)
        return True

    @staticmethod
    def _to_retry(batch: list[int], code: str, message: str, failures: dict[int, _Failure],
                  retry: list[int]) -> None:
        for index in batch:
            failures[index] = _Failure(code, message)
            retry.append(index)

    def _batches(self, pending: list[int], prepared: Mapping[int, tuple[dict[str, Any], int]]) -> list[list[int]]:
        """``pending`` cut into calls of at most 10 entries and ``max_request_bytes`` together, in order."""
        batches: list[list[int]] = []
        current: list[int] = []
        total = 0
        for index in pending:
            size = prepared[index][1]
            if current and (len(current) == MAX_BATCH_ENTRIES or total + size > self.max_request_bytes):
                batches.append(current)
                current, total = [], 0
            current.append(index)
            total += size
        if current:
            batches.append(current)
        return batches

    # ------------------------------------------------------------------------------------------ local checks

    def _refusal(self, entry: Any) -> Rejected | tuple[dict[str, Any], int]:
        """The entry to send with its size, or why it is refused without a call."""
        if not isinstance(entry, Mapping):
            return Rejected(INVALID_ENTRY, f"a PutEvents entry is an object, not {type(entry).__name__}")
        unknown = sorted(str(k) for k in entry if k not in ENTRY_FIELDS)
        if unknown:
            return Rejected(INVALID_ENTRY, f"PutEvents entries have no field(s) {', '.join(unknown)} "
                            f"(known: {', '.join(sorted(ENTRY_FIELDS))})")
        request = dict(entry)
        if self.event_bus_name is not None:
            request["EventBusName"] = self.event_bus_name
        try:
            self._check(request)
            size = entry_size(request)
        except (ParamValidationError, TypeError, ValueError) as exc:
            # botocore's report is multi-line and quotes the value: one line, bounded (a Detail may be 256 KiB).
            message = " ".join(str(exc).replace("Parameter validation failed:", "").split())
            return Rejected(INVALID_ENTRY, "not a valid PutEvents entry: " + (
                message if len(message) <= 300 else message[:300] + "..."))
        if size > self.max_entry_bytes:
            return Rejected(ENTRY_TOO_LARGE, f"the entry is {size:,} bytes as EventBridge counts them; the limit is "
                            f"{self.max_entry_bytes:,}")
        return request, size

    def _check(self, request: Mapping[str, Any]) -> None:
        """Refuse what botocore would refuse for the whole call (wrong types, empty names), entry by entry.

        The common entry — non-empty texts, a list of texts, an RFC 3339 ``Time`` — is recognised in ~2 us;
        anything else goes through botocore's own validator (~60 us), which words the refusal."""
        if _plainly_valid(request):
            return
        report = self._validator.validate({"Entries": [request]}, self._entry_shape)
        if report.has_errors():
            raise ParamValidationError(report=report.generate_report())


def _plainly_valid(request: Mapping[str, Any]) -> bool:
    for key, value in request.items():
        if key == "Resources":
            if not (isinstance(value, list) and all(isinstance(r, str) and r for r in value)):
                return False
        elif key == "Time":
            if not ((isinstance(value, datetime) and value.tzinfo is not None)
                    or (isinstance(value, str) and _RFC3339.fullmatch(value))):
                return False
        elif not (isinstance(value, str) and value):
            return False
    return True
