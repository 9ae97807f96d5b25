"""IAM enforced as AWS enforces it, for scripts/moto_server.py: which IAM requests (action and
resource ARN, with `dynamodb:LeadingKeys`) each DynamoDB, SES and SNS call makes, evaluated by
scripts/iam_policy.py against the caller's policies, and the refusal in each service's format."""

import json
import re
import sys
import uuid
from email.utils import parseaddr
from urllib.parse import urlparse

from werkzeug.exceptions import HTTPException

import iam_policy

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


def authorize_as_aws_does(raw_body: dict) -> None:
    """Once moto enforces IAM (`POST /moto-api/reset-auth` with "0"), DynamoDB, SES and SNS
    requests are authorized here instead of by moto's action-only check; moto still checks the
    signature against the caller's access key (an IAM user's, or an assumed role's with its
    session token) and handles IAM and STS itself. `raw_body["current"]` is the request's body as
    it came (moto_server.keeping_raw_body), which the signature covers."""
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
                body=self.raw_body or raw_body["current"],
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
