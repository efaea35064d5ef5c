"""Sandbox plumbing: routes, keep-alive, stats, faults, rate limits, TLS — seen by plain clients."""

from __future__ import annotations

import http.client
import threading
import time
from collections.abc import Iterator

import orjson
import pytest
import requests

from spm_sync.sandbox.faults import DEFAULT_KINDS, FaultConfig, FaultKind, RateLimiter
from spm_sync.sandbox.server import HttpError, Request, Response, Route, SandboxServer, ServedEmulator
from tests.clock import ManualClock


def _echo(request: Request) -> Response:
    return Response.json({"id": request.params.get("item_id"), "q": request.args("q"),
                          "body": request.json(), "method": request.method})


def _boom(request: Request) -> Response:
    raise RuntimeError("handler bug")


def _missing(request: Request) -> Response:
    raise HttpError(Response.json({"errorCode": "NOT_FOUND"}, status=404))


def _page(request: Request) -> Response:
    return Response.json({"results": [{"id": str(i), "name": f"record {i}"} for i in range(50)]})


def _auth(request: Request) -> Response | None:
    if request.headers.get("Authorization") == "Bearer good":
        return None
    return Response.json({"category": "INVALID_AUTHENTICATION"}, status=401)


def _throttled(request: Request, retry_after: int, reason: str) -> Response:
    return Response.json({"errorType": "RATE_LIMIT", "policyName": reason}, status=429)


def _error(request: Request, status: int, message: str) -> Response:
    return Response.json({"vendor_error": status, "message": message}, status=status)


SEARCH_LIMIT = RateLimiter(2, 30.0, name="search")


def _server(**kwargs: object) -> SandboxServer:
    routes = [
        Route("GET", r"/items/(?P<item_id>\d+)", _echo, "items.get"),
        Route("POST", r"/items", _echo, "items.create"),
        Route("GET", r"/boom", _boom, "boom"),
        Route("GET", r"/missing", _missing, "missing"),
        Route("GET", r"/page", _page, "page"),
        Route("POST", r"/search", _echo, "search", limiters=(SEARCH_LIMIT,)),
    ]
    return SandboxServer(routes, on_throttle=_throttled, on_error=_error, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def server() -> Iterator[SandboxServer]:
    SEARCH_LIMIT.reset()
    with _server() as srv:
        yield srv


def _conn(srv: SandboxServer, timeout: float = 5.0) -> http.client.HTTPConnection:
    return http.client.HTTPConnection(srv.host, srv.port, timeout=timeout)


def _get(conn: http.client.HTTPConnection, path: str) -> tuple[int, bytes, http.client.HTTPResponse]:
    conn.request("GET", path)
    resp = conn.getresponse()
    return resp.status, resp.read(), resp


def test_route_params_query_and_body(server: SandboxServer) -> None:
    resp = requests.get(f"{server.url}/items/42?q=a&q=b%20c", timeout=5)
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "application/json;charset=UTF-8"
    assert resp.json() == {"id": "42", "q": ["a", "b c"], "body": None, "method": "GET"}
    resp = requests.post(f"{server.url}/items", json={"x": 1}, timeout=5)
    assert resp.json() == {"id": None, "q": [], "body": {"x": 1}, "method": "POST"}


def test_not_found_method_not_allowed_handler_error(server: SandboxServer) -> None:
    conn = _conn(server)
    assert _get(conn, "/nope")[:2] == (404, b'{"vendor_error":404,"message":"no route for GET /nope"}')
    conn.request("DELETE", "/items/1")
    resp = conn.getresponse()
    expected = b'{"vendor_error":405,"message":"no route for DELETE /items/1"}'
    assert (resp.status, resp.read()) == (405, expected)
    status, body, _ = _get(conn, "/boom")
    assert (status, orjson.loads(body)["vendor_error"]) == (500, 500)
    assert _get(conn, "/missing")[:2] == (404, b'{"errorCode":"NOT_FOUND"}')
    conn.request("POST", "/items", body=b"{bad", headers={"Content-Type": "application/json"})
    assert conn.getresponse().status == 400


def test_keep_alive_reuses_one_connection(server: SandboxServer) -> None:
    conn = _conn(server)
    status, _, _ = _get(conn, "/items/1")
    sock = conn.sock
    assert status == 200 and sock is not None
    for i in range(5):
        assert _get(conn, f"/items/{i}")[0] == 200
    assert conn.sock is sock


def test_chunked_request_body(server: SandboxServer) -> None:
    conn = _conn(server)
    conn.request("POST", "/items", body=iter([b'{"a":', b' [1, 2]}']), encode_chunked=True,
                 headers={"Transfer-Encoding": "chunked"})
    assert orjson.loads(conn.getresponse().read())["body"] == {"a": [1, 2]}


def test_stats_counts_by_endpoint_and_ignores_itself(server: SandboxServer) -> None:
    conn = _conn(server)
    for path in ("/items/1", "/items/2", "/page", "/nope", "/__sandbox/stats"):
        _get(conn, path)
    expected = {"total": 4, "by_endpoint": {"items.get": 2, "not_found": 1, "page": 1}}
    assert orjson.loads(_get(conn, "/__sandbox/stats")[1]) == expected
    assert server.stats() == expected
    server.reset_stats()
    assert server.stats() == {"total": 0, "by_endpoint": {}}


def test_fault_decisions_are_reproducible_per_seed() -> None:
    def run(seed: int) -> list[tuple[str, int] | None]:
        cfg = FaultConfig(rate=0.5, seed=seed)
        out = []
        for _ in range(40):
            fault = cfg.decide("any")
            out.append(None if fault is None else (fault.kind.value, fault.status))
        return out

    first = run(3)
    assert first == run(3)
    assert first != run(4)
    faulted = [f for f in first if f is not None]
    assert 10 <= len(faulted) <= 30
    assert {kind for kind, _ in faulted} == {k.value for k in DEFAULT_KINDS}  # lost_response is opt-in
    assert {status for kind, status in faulted if kind == "server_error"} <= {500, 502, 503}


def test_fault_endpoint_filter_and_injected_counts() -> None:
    cfg = FaultConfig(rate=1.0, kinds=(FaultKind.RESET,), endpoints=frozenset({"a"}))
    assert cfg.decide("b") is None
    assert cfg.decide("a") is not None
    assert cfg.injected() == {"reset": 1}


def test_throttle_fault_uses_vendor_hook_and_retry_after(server: SandboxServer) -> None:
    server.faults = FaultConfig(rate=1.0, kinds=(FaultKind.THROTTLE,), retry_after_s=3)
    status, body, resp = _get(_conn(server), "/items/1")
    assert (status, body, resp.getheader("Retry-After")) == (
        429, b'{"errorType":"RATE_LIMIT","policyName":"fault"}', "3")
    assert server.stats()["by_endpoint"] == {"items.get": 1}


def test_server_error_fault_runtime_toggle(server: SandboxServer) -> None:
    conn = _conn(server)
    server.faults.inject(FaultKind.SERVER_ERROR, count=2, status=502)
    assert [_get(conn, "/items/1")[0] for _ in range(3)] == [502, 502, 200]
    server.faults.rate = 1.0
    server.faults.kinds = (FaultKind.SERVER_ERROR,)
    assert _get(conn, "/items/1")[0] in {500, 502, 503}
    server.faults.rate = 0.0
    assert _get(conn, "/items/1")[0] == 200


def test_truncate_fault_cuts_body_in_half(server: SandboxServer) -> None:
    conn = _conn(server)
    full = _get(conn, "/page")[1]
    server.faults.inject(FaultKind.TRUNCATE)
    status, body, _ = _get(conn, "/page")
    assert (status, body) == (200, full[: len(full) // 2])
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(body)
    assert _get(conn, "/page")[1] == full  # the connection stays usable


def test_reset_fault_aborts_connection(server: SandboxServer) -> None:
    server.faults.inject(FaultKind.RESET)
    conn = _conn(server)
    with pytest.raises(ConnectionResetError):
        _get(conn, "/items/1")
    assert _get(_conn(server), "/items/1")[0] == 200


def test_timeout_fault_outlasts_client_timeout(server: SandboxServer) -> None:
    server.faults.timeout_s = 0.2
    server.faults.inject(FaultKind.TIMEOUT)
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        _get(_conn(server, timeout=0.3), "/items/1")
    assert time.monotonic() - started >= 0.3


def test_stats_never_faulted_or_authenticated() -> None:
    with _server(faults=FaultConfig(rate=1.0), auth=_auth) as srv:
        resp = requests.get(f"{srv.url}/__sandbox/stats", timeout=5)
        assert resp.json() == {"total": 0, "by_endpoint": {}}


def test_auth_hook_rejects_and_accepts(server: SandboxServer) -> None:
    server.auth = _auth
    assert requests.get(f"{server.url}/items/1", timeout=5).status_code == 401
    ok = requests.get(f"{server.url}/items/1", headers={"Authorization": "Bearer good"}, timeout=5)
    assert ok.status_code == 200


def test_route_rate_limiter_rolls_over_window() -> None:
    clock = ManualClock()
    limiter = RateLimiter(3, 0.5, name="w", clock=clock)
    assert [limiter.acquire() for _ in range(4)] == [None, None, None, 1]
    clock.advance(0.25)
    assert limiter.acquire() == 1  # the first three still fill the window
    assert limiter.remaining() == 0
    clock.advance(0.25)  # exactly one window after the first three: they leave it
    assert limiter.remaining() == 3
    assert limiter.acquire() is None
    assert limiter.remaining() == 2


def test_route_limiter_answers_through_throttle_hook(server: SandboxServer) -> None:
    conn = _conn(server)
    statuses = []
    for _ in range(3):
        conn.request("POST", "/search", body=b"{}")
        resp = conn.getresponse()
        statuses.append((resp.status, resp.read()))
    assert statuses[:2] == [(200, statuses[0][1])] * 2
    assert statuses[2] == (429, b'{"errorType":"RATE_LIMIT","policyName":"search"}')
    assert resp.getheader("Retry-After") == "30"
    assert _get(conn, "/items/1")[0] == 200  # other endpoints unaffected


def test_server_wide_limiter() -> None:
    with _server(limiters=(RateLimiter(1, 60.0, name="daily"),)) as srv:
        conn = _conn(srv)
        assert [_get(conn, "/items/1")[0] for _ in range(2)] == [200, 429]


def test_tls_verified_with_ca_bundle() -> None:
    with _server(tls=True) as srv:
        assert srv.url.startswith("https://127.0.0.1:")
        session = requests.Session()
        session.trust_env = False
        session.verify = srv.ca_bundle
        for _ in range(3):
            assert session.get(f"{srv.url}/items/7", timeout=5).json()["id"] == "7"
        strict = requests.Session()
        strict.trust_env = False
        with pytest.raises(requests.exceptions.SSLError):
            strict.get(f"{srv.url}/items/7", timeout=5)
        srv.faults.inject(FaultKind.RESET)
        with pytest.raises(requests.exceptions.ConnectionError):
            session.get(f"{srv.url}/items/7", timeout=5)
        assert session.get(f"{srv.url}/items/8", timeout=5).status_code == 200


def test_stop_drops_keep_alive_connections() -> None:
    srv = _server().start()
    conn = _conn(srv)
    assert _get(conn, "/items/1")[0] == 200
    srv.stop()
    with pytest.raises((ConnectionError, http.client.HTTPException)):
        _get(conn, "/items/1")


def test_concurrent_clients_counted_exactly(server: SandboxServer) -> None:
    def worker() -> None:
        with requests.Session() as session:
            for i in range(25):
                assert session.get(f"{server.url}/items/{i}", timeout=5).status_code == 200

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert server.stats() == {"total": 200, "by_endpoint": {"items.get": 200}}


def test_served_emulator_mixin_delegates() -> None:
    class Emulator(ServedEmulator):
        def __init__(self) -> None:
            self.server = _server(faults=FaultConfig(rate=0.0, seed=5))

    with Emulator() as emulator:
        assert requests.get(f"{emulator.server.url}/page", timeout=5).status_code == 200
        emulator.faults.inject(FaultKind.SERVER_ERROR, status=500)
        assert requests.get(f"{emulator.server.url}/page", timeout=5).status_code == 500
        assert emulator.stats() == {"total": 2, "by_endpoint": {"page": 2}}
    with pytest.raises(RuntimeError):
        _ = emulator.server.url
