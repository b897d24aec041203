"""The deployable AWS Lambda handler: internal events in, sealed cross-domain events on EventBridge out.

Entry point ``pipeline.aws_lambda.handler.handler`` (the function's handler setting). It takes either

* **one internal event straight from an EventBridge rule** (the rule's target is the function, invoked
  asynchronously): if the event does not become published events — it fails a stage, no message is made from it,
  or the bus does not take one of its entries — the handler **raises** :class:`EventNotPublished`, so Lambda's
  asynchronous retries and the function's dead-letter queue / on-failure destination apply; or
* **a batch from SQS** (records whose body is an internal event; configure the event source mapping with
  ``FunctionResponseTypes: [ReportBatchItemFailures]``): the answer lists exactly the records that were not
  published in ``batchItemFailures`` (Powertools' batch utility), so SQS redelivers those and, after the queue's
  ``maxReceiveCount``, moves them to its dead-letter queue. The entries of all records go to EventBridge together,
  ten per ``PutEvents`` call; from a FIFO queue, records are published one by one in order, and the later records
  of a message group whose record failed are not tried (reported failed, stage ``skipped``).

A record or event is never dropped silently: every failure is logged with its internal event id (the log's
``correlation_id``), its stage and reason, counted in ``EventsFailed``, and reported as above. A retry publishes
the event again under a new CloudEvent ``id`` but with the same ``idempotencykey`` (a hash of type and data), so
consumers drop the duplicate; an event that became two public events of which one was published is retried whole.

At cold start (the first invocation in a new execution environment) the handler reads its configuration
(:mod:`pipeline.aws_lambda.config`), loads the contract from the runtime artefact — no YAML, no network — and the
producer's keys, and compiles the :class:`~pipeline.produce.Producer`; later invocations reuse all of it. A
configuration problem fails every invocation with one clear line (:class:`LambdaConfigurationError`).
"""

from __future__ import annotations

import json
import time
import warnings
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    SqsFifoPartialProcessor,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from botocore.exceptions import BotoCoreError, ClientError

from pipeline.aws_lambda.config import (
    LambdaConfigurationError,
    LambdaSettings,
    key_source,
    settings_from_environment,
)
from pipeline.aws_lambda.observability import Observability, observability_for
from pipeline.bus.eventbridge import EventBridgeBus, RetryPolicy, eventbridge_client
from pipeline.bus.port import Accepted, Bus, BusUnavailable, EntryResult, Rejected
from pipeline.contract.artefact import ArtefactError, read_artefact
from pipeline.errors import EventdeckError, KeySetError
from pipeline.produce import Failed, Producer, ProducerError, Published, Unrouted, trace_context
from pipeline.sealing.keys import KeyFileTooOpenWarning, KeySet, load_keyset

__all__ = ["EventNotPublished", "EventReport", "LambdaConfigurationError", "Runtime", "UnsupportedEvent", "handler"]

#: How much of an SQS body a log line quotes when it is not an internal event.
_MAX_SHOWN: Final = 80


class EventNotPublished(EventdeckError):
    """An internal event delivered straight by EventBridge was not (wholly) published: raised so that Lambda's
    retries and dead-letter handling apply."""


class UnsupportedEvent(EventdeckError):
    """The invocation is neither an internal event nor an SQS batch (e.g. an SNS or Kinesis batch)."""


@dataclass
class EventReport:
    """What became of one internal event: the entries published ``(event name, CloudEvent id, bus event id)``
    and the failures ``(stage, reason code or None, message)``."""

    internal_id: str | None
    published: list[tuple[str, str, str]] = field(default_factory=list)
    failures: list[tuple[str, str | None, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures and bool(self.published)

    def summary(self) -> str:
        return "; ".join(message for _, _, message in self.failures)


class Runtime:
    """Everything a cold start builds: the producer, the bus and the observability tools. Calling it handles one
    invocation (``runtime(event, context)``), with Powertools' logging context, metrics flush and tracing."""

    def __init__(self, producer: Producer, bus: Bus, observability: Observability, *,
                 contract_hash: str | None = None) -> None:
        self.producer = producer
        self.bus = bus
        self.observability = observability
        self.contract_hash = contract_hash
        log, metrics, tracer = observability.logger, observability.metrics, observability.tracer
        # The reports stay out of the trace (capture_response): X-Ray caps a segment document at 64 KB.
        self.publish = tracer.capture_method(self.publish, capture_response=False)  # type: ignore[method-assign]
        self._entry = metrics.log_metrics(log.inject_lambda_context(tracer.capture_lambda_handler(self.handle)),
                                          capture_cold_start_metric=True)

    @classmethod
    def from_settings(cls, settings: LambdaSettings, *, bus: Bus | None = None) -> Runtime:
        """Load the contract and the keys, compile the producer, connect the bus.

        :raises LambdaConfigurationError: naming the variable and what is wrong with its value.
        """
        observability = observability_for(settings.service, settings.metrics_namespace)
        try:
            artefact = read_artefact(settings.contract)
        except ArtefactError as exc:
            raise LambdaConfigurationError(f"EVENTDECK_CONTRACT: {exc}") from None
        keys = _keys(settings, observability.logger)
        try:
            producer = Producer(artefact.catalogue, keys)
        except ProducerError as exc:
            raise LambdaConfigurationError(f"the contract {settings.contract} cannot be produced: {exc}") from None
        if bus is None:
            try:
                client = eventbridge_client()
            except BotoCoreError as exc:  # no region, a broken AWS configuration
                raise LambdaConfigurationError(f"cannot make the EventBridge client: {exc}") from None
            bus = EventBridgeBus(client, event_bus_name=settings.event_bus, max_entry_bytes=settings.max_entry_bytes,
                                 retry=RetryPolicy(max_attempts=settings.put_attempts))
        observability.logger.info("cold start", extra={
            "contract": settings.contract, "contract_hash": artefact.content_hash, "routes": len(producer.routes),
            "event_bus": settings.event_bus or "from the contract", "keys": len(keys) if keys is not None else 0})
        return cls(producer, bus, observability, contract_hash=artefact.content_hash)

    def __call__(self, event: Any, context: Any) -> Any:
        return self._entry(event, context)

    # -------------------------------------------------------------------------------------------- invocation

    def handle(self, event: Any, context: Any) -> Any:
        """Handle one invocation (without the Powertools wrappers :meth:`__call__` adds)."""
        started = time.perf_counter()
        try:
            if isinstance(event, Mapping) and "Records" in event:
                return self._sqs_batch(event, context)
            return self._one_event(event)
        finally:
            self.observability.milliseconds("Latency", (time.perf_counter() - started) * 1000)

    def _one_event(self, event: Any) -> dict[str, Any]:
        (report,) = self.publish([event])
        self._account([report])
        if not report.ok:
            raise EventNotPublished(f"internal event {report.internal_id}: not published: {report.summary()}")
        return {"published": [{"event": name, "id": ce_id, "eventbridge_id": bus_id}
                              for name, ce_id, bus_id in report.published]}

    def _sqs_batch(self, event: Mapping[str, Any], context: Any) -> Any:
        records = event.get("Records")
        if not isinstance(records, list) or not all(
                isinstance(r, Mapping) and r.get("eventSource") == "aws:sqs" for r in records):
            raise UnsupportedEvent("the handler takes one internal event or an SQS batch; this invocation has "
                                   "'Records' that are not SQS messages")
        if not records:
            return {"batchItemFailures": []}
        fifo = any(str(r.get("eventSourceARN", "")).endswith(".fifo") for r in records)
        reports = self._fifo_reports(records) if fifo else self._batch_reports(records)
        self._account([reports[id(r)] for r in records])

        def record_handler(record: SQSRecord) -> None:
            report = reports[id(record.raw_event)]
            if not report.ok:
                raise EventNotPublished(f"SQS message {record.message_id}: {report.summary()}")

        processor = SqsFifoPartialProcessor(skip_group_on_error=True) if fifo else BatchProcessor(
            event_type=EventType.SQS, raise_on_entire_batch_failure=False)
        return process_partial_response(event=dict(event), record_handler=record_handler, processor=processor,
                                        context=context)

    def _batch_reports(self, records: Sequence[Mapping[str, Any]]) -> dict[int, EventReport]:
        """A standard queue's batch: every readable record produced, all entries put together."""
        reports: dict[int, EventReport] = {}
        readable: list[tuple[int, Any]] = []
        for record in records:
            internal, problem = _internal_event(record)
            if problem is not None:
                reports[id(record)] = _unreadable(record, problem)
            else:
                readable.append((id(record), internal))
        for (key, _), report in zip(readable, self.publish([internal for _, internal in readable]), strict=True):
            reports[key] = report
        return reports

    def _fifo_reports(self, records: Sequence[Mapping[str, Any]]) -> dict[int, EventReport]:
        """A FIFO queue's batch, in order, one record at a time: after a record of a message group is not published,
        the group's later records are not tried (``skipped``), so SQS redelivers them after it, in order — what
        Powertools' ``SqsFifoPartialProcessor(skip_group_on_error=True)`` reports."""
        reports: dict[int, EventReport] = {}
        failed_groups: set[Any] = set()
        for record in records:
            attributes = record.get("attributes")
            group = attributes.get("MessageGroupId") if isinstance(attributes, Mapping) else None
            if group in failed_groups:
                reports[id(record)] = EventReport(None, failures=[("skipped", None, f"SQS message "
                                                  f"{_shown(record.get('messageId'))}: an earlier message of its "
                                                  f"group {_shown(group)} was not published")])
                continue
            internal, problem = _internal_event(record)
            report = _unreadable(record, problem) if problem is not None else self.publish([internal])[0]
            reports[id(record)] = report
            if not report.ok:
                failed_groups.add(group)
        return reports

    def publish(self, internal_events: Sequence[Any]) -> list[EventReport]:
        """Produce every internal event and put all their entries on the bus together; one report per event."""
        reports: list[EventReport] = []
        entries: list[dict[str, Any]] = []
        owners: list[tuple[EventReport, Published]] = []
        for internal in internal_events:
            report = EventReport(_internal_id(internal))
            reports.append(report)
            if isinstance(internal, Mapping):
                problem = trace_context(internal)[1]
                if problem is not None:
                    self._log(report, "warning", f"ignoring the internal event's traceparent: {problem}")
            for outcome in self.producer.process_one(internal):
                if isinstance(outcome, Published):
                    entries.append(outcome.entry)
                    owners.append((report, outcome))
                elif isinstance(outcome, Failed):
                    report.failures.append((outcome.stage, None, outcome.reason))
                elif isinstance(outcome, Unrouted):
                    report.failures.append(("unrouted", None, f"event {outcome.internal_id}: {outcome.reason}"))
        if not entries:
            return reports
        started = time.perf_counter()
        results: Sequence[EntryResult]
        try:
            results = self.bus.put_events(entries)
        except BusUnavailable as exc:
            results = [Rejected("BusUnavailable", str(exc), retryable=True)] * len(entries)
        finally:
            self.observability.milliseconds("PublishLatency", (time.perf_counter() - started) * 1000)
        for (report, published), result in zip(owners, results, strict=True):
            if isinstance(result, Accepted):
                report.published.append((published.event, str(published.cloud_event.get("id")), result.event_id))
            else:
                report.failures.append(("publish", result.code, f"{published.event}: the bus did not take it: "
                                        f"{result.code}: {result.message}"))
        return reports

    # -------------------------------------------------------------------------------------------- reporting

    def _account(self, reports: Sequence[EventReport]) -> None:
        """Log each event's outcome under its correlation id, and count them."""
        failed: Counter[tuple[str, str | None]] = Counter()
        published = 0
        for report in reports:
            published += len(report.published)
            for stage, reason, _ in report.failures:
                failed[(stage, reason)] += 1
            if report.ok:
                self._log(report, "info", "published", events=[
                    {"event": name, "id": ce_id, "eventbridge_id": bus_id} for name, ce_id, bus_id in report.published])
            else:
                self._log(report, "error", "not published", failures=[
                    {"stage": stage, "reason": reason, "message": message}
                    for stage, reason, message in report.failures], published=len(report.published))
        self.observability.count("EventsIn", len(reports))
        self.observability.count("EventsPublished", published)
        if failed:
            self.observability.failed(failed)

    def _log(self, report: EventReport, level: str, message: str, **extra: Any) -> None:
        logger = self.observability.logger
        logger.set_correlation_id(report.internal_id)
        try:
            getattr(logger, level)(message, extra=extra)
        finally:
            logger.set_correlation_id(None)


# ------------------------------------------------------------------------------------------------ the entry point

_BOOT_LOG: Final = Logger(service="eventdeck")
_RUNTIMES: dict[LambdaSettings, Runtime] = {}


def handler(event: Any, context: Any) -> Any:
    """The Lambda entry point (see the module docstring)."""
    try:
        settings = settings_from_environment()
        runtime = _RUNTIMES.get(settings)
        if runtime is None:
            runtime = Runtime.from_settings(settings)
            _RUNTIMES.clear()  # one configuration per execution environment; a test may change it
            _RUNTIMES[settings] = runtime
    except LambdaConfigurationError as exc:
        _BOOT_LOG.error("the function is misconfigured", extra={"error": str(exc)})
        raise
    return runtime(event, context)


def _keys(settings: LambdaSettings, logger: Logger) -> KeySet | None:
    if settings.keys is None:
        return None
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", KeyFileTooOpenWarning)
            keys = load_keyset(key_source(settings.keys))
    except KeySetError as exc:
        raise LambdaConfigurationError(f"EVENTDECK_KEYS: {exc}") from None
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise LambdaConfigurationError(f"EVENTDECK_KEYS: cannot read {settings.keys}: {error.get('Code')}: "
                                       f"{error.get('Message')}") from None
    except BotoCoreError as exc:
        raise LambdaConfigurationError(f"EVENTDECK_KEYS: cannot read {settings.keys}: {exc}") from None
    for warning in caught:
        logger.warning(str(warning.message))
    return keys


def _internal_event(record: Mapping[str, Any]) -> tuple[Any, str | None]:
    """The internal event in an SQS record's body, or why there is none."""
    body = record.get("body")
    if not isinstance(body, str):
        return None, "the message has no body"
    try:
        value = json.loads(body, object_pairs_hook=_unique_keys, parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:
        return None, f"the body is not JSON ({_shown(str(exc))})"
    if not isinstance(value, dict):
        return None, f"the body is JSON {type(value).__name__}, not an internal event (an object)"
    return value, None


def _unreadable(record: Mapping[str, Any], problem: str) -> EventReport:
    return EventReport(None, failures=[("input", None, f"SQS message {_shown(record.get('messageId'))}: {problem}")])


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    value = dict(pairs)
    if len(value) != len(pairs):
        seen: set[str] = set()
        duplicate = next(k for k, _ in pairs if k in seen or seen.add(k))  # type: ignore[func-returns-value]
        raise ValueError(f"duplicate key {_shown(duplicate)}")
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _internal_id(internal: Any) -> str | None:
    value = internal.get("id") if isinstance(internal, Mapping) else None
    return value if isinstance(value, str) else None


def _shown(value: Any) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= _MAX_SHOWN else text[:_MAX_SHOWN] + "..."
