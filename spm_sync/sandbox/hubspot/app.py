"""`HubSpotSandbox`: the portal behind HubSpot's URL layout, auth, limits and headers.

Why here: this is the only module that knows about the shared server plumbing; the portal,
shaping and handlers stay testable without sockets. Every route is served under its v3 path
and its dated (`2026-03`) path, as HubSpot does.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from spm_sync.sandbox.dataset.model import Dataset
from spm_sync.sandbox.faults import FaultConfig, RateLimiter
from spm_sync.sandbox.hubspot import errors
from spm_sync.sandbox.hubspot.meta_api import MetaApi
from spm_sync.sandbox.hubspot.objects_api import ObjectsApi
from spm_sync.sandbox.hubspot.portal import Portal
from spm_sync.sandbox.hubspot.shaping import MirrorLinks, seed_portal
from spm_sync.sandbox.hubspot.splits_api import SplitsApi
from spm_sync.sandbox.server import (
    Request,
    Response,
    Route,
    SandboxServer,
    ServedEmulator,
)

_DATED = r"\d{4}-\d{2}"
_OBJ = r"(?P<object_type>[A-Za-z0-9_\-]+)"
OBJECTS = rf"/crm/(?:v3/objects|objects/{_DATED})/{_OBJ}"
RECORD = rf"{OBJECTS}/(?P<record_id>[^/]+)"
SEARCH_RATE_PER_S = 5
DAY_S = 86_400.0


def _family(family: str, tail: str = "") -> str:
    """`/crm/v3/<family>` or `/crm/<family>/<date>` followed by `tail`."""
    return rf"/crm/(?:v3/{family}|{family}/{_DATED}){tail}"


class HubSpotSandbox(ServedEmulator):
    """An emulated HubSpot portal on http://127.0.0.1:PORT for the real hubspot-api-client."""

    def __init__(self, dataset_part: Dataset | None, *, faults: FaultConfig | None = None, rate_limit: int = 100,
                 rate_window_s: float = 10.0, search_rate_limit: int = SEARCH_RATE_PER_S,
                 daily_limit: int = 250_000, host: str = "127.0.0.1", port: int = 0, kpi_fields: bool = True,
                 mirror: MirrorLinks | None = None, rate_clock: Callable[[], float] = time.monotonic) -> None:
        self.portal = Portal(kpi_fields=kpi_fields)
        if dataset_part is not None:
            seed_portal(self.portal, dataset_part, mirror)
        self.rate_window_s = rate_window_s
        self.burst = RateLimiter(rate_limit, rate_window_s, name="ten_secondly_rolling", clock=rate_clock)
        per_second = max(1, round(rate_limit / max(rate_window_s, 1.0)))
        self.secondly = RateLimiter(per_second, 1.0, name="secondly", clock=rate_clock)
        self.search_limit = RateLimiter(search_rate_limit, 1.0, name="search_secondly", clock=rate_clock)
        self.daily = RateLimiter(daily_limit, DAY_S, name="daily", clock=rate_clock)
        self.objects = ObjectsApi(self.portal, self._base_url)
        self.splits = SplitsApi(self.portal)
        self.meta = MetaApi(self.portal, self._base_url, daily_limit, self._daily_used)
        self.server = SandboxServer(
            self._routes(), host=host, port=port, faults=faults if faults is not None else FaultConfig(),
            auth=self._auth,
            on_throttle=self._throttled, on_error=self._error,
            limiters=(self.daily, self.burst), after=self._rate_headers,
        )

    @property
    def base_url(self) -> str:
        return self.server.url

    @property
    def access_token(self) -> str:
        return self.portal.access_token

    def reset_limits(self) -> None:
        """Forget past requests in every rate window (tests that measure a fresh window)."""
        for limiter in (self.burst, self.secondly, self.search_limit, self.daily):
            limiter.reset()

    def _base_url(self) -> str:
        return self.server.url

    def _daily_used(self) -> int:
        return self.daily.limit - self.daily.remaining()

    # -- routes -------------------------------------------------------------------------------
    def _routes(self) -> list[Route]:
        o, m = self.objects, self.meta
        search = (self.search_limit,)
        pair = r"/(?P<from_type>[A-Za-z0-9_\-]+)/(?P<to_type>[A-Za-z0-9_\-]+)"
        assoc = rf"{pair}/batch/read"
        return [
            Route("POST", rf"/crm/v3/objects/deals/splits/batch/read|/deal-splits/{_DATED}/batch/read",
                  self.splits.batch_read, "deal_splits_batch_read"),
            Route("POST", rf"{OBJECTS}/search", o.search, "search", limiters=search),
            Route("POST", rf"{OBJECTS}/batch/read", o.batch_read, "batch_read"),
            Route("POST", rf"{OBJECTS}/batch/update", o.batch_update, "batch_update"),
            Route("POST", rf"{OBJECTS}/batch/upsert", o.batch_upsert, "batch_upsert"),
            Route("POST", rf"{OBJECTS}/batch/create", o.batch_create, "batch_create"),
            Route("POST", rf"{OBJECTS}/batch/archive", o.batch_archive, "batch_archive"),
            Route("GET", OBJECTS, o.list_page, "objects_list"),
            Route("POST", OBJECTS, o.create, "object_create"),
            Route("GET", RECORD, o.get, "object_get"),
            Route("PATCH", RECORD, o.update, "object_update"),
            Route("DELETE", RECORD, o.archive, "object_archive"),
            Route("GET", _family("owners", "/?"), m.owners, "owners"),
            Route("GET", _family("owners", r"/(?P<owner_id>\d+)"), m.owner, "owner_get"),
            Route("GET", _family("properties", f"/{_OBJ}"), m.properties, "properties"),
            Route("POST", _family("properties", f"/{_OBJ}"), m.create_property, "property_create"),
            Route("GET", _family("properties", f"/{_OBJ}/groups/?"), m.groups, "property_groups"),
            Route("POST", _family("properties", f"/{_OBJ}/groups/?"), m.create_group, "property_group_create"),
            Route("GET", _family("properties", rf"/{_OBJ}/groups/(?P<group_name>[^/]+)"), m.group,
                  "property_group_get"),
            Route("GET", _family("properties", rf"/{_OBJ}/(?P<name>[^/]+)"), m.property, "property_get"),
            Route("GET", rf"/properties/v2/{_OBJ}/properties", m.properties_v2, "properties_v2"),
            Route("GET", _family("schemas", "/?"), m.schemas, "schemas"),
            Route("GET", _family("pipelines", f"/{_OBJ}"), m.pipelines, "pipelines"),
            Route("GET", _family("pipelines", rf"/{_OBJ}/(?P<pipeline_id>[^/]+)"), m.pipeline, "pipeline_get"),
            Route("POST", rf"/crm/(?:v4/associations|associations/{_DATED}){assoc}", m.associations_batch_read,
                  "associations_v4_batch_read"),
            Route("GET", rf"/crm/(?:v4/associations|associations/{_DATED}){pair}/labels", m.association_labels,
                  "associations_v4_labels"),
            Route("GET", rf"/crm/v3/associations{pair}/types", m.association_type_names, "associations_v3_types"),
            Route("GET", rf"/crm/(?:v4/objects|objects/{_DATED})/(?P<from_type>[A-Za-z0-9_\-]+)/"
                  r"(?P<record_id>[^/]+)/associations/(?P<to_type>[A-Za-z0-9_\-]+)",
                  m.associations_list, "associations_v4_list"),
            Route("GET", rf"/account-info/(?:v3|{_DATED})/details", m.account_details, "account_details"),
            Route("GET", rf"/account-info/(?:v3|{_DATED})/api-usage/daily/private-apps", m.api_usage,
                  "account_api_usage"),
        ]

    # -- hooks --------------------------------------------------------------------------------
    def _auth(self, request: Request) -> Response | None:
        header = request.headers.get("Authorization") or ""
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or token.strip() != self.portal.access_token:
            return errors.unauthorized()
        return None

    def _throttled(self, request: Request, retry_after: int, reason: str) -> Response:
        return errors.rate_limited(reason, self.portal.portal_id)

    def _error(self, request: Request, status: int, message: str) -> Response:
        if status == 404:
            return errors.error_response(404, message, "OBJECT_NOT_FOUND")
        return Response.json({"status": "error", "message": message, "correlationId": errors.correlation_id()},
                             status=status)

    def _rate_headers(self, request: Request, response: Response) -> Response:
        """X-HubSpot-RateLimit-* as on every non-search response of a private app."""
        if request.path.endswith("/search") or response.status == 401:
            return response
        self.secondly.acquire()
        response.headers.update({
            "X-HubSpot-RateLimit-Daily": str(self.daily.limit),
            "X-HubSpot-RateLimit-Daily-Remaining": str(self.daily.remaining()),
            "X-HubSpot-RateLimit-Interval-Milliseconds": str(int(self.rate_window_s * 1000)),
            "X-HubSpot-RateLimit-Max": str(self.burst.limit),
            "X-HubSpot-RateLimit-Remaining": str(self.burst.remaining()),
            "X-HubSpot-RateLimit-Secondly": str(self.secondly.limit),
            "X-HubSpot-RateLimit-Secondly-Remaining": str(self.secondly.remaining()),
        })
        return response
