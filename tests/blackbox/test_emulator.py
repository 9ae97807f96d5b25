"""The emulator the other tests trust: scripts/moto_server.py replaces moto's whole-table backup of
a TransactWriteItems with a backup of the items it touches. A cancelled transaction must still
leave every item as it was, or the "nothing half-written" tests would pass on a broken emulator."""

import os
import uuid

import boto3
import pytest


@pytest.fixture
def dynamo():
    return boto3.client(
        "dynamodb",
        endpoint_url=os.environ["MOTO_URL"],
        region_name="us-east-1",
        # The admin credentials of the harness (scripts/local_iam.py admin).
        aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"],
    )


@pytest.fixture
def table(dynamo):
    name = f"emulator-{uuid.uuid4()}"
    dynamo.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    yield name
    dynamo.delete_table(TableName=name)


def item(dynamo, table, pk):
    return dynamo.get_item(TableName=table, Key={"pk": {"S": pk}}).get("Item")


def test_a_cancelled_transaction_leaves_every_item_as_it_was(dynamo, table):
    dynamo.put_item(TableName=table, Item={"pk": {"S": "kept"}, "v": {"N": "1"}})
    dynamo.put_item(TableName=table, Item={"pk": {"S": "deleted"}, "v": {"N": "1"}})

    with pytest.raises(dynamo.exceptions.TransactionCanceledException) as cancelled:
        dynamo.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table, "Item": {"pk": {"S": "new"}}}},
                {
                    "Update": {
                        "TableName": table,
                        "Key": {"pk": {"S": "kept"}},
                        "UpdateExpression": "SET v = :two",
                        "ExpressionAttributeValues": {":two": {"N": "2"}},
                    }
                },
                {"Delete": {"TableName": table, "Key": {"pk": {"S": "deleted"}}}},
                {
                    "ConditionCheck": {
                        "TableName": table,
                        "Key": {"pk": {"S": "absent"}},
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                },
            ]
        )

    reasons = [r["Code"] for r in cancelled.value.response["CancellationReasons"]]
    assert reasons == ["None", "None", "None", "ConditionalCheckFailed"]
    assert item(dynamo, table, "new") is None
    assert item(dynamo, table, "kept") == {"pk": {"S": "kept"}, "v": {"N": "1"}}
    assert item(dynamo, table, "deleted") == {"pk": {"S": "deleted"}, "v": {"N": "1"}}


def test_a_transaction_that_succeeds_writes_every_item(dynamo, table):
    dynamo.put_item(TableName=table, Item={"pk": {"S": "old"}})
    dynamo.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": table, "Item": {"pk": {"S": "a"}}}},
            {"Delete": {"TableName": table, "Key": {"pk": {"S": "old"}}}},
        ]
    )
    assert item(dynamo, table, "a") == {"pk": {"S": "a"}}
    assert item(dynamo, table, "old") is None
