"""A counting HTTP proxy in front of moto: every AWS call the functions make, counted at the
endpoint, with the sequential waves they made and the DynamoDB capacity they used.

    python3 bench/count_proxy.py LISTEN_PORT UPSTREAM_URL

DynamoDB calls are counted by `X-Amz-Target` (`dynamodb:GetItem`), SES v2 by method and path
(`sesv2:POST /v2/email/outbound-emails`), SNS and other query-protocol services by `Action`
(`sns:Publish`). `GET /__counts` returns the counts as JSON; `GET /__busy` returns how long
calls were in flight (`busy_ms`, overlapping calls counted once): the time a function spent
waiting on AWS, this proxy's forwarding included. `POST /__reset` zeroes both.

`GET /__stats` returns, since the last reset: `calls` (as `/__counts`), `waves` (DynamoDB calls
in sequential waves: calls whose intervals overlap, issued concurrently, count once; see
`waves`), `waves_all` (the same over every AWS call), `wcu`, `rcu` and the per-item detail of
each write (`writes`). `GET /__tables` returns each table's items and bytes. Capacity is only measured while `POST /__capacity?on=1` is in force
(`?on=0` ends it): the proxy then reads the items a call touches from moto before and after it
(`capacity.py`), calls that are neither counted nor timed as the function's.
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

import capacity

COUNTS = {}
INTERVALS = []  # (began, ended, operation) of each forwarded call, time.monotonic() seconds
WRITES = []  # capacity.Write of each DynamoDB write while capacity is measured
ERRORS = []  # capacity measurements that failed (stats: `capacity_errors`)
READS = []  # read units of each DynamoDB read while capacity is measured
CAPACITY = {"on": False}
LOCK = threading.Lock()
# While capacity is measured, one write at a time: its before and after images are its own.
WRITE_LOCK = threading.Lock()
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
    for began, ended, _ in sorted(intervals):
        if reach is None or began >= reach:
            total += ended - began
            reach = ended
        elif ended > reach:
            total += ended - reach
            reach = ended
    return total * 1000


def waves(intervals, service=None):
    """The number of sequential waves: groups of calls whose intervals overlap (calls a function
    issued concurrently), counted once each. `service` ("dynamodb") keeps only its calls.

    A call's interval runs from its first byte arriving to its answer leaving the proxy (the
    answer's end is taken before it is written), so a call made after the previous one's answer
    arrived never overlaps it."""
    count, reach = 0, None
    for began, ended, op in sorted(intervals):
        if service and not op.startswith(service + ":"):
            continue
        if reach is None or began >= reach:
            count += 1
            reach = ended
        else:
            reach = max(reach, ended)
    return count


def stats():
    return {
        "calls": dict(sorted(COUNTS.items())),
        "waves": waves(INTERVALS, "dynamodb"),
        "waves_all": waves(INTERVALS),
        "wcu": sum(w["wcu"] for w in WRITES),
        "rcu": sum(READS),
        "writes": list(WRITES),
        "capacity_errors": list(ERRORS),
        # Each call's interval, in ms from the first call's start (how the waves were counted).
        "intervals": [(op, round((b - first) * 1000, 3), round((e - first) * 1000, 3))
                      for b, e, op in sorted(INTERVALS)
                      for first in [min(i[0] for i in INTERVALS)]],
    }


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
        elif self.path == "/__tables":
            body = json.dumps(capacity.table_sizes()).encode()
        elif self.path == "/__stats":
            with LOCK:
                body = json.dumps(stats()).encode()
        elif self.path == "/__reset":
            with LOCK:
                COUNTS.clear()
                INTERVALS.clear()
                WRITES.clear()
                READS.clear()
                ERRORS.clear()
            body = b"{}"
        elif self.path.startswith("/__capacity"):
            CAPACITY["on"] = "on=1" in self.path
            body = json.dumps(CAPACITY).encode()
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
        action = op.split(":", 1)[1]
        measured = CAPACITY["on"] and op.startswith("dynamodb:")
        if measured and action in capacity.WRITES:
            with WRITE_LOCK:
                targets = self._measure(lambda: capacity.write_targets(action, body), [])
                before = self._measure(lambda: [capacity.image(t) for t in targets], None)
                response, data = self._upstream(body)
                after = self._measure(lambda: [capacity.image(t) for t in targets], None)
            if before is not None and after is not None:
                write = capacity.write_units(action, targets, before, after)
            else:
                write = {"action": action, "wcu": 0, "items": [], "error": "no images"}
            with LOCK:
                WRITES.append(write)
        else:
            response, data = self._upstream(body)
            if measured and action in capacity.READS:
                units = self._measure(lambda: capacity.read_units(action, body, data), 0)
                with LOCK:
                    READS.append(units)
        # The call ends before its answer is written: the function's next call cannot start
        # before it (see `waves`), and it is on record before the function has its answer (a
        # `/__stats` right after the function's response sees every call).
        with LOCK:
            INTERVALS.append((began, time.monotonic(), op))
        self.send_response(response.status)
        for name, value in response.getheaders():
            if name.lower() not in HOP_BY_HOP and name.lower() != "content-length":
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    @staticmethod
    def _measure(what, fallback):
        """A capacity measurement that fails is reported, never the function's call."""
        try:
            return what()
        except Exception as error:  # noqa: BLE001: any failure of the measurement alone
            print(f"capacity: {error!r}", file=sys.stderr, flush=True)
            with LOCK:
                ERRORS.append(repr(error))
            return fallback

    def _upstream(self, body):
        upstream = getattr(self.server.local, "conn", None)
        if upstream is None:
            upstream = http.client.HTTPConnection(UPSTREAM.hostname, UPSTREAM.port, timeout=30)
            self.server.local.conn = upstream
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        try:
            upstream.request(self.command, self.path, body=body, headers=headers)
            response = upstream.getresponse()
            return response, response.read()
        except (http.client.HTTPException, OSError):
            upstream.close()
            self.server.local.conn = None
            raise

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _forward


class Server(ThreadingHTTPServer):
    daemon_threads = True
    local = threading.local()


if __name__ == "__main__":
    capacity.UPSTREAM = UPSTREAM
    Server(("127.0.0.1", int(sys.argv[1])), Proxy).serve_forever()
