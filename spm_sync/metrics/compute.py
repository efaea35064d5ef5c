"""The metrics stage: compile the KPI definitions, run them in the store, replace spm.kpi_values.

Why temp tables then one transaction: the heavy statements build session-local tables; readers of
`spm.kpi_values` see the previous run until the new values, the history snapshot and the calendar
are committed together.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from spm_sync.config import Config
from spm_sync.metrics.calendar import FiscalPeriod, fiscal_periods, fiscal_year_of
from spm_sync.metrics.compiler import KPI_COLUMNS, RANGE_SQL, TEMP_TABLES, Plan, Step, compile_plan
from spm_sync.metrics.definitions import load_catalog
from spm_sync.runs import Run, utcnow
from spm_sync.store import Store

# Stray dates (a close date in 2099) must not create centuries of periods.
MAX_YEARS_BACK = 10
MAX_YEARS_AHEAD = 2


@dataclass(frozen=True)
class KpiResult:
    """What a metrics run produced, for the run record and the CLI."""

    run_id: str
    values: int
    entities: dict[str, int]
    periods: dict[str, int]
    fiscal_years: tuple[int, int]
    metrics: int
    duration_s: float
    timings: dict[str, float] = field(default_factory=dict)

    def summary(self) -> str:
        who = ", ".join(
            f"{n:,} {kind}{'s' if n != 1 and kind != 'company' else ''}" for kind, n in self.entities.items()
        )
        when = ", ".join(f"{n} {grain}s" for grain, n in self.periods.items())
        first, last = self.fiscal_years
        years = f"FY{first}" if first == last else f"FY{first}..FY{last}"
        return (
            f"kpis: {self.values:,} values = {self.metrics} metrics x ({who}) x ({when}; {years}) "
            f"in {self.duration_s:.1f} s"
        )


def calendar_years(store: Store, start_month: int, today: date) -> tuple[int, int]:
    """Fiscal years covering the data's months and today, within the stray-date limits."""
    row = store.fetchone(RANGE_SQL)
    lo, hi = (row or (None, None))[:2]
    floor = date(today.year - MAX_YEARS_BACK, 1, 1)
    ceiling = date(today.year + MAX_YEARS_AHEAD, 12, 31)
    days = [today] + [min(max(_as_date(d), floor), ceiling) for d in (lo, hi) if d is not None]
    return fiscal_year_of(min(days), start_month), fiscal_year_of(max(days), start_month)


def _as_date(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


def _drop_temp_tables(store: Store) -> None:
    for table in reversed(TEMP_TABLES):
        store.execute(f"DROP TABLE IF EXISTS {table}")


def _load_periods(store: Store, periods: list[FiscalPeriod]) -> None:
    store.execute(
        "CREATE TEMP TABLE kpi_periods "
        "(period TEXT, grain TEXT, period_start DATE, period_end DATE, fiscal_year INTEGER)"
    )
    store.executemany("INSERT INTO kpi_periods VALUES (?, ?, ?, ?, ?)", [p.as_row() for p in periods])


def _run(store: Store, steps: list[Step], timings: dict[str, float]) -> None:
    for step in steps:
        mark = time.monotonic()
        store.execute(step.sql)
        timings[step.name] = round(timings.get(step.name, 0.0) + time.monotonic() - mark, 3)


def _write(store: Store, plan: Plan, cfg: Config, run: Run) -> None:
    """Replace spm.kpi_values and the calendar, append the history snapshot: all or nothing."""
    computed_at = utcnow()
    with store.transaction():
        store.execute("DELETE FROM spm.kpi_values")
        store.execute(plan.insert.sql, [computed_at, run.run_id])
        store.execute(f"INSERT INTO spm_state.kpi_history ({KPI_COLUMNS}) SELECT {KPI_COLUMNS} FROM spm.kpi_values")
        store.execute(
            "DELETE FROM spm_state.kpi_history WHERE computed_at < ?",
            [computed_at - timedelta(days=cfg.runs.retention_days)],
        )
        store.execute("DELETE FROM spm.fiscal_periods")
        store.execute(
            "INSERT INTO spm.fiscal_periods (period, grain, period_start, period_end, fiscal_year) "
            "SELECT period, grain, period_start, period_end, fiscal_year FROM kpi_periods"
        )


def compute_kpis(cfg: Config, store: Store, run: Run) -> KpiResult:
    """Every KPI for every rep, team and the company, for every month, fiscal quarter and fiscal year."""
    started = time.monotonic()
    timings: dict[str, float] = {}
    catalog = load_catalog(cfg)
    plan = compile_plan(catalog)
    today = cfg.as_of or datetime.now(UTC).date()
    start_month = cfg.reporting.fiscal_year_start_month
    _drop_temp_tables(store)
    try:
        _run(store, plan.prepare, timings)
        years = calendar_years(store, start_month, today)
        periods = fiscal_periods(start_month, *years)
        _load_periods(store, periods)
        _run(store, plan.compute, timings)
        mark = time.monotonic()
        _write(store, plan, cfg, run)
        timings["write"] = round(time.monotonic() - mark, 3)
        counts = dict(store.fetchall("SELECT entity_type, count(*) FROM kpi_entities GROUP BY entity_type ORDER BY 1"))
    finally:
        _drop_temp_tables(store)
    row = store.fetchone("SELECT count(*) FROM spm.kpi_values")
    values = int(row[0]) if row else 0
    grains = {g: sum(1 for p in periods if p.grain == g) for g in ("month", "quarter", "year")}
    entities = {kind: int(counts.get(kind, 0)) for kind in ("rep", "team", "company")}
    result = KpiResult(
        run_id=run.run_id,
        values=values,
        entities=entities,
        periods=grains,
        fiscal_years=years,
        metrics=len(catalog.visible),
        duration_s=time.monotonic() - started,
        timings=timings,
    )
    run.count("kpi_values", values)
    run.details["kpis"] = {"fiscal_years": list(years), "metrics": result.metrics, "timings_s": timings}
    return result
