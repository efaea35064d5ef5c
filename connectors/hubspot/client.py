"""The one door to a HubSpot portal: auth, base paths, pacing, retries and call accounting.

Why one place: API calls are the scarce resource (HubSpot allows 100-190 requests per rolling 10 s),
so every request -- the SDK's and our own -- is paced by the same `Pacer`, counted per endpoint family
in `ApiCalls`, and retried by the same policy: 429 waits for Retry-After (or the policy's window),
5xx / timeouts / resets / cut-off bodies back off and retry, every other 4xx is fatal.

The hubspot-api-client SDK owns the connection pool and auth (`.api`); `request` sends through the
SDK's `ApiClient.call_api` without deserialising into models (`_preload_content=False`), because we
need the rate-limit headers, the dated `api_version` paths the SDK does not know, and a body we can
prove complete (a truncated body makes the SDK return `results=None`, which looks like a last page).
"""

from __future__ import annotations

import http.client
import random
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import hubspot
import orjson
import urllib3
from hubspot.crm.objects.exceptions import ApiException
from tenacity import RetryCallState, Retrying, retry_if_exception_type

from spm_sync.calls import ApiCalls
from spm_sync.config import HubSpotSource
from spm_sync.connectors.hubspot.pacing import Pacer, portal_pacer
from spm_sync.connectors.network import fatal_network_error
from spm_sync.errors import AuthError, BudgetExhausted, ConnectorError, RateLimited, WriteUnconfirmed

# The SDK's urllib3 pool must not retry on its own: a silent retry is an uncounted, unpaced call.
NO_URLLIB3_RETRY = urllib3.Retry(
    total=0, connect=0, read=0, redirect=0, status=0, other=0,
    respect_retry_after_header=False, raise_on_redirect=False, raise_on_status=False,
)
POLICY_WINDOW_S = {"TEN_SECONDLY_ROLLING": 10.0, "SECONDLY": 1.0, "SECONDLY_ROLLING": 1.0}
DAILY_POLICIES = {"DAILY", "DAILY_ROLLING"}
THROTTLE_RETRY_FACTOR = 4  # 429s are expected under load: allow more of them than of faults
BACKOFF_BASE_S = 0.5
BACKOFF_MAX_S = 16.0
_DATED_VERSION = re.compile(r"^\d{4}-\d{2}(-beta)?$")
_ID_SEGMENT = re.compile(r"^\d+$")
Query = Mapping[str, Any] | Sequence[tuple[str, Any]]


class Transient(ConnectorError):
    """A fault worth retrying: 5xx, timeout, reset connection, cut-off or incomplete body."""


class Refused(ConnectorError):
    """A 4xx other than 401 / 429: HubSpot's status, error category and own message, never retried."""

    def __init__(
        self, message: str, *, status: int, category: str | None = None, detail: str = "", **where: str | None
    ) -> None:
        super().__init__(message, **where)
        self.status = status
        self.category = category
        self.detail = detail


class Unavailable(Refused):
    """The portal or token cannot read this (403 missing scope, 404 object not in the portal)."""


class Rejected(Refused):
    """Any other 4xx: the request itself was refused (e.g. 400 VALIDATION_ERROR on a batch write)."""


def versioned_path(api_version: str, kind: str, *parts: str) -> str:
    """`/crm/v3/objects/deals` or HubSpot's dated `/crm/objects/2026-03/deals` for the same call.

    `kind` is the API name (`objects`, `properties`, `pipelines`, `owners`, `associations`); the
    associations API is v4 under the numeric scheme, everything else v3.
    """
    rest = "/".join(p.strip("/") for p in parts if p)
    if _DATED_VERSION.match(api_version):
        head = f"/crm/{kind}/{api_version}"
    else:
        head = f"/crm/{'v4' if kind == 'associations' else api_version}/{kind}"
    return f"{head}/{rest}" if rest else head


def family_of(method: str, path: str) -> str:
    """Endpoint family for call accounting: `objects.deals.list`, `associations.deals.companies.batch.read`."""
    segments = [
        s for s in path.split("?")[0].strip("/").split("/")
        if s and s != "crm" and not _DATED_VERSION.match(s) and not re.fullmatch(r"v\d", s)
    ]
    name = ".".join(s for s in segments if not _ID_SEGMENT.match(s)) or "root"
    if method.upper() == "GET" and len(segments) == 2 and segments[0] == "objects":
        return f"{name}.list"
    return name


def _header(headers: Mapping[str, str] | None, name: str) -> str | None:
    if not headers:
        return None
    for key, value in headers.items():
        if key.lower() == name.lower():
            return value
    return None


def _error_body(raw: bytes | str | None) -> dict[str, Any]:
    if not raw:
        return {}
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return {}
    return body if isinstance(body, dict) else {}


class _RetryBudget:
    """Tenacity stop: `max_retries` faults, but several times more 429s (they are paced waits)."""

    def __init__(self, max_retries: int) -> None:
        self.max_faults = max_retries
        self.max_throttles = max_retries * THROTTLE_RETRY_FACTOR
        self.faults = 0
        self.throttles = 0

    def __call__(self, state: RetryCallState) -> bool:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, RateLimited):
            self.throttles += 1
            return self.throttles > self.max_throttles
        self.faults += 1
        return self.faults > self.max_faults


class HubSpotClient:
    """Paced, counted, retried access to one portal (see module docstring)."""

    def __init__(
        self,
        config: HubSpotSource,
        calls: ApiCalls,
        *,
        pacer: Pacer | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.config = config
        self.calls = calls
        self.source = config.name
        self.base_url = str(config.base_url).rstrip("/")
        token = config.access_token.get_secret_value()
        self.pacer = pacer or (Pacer(config.rate_limit, sleep=sleep) if sleep
                               else portal_pacer(self.base_url, token, config.rate_limit))
        self._sleep = sleep or self.pacer._sleep
        options: dict[str, Any] = {
            "access_token": token,
            "host": self.base_url,
            "retry": NO_URLLIB3_RETRY,
        }
        if config.ca_bundle is not None:
            options["ssl_ca_cert"] = str(config.ca_bundle)
        self.api = hubspot.Client.create(**options)
        self._api_client = self.api.crm.objects.basic_api.api_client
        self.throttled = 0  # 429s received, for benchmarks and run details
        # Until one answer proves the token, requests go one at a time: parallel resources must not
        # each send a doomed request with a rejected token (a 401 is raised to every waiting thread).
        self._token_gate = threading.Lock()
        self._token_proven = False
        self._token_rejected: AuthError | None = None

    # -- paths --------------------------------------------------------------------------------
    def path(self, kind: str, *parts: str) -> str:
        """A path for this source's `api_version` (v3 paths or HubSpot's dated ones)."""
        return versioned_path(self.config.api_version, kind, *parts)

    # -- the one request method ---------------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        json: Any = None,
        params: Query | None = None,
        *,
        family: str | None = None,
        require: str | None = None,
        search: bool = False,
        object_name: str | None = None,
        idempotent: bool = True,
    ) -> dict[str, Any]:
        """Send one paced, counted, retried request and return the parsed JSON object.

        `require`: a key the body must carry as a list (e.g. "results"); a body without it is a
        fault and is retried, never taken for an empty last page. `search`: also pace to the
        search endpoints' own per-second limit. `idempotent=False` (writes): only 429s are retried;
        a fault after which the write may or may not have been applied raises `WriteUnconfirmed`.
        Raises `BudgetExhausted`, `AuthError`, `Unavailable` (403/404), `Rejected` (other 4xx),
        `ConnectorError` (retries exhausted).
        """
        fam = family or family_of(method, path)
        budget = _RetryBudget(self.config.max_retries)
        retrying = Retrying(
            stop=budget,
            wait=self._backoff,
            retry=retry_if_exception_type((Transient, RateLimited) if idempotent else RateLimited),
            sleep=self._nap,
            reraise=True,
        )
        try:
            return self._token_checked(
                lambda: retrying(self._send, method, path, json, params, fam, require, search, object_name),
                object_name,
            )
        except Transient as exc:
            if not idempotent:
                raise WriteUnconfirmed(
                    f"{method} {path}: {exc.message}; not sent again before reading back what the CRM holds",
                    source=self.source, object=object_name,
                ) from exc
            raise ConnectorError(
                f"{method} {path} failed after retries: {exc.message}", source=self.source, object=object_name
            ) from exc
        except RateLimited as exc:
            raise ConnectorError(
                f"{method} {path} failed after retries: {exc.message}", source=self.source, object=object_name
            ) from exc

    def _token_checked(self, send: Callable[[], dict[str, Any]], object_name: str | None) -> dict[str, Any]:
        if self._token_proven:
            return send()
        with self._token_gate:
            if self._token_rejected is not None:
                raise AuthError(self._token_rejected.message, source=self.source, object=object_name)
            try:
                data = send()
            except AuthError as exc:
                self._token_rejected = exc
                raise
            except Refused:
                self._token_proven = True
                raise
            self._token_proven = True
            return data

    def _nap(self, seconds: float) -> None:
        if seconds > 0:
            self._sleep(seconds)

    @staticmethod
    def _backoff(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, RateLimited):
            return 0.0  # the pacer is paused for Retry-After: every thread waits there
        return min(BACKOFF_MAX_S, BACKOFF_BASE_S * 2 ** (state.attempt_number - 1)) * (0.5 + random.random() / 2)

    def _send(
        self,
        method: str,
        path: str,
        body: Any,
        params: Query | None,
        family: str,
        require: str | None,
        search: bool,
        object_name: str | None,
    ) -> dict[str, Any]:
        self.calls.check(family)
        query = list(params.items()) if isinstance(params, Mapping) else list(params or [])
        query = [(k, v) for k, values in query for v in (values if isinstance(values, list) else [values])]
        ticket = self.pacer.wait(search=search)
        try:
            response = self._api_client.call_api(
                path,
                method.upper(),
                query_params=query or None,
                header_params={"Accept": "application/json", "Content-Type": "application/json"},
                body=body,
                auth_settings=["oauth2"],
                _preload_content=False,
                _request_timeout=self.config.timeout_s,
            )
        except ApiException as exc:
            self.calls.record(family)
            self._track_daily(exc.headers)
            raise self._classify(exc, method, path, object_name) from None
        except (urllib3.exceptions.HTTPError, http.client.HTTPException, OSError) as exc:
            self.calls.record(family)
            fatal = fatal_network_error(exc, url=self.base_url, url_key="base_url", source=self.source)
            if fatal is not None:
                raise fatal from None
            raise Transient(f"{type(exc).__name__} on {method} {path}", source=self.source, object=object_name) from exc
        finally:
            self.pacer.done(ticket)
        self.calls.record(family)
        try:
            raw = response.data
        except (urllib3.exceptions.HTTPError, http.client.HTTPException, OSError) as exc:
            raise Transient(f"{type(exc).__name__} reading {method} {path}", source=self.source) from exc
        self._track_daily(response.headers)
        if response.status == 204 or not raw:
            if require:
                raise Transient(f"empty body from {method} {path}", source=self.source, object=object_name)
            return {}
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise Transient(
                f"incomplete JSON body ({len(raw)} bytes) from {method} {path}", source=self.source, object=object_name
            ) from None
        if not isinstance(data, dict) or (require and not isinstance(data.get(require), list)):
            raise Transient(f"body without {require!r} from {method} {path}", source=self.source, object=object_name)
        return data

    def _track_daily(self, headers: Mapping[str, str] | None) -> None:
        maximum = _header(headers, "X-HubSpot-RateLimit-Daily")
        remaining = _header(headers, "X-HubSpot-RateLimit-Daily-Remaining")
        if maximum and remaining and maximum.isdigit() and remaining.lstrip("-").isdigit():
            self.calls.report_daily(int(maximum) - int(remaining), int(maximum))

    def _classify(self, exc: ApiException, method: str, path: str, object_name: str | None) -> Exception:
        status = int(exc.status or 0)
        body = _error_body(exc.body)
        message = str(body.get("message") or exc.reason or "error")[:300]
        category = body.get("category")
        where = {"source": self.source, "object": object_name}
        if status == 429:
            policy = str(body.get("policyName") or "")
            if policy in DAILY_POLICIES:
                return BudgetExhausted(f"HubSpot daily API limit reached ({message})", **where)
            retry_after = _retry_after(_header(exc.headers, "Retry-After"))
            wait_s = retry_after if retry_after is not None else POLICY_WINDOW_S.get(policy, 10.0)
            self.throttled += 1
            self.pacer.pause(wait_s)
            return RateLimited(f"429 {policy or 'rate limit'} on {method} {path}", retry_after=wait_s, **where)
        if status >= 500 or status == 0:
            return Transient(f"{status} on {method} {path}: {message}", **where)
        if status == 401:
            return AuthError(f"401 Unauthorized: {message} (check access_token)", **where)
        kind = Unavailable if status in (403, 404) else Rejected
        return kind(f"{status} {category or ''} on {method} {path}: {message}".replace("  ", " "),
                    status=status, category=category, detail=message, **where)


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
