"""The CRM's imported fiscal calendar (spm.fiscal_periods_imported) drives quarters and years over config."""

from __future__ import annotations

from datetime import date
from typing import Any

from spm_sync.metrics import compute_kpis, resolve_period
from spm_sync.runs import Run
from tests.metrics.conftest import kpis


def _won(oid: str, close: str, amount: float) -> dict[str, Any]:
    return {
        "opportunity_id": oid, "owner_rep_id": "r1", "account_id": "A1", "is_closed": True, "is_won": True,
        "amount_rc": amount, "created_at": "2024-12-01 00:00:00", "close_date": close, "is_deleted": False,
    }


def _org_year(fiscal_year: int, start: date, source: str = "sf") -> list[dict[str, Any]]:
    """One imported fiscal year of 12 months from `start` and its quarters, as normalize stores them."""

    def month(offset: int) -> date:
        index = start.year * 12 + start.month - 1 + offset
        return date(index // 12, index % 12 + 1, 1)

    rows = [{"period": f"FY{fiscal_year}", "source": source, "grain": "year", "period_start": start,
             "period_end": month(12), "fiscal_year": fiscal_year}]
    rows += [{"period": f"FY{fiscal_year}-Q{q + 1}", "source": source, "grain": "quarter",
              "period_start": month(3 * q), "period_end": month(3 * q + 3), "fiscal_year": fiscal_year}
             for q in range(4)]
    return rows


OPPORTUNITIES = [
    _won("o1", "2025-01-31", 100.0),  # org: FY2025-Q4 (Nov 2024 .. Jan 2025); config alone: FY2025-Q1
    _won("o2", "2025-02-01", 200.0),  # org: FY2026-Q1
    _won("o3", "2025-04-30", 400.0),  # org: FY2026-Q1
    _won("o4", "2026-01-31", 800.0),  # org: FY2026-Q4; config alone: FY2026-Q1
]


def _revenue(values: dict) -> dict[str, float]:
    return {k[2]: v[0] for k, v in values.items() if k[:2] == ("rep", "r1") and k[3] == "revenue_won"}


def test_org_fiscal_year_starting_in_february_wins_over_config(make_store) -> None:
    cfg, store = make_store({
        "reps": [{"rep_id": "r1", "name": "Ann"}],
        "opportunities": OPPORTUNITIES,
        "fiscal_periods_imported": _org_year(2026, date(2025, 2, 1)),
    })
    assert cfg.reporting.fiscal_year_start_month == 1
    result = compute_kpis(cfg, store, Run(job="kpis"))
    values = kpis(cfg, store)
    revenue = _revenue(values)
    quarters = {p: v for p, v in revenue.items() if "-Q" in p}
    assert quarters == {
        "FY2025-Q1": 0.0, "FY2025-Q2": 0.0, "FY2025-Q3": 0.0, "FY2025-Q4": 100.0,  # generated, Feb start
        "FY2026-Q1": 600.0, "FY2026-Q2": 0.0, "FY2026-Q3": 0.0, "FY2026-Q4": 800.0,  # the org's
        "FY2027-Q1": 0.0, "FY2027-Q2": 0.0, "FY2027-Q3": 0.0, "FY2027-Q4": 0.0,  # generated (as_of 2026-03-15)
    }
    assert {p: v for p, v in revenue.items() if p.startswith("FY") and "-Q" not in p} == {
        "FY2025": 100.0, "FY2026": 1400.0, "FY2027": 0.0,
    }
    assert revenue["2025-01"] == 100.0 and revenue["2026-01"] == 800.0  # months stay calendar months
    assert store.fetchall(
        "SELECT period, period_start, period_end, fiscal_year FROM spm.fiscal_periods "
        "WHERE period IN ('FY2026', 'FY2026-Q1', 'FY2026-Q4', 'FY2027-Q1', '2025-01', '2025-02') ORDER BY 2, 3"
    ) == [
        ("2025-01", date(2025, 1, 1), date(2025, 2, 1), 2025),
        ("2025-02", date(2025, 2, 1), date(2025, 3, 1), 2026),
        ("FY2026-Q1", date(2025, 2, 1), date(2025, 5, 1), 2026),
        ("FY2026", date(2025, 2, 1), date(2026, 2, 1), 2026),
        ("FY2026-Q4", date(2025, 11, 1), date(2026, 2, 1), 2026),
        ("FY2027-Q1", date(2026, 2, 1), date(2026, 5, 1), 2027),
    ]
    assert result.calendar_source == "sf"
    assert result.warnings == (
        "reporting.fiscal_year_start_month is 1 but the fiscal years of sf start in month 2; "
        "fiscal quarters and years follow sf",
    )
    assert "\nwarning: reporting.fiscal_year_start_month is 1 but" in result.summary()
    # `current_quarter` follows the stored calendar once a store is given.
    assert resolve_period(cfg, "current_quarter", date(2026, 3, 15), store) == "FY2027-Q1"
    assert resolve_period(cfg, "current_quarter", date(2026, 3, 15)) == "FY2026-Q1"


def test_agreeing_config_gives_no_warning_and_no_imports_change_nothing(make_store) -> None:
    tables = {"reps": [{"rep_id": "r1", "name": "Ann"}], "opportunities": OPPORTUNITIES}
    cfg, plain = make_store(tables, reporting={"fiscal_year_start_month": 2})
    cfg2, imported = make_store(
        {**tables, "fiscal_periods_imported": _org_year(2026, date(2025, 2, 1))},
        reporting={"fiscal_year_start_month": 2},
    )
    result = compute_kpis(cfg2, imported, Run(job="kpis"))
    assert (result.calendar_source, result.warnings) == ("sf", ())
    assert kpis(cfg, plain) == kpis(cfg2, imported)
    calendar = "SELECT period, grain, period_start, period_end, fiscal_year FROM spm.fiscal_periods ORDER BY 1"
    assert plain.fetchall(calendar) == imported.fetchall(calendar)


def test_first_configured_source_wins_and_a_custom_calendar_falls_back(make_store) -> None:
    sources = [{"name": name, "type": "files"} for name in ("erp", "sf")]
    cfg, store = make_store(
        {
            "reps": [{"rep_id": "r1", "name": "Ann"}],
            "opportunities": OPPORTUNITIES,
            "fiscal_periods_imported": _org_year(2026, date(2025, 2, 1), "sf")
            + _org_year(2026, date(2025, 4, 1), "erp"),
        },
        sources=sources,
    )
    result = compute_kpis(cfg, store, Run(job="kpis"))
    assert result.calendar_source == "erp"
    assert result.warnings[0] == "fiscal periods imported from erp, sf; using erp (first in config)"
    assert _revenue(kpis(cfg, store))["FY2026-Q1"] == 400.0  # erp's FY2026-Q1 is Apr .. Jun 2025: o3 only

    custom = _org_year(2026, date(2025, 2, 1))
    custom[1] = {**custom[1], "period_end": date(2025, 4, 27)}  # a 4-4-5 quarter ends mid-month
    cfg, store = make_store({"opportunities": OPPORTUNITIES, "fiscal_periods_imported": custom})
    result = compute_kpis(cfg, store, Run(job="kpis"))
    assert result.calendar_source is None
    assert result.warnings == (
        "fiscal periods of sf do not start on the 1st of a month (FY2026-Q1): a custom fiscal year is not "
        "supported yet; using reporting.fiscal_year_start_month = 1",
    )
    assert store.fetchall("SELECT period_start FROM spm.fiscal_periods WHERE period = 'FY2026-Q1'") == [
        (date(2026, 1, 1),)
    ]
