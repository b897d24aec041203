"""Consumer code (Python): receive the EventBridge event (a Lambda target, or an SQS message body), open the
sealed CloudEvent under the contract with ``pipeline.consumer.ContractOpener``, and handle it once per
idempotency key with ``IdempotentConsumer``.

The EventBridge event's ``detail`` is the CloudEvent. A rejected event (``EventRejected``: forged, downgraded,
unknown type, invalid data) is never handled; in the SQS variant it is reported as a batch item failure so the
queue's redrive policy moves it to the DLQ after its receives, and a good event in the same batch is not retried.
"""

from __future__ import annotations

from portal.kit.snippets.quoting import py
from portal.kit.snippets.snippet import Snippet
from portal.kit.snippets.spec import SnippetSpec

__all__ = ["lambda_consumer", "sqs_consumer"]


def _head(spec: SnippetSpec, what: str, *, reads_json: bool) -> str:
    names = "\n".join(f"#   {py(n)}" for n in spec.event_names)
    if spec.dedupe_table is None:
        store_import = "from pipeline.consumer.stores.sqlite import SQLiteStore"
        store = 'SQLiteStore("idempotency.sqlite3")'
    else:
        store_import = "from pipeline.consumer.stores.dynamodb import dynamodb_store"
        store = f"dynamodb_store({py(spec.dedupe_table)})"
    if spec.keys_secret is None:
        key_import, key_source = "JwksFile", f"JwksFile({py(spec.keys_path)})"
    else:
        key_import, key_source = "JwksSecretsManager", f"JwksSecretsManager({py(spec.keys_secret)})"
    return f'''"""{what}"""
# Events:
{names}

from __future__ import annotations

{"import json" + chr(10) if reads_json else ""}import logging
from typing import Any

from pipeline.consumer import ContractOpener, IdempotentConsumer, OpenedEvent
{store_import}
from pipeline.contract.artefact import load_artefact
from pipeline.errors import EventRejected
from pipeline.sealing.keys import {key_import}, load_keyset

LOG = logging.getLogger(__name__)
EVENT_NAMES = frozenset({py(list(spec.event_names))})

# Built once per process (a Lambda container) and reused: the contract artefact (`eventdeck bundle`), the
# consumer's keys (or JwksSecretsManager("<secret id>")), the opener and the de-duplication store (SQLite
# locally; on Lambda pipeline.consumer.stores.dynamodb.dynamodb_store("<table>")).
CONTRACT = load_artefact({py(spec.contract_path)})
OPENER = ContractOpener(CONTRACT, load_keyset({key_source}))
IDEMPOTENT = IdempotentConsumer({store})


def handle(event: OpenedEvent) -> dict[str, Any] | None:
    """Your business logic: runs at most once per idempotency key; its result is recorded and returned again
    for a duplicate, so keep it a small JSON summary."""
    LOG.info("handling %s %s", event.type, event.id)
    return {{"handled": event.id, "type": event.type}}


def open_and_handle(cloud_event: Any, context: Any = None) -> dict[str, Any] | None:
    """Open the CloudEvent under its contract (raises EventRejected) and handle it idempotently."""
    opened = OPENER.open(cloud_event)
    if opened.type not in EVENT_NAMES:  # the rule should not have matched it; do not act on it
        raise EventRejected(f"unexpected event type {{opened.type!r}}", event_id=opened.id)
    if context is not None and hasattr(context, "get_remaining_time_in_millis"):
        IDEMPOTENT.register_lambda_context(context)
    return IDEMPOTENT.handle(opened, handle)
'''


def lambda_consumer(spec: SnippetSpec) -> Snippet:
    """``consumer.py`` for a Lambda target: the event is the EventBridge event, its ``detail`` the CloudEvent."""
    text = _head(spec, "Lambda target: open each sealed CloudEvent under the contract and handle it once.",
                 reads_json=False) + '''

def lambda_handler(eventbridge_event: dict[str, Any], context: Any) -> dict[str, Any] | None:
    """A raised error fails the invocation, so EventBridge retries it (retry policy) and then dead-letters it."""
    return open_and_handle(eventbridge_event["detail"], context)
'''
    return Snippet("Consumer code: Lambda target (Python)", "python", "consumer.py", text)


def sqs_consumer(spec: SnippetSpec) -> Snippet:
    """``consumer.py`` for an SQS-triggered Lambda: each message body is the EventBridge event JSON. Enable
    ``ReportBatchItemFailures`` on the event source mapping."""
    text = _head(spec, "SQS queue consumer: open each sealed CloudEvent under the contract and handle it once.",
                 reads_json=True) + '''

def sqs_handler(sqs_event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Handle a batch; only the failed messages go back to the queue (and on to its DLQ after maxReceiveCount)."""
    failures = []
    for record in sqs_event["Records"]:
        try:
            open_and_handle(json.loads(record["body"])["detail"], context)
        except EventRejected as err:  # forged, downgraded, invalid: never handled, kept for inspection
            LOG.error("rejected event %s: %s", err.event_id, err)
            failures.append({"itemIdentifier": record["messageId"]})
        except Exception:  # a transient failure (store, downstream): retry this message
            LOG.exception("failed to handle message %s", record["messageId"])
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}
'''
    return Snippet("Consumer code: SQS queue (Python)", "python", "consumer.py", text)
