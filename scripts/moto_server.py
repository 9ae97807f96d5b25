"""Serves moto (DynamoDB, SES v2, SNS) on 127.0.0.1:PORT, single-threaded.

moto_server's threaded mode does not isolate conditional writes and transactions: concurrent
requests then see two winners where DynamoDB has one. One thread makes the emulator as atomic as
DynamoDB, so concurrency tests tell the truth.
"""

import sys

from moto.server import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 5055
    app = DomainDispatcherApplication(create_backend_app)
    run_simple("127.0.0.1", port, app, threaded=False, use_reloader=False, use_debugger=False)


if __name__ == "__main__":
    main()
