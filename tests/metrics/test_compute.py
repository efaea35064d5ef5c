"""The stage around the SQL: replace spm.kpi_values atomically, append history, record the run."""

from __future__ import annotations

import pytest

from spm_sync.metrics import compute, compute_kpis
from spm_sync.metrics.compiler import Step
from spm_sync.runs import Run
from tests.metrics.dataset import TABLES


def _count(store, table: str, where: str = "") -> int:
    return store.fetchone(f"SELECT count(*) FROM {table} {where}")[0]


def test_each_run_replaces_values_and_appends_history(make_store) -> None:
    cfg, store = make_store(TABLES)
    first, second = Run(job="kpis"), Run(job="kpis")
    result = compute_kpis(cfg, store, first)
    compute_kpis(cfg, store, second)
    per_run = 9 * 34 * 48 + 5 * 34
    assert result.values == per_run
    totals = "WHERE dimension IS NULL"
    assert _count(store, "spm.kpi_values", totals) == per_run
    assert store.fetchall("SELECT DISTINCT run_id FROM spm.kpi_values") == [(second.run_id,)]
    assert _count(store, "spm_state.kpi_history", totals) == 2 * per_run
    assert _count(store, "spm_state.kpi_history", f"{totals} AND run_id = '{first.run_id}'") == per_run
    assert _count(store, "spm.fiscal_periods") == 34
    assert first.records["kpi_values"] == per_run
    assert first.details["kpis"]["fiscal_years"] == [2025, 2026]
    assert result.summary().startswith(
        f"kpis: {per_run:,} values = 49 metrics x (5 reps, 3 teams, 1 company) x "
        "(24 months, 8 quarters, 2 years; FY2025..FY2026) in "
    )


def test_a_failed_write_keeps_the_previous_values(make_store, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg, store = make_store(TABLES)
    good = Run(job="kpis")
    compute_kpis(cfg, store, good)
    real = compute.compile_plan

    def broken(catalog, breakdowns=True):
        plan = real(catalog, breakdowns)
        return type(plan)(plan.prepare, plan.compute, Step("insert", "INSERT INTO spm.kpi_values SELECT 1/0, x"))

    monkeypatch.setattr(compute, "compile_plan", broken)
    with pytest.raises(Exception, match="x"):
        compute_kpis(cfg, store, Run(job="kpis"))
    assert store.fetchall("SELECT DISTINCT run_id FROM spm.kpi_values") == [(good.run_id,)]
    assert _count(store, "spm_state.kpi_history") == _count(store, "spm.kpi_values")
    assert store.fetchall("SELECT table_name FROM duckdb_tables() WHERE temporary") == []


def test_empty_store_gives_rows_for_the_company_in_the_current_fiscal_year(make_store) -> None:
    cfg, store = make_store({})
    result = compute_kpis(cfg, store, Run(job="kpis"))
    assert result.fiscal_years == (2026, 2026)
    assert result.values == 17 * 48
    assert store.fetchone("SELECT value FROM spm.kpi_values WHERE period = '2026-03' AND metric = 'calls'") == (0.0,)


def test_stray_dates_do_not_create_centuries_of_periods(make_store) -> None:
    opp = {
        "opportunity_id": "o1",
        "owner_rep_id": "r1",
        "is_closed": False,
        "is_won": False,
        "amount_rc": 1.0,
        "close_date": "2999-01-01",
        "is_deleted": False,
    }
    cfg, store = make_store({"opportunities": [opp]})
    assert compute_kpis(cfg, store, Run(job="kpis")).fiscal_years == (2026, 2028)
