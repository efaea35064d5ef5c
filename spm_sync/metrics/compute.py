"""The metrics stage: compile the KPI definitions, run them in the store, replace spm.kpi_values.

Why temp tables then one transaction: the heavy statements build session-local tables; readers of
`spm.kpi_values` see the previous run until the new values, the history snapshot and the calendar
are committed together.

The calendar follows a CRM's own fiscal periods when normalize imported some (the first source in
config order that has them); a start month that disagrees with config is a warning in the summary.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from spm_sync.config import Config
from spm_sync.metrics.calendar import (
    FiscalPeriod,
    build_calendar,
    fiscal_year_containing,
    misaligned,
    org_start_month,
)
from spm_sync.metrics.compiler import KPI_COLUMNS, RANGE_SQL, TEMP_TABLES, Plan, Step, compile_plan
from spm_sync.metrics.definitions import load_catalog
from spm_sync.metrics.flags import insert_flags
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
    calendar_source: str | None = None  # the source whose fiscal periods gave quarters and years
    warnings: tuple[str, ...] = ()
    flagged: int = 0  # values computed without some rejected input rows (spm.kpi_flags)
    breakdown_values: dict[str, int] = field(default_factory=dict)  # dimension -> values stored for it
    kept_from: str | None = None  # set when the inputs were unchanged: the kpis run whose values stay

    def summary(self) -> str:
        who = ", ".join(
            f"{n:,} {kind}{'s' if n != 1 and kind != 'company' else ''}" for kind, n in self.entities.items()
        )
        when = ", ".join(f"{n} {grain}s" for grain, n in self.periods.items())
        first, last = self.fiscal_years
        years = f"FY{first}" if first == last else f"FY{first}..FY{last}"
        took = f"kept from kpis run {self.kept_from} (inputs unchanged)" if self.kept_from else \
            f"in {self.duration_s:.1f} s"
        lines = [f"kpis: {self.values:,} values = {self.metrics} metrics x ({who}) x ({when}; {years}) {took}"]
        if self.breakdown_values:
            parts = ", ".join(f"{n:,} by {dimension}" for dimension, n in self.breakdown_values.items())
            lines.append(f"  breakdowns: {parts}")
        if self.calendar_source:
            lines.append(f"  fiscal quarters and years: the CRM calendar of source {self.calendar_source}")
        if self.flagged:
            lines.append(
                f"warning: {self.flagged:,} values are computed without rejected input rows (spm.kpi_flags; "
                "the rows are in spm_state.quality); write-back holds them back"
            )
        lines += [f"warning: {text}" for text in self.warnings]
        return "\n".join(lines)


def calendar_years(
    store: Store, start_month: int, today: date, imported: Sequence[FiscalPeriod] = ()
) -> tuple[int, int]:
    """Fiscal years covering the data's months and today, within the stray-date limits."""
    row = store.fetchone(RANGE_SQL)
    lo, hi = (row or (None, None))[:2]
    floor = date(today.year - MAX_YEARS_BACK, 1, 1)
    ceiling = date(today.year + MAX_YEARS_AHEAD, 12, 31)
    days = [today] + [min(max(_as_date(d), floor), ceiling) for d in (lo, hi) if d is not None]
    first, last = (fiscal_year_containing(day, start_month, imported) for day in (min(days), max(days)))
    return first, last


def _as_date(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


@dataclass(frozen=True)
class CalendarChoice:
    """Which fiscal calendar drives the grains, and why (warnings go to the summary)."""

    start_month: int
    imported: list[FiscalPeriod]
    source: str | None
    warnings: tuple[str, ...]


def choose_calendar(cfg: Config, store: Store) -> CalendarChoice:
    """The CRM's imported quarters/years (first source in config order) when usable, else config's."""
    configured = cfg.reporting.fiscal_year_start_month
    rows = store.fetchall(
        "SELECT source, period, grain, period_start, period_end, fiscal_year FROM spm.fiscal_periods_imported "
        "WHERE grain IN ('quarter', 'year')"
    )
    by_source: dict[str, list[FiscalPeriod]] = {}
    for source, period, grain, start, end, fiscal_year in rows:
        by_source.setdefault(source, []).append(FiscalPeriod(start, end, period, grain, int(fiscal_year)))
    order = [s.name for s in cfg.sources if s.name in by_source] + sorted(
        set(by_source) - {s.name for s in cfg.sources}
    )
    if not order:
        return CalendarChoice(configured, [], None, ())
    source, imported = order[0], sorted(by_source[order[0]])
    warnings: list[str] = []
    if len(order) > 1:
        warnings.append(f"fiscal periods imported from {', '.join(order)}; using {source} (first in config)")
    if bad := misaligned(imported):
        warnings.append(
            f"fiscal periods of {source} do not start on the 1st of a month ({', '.join(bad[:3])}"
            f"{', ...' if len(bad) > 3 else ''}): a custom "
            f"fiscal year is not supported yet; using reporting.fiscal_year_start_month = {configured}"
        )
        return CalendarChoice(configured, [], None, tuple(warnings))
    start_month = org_start_month(imported) or configured
    if start_month != configured:
        warnings.append(
            f"reporting.fiscal_year_start_month is {configured} but the fiscal years of {source} start in month "
            f"{start_month}; fiscal quarters and years follow {source}"
        )
    return CalendarChoice(start_month, imported, source, tuple(warnings))


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


def _write(store: Store, plan: Plan, cfg: Config, run: Run, flags: str | None) -> None:
    """Replace spm.kpi_values, their flags and the calendar, append the history snapshot: all or nothing."""
    computed_at = utcnow()
    with store.transaction():
        store.execute("DELETE FROM spm.kpi_values")
        store.execute(plan.insert.sql, [computed_at, run.run_id])
        store.execute("DELETE FROM spm.kpi_flags")
        if flags is not None:
            store.execute(flags)
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


def compute_kpis(cfg: Config, store: Store, run: Run, *, breakdowns: bool = True) -> KpiResult:
    """Every KPI for every rep, team and the company, for every month, fiscal quarter and fiscal year
    (and the breakdowns of those that have them, unless `breakdowns` is False)."""
    started = time.monotonic()
    timings: dict[str, float] = {}
    catalog = load_catalog(cfg)
    plan = compile_plan(catalog, breakdowns)
    today = cfg.as_of or datetime.now(UTC).date()
    choice = choose_calendar(cfg, store)
    _drop_temp_tables(store)
    try:
        _run(store, plan.prepare, timings)
        years = calendar_years(store, choice.start_month, today, choice.imported)
        periods = build_calendar(choice.start_month, *years, choice.imported)
        _load_periods(store, periods)
        _run(store, plan.compute, timings)
        mark = time.monotonic()
        _write(store, plan, cfg, run, insert_flags(catalog))
        timings["write"] = round(time.monotonic() - mark, 3)
        counts = dict(store.fetchall("SELECT entity_type, count(*) FROM kpi_entities GROUP BY entity_type ORDER BY 1"))
    finally:
        _drop_temp_tables(store)
    row = store.fetchone("SELECT count(*) FROM spm.kpi_values WHERE dimension IS NULL")
    values = int(row[0]) if row else 0
    breakdown_values = {
        str(dimension): int(n)
        for dimension, n in store.fetchall(
            "SELECT dimension, count(*) FROM spm.kpi_values WHERE dimension IS NOT NULL GROUP BY dimension ORDER BY 1"
        )
    }
    row = store.fetchone(
        "SELECT count(*) FROM (SELECT DISTINCT entity_type, entity_id, period, metric FROM spm.kpi_flags) AS f"
    )
    flagged = int(row[0]) if row else 0
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
        calendar_source=choice.source,
        warnings=choice.warnings,
        flagged=flagged,
        breakdown_values=breakdown_values,
    )
    run.count("kpi_values", values)
    if breakdown_values:
        run.count("kpi_breakdown_values", sum(breakdown_values.values()))
    if flagged:
        run.count("kpi_values_flagged", flagged)
    run.details["kpis"] = {
        "fiscal_years": list(years), "metrics": result.metrics, "timings_s": timings,
        "calendar_source": choice.source, "warnings": list(choice.warnings), "values": values,
        "entities": entities, "periods": grains, "flagged": flagged, "breakdown_values": breakdown_values,
    }
    return result


def kept_kpis(run: Run, previous: str, records: dict[str, int], details: dict[str, Any]) -> KpiResult | None:
    """A kpis run whose inputs are those of run `previous` (fingerprint.py): spm.kpi_values stay, and this
    run records the same counts. None when `previous` predates the figures this needs (then compute)."""
    kept = details.get("kpis") or {}
    if "entities" not in kept:
        return None
    first, last = kept["fiscal_years"]
    result = KpiResult(
        run_id=previous, values=int(kept["values"]), entities=dict(kept["entities"]), periods=dict(kept["periods"]),
        fiscal_years=(int(first), int(last)), metrics=int(kept["metrics"]), duration_s=0.0,
        calendar_source=kept.get("calendar_source"), warnings=tuple(kept.get("warnings") or ()),
        flagged=int(kept.get("flagged") or 0), breakdown_values=dict(kept.get("breakdown_values") or {}),
        kept_from=previous,
    )
    for name, n in records.items():
        run.count(name, n)
    run.details.update({"kpis": kept, "skipped": f"inputs unchanged since kpis run {previous}"})
    return result
