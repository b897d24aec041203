"""Logs, metrics and traces of the Lambda handler, with AWS Lambda Powertools.

* **Logs**: Powertools ``Logger`` — one JSON object per line on stdout (CloudWatch Logs), the Lambda context
  (request id, function, cold start) and ``correlation_id``: the internal event's id, set while that event's
  outcome is logged.
* **Metrics**: Powertools ``Metrics`` in CloudWatch embedded metric format (EMF), flushed once per invocation:
  ``EventsIn``, ``EventsPublished``, ``Latency`` (ms, the whole invocation) and ``PublishLatency`` (ms, the
  PutEvents calls with their retries); ``EventsFailed`` is written per ``Stage`` (``input``, ``route``,
  ``unrouted``, ``enrich``, ``validate``, ``seal``, ``size``, ``publish``, ``skipped``) and, for ``publish``, per
  ``Reason`` (the bus's error code), each pair as its own EMF document (``single_metric``) so its dimensions are
  its own.
* **Traces**: Powertools ``Tracer`` (AWS X-Ray) around the handler and the publishing step. Powertools disables it
  by itself outside the Lambda runtime (and with ``POWERTOOLS_TRACE_DISABLED=true``); without the ``aws-xray-sdk``
  package (a bundle may leave it out) the handler runs with :class:`NoTracer` instead.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric

__all__ = ["NoTracer", "Observability", "observability_for"]

F = TypeVar("F", bound=Callable[..., Any])

#: The stages an internal event can fail at: the producer's, plus not routed and not published.
STAGES = ("input", "route", "unrouted", "enrich", "validate", "seal", "size", "publish", "skipped")


class NoTracer:
    """Stands in for Powertools' ``Tracer`` when the X-Ray SDK is not installed: traces nothing."""

    disabled = True

    def capture_lambda_handler(self, function: F, **options: Any) -> F:
        return function

    def capture_method(self, function: F, **options: Any) -> F:
        return function

    def put_annotation(self, key: str, value: Any) -> None:
        pass


@dataclass(frozen=True)
class Observability:
    """The handler's logger, metrics and tracer, built once per cold start."""

    logger: Logger
    metrics: Metrics
    tracer: Any  # aws_lambda_powertools.Tracer, or NoTracer
    namespace: str
    service: str

    def failed(self, counts: Mapping[tuple[str, str | None], int]) -> None:
        """Write ``EventsFailed`` per (stage, reason): each pair its own EMF document with its own dimensions."""
        for (stage, reason), count in sorted(counts.items(), key=lambda item: (item[0][0], item[0][1] or "")):
            with single_metric(name="EventsFailed", unit=MetricUnit.Count, value=count, namespace=self.namespace,
                               default_dimensions={"service": self.service}) as metric:
                metric.add_dimension(name="Stage", value=stage)
                if reason is not None:
                    metric.add_dimension(name="Reason", value=reason[:250])

    def count(self, name: str, value: int) -> None:
        self.metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)

    def milliseconds(self, name: str, value: float) -> None:
        self.metrics.add_metric(name=name, unit=MetricUnit.Milliseconds, value=round(value, 3))


def observability_for(service: str, namespace: str) -> Observability:
    """Powertools' logger, metrics and tracer for ``service``, metrics in ``namespace``."""
    return Observability(Logger(service=service), Metrics(namespace=namespace, service=service),
                         _tracer(service), namespace, service)


def _tracer(service: str) -> Any:
    try:
        import aws_xray_sdk  # noqa: F401 - Powertools' Tracer imports it when it is made
    except ImportError:
        return NoTracer()
    from aws_lambda_powertools import Tracer

    return Tracer(service=service)
