"""Salesforce-shaped error responses.

Why one place: every REST error body is a JSON list of {message, errorCode[, fields]}, and the
status code for a code is fixed (401 INVALID_SESSION_ID, 403 REQUEST_LIMIT_EXCEEDED, ...); clients
branch on exactly these, so they must not drift between handlers.
"""

from __future__ import annotations

from spm_sync.sandbox.server import HttpError, Request, Response

from .org import RequestError
from .soql import SoqlError

SESSION_INVALID = (401, "INVALID_SESSION_ID", "Session expired or invalid")
DAILY_LIMIT = (403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
CONCURRENT_LIMIT = (403, "REQUEST_LIMIT_EXCEEDED", "ConcurrentPerOrgLongTxn Limit exceeded.")
NOT_FOUND = (404, "NOT_FOUND", "The requested resource does not exist")


def error_response(status: int, code: str, message: str, fields: list[str] | None = None) -> Response:
    entry: dict[str, object] = {"message": message, "errorCode": code}
    if fields is not None:
        entry["fields"] = fields
    return Response.json([entry], status=status)


def fail(status: int, code: str, message: str, fields: list[str] | None = None) -> HttpError:
    """An HttpError to raise from a handler."""
    return HttpError(error_response(status, code, message, fields))


def from_request_error(exc: RequestError) -> HttpError:
    return fail(exc.status, exc.code, exc.message, exc.fields)


def from_soql_error(exc: SoqlError) -> HttpError:
    return fail(400, exc.code, exc.message)


def on_error(request: Request, status: int, message: str) -> Response:
    """Plumbing errors (404/405/500/5xx faults) in Salesforce's shape."""
    if status == 404:
        return error_response(*NOT_FOUND)
    if status == 405:
        return error_response(405, "METHOD_NOT_ALLOWED", f"HTTP Method '{request.method}' not allowed.")
    if status == 503:
        return error_response(503, "SERVER_UNAVAILABLE", "Server temporarily unavailable. Please try again.")
    return error_response(
        status, "UNKNOWN_EXCEPTION",
        "An unexpected error occurred. Please include this ErrorId if you contact support: 1234567890-12345 "
        f"(-1234567890) [{message}]",
    )


def on_throttle(request: Request, retry_after: int, reason: str) -> Response:
    """Salesforce has no 429: a transient throttle is 403 REQUEST_LIMIT_EXCEEDED (concurrency)."""
    return error_response(*CONCURRENT_LIMIT)
