"""The fiscal calendar: month, fiscal-quarter and fiscal-year periods, and names like `current_quarter`.

Why a table of periods: every grain is then one join (`time >= period_start AND time < period_end`),
and a fiscal year that starts in February is just different rows, never different SQL.
A fiscal year is named by the calendar year in which it ends (start month 2: FY2026 = 2025-02-01 ..
2026-02-01). Salesforce `Period`/`FiscalYearSettings` (custom fiscal years) are not imported yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from spm_sync.config import Config
from spm_sync.errors import ConfigError

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


def fiscal_periods(start_month: int, first_year: int, last_year: int) -> list[FiscalPeriod]:
    """Every month, fiscal quarter and fiscal year of fiscal years first_year..last_year, by start then end."""
    if not 1 <= start_month <= 12:
        raise ConfigError(f"fiscal_year_start_month must be 1..12, not {start_month}")
    periods: list[FiscalPeriod] = []
    for year in range(first_year, last_year + 1):
        start = fiscal_year_start(year, start_month)
        periods.append(FiscalPeriod(start, _add_months(start, 12), f"FY{year}", "year", year))
        for quarter in range(4):
            q_start = _add_months(start, 3 * quarter)
            periods.append(FiscalPeriod(q_start, _add_months(q_start, 3), f"FY{year}-Q{quarter + 1}", "quarter", year))
        for month in range(12):
            m_start = _add_months(start, month)
            periods.append(FiscalPeriod(m_start, _add_months(m_start, 1), m_start.strftime("%Y-%m"), "month", year))
    return sorted(periods, key=lambda p: (p.period_start, p.period_end))


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


def resolve_period(cfg: Config, name: str, today: date) -> str:
    """`current_month` / `current_quarter` / `current_year` -> a period id; ids pass through unchanged."""
    grain = CURRENT.get(name)
    if grain is None:
        return name
    return period_containing(today, grain, cfg.reporting.fiscal_year_start_month)
