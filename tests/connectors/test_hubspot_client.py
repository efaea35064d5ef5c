"""HubSpotClient over real loopback HTTP: paths, pacing, retries, 429s, truncation, budget, secrets."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from spm_sync.calls import ApiCalls
from spm_sync.config import HubSpotRateLimit, HubSpotSource
from spm_sync.connectors.hubspot.client import HubSpotClient, Unavailable, family_of, versioned_path
from spm_sync.connectors.hubspot.pacing import Pacer, portal_pacer
from spm_sync.errors import AuthError, BudgetExhausted, ConnectorError
from spm_sync.sandbox.faults import FaultConfig, FaultKind
from spm_sync.sandbox.server import Request, Response, Route, SandboxServer
from tests.clock import ManualClock

TOKEN = "pat-na1-secret-token-123"


@pytest.mark.parametrize(
    ("version", "kind", "parts", "expected"),
    [
        ("v3", "objects", ("deals",), "/crm/v3/objects/deals"),
        ("2026-03", "objects", ("deals",), "/crm/objects/2026-03/deals"),
        ("v3", "objects", ("p_widgets", "search"), "/crm/v3/objects/p_widgets/search"),
        ("2026-03", "objects", ("2-123", "search"), "/crm/objects/2026-03/2-123/search"),
        ("v3", "associations", ("deals", "companies", "batch/read"), "/crm/v4/associations/deals/companies/batch/read"),
        ("2026-03", "associations", ("deals", "companies", "batch/read"),
         "/crm/associations/2026-03/deals/companies/batch/read"),
        ("v3", "properties", ("contacts",), "/crm/v3/properties/contacts"),
        ("2026-03", "pipelines", ("deals",), "/crm/pipelines/2026-03/deals"),
        ("v3", "owners", (), "/crm/v3/owners"),
        ("2026-03", "owners", (), "/crm/owners/2026-03"),
    ],
)
def test_versioned_path(version: str, kind: str, parts: tuple[str, ...], expected: str) -> None:
    assert versioned_path(version, kind, *parts) == expected


@pytest.mark.parametrize(
    ("method", "path", "family"),
    [
        ("GET", "/crm/v3/objects/deals", "objects.deals.list"),
        ("GET", "/crm/objects/2026-03/deals", "objects.deals.list"),
        ("POST", "/crm/v3/objects/deals/search", "objects.deals.search"),
        ("POST", "/crm/v3/objects/deals/batch/read", "objects.deals.batch.read"),
        ("POST", "/crm/v4/associations/calls/deals/batch/read", "associations.calls.deals.batch.read"),
        ("GET", "/crm/v3/owners", "owners"),
        ("GET", "/crm/v3/objects/deals/123", "objects.deals"),
    ],
)
def test_family_of(method: str, path: str, family: str) -> None:
    assert family_of(method, path) == family


def test_pacer_keeps_rolling_windows() -> None:
    clock = ManualClock()
    pacer = Pacer(HubSpotRateLimit(requests_per_10s=3, search_per_second=2), clock=clock, sleep=clock.sleep)
    for _ in range(3):
        pacer.wait()
    assert clock.slept == []
    pacer.wait()  # the 4th request of a 3-per-10s window waits for the 1st to leave it (+ margin)
    assert clock.slept == [10.05]


def test_pacer_counts_a_request_from_its_answer() -> None:
    clock = ManualClock()
    pacer = Pacer(HubSpotRateLimit(requests_per_10s=2, search_per_second=5), clock=clock, sleep=clock.sleep)
    first = pacer.wait()
    clock.now += 3.0  # a slow answer: the portal may have stamped it as late as now
    pacer.done(first)
    pacer.done(pacer.wait())
    pacer.wait()  # the window frees 10.05 s after the first answer, not after its send
    assert clock.slept == [13.05 - 3.0]


def test_pacer_search_window_and_pause() -> None:
    clock = ManualClock()
    pacer = Pacer(HubSpotRateLimit(requests_per_10s=100, search_per_second=2), clock=clock, sleep=clock.sleep)
    pacer.wait(search=True)
    pacer.wait(search=True)
    pacer.wait()  # a plain request does not queue behind the search window
    pacer.wait(search=True)  # third search within one second: wait for the search window
    assert clock.slept == [1.02]
    pacer.pause(5)
    pacer.wait()
    assert clock.slept == [1.02, 5.0]


class FakeHubSpot:
    """A tiny HubSpot-shaped route table on the sandbox's server plumbing."""

    def __init__(self) -> None:
        self.faults = FaultConfig(rate=0.0, retry_after_s=2)
        self.seen_auth: list[str | None] = []
        self.server = SandboxServer(
            [
                Route("GET", r"/crm/(v3/objects|objects/2026-03)/deals", self.page, "list"),
                Route("GET", r"/crm/v3/objects/nothing", self.no_results, "nothing"),
                Route("GET", r"/crm/v3/objects/feedback_submissions", self.missing_scope, "scope"),
                Route("GET", r"/crm/v3/objects/bad", self.bad_request, "bad"),
            ],
            faults=self.faults,
            after=self.headers,
        )

    def page(self, request: Request) -> Response:
        self.seen_auth.append(request.headers.get("Authorization"))
        props = request.args("properties")
        return Response.json({"results": [{"id": "1", "properties": dict.fromkeys(props, "x")}]})

    def no_results(self, request: Request) -> Response:
        return Response.json({"status": "ok"})

    def missing_scope(self, request: Request) -> Response:
        return Response.json(
            {"status": "error", "message": "This app hasn't been granted all required scopes",
             "category": "MISSING_SCOPES", "correlationId": "abc"}, status=403)

    def bad_request(self, request: Request) -> Response:
        return Response.json({"status": "error", "message": "Invalid input", "category": "VALIDATION_ERROR"},
                             status=400)

    def headers(self, request: Request, response: Response) -> Response:
        response.headers["X-HubSpot-RateLimit-Daily"] = "500000"
        response.headers["X-HubSpot-RateLimit-Daily-Remaining"] = "499000"
        return response


@pytest.fixture
def fake() -> Iterator[FakeHubSpot]:
    api = FakeHubSpot()
    with api.server:
        yield api


def make_client(fake: FakeHubSpot, *, budget: int | None = None, version: str = "v3",
                clock: ManualClock | None = None) -> tuple[HubSpotClient, ApiCalls, ManualClock]:
    clock = clock or ManualClock()
    config = HubSpotSource(name="hs", type="hubspot", base_url=fake.server.url, access_token=TOKEN,
                           api_version=version, max_retries=3)
    calls = ApiCalls(source="hs", per_run_budget=budget)
    pacer = Pacer(config.rate_limit, clock=clock, sleep=clock.sleep)
    return HubSpotClient(config, calls, pacer=pacer, sleep=clock.sleep), calls, clock


def test_request_sends_token_properties_and_counts(fake: FakeHubSpot) -> None:
    client, calls, _ = make_client(fake, version="2026-03")
    body = client.request("GET", client.path("objects", "deals"), params={"limit": 100, "properties": ["a", "b"]},
                          require="results")
    assert body["results"] == [{"id": "1", "properties": {"a": "x", "b": "x"}}]
    assert fake.seen_auth == [f"Bearer {TOKEN}"]
    assert calls.snapshot() == {"total": 1, "by_family": {"objects.deals.list": 1},
                                "daily_used": 1000, "daily_max": 500000}


@pytest.mark.parametrize(
    ("kind", "status"),
    [(FaultKind.TRUNCATE, 0), (FaultKind.SERVER_ERROR, 503), (FaultKind.RESET, 0)],
)
def test_faults_are_retried(fake: FakeHubSpot, kind: FaultKind, status: int) -> None:
    client, calls, clock = make_client(fake)
    fake.faults.inject(kind, count=2, status=status or 503)
    body = client.request("GET", "/crm/v3/objects/deals", require="results")
    assert body["results"][0]["id"] == "1"
    assert calls.by_family["objects.deals.list"] == 3
    assert fake.server.stats()["by_endpoint"] == {"list": 3}
    assert len(clock.slept) == 2 and all(0.25 <= s <= 1.0 for s in clock.slept)  # backoff 0.5, 1.0 with jitter


def test_429_honours_retry_after(fake: FakeHubSpot) -> None:
    client, calls, clock = make_client(fake)
    fake.faults.inject(FaultKind.THROTTLE, count=1)
    client.request("GET", "/crm/v3/objects/deals", require="results")
    assert clock.slept == [2.0]  # Retry-After: 2, waited in the pacer, no extra backoff
    assert client.throttled == 1
    assert calls.total == 2


def test_body_without_results_is_a_fault_not_a_last_page(fake: FakeHubSpot) -> None:
    client, calls, _ = make_client(fake)
    with pytest.raises(ConnectorError, match="failed after retries: body without 'results'"):
        client.request("GET", "/crm/v3/objects/nothing", require="results")
    assert calls.total == 4  # 1 + max_retries


def test_fatal_statuses_are_not_retried(fake: FakeHubSpot) -> None:
    client, calls, _ = make_client(fake)
    with pytest.raises(Unavailable) as scope:
        client.request("GET", "/crm/v3/objects/feedback_submissions", object_name="feedback_submissions")
    assert (scope.value.status, scope.value.category) == (403, "MISSING_SCOPES")
    assert "object=feedback_submissions" in str(scope.value)
    with pytest.raises(ConnectorError, match="400 VALIDATION_ERROR on GET /crm/v3/objects/bad: Invalid input"):
        client.request("GET", "/crm/v3/objects/bad")
    assert calls.total == 2
    assert TOKEN not in str(scope.value)


def test_401_is_an_auth_error_without_the_token(fake: FakeHubSpot) -> None:
    config = HubSpotSource(name="hs", type="hubspot", base_url=fake.server.url, access_token=TOKEN)
    fake.server.auth = lambda request: Response.json(
        {"status": "error", "message": "Authentication credentials not found.", "category": "INVALID_AUTHENTICATION"},
        status=401)
    client = HubSpotClient(config, ApiCalls(source="hs"))
    with pytest.raises(AuthError) as err:
        client.request("GET", "/crm/v3/objects/deals")
    assert TOKEN not in str(err.value) and "401" in str(err.value)


def test_budget_stops_before_the_call(fake: FakeHubSpot) -> None:
    client, calls, _ = make_client(fake, budget=2)
    client.request("GET", "/crm/v3/objects/deals")
    client.request("GET", "/crm/v3/objects/deals")
    with pytest.raises(BudgetExhausted, match="per-run API budget of 2 calls reached"):
        client.request("GET", "/crm/v3/objects/deals")
    assert fake.server.stats()["total"] == 2


def test_clients_of_one_portal_share_its_pace_and_other_portals_do_not() -> None:
    limits = HubSpotRateLimit(requests_per_10s=100, search_per_second=5)
    first = portal_pacer("http://127.0.0.1:1", "token-a", limits)
    assert portal_pacer("http://127.0.0.1:1", "token-a", limits) is first
    assert portal_pacer("http://127.0.0.1:1", "token-b", limits) is not first
    assert portal_pacer("http://127.0.0.1:2", "token-a", limits) is not first
