"""Salesforce write side: describe -> field types, SOQL read-back, sObject Collections or Bulk API 2.0 ingest.

Why sObject Collections: 200 records per call (the API's maximum), one result per record in order
(`allOrNone: false`), so one record's validation error never costs the others their write. Above a
target's `bulk_threshold` the stage calls `bulk_write` instead: one Bulk API 2.0 ingest job (5 calls
plus polls for up to `BULK_INGEST_MAX_RECORDS` records), whose results map to the same outcomes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from spm_sync.calls import ApiCalls
from spm_sync.config import SalesforceSource
from spm_sync.connectors.salesforce import settings
from spm_sync.connectors.salesforce.bulk import BulkUnavailable
from spm_sync.connectors.salesforce.client import SalesforceApiError, SalesforceClient, error_details
from spm_sync.connectors.salesforce.ingest import IngestJob, rejected
from spm_sync.connectors.salesforce.rest import query_pages
from spm_sync.connectors.salesforce.soql import escape_string, identifier, select
from spm_sync.connectors.writing import (
    BatchRejected,
    CurrentRecord,
    FieldInfo,
    Kind,
    RecordResult,
    RecordWrite,
    chunks,
    send_splitting,
)
from spm_sync.errors import ConfigError, ConnectorError

COLLECTION_MAX = 200  # sObject Collections: at most 200 records per request
ROLLED_BACK = "ALL_OR_NONE_OPERATION_ROLLED_BACK"
KINDS: dict[str, Kind] = {
    "percent": "percent",
    "currency": "number",
    "double": "number",
    "int": "integer",
    "long": "integer",
    "string": "text",
    "textarea": "text",
    "datetime": "datetime",
    "date": "date",
    "reference": "reference",
}
IN_LIST_CHARS = 8_000  # SOQL `IN (...)` chunk size in characters: the GET query stays far below URI limits

Body = Callable[[RecordWrite], dict[str, Any]]
log = logging.getLogger("spm_sync.salesforce")


def field_info(describe: dict[str, Any]) -> FieldInfo:
    """One describe `fields[]` entry reduced to what formatting and validation need."""
    crm_type = str(describe.get("type", ""))
    return FieldInfo(
        name=str(describe["name"]),
        kind=KINDS.get(crm_type, "unsupported"),
        crm_type=crm_type,
        scale=describe.get("scale") if crm_type in ("percent", "currency", "double") else None,
        length=describe.get("length") or None,
        updateable=bool(describe.get("updateable")),
        createable=bool(describe.get("createable")),
        required=not describe.get("nillable", True),
        unique=bool(describe.get("externalId")) or bool(describe.get("unique")),
        reference_to=tuple(describe.get("referenceTo") or ()),
    )


def in_lists(keys: Sequence[str]) -> Iterator[list[str]]:
    """Keys as quoted literals (escaped: keys come from data), grouped so each `IN (...)` stays under
    `IN_LIST_CHARS`."""
    group: list[str] = []
    size = 0
    for key in keys:
        literal = escape_string(key)
        if group and size + len(literal) + 1 > IN_LIST_CHARS:
            yield group
            group, size = [], 0
        group.append(literal)
        size += len(literal) + 1
    if group:
        yield group


class SalesforceWriter:
    """Field updates and upserts on one org, through the connector's `SalesforceClient`."""

    batch_size = COLLECTION_MAX
    bulk_max = settings.BULK_INGEST_MAX_RECORDS
    user_object = "User"
    user_match_field: str | None = None
    identity_column = "crm_id"

    def __init__(self, config: SalesforceSource, calls: ApiCalls, client: SalesforceClient | None = None) -> None:
        self.config = config
        self.calls = calls
        self.client = client or SalesforceClient(config, calls)
        self._fields: dict[str, dict[str, FieldInfo]] = {}
        self.sleep: Callable[[float], None] = time.sleep

    def is_user_object(self, object_name: str) -> bool:
        return object_name.lower() == "user"

    # ---- reads ---------------------------------------------------------------------------------
    def identity(self) -> str:
        """The org the session writes to (its Id from OpenID Connect userinfo; a refreshed sandbox org
        has a new one): the write-back ledger trusts only its own writes to this org."""
        body = self.client.request("GET", "/services/oauth2/userinfo").parsed()
        return f"salesforce org {body['organization_id']}"

    def forget_fields(self, object_name: str) -> None:
        """Describe the object again next time (after `writeback setup` created fields on it)."""
        self._fields.pop(object_name, None)

    def fields(self, object_name: str) -> dict[str, FieldInfo]:
        """The object's fields from describe (one call per object per run)."""
        if object_name not in self._fields:
            try:
                describe = self.client.describe(object_name) or {}
            except SalesforceApiError as exc:
                if exc.status == 404:
                    raise ConfigError(f"source {self.config.name}: object {object_name} does not exist") from None
                raise
            self._fields[object_name] = {f["name"]: field_info(f) for f in describe.get("fields", [])}
        return self._fields[object_name]

    def read(
        self, object_name: str, match_field: str | None, keys: Sequence[str], fields: Sequence[str]
    ) -> dict[str, CurrentRecord]:
        """Current values of `fields` on the records whose `match_field` (or Id) is in `keys`."""
        match = match_field or "Id"
        columns = list(dict.fromkeys(["Id", match, *fields]))
        found: dict[str, CurrentRecord] = {}
        for group in in_lists(sorted(set(keys))):
            soql = select(object_name, columns, where=[f"{identifier(match)} IN ({', '.join(group)})"])
            rows = (row for page in query_pages(self.client, object_name, soql, include_deleted=False)
                    for row in page.records)
            for row in rows:
                record = CurrentRecord(str(row["Id"]), {f: row.get(f) for f in fields})
                key = row.get(match)
                if key is None:
                    continue
                found[str(key)] = record
                if match == "Id":
                    found[str(key)[:15]] = record  # keys may be 15-character ids
        return found

    # ---- writes --------------------------------------------------------------------------------
    def update(self, object_name: str, records: Sequence[RecordWrite]) -> list[RecordResult]:
        """PATCH composite/sobjects: set fields on existing records by Id."""
        def body(record: RecordWrite) -> dict[str, Any]:
            return {"attributes": {"type": object_name}, "id": record.key, **record.values}

        return self._write(object_name, "composite/sobjects", records, body)

    def upsert(self, object_name: str, external_id_field: str, records: Sequence[RecordWrite]) -> list[RecordResult]:
        """PATCH composite/sobjects/{Object}/{ExternalIdField}: create or update by external id."""
        def body(record: RecordWrite) -> dict[str, Any]:
            return {"attributes": {"type": object_name}, external_id_field: record.key, **record.values}

        return self._write(object_name, f"composite/sobjects/{object_name}/{external_id_field}", records, body)

    def bulk_write(
        self, object_name: str, external_id_field: str | None, records: Sequence[RecordWrite]
    ) -> list[RecordResult]:
        """One Bulk API 2.0 ingest job: upsert by `external_id_field`, else update by Id.

        What the job does not settle goes through sObject Collections: every record when the org
        refuses or fails the job, records that lost a row lock (retried there with backoff), and any
        the results leave out. A record rejected for a validation reason is recorded, never resent.
        """
        try:
            settled = IngestJob(self.client, object_name, external_id_field, self.sleep).run(records)
        except BulkUnavailable as exc:
            log.warning("%s: %s; sending %d records through sObject Collections", object_name, exc, len(records))
            settled = {}
        final = {k: r for k, r in settled.items() if r.error_code not in settings.RETRIABLE_ERROR_CODES}
        rest = [r for r in records if r.key not in final]
        if rest:
            again = (self.upsert(object_name, external_id_field, rest) if external_id_field
                     else self.update(object_name, rest))
            final.update((r.key, r) for r in again)
        return [final[r.key] for r in records]

    def _write(self, object_name: str, path: str, records: Sequence[RecordWrite], body: Body) -> list[RecordResult]:
        results: list[RecordResult] = []
        for chunk in chunks(records, COLLECTION_MAX):
            results += send_splitting(chunk, lambda batch: self._send_locked(object_name, path, batch, body))
        return results

    def _send_locked(
        self, object_name: str, path: str, records: Sequence[RecordWrite], body: Body
    ) -> list[RecordResult]:
        """One collection call; records that lost a row lock (UNABLE_TO_LOCK_ROW) are sent again."""
        results = {r.key: r for r in self._send(object_name, path, records, body)}
        for attempt in range(self.config.max_retries):
            locked = [r for r in records if results[r.key].error_code in settings.RETRIABLE_ERROR_CODES]
            if not locked:
                break
            self.sleep(min(settings.RETRY_BASE_S * 2**attempt, settings.RETRY_MAX_WAIT_S))
            results.update({r.key: r for r in self._send(object_name, path, locked, body)})
        return [results[r.key] for r in records]

    def _send(self, object_name: str, path: str, records: Sequence[RecordWrite], body: Body) -> list[RecordResult]:
        payload = {"allOrNone": False, "records": [body(r) for r in records]}
        reply = self.client.request("PATCH", path, json=payload, object=object_name, ok=(400,), idempotent=False)
        if reply.status == 400:
            code, message = error_details(reply.response)
            raise BatchRejected(code or "400", message)
        answers = reply.parsed()
        if not isinstance(answers, list) or len(answers) != len(records):
            raise ConnectorError(
                f"sObject Collections answered {type(answers).__name__} for {len(records)} records",
                source=self.config.name, object=object_name,
            )
        results = [_result(record, answer) for record, answer in zip(records, answers, strict=True)]
        if len(records) > 1 and any(r.error_code == ROLLED_BACK for r in results):
            raise BatchRejected(ROLLED_BACK, "the batch was rolled back as a whole")
        return results


def _result(record: RecordWrite, answer: dict[str, Any]) -> RecordResult:
    if answer.get("success"):
        return RecordResult(record.key, True, answer.get("id"))
    first = (answer.get("errors") or [{}])[0]
    return rejected(record.key, answer.get("id"), first.get("statusCode"), str(first.get("message") or ""),
                    first.get("fields") or [])
