"""A counting HTTP proxy in front of moto: every AWS call the functions make, counted at the
endpoint.

    python3 bench/count_proxy.py LISTEN_PORT UPSTREAM_URL

DynamoDB calls are counted by `X-Amz-Target` (`dynamodb:GetItem`), SES v2 by method and path
(`sesv2:POST /v2/email/outbound-emails`), SNS and other query-protocol services by `Action`
(`sns:Publish`). `GET /__counts` returns the counts as JSON; `GET /__busy` returns how long
calls were in flight (`busy_ms`, overlapping calls counted once): the time a function spent
waiting on AWS, this proxy's forwarding included. `POST /__reset` zeroes both.
Standard library only.
"""

import http.client
import json
import re
import socket
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

COUNTS = {}
INTERVALS = []  # (began, ended) of each forwarded call, time.monotonic() seconds
LOCK = threading.Lock()
UPSTREAM = urllib.parse.urlsplit(sys.argv[2])
SERVICE = re.compile(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/")
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te", "trailer"}


def operation(method, path, headers, body):
    auth = headers.get("Authorization", "")
    match = SERVICE.search(auth)
    service = match.group(1) if match else "unknown"
    target = headers.get("X-Amz-Target")
    if target:
        return f"{service}:{target.split('.')[-1]}"
    if service in ("sns", "sqs", "sts") or headers.get("Content-Type", "").startswith(
        "application/x-www-form-urlencoded"
    ):
        action = urllib.parse.parse_qs(body.decode("utf-8", "replace")).get("Action", ["?"])[0]
        return f"{service}:{action}"
    return f"{service}:{method} {urllib.parse.urlsplit(path).path}"


def busy_ms(intervals):
    """The length of the union of the intervals, in milliseconds."""
    total, reach = 0.0, None
    for began, ended in sorted(intervals):
        if reach is None or began > reach:
            total += ended - began
            reach = ended
        elif ended > reach:
            total += ended - reach
            reach = ended
    return total * 1000


class Proxy(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        # Headers and body leave in two writes; with Nagle's algorithm the body waits for the
        # client's delayed ACK (40 ms on Linux) on every call of a kept-alive connection.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def handle_one_request(self):
        # A call is in flight from its first byte: parsing it here is the emulator's time,
        # not the function's.
        try:
            self.rfile.peek(1)
        except OSError:
            pass
        self.arrived = time.monotonic()
        super().handle_one_request()

    def log_message(self, *args):
        pass

    def _own(self):
        if self.path == "/__counts":
            with LOCK:
                body = json.dumps(COUNTS, sort_keys=True).encode()
        elif self.path == "/__busy":
            with LOCK:
                body = json.dumps({"busy_ms": busy_ms(INTERVALS), "calls": len(INTERVALS)}).encode()
        elif self.path == "/__reset":
            with LOCK:
                COUNTS.clear()
                INTERVALS.clear()
            body = b"{}"
        else:
            return False
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        return True

    def _forward(self):
        if self._own():
            return
        began = self.arrived
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        op = operation(self.command, self.path, self.headers, body)
        with LOCK:
            COUNTS[op] = COUNTS.get(op, 0) + 1
        upstream = getattr(self.server.local, "conn", None)
        if upstream is None:
            upstream = http.client.HTTPConnection(UPSTREAM.hostname, UPSTREAM.port, timeout=30)
            self.server.local.conn = upstream
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        try:
            upstream.request(self.command, self.path, body=body, headers=headers)
            response = upstream.getresponse()
            data = response.read()
        except (http.client.HTTPException, OSError):
            upstream.close()
            self.server.local.conn = None
            raise
        self.send_response(response.status)
        for name, value in response.getheaders():
            if name.lower() not in HOP_BY_HOP and name.lower() != "content-length":
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()
        with LOCK:
            INTERVALS.append((began, time.monotonic()))

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _forward


class Server(ThreadingHTTPServer):
    daemon_threads = True
    local = threading.local()


if __name__ == "__main__":
    Server(("127.0.0.1", int(sys.argv[1])), Proxy).serve_forever()
