"""Local IAM: the policy evaluator (scripts/iam_policy.py) on its own, then the emulator
(scripts/moto_server.py) authorizing real requests with the roles scripts/local_iam.py makes from
template.yaml. The other tests trust both: an evaluator that allowed too much would let a missing
permission pass locally and fail on AWS."""

import json
import os
import pathlib
import subprocess
import sys
import uuid

import boto3
import pytest
from botocore.exceptions import ClientError

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

import iam_policy  # noqa: E402
from iam_policy import ALLOW, DENY, IMPLICIT, Request, evaluate  # noqa: E402

TABLE = "arn:aws:dynamodb:us-east-1:123456789012:table/directory"


def policy(*statements):
    return [{"Version": "2012-10-17", "Statement": list(statements)}]


def allow(action, resource=TABLE, **extra):
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


LEADING = {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["TENANT#*", "USER#*"]}}


def get(*keys, action="dynamodb:GetItem", resource=TABLE):
    return Request(action, resource, {"dynamodb:LeadingKeys": list(keys)})


# ----------------------------------------------------------------------------- the evaluator


def test_actions_match_case_insensitively_with_wildcards_and_nothing_else():
    p = policy(allow(["dynamodb:GetItem", "dynamodb:Batch*"]))
    assert evaluate(p, get(action="DynamoDB:getitem")) == ALLOW
    assert evaluate(p, get(action="dynamodb:BatchGetItem")) == ALLOW
    assert evaluate(p, get(action="dynamodb:PutItem")) == IMPLICIT
    assert evaluate(p, get(action="dynamodb:GetItems")) == IMPLICIT


def test_resources_match_exactly_or_by_wildcard_and_case_sensitively():
    p = policy(allow("dynamodb:GetItem", ["arn:aws:dynamodb:*:*:table/codes-?"]))
    assert evaluate(p, get(resource="arn:aws:dynamodb:us-east-1:1:table/codes-a")) == ALLOW
    assert evaluate(p, get(resource="arn:aws:dynamodb:us-east-1:1:table/codes-ab")) == IMPLICIT
    assert evaluate(p, get(resource="arn:aws:dynamodb:us-east-1:1:table/Codes-a")) == IMPLICIT
    assert evaluate(policy(allow("dynamodb:GetItem")), get(resource=TABLE + "x")) == IMPLICIT


def test_not_resource_allows_a_phone_number_and_not_a_topic():
    p = policy({"Effect": "Allow", "Action": "sns:Publish", "NotResource": "arn:aws:sns:*:*:*"})
    assert evaluate(p, Request("sns:Publish", "+12025550123")) == ALLOW
    assert evaluate(p, Request("sns:Publish", "arn:aws:sns:us-east-1:1:topic")) == IMPLICIT


def test_not_action_and_an_explicit_deny_wins_over_any_allow():
    p = policy(
        {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "dynamodb:DeleteItem", "Resource": "*"},
    )
    assert evaluate(p, get(resource="*")) == ALLOW
    assert evaluate(p, get(action="iam:CreateRole", resource="*")) == IMPLICIT
    assert evaluate(p, get(action="dynamodb:DeleteItem", resource="*")) == DENY


def test_for_all_values_needs_every_leading_key_to_match_and_holds_for_none():
    p = policy(allow("dynamodb:*", Condition=LEADING))
    assert evaluate(p, get("TENANT#1", "USER#2")) == ALLOW
    assert evaluate(p, get("TENANT#1", "SIGNINGKEY#2")) == IMPLICIT
    assert evaluate(p, get("SIGNINGKEY#2")) == IMPLICIT
    # As on AWS: ForAllValues over an empty set is true (a Scan names no partition key).
    assert evaluate(p, get()) == ALLOW
    assert evaluate(p, Request("dynamodb:Scan", TABLE)) == ALLOW


def test_for_all_values_string_equals_and_for_any_value():
    equals = policy(
        allow("dynamodb:*", Condition={"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": "A"}})
    )
    assert evaluate(equals, get("A", "A")) == ALLOW
    assert evaluate(equals, get("A*")) == IMPLICIT
    any_value = policy(
        allow("dynamodb:*", Condition={"ForAnyValue:StringLike": {"dynamodb:LeadingKeys": "U*"}})
    )
    assert evaluate(any_value, get("T", "U1")) == ALLOW
    assert evaluate(any_value, get("T")) == IMPLICIT
    assert evaluate(any_value, get()) == IMPLICIT


def test_single_valued_operators_need_the_key_unless_if_exists():
    like = policy(allow("ses:SendEmail", "*", Condition={"StringLike": {"ses:FromAddress": "*@a.com"}}))
    send = lambda ctx: Request("ses:SendEmail", "x", ctx)  # noqa: E731
    assert evaluate(like, send({"ses:FromAddress": ["me@a.com"]})) == ALLOW
    assert evaluate(like, send({"SES:fromaddress": ["me@a.com"]})) == ALLOW
    assert evaluate(like, send({"ses:FromAddress": ["me@b.com"]})) == IMPLICIT
    assert evaluate(like, send({})) == IMPLICIT
    equals = policy(
        allow("ses:SendEmail", "*", Condition={"StringEqualsIfExists": {"ses:FromAddress": "me@a.com"}})
    )
    assert evaluate(equals, send({})) == ALLOW
    assert evaluate(equals, send({"ses:FromAddress": ["you@a.com"]})) == IMPLICIT
    not_equals = policy(
        allow("ses:SendEmail", "*", Condition={"StringNotEquals": {"ses:FromAddress": "me@a.com"}})
    )
    assert evaluate(not_equals, send({"ses:FromAddress": ["you@a.com"]})) == ALLOW
    assert evaluate(not_equals, send({"ses:FromAddress": ["me@a.com"]})) == IMPLICIT


def test_what_it_cannot_evaluate_is_refused_not_guessed():
    for condition in (
        {"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}},
        {"Bool": {"aws:SecureTransport": "true"}},
    ):
        with pytest.raises(iam_policy.UnsupportedPolicy):
            evaluate(policy(allow("dynamodb:GetItem", Condition=condition)), get("A"))
    with pytest.raises(iam_policy.UnsupportedPolicy):
        evaluate(policy(allow("dynamodb:GetItem", TABLE + "/${aws:username}")), get("A"))


# ------------------------------------------------------------- the emulator, with real roles


def local_iam(*args) -> str:
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "local_iam.py"), *args],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "AWS_ENDPOINT_URL": os.environ["MOTO_URL"]},
    ).stdout


@pytest.fixture(scope="module")
def stack():
    """Fresh tables and the template's three roles for them."""
    run = uuid.uuid4().hex
    tables = {"directory": f"iam-directory-{run}", "codes": f"iam-codes-{run}"}
    admin = client("dynamodb")
    for name in tables.values():
        admin.create_table(
            TableName=name,
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
    common = ["--directory-table", tables["directory"], "--codes-table", tables["codes"],
              "--sender-identities", "piedpiper.com"]
    roles = json.loads(local_iam("roles", *common, "--prefix", f"iam{run[:12]}"))
    broken = json.loads(
        local_iam("roles", *common, "--prefix", f"iamx{run[:12]}",
                  "--without", "LoginFunction:dynamodb:BatchGetItem")
    )
    return {"tables": tables, "roles": roles, "broken": broken}


def client(service, credentials=None):
    """A client with the admin credentials of the environment, or with `credentials`."""
    keys = {}
    if credentials:
        keys = {
            "aws_access_key_id": credentials["AWS_ACCESS_KEY_ID"],
            "aws_secret_access_key": credentials["AWS_SECRET_ACCESS_KEY"],
            "aws_session_token": credentials["AWS_SESSION_TOKEN"],
        }
    return boto3.client(service, endpoint_url=os.environ["MOTO_URL"], region_name="us-east-1", **keys)


def key(pk):
    return {"pk": {"S": pk}, "sk": {"S": pk.split("#")[0]}}


def error_of(call):
    try:
        call()
    except ClientError as e:
        return e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]
    return None


def test_each_role_has_exactly_its_template_statements(stack):
    directory = stack["tables"]["directory"]
    start = client("dynamodb", stack["roles"]["start"])
    login = client("dynamodb", stack["roles"]["login"])
    denied = ("AccessDeniedException", 400)
    assert error_of(lambda: start.get_item(TableName=directory, Key=key("TENANT#1"))) is None
    assert error_of(lambda: start.get_item(TableName=directory, Key=key("SIGNINGKEY#1"))) == denied
    mixed = {directory: {"Keys": [key("TENANT#1"), key("SIGNINGKEY#1")]}}
    assert error_of(lambda: start.batch_get_item(RequestItems=mixed)) == denied
    assert error_of(lambda: start.scan(TableName=directory)) == denied
    assert error_of(lambda: start.put_item(TableName=directory, Item=key("TENANT#1"))) == denied
    assert error_of(lambda: login.put_item(TableName=directory, Item=key("USER#1"))) is None
    assert error_of(lambda: login.put_item(TableName=directory, Item=key("APIKEY#1"))) == denied
    # A transaction is authorized part by part, each on its own table and key.
    codes = stack["tables"]["codes"]
    parts = [
        {"Put": {"TableName": codes, "Item": key("CODE#1")}},
        {
            "Update": {
                "TableName": codes,
                "Key": key("LATESTCODE#2"),
                "UpdateExpression": "SET codeHash = :code",
                "ExpressionAttributeValues": {":code": {"S": "1"}},
            }
        },
    ]
    assert error_of(lambda: start.transact_write_items(TransactItems=parts)) is None
    parts.append({"Put": {"TableName": directory, "Item": key("TENANT#1")}})
    assert error_of(lambda: start.transact_write_items(TransactItems=parts)) == denied
    # Another table, with an allowed key: the resource is the table.
    other = f"iam-other-{uuid.uuid4().hex}"
    assert error_of(lambda: start.get_item(TableName=other, Key=key("TENANT#1"))) == denied


def test_a_removed_action_is_refused_and_only_that_one(stack):
    directory = stack["tables"]["directory"]
    broken = client("dynamodb", stack["broken"]["login"])
    batch = {directory: {"Keys": [key("TENANT#1"), key("USER#1")]}}
    assert error_of(lambda: broken.batch_get_item(RequestItems=batch)) == ("AccessDeniedException", 400)
    assert error_of(lambda: broken.get_item(TableName=directory, Key=key("TENANT#1"))) is None
    whole = client("dynamodb", stack["roles"]["login"])
    assert error_of(lambda: whole.batch_get_item(RequestItems=batch)) is None


def test_send_sends_sms_to_numbers_only_and_email_as_its_identity_only(stack):
    sns = client("sns", stack["roles"]["send"])
    assert error_of(lambda: sns.publish(PhoneNumber="+12025550123", Message="hi")) is None
    topic = client("sns").create_topic(Name=f"iam-{uuid.uuid4().hex}")["TopicArn"]
    assert error_of(lambda: sns.publish(TopicArn=topic, Message="hi")) == ("AuthorizationError", 403)
    login_sns = client("sns", stack["roles"]["login"])
    assert error_of(lambda: login_sns.publish(PhoneNumber="+12025550123", Message="hi")) == (
        "AuthorizationError",
        403,
    )
    client("sesv2").create_email_identity(EmailIdentity="piedpiper.com")
    ses = client("sesv2", stack["roles"]["send"])
    send = lambda sender: ses.send_email(  # noqa: E731
        FromEmailAddress=sender,
        Destination={"ToAddresses": ["someone@example.com"]},
        Content={"Simple": {"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "b"}}}},
    )
    assert error_of(lambda: send('"Pied Piper" <no-reply@piedpiper.com>')) is None
    other = f"{uuid.uuid4().hex}.example"
    client("sesv2").create_email_identity(EmailIdentity=other)
    assert error_of(lambda: send(f"me@{other}")) == ("AccessDeniedException", 403)


def test_moto_still_checks_signatures_and_keys(stack):
    start = dict(stack["roles"]["start"])
    wrong_secret = {**start, "AWS_SECRET_ACCESS_KEY": "x" * 40}
    forged = client("dynamodb", wrong_secret)
    assert error_of(lambda: forged.list_tables()) == ("InvalidSignatureException", 400)
    unknown = boto3.client(
        "dynamodb",
        endpoint_url=os.environ["MOTO_URL"],
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    assert error_of(lambda: unknown.list_tables()) == ("UnrecognizedClientException", 400)
    # An assumed role's key without its session token is not that role.
    no_token = boto3.client(
        "dynamodb",
        endpoint_url=os.environ["MOTO_URL"],
        region_name="us-east-1",
        aws_access_key_id=start["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=start["AWS_SECRET_ACCESS_KEY"],
    )
    assert error_of(lambda: no_token.list_tables()) == ("UnrecognizedClientException", 400)


def role_allowing(statement) -> dict:
    """Credentials of a fresh role whose one policy is `statement`."""
    caller = client("sts").get_caller_identity()
    name = f"iam-index-{uuid.uuid4().hex[:12]}"
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": caller["Arn"]}, "Action": "sts:AssumeRole"}
        ],
    }
    arn = client("iam").create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))[
        "Role"
    ]["Arn"]
    client("iam").put_role_policy(
        RoleName=name,
        PolicyName="only",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [statement]}),
    )
    assumed = client("sts").assume_role(RoleArn=arn, RoleSessionName=name)["Credentials"]
    return {
        "AWS_ACCESS_KEY_ID": assumed["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": assumed["SecretAccessKey"],
        "AWS_SESSION_TOKEN": assumed["SessionToken"],
    }


def test_a_query_of_an_index_is_authorized_on_the_index_not_the_table():
    table = f"iam-indexed-{uuid.uuid4().hex}"
    client("dynamodb").create_table(
        TableName=table,
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
            {"AttributeName": "userId", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "byUser",
                "KeySchema": [{"AttributeName": "userId", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    account = client("sts").get_caller_identity()["Account"]
    table_arn = f"arn:aws:dynamodb:us-east-1:{account}:table/{table}"
    by_index = {
        "TableName": table,
        "IndexName": "byUser",
        "KeyConditionExpression": "userId = :u",
        "ExpressionAttributeValues": {":u": {"S": "someone"}},
    }
    by_table = {
        "TableName": table,
        "KeyConditionExpression": "pk = :p",
        "ExpressionAttributeValues": {":p": {"S": "USER#1"}},
    }
    denied = ("AccessDeniedException", 400)
    index_only = client(
        "dynamodb",
        role_allowing(allow("dynamodb:Query", f"{table_arn}/index/byUser")),
    )
    assert error_of(lambda: index_only.query(**by_index)) is None
    assert error_of(lambda: index_only.query(**by_table)) == denied
    table_only = client("dynamodb", role_allowing(allow("dynamodb:Query", table_arn)))
    assert error_of(lambda: table_only.query(**by_table)) is None
    assert error_of(lambda: table_only.query(**by_index)) == denied
    # The leading key of a Query is the partition key value it names: the index's, for an index.
    user_ids = {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["user-*"]}}
    by_user_id = client(
        "dynamodb",
        role_allowing(allow("dynamodb:Query", f"{table_arn}/index/byUser", Condition=user_ids)),
    )
    named = {
        **by_index,
        "KeyConditionExpression": "#u = :u",
        "ExpressionAttributeNames": {"#u": "userId"},
    }
    assert error_of(lambda: by_user_id.query(**named)) == denied
    named["ExpressionAttributeValues"] = {":u": {"S": "user-1"}}
    assert error_of(lambda: by_user_id.query(**named)) is None
