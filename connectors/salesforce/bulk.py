"""Bulk API 2.0 query jobs: create, poll, stream CSV results by `Sforce-Locator`, stage them on disk.

Why stage: Bulk results come in no particular order (ORDER BY is not supported), so a pull cut off
half-way (API budget, crash) must not hand dlt a part of the rows — the incremental cursor would
jump past the rows not yet seen. Chunks are written to Parquet files first and handed to dlt only
once the whole job is downloaded; memory stays at one chunk.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import requests

from spm_sync.connectors.salesforce import settings
from spm_sync.connectors.salesforce.client import SalesforceApiError, SalesforceClient, TruncatedResponse
from spm_sync.connectors.salesforce.records import Field, csv_table
from spm_sync.errors import ConnectorError

FINAL_FAILURES = ("Failed", "Aborted")


class BulkUnavailable(ConnectorError):
    """Bulk API refused or failed this query (unsupported object, failed job): use REST instead."""


def _results_validator(
    fields: Sequence[Field], schema: pa.Schema, object_name: str
) -> Callable[[requests.Response], pa.Table]:
    def validate(response: requests.Response) -> pa.Table:
        if response.content and not response.content.rstrip(b"\r\n").endswith(b'"') and not (
            response.content.endswith(b"\n")
        ):  # Salesforce quotes every value: a body ending mid-value was cut off
            raise TruncatedResponse("CSV results end in the middle of a value")
        try:
            table = csv_table(response.content, fields, schema, object_name=object_name)
        except ConnectorError as exc:  # a body cut off mid-row does not parse: fetch the page again
            raise TruncatedResponse(exc.message) from exc
        announced = response.headers.get("Sforce-NumberOfRecords")
        if announced is not None and announced.isdigit() and int(announced) != table.num_rows:
            raise TruncatedResponse(f"{table.num_rows} CSV rows where Sforce-NumberOfRecords says {announced}")
        return table

    return validate


def open_job(
    client: SalesforceClient, kind: str, object_name: str, body: dict[str, str],
    refused: tuple[int, ...] = (400, 403, 404),
) -> str:
    """POST `jobs/<kind>` (query or ingest) with LF-ended CSV; its id. A `refused` status raises BulkUnavailable."""
    body = {**body, "contentType": "CSV", "columnDelimiter": "COMMA", "lineEnding": "LF"}
    try:
        reply = client.request("POST", f"jobs/{kind}", json=body, object=object_name)
    except SalesforceApiError as exc:
        if exc.status in refused:
            raise BulkUnavailable(f"Bulk API refused the {kind} job: {exc.message}", object=object_name) from None
        raise
    return str(reply.parsed()["id"])


def wait_for_job(
    client: SalesforceClient, object_name: str, job_id: str, *, kind: str = "query",
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """Poll `jobs/<kind>/<id>` (query or ingest) with growing pauses until JobComplete; its info.

    The first pause comes before the first poll: a job just created or closed is never done yet.
    Failed/Aborted raise BulkUnavailable; so does a job still running after `BULK_JOB_TIMEOUT_S`,
    which is aborted first (the wait is bounded, never a hang on a stuck job).
    """
    pause = settings.BULK_POLL_START_S
    deadline = time.monotonic() + settings.BULK_JOB_TIMEOUT_S
    while True:
        sleep(pause)
        pause = min(pause * 1.5, settings.BULK_POLL_MAX_S)
        info: dict[str, Any] = client.request("GET", f"jobs/{kind}/{job_id}", object=object_name).parsed()
        state = info.get("state")
        if state == "JobComplete":
            return info
        if state in FINAL_FAILURES:
            detail = info.get("errorMessage") or ""
            raise BulkUnavailable(f"Bulk {kind} job {state}: {detail}".strip(), object=object_name)
        if time.monotonic() > deadline:
            _abort(client, object_name, f"jobs/{kind}/{job_id}")
            raise BulkUnavailable(f"Bulk {kind} job still {state} after {settings.BULK_JOB_TIMEOUT_S:.0f}s",
                                  object=object_name)


def _abort(client: SalesforceClient, object_name: str, job_path: str) -> None:
    with contextlib.suppress(ConnectorError):  # best effort: the job expires on its own
        client.request("PATCH", job_path, json={"state": "Aborted"}, object=object_name)


def result_chunks(
    client: SalesforceClient, object_name: str, job_id: str, fields: Sequence[Field], schema: pa.Schema
) -> Iterator[pa.Table]:
    """Typed tables of a completed job, `BULK_MAX_RECORDS` rows per call, following Sforce-Locator."""
    validate = _results_validator(fields, schema, object_name)
    locator: str | None = None
    while True:
        params: dict[str, str | int] = {"maxRecords": settings.BULK_MAX_RECORDS}
        if locator:
            params["locator"] = locator
        reply = client.request(
            "GET", f"jobs/query/{job_id}/results", params=params, object=object_name, validate=validate,
            headers={"Accept": "text/csv"},
        )
        yield reply.parsed()
        locator = reply.response.headers.get("Sforce-Locator")
        if not locator or locator == "null":
            return


def bulk_query(
    client: SalesforceClient,
    object_name: str,
    soql: str,
    fields: Sequence[Field],
    schema: pa.Schema,
    *,
    include_deleted: bool,
) -> Iterator[pa.Table]:
    """Every row of a Bulk query job as typed tables (streamed; use `staged` before handing to dlt)."""
    operation = "queryAll" if include_deleted else "query"
    job_id = open_job(client, "query", object_name, {"operation": operation, "query": soql})
    wait_for_job(client, object_name, job_id)
    yield from result_chunks(client, object_name, job_id, fields, schema)


def staged(chunks: Iterator[pa.Table], folder: Path) -> Iterator[pa.Table]:
    """Download every chunk to Parquet under `folder` first, then yield them back one by one."""
    folder.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix="bulk-", dir=folder))
    try:
        paths: list[Path] = []
        for number, chunk in enumerate(chunks):
            if chunk.num_rows:
                path = stage / f"{number:06d}.parquet"
                pq.write_table(chunk, path, compression="lz4")
                paths.append(path)
        for path in paths:
            table = pq.read_table(path)
            path.unlink()
            yield table
    finally:
        shutil.rmtree(stage, ignore_errors=True)
        pa.default_memory_pool().release_unused()  # hand the chunk buffers back before dlt loads
