"""Bulk API 2.0 query jobs: create, poll (UploadComplete -> InProgress -> JobComplete), CSV results.

Why a time-driven state machine: clients must poll until JobComplete and must not fetch results
earlier; the delay is `org.bulk_delay_s` (short in tests). Results are the rows matched when the
job was created (a snapshot of row numbers), paged by `maxRecords` with a `Sforce-Locator` that is
the string "null" on the last page, as documented.
"""

from __future__ import annotations

import base64
import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from spm_sync.sandbox.server import Request, Response

from . import ids, render, soql
from .errors import fail, from_soql_error
from .jobs import find_job, job_info, job_options, list_response, progress, stamp
from .org import Org
from .query import evaluate, resolve_object
from .rest import check_version, json_body
from .schema import FieldSpec

DEFAULT_MAX_RECORDS = 50_000
OPERATIONS = ("query", "queryAll")


@dataclass
class Job:
    id: str
    operation: str
    object_name: str
    fields: list[FieldSpec]
    rows: np.ndarray
    api_version: str
    delimiter: str
    line_ending: str
    created: float
    created_stamp: str
    aborted: bool = False
    polls: int = field(default=0)


def encode_locator(offset: int) -> str:
    """Locators look like Salesforce's (base64 of the offset, no padding: 10000 -> 'MTAwMDA')."""
    return base64.b64encode(str(offset).encode()).decode().rstrip("=")


def decode_locator(locator: str) -> int | None:
    try:
        text = base64.b64decode(locator + "=" * (-len(locator) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    return int(text) if text.isdigit() else None


class BulkApi:
    """Query job registry and handlers bound to one org."""

    def __init__(self, org: Org) -> None:
        self.org = org
        self.jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._seq = 0

    def state(self, job: Job) -> str:
        if job.aborted:
            return "Aborted"
        return progress(self.org, job.created) or "JobComplete"

    def info(self, job: Job, full: bool) -> dict[str, Any]:
        state = self.state(job)
        body = job_info(self.org, job, state, modified=state == "JobComplete")
        if full:
            done = state == "JobComplete"
            body.update({
                "jobType": "V2Query",
                "numberRecordsProcessed": int(len(job.rows)) if done else 0,
                "retries": 0,
                "totalProcessingTime": int(self.org.bulk_delay_s * 1000) if done else 0,
                "isPkChunkingSupported": True,
            })
        return body

    def _job(self, request: Request) -> Job:
        return find_job(self.jobs, request)

    # ---- handlers ------------------------------------------------------------------------------
    def create(self, request: Request) -> Response:
        options = job_options(request, OPERATIONS)
        version, operation, delimiter, line_ending = (options.version, options.operation, options.delimiter,
                                                      options.line_ending)
        text = options.body.get("query")
        if not isinstance(text, str) or not text.strip():
            raise fail(400, "INVALIDJOB", "Query is required for query jobs")
        try:
            parsed = soql.parse(text)
            spec = resolve_object(parsed, self.org.find_object)
            if not spec.bulk_queryable:
                raise fail(400, "INVALIDENTITY", f"Entity '{spec.name}' is not supported by the Bulk API.")
            if parsed.count or parsed.count_field is not None:
                raise fail(400, "INVALIDJOB", "Aggregate queries are not supported by the Bulk API")
            with self.org.lock:
                result = evaluate(parsed, self.org.tables[spec.name],
                                  include_deleted=operation == "queryAll", today=self.org.today())
        except soql.SoqlError as exc:
            raise from_soql_error(exc) from exc
        if any(f.storage == "compound" for f in result.fields):
            raise fail(400, "API_ERROR", "Selecting compound data not supported in Bulk Query")
        with self._lock:
            self._seq += 1
            job_id = ids.make_id("750", self._seq)
            self.org.bulk_jobs_created += 1
        job = Job(job_id, operation, spec.name, result.fields, result.rows, version, delimiter, line_ending,
                  self.org.timer(), stamp())
        self.jobs[job_id] = job
        return Response.json(self.info(job, full=False))

    def status(self, request: Request) -> Response:
        check_version(request)
        job = self._job(request)
        job.polls += 1
        return Response.json(self.info(job, full=True))

    def list_jobs(self, request: Request) -> Response:
        check_version(request)
        return list_response(self.info(job, full=False) for job in self.jobs.values())

    def abort(self, request: Request) -> Response:
        check_version(request)
        job = self._job(request)
        body = json_body(request)
        if not isinstance(body, dict) or body.get("state") != "Aborted":
            raise fail(400, "INVALIDJOB", "Only the state Aborted can be set on a query job")
        if self.state(job) == "JobComplete":
            raise fail(400, "INVALIDJOBSTATE", "Job is already complete and can't be aborted")
        job.aborted = True
        return Response.json(self.info(job, full=False))

    def delete(self, request: Request) -> Response:
        check_version(request)
        job = self._job(request)
        self.jobs.pop(job.id, None)
        return Response.empty(204)

    def results(self, request: Request) -> Response:
        version = check_version(request)
        job = self._job(request)
        if version != job.api_version:
            raise fail(409, "INVALIDJOBSTATE",
                       "Use the same API version to get query results that you used to create the query")
        if self.state(job) != "JobComplete":
            raise fail(400, "INVALIDJOBSTATE", f"Job {job.id} is not in the JobComplete state")
        offset = 0
        locator = request.arg("locator")
        if locator and locator != "null":
            decoded = decode_locator(locator)
            if decoded is None or decoded > len(job.rows):
                raise fail(400, "INVALIDLOCATOR", f"Invalid locator: {locator}")
            offset = decoded
        max_text = request.arg("maxRecords")
        max_records = int(max_text) if max_text and max_text.isdigit() and int(max_text) > 0 else DEFAULT_MAX_RECORDS
        end = min(offset + max_records, len(job.rows))
        table = self.org.tables[job.object_name]
        with self.org.lock:
            page = render.csv_page(table, job.fields, job.rows[offset:end], job.delimiter, job.line_ending)
        next_locator = encode_locator(end) if end < len(job.rows) else "null"
        return Response.csv(page, headers={
            "Sforce-Locator": next_locator,
            "Sforce-NumberOfRecords": str(end - offset),
        })
