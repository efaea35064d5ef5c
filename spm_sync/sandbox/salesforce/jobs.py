"""What Bulk API 2.0 query and ingest jobs share: the create request's options, the job info, lookups.

Why one place: both job kinds answer the same fields in the same shape (the documented JobInfo), and
their create requests are validated alike (INVALIDJOB for a bad operation, delimiter or line ending).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import numpy as np

from spm_sync.sandbox.server import Request, Response

from . import render
from .errors import NOT_FOUND, fail
from .org import Org
from .rest import check_version, json_body

J = TypeVar("J")


@dataclass(frozen=True)
class JobOptions:
    """A create-job request, validated: API version, JSON body, operation and CSV format."""

    version: str
    body: dict[str, Any]
    operation: str
    delimiter: str
    line_ending: str


def stamp(moment: datetime | None = None) -> str:
    """A job timestamp as Salesforce writes it (now when no moment is given)."""
    return (moment or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def job_options(request: Request, operations: tuple[str, ...]) -> JobOptions:
    """The options of a `POST jobs/query|ingest`; 400 INVALIDJOB for anything the org would refuse."""
    version = check_version(request)
    body = json_body(request)
    if not isinstance(body, dict):
        raise fail(400, "INVALIDJOB", "Invalid job: the request body must be a JSON object")
    operation = body.get("operation")
    if operation not in operations:
        raise fail(400, "INVALIDJOB", f"Invalid operation: {operation}")
    delimiter = body.get("columnDelimiter", "COMMA")
    line_ending = body.get("lineEnding", "LF")
    if delimiter not in render.DELIMITERS or line_ending not in render.LINE_ENDINGS:
        raise fail(400, "INVALIDJOB", "Invalid columnDelimiter or lineEnding")
    return JobOptions(version, body, str(operation), delimiter, line_ending)


def progress(org: Org, since: float) -> str | None:
    """A working job's state `since` its work began: UploadComplete, then InProgress from half of
    `org.bulk_delay_s`; None once the delay has passed (the caller knows how the job ended)."""
    elapsed = org.timer() - since
    if elapsed >= org.bulk_delay_s:
        return None
    return "InProgress" if elapsed >= org.bulk_delay_s / 2 else "UploadComplete"


def list_response(infos: Iterable[dict[str, Any]]) -> Response:
    """`GET jobs/query|ingest`: every job's info on one page."""
    return Response.json({"done": True, "records": list(infos), "nextRecordsUrl": None})


def find_job(jobs: dict[str, J], request: Request) -> J:
    """The job named in the path, or 404 NOT_FOUND."""
    job = jobs.get(request.params["job"])
    if job is None:
        raise fail(*NOT_FOUND)
    return job


def job_info(org: Org, job: Any, state: str, *, modified: bool) -> dict[str, Any]:
    """The fields every job info carries; `job` has id, operation, object_name, created_stamp,
    api_version, line_ending and delimiter; `modified`: systemModstamp moves on from createdDate."""
    return {
        "id": job.id,
        "operation": job.operation,
        "object": job.object_name,
        "createdById": org.tables["User"].ids(np.array([org.actor_row]))[0],
        "createdDate": job.created_stamp,
        "systemModstamp": stamp() if modified else job.created_stamp,
        "state": state,
        "concurrencyMode": "Parallel",
        "contentType": "CSV",
        "apiVersion": float(job.api_version),
        "lineEnding": job.line_ending,
        "columnDelimiter": job.delimiter,
    }
