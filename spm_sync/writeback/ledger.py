"""The write-back ledger (spm_state.writeback_ledger): one row per slot we sent or skipped, per run.

Why append-only: it is the audit trail (what went out, from which KPI run, what the CRM said) and
its latest successful row per slot is the baseline of both the diff and human-edit detection.

Why `crm_identity`: a baseline is only true of the CRM it was written to. A refreshed sandbox org, a
restarted emulator or a config pointed at another portal holds none of our values, so only rows of the
org / portal the writer reaches now count (rows from before the column existed count for any).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from spm_sync.connectors.writing import chunks
from spm_sync.store import Store
from spm_sync.writeback.model import SUCCESS_OUTCOMES, LedgerEntry

TABLE = "spm_state.writeback_ledger"
COLUMNS = (
    "target", "record_id", "field", "entity_id", "period", "metric", "value_sent", "kpi_run_id", "run_id",
    "sent_at", "outcome", "error_code", "error_message", "crm_identity",
)
MESSAGE_MAX = 2000
INSERT_CHUNK = 1000  # rows per INSERT: 13,000 parameters, well under PostgreSQL's 65,535


@dataclass(frozen=True)
class LedgerRow:
    """One ledger row, column for column."""

    target: str
    record_id: str | None
    field: str
    entity_id: str
    period: str
    metric: str
    value_sent: str | None
    kpi_run_id: str | None
    run_id: str
    sent_at: datetime
    outcome: str
    error_code: str | None = None
    error_message: str | None = None
    crm_identity: str | None = None

    def values(self) -> tuple[object, ...]:
        message = self.error_message[:MESSAGE_MAX] if self.error_message else None
        return (self.target, self.record_id, self.field, self.entity_id, self.period, self.metric, self.value_sent,
                self.kpi_run_id, self.run_id, self.sent_at, self.outcome, self.error_code, message, self.crm_identity)


def load_last_success(
    store: Store, target: str, per_period: bool, crm_identity: str | None = None
) -> dict[tuple[str, str, str], LedgerEntry]:
    """(entity_id, period or "", field) -> the latest successful write of that slot to `crm_identity`.

    `per_period`: upsert targets write one record per period; update targets own one field across
    periods (a new month overwrites the same CRM field, so last month's write is its baseline).
    """
    partition = "entity_id, period, field" if per_period else "entity_id, field"
    outcomes = ", ".join(f"'{o}'" for o in SUCCESS_OUTCOMES)
    rows = store.fetchall(
        "SELECT entity_id, period, field, record_id, value_sent FROM ("
        "SELECT entity_id, period, field, record_id, value_sent, "
        f"row_number() OVER (PARTITION BY {partition} ORDER BY sent_at DESC) AS rn "
        f"FROM {TABLE} WHERE target = ? AND outcome IN ({outcomes}) "
        "AND (crm_identity IS NULL OR crm_identity = ?)) AS latest WHERE rn = 1",
        [target, crm_identity],
    )
    return {
        (str(e), str(p) if per_period else "", str(f)): LedgerEntry(r, v)
        for e, p, f, r, v in rows
    }


def append(store: Store, rows: Sequence[LedgerRow]) -> None:
    """Record one batch's outcomes in one transaction (a crash never leaves half a batch recorded)."""
    if not rows:
        return
    row_marks = "(" + ", ".join("?" for _ in COLUMNS) + ")"
    with store.transaction():
        # One multi-row INSERT per chunk: row-by-row executemany costs ~1 ms a row on DuckDB.
        for chunk in chunks(rows, INSERT_CHUNK):
            store.execute(
                f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) VALUES {', '.join(row_marks for _ in chunk)}",
                [value for row in chunk for value in row.values()],
            )

