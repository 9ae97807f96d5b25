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
`scripts/iam_policy.py` (its docstring lists what it evaluates and what it refuses to guess;
scripts/moto_iam.py builds the requests and the refusals):

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
import sys
from datetime import datetime, timezone

import moto.dynamodb.models as dynamodb_models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table
from moto.server import DomainDispatcherApplication, create_backend_app
from moto.ses.models import Message, RawMessage
from moto.sns.models import SMS
from werkzeug.serving import run_simple

import moto_iam


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
            raise moto_iam.Refused(404, json.dumps({"message": f"Configuration set <{name}> does not exist."}))
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
    moto_iam.authorize_as_aws_does(RAW_BODY)
    send_with_configuration_sets()
    app = keeping_raw_body(with_sent_endpoint(DomainDispatcherApplication(create_backend_app)))
    run_simple("127.0.0.1", port, app, threaded=False, use_reloader=False, use_debugger=False)


if __name__ == "__main__":
    main()
