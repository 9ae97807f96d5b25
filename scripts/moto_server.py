"""Serves moto (DynamoDB, SES v2, SNS) on 127.0.0.1:PORT, single-threaded.

moto_server's threaded mode does not isolate conditional writes and transactions: concurrent
requests then see two winners where DynamoDB has one. One thread makes the emulator as atomic as
DynamoDB, so concurrency tests tell the truth.

Each email and SMS also gets a `sent_at` (UTC, ISO 8601), which moto does not record by itself:
the outbox (scripts/outbox.py) lists messages newest first by it.

`GET /moto-api/sent.json` answers like moto's `/moto-api/data.json` but with the SES and SNS
models only. data.json also dumps every DynamoDB item of every table; after a test run has made a
few hundred tables it takes seconds, during which this single thread serves nobody else.
"""

import json
import sys
from datetime import datetime, timezone

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
    app = with_sent_endpoint(DomainDispatcherApplication(create_backend_app))
    run_simple("127.0.0.1", port, app, threaded=False, use_reloader=False, use_debugger=False)


if __name__ == "__main__":
    main()
