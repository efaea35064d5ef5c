"""The whole pipeline on the PostgreSQL store: the same results as on DuckDB, and every command works.

Same seeded sandbox, the demo's config and a pinned `as_of`, one run per backend: every KPI value and
every field written back must agree, so PostgreSQL is a real second backend, not a partial one.
"""

from __future__ import annotations

import io
import math
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from rich.console import Console

from spm_sync import jobs, scheduler
from spm_sync.config import Config, StoreConfig, parse_config
from spm_sync.demo import demo_config_document, run_demo
from spm_sync.errors import ConfigError, LockBusy
from spm_sync.ops.check import run_checks
from spm_sync.ops.locks import stage_lock
from spm_sync.ops.status import collect_status
from spm_sync.sandbox import Sandbox
from spm_sync.sandbox.dataset import Dataset, generate
from spm_sync.store import open_store
from spm_sync.store.layout import LATEST_VERSION
from spm_sync.writeback.setup import setup

pytestmark = pytest.mark.postgres

AS_OF = date(2026, 3, 15)
KPI_SQL = (
    "SELECT entity_type, entity_id, period, metric, dimension, dimension_value, value, numerator, denominator "
    "FROM spm.kpi_values"
)
SENT_SQL = "SELECT target, record_id, field, value_sent FROM spm_state.writeback_ledger WHERE outcome = 'sent'"

Kpis = dict[tuple[str, ...], tuple[Any, ...]]


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    return generate(seed=7, scale="small", as_of=AS_OF)


def sandbox(dataset: Dataset) -> Sandbox:
    return Sandbox(seed=7, scale="small", split=True, as_of=AS_OF, dataset=dataset, kpi_fields=False)


def pinned_config(sb: Sandbox, folder: Path, store_dsn: str | None, **extra: Any) -> Config:
    """The demo's config (DuckDB in `folder`, or PostgreSQL at `store_dsn`) with `as_of` pinned, saved in `folder`;
    the sandbox's KPI fields created by `writeback setup`."""
    document = {**demo_config_document(sb, folder, store_dsn), "as_of": AS_OF.isoformat(), **extra}
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    cfg = parse_config(document, file=str(folder / "config.yaml"))
    setup(cfg)  # the CRMs start without KPI fields, as in the demo
    return cfg


def outcome(cfg: Config) -> tuple[Kpis, set[tuple[Any, ...]]]:
    """KPI values keyed by (entity_type, entity_id, period, metric, dimension, dimension_value), and the
    fields write-back sent."""
    with open_store(cfg) as store:
        kpis = {tuple(row[:6]): tuple(row[6:]) for row in store.fetchall(KPI_SQL)}
        sent = set(store.fetchall(SENT_SQL))
    return kpis, sent


def same(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def test_postgres_pipeline_equals_duckdb(pg_dsn: str, dataset: Dataset, tmp_path: Path) -> None:
    outcomes = {}
    for backend, dsn in (("duckdb", None), ("postgres", pg_dsn)):
        with sandbox(dataset) as sb:
            cfg = pinned_config(sb, tmp_path / backend, dsn)
            assert cfg.store.backend == backend
            results = jobs.run_all(cfg)
            assert results["writeback"].totals().get("rejected", 0) == 0
            outcomes[backend] = outcome(cfg)
    (duck_kpis, duck_sent), (pg_kpis, pg_sent) = outcomes["duckdb"], outcomes["postgres"]
    assert len(duck_kpis) > 10_000
    assert set(pg_kpis) == set(duck_kpis)
    different = {k: (pg_kpis[k], v) for k, v in duck_kpis.items() if not all(map(same, pg_kpis[k], v))}
    assert different == {}
    assert len(duck_sent) > 20
    assert pg_sent == duck_sent


def test_every_command_on_postgres(pg_dsn: str, dataset: Dataset, tmp_path: Path) -> None:
    schedules = [{"name": "hourly_kpis", "job": "kpis", "cron": "0 * * * *"}]
    with sandbox(dataset) as sb:
        cfg = pinned_config(sb, tmp_path, pg_dsn, schedules=schedules)
        assert all(c.ok for c in run_checks(tmp_path / "config.yaml")), run_checks(tmp_path / "config.yaml")
        jobs.run_all(cfg)
        for source in ("sf", "hs"):
            filled = jobs.backfill(cfg, source, datetime(2026, 2, 1), datetime(2026, 3, 1))
            assert filled.chunks_run >= 1 and sum(filled.records.values()) > 0
        assert jobs.writeback(cfg, dry_run=True).totals().get("planned", 0) == 0  # all sent by run_all
        assert scheduler.run_once(cfg) == {"hourly_kpis": "succeeded"}
        assert scheduler.run_once(cfg) == {}  # recorded in spm_state.schedule_runs: nothing due
        with open_store(cfg) as other, stage_lock(cfg.store, "kpis", store=other), pytest.raises(LockBusy):
            jobs.kpis(cfg)  # the advisory lock of another session holds the stage
        info = collect_status(cfg)
    assert {s["source"]: s["last_status"] for s in info["sources"]} == {"sf": "succeeded", "hs": "succeeded"}
    assert info["stages"]["kpis"]["status"] == "succeeded"
    with open_store(cfg) as store:
        jobs_run = store.fetchall("SELECT job, count(*) FROM spm_state.runs GROUP BY job")
        sent = store.fetchone("SELECT count(*) FROM spm_state.writeback_ledger WHERE outcome = 'sent'")[0]
    assert sum(t["counts"]["sent"] for t in info["writeback"]) == sent > 0
    assert dict(jobs_run) == {"sync": 2, "backfill": 2, "normalize": 1, "kpis": 2, "writeback": 2}


def test_demo_on_postgres(pg_dsn: str) -> None:
    out = io.StringIO()
    run_demo(Console(file=out, width=200), store_dsn=pg_dsn)
    assert "Leaderboard FY" in out.getvalue() and "store: PostgreSQL" in out.getvalue()
    cfg = parse_config({"store": {"backend": "postgres", "dsn": pg_dsn}})
    with open_store(cfg) as store:
        assert store.fetchone("SELECT count(*) FROM spm_state.writeback_ledger WHERE outcome = 'sent'")[0] > 0
    with pytest.raises(ConfigError, match="needs an empty database"):
        run_demo(Console(file=io.StringIO()), store_dsn=pg_dsn)


def test_stores_opened_together_on_a_new_database_all_migrate(pg_dsn: str) -> None:
    """On PostgreSQL the store opens before the stage lock: concurrent first starts must not race on DDL."""
    config = StoreConfig(backend="postgres", dsn=pg_dsn)
    start = threading.Barrier(4)

    def open_and_close() -> int:
        start.wait()
        with open_store(config) as store:
            return store.version()

    with ThreadPoolExecutor(4) as pool:
        versions = list(pool.map(lambda _: open_and_close(), range(4)))
    assert versions == [LATEST_VERSION] * 4
