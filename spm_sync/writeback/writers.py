"""The write side of a CRM as the write-back stage sees it, and how one is opened for a source.

Why a Protocol: the stage plans and records outcomes once for every CRM; each connector's
`writer.py` only knows its API's shapes (sObject Collections, HubSpot batch endpoints).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from spm_sync.calls import ApiCalls
from spm_sync.config import Config, FilesSource
from spm_sync.connectors.registry import writer_class
from spm_sync.connectors.writing import CurrentRecord, FieldInfo, RecordResult, RecordWrite
from spm_sync.errors import ConfigError


class Writer(Protocol):
    """What `connectors/<crm>/writer.py` provides (see connectors/writing.py for the shapes)."""

    batch_size: int
    user_object: str  # the object holding a rep's own CRM user record
    user_match_field: str | None  # field of that object holding the rep's identity (None: the record id)
    identity_column: str  # spm.rep_identities column with that identity
    calls: ApiCalls

    def is_user_object(self, object_name: str) -> bool: ...

    def identity(self) -> str: ...  # the org / portal written to (one call): ledger rows are kept per CRM

    def fields(self, object_name: str) -> dict[str, FieldInfo]: ...

    def read(
        self, object_name: str, match_field: str | None, keys: Sequence[str], fields: Sequence[str]
    ) -> dict[str, CurrentRecord]: ...

    def update(self, object_name: str, records: Sequence[RecordWrite]) -> list[RecordResult]: ...

    def upsert(
        self, object_name: str, external_id_field: str, records: Sequence[RecordWrite]
    ) -> list[RecordResult]: ...


@runtime_checkable
class BulkWriter(Writer, Protocol):
    """A writer whose CRM also has a bulk load API (Salesforce Bulk API 2.0 ingest) for large runs."""

    bulk_max: int  # records per bulk job

    def bulk_write(
        self, object_name: str, external_id_field: str | None, records: Sequence[RecordWrite]
    ) -> list[RecordResult]: ...


def open_writer(cfg: Config, source_name: str) -> Writer:
    """A writer for one configured CRM source, with its own call counter and budget."""
    source = cfg.source(source_name)
    if isinstance(source, FilesSource):
        raise ConfigError(f"source {source_name!r} is a files source: nothing to write back to")
    calls = ApiCalls(
        source=source.name,
        per_run_budget=source.api_budget.per_run,
        reserve_fraction=source.api_budget.reserve_fraction,
    )
    return writer_class(source.type)(source, calls)
