"""Salesforce auth, the HTTP session, retries and call accounting — every call of the connector goes here.

Why a session subclass: simple-salesforce, our own REST/Bulk calls and the write-back all send their
requests through one `requests.Session`, so counting (`ApiCalls`), the budget guard, retries and the
one-time re-login on an expired session apply to all of them, whichever layer makes the call.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar, overload
from urllib.parse import urlsplit

import orjson
import requests
from simple_salesforce import Salesforce
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from spm_sync.calls import ApiCalls
from spm_sync.config import SalesforceSource
from spm_sync.connectors.network import fatal_network_error
from spm_sync.connectors.salesforce import auth, settings
from spm_sync.errors import AuthError, BudgetExhausted, ConnectorError, WriteUnconfirmed

_API_USAGE = re.compile(r"api-usage=(\d+)/(\d+)")
_DATA_PATH = re.compile(r"/services/data/v\d+\.\d+/?(.*)")

T = TypeVar("T")
Validator = Callable[[requests.Response], T]


class SalesforceApiError(ConnectorError):
    """Salesforce answered with an error; `status` and `error_code` tell the caller what kind."""

    def __init__(self, message: str, *, status: int, error_code: str | None = None, **where: str | None) -> None:
        super().__init__(message, **where)
        self.status = status
        self.error_code = error_code


class TruncatedResponse(Exception):
    """A response whose body is incomplete (cut-off JSON, fewer CSV rows than announced): retry it."""


class _Transient(Exception):
    """Internal: one attempt failed in a way worth another try."""

    def __init__(
        self, reason: str, *, response: requests.Response | None = None, retry_after: float | None = None,
        throttled: bool = False,
    ):
        super().__init__(reason)
        self.reason = reason
        self.response = response
        self.retry_after = retry_after
        self.throttled = throttled  # the org refused to carry the call out (limits): safe to send again


def endpoint_family(url: str) -> str:
    """Group a URL into the family the run record counts (`query`, `describe`, `bulk_query`, ...)."""
    path = urlsplit(url).path
    if "/services/oauth2/" in path or "/services/Soap/u/" in path:
        return "auth"
    match = _DATA_PATH.search(path)
    if match is None:
        return "other"
    parts = [p for p in match.group(1).split("/") if p]
    if not parts:
        return "versions"
    head = parts[0]
    if head in ("query", "queryAll"):
        return "query"
    if head == "sobjects":
        if len(parts) == 1:
            return "describe_global"
        if len(parts) >= 3 and parts[2] == "describe":
            return "describe"
        return "sobjects"
    if head == "jobs":
        return f"bulk_{parts[1]}" if len(parts) > 1 else "bulk"
    return head


def error_details(response: requests.Response) -> tuple[str | None, str]:
    """(errorCode, message) from any Salesforce error body: REST list, OAuth dict, or plain text."""
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return None, response.text[:300]
    if isinstance(body, list) and body and isinstance(body[0], dict):
        return body[0].get("errorCode"), str(body[0].get("message", ""))[:500]
    if isinstance(body, dict):
        code = body.get("errorCode") or body.get("error")
        return code, str(body.get("message") or body.get("error_description") or "")[:500]
    return None, response.text[:300]


def parse_limit_info(header: str | None) -> tuple[int, int] | None:
    """`Sforce-Limit-Info: api-usage=18/5000` -> (18, 5000)."""
    match = _API_USAGE.search(header or "")
    return (int(match.group(1)), int(match.group(2))) if match else None


def json_body(response: requests.Response) -> Any:
    """The JSON body (None when empty); a cut-off body raises `TruncatedResponse` so it is fetched again."""
    if not response.content:
        return None
    try:
        return orjson.loads(response.content)
    except orjson.JSONDecodeError as exc:
        raise TruncatedResponse(f"incomplete JSON body ({len(response.content)} bytes)") from exc


def _json_if_declared(response: requests.Response) -> Any:
    """simple-salesforce's calls: check bodies that say they are JSON (it parses them itself)."""
    return json_body(response) if "json" in response.headers.get("Content-Type", "") else None


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return float(value) if value else None
    except ValueError:
        return None


def _wait(state: RetryCallState) -> float:
    """Retry-After when the server gives one, else exponential backoff (read at call time for tests)."""
    exc = state.outcome.exception() if state.outcome else None
    if isinstance(exc, _Transient) and exc.retry_after is not None:
        return min(exc.retry_after, settings.RETRY_MAX_WAIT_S)
    return min(settings.RETRY_BASE_S * 2 ** (state.attempt_number - 1), settings.RETRY_MAX_WAIT_S)


@dataclass
class ApiCall(Generic[T]):
    """One logical call (repeated as is by retries and after a re-login).

    `validate` checks and parses a 2xx body once (raising `TruncatedResponse` fetches it again);
    `idempotent=False` for writes: see `SalesforceSession._send_with_retries`. `options` go to requests.
    """

    method: str
    url: str
    validate: Validator[T]
    object: str | None = None
    idempotent: bool = True
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def family(self) -> str:
        return endpoint_family(self.url)


@dataclass(frozen=True)
class Reply(Generic[T]):
    """An answered call: the final response and its body as `validate` parsed it (None unless 2xx)."""

    response: requests.Response
    body: T | None

    @property
    def status(self) -> int:
        return self.response.status_code

    def parsed(self) -> T:
        """The body a 2xx answer was parsed into; anything else is a fault of the caller's `ok` handling."""
        if self.body is None:
            raise ConnectorError(f"{self.status} answer without a body from {urlsplit(self.response.url).path}")
        return self.body


class SalesforceSession(requests.Session):
    """A requests session that counts, budgets, retries and re-authenticates every call.

    Our own calls go through `call(ApiCall)`; `request` (requests' signature) serves simple-salesforce,
    checking JSON bodies the same way.
    """

    def __init__(
        self,
        calls: ApiCalls,
        *,
        max_retries: int,
        timeout_s: float,
        source: str,
        reauth: Callable[[str], str | None] | None = None,
        max_concurrent: int | None = None,
    ) -> None:
        super().__init__()
        self._slots = threading.BoundedSemaphore(max_concurrent) if max_concurrent else None
        self.by_object: Counter[tuple[str, str]] = Counter()  # calls per (sObject, family): diagnostics
        self._count_lock = threading.Lock()
        self.calls = calls
        self.max_retries = max_retries
        self.timeout_s = timeout_s
        self.source = source
        self.reauth = reauth

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        if args:
            raise TypeError("SalesforceSession.request takes keyword options only")
        return self.call(ApiCall(str(method), str(url), validate=_json_if_declared, options=kwargs)).response

    def call(self, call: ApiCall[T]) -> Reply[T]:
        """The call's final reply: retried, counted, re-authenticated once on a 401."""
        call.options.setdefault("timeout", self.timeout_s)
        reply = self._send_with_retries(call)
        if reply.status == 401 and call.family != "auth":
            reply = self._after_unauthorized(call)
        return reply

    def _after_unauthorized(self, call: ApiCall[T]) -> Reply[T]:
        """Log in again once (when we hold credentials), repeat the call, then give up with AuthError."""
        headers = dict(call.options.get("headers") or {})
        fresh = self.reauth(headers.get("Authorization", "")) if self.reauth else None
        if fresh is None:
            raise AuthError(
                "401 Unauthorized: session rejected and no username/password or JWT credentials to log in again "
                "(check session_id)",
                source=self.source,
            )
        headers["Authorization"] = fresh
        call.options["headers"] = headers
        reply = self._send_with_retries(call)
        if reply.status == 401:
            code, message = error_details(reply.response)
            raise AuthError(f"session rejected after logging in again: {code or 401} {message}", source=self.source)
        return reply

    def _send_with_retries(self, call: ApiCall[T]) -> Reply[T]:
        """Retry transient failures; a write (`idempotent=False`) only when the org says it was not
        carried out (a throttle with Retry-After), else `WriteUnconfirmed` and the caller reads back."""
        retrying = Retrying(
            stop=stop_after_attempt(self.max_retries + 1),
            wait=_wait,
            retry=retry_if_exception(lambda e: isinstance(e, _Transient) and (call.idempotent or e.throttled)),
            reraise=True,
        )
        try:
            return retrying(self._attempt, call)
        except _Transient as exc:
            if not call.idempotent and not exc.throttled:
                raise WriteUnconfirmed(
                    f"{call.method} {urlsplit(call.url).path}: {exc.reason}; not sent again before reading back "
                    "what the org holds",
                    source=self.source, object=call.object,
                ) from None
            if exc.response is not None:
                return Reply(exc.response, None)  # the caller turns the final status into an error it can name
            raise ConnectorError(
                f"{call.method} {urlsplit(call.url).path}: gave up after {self.max_retries + 1} attempts "
                f"({exc.reason})",
                source=self.source,
                object=call.object,
            ) from None

    def _count(self, call: ApiCall[Any]) -> None:
        self.calls.record(call.family)
        if call.object:
            with self._count_lock:
                self.by_object[(call.object, call.family)] += 1

    def _attempt(self, call: ApiCall[T]) -> Reply[T]:
        self.calls.check(call.family)
        try:
            if self._slots is None:
                response = super().request(call.method, call.url, **call.options)
            else:
                with self._slots:  # held for one HTTP exchange only: objects interleave, never deadlock
                    response = super().request(call.method, call.url, **call.options)
        except (requests.ConnectionError, requests.Timeout) as exc:
            self._count(call)
            fatal = fatal_network_error(exc, url=call.url, url_key="instance_url", source=self.source)
            if fatal is not None:
                raise fatal from None
            raise _Transient(type(exc).__name__) from exc
        self._count(call)
        usage = parse_limit_info(response.headers.get("Sforce-Limit-Info"))
        if usage is not None:
            self.calls.report_daily(*usage)
        self._classify(response, call.family)
        if response.status_code >= 300:
            return Reply(response, None)
        try:
            return Reply(response, call.validate(response))
        except TruncatedResponse as exc:
            raise _Transient(str(exc)) from exc

    def _classify(self, response: requests.Response, family: str) -> None:
        status = response.status_code
        if status < 400 or status == 401:
            return
        code, message = error_details(response)
        if code == settings.LIMIT_ERROR_CODE and settings.CONCURRENCY_LIMIT_MARK in message:
            # the concurrent-request limit is a throttle, unlike the daily limit: wait and try again
            raise _Transient(
                f"{status} {code} (concurrency)", response=response, retry_after=_retry_after(response), throttled=True
            )
        if code == settings.LIMIT_ERROR_CODE:
            self.calls.exhausted = f"Salesforce refused the call: {code} {message}"
            raise BudgetExhausted(self.calls.exhausted, source=self.source)
        if family == "auth":
            return  # a rejected login is not transient
        if status in settings.RETRIABLE_STATUS or code in settings.RETRIABLE_ERROR_CODES:
            raise _Transient(
                f"{status} {code or ''}".strip(), response=response, retry_after=_retry_after(response),
                throttled=status == 429,
            )


class SalesforceClient:
    """Authenticated access to one org: `.sf` (simple-salesforce), `.request`, `.describe`."""

    def __init__(self, config: SalesforceSource, calls: ApiCalls) -> None:
        self.config = config
        self.calls = calls
        self._auth_lock = threading.RLock()
        self.session = SalesforceSession(
            calls,
            max_retries=config.max_retries,
            timeout_s=config.timeout_s,
            source=config.name,
            reauth=self._reauthenticate,
            max_concurrent=config.concurrency,
        )
        self.session.trust_env = False  # REQUESTS_CA_BUNDLE etc. would override `verify`
        self.session.verify = str(config.ca_bundle) if config.ca_bundle else True
        self.sf = self._login()

    # ---- auth ----------------------------------------------------------------------------------
    def _login(self) -> Salesforce:
        cfg = self.config
        if cfg.session_id is not None:
            token, instance_url = cfg.session_id.get_secret_value(), str(cfg.instance_url).rstrip("/")
        else:
            try:
                token, instance_url = auth.login(self.session, cfg)
            except ConnectorError:  # AuthError, BudgetExhausted: already named
                raise
            except Exception as exc:  # simple-salesforce's own types; never echo credentials
                raise AuthError(f"login failed: {type(exc).__name__}", source=cfg.name) from None
        return Salesforce(session_id=token, instance_url=instance_url, session=self.session, version=cfg.api_version)

    @property
    def can_relogin(self) -> bool:
        return self.config.session_id is None

    def _reauthenticate(self, failed_authorization: str) -> str | None:
        """Called by the session on a 401: a fresh `Authorization` header, or None when we cannot log in."""
        with self._auth_lock:
            current = f"Bearer {self.sf.session_id}"
            if current != failed_authorization:
                return current  # another thread already logged in again
            if not self.can_relogin:
                return None
            fresh = self._login()
            self.sf = fresh
            return f"Bearer {fresh.session_id}"

    # ---- calls ---------------------------------------------------------------------------------
    def url(self, path_or_url: str) -> str:
        """Absolute URL: as given, `/services/...` on the instance, or relative to `/services/data/vXX.X/`."""
        if path_or_url.startswith(("https://", "http://")):
            return path_or_url
        if path_or_url.startswith("/"):
            return f"https://{self.sf.sf_instance}{path_or_url}"
        return self.sf.base_url + path_or_url

    @overload
    def request(
        self, method: str, path_or_url: str, *, validate: Validator[T], object: str | None = ...,
        ok: tuple[int, ...] = ..., idempotent: bool = ..., **options: Any,
    ) -> Reply[T]: ...

    @overload
    def request(
        self, method: str, path_or_url: str, *, object: str | None = ..., ok: tuple[int, ...] = ...,
        idempotent: bool = ..., **options: Any,
    ) -> Reply[Any]: ...

    def request(
        self,
        method: str,
        path_or_url: str,
        *,
        object: str | None = None,
        ok: tuple[int, ...] = (),
        validate: Validator[Any] = json_body,
        idempotent: bool = True,
        **options: Any,
    ) -> Reply[Any]:
        """One API call (retried, counted, re-authenticated); error statuses raise `SalesforceApiError`.

        `ok` lists extra statuses the caller handles itself (e.g. 304 for a conditional describe, 404).
        `validate` parses a 2xx body (JSON by default); `idempotent=False` for writes.
        """
        headers = {k: v for k, v in self.sf.headers.items() if k != "X-PrettyPrint"}  # compact bodies
        headers.update(options.pop("headers", {}))
        call = ApiCall(method, self.url(path_or_url), validate=validate, object=object, idempotent=idempotent,
                       options={**options, "headers": headers})
        reply = self.session.call(call)
        response = reply.response
        if response.status_code >= 300 and response.status_code not in ok:
            code, message = error_details(response)
            raise SalesforceApiError(
                f"{method} {urlsplit(response.url or path_or_url).path}: {response.status_code} {code or ''} {message}",
                status=response.status_code,
                error_code=code,
                source=self.config.name,
                object=object,
            )
        return reply

    def describe(self, object_name: str, *, if_modified_since: str | None = None) -> dict[str, Any] | None:
        """`sobjects/<object>/describe`; None when `if_modified_since` is given and nothing changed (304)."""
        headers = {"If-Modified-Since": if_modified_since} if if_modified_since else {}
        path = f"sobjects/{object_name}/describe"
        reply = self.request("GET", path, object=object_name, headers=headers, ok=(304,))
        if reply.status == 304:
            return None
        body: dict[str, Any] = reply.parsed()
        body["_last_modified"] = reply.response.headers.get("Last-Modified")
        return body
