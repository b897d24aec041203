"""DynamoDB persistence for idempotency: Powertools' own ``DynamoDBPersistenceLayer``, unchanged.

Nothing to re-implement: its conditional put (with ``ReturnValuesOnConditionCheckFailure``), in-progress
expiry and update/delete are exactly the four primitives. This module adds the table definition it expects
(for local set-up, tests and IaC snippets) and a factory that takes a boto3 client, so a test or a local run
points it at an emulator with ``endpoint_url``.
"""

from __future__ import annotations

from typing import Any, Final

from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

__all__ = ["EXPIRY_ATTRIBUTE", "KEY_ATTRIBUTE", "create_table", "dynamodb_store"]

#: Partition key and TTL attribute names (Powertools' defaults; the IaC snippets use the same).
KEY_ATTRIBUTE: Final = "id"
EXPIRY_ATTRIBUTE: Final = "expiration"


def dynamodb_store(table_name: str, *, client: Any = None) -> DynamoDBPersistenceLayer:
    """Return a Powertools DynamoDB persistence layer on ``table_name``.

    :param client: a boto3 ``dynamodb`` client; by default Powertools makes one from the ambient session.
    """
    return DynamoDBPersistenceLayer(
        table_name=table_name,
        key_attr=KEY_ATTRIBUTE,
        expiry_attr=EXPIRY_ATTRIBUTE,
        boto3_client=client,
    )


def create_table(client: Any, table_name: str, *, enable_ttl: bool = True) -> None:
    """Create the idempotency table (on-demand, ``id`` hash key) and wait until it is active.

    With ``enable_ttl`` DynamoDB deletes expired records itself (within ~48 h; Powertools treats them as
    expired as soon as ``expiration`` passes, so late deletion is harmless).
    """
    client.create_table(
        TableName=table_name,
        KeySchema=[{"AttributeName": KEY_ATTRIBUTE, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": KEY_ATTRIBUTE, "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    client.get_waiter("table_exists").wait(TableName=table_name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    if enable_ttl:
        client.update_time_to_live(
            TableName=table_name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": EXPIRY_ATTRIBUTE},
        )
