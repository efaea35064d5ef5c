"""Fixtures for metrics tests: a DuckDB store filled from small hand-written tables."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from spm_sync.config import Config, parse_config
from spm_sync.crediting import credits
from spm_sync.metrics import compute_kpis
from spm_sync.runs import Run
from spm_sync.store import Store, open_store

Values = dict[tuple[str, str, str, str], tuple[float | None, float | None, float | None]]


def insert(store: Store, table: str, rows: list[dict[str, Any]]) -> None:
    """Insert dict rows into spm.<table> (columns from the first row)."""
    if not rows:
        return
    columns = list(rows[0])
    marks = ", ".join("?" for _ in columns)
    store.executemany(
        f"INSERT INTO spm.{table} ({', '.join(columns)}) VALUES ({marks})", [[r.get(c) for c in columns] for r in rows]
    )


def config(path: Path, **extra: Any) -> Config:
    data: dict[str, Any] = {"store": {"path": str(path)}, "as_of": "2026-03-15"}
    data.update(extra)
    return parse_config(data)


def kpis(cfg: Config, store: Store) -> Values:
    """Credit the opportunities (normalize's last step), run the stage;
    (entity_type, entity_id, period, metric) -> (value, numerator, denominator)."""
    assert cfg.as_of is not None
    credits.apply(cfg, store, cfg.as_of)
    compute_kpis(cfg, store, Run(job="kpis"))
    rows = store.fetchall(
        "SELECT entity_type, entity_id, period, metric, value, numerator, denominator FROM spm.kpi_values "
        "WHERE dimension IS NULL"
    )
    return {(r[0], r[1], r[2], r[3]): (r[4], r[5], r[6]) for r in rows}


@pytest.fixture
def make_store(tmp_path: Path) -> Iterator[Callable[..., tuple[Config, Store]]]:
    """make_store(tables={...}, **config) -> (cfg, store) with the tables inserted and credited."""
    opened: list[Store] = []

    def make(tables: dict[str, list[dict[str, Any]]], **extra: Any) -> tuple[Config, Store]:
        cfg = config(tmp_path / f"s{len(opened)}" / "spm_sync.duckdb", **extra)
        store = open_store(cfg)
        opened.append(store)
        for table, rows in tables.items():
            insert(store, table, rows)
        assert cfg.as_of is not None
        credits.apply(cfg, store, cfg.as_of)  # as normalize leaves the store
        return cfg, store

    yield make
    for store in opened:
        store.close()


@pytest.fixture(scope="session")
def dataset_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, Values]]:
    """tests/metrics/dataset.py in a store, KPIs computed: (store, values)."""
    from tests.metrics.dataset import TABLES

    cfg = config(tmp_path_factory.mktemp("dataset") / "spm_sync.duckdb")
    with open_store(cfg) as store:
        for table, rows in TABLES.items():
            insert(store, table, rows)
        yield store, kpis(cfg, store)
