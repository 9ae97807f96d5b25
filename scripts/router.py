"""The local API Gateway's routing: one port, each function's path to that function's own
`cargo lambda watch`, so that each runs as its own process with its own role's credentials
(scripts/serve_functions.sh). Python's standard library only, bound to 127.0.0.1.

    router.py PORT [METHOD ]PATH=HOST:PORT...

Each route is a method and a path as template.yaml's HttpApi events write them (`{name}` matches
one segment, `{name+}` the rest); a route without a method takes every method. A request goes to
the most specific route (most literal segments) of its method and path. A path that only one
backend serves goes to it whatever the method, so that the function answers methods it has no
route for as one watch serving it did; anything else gets API Gateway's 404
`{"message":"Not Found"}`.
Status, headers (every Set-Cookie) and body come back as the backend sent them; no streaming.
"""

from __future__ import annotations

import http.client
import socket
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
}


class Backend(http.client.HTTPConnection):
    """A connection to a backend that sends without waiting on Nagle's algorithm."""

    def connect(self):
        super().connect()
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class Router(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    routes: list[tuple[str | None, list[str], tuple[str, int]]] = []

    def setup(self):
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format, *args):  # quiet: the functions log their requests
        pass

    def read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            body = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return body
                body += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def forward(self):
        body = self.read_body()
        route = self.backend_for(self.command, self.path.split("?", 1)[0])
        if route is None:
            self.answer(404, "application/json", b'{"message":"Not Found"}')
            return
        host, port = route
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        if body or self.command in ("POST", "PUT", "PATCH"):
            headers["Content-Length"] = str(len(body))
        backend = Backend(host, port, timeout=60)
        try:
            backend.request(self.command, self.path, body=body, headers=headers)
            response = backend.getresponse()
            payload = response.read()
            self.send_response_only(response.status, response.reason)
            for name, value in response.getheaders():
                if name.lower() not in HOP_BY_HOP and name.lower() != "content-length":
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)
        except OSError as error:
            message = f"router: backend {host}:{port} failed: {error}\n".encode()
            self.answer(502, "text/plain", message)
        finally:
            backend.close()

    @classmethod
    def backend_for(cls, method: str, path: str) -> tuple[str, int] | None:
        on_path = [(m, target) for m, pattern, target in cls.routes if matches(pattern, path)]
        for route_method, target in on_path:
            if route_method in (None, method):
                return target
        if len({target for _, target in on_path}) == 1:
            return on_path[0][1]
        return None

    def answer(self, status: int, content_type: str, body: bytes):
        self.send_response_only(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def __getattr__(self, name):
        # Every method (TRACE, PROPFIND…) goes to the function, as it did through one watch.
        if name.startswith("do_"):
            return self.forward
        raise AttributeError(name)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128


def matches(pattern: list[str], path: str) -> bool:
    segments = path.split("/")
    for index, part in enumerate(pattern):
        if part.startswith("{") and part.endswith("+}"):
            return len(segments) > index and segments[index] != ""
        if index >= len(segments):
            return False
        if part.startswith("{") and part.endswith("}"):
            if segments[index] == "":
                return False
        elif part != segments[index]:
            return False
    return len(segments) == len(pattern)


def specificity(route) -> int:
    return sum(1 for part in route[1] if not part.startswith("{"))


def address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    return host, int(port)


def main() -> None:
    port, routes = int(sys.argv[1]), []
    for arg in sys.argv[2:]:
        route, _, target = arg.rpartition("=")
        method, _, path = route.rpartition(" ")
        routes.append((method.upper() or None, path.split("/"), address(target)))
    Router.routes = sorted(routes, key=specificity, reverse=True)
    Server(("127.0.0.1", port), Router).serve_forever()


if __name__ == "__main__":
    main()
