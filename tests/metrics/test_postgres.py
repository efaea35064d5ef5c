"""The same hand-made data set on PostgreSQL (the second backend) gives the same KPI values."""

from __future__ import annotations

import pytest

from spm_sync.config import parse_config
from spm_sync.store import open_store
from tests.metrics.conftest import insert, kpis
from tests.metrics.crediting_dataset import TABLES as CREDITING_TABLES
from tests.metrics.dataset import TABLES
from tests.metrics.test_crediting import CREDITS

pytestmark = pytest.mark.postgres


def test_postgres_values_equal_duckdb_values(pg_dsn: str, make_store) -> None:
    cfg_duck, duck = make_store(TABLES)
    expected = kpis(cfg_duck, duck)
    cfg = parse_config({"store": {"backend": "postgres", "dsn": pg_dsn}, "as_of": "2026-03-15"})
    with open_store(cfg) as store:
        for table, rows in TABLES.items():
            insert(store, table, rows)
        got = kpis(cfg, store)
    assert set(got) == set(expected)
    different = {k: (got[k], expected[k]) for k in expected if not all(map(_same, got[k], expected[k]))}
    assert different == {}
    assert got[("team", "east", "FY2026-Q1", "quota")] == (15000.0, 15000.0, None)


def test_postgres_credits_equal_duckdb_credits(pg_dsn: str, make_store) -> None:
    crediting = {"overlay_split_types": ["Overlay"]}
    cfg_duck, duck = make_store(CREDITING_TABLES, crediting=crediting)
    expected = kpis(cfg_duck, duck)
    cfg = parse_config(
        {"store": {"backend": "postgres", "dsn": pg_dsn}, "as_of": "2026-03-15", "crediting": crediting}
    )
    with open_store(cfg) as store:
        for table, rows in CREDITING_TABLES.items():
            insert(store, table, rows)
        got = kpis(cfg, store)
        credits = store.fetchall(CREDITS)
    assert credits == duck.fetchall(CREDITS)
    different = {k: (got[k], expected[k]) for k in expected if not all(map(_same, got[k], expected[k]))}
    assert different == {}
    assert got[("team", "east", "FY2026-Q1", "revenue_won")] == (6500.0, 6500.0, None)


def _same(a: float | None, b: float | None) -> bool:
    return a == b if a is None or b is None else a == pytest.approx(b, rel=1e-12)
