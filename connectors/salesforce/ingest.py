"""Bulk API 2.0 ingest for write-back: one job per batch (create, upload CSV, close, poll, read results).

Why: above a target's `bulk_threshold` records, one ingest job replaces hundreds of sObject Collections
calls: 5 calls plus polls for any number of records, where collections take one per 200. Results come
back as CSV in no guaranteed order, so each row is matched to its record by the key column it echoes
(Id, or the external id on upserts) and read into the same `RecordResult` the collections path gives.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from typing import Any

import requests

from spm_sync.connectors.salesforce.bulk import BulkUnavailable, open_job, wait_for_job
from spm_sync.connectors.salesforce.client import SalesforceClient, TruncatedResponse, error_details
from spm_sync.connectors.writing import RecordResult, RecordWrite

NULL = "#N/A"  # documented: an empty cell leaves a field as it is, #N/A sets it to null
MAX_UPLOAD_BYTES = 100 * 1024 * 1024  # 150 MB once Salesforce base64-encodes it: at most 100 MB of CSV


def rejected(key: str, record_id: str | None, code: str | None, message: str, fields: Sequence[str]) -> RecordResult:
    """A record the CRM refused, its message naming the fields (the same text on both write paths)."""
    text = (message or "rejected") + (f" (fields: {', '.join(fields)})" if fields else "")
    return RecordResult(key, False, record_id or None, code or None, text)


def parse_error(text: str) -> tuple[str, str, list[str]]:
    """`sf__Error` -> (code, message, fields): `CODE:message:Field1 Field2 --`, or `CODE:message:--`."""
    code, _, rest = text.partition(":")
    message, tail = rest, ""
    if rest.rstrip().endswith("--") and ":" in rest:
        message, _, tail = rest.rpartition(":")
    return code, message, tail.rstrip().removesuffix("--").split()


def csv_cell(value: Any) -> str:
    """A value already in the field's type as a CSV cell: None (or empty text) clears the field."""
    if value is None or value == "":
        return NULL
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return format(Decimal(repr(value)), "f")  # never exponent notation
    return str(value)


def csv_uploads(key_field: str, records: Sequence[RecordWrite]) -> Iterator[tuple[bytes, list[RecordWrite]]]:
    """CSV bodies of at most `MAX_UPLOAD_BYTES`, each with the records in it.

    Columns are the key and every field any record sets; a record without a field leaves that cell
    empty, which Bulk API reads as "leave this field alone" (as a collections body without the key).
    """
    columns = list(dict.fromkeys(name for record in records for name in record.values))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([key_field, *columns])
    header = out.getvalue().encode()
    lines: list[bytes] = []
    batch: list[RecordWrite] = []
    size = len(header)
    for record in records:
        out.seek(0)
        out.truncate()
        writer.writerow([record.key, *(csv_cell(record.values[c]) if c in record.values else "" for c in columns)])
        line = out.getvalue().encode()
        if batch and size + len(line) > MAX_UPLOAD_BYTES:
            yield header + b"".join(lines), batch
            lines, batch, size = [], [], len(header)
        lines.append(line)
        batch.append(record)
        size += len(line)
    if batch:
        yield header + b"".join(lines), batch


def _rows_validator(expected: int) -> Callable[[requests.Response], list[dict[str, str]]]:
    """Parse a results CSV; a body not ending in a line break, or with fewer rows than the job counted,
    was cut off (the session fetches it again)."""
    def validate(response: requests.Response) -> list[dict[str, str]]:
        if not response.content.endswith(b"\n"):
            raise TruncatedResponse("results CSV does not end with a line break")
        rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8"), newline="")))
        if len(rows) != expected:
            raise TruncatedResponse(f"{len(rows)} result rows where the job counted {expected}")
        return rows
    return validate


class IngestJob:
    """One ingest job on one object: `run(records)` -> {key: RecordResult} for the records it settled."""

    def __init__(self, client: SalesforceClient, object_name: str, external_id_field: str | None,
                 sleep: Callable[[float], None]) -> None:
        self.client = client
        self.object_name = object_name
        self.operation = "upsert" if external_id_field else "update"
        self.key_field = external_id_field or "Id"
        self.sleep = sleep

    def run(self, records: Sequence[RecordWrite]) -> dict[str, RecordResult]:
        settled: dict[str, RecordResult] = {}
        for body, _ in csv_uploads(self.key_field, records):
            settled.update(self._job(body))
        return settled

    def _job(self, body: bytes) -> dict[str, RecordResult]:
        job_id = self._create()
        path = f"jobs/ingest/{job_id}"
        self.client.request("PUT", f"{path}/batches", data=body, object=self.object_name,
                            headers={"Content-Type": "text/csv"})
        closed = self.client.request("PATCH", path, json={"state": "UploadComplete"}, object=self.object_name,
                                     ok=(400,))
        if closed.status == 400:
            code, message = error_details(closed.response)
            if code != "INVALIDJOBSTATE":  # else a retried close the org had already taken: polling tells
                raise BulkUnavailable(f"Bulk API refused to close ingest job {job_id}: {code} {message}",
                                      object=self.object_name)
        info = wait_for_job(self.client, self.object_name, job_id, kind="ingest", sleep=self.sleep)
        failed = int(info.get("numberRecordsFailed") or 0)
        processed = int(info.get("numberRecordsProcessed") or 0)
        results: dict[str, RecordResult] = {}
        for row in self._results(path, "successfulResults", processed - failed):
            results[row[self.key_field]] = RecordResult(row[self.key_field], True, row.get("sf__Id") or None)
        for row in self._results(path, "failedResults", failed):
            code, message, fields = parse_error(row.get("sf__Error") or "")
            results[row[self.key_field]] = rejected(row[self.key_field], row.get("sf__Id"), code, message, fields)
        return results

    def _create(self) -> str:
        body = {"object": self.object_name, "operation": self.operation}
        if self.operation == "upsert":
            body["externalIdFieldName"] = self.key_field
        return open_job(self.client, "ingest", self.object_name, body, refused=(400, 404))

    def _results(self, path: str, kind: str, expected: int) -> list[dict[str, str]]:
        reply = self.client.request("GET", f"{path}/{kind}/", object=self.object_name,
                                    validate=_rows_validator(expected), headers={"Accept": "text/csv"})
        return reply.parsed()

