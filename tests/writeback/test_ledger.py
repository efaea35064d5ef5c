"""The ledger's baseline: the latest successful write per slot, on both store backends."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from spm_sync.config import StoreConfig
from spm_sync.store import Store, open_store
from spm_sync.writeback.ledger import LedgerRow, append, load_last_success
from spm_sync.writeback.model import LedgerEntry


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "duckdb":
        config = StoreConfig(path=tmp_path / "spm_sync.duckdb")
    else:
        config = StoreConfig(backend="postgres", dsn=request.getfixturevalue("pg_dsn"))
    with open_store(config) as opened:
        yield opened


def row(entity: str, period: str, value: str | None, outcome: str, minute: int, record: str = "005A") -> LedgerRow:
    return LedgerRow("t", record, "Att__c", entity, period, "quota_attainment", value, "k", "r",
                     datetime(2026, 3, 1, 12, minute), outcome)


def test_latest_success_wins_and_rejections_do_not_count(store: Store) -> None:
    append(store, [
        row("rep1", "2026-02", "10", "sent", 0),
        row("rep1", "2026-03", "20", "sent", 1),
        row("rep1", "2026-03", "30", "rejected", 2),
        row("rep2", "2026-03", None, "sent", 3, "005B"),
        row("rep3", "2026-03", "5", "conflict", 4, "005C"),
    ])
    assert load_last_success(store, "t", per_period=False) == {
        ("rep1", "", "Att__c"): LedgerEntry("005A", "20"),
        ("rep2", "", "Att__c"): LedgerEntry("005B", None),
    }
    assert load_last_success(store, "t", per_period=True) == {
        ("rep1", "2026-02", "Att__c"): LedgerEntry("005A", "10"),
        ("rep1", "2026-03", "Att__c"): LedgerEntry("005A", "20"),
        ("rep2", "2026-03", "Att__c"): LedgerEntry("005B", None),
    }
    assert load_last_success(store, "other", per_period=False) == {}


def test_append_writes_large_batches_in_chunks(store: Store) -> None:
    append(store, [row(f"rep{n}", "2026-03", str(n), "sent", 0) for n in range(2500)])
    assert store.fetchone("SELECT count(*), count(DISTINCT entity_id) FROM spm_state.writeback_ledger") == (2500, 2500)
