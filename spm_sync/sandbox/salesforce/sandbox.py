"""SalesforceSandbox: the org, its REST/Bulk handlers and the HTTPS server, wired together.

Why the route table is data: the endpoint names here are what `GET /__sandbox/stats` reports and
what fault injection targets (`faults.endpoints`), so tests can count e.g. `query_more` calls.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from spm_sync.sandbox.faults import FaultConfig
from spm_sync.sandbox.server import Request, Response, Route, SandboxServer, ServedEmulator

from . import errors
from .bulk import BulkApi
from .bulk_ingest import IngestApi
from .collections_api import CollectionsApi
from .fiscal import fiscal_objects
from .org import Org
from .rest import RestApi
from .shaping import shape
from .tooling import ToolingApi

V = r"/services/data/v(?P<v>\d+\.\d+)"
USERINFO = "/services/oauth2/userinfo"  # who the session is: user and org (OpenID Connect)
OBJ = r"(?P<obj>[A-Za-z][A-Za-z0-9_]*)"
ID = r"(?P<id>[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?)"
FREE_PATHS = ("/services/oauth2/", "/services/data")


class SalesforceSandbox(ServedEmulator):
    """An emulated org served over HTTPS on loopback; the real simple-salesforce works against it.

    Args:
        dataset_part: a canonical `Dataset` (or its Salesforce part); None for an empty org.
        faults: fault injection settings shared with the plumbing (mutable at run time).
        daily_api_limit: DailyApiRequests Max; once spent every call gets 403 REQUEST_LIMIT_EXCEEDED.
        clock: optional `() -> aware datetime` for deterministic SystemModstamps.
        bulk_delay_s: how long a Bulk query job takes to reach JobComplete.
        timer: `() -> seconds` the Bulk jobs' progress is measured on (default time.monotonic).
        fiscal_start_month: first month of the org's standard fiscal year (FiscalYearSettings and
            Period rows for the data set's years, see fiscal.py); None leaves both objects empty.
        kpi_fields: False starts the org without the write-back KPI fields and the Rep_KPI__c object,
            as a new customer's org is before `spm-sync writeback setup` creates them.
        tls_folder: keep the CA and certificate there (`sandbox serve --state`); None: throw-away ones.
        session_id: accept this access token too (a kept config's, `sandbox serve --state`).
    """

    def __init__(
        self,
        dataset_part: Any = None,
        *,
        faults: FaultConfig | None = None,
        daily_api_limit: int = 100_000,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Any = None,
        bulk_delay_s: float = 0.2,
        timer: Callable[[], float] = time.monotonic,
        fiscal_start_month: int | None = 1,
        kpi_fields: bool = True,
        tls_folder: Path | None = None,
        session_id: str | None = None,
    ) -> None:
        self.org = Org(
            daily_api_limit=daily_api_limit, clock=clock, bulk_delay_s=bulk_delay_s, timer=timer, kpi_fields=kpi_fields
        )
        if session_id is not None:
            self.org.accept_session(session_id)
        if dataset_part is not None:
            self.org.load(shape(dataset_part))
            if fiscal_start_month is not None:
                self.org.load(fiscal_objects(dataset_part.as_of, fiscal_start_month))
        self.rest = RestApi(self.org, lambda: self.instance_url)
        self.collections = CollectionsApi(self.org)
        self.bulk = BulkApi(self.org)
        self.ingest = IngestApi(self.org)
        self.tooling = ToolingApi(self.org)
        self.server = SandboxServer(
            self._routes(), host=host, port=port, tls=True,
            faults=faults if faults is not None else FaultConfig(), auth=self._auth,
            on_throttle=errors.on_throttle, on_error=errors.on_error, after=self._after, tls_folder=tls_folder,
        )

    def _routes(self) -> list[Route]:
        r, c, b = self.rest, self.collections, self.bulk
        return [
            Route("POST", r"/services/oauth2/token", r.oauth_token, "oauth_token"),
            Route("GET", rf"{USERINFO}/?", r.userinfo, "userinfo"),
            Route("GET", r"/services/data/?", r.versions, "versions"),
            Route("GET", rf"{V}/?", r.resources, "resources"),
            Route("GET", rf"{V}/limits/?", r.limits, "limits"),
            Route("GET", rf"{V}/query/?", r.query, "query"),
            Route("GET", rf"{V}/queryAll/?", r.query_all, "queryAll"),
            Route("GET", rf"{V}/(?:query|queryAll)/(?P<locator>[A-Za-z0-9]+-\d+)", r.query_more, "query_more"),
            Route("GET", rf"{V}/sobjects/?", r.describe_global, "describe_global"),
            Route("GET", rf"{V}/sobjects/{OBJ}/describe/?", r.describe, "describe"),
            Route("GET", rf"{V}/sobjects/{OBJ}/?", r.sobject_info, "sobject"),
            Route("POST", rf"{V}/sobjects/{OBJ}/?", r.create_record, "sobject"),
            Route("GET", rf"{V}/sobjects/{OBJ}/{ID}", r.get_record, "sobject"),
            Route("PATCH", rf"{V}/sobjects/{OBJ}/{ID}", r.update_record, "sobject"),
            Route("DELETE", rf"{V}/sobjects/{OBJ}/{ID}", r.delete_record, "sobject"),
            Route("GET", rf"{V}/sobjects/{OBJ}/(?P<field>\w+)/(?P<value>[^/]+)", r.get_by_external_id, "sobject"),
            Route("PATCH", rf"{V}/sobjects/{OBJ}/(?P<field>\w+)/(?P<value>[^/]+)", r.upsert_record,
                  "sobject_upsert"),
            Route("POST", rf"{V}/composite/sobjects/?", c.create, "composite_sobjects"),
            Route("PATCH", rf"{V}/composite/sobjects/?", c.update, "composite_sobjects"),
            Route("DELETE", rf"{V}/composite/sobjects/?", c.delete, "composite_sobjects"),
            Route("PATCH", rf"{V}/composite/sobjects/{OBJ}/(?P<field>\w+)/?", c.upsert, "composite_sobjects"),
            Route("POST", rf"{V}/jobs/query/?", b.create, "bulk_query_create"),
            Route("GET", rf"{V}/jobs/query/?", b.list_jobs, "bulk_query_list"),
            Route("GET", rf"{V}/jobs/query/(?P<job>750\w+)", b.status, "bulk_query_status"),
            Route("PATCH", rf"{V}/jobs/query/(?P<job>750\w+)", b.abort, "bulk_query_abort"),
            Route("DELETE", rf"{V}/jobs/query/(?P<job>750\w+)", b.delete, "bulk_query_delete"),
            Route("GET", rf"{V}/jobs/query/(?P<job>750\w+)/results/?", b.results, "bulk_query_results"),
            *self._ingest_routes(),
            Route("POST", rf"{V}/tooling/sobjects/(?P<type>CustomObject|CustomField)/?", self.tooling.create,
                  "tooling_sobjects"),
        ]

    def _ingest_routes(self) -> list[Route]:
        i, job = self.ingest, rf"{V}/jobs/ingest/(?P<job>750\w+)"
        return [
            Route("POST", rf"{V}/jobs/ingest/?", i.create, "bulk_ingest_create"),
            Route("GET", rf"{V}/jobs/ingest/?", i.list_jobs, "bulk_ingest_list"),
            Route("PUT", rf"{job}/batches/?", i.upload, "bulk_ingest_upload"),
            Route("PATCH", rf"{job}/?", i.close, "bulk_ingest_close"),
            Route("GET", rf"{job}/?", i.status, "bulk_ingest_status"),
            Route("DELETE", rf"{job}/?", i.delete, "bulk_ingest_delete"),
            Route("GET", rf"{job}/(?P<kind>successfulResults|failedResults|unprocessed[Rr]ecords)/?", i.results,
                  "bulk_ingest_results"),
        ]

    # ---- hooks -------------------------------------------------------------------------------
    def _auth(self, request: Request) -> Response | None:
        """Bearer/OAuth session check, then the daily API budget (both as a real org answers)."""
        identity = request.path.rstrip("/") == USERINFO  # needs a session; not an API call in the budget
        if (request.path.startswith("/services/oauth2/") and not identity) or \
                request.path.rstrip("/") == "/services/data":
            return None
        header = request.headers.get("Authorization") or ""
        scheme, _, token = header.partition(" ")
        if scheme.lower() not in ("bearer", "oauth") or not self.org.token_valid(token.strip()):
            return errors.error_response(*errors.SESSION_INVALID)
        if identity:
            return None
        if not self.org.consume_api():
            return errors.error_response(*errors.DAILY_LIMIT)
        return None

    def _after(self, request: Request, response: Response) -> Response:
        if request.path.startswith("/services/data/v"):
            response.headers["Sforce-Limit-Info"] = f"api-usage={self.org.api_used}/{self.org.daily_api_limit}"
        return response

    # ---- connection details ------------------------------------------------------------------
    @property
    def instance_url(self) -> str:
        return self.server.url

    @property
    def session_id(self) -> str:
        """The access token issued at start (invalid once `org.expire_session()` is called)."""
        return self.org.session_id

    @property
    def ca_bundle(self) -> str:
        bundle = self.server.ca_bundle
        assert bundle is not None
        return bundle

    def description(self) -> dict[str, str]:
        """The `salesforce` part of `spm-sync sandbox serve`'s first line."""
        return {"instance_url": self.instance_url, "session_id": self.session_id, "ca_bundle": self.ca_bundle}

    def record_ids(self, object_name: str) -> list[str]:
        """Ids of every row of an object in load order (row i is the data set's i-th record)."""
        with self.org.lock:
            table = self.org.table(object_name)
            return table.ids(np.arange(table.n))

    def touch_metadata(self, when: datetime) -> None:
        """Pretend the org's metadata changed at `when` (describe If-Modified-Since tests)."""
        self.org.metadata_changed = when
