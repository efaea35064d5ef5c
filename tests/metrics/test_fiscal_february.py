"""KPIs on a fiscal year that starts in February: periods and sums follow the fiscal calendar."""

from __future__ import annotations

from tests.metrics.conftest import kpis


def _won(oid: str, close: str, amount: float) -> dict:
    return {
        "opportunity_id": oid,
        "owner_rep_id": "r1",
        "account_id": "A1",
        "is_closed": True,
        "is_won": True,
        "amount_rc": amount,
        "created_at": "2024-12-01 00:00:00",
        "close_date": close,
        "is_deleted": False,
    }


def test_fiscal_year_starting_in_february(make_store) -> None:
    cfg, store = make_store(
        {
            "reps": [{"rep_id": "r1", "name": "Ann"}],
            "opportunities": [
                _won("o1", "2025-01-31", 100.0),  # FY2025 (Feb 2024 .. Jan 2025)
                _won("o2", "2025-02-01", 200.0),  # FY2026-Q1
                _won("o3", "2025-04-30", 400.0),  # FY2026-Q1
                _won("o4", "2026-01-31", 800.0),  # FY2026-Q4
            ],
            # prorated into FY2026-Q4 (Nov 2025 .. Jan 2026) for 31 of its 62 days
            "quotas": [{"owner": "r1", "period_start": "2026-01-01", "period_end": "2026-03-04", "amount_rc": 6200.0}],
        },
        reporting={"fiscal_year_start_month": 2},
    )
    values = kpis(cfg, store)
    revenue = {k[2]: v[0] for k, v in values.items() if k[:2] == ("rep", "r1") and k[3] == "revenue_won"}
    assert revenue["FY2025"] == 100.0
    assert revenue["FY2026-Q1"] == 600.0
    assert revenue["FY2026-Q4"] == 800.0
    assert revenue["FY2026"] == 1400.0
    assert revenue["2026-01"] == 800.0
    assert values[("rep", "r1", "FY2026-Q4", "quota")] == (3100.0, 3100.0, None)
    assert values[("rep", "r1", "FY2027-Q1", "quota")] == (3100.0, 3100.0, None)  # Feb 1 .. Mar 4
    assert values[("rep", "r1", "FY2026-Q4", "quota_attainment")] == (800.0 / 3100.0, 800.0, 3100.0)
    assert sorted({k[2] for k in values if k[2].startswith("FY") and "-" not in k[2]}) == ["FY2025", "FY2026", "FY2027"]
    periods = store.fetchall(
        "SELECT period, period_start, period_end FROM spm.fiscal_periods WHERE period = 'FY2026-Q1'"
    )
    assert [(p, str(s), str(e)) for p, s, e in periods] == [("FY2026-Q1", "2025-02-01", "2025-05-01")]
