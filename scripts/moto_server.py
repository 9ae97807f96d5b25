"""Serves moto (DynamoDB, SES v2, SNS) on 127.0.0.1:PORT, single-threaded.

moto_server's threaded mode does not isolate conditional writes and transactions: concurrent
requests then see two winners where DynamoDB has one. One thread makes the emulator as atomic as
DynamoDB, so concurrency tests tell the truth.

Each email and SMS also gets a `sent_at` (UTC, ISO 8601) in /moto-api/data.json, which moto does
not record by itself: the outbox (scripts/outbox.py) lists messages newest first by it.
"""

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


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 5055
    for model in (Message, RawMessage, SMS):
        stamp_send_time(model)
    app = DomainDispatcherApplication(create_backend_app)
    run_simple("127.0.0.1", port, app, threaded=False, use_reloader=False, use_debugger=False)


if __name__ == "__main__":
    main()
