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
"""

import copy
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
    app = with_sent_endpoint(DomainDispatcherApplication(create_backend_app))
    run_simple("127.0.0.1", port, app, threaded=False, use_reloader=False, use_debugger=False)


if __name__ == "__main__":
    main()
