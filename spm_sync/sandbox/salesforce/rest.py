"""REST API handlers: versions, resources, limits, query/queryAll/queryMore, describe, sObject rows.

Why these details: simple-salesforce and dlt-style connectors page with `nextRecordsUrl` until
`done`, size pages with `Sforce-Query-Options: batchSize=N` (200..2000), skip unchanged metadata
with `If-Modified-Since`, and read `Sforce-Limit-Info`; each is reproduced as documented.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

import numpy as np
import orjson

from spm_sync.sandbox.server import JSON_TYPE, Request, Response

from . import describe, render, soql
from .errors import NOT_FOUND, fail, from_request_error, from_soql_error
from .org import Cursor, Org, RecordError, RequestError
from .query import evaluate, resolve_object

DEFAULT_BATCH = 2000
MIN_BATCH, MAX_BATCH = 200, 2000
OLDEST_VERSION, NEWEST_VERSION = 31, 62


def version_label(major: int) -> str:
    """Release name of an API version: 59.0 is Winter '24, 60.0 Spring '24, 61.0 Summer '24."""
    offset = major - 59
    season = ("Winter", "Spring", "Summer")[offset % 3]
    return f"{season} '{24 + offset // 3}"


def versions() -> list[dict[str, str]]:
    return [
        {"label": version_label(v), "url": f"/services/data/v{v}.0", "version": f"{v}.0"}
        for v in range(OLDEST_VERSION, NEWEST_VERSION + 1)
    ]


def check_version(request: Request) -> str:
    """The 'XX.X' of the request path; unknown versions are 404 NOT_FOUND like a real org."""
    version = request.params["v"]
    major = int(float(version))
    if not OLDEST_VERSION <= major <= NEWEST_VERSION or not version.endswith(".0"):
        raise fail(*NOT_FOUND)
    return version


def batch_size(request: Request) -> int:
    """Sforce-Query-Options: batchSize=N, clamped to 200..2000 (the documented range)."""
    header = request.headers.get("Sforce-Query-Options") or ""
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key.strip().lower() == "batchsize" and value.strip().isdigit():
            return max(MIN_BATCH, min(MAX_BATCH, int(value)))
    return DEFAULT_BATCH


class RestApi:
    """Handlers bound to one org."""

    def __init__(self, org: Org, instance_url: Callable[[], str]) -> None:
        self.org = org
        self.instance_url = instance_url  # known once the server is bound

    # ---- discovery ---------------------------------------------------------------------------
    def versions(self, request: Request) -> Response:
        return Response.json(versions())

    def resources(self, request: Request) -> Response:
        base = f"/services/data/v{check_version(request)}"
        names = ("tooling", "metadata", "eclair", "folders", "prechatForms", "composite", "jobs", "query",
                 "queryAll", "search", "sobjects", "limits", "recent", "quickActions", "tabs", "theme")
        return Response.json({name: f"{base}/{name}" for name in names})

    def limits(self, request: Request) -> Response:
        check_version(request)
        org = self.org
        remaining = max(0, org.daily_api_limit - org.api_used)
        return Response.json({
            "ConcurrentAsyncGetReportInstances": {"Max": 200, "Remaining": 200},
            "DailyApiRequests": {"Max": org.daily_api_limit, "Remaining": remaining},
            "DailyAsyncApexExecutions": {"Max": 250000, "Remaining": 250000},
            "DailyBulkApiBatches": {"Max": 15000, "Remaining": 15000},
            "DailyBulkV2QueryFileStorageMB": {"Max": 976562, "Remaining": 976562},
            "DailyBulkV2QueryJobs": {"Max": 10000, "Remaining": 10000 - org.bulk_jobs_created},
            "DataStorageMB": {"Max": 1024, "Remaining": 1000},
            "FileStorageMB": {"Max": 1024, "Remaining": 1024},
            "HourlyTimeBasedWorkflow": {"Max": 50, "Remaining": 50},
            "SingleEmail": {"Max": 15, "Remaining": 15},
        })

    # ---- query ---------------------------------------------------------------------------------
    def query(self, request: Request) -> Response:
        return self._query(request, include_deleted=False)

    def query_all(self, request: Request) -> Response:
        return self._query(request, include_deleted=True)

    def _query(self, request: Request, include_deleted: bool) -> Response:
        version = check_version(request)
        text = request.arg("q")
        if text is None:
            raise fail(400, "MALFORMED_QUERY", "A query string has to be specified")
        try:
            parsed = soql.parse(text)
            spec = resolve_object(parsed, self.org.find_object)
            with self.org.lock:
                result = evaluate(parsed, self.org.tables[spec.name],
                                  include_deleted=include_deleted, today=self.org.today())
        except soql.SoqlError as exc:
            raise from_soql_error(exc) from exc
        if result.count_only:
            return Response.json({"totalSize": result.total_size, "done": True, "records": []})
        if result.aggregate is not None:
            return Response.json({"totalSize": 1, "done": True, "records": [render.aggregate(result.aggregate)]})
        cursor = Cursor(spec.name, result.fields, result.rows, include_deleted)
        return self._page(cursor, version, batch_size(request), 0, None)

    def query_more(self, request: Request) -> Response:
        version = check_version(request)
        locator, _, offset = request.params["locator"].rpartition("-")
        cursor = self.org.cursor(locator)
        if cursor is None or not offset.isdigit() or int(offset) > len(cursor.rows):
            raise fail(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        return self._page(cursor, version, cursor.batch, int(offset), locator)

    def _page(self, cursor: Cursor, version: str, batch: int, offset: int, locator: str | None) -> Response:
        end = offset + batch
        table = self.org.tables[cursor.object_name]
        with self.org.lock:
            records = render.records_json(table, cursor.fields, cursor.rows[offset:end], f"/services/data/v{version}")
        head: dict[str, Any] = {"totalSize": int(len(cursor.rows)), "done": end >= len(cursor.rows)}
        if not head["done"]:
            if locator is None:
                cursor.batch = batch
                locator = self.org.open_cursor(cursor)
            resource = "queryAll" if cursor.query_all else "query"
            head["nextRecordsUrl"] = f"/services/data/v{version}/{resource}/{locator}-{end}"
        elif locator is not None:
            self.org.close_cursor(locator)
        # the records arrive as JSON bytes: splice them in rather than parse and re-encode
        return Response(200, orjson.dumps(head)[:-1] + b',"records":' + records + b"}", {"Content-Type": JSON_TYPE})

    # ---- describe ------------------------------------------------------------------------------
    def describe_global(self, request: Request) -> Response:
        base = f"/services/data/v{check_version(request)}"
        return self._conditional(request, lambda: describe.global_describe(base, self.org.specs()))

    def describe(self, request: Request) -> Response:
        base = f"/services/data/v{check_version(request)}"
        spec = self.org.find_object(request.params["obj"])
        if spec is None:
            raise fail(*NOT_FOUND)
        return self._conditional(request, lambda: describe.object_describe(spec, base))

    def _conditional(self, request: Request, build: Any) -> Response:
        """304 when the metadata has not changed since If-Modified-Since (as documented)."""
        changed = self.org.metadata_changed
        since = request.headers.get("If-Modified-Since")
        if since:
            try:
                stamp = parsedate_to_datetime(since)
            except (TypeError, ValueError):
                stamp = None
            if stamp is not None and stamp.tzinfo is None:
                stamp = stamp.replace(tzinfo=UTC)
            if stamp is not None and changed <= stamp:
                return Response.empty(304)
        return Response.json(build(), headers={"Last-Modified": format_datetime(changed, usegmt=True)})

    # ---- single records --------------------------------------------------------------------------
    def sobject_info(self, request: Request) -> Response:
        base = f"/services/data/v{check_version(request)}"
        spec = self.org.find_object(request.params["obj"])
        if spec is None:
            raise fail(*NOT_FOUND)
        return Response.json(describe.object_info(spec, base))

    def get_record(self, request: Request) -> Response:
        base = f"/services/data/v{check_version(request)}"
        try:
            with self.org.lock:
                table = self.org.table(request.params["obj"])
                row = table.row_of(request.params["id"])
                if row is None:
                    raise fail(*NOT_FOUND)
                if table.spec.has_is_deleted and table.get(row, "IsDeleted"):
                    raise fail(404, "ENTITY_IS_DELETED", "entity is deleted")
                fields = None
                wanted = request.arg("fields")
                if wanted:
                    fields = [self._field(table.spec, name) for name in wanted.split(",")]
                return Response.json(self.org.record(table, row, fields, base))
        except RequestError as exc:
            raise from_request_error(exc) from exc

    @staticmethod
    def _field(spec: Any, name: str) -> Any:
        found = spec.field(name.strip())
        if found is None:
            raise fail(400, "INVALID_FIELD", f"No such column '{name.strip()}' on entity '{spec.name}'. "
                       "If you are attempting to use a custom field, be sure to append the '__c' after the "
                       "custom field name. Please reference your WSDL or the describe call for the appropriate "
                       "names.")
        return found

    def get_by_external_id(self, request: Request) -> Response:
        base = f"/services/data/v{check_version(request)}"
        try:
            with self.org.lock:
                table = self.org.table(request.params["obj"])
                spec = table.spec.field(request.params["field"])
                if spec is None or not spec.external_id:
                    raise fail(404, "NOT_FOUND", "Provided external ID field does not exist or is not accessible: "
                               + request.params["field"])
                matches = self.org.find_by_external_id(table, spec.name, request.params["value"])
                row = table.row_of(matches[0]) if matches else None
                if row is None:
                    raise fail(*NOT_FOUND)
                return Response.json(self.org.record(table, row, None, base))
        except RequestError as exc:
            raise from_request_error(exc) from exc

    def _write(self, request: Request, action: Any) -> Any:
        """Run a single-record write; lock failures and record errors become 400 bodies."""
        if self.org.take_lock_failure():
            raise fail(400, "UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access to this record", [])
        try:
            return action()
        except RequestError as exc:
            raise from_request_error(exc) from exc
        except RecordError as exc:
            first = exc.errors[0]  # a single-record write answers with its first error
            status = 404 if first.status_code in ("ENTITY_IS_DELETED", "INVALID_CROSS_REFERENCE_KEY") else 400
            raise fail(status, first.status_code, first.message, list(first.fields)) from exc

    def create_record(self, request: Request) -> Response:
        check_version(request)
        values = _json_object(request)
        record_id = self._write(request, lambda: self.org.create(request.params["obj"], values, api=True))
        return Response.json({"id": record_id, "success": True, "errors": []}, status=201)

    def update_record(self, request: Request) -> Response:
        check_version(request)
        values = _json_object(request)
        self._write(request, lambda: self.org.update(request.params["obj"], request.params["id"], values, api=True))
        return Response.empty(204)

    def delete_record(self, request: Request) -> Response:
        check_version(request)
        self._write(request, lambda: self._delete(request.params["obj"], request.params["id"]))
        return Response.empty(204)

    def _delete(self, obj: str, record_id: str) -> None:
        table = self.org.table(obj)
        if not table.spec.deletable:
            raise RequestError(400, "INVALID_TYPE_FOR_OPERATION",
                               f"entity type {table.spec.name} does not support delete")
        self.org.delete(obj, record_id)

    def upsert_record(self, request: Request) -> Response:
        check_version(request)
        values = _json_object(request)
        record_id, created = self._write(request, lambda: self.org.upsert(
            request.params["obj"], request.params["field"], request.params["value"], values, api=True
        ))
        return Response.json({"id": record_id, "success": True, "errors": [], "created": created},
                             status=201 if created else 200)

    # ---- OAuth -----------------------------------------------------------------------------------
    def oauth_token(self, request: Request) -> Response:
        """POST /services/oauth2/token: password, JWT bearer and refresh-token grants issue a fresh session.

        A refresh-token grant answers without a new refresh token, as Salesforce does.
        """
        from urllib.parse import parse_qs

        form = {k: v[0] for k, v in parse_qs(request.body.decode(), keep_blank_values=True).items()}
        grant = form.get("grant_type", "")
        username: str | None = None
        if grant == "password":
            username = form.get("username")
            # the password grant sends password + security token: accept any token suffix
            if not username or not form.get("password", "").startswith(self.org.password):
                return _oauth_error("invalid_grant", "authentication failure")
        elif grant == "urn:ietf:params:oauth:grant-type:jwt-bearer":
            import jwt

            try:
                claims = jwt.decode(form.get("assertion", ""), options={"verify_signature": False})
            except jwt.PyJWTError:
                return _oauth_error("invalid_grant", "invalid assertion")
            username = claims.get("sub")
            exp = claims.get("exp")
            if exp is not None and float(exp) < datetime.now(UTC).timestamp():
                return _oauth_error("invalid_grant", "expired authorization code")
        elif grant == "refresh_token":
            if not form.get("client_id"):
                return _oauth_error("invalid_client_id", "client identifier invalid")
            if form.get("refresh_token") != self.org.refresh_token:
                return _oauth_error("invalid_grant", "expired access/refresh token")
            username = self._actor_username()
        else:
            return _oauth_error("unsupported_grant_type", "grant type not supported")
        user = self._user_row(username or "")
        if user is None:
            return _oauth_error("invalid_grant", "authentication failure")
        token = self.org.issue_token()
        issued = str(int(datetime.now(UTC).timestamp() * 1000))
        return Response.json({
            "access_token": token,
            "instance_url": self.instance_url(),
            "id": f"https://login.salesforce.com/id/{self.org.org_id}/{user}",
            "token_type": "Bearer",
            "issued_at": issued,
            "signature": "c2FuZGJveA==",
        })

    def userinfo(self, request: Request) -> Response:
        """GET /services/oauth2/userinfo: the session's user and org (the org id differs per emulator
        start: its data are generated afresh, as a refreshed sandbox org's Id is new)."""
        username = self._actor_username()
        return Response.json({
            "sub": f"https://login.salesforce.com/id/{self.org.org_id}/{self._user_row(username)}",
            "user_id": self._user_row(username), "organization_id": self.org.org_id,
            "preferred_username": username,
        })

    def _actor_username(self) -> str:
        with self.org.lock:
            return str(self.org.tables["User"].column("Username").tolist()[self.org.actor_row])

    def _user_row(self, username: str) -> str | None:
        with self.org.lock:
            users = self.org.tables["User"]
            names = users.column("Username").tolist()
            active = users.column("IsActive").tolist()
            for row, (name, is_active) in enumerate(zip(names, active, strict=True)):
                if name and name.lower() == username.lower() and is_active:
                    return users.ids(np.array([row]))[0]
        return None


def _oauth_error(code: str, description: str) -> Response:
    return Response.json({"error": code, "error_description": description}, status=400)


def json_body(request: Request) -> Any:
    """The request body as JSON, a parse failure answered as Salesforce does (JSON_PARSER_ERROR)."""
    try:
        return orjson.loads(request.body) if request.body else None
    except orjson.JSONDecodeError as exc:
        raise fail(400, "JSON_PARSER_ERROR", f"Unexpected character in JSON body: {exc}") from exc


def _json_object(request: Request) -> dict[str, Any]:
    body = json_body(request)
    if not isinstance(body, dict):
        raise fail(400, "JSON_PARSER_ERROR", "Cannot deserialize instance of sObject from non-object value")
    return body
