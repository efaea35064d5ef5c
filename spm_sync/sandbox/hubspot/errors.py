"""HubSpot's error bodies, reproduced field for field.

Why exact: connectors branch on `category` (VALIDATION_ERROR, OBJECT_NOT_FOUND, MISSING_SCOPES,
INVALID_AUTHENTICATION) and on the 429 `policyName`; a fake with looser bodies hides bugs there.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from typing import Any

from spm_sync.sandbox.server import HttpError, Response

AUTH_MESSAGE = (
    "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find "
    "more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview"
)
SCOPES_MESSAGE = (
    "This app hasn't been granted all required scopes to make this call. Read more about required "
    "scopes here: https://developers.hubspot.com/scopes."
)


def correlation_id() -> str:
    return str(uuid.uuid4())


def error_body(message: str, category: str, **extra: Any) -> dict[str, Any]:
    """The common `{status, message, correlationId, category}` shape (extra keys before category)."""
    return {"status": "error", "message": message, "correlationId": correlation_id(), **extra,
            "category": category}


def error_response(status: int, message: str, category: str, **extra: Any) -> Response:
    return Response.json(error_body(message, category, **extra), status=status)


def fail(status: int, message: str, category: str, **extra: Any) -> HttpError:
    """An HttpError to raise from a handler."""
    return HttpError(error_response(status, message, category, **extra))


def unauthorized() -> Response:
    return error_response(401, AUTH_MESSAGE, "INVALID_AUTHENTICATION")


def missing_scopes(scopes: Iterable[str]) -> Response:
    return error_response(
        403, SCOPES_MESSAGE, "MISSING_SCOPES",
        errors=[{"message": "One or more of the following scopes are required.",
                 "context": {"requiredGranularScopes": sorted(scopes)}}],
        links={"scopes": "https://developers.hubspot.com/scopes"},
    )


_POLICIES = {
    # limiter name -> (message word, policyName, group name stem)
    "ten_secondly_rolling": ("ten_secondly_rolling", "TEN_SECONDLY_ROLLING", "api-calls-ten-secondly"),
    "search_secondly": ("secondly", "SECONDLY", "search-api-calls-secondly"),
    "daily": ("daily", "DAILY", "api-calls-daily"),
}


def rate_limited(reason: str, portal_id: int) -> Response:
    """The 429 body; injected faults (reason "fault") look like the ten-second limit."""
    word, policy, stem = _POLICIES.get(reason, _POLICIES["ten_secondly_rolling"])
    body = {
        "status": "error",
        "message": f"You have reached your {word} limit.",
        "errorType": "RATE_LIMIT",
        "correlationId": correlation_id(),
        "policyName": policy,
        "groupName": f"publicapi:private-app-{stem}:{portal_id}",
    }
    return Response.json(body, status=429)


def property_errors_message(errors: Iterable[dict[str, Any]]) -> str:
    """HubSpot embeds the per-property validation results as JSON inside the message."""
    return "Property values were not valid: " + json.dumps(list(errors), separators=(",", ":"))


def property_result(name: str, message: str, error: str) -> dict[str, Any]:
    return {"isValid": False, "message": message, "error": error, "name": name,
            "localizedErrorMessage": message}


def unknown_properties(names: Iterable[str]) -> HttpError:
    """400 VALIDATION_ERROR / PROPERTY_DOESNT_EXIST for a write naming undefined properties."""
    results = [property_result(n, f'Property "{n}" does not exist', "PROPERTY_DOESNT_EXIST") for n in names]
    return fail(400, property_errors_message(results), "VALIDATION_ERROR")


def validation(message: str, **extra: Any) -> HttpError:
    return fail(400, message, "VALIDATION_ERROR", **extra)


def not_found(message: str = "resource not found") -> HttpError:
    return fail(404, message, "OBJECT_NOT_FOUND")


def batch_error(category: str, message: str, context: dict[str, list[str]], status: str = "error",
                **extra: Any) -> dict[str, Any]:
    """One entry of a 207 multi-status `errors` list."""
    return {"status": status, "category": category, "message": message, "context": context, **extra}
