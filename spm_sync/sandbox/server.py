"""Threaded loopback HTTP(S) server shared by the Salesforce and HubSpot emulators.

Why: both emulators need the same plumbing — keep-alive HTTP/1.1 that the SDKs' connection pools
reuse, TLS, per-endpoint call counting, fault injection and rate limiting — and the vendor-specific
parts (routes, auth, error bodies) should be plain data and small hooks.

How to use it::

    from spm_sync.sandbox.faults import FaultConfig, RateLimiter
    from spm_sync.sandbox.server import HttpError, Request, Response, Route, SandboxServer

    class ItemsApi:
        def __init__(self, faults: FaultConfig) -> None:
            self.search_limit = RateLimiter(5, 1.0, name="search")   # 5 requests per rolling second
            self.server = SandboxServer(
                [
                    # method, regex (full match on the unquoted path), handler, endpoint name
                    Route("GET", r"/items/(?P<item_id>\\d+)", self.get_item, "items.get"),
                    Route("POST", r"/items/search", self.search, "items.search",
                          limiters=(self.search_limit,)),
                ],
                tls=True,                    # https + sandbox CA (server.ca_bundle)
                faults=faults,               # mutable at run time: server.faults.rate = 0.2
                auth=self.check_auth,        # Request -> Response (reject) | None (accept)
                on_throttle=self.throttled,  # (Request, retry_after_s, reason) -> vendor's 429 body
                on_error=self.error,         # (Request, status, message) -> vendor's error body
                limiters=(RateLimiter(100, 10.0, name="ten_secondly"),),  # server-wide
            )

        def get_item(self, request: Request) -> Response:
            item_id = request.params["item_id"]          # named regex groups
            if item_id == "0":
                raise HttpError(Response.json({"message": "not found"}, status=404))
            return Response.json({"id": item_id, "fields": request.args("fields")})

    api = ItemsApi(FaultConfig(rate=0.0, seed=7))
    with api.server:              # start()/stop(); port 0 picks a free port
        api.server.url            # "https://127.0.0.1:PORT"
        api.server.stats()        # {"total": n, "by_endpoint": {"items.get": n, ...}}

An emulator class can inherit `ServedEmulator` (set `self.server`) for start/stop/with/stats/faults.

Request pipeline: `GET /__sandbox/stats` is answered first (never counted, faulted or limited);
then the route is matched (404/405 via on_error) and counted under its name; then a fault may be
injected (throttle, 5xx, timeout, reset; truncate runs the handler and cuts the body in half);
then `auth`, then server-wide and route limiters (rejections go to on_throttle with the limiter's
name as reason), then the handler, then the optional `after` hook (e.g. rate-limit headers).
An unexpected handler exception becomes a 500 through on_error and is logged.
"""

from __future__ import annotations

import contextlib
import logging
import re
import socket
import socketserver
import ssl
import struct
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from email.message import Message
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self
from urllib.parse import parse_qs, unquote

import orjson

from spm_sync.sandbox import tls
from spm_sync.sandbox.faults import Fault, FaultConfig, FaultKind, RateLimiter

log = logging.getLogger("spm_sync.sandbox")

STATS_PATH = "/__sandbox/stats"
JSON_TYPE = "application/json;charset=UTF-8"
_ORJSON_OPTS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS


@dataclass
class Request:
    """One parsed HTTP request as handlers see it."""

    method: str
    path: str  # unquoted, without the query string
    query: dict[str, list[str]]
    headers: Message  # case-insensitive .get()
    body: bytes
    params: dict[str, str] = field(default_factory=dict)  # named groups of the route regex

    def json(self) -> Any:
        """The body parsed as JSON; a malformed body is the client's fault (400)."""
        try:
            return orjson.loads(self.body) if self.body else None
        except orjson.JSONDecodeError as exc:
            raise HttpError(Response.json({"message": f"malformed JSON: {exc}"}, status=400)) from exc

    def arg(self, name: str, default: str | None = None) -> str | None:
        """First value of a query parameter."""
        values = self.query.get(name)
        return values[0] if values else default

    def args(self, name: str) -> list[str]:
        """Every value of a query parameter (repeated keys, e.g. HubSpot `properties`)."""
        return self.query.get(name, [])


@dataclass
class Response:
    """Status, headers and body bytes; Content-Length is added when written."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(
        cls, payload: Any, status: int = 200, headers: dict[str, str] | None = None,
        content_type: str = JSON_TYPE,
    ) -> Response:
        """JSON via orjson (numpy scalars/arrays allowed)."""
        return cls(status, orjson.dumps(payload, option=_ORJSON_OPTS),
                   {"Content-Type": content_type, **(headers or {})})

    @classmethod
    def text(cls, text: str, status: int = 200, headers: dict[str, str] | None = None,
             content_type: str = "text/plain;charset=UTF-8") -> Response:
        """Plain text (or any text type via content_type)."""
        return cls(status, text.encode(), {"Content-Type": content_type, **(headers or {})})

    @classmethod
    def csv(cls, data: str | bytes, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        """CSV, as Bulk API 2.0 result pages are sent."""
        body = data.encode() if isinstance(data, str) else data
        return cls(status, body, {"Content-Type": "text/csv", **(headers or {})})

    @classmethod
    def empty(cls, status: int = 204, headers: dict[str, str] | None = None) -> Response:
        """No body (204 No Content by default)."""
        return cls(status, b"", dict(headers or {}))

    def truncated(self) -> Response:
        """This response with its body cut in half (the TRUNCATE fault)."""
        return Response(self.status, self.body[: len(self.body) // 2], dict(self.headers))


class HttpError(Exception):
    """Raise from a handler to answer with `response` (e.g. a vendor-shaped 404)."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


Handler = Callable[[Request], Response]
AuthHook = Callable[[Request], Response | None]
ThrottleHook = Callable[[Request, int, str], Response]
ErrorHook = Callable[[Request, int, str], Response]
AfterHook = Callable[[Request, Response], Response]


@dataclass(frozen=True)
class Route:
    """One endpoint: method, path regex (full match), handler, name used in stats and faults."""

    method: str
    pattern: str
    handler: Handler
    name: str
    limiters: tuple[RateLimiter, ...] = ()
    regex: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "regex", re.compile(self.pattern))


def default_throttle(request: Request, retry_after: int, reason: str) -> Response:
    """Generic 429 body when an emulator supplies none."""
    return Response.json({"status": "error", "message": f"rate limit exceeded ({reason})"}, status=429)


def default_error(request: Request, status: int, message: str) -> Response:
    """Generic error body when an emulator supplies none."""
    return Response.json({"status": "error", "message": message}, status=status)


_Outcome = Response | Fault


class SandboxServer:
    """A route table served on 127.0.0.1 by a threaded keep-alive HTTP/1.1 server."""

    def __init__(
        self,
        routes: Iterable[Route],
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        tls: bool = False,
        faults: FaultConfig | None = None,
        auth: AuthHook | None = None,
        on_throttle: ThrottleHook = default_throttle,
        on_error: ErrorHook = default_error,
        limiters: Sequence[RateLimiter] = (),
        after: AfterHook | None = None,
        tls_folder: Path | None = None,
    ) -> None:
        self.routes = list(routes)
        self.tls_folder = tls_folder  # keep the CA there (None: the process-wide throw-away CA)
        self.host = host
        self.port = port
        self.tls = tls
        self.faults = faults if faults is not None else FaultConfig()
        self.auth = auth
        self.on_throttle = on_throttle
        self.on_error = on_error
        self.limiters = tuple(limiters)
        self.after = after
        self.ssl_context: ssl.SSLContext | None = None
        self._httpd: _HttpServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()
        self._total = 0
        self._connections: set[socket.socket] = set()

    # ---- lifecycle -------------------------------------------------------------------------
    def start(self) -> SandboxServer:
        """Bind (port 0 = a free port) and serve in a daemon thread."""
        if self._httpd is not None:
            return self
        self.ssl_context = tls.material(self.tls_folder).server_context if self.tls else None
        self._stopping.clear()
        self._httpd = _HttpServer((self.host, self.port), _Handler, self)
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
            name=f"sandbox-{self.port}", daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting, drop open keep-alive connections, wake any hanging fault."""
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        self._stopping.set()
        httpd.shutdown()
        httpd.server_close()
        with self._lock:
            conns = list(self._connections)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """Base URL, e.g. https://127.0.0.1:54321 (valid once started)."""
        if self._httpd is None:
            raise RuntimeError("server not started")
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}"

    @property
    def ca_bundle(self) -> str | None:
        """CA file that verifies this server's certificate (None without TLS)."""
        return tls.ca_bundle(self.tls_folder) if self.tls else None

    # ---- stats ------------------------------------------------------------------------------
    def stats(self) -> dict[str, Any]:
        """Requests counted since start (or the last reset), by endpoint name."""
        with self._lock:
            return {"total": self._total, "by_endpoint": dict(sorted(self._counts.items()))}

    def reset_stats(self) -> None:
        """Zero the counters (a test measuring one phase's calls)."""
        with self._lock:
            self._counts.clear()
            self._total = 0

    def _count(self, name: str) -> None:
        with self._lock:
            self._counts[name] += 1
            self._total += 1

    def _track(self, conn: socket.socket, add: bool) -> None:
        with self._lock:
            if add:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)

    # ---- request pipeline -------------------------------------------------------------------
    def _match(self, request: Request) -> Route | None:
        """The route for the request; raises HttpError(404/405) when there is none."""
        path_matched = False
        for route in self.routes:
            found = route.regex.fullmatch(request.path)
            if found is None:
                continue
            if route.method == request.method:
                request.params = found.groupdict()
                return route
            path_matched = True
        status = 405 if path_matched else 404
        self._count("method_not_allowed" if path_matched else "not_found")
        raise HttpError(self.on_error(request, status, f"no route for {request.method} {request.path}"))

    def process(self, request: Request) -> _Outcome:
        """Answer one request: a Response, or a TIMEOUT/RESET Fault the socket layer acts on."""
        if request.path == STATS_PATH and request.method == "GET":
            return Response.json(self.stats())
        try:
            route = self._match(request)
            assert route is not None
            self._count(route.name)
            fault = self.faults.decide(route.name)
            if fault is not None and fault.kind not in (FaultKind.TRUNCATE, FaultKind.LOST_RESPONSE):
                return self._fault_response(request, fault)
            response = self._guarded(request, route)
        except HttpError as exc:
            return exc.response
        if fault is not None and fault.kind is FaultKind.LOST_RESPONSE:
            return fault  # carried out; the socket layer resets the connection instead of answering
        if self.after is not None:
            response = self.after(request, response)
        return response.truncated() if fault is not None else response

    def _fault_response(self, request: Request, fault: Fault) -> _Outcome:
        if fault.kind is FaultKind.THROTTLE:
            return self._throttled(request, self.faults.retry_after_s, "fault")
        if fault.kind is FaultKind.SERVER_ERROR:
            return self.on_error(request, fault.status, "injected server error")
        return fault

    def _throttled(self, request: Request, retry_after: int, reason: str) -> Response:
        response = self.on_throttle(request, retry_after, reason)
        response.headers.setdefault("Retry-After", str(retry_after))
        return response

    def _guarded(self, request: Request, route: Route) -> Response:
        """Auth, limiters, then the handler."""
        if self.auth is not None:
            rejected = self.auth(request)
            if rejected is not None:
                return rejected
        for limiter in (*self.limiters, *route.limiters):
            wait = limiter.acquire()
            if wait is not None:
                return self._throttled(request, wait, limiter.name)
        try:
            return route.handler(request)
        except HttpError:
            raise
        except Exception:
            log.exception("sandbox handler %s failed", route.name)
            return self.on_error(request, 500, "internal error in sandbox handler")

    def hang(self, seconds: float) -> None:
        """Wait for a TIMEOUT fault; returns early when the server stops."""
        self._stopping.wait(seconds)


class ServedEmulator:
    """Mixin for an emulator owning `self.server`: lifecycle, context manager, stats, faults.

    Why: each emulator otherwise repeats the same five delegating methods.
    """

    server: SandboxServer

    def start(self) -> Self:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stats(self) -> dict[str, Any]:
        """{"total": n, "by_endpoint": {...}} since start."""
        return self.server.stats()

    @property
    def faults(self) -> FaultConfig:
        """The live fault settings (e.g. `emulator.faults.rate = 0.2`)."""
        return self.server.faults


class _HttpServer(ThreadingHTTPServer):
    """ThreadingHTTPServer without reverse DNS on bind and without joining threads on close."""

    daemon_threads = True
    block_on_close = False
    request_queue_size = 128
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], handler: type[_Handler], app: SandboxServer) -> None:
        self.app = app
        super().__init__(address, handler)

    def server_bind(self) -> None:
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("sandbox connection error from %s", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    """Socket side: parse, hand to SandboxServer.process, write one buffer with Content-Length."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    timeout = 120  # reap idle keep-alive connections eventually
    server: _HttpServer

    def setup(self) -> None:
        context = self.server.app.ssl_context
        if context is not None:
            self.request.settimeout(self.timeout)
            self.request = context.wrap_socket(self.request, server_side=True)
        super().setup()
        self.server.app._track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass
        finally:
            self.server.app._track(self.connection, False)
            if self.server.app.ssl_context is not None:
                with contextlib.suppress(OSError):
                    self.connection.close()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        """Silence per-request logging (hot path)."""

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _dispatch(self) -> None:
        raw_path, _, query = self.path.partition("?")
        request = Request(
            method=self.command,
            path=unquote(raw_path),
            query=parse_qs(query, keep_blank_values=True),
            headers=self.headers,
            body=self._read_body(),
        )
        outcome = self.server.app.process(request)
        if isinstance(outcome, Response):
            self._write(outcome)
        elif outcome.kind is FaultKind.TIMEOUT:
            self.server.app.hang(self.server.app.faults.hang_s)
            self.close_connection = True
        else:
            self._reset()

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _dispatch

    def _write(self, response: Response) -> None:
        try:
            reason = HTTPStatus(response.status).phrase
        except ValueError:
            reason = ""
        lines = [f"HTTP/1.1 {response.status} {reason}", f"Date: {self.date_time_string()}"]
        lines += [f"{name}: {value}" for name, value in response.headers.items()]
        lines.append(f"Content-Length: {len(response.body)}")
        if response.headers.get("Connection", "").lower() == "close":
            self.close_connection = True
        elif self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self.wfile.write(head if self.command == "HEAD" else head + response.body)

    def _reset(self) -> None:
        """Abort the connection with a TCP RST (SO_LINGER 0) and no answer."""
        self.close_connection = True
        conn = self.connection
        self.server.app._track(conn, False)
        try:
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            raw = socket.socket(fileno=conn.detach())
            raw.close()
        except OSError:
            pass
