"""Transport for the docs fakes: one `handle(Request) -> Reply` function served over a real socket
(HTTP, or HTTPS with a trustme CA) or plugged into `responses` for requests-based unit tests.

Why one seam: a fake's API behaviour is written once and checked both ways — `responses` for fast,
narrow tests of one client function, a loopback server for the real SDKs (urllib3 in hubspot-api-client
cannot be mocked by `responses`) and for end-to-end extract runs.
"""

from __future__ import annotations

import json
import re
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import trustme


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: bytes

    def param(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass
class Reply:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Request], Reply]


def json_reply(status: int, payload: Any, **headers: str) -> Reply:
    return Reply(status, json.dumps(payload).encode(), {"Content-Type": "application/json;charset=UTF-8", **headers})


def html_reply(status: int, title: str) -> Reply:
    """What a load balancer in front of an API sends on a bad gateway: HTML, not the API's JSON."""
    page = f"<html><head><title>{status} {title}</title></head><body><h1>{title}</h1></body></html>"
    return Reply(status, page.encode(), {"Content-Type": "text/html"})


class Scripted:
    """Call log and scripted faults shared by the fakes: `fail_next(pattern, reply)` answers the next
    request whose `METHOD path` matches with `reply` instead, once."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.times: list[float] = []  # monotonic arrival of each call, to check waits between them
        self.faults: list[tuple[re.Pattern[str], Reply]] = []

    def fail_next(self, pattern: str, reply: Reply) -> None:
        self.faults.append((re.compile(pattern), reply))

    def calls_to(self, pattern: str) -> int:
        return sum(1 for c in self.calls if re.search(pattern, c))

    def arrivals(self, pattern: str) -> list[float]:
        return [t for t, c in zip(self.times, self.calls, strict=True) if re.search(pattern, c)]

    def scripted(self, request: Request) -> Reply | None:
        """Log the call; the scripted fault for it, if any."""
        label = f"{request.method} {request.path}"
        self.calls.append(label)
        self.times.append(time.monotonic())
        for index, (pattern, fault) in enumerate(self.faults):
            if pattern.search(label):
                del self.faults[index]
                return fault
        return None


def make_request(method: str, url: str, headers: dict[str, str], body: bytes | str | None) -> Request:
    parts = urlsplit(url)
    raw = body.encode() if isinstance(body, str) else (body or b"")
    return Request(method.upper(), parts.path, parse_qs(parts.query, keep_blank_values=True),
                   {k.lower(): v for k, v in headers.items()}, raw)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, handler: Handler, context: ssl.SSLContext | None) -> None:
        super().__init__(("127.0.0.1", 0), _RequestHandler)
        self.handler = handler
        self.context = context

    def get_request(self) -> tuple[Any, Any]:
        sock, address = super().get_request()
        if self.context is not None:  # the handshake runs in the request's own thread (on first read)
            sock = self.context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, address


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body leave as two writes: no 40 ms delayed-ACK stall
    server: _Server

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        reply = self.server.handler(make_request(self.command, self.path, dict(self.headers.items()), body))
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's signature
        return None


@contextmanager
def serve(handler: Handler, *, tls_dir: Path | None = None) -> Iterator[tuple[str, Path | None]]:
    """Serve `handler` on 127.0.0.1; yields (base URL, CA bundle path or None). HTTPS when `tls_dir` is given."""
    context: ssl.SSLContext | None = None
    ca_path: Path | None = None
    if tls_dir is not None:
        ca = trustme.CA()
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
        ca_path = tls_dir / "docs-fake-ca.pem"
        ca.cert_pem.write_to_path(str(ca_path))
    server = _Server(handler, context)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    scheme = "https" if context else "http"
    try:
        yield f"{scheme}://127.0.0.1:{server.server_address[1]}", ca_path
    finally:
        server.shutdown()
        server.server_close()


def add_responses(mock: Any, base_url: str, handler: Handler) -> None:
    """Route every method under `base_url` of a `responses.RequestsMock` to `handler`."""

    def callback(request: Any) -> tuple[int, dict[str, str], bytes]:
        reply = handler(make_request(request.method, request.url, dict(request.headers), request.body))
        return reply.status, reply.headers, reply.body

    pattern = re.compile(re.escape(base_url.rstrip("/")) + r"/.*")
    for method in ("GET", "POST", "PATCH", "PUT", "DELETE"):
        mock.add_callback(method, pattern, callback=callback)
