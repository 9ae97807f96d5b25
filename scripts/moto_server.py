"""Serves moto (DynamoDB, SES v2, SNS) on 127.0.0.1:PORT, single-threaded.

moto_server's threaded mode does not isolate conditional writes and transactions: concurrent
requests then see two winners where DynamoDB has one. One thread makes the emulator as atomic as
DynamoDB, so concurrency tests tell the truth.

Each email and SMS also gets a `sent_at` (UTC, ISO 8601), which moto does not record by itself:
the outbox (scripts/outbox.py) lists messages newest first by it.

`GET /moto-api/sent.json` answers like moto's `/moto-api/data.json` but with the SES and SNS
models only. data.json also dumps every DynamoDB item of every table; after a test run has made a
few hundred tables it takes seconds, during which this single thread serves nobody else.

Transactions back up only the items they touch. moto backs a `TransactWriteItems` up by deep-copying
each table it names, once per action: a login's transaction then costs time in proportion to every
item ever stored (moto never expires items). With 3,000 items a two-item transaction took 132 ms
instead of 5 ms, and the soak stalled past the SDK's 8 s timeout; with this, a 2-minute soak went
from 6.4 to 28 requests/s with no 5xx. Rollback restores every touched item, so transactions stay
all-or-nothing.

IAM is authorized as AWS does, once enforcement is on (`scripts/local_iam.py admin` switches it on
with `POST /moto-api/reset-auth` "0"; until then every call passes, as in plain moto). moto itself
would check DynamoDB, SES and SNS calls by action only, on resource "*", with no condition keys:
the template's table-scoped, `dynamodb:LeadingKeys`-conditioned statements would then deny
everything. So for those three services each request is turned into the authorizations AWS makes
for it, and each is evaluated against the caller's identity-based policies (moto's
`collect_policies()`: an IAM user's or an assumed role's inline and attached policies) by
`scripts/iam_policy.py` (its docstring lists what it evaluates and what it refuses to guess):

- DynamoDB: the action on `arn:aws:dynamodb:REGION:ACCOUNT:table/NAME`, with `dynamodb:LeadingKeys`
  the partition key values of the items the request names. BatchGetItem and BatchWriteItem once
  per table they touch, with all its keys; TransactWriteItems and TransactGetItems per part, as
  the part's item action (Put → PutItem, Update → UpdateItem, Delete → DeleteItem,
  ConditionCheck → ConditionCheckItem, Get → GetItem) on its own table. Query on the table, or
  on the index's ARN (`…:table/NAME/index/INDEX`) when it queries one, with LeadingKeys the
  partition key value its key condition names (the index's partition key for an index); Scan and
  the table operations on the table (a Scan of an index on the index), without LeadingKeys;
  ListTables on "*".
- SES v2 SendEmail: `arn:aws:ses:REGION:ACCOUNT:identity/X`, X the From address if that address
  is an identity, else its domain; with a `ConfigurationSetName`, also
  `arn:aws:ses:REGION:ACCOUNT:configuration-set/NAME`, as SES does. CreateEmailIdentity and DeleteEmailIdentity on the identity
  they name; anything else on "*". Every SES request carries the global key `aws:RequestedRegion`.
- SNS Publish: the topic or target ARN; to a phone number, the number itself (not an ARN, so
  `NotResource: arn:aws:sns:*:*:*` allows it); anything else on "*".

Any request must have every one of its authorizations allowed and none explicitly denied, or it
gets AccessDenied in the service's format (DynamoDB: 400 `AccessDeniedException`, JSON; SES v2:
403 `AccessDeniedException`; SNS: 403 `AuthorizationError`, XML), and the denial is printed to
stderr. moto's own signature check stays (unknown keys and bad signatures become DynamoDB's and
SES v2's `UnrecognizedClientException` / `InvalidSignatureException`), over the raw body (moto
signs a form body's re-encoding, which the Rust SDK's SNS calls would fail). IAM, STS and
`/moto-api/` (sent.json, reset-auth) are as moto handles them. Not modelled: resource-based
policies (SES sending authorization, SNS topic policies), permission boundaries, SCPs, session
policies, `ses:FromAddress` and other service condition keys.
"""

import copy
import io
import json
import re
import sys
import uuid
from datetime import datetime, timezone
from email.utils import parseaddr
from urllib.parse import urlparse

import moto.dynamodb.models as dynamodb_models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table
from moto.server import DomainDispatcherApplication, create_backend_app
from moto.ses.models import Message, RawMessage
from moto.sns.models import SMS
from werkzeug.exceptions import HTTPException
from werkzeug.serving import run_simple

import iam_policy


def stamp_send_time(model: type) -> None:
    init = model.__init__

    def stamped(self, *args, **kwargs):
        init(self, *args, **kwargs)
        self.sent_at = datetime.now(timezone.utc).isoformat(timespec="microseconds")

    model.__init__ = stamped


class TablesByReference:
    """Stands in for the `copy` module inside moto's DynamoDB backend: tables are not copied (the
    transaction wrapper below backs up their touched items instead); anything else is."""

    @staticmethod
    def deepcopy(value, memo=None):
        return value if isinstance(value, Table) else copy.deepcopy(value, memo)


def back_up_touched_items_only() -> None:
    transact = DynamoDBBackend.transact_write_items

    def transact_write_items(self, transact_items):
        backups = {}
        for action in transact_items:
            op = next(iter(action.values()), None)
            table = self.tables.get(op.get("TableName")) if isinstance(op, dict) else None
            if table is None:
                continue
            try:
                key = op.get("Key") or {
                    name: op["Item"][name]
                    for name in (table.hash_key_attr, table.range_key_attr)
                    if name is not None
                }
                hash_key, range_key = self.get_keys_value(table, key)
            except Exception:  # malformed: moto rejects the transaction before it writes
                continue
            slot = (table.name, hash_key, range_key)
            if slot not in backups:
                backups[slot] = (table, copy.deepcopy(table.get_item(hash_key, range_key)))
        try:
            return transact(self, transact_items)
        except Exception:
            for (_, hash_key, range_key), (table, item) in backups.items():
                if item is None:
                    table.delete_item(hash_key, range_key)
                elif range_key is not None:
                    table.items[hash_key][range_key] = item
                else:
                    table.items[hash_key] = item
            raise

    dynamodb_models.copy = TablesByReference
    DynamoDBBackend.transact_write_items = transact_write_items


# ------------------------------------------------------------------------------ IAM, as AWS does

# The services whose requests are authorized here (by the SigV4 signing name: SES v2 signs as
# "ses"); IAM, STS and everything else stay as moto handles them.
AUTHORIZED_HERE = ("dynamodb", "ses", "sns")

# DynamoDB operations whose items are named by `Key` or `Item` (one table, one partition key).
DYNAMODB_ITEM_ACTIONS = ("GetItem", "PutItem", "UpdateItem", "DeleteItem")
# Transaction parts: each is authorized as its item action, on its own table.
TRANSACT_PARTS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
    "Get": "GetItem",
}


class Refused(HTTPException):
    """An error response in the service's own format (moto's call_action sends `description`
    with `code` as the status and the handler's response headers)."""

    def __init__(self, status: int, body: str):
        super().__init__(description=body)
        self.code = status


def table_arn(partition: str, region: str, account: str, table: str) -> str:
    return f"arn:{partition}:dynamodb:{region}:{account}:table/{table}"


def partition_key_value(backend, table_name: str, item: dict | None) -> list[str]:
    """The partition key value a request names in `item` (a Key or an Item), as
    `dynamodb:LeadingKeys` carries it: the string, number or base64 binary as sent."""
    table = backend.tables.get(table_name)
    if table is None or not isinstance(item, dict):
        return []
    value = item.get(table.hash_key_attr)
    if not isinstance(value, dict) or not value:
        return []
    return [str(next(iter(value.values())))]


def query_partition_key(backend, body: dict) -> list[str] | None:
    """The partition key value a Query names (of the index it queries, if any), as
    `dynamodb:LeadingKeys` carries it; None when its key condition is not `key = :value`."""
    table = backend.tables.get(body.get("TableName", ""))
    if table is None:
        return None
    hash_key = table.hash_key_attr
    for index in table.indexes + table.global_indexes:
        if index.name == body.get("IndexName"):
            hash_key = next(k["AttributeName"] for k in index.schema if k["KeyType"] == "HASH")
    names = body.get("ExpressionAttributeNames") or {}
    values = body.get("ExpressionAttributeValues") or {}
    for part in re.split(r"\s+AND\s+", body.get("KeyConditionExpression", ""), flags=re.I):
        found = re.fullmatch(r"\s*\(?\s*(#?\w+)\s*=\s*(:\w+)\s*\)?\s*", part)
        if found and names.get(found[1], found[1]) == hash_key and found[2] in values:
            value = values[found[2]]
            if isinstance(value, dict) and value:
                return [str(next(iter(value.values())))]
    return None


def dynamodb_requests(handler, partition: str) -> list[iam_policy.Request]:
    """What DynamoDB authorizes for one request: per table it touches, the action and the table's
    ARN with the partition keys of the items (`dynamodb:LeadingKeys`); transactions per part, as
    the part's item action."""
    from moto.dynamodb.models import dynamodb_backends

    operation = handler._get_action()
    body = json.loads(handler.raw_body or b"{}")
    account, region = handler.current_account, handler.region
    backend = dynamodb_backends[account][region]
    arn = lambda table: table_arn(partition, region, account, table)  # noqa: E731
    leading = lambda table, item: partition_key_value(backend, table, item)  # noqa: E731

    def request(action: str, table: str, keys: list[str] | None) -> iam_policy.Request:
        context = {} if keys is None else {"dynamodb:LeadingKeys": keys}
        return iam_policy.Request(f"dynamodb:{action}", arn(table), context)

    if operation in DYNAMODB_ITEM_ACTIONS:
        table = body.get("TableName", "")
        return [request(operation, table, leading(table, body.get("Key") or body.get("Item")))]
    if operation == "BatchGetItem":
        return [
            request(operation, table, [k for key in spec.get("Keys", []) for k in leading(table, key)])
            for table, spec in body.get("RequestItems", {}).items()
        ]
    if operation == "BatchWriteItem":
        needed = []
        for table, writes in body.get("RequestItems", {}).items():
            keys = []
            for write in writes:
                put, delete = write.get("PutRequest", {}), write.get("DeleteRequest", {})
                keys += leading(table, put.get("Item") or delete.get("Key"))
            needed.append(request(operation, table, keys))
        return needed
    if operation in ("TransactWriteItems", "TransactGetItems"):
        needed = []
        for part in body.get("TransactItems", []):
            for kind, spec in part.items():
                action = TRANSACT_PARTS.get(kind)
                if action is None or not isinstance(spec, dict):
                    continue  # malformed: moto refuses it
                table = spec.get("TableName", "")
                needed.append(request(action, table, leading(table, spec.get("Key") or spec.get("Item"))))
        return needed
    if operation == "ListTables":
        return [iam_policy.Request("dynamodb:ListTables", "*")]
    if operation == "Query":
        table = body.get("TableName", "")
        resource = arn(table) + (f"/index/{body['IndexName']}" if body.get("IndexName") else "")
        keys = query_partition_key(backend, body)
        context = {} if keys is None else {"dynamodb:LeadingKeys": keys}
        return [iam_policy.Request("dynamodb:Query", resource, context)]
    if operation == "Scan" and body.get("IndexName"):
        index_arn = f"{arn(body.get('TableName', ''))}/index/{body['IndexName']}"
        return [iam_policy.Request("dynamodb:Scan", index_arn, {})]
    # Query, Scan, CreateTable, DescribeTable, UpdateTimeToLive…: the table, no LeadingKeys.
    return [request(operation, body.get("TableName", ""), None)]


def ses_requests(handler, partition: str) -> list[iam_policy.Request]:
    """SES v2 SendEmail is authorized on the identity it sends as: the From address if that
    address is an identity, else its domain. Other SES calls (the harness registering identities)
    on the identity they name, else "*". Each with the global key `aws:RequestedRegion`."""
    from moto.ses.models import ses_backends

    account, region = handler.current_account, handler.region
    identity_arn = lambda x: f"arn:{partition}:ses:{region}:{account}:identity/{x}"  # noqa: E731
    context = {"aws:RequestedRegion": [region]}
    path, method = handler.path, handler.method
    body = json.loads(handler.raw_body or b"{}") if handler.raw_body else {}
    if method == "POST" and path.rstrip("/").endswith("/v2/email/outbound-emails"):
        _, address = parseaddr(body.get("FromEmailAddress", ""))
        identities = ses_backends[account][region].email_identities
        identity = address if address in identities else address.rpartition("@")[2]
        needed = [iam_policy.Request("ses:SendEmail", identity_arn(identity), context)]
        if body.get("ConfigurationSetName"):
            configuration_set = f"arn:{partition}:ses:{region}:{account}:configuration-set/"
            needed.append(
                iam_policy.Request("ses:SendEmail", configuration_set + body["ConfigurationSetName"], context)
            )
        return needed
    if method == "POST" and path.rstrip("/").endswith("/v2/email/identities"):
        return [iam_policy.Request("ses:CreateEmailIdentity", identity_arn(body.get("EmailIdentity", "")), context)]
    if "/v2/email/identities/" in path and method == "DELETE":
        name = path.rstrip("/").rpartition("/")[2]
        return [iam_policy.Request("ses:DeleteEmailIdentity", identity_arn(name), context)]
    return [iam_policy.Request(f"ses:{handler._get_action()}", "*", context)]


def sns_requests(handler, partition: str) -> list[iam_policy.Request]:
    """SNS Publish to a topic or endpoint is authorized on its ARN; a direct SMS to a phone number
    names no SNS resource (so `NotResource: arn:aws:sns:*:*:*` allows it and a topic ARN does not):
    the number stands for it here."""
    form = handler.querystring  # moto's parse of the form body and the query string
    first = lambda name: (form.get(name) or [None])[0]  # noqa: E731
    action = first("Action") or handler._get_action()
    if action == "Publish":
        target = first("TopicArn") or first("TargetArn") or first("PhoneNumber") or ""
        return [iam_policy.Request("sns:Publish", target)]
    return [iam_policy.Request(f"sns:{action}", first("TopicArn") or "*")]


REQUESTS_OF = {"dynamodb": dynamodb_requests, "ses": ses_requests, "sns": sns_requests}


def policy_documents(access_key) -> list[dict]:
    """The caller's identity-based policies (inline and attached), as documents."""
    from moto.iam.access_control import IAMPolicy

    return [IAMPolicy(policy)._policy_json for policy in access_key.collect_policies()]


def refusal(
    service: str, principal: str, request: iam_policy.Request, why: str
) -> tuple[Refused, dict[str, str]]:
    """AccessDenied as each service answers it."""
    message = (
        f"User: {principal} is not authorized to perform: {request.action} on resource: "
        f"{request.resource} because {why}"
    )
    if service == "dynamodb":
        body = json.dumps(
            {"__type": "com.amazon.coral.service#AccessDeniedException", "Message": message}
        )
        return Refused(400, body), {"Content-Type": "application/x-amz-json-1.0"}
    if service == "ses":
        return Refused(403, json.dumps({"message": message})), {
            "Content-Type": "application/json",
            "x-amzn-ErrorType": "AccessDeniedException",
        }
    body = (
        '<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type>'
        f"<Code>AuthorizationError</Code><Message>{message}</Message></Error>"
        f"<RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>"
    )
    return Refused(403, body), {"Content-Type": "text/xml"}


def authentication_failure(service: str, failed: Exception) -> tuple[Refused, dict[str, str]]:
    """An unknown access key or a bad signature, as DynamoDB and SES v2 answer them (moto answers
    in IAM's XML, which their SDKs cannot parse)."""
    from moto.core.exceptions import InvalidClientTokenIdError

    if isinstance(failed, InvalidClientTokenIdError):
        code, message = (
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
        )
    else:
        code, message = (
            "InvalidSignatureException",
            "The request signature we calculated does not match the signature you provided.",
        )
    if service == "dynamodb":
        body = json.dumps({"__type": f"com.amazon.coral.service#{code}", "message": message})
        return Refused(400, body), {"Content-Type": "application/x-amz-json-1.0"}
    return Refused(403, json.dumps({"message": message})), {
        "Content-Type": "application/json",
        "x-amzn-ErrorType": code,
    }


def authorize_as_aws_does() -> None:
    """Once moto enforces IAM (`POST /moto-api/reset-auth` with "0"), DynamoDB, SES and SNS
    requests are authorized here instead of by moto's action-only check; moto still checks the
    signature against the caller's access key (an IAM user's, or an assumed role's with its
    session token) and handles IAM and STS itself."""
    from moto import settings
    from moto.core.authorization import ActionAuthenticatorMixin
    from moto.core.exceptions import InvalidClientTokenIdError, SignatureDoesNotMatchError
    from moto.iam.access_control import IAMRequest
    from moto.utilities.utils import get_partition

    original = ActionAuthenticatorMixin._authenticate_and_authorize_action

    def authenticate_and_authorize(self, iam_request_cls, resource="*"):
        enforcing = ActionAuthenticatorMixin.request_count >= settings.INITIAL_NO_AUTH_ACTION_COUNT
        authorization = self.headers.get("Authorization") or ""
        service = authorization.partition("Credential=")[2].split(",")[0].split("/")[3:4]
        if not enforcing or iam_request_cls is not IAMRequest or service[:1] == [] or service[0] not in AUTHORIZED_HERE:
            return original(self, iam_request_cls, resource)
        service = service[0]
        path = self.raw_path
        if urlparse(self.uri).query:
            path += "?" + urlparse(self.uri).query
        # moto signs a bodiless GET or DELETE over its parsed parameters, as if they were a form
        # body (so its own check refuses every SES v2 DeleteEmailIdentity): the payload is empty.
        bodiless = self.method in ("GET", "DELETE", "HEAD") and not self.raw_body
        try:
            iam_request = IAMRequest(
                account_id=self.current_account,
                method=self.method,
                path=path,
                data=b"" if bodiless else self.data,
                body=self.raw_body or RAW_BODY["current"],
                headers=self.headers,
                action=self._get_action(),
            )
            iam_request.check_signature()
        except (InvalidClientTokenIdError, SignatureDoesNotMatchError) as failed:
            if service == "sns":
                raise  # moto's XML is SNS's format
            error, headers = authentication_failure(service, failed)
            self.response_headers.update(headers)
            raise error
        principal = iam_request._access_key.arn
        partition = get_partition(self.region)
        try:
            policies = policy_documents(iam_request._access_key)
            for needed in REQUESTS_OF[service](self, partition):
                decision = iam_policy.evaluate(policies, needed)
                if decision != iam_policy.ALLOW:
                    why = (
                        "an explicit deny in an identity-based policy applies"
                        if decision == iam_policy.DENY
                        else f"no identity-based policy allows the {needed.action} action"
                    )
                    error, headers = refusal(service, principal, needed, why)
                    break
            else:
                return
        except iam_policy.UnsupportedPolicy as unsupported:
            needed = iam_policy.Request(f"{service}:{self._get_action()}", "*")
            error, headers = refusal(
                service, principal, needed, f"scripts/iam_policy.py cannot evaluate: {unsupported}"
            )
        print(f"IAM denied: {error.description}", file=sys.stderr, flush=True)
        self.response_headers.update(headers)
        raise error

    ActionAuthenticatorMixin._authenticate_and_authorize_action = authenticate_and_authorize


def send_with_configuration_sets() -> None:
    """SES v2 SendEmail with a `ConfigurationSetName`, as SES answers it: moto ignores the name
    (it neither checks that the set exists nor keeps it). Here an unknown set is SES's 404
    `NotFoundException`, and each message keeps `configuration_set_name` (in sent.json), so
    tests can see which set an email went out with. moto publishes no bounce or complaint events
    for a set (it has no SES v2 event destinations): tests deliver those to the suppress function
    as SNS would."""
    from moto.ses.models import ses_backends
    from moto.sesv2.responses import SESV2Response

    send_email = SESV2Response.send_email

    def send_email_with_set(self):
        name = json.loads(self.body or "{}").get("ConfigurationSetName")
        backend = ses_backends[self.current_account][self.region]
        if name and name not in backend.config_sets:
            self.response_headers.update(
                {"Content-Type": "application/json", "x-amzn-ErrorType": "NotFoundException"}
            )
            raise Refused(404, json.dumps({"message": f"Configuration set <{name}> does not exist."}))
        answer = send_email(self)
        message_id = json.loads(answer).get("MessageId")
        for message in backend.sent_messages:
            if getattr(message, "id", None) == message_id:
                message.configuration_set_name = name
        return answer

    SESV2Response.send_email = send_email_with_set


SENT_SERVICES = ("ses", "sns")


def sent_json() -> bytes:
    """The SES and SNS part of /moto-api/data.json, built the way moto builds that."""
    from moto.core.model_instances import model_data

    results = {}
    for service in SENT_SERVICES:
        results[service] = {}
        for name, model in model_data.get(service, {}).items():
            instances = []
            for instance in getattr(model, "instances_tracked", []):
                fields = {}
                for attr in dir(instance):
                    if attr.startswith("_"):
                        continue
                    try:
                        value = getattr(instance, attr)
                        json.dumps(value)
                    except (TypeError, AttributeError, ValueError):
                        continue
                    fields[attr] = value
                instances.append(fields)
            results[service][name] = instances
    return json.dumps(results).encode()


# The body of the request being served, as it came (one request at a time: single-threaded).
# moto parses a form body (SNS) away before its signature check, which then signs Python's
# re-encoding of the parameters: the Rust SDK encodes them differently, and every SNS call it
# signs would fail the check.
RAW_BODY = {"current": b""}


def keeping_raw_body(app):
    def serve(environ, start_response):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        RAW_BODY["current"] = body
        environ["wsgi.input"] = io.BytesIO(body)
        return app(environ, start_response)

    return serve


def with_sent_endpoint(app):
    def serve(environ, start_response):
        if environ.get("PATH_INFO") == "/moto-api/sent.json":
            body = sent_json()
            start_response(
                "200 OK",
                [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
            )
            return [body]
        return app(environ, start_response)

    return serve


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 5055
    for model in (Message, RawMessage, SMS):
        stamp_send_time(model)
    back_up_touched_items_only()
    authorize_as_aws_does()
    send_with_configuration_sets()
    app = keeping_raw_body(with_sent_endpoint(DomainDispatcherApplication(create_backend_app)))
    run_simple("127.0.0.1", port, app, threaded=False, use_reloader=False, use_debugger=False)


if __name__ == "__main__":
    main()
