"""The fiscal calendar: month, fiscal-quarter and fiscal-year periods, and names like `current_quarter`.

Why a table of periods: every grain is then one join (`time >= period_start AND time < period_end`),
and a fiscal year that starts in February is just different rows, never different SQL.
A fiscal year is named by the calendar year in which it ends (start month 2: FY2026 = 2025-02-01 ..
2026-02-01).

When a CRM's own calendar was imported (Salesforce `Period`, see `spm.fiscal_periods_imported`), its
quarters and years are used as they are (the org's settings win over `fiscal_year_start_month`);
fiscal years it does not cover are generated with the org's start month, and months stay calendar
months. KPI facts roll up from months, so imported quarters and years must start on the 1st of a
month: a custom 4-4-5 calendar is refused (`misaligned`) and the configured calendar used instead.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from spm_sync.config import Config
from spm_sync.errors import ConfigError
from spm_sync.store import Store

GRAINS = ("month", "quarter", "year")
CURRENT = {"current_month": "month", "current_quarter": "quarter", "current_year": "year"}


@dataclass(frozen=True, order=True)
class FiscalPeriod:
    """One row of `spm.fiscal_periods`; `period_end` is exclusive."""

    period_start: date
    period_end: date
    period: str
    grain: str
    fiscal_year: int

    def as_row(self) -> tuple[str, str, date, date, int]:
        return (self.period, self.grain, self.period_start, self.period_end, self.fiscal_year)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def fiscal_year_of(day: date, start_month: int) -> int:
    """The fiscal year a day falls in (named by the calendar year in which that fiscal year ends)."""
    if start_month == 1:
        return day.year
    return day.year + 1 if day.month >= start_month else day.year


def fiscal_year_start(fiscal_year: int, start_month: int) -> date:
    return date(fiscal_year if start_month == 1 else fiscal_year - 1, start_month, 1)


def _year_and_quarters(year: int, start_month: int) -> list[FiscalPeriod]:
    start = fiscal_year_start(year, start_month)
    out = [FiscalPeriod(start, _add_months(start, 12), f"FY{year}", "year", year)]
    for quarter in range(4):
        q_start = _add_months(start, 3 * quarter)
        out.append(FiscalPeriod(q_start, _add_months(q_start, 3), f"FY{year}-Q{quarter + 1}", "quarter", year))
    return out


def _overlaps(a: FiscalPeriod, b: FiscalPeriod) -> bool:
    return a.period_start < b.period_end and b.period_start < a.period_end


def fiscal_year_containing(day: date, start_month: int, imported: Sequence[FiscalPeriod] = ()) -> int:
    """The fiscal year of `day`: the imported year period containing it, else by `start_month`."""
    for period in imported:
        if period.grain == "year" and period.period_start <= day < period.period_end:
            return period.fiscal_year
    return fiscal_year_of(day, start_month)


def org_start_month(imported: Sequence[FiscalPeriod]) -> int | None:
    """The start month of the latest imported fiscal year (the org's current setting); None without any."""
    years = [p for p in imported if p.grain == "year"]
    return max(years).period_start.month if years else None


def misaligned(imported: Sequence[FiscalPeriod]) -> list[str]:
    """Imported quarters/years that do not start and end on the 1st of a month (KPIs roll up by month)."""
    return [
        p.period for p in sorted(imported)
        if p.grain in ("quarter", "year") and (p.period_start.day != 1 or p.period_end.day != 1)
    ]


def build_calendar(
    start_month: int, first_year: int, last_year: int, imported: Sequence[FiscalPeriod] = ()
) -> list[FiscalPeriod]:
    """Months, quarters and years of fiscal years first_year..last_year, by start then end.

    Quarters and years come from `imported` where it has the fiscal year; other years are generated
    with `start_month` unless they would overlap an imported year. Months are the calendar months of
    the years kept, each in the fiscal year that contains its first day.
    """
    if not 1 <= start_month <= 12:
        raise ConfigError(f"fiscal_year_start_month must be 1..12, not {start_month}")
    org_years = {p.fiscal_year: p for p in imported if p.grain == "year"}
    spans: list[FiscalPeriod] = []
    for year in range(first_year, last_year + 1):
        if year in org_years:
            spans += [p for p in imported if p.fiscal_year == year and p.grain in ("quarter", "year")]
            continue
        generated = _year_and_quarters(year, start_month)
        if not any(_overlaps(generated[0], other) for other in org_years.values()):
            spans += generated
    years = [p for p in spans if p.grain == "year"]
    months: list[FiscalPeriod] = []
    if years:
        first = min(p.period_start for p in years)
        day, end = date(first.year, first.month, 1), max(p.period_end for p in years)
        while day < end:
            after = _add_months(day, 1)
            fiscal_year = fiscal_year_containing(day, start_month, years)
            months.append(FiscalPeriod(day, after, day.strftime("%Y-%m"), "month", fiscal_year))
            day = after
    return sorted(spans + months, key=lambda p: (p.period_start, p.period_end))


def fiscal_periods(start_month: int, first_year: int, last_year: int) -> list[FiscalPeriod]:
    """Every month, fiscal quarter and fiscal year of fiscal years first_year..last_year, by start then end."""
    return build_calendar(start_month, first_year, last_year)


def period_containing(day: date, grain: str, start_month: int) -> str:
    """The id of the period of `grain` that contains `day`."""
    if grain == "month":
        return day.strftime("%Y-%m")
    year = fiscal_year_of(day, start_month)
    if grain == "year":
        return f"FY{year}"
    if grain == "quarter":
        months_in = (day.month - start_month) % 12
        return f"FY{year}-Q{months_in // 3 + 1}"
    raise ConfigError(f"unknown grain {grain!r} (use one of {', '.join(GRAINS)})")


PERIOD_ID = re.compile(r"^(?:(?P<year>\d{4})-(?P<month>\d{2})|FY\d{4}(?:-Q[1-4])?)$")


def check_period_id(name: str) -> None:
    """A usage error unless `name` is a period id (2026-03, FY2026-Q1, FY2026) or current_month /
    current_quarter / current_year: a typo must not read as "no values"."""
    match = PERIOD_ID.match(name)
    if name in CURRENT or (match and (match["month"] is None or 1 <= int(match["month"]) <= 12)):
        return
    raise ConfigError(
        f"not a period: {name!r} (use a month 2026-03, a fiscal quarter FY2026-Q1, a fiscal year FY2026, "
        f"or {', '.join(CURRENT)})"
    )


def stored_period(store: Store, grain: str, day: date) -> str | None:
    """The period of `grain` containing `day` in the calendar the last KPI run stored (spm.fiscal_periods)."""
    row = store.fetchone(
        "SELECT period FROM spm.fiscal_periods WHERE grain = ? AND period_start <= ? AND ? < period_end",
        [grain, day, day],
    )
    return str(row[0]) if row else None


def resolve_period(cfg: Config, name: str, today: date, store: Store | None = None) -> str:
    """`current_month` / `current_quarter` / `current_year` -> a period id; ids pass through unchanged.

    With `store`, the stored calendar decides (it may be the CRM's own, see the module docstring);
    without it, or before any KPI run, `reporting.fiscal_year_start_month` does.
    """
    grain = CURRENT.get(name)
    if grain is None:
        return name
    stored = stored_period(store, grain, today) if store is not None else None
    return stored or period_containing(today, grain, cfg.reporting.fiscal_year_start_month)
