"""Fiscal calendar: period ids, bounds and `current_*` names, incl. a fiscal year starting in February."""

from __future__ import annotations

from datetime import date

import pytest

from spm_sync.config import parse_config
from spm_sync.errors import ConfigError
from spm_sync.metrics import fiscal_periods, resolve_period
from spm_sync.metrics.calendar import fiscal_year_of, period_containing


def test_calendar_year_periods() -> None:
    periods = fiscal_periods(1, 2026, 2026)
    assert len(periods) == 17
    rows = {p.period: (p.grain, p.period_start, p.period_end, p.fiscal_year) for p in periods}
    assert rows["FY2026"] == ("year", date(2026, 1, 1), date(2027, 1, 1), 2026)
    assert rows["FY2026-Q4"] == ("quarter", date(2026, 10, 1), date(2027, 1, 1), 2026)
    assert rows["2026-12"] == ("month", date(2026, 12, 1), date(2027, 1, 1), 2026)
    assert [p.period for p in periods[:4]] == ["2026-01", "FY2026-Q1", "FY2026", "2026-02"]


def test_fiscal_year_starting_in_february_is_named_by_the_year_it_ends_in() -> None:
    rows = {p.period: (p.period_start, p.period_end, p.fiscal_year) for p in fiscal_periods(2, 2026, 2026)}
    assert rows["FY2026"] == (date(2025, 2, 1), date(2026, 2, 1), 2026)
    assert rows["FY2026-Q1"] == (date(2025, 2, 1), date(2025, 5, 1), 2026)
    assert rows["FY2026-Q4"] == (date(2025, 11, 1), date(2026, 2, 1), 2026)
    assert rows["2026-01"] == (date(2026, 1, 1), date(2026, 2, 1), 2026)
    assert rows["2025-02"][2] == 2026
    assert "2026-02" not in rows


@pytest.mark.parametrize(
    ("day", "start", "month", "quarter", "year"),
    [
        (date(2026, 3, 15), 1, "2026-03", "FY2026-Q1", "FY2026"),
        (date(2026, 1, 31), 2, "2026-01", "FY2026-Q4", "FY2026"),
        (date(2026, 2, 1), 2, "2026-02", "FY2027-Q1", "FY2027"),
        (date(2025, 12, 31), 7, "2025-12", "FY2026-Q2", "FY2026"),
        (date(2026, 6, 30), 7, "2026-06", "FY2026-Q4", "FY2026"),
    ],
)
def test_period_containing(day: date, start: int, month: str, quarter: str, year: str) -> None:
    assert [period_containing(day, g, start) for g in ("month", "quarter", "year")] == [month, quarter, year]
    assert f"FY{fiscal_year_of(day, start)}" == year


def test_resolve_period_names_and_ids() -> None:
    cfg = parse_config({"reporting": {"fiscal_year_start_month": 2}})
    today = date(2026, 3, 15)
    assert resolve_period(cfg, "current_month", today) == "2026-03"
    assert resolve_period(cfg, "current_quarter", today) == "FY2027-Q1"
    assert resolve_period(cfg, "current_year", today) == "FY2027"
    assert resolve_period(cfg, "FY2025-Q3", today) == "FY2025-Q3"


def test_bad_grain_and_start_month() -> None:
    with pytest.raises(ConfigError, match="unknown grain 'week'"):
        period_containing(date(2026, 1, 1), "week", 1)
    with pytest.raises(ConfigError, match="1..12"):
        fiscal_periods(13, 2026, 2026)
