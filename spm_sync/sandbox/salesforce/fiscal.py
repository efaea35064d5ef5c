"""The org's fiscal calendar: `FiscalYearSettings` and `Period` rows of a standard fiscal year.

Why the emulator has them: a real org always answers for both objects, and the pipeline takes its
quarters and years from them, so a sandbox whose fiscal year starts in February proves that the
org's calendar, not `reporting.fiscal_year_start_month`, decides the grains.

Naming: this org's "Fiscal Year is Based On" setting is *the starting month*, so
`FiscalYearSettings.Name` is the calendar year in which the fiscal year starts (start month 2: the
year 2025-02-01 .. 2026-01-31 is named "2025", while spm-sync calls it FY2026 by its ending year).
With start month 1 both namings agree. Consumers must derive the year from the dates, never the name.

Rows: one FiscalYearSettings per fiscal year touching the data set's span (1 Jan of as_of.year-1 ..
31 Dec of as_of.year); per fiscal year one `Year`, four `Quarter` and twelve `Month` Periods
(standard years have no `Week` rows). EndDate is inclusive, as in Salesforce.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from typing import Any

import numpy as np

from .shaping import Shaped
from .store import Strings, ref_code

WEEK_START_SUNDAY = 1.0  # WeekStartDay: 1 = Sunday, as Salesforce numbers days


def _month(start: date, months: int) -> date:
    index = start.year * 12 + start.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _first_fiscal_start(day: date, start_month: int) -> date:
    """The start of the fiscal year containing `day`."""
    year = day.year if day.month >= start_month else day.year - 1
    return date(year, start_month, 1)


def fiscal_objects(as_of: date, start_month: int) -> dict[str, Shaped]:
    """FiscalYearSettings and Period rows covering the data set generated for `as_of`."""
    if not 1 <= start_month <= 12:
        raise ValueError(f"fiscal_start_month must be 1..12, not {start_month}")
    stamp = np.datetime64(date(as_of.year - 1, 1, 1), "ms") + np.timedelta64(9 * 3600_000, "ms")
    starts: list[date] = []
    start = _first_fiscal_start(date(as_of.year - 1, 1, 1), start_month)
    while start <= date(as_of.year, 12, 31):
        starts.append(start)
        start = _month(start, 12)
    periods: dict[str, list[Any]] = {
        key: [] for key in ("settings", "type", "start", "end", "forecast", "label", "number", "full")
    }

    def add(row_type: str, first: date, months: int, settings: int, number: int | None, label: str | None,
            full: str) -> None:
        periods["settings"].append(settings)
        periods["type"].append(row_type)
        periods["start"].append(first)
        periods["end"].append(_month(first, months) - timedelta(days=1))
        periods["forecast"].append(row_type == "Month")
        periods["label"].append(label)
        periods["number"].append(number)
        periods["full"].append(full)

    year_rows: list[int] = []
    for index, first in enumerate(starts):
        name = str(first.year)  # "based on the starting month" (see the module docstring)
        year_rows.append(len(periods["type"]))
        add("Year", first, 12, index, None, None, f"FY {name}")
        for quarter in range(4):
            add("Quarter", _month(first, 3 * quarter), 3, index, quarter + 1, None, f"Q{quarter + 1} FY {name}")
        for month in range(12):
            day = _month(first, month)
            label = calendar.month_name[day.month]
            add("Month", day, 1, index, month + 1, label, f"{label} FY {name}")

    n_years, n_periods = len(starts), len(periods["type"])
    settings_rows = np.array(periods["settings"], dtype=np.int64)
    return {
        "FiscalYearSettings": Shaped(n_years, {
            "Name": Strings.of([str(s.year) for s in starts]),
            "StartDate": np.array(starts, dtype="datetime64[D]"),
            "EndDate": np.array([_month(s, 12) - timedelta(days=1) for s in starts], dtype="datetime64[D]"),
            "PeriodId": ref_code("Period", np.array(year_rows, dtype=np.int64)),
            "IsStandardYear": np.ones(n_years, dtype=bool),
            "YearType": Strings.of(["Standard"] * n_years),
            "QuarterLabelScheme": Strings.of(["NumberByYear"] * n_years),
            "PeriodLabelScheme": Strings.of(["Standard"] * n_years),
            "WeekStartDay": np.full(n_years, WEEK_START_SUNDAY),
            "Description": Strings.of(
                [f"Standard fiscal year starting {calendar.month_name[start_month]} {s.year}" for s in starts]
            ),
            "SystemModstamp": np.full(n_years, stamp),
        }),
        "Period": Shaped(n_periods, {
            "FiscalYearSettingsId": ref_code("FiscalYearSettings", settings_rows),
            "Type": Strings.of(periods["type"]),
            "StartDate": np.array(periods["start"], dtype="datetime64[D]"),
            "EndDate": np.array(periods["end"], dtype="datetime64[D]"),
            "IsForecastPeriod": np.array(periods["forecast"], dtype=bool),
            "PeriodLabel": Strings.of(periods["label"]),
            "Number": np.array([np.nan if n is None else float(n) for n in periods["number"]]),
            "FullyQualifiedLabel": Strings.of(periods["full"]),
            "SystemModstamp": np.full(n_periods, stamp),
        }),
    }
