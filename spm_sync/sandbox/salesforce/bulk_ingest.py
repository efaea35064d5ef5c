"""Bulk API 2.0 ingest jobs: create (Open) -> PUT CSV -> PATCH UploadComplete -> poll -> CSV results.

Why: write-back sends large batches through Bulk API 2.0 ingest, and the client must meet the
documented protocol, not a friendlier one: one upload per job (a second PUT is refused), nothing
happens until UploadComplete, empty cells leave a field alone and `#N/A` clears it, results are
refused until the job is done, and each row lands in `successfulResults` (sf__Id, sf__Created) or
`failedResults` (sf__Id, sf__Error = `CODE:message:fields --`), followed by the row as uploaded.
Rows go through the org's validated write path (`org.create/update/upsert(..., api=True)`, as
sObject Collections do), so a record a collection call rejects is rejected here with the same code.
Rows are applied when the upload is closed; the job then reports UploadComplete -> InProgress ->
JobComplete (or Failed for a CSV the org cannot read) over `org.bulk_delay_s`.
"""

from __future__ import annotations

import csv
import io
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from spm_sync.sandbox.server import Request, Response

from . import ids, render
from .errors import fail
from .jobs import find_job, job_info, job_options, list_response, progress, stamp
from .org import Org, RecordError, RequestError, SaveError
from .rest import check_version, json_body
from .schema import FieldSpec, ObjectSpec
from .store import BadValue, wire_to_storage

OPERATIONS = ("insert", "update", "upsert", "delete", "hardDelete")
NULL = "#N/A"  # documented: an empty cell leaves the field as it is, #N/A sets it to null
ID_BASE = 1 << 24  # ingest and query jobs share the 750 prefix; separate ranges keep their ids apart
TERMINAL = ("JobComplete", "Failed", "Aborted")
LOCKED = SaveError("UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access to this record or 200 records")


class InvalidUpload(Exception):
    """The uploaded CSV cannot be read at all: the whole job fails with this message."""


@dataclass
class Outcome:
    """One processed row: the record's id (may be empty), created flag or the sf__Error text."""

    record_id: str
    created: bool
    error: str | None
    row: list[str]


@dataclass
class IngestJob:
    id: str
    operation: str
    object_name: str
    external_id: str | None
    api_version: str
    delimiter: str
    line_ending: str
    created_stamp: str
    state: str = "Open"  # Open | UploadComplete | Aborted; InProgress/JobComplete/Failed follow from time
    data: bytes | None = None
    closed: float = 0.0
    error_message: str | None = None
    header: list[str] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)
    unprocessed: list[list[str]] = field(default_factory=list)


def bulk_error(error: SaveError) -> str:
    """`sf__Error` as Bulk API writes it: `CODE:message:Field1 Field2 --` (just `--` without fields)."""
    fields = " ".join(error.fields)
    return f"{error.status_code}:{error.message}:{fields + ' ' if fields else ''}--"


def parse_csv(data: bytes, delimiter: str, line_ending: str) -> tuple[list[str], list[list[str]]]:
    """Header and rows of an upload; InvalidUpload when the org would fail the whole job."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidUpload("InvalidBatch : the CSV data is not UTF-8") from exc
    first_break = text.find("\n")
    crlf = first_break > 0 and text[first_break - 1] == "\r"
    if first_break >= 0 and crlf != (line_ending == "CRLF"):
        raise InvalidUpload(f"ClientInputError : LineEnding is invalid on user data. Current LineEnding setting "
                            f"is {line_ending}")
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=render.DELIMITERS[delimiter], strict=True))
    except csv.Error as exc:
        raise InvalidUpload(f"InvalidBatch : {exc}") from exc
    if not rows or not any(rows[0]):
        raise InvalidUpload("InvalidBatch : Empty CSV file")
    header, body = rows[0], [r for r in rows[1:] if r]
    for number, row in enumerate(body, start=1):
        if len(row) != len(header):
            raise InvalidUpload(f"InvalidBatch : Wrong number of columns in record {number}: "
                                f"{len(row)} instead of {len(header)}")
    return header, body


def _typed(spec: FieldSpec, column: int, text: str) -> object:
    """A CSV cell as the org's write path takes it (text is fine for every kind once it parses)."""
    if text == NULL:
        return None
    if spec.storage == "bool" and text in ("0", "1"):
        return text == "1"
    try:
        wire_to_storage(spec, text)
    except BadValue as exc:
        raise RecordError(SaveError(
            "INVALID_FIELD", f"Failed to deserialize field at col {column}. Due to, '{text}' is not a valid "
            f"value for the type xsd:{spec.type}", (spec.name,))) from exc
    return text


class IngestApi:
    """Ingest job registry and handlers bound to one org."""

    def __init__(self, org: Org) -> None:
        self.org = org
        self.jobs: dict[str, IngestJob] = {}
        self._lock = threading.Lock()
        self._seq = 0

    # ---- job info ----------------------------------------------------------------------------
    def state(self, job: IngestJob) -> str:
        if job.state != "UploadComplete":
            return job.state
        return progress(self.org, job.closed) or ("Failed" if job.error_message else "JobComplete")

    def info(self, job: IngestJob, full: bool) -> dict[str, Any]:
        state = self.state(job)
        body = job_info(self.org, job, state, modified=state != "Open")
        body["contentUrl"] = f"services/data/v{job.api_version}/jobs/ingest/{job.id}/batches"
        if job.external_id:
            body["externalIdFieldName"] = job.external_id
        if full:
            done = state in TERMINAL
            failed = sum(1 for o in job.outcomes if o.error is not None)
            body.update({
                "jobType": "V2Ingest",
                "numberRecordsProcessed": len(job.outcomes) if done else 0,
                "numberRecordsFailed": failed if done else 0,
                "retries": 0,
                "totalProcessingTime": int(self.org.bulk_delay_s * 1000) if done else 0,
                "apiActiveProcessingTime": int(self.org.bulk_delay_s * 500) if done else 0,
                "apexProcessingTime": 0,
            })
            if state == "Failed":
                body["errorMessage"] = job.error_message
        return body

    def _job(self, request: Request) -> IngestJob:
        return find_job(self.jobs, request)

    # ---- handlers ----------------------------------------------------------------------------
    def create(self, request: Request) -> Response:
        """POST jobs/ingest: an Open job, waiting for its one upload."""
        options = job_options(request, OPERATIONS)
        body = options.body
        if body.get("contentType", "CSV") != "CSV":
            raise fail(400, "INVALIDJOB", "InvalidJob : Invalid contentType, only CSV is supported")
        spec = self._object(body.get("object"))
        external_id = self._external_id(spec, options.operation, body.get("externalIdFieldName"))
        with self._lock:
            self._seq += 1
            job_id = ids.make_id("750", ID_BASE + self._seq)
        job = IngestJob(job_id, options.operation, spec.name, external_id, options.version, options.delimiter,
                        options.line_ending, stamp())
        self.jobs[job_id] = job
        return Response.json(self.info(job, full=False))

    def upload(self, request: Request) -> Response:
        """PUT jobs/ingest/<id>/batches: the job's CSV, accepted once while the job is Open."""
        check_version(request)
        job = self._job(request)
        with self._lock:
            if job.state != "Open":
                raise fail(400, "INVALIDJOBSTATE", f"Job {job.id} is not in the Open state")
            if job.data is not None:
                raise fail(400, "BULK_API_ERROR",
                           f"Found multiple contents for job: {job.id}, please 'Close' / 'Abort' / 'Delete' the "
                           "current Job then create a new Job and make sure you only do 'PUT' once on a given Job.")
            job.data = request.body
        return Response.empty(201)

    def close(self, request: Request) -> Response:
        """PATCH jobs/ingest/<id> {state: UploadComplete | Aborted}."""
        check_version(request)
        job = self._job(request)
        body = json_body(request)
        wanted = body.get("state") if isinstance(body, dict) else None
        with self._lock:
            current = self.state(job)
            if wanted == "Aborted":
                if current in TERMINAL:
                    raise fail(400, "INVALIDJOBSTATE", f"Job {job.id} is already {current} and can't be aborted")
                job.state = "Aborted"
            elif wanted == "UploadComplete":
                if current != "Open":
                    raise fail(400, "INVALIDJOBSTATE", f"Job {job.id} is not in the Open state")
                self._process(job)
                job.state, job.closed = "UploadComplete", self.org.timer()
            else:
                raise fail(400, "INVALIDJOB", f"InvalidJob : Invalid state: {wanted}")
        return Response.json(self.info(job, full=False))

    def status(self, request: Request) -> Response:
        check_version(request)
        return Response.json(self.info(self._job(request), full=True))

    def list_jobs(self, request: Request) -> Response:
        check_version(request)
        return list_response(self.info(job, full=False) for job in self.jobs.values())

    def delete(self, request: Request) -> Response:
        check_version(request)
        job = self._job(request)
        if self.state(job) in ("Open", "InProgress"):
            raise fail(400, "INVALIDJOBSTATE", f"Job {job.id} can't be deleted in state {self.state(job)}")
        self.jobs.pop(job.id, None)
        return Response.empty(204)

    def results(self, request: Request) -> Response:
        """GET successfulResults/ | failedResults/ | unprocessedrecords/ once the job is done."""
        check_version(request)
        job = self._job(request)
        state = self.state(job)
        if state not in TERMINAL:
            raise fail(400, "INVALIDJOBSTATE", f"Job {job.id} is {state}: results are available once it is done")
        kind = request.params["kind"].lower()
        if kind == "successfulresults":
            header = ["sf__Id", "sf__Created", *job.header]
            rows = [[o.record_id, "true" if o.created else "false", *o.row] for o in job.outcomes if o.error is None]
        elif kind == "failedresults":
            header = ["sf__Id", "sf__Error", *job.header]
            rows = [[o.record_id, o.error, *o.row] for o in job.outcomes if o.error is not None]
        else:
            header, rows = job.header, job.unprocessed
        out = io.StringIO()
        writer = csv.writer(out, delimiter=render.DELIMITERS[job.delimiter],
                            lineterminator=render.LINE_ENDINGS[job.line_ending], quoting=csv.QUOTE_ALL)
        if header:
            writer.writerow(header)
        writer.writerows(rows)
        return Response.csv(out.getvalue())

    # ---- processing --------------------------------------------------------------------------
    def _object(self, name: object) -> ObjectSpec:
        if not isinstance(name, str) or not name:
            raise fail(400, "INVALIDJOB", "InvalidJob : object is required")
        try:
            return self.org.table(name).spec
        except RequestError as exc:
            raise fail(400, "INVALIDJOB", f"InvalidJob : sObject type '{name}' is not supported.") from exc

    @staticmethod
    def _external_id(spec: ObjectSpec, operation: str, name: object) -> str | None:
        if operation != "upsert":
            return None
        field_spec = spec.field(name) if isinstance(name, str) else None
        if field_spec is None or not (field_spec.external_id or field_spec.name == "Id"):
            raise fail(400, "INVALIDJOB", f"InvalidJob : The field {name} is not an External ID or Id field "
                       f"of {spec.name}; upsert jobs need externalIdFieldName")
        return field_spec.name

    def _process(self, job: IngestJob) -> None:
        """Apply every row (under the org lock), or fail the job as a whole when the CSV is unreadable."""
        try:
            header, rows = parse_csv(job.data or b"", job.delimiter, job.line_ending)
            specs = self._columns(job, header)
        except InvalidUpload as exc:
            job.error_message = str(exc)
            return
        job.header = header
        locked = self.org.take_lock_failure()
        with self.org.lock:
            for row in rows:
                job.outcomes.append(self._apply(job, specs, row, locked))

    def _columns(self, job: IngestJob, header: list[str]) -> list[FieldSpec]:
        spec = self.org.tables[job.object_name].spec
        specs = []
        for name in header:
            found = spec.field(name)
            if found is None:
                raise InvalidUpload(f"InvalidBatch : Field name not found : {name}")
            if found in specs:
                raise InvalidUpload(f"InvalidBatch : Duplicate field name: {name}")
            specs.append(found)
        return specs

    def _apply(self, job: IngestJob, specs: Sequence[FieldSpec], row: list[str], locked: bool) -> Outcome:
        values: dict[str, object] = {}
        given_id = ""
        try:
            for column, (spec, text) in enumerate(zip(specs, row, strict=True), start=1):
                if spec.name == "Id":
                    given_id = text
                elif text != "":  # an empty cell leaves the field as it is
                    values[spec.name] = _typed(spec, column, text)
            if locked:
                raise RecordError(LOCKED)
            record_id, created = self._write(job, given_id, values)
            return Outcome(record_id, created, None, row)
        except RecordError as exc:
            return Outcome(_full_id(given_id), False, bulk_error(exc.errors[0]), row)
        except RequestError as exc:
            return Outcome(_full_id(given_id), False, bulk_error(SaveError(exc.code, exc.message)), row)

    def _write(self, job: IngestJob, given_id: str, values: dict[str, object]) -> tuple[str, bool]:
        org, obj = self.org, job.object_name
        if job.operation == "insert":
            if given_id:
                raise RecordError(SaveError("INVALID_FIELD", "Can't specify an ID on create", ("Id",)))
            return org.create(obj, values, api=True), True
        if job.operation == "upsert":
            key = given_id if job.external_id == "Id" else values.pop(str(job.external_id), None)
            if key in (None, ""):
                raise RecordError(SaveError("MISSING_ARGUMENT", f"{job.external_id} not specified",
                                            (str(job.external_id),)))
            return org.upsert(obj, str(job.external_id), str(key), values, api=True)
        if not given_id:
            raise RecordError(SaveError("MISSING_ARGUMENT", f"Id not specified in an {job.operation} call"))
        if job.operation == "update":
            org.update(obj, given_id, values, api=True)
        else:
            org.check_delete(obj, given_id)
            (org.delete if job.operation == "delete" else org.hard_delete)(obj, given_id)
        return _full_id(given_id), False


def _full_id(record_id: str) -> str:
    """The 18-character form of an Id the org made (results always carry 18 characters)."""
    parsed = ids.parse_id(record_id)
    return ids.make_id(*parsed) if parsed is not None else record_id
