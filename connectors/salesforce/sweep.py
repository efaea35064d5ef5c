"""The periodic hard-delete sweep: rows the org no longer has are marked `is_deleted` in the raw table.

Why: `queryAll` shows soft-deleted rows (recycle bin) to the incremental pull, but rows purged from
the recycle bin or hard-deleted never reappear under the cursor. An Id-only pull of the whole object
(cheap: one column, Bulk when large) compared with the Ids already loaded finds them; their stored
rows are re-emitted with `is_deleted = true`, so nothing already loaded is lost.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from spm_sync.connectors.salesforce.records import column_name

DLT_COLUMNS = ("_dlt_load_id", "_dlt_id")
ID_BATCH = 1000
READ_CHUNK = 100_000


def sweep_due(last_sweep: str | None, now: datetime, every_days: float) -> bool:
    """Due when never run or `every_days` have passed (0 = every run)."""
    if last_sweep is None:
        return True
    return now - datetime.fromisoformat(last_sweep) >= timedelta(days=every_days)


def missing_ids(known: pa.Array, live: pa.Array) -> pa.Array:
    """Ids loaded before that the org no longer returns (pure)."""
    if len(known) == 0:
        return known
    return known.filter(pc.invert(pc.is_in(known, value_set=live)))


def mark_deleted(rows: pa.Table) -> pa.Table:
    """Stored rows re-emitted as deleted: dlt's bookkeeping columns dropped, `is_deleted` true (pure)."""
    rows = rows.drop_columns([c for c in DLT_COLUMNS if c in rows.column_names])
    flag = pa.array([True] * rows.num_rows, pa.bool_())
    name = column_name("IsDeleted")
    if name in rows.column_names:
        rows = rows.set_column(rows.column_names.index(name), name, flag)
    else:
        rows = rows.append_column(name, flag)
    key = rows.schema.get_field_index("id")
    return rows.cast(rows.schema.set(key, rows.schema.field(key).with_nullable(False))) if key >= 0 else rows


class StoredRows:
    """Reads the raw table already in the destination through the running dlt pipeline."""

    def __init__(self, pipeline: Any, table: str) -> None:
        self.pipeline = pipeline
        self.table = table

    def _exists(self, client: Any) -> bool:
        with client.execute_query(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = %s AND table_name = %s",
            client.dataset_name,
            self.table,
        ) as cursor:
            return bool(cursor.fetchone()[0])

    def live_ids(self) -> pa.Array:
        """Ids of stored rows not yet marked deleted (empty when the table does not exist yet)."""
        with self.pipeline.sql_client() as client:
            if not self._exists(client):
                return pa.array([], pa.string())
            name = client.make_qualified_table_name(self.table)
            flag = column_name("IsDeleted")
            query = f"SELECT id FROM {name} WHERE {flag} IS NOT TRUE"
            with client.execute_query(query) as cursor:
                chunks = [t.column(0) for t in cursor.iter_arrow(chunk_size=READ_CHUNK)]
        if not chunks:
            return pa.array([], pa.string())
        return pa.chunked_array(chunks).combine_chunks().cast(pa.string())

    def rows(self, ids: pa.Array) -> list[pa.Table]:
        """The stored rows of these Ids (read whole: the client must not stay open across yields)."""
        out: list[pa.Table] = []
        with self.pipeline.sql_client() as client:
            name = client.make_qualified_table_name(self.table)
            for start in range(0, len(ids), ID_BATCH):
                batch = ids.slice(start, ID_BATCH).to_pylist()
                marks = ", ".join(["%s"] * len(batch))
                with client.execute_query(f"SELECT * FROM {name} WHERE id IN ({marks})", *batch) as cursor:
                    out.extend(cursor.iter_arrow(chunk_size=READ_CHUNK))
        return out
