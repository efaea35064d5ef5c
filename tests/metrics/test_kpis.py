"""Every KPI of DESIGN.md against values worked out by hand from tests/metrics/dataset.py.

Each expected row is (entity_type, entity_id, period, metric) -> (value, numerator, denominator);
the comment says how the number comes out of the data set.
"""

from __future__ import annotations

import pytest

from spm_sync.store import Store
from tests.metrics.conftest import Values

N = None


@pytest.fixture
def values(dataset_store: tuple[Store, Values]) -> Values:
    return dataset_store[1]


CASES: list[tuple[tuple[str, str, str, str], tuple[float | None, float | None, float | None]]] = [
    # --- r1, January 2026 -------------------------------------------------------------------------
    (("rep", "r1", "2026-01", "revenue_won"), (1000.0, 1000.0, N)),  # o1 amount_rc (amount 900 EUR); o5 deleted
    (("rep", "r1", "2026-01", "quota"), (4000.0, 4000.0, N)),  # the margin quota row is another measure
    (("rep", "r1", "2026-01", "quota_attainment"), (0.25, 1000.0, 4000.0)),
    (("rep", "r1", "2026-01", "deals_won"), (1.0, 1.0, N)),
    (("rep", "r1", "2026-01", "deals_lost"), (1.0, 1.0, N)),  # o3
    (("rep", "r1", "2026-01", "win_rate"), (0.5, 1.0, 2.0)),
    (("rep", "r1", "2026-01", "avg_deal_size"), (1000.0, 1000.0, 1.0)),
    (("rep", "r1", "2026-01", "sales_cycle_days"), (40.0, 40.0, 1.0)),  # 2025-12-01 -> 2026-01-10
    (("rep", "r1", "2026-01", "open_pipeline"), (0.0, 0.0, N)),  # o4 closes in March
    (("rep", "r1", "2026-01", "pipeline_coverage"), (0.0, 0.0, 3000.0)),
    (("rep", "r1", "2026-01", "arr_new"), (500.0, 500.0, N)),
    (("rep", "r1", "2026-01", "arr"), (500.0, 500.0, N)),
    (("rep", "r1", "2026-01", "active_customers"), (1.0, 1.0, N)),
    (("rep", "r1", "2026-01", "arpa"), (500.0, 500.0, 1.0)),
    (("rep", "r1", "2026-01", "new_customer_revenue_share"), (1.0, 1000.0, 1000.0)),  # A1's first win
    (("rep", "r1", "2026-01", "leads_generated"), (2.0, 2.0, N)),  # L1, L2
    (("rep", "r1", "2026-01", "leads_converted"), (1.0, 1.0, N)),  # L3 (created in December)
    (("rep", "r1", "2026-01", "lead_conversion_rate"), (0.5, 1.0, 2.0)),  # L1 converted since
    (("rep", "r1", "2026-01", "proposals_sent"), (1.0, 1.0, N)),  # o2; o1's was December, o5 deleted
    (("rep", "r1", "2026-01", "calls"), (3.0, 3.0, N)),
    (("rep", "r1", "2026-01", "emails"), (1.0, 1.0, N)),
    (("rep", "r1", "2026-01", "meetings"), (0.0, 0.0, N)),
    (("rep", "r1", "2026-01", "calls_vs_target"), (0.3, 3.0, 10.0)),
    (("rep", "r1", "2026-01", "emails_vs_target"), (N, 1.0, 0.0)),  # no email target
    (("rep", "r1", "2026-01", "nps"), (25.0, 100.0, 4.0)),  # 10, 5 (via account A1), 8, 9
    (("rep", "r1", "2026-01", "csat"), (N, 0.0, 0.0)),
    (("rep", "r1", "2026-01", "feedback_count"), (4.0, 4.0, N)),
    (("rep", "r1", "2026-01", "stage_conversion_proposal"), (1.0, 1.0, 1.0)),  # o2 went on to closed_won
    (("rep", "r1", "2026-01", "stage_conversion_negotiation"), (1.0, 1.0, 1.0)),  # o1
    (("rep", "r1", "2026-01", "stage_days_proposal"), (26.0, 26.0, 1.0)),  # o2: Jan 10 -> Feb 1 -> Feb 5
    (("rep", "r1", "2026-01", "stage_days_negotiation"), (8.0, 8.0, 1.0)),  # o1: Jan 2 -> Jan 10
    (("rep", "r1", "2026-01", "attainment_rank_in_team"), (2.0, N, 2.0)),  # r5 0.8 > r1 0.25
    (("rep", "r5", "2026-01", "attainment_rank_in_team"), (1.0, N, 2.0)),
    # --- r1, February 2026 and the first quarter --------------------------------------------------
    (("rep", "r1", "2026-02", "revenue_won"), (3000.0, 3000.0, N)),
    (("rep", "r1", "2026-02", "quota_attainment"), (0.75, 3000.0, 4000.0)),  # quota row without measure
    (("rep", "r1", "2026-02", "sales_cycle_days"), (31.0, 31.0, 1.0)),
    (("rep", "r1", "2026-02", "arr"), (1700.0, 1700.0, N)),  # o1 + o2 in [2025-03-01, 2026-03-01)
    (("rep", "r1", "2026-02", "arpa"), (1700.0, 1700.0, 1.0)),
    (("rep", "r1", "2026-02", "new_customer_revenue_share"), (0.0, 0.0, 3000.0)),  # A1 won before
    (("rep", "r1", "2026-02", "leads_converted"), (1.0, 1.0, N)),
    (("rep", "r1", "2026-02", "lead_conversion_rate"), (N, 0.0, 0.0)),
    (("rep", "r1", "2026-02", "meetings"), (1.0, 1.0, N)),
    (("rep", "r1", "2026-02", "feedback_count"), (1.0, 1.0, N)),  # a ces answer
    (("rep", "r1", "2026-02", "nps"), (N, 0.0, 0.0)),
    (("rep", "r1", "2026-02", "proposals_sent"), (1.0, 1.0, N)),  # o4; o2's re-entry is not a first entry
    (("rep", "r1", "2026-02", "stage_days_proposal"), (N, 0.0, 0.0)),  # o4 (first entered in Feb) still there
    (("rep", "r1", "2026-02", "stage_conversion_proposal"), (0.0, 0.0, 1.0)),  # o4 not moved on
    (("rep", "r1", "FY2026-Q1", "revenue_won"), (4000.0, 4000.0, N)),
    (("rep", "r1", "FY2026-Q1", "quota_attainment"), (0.5, 4000.0, 8000.0)),
    (("rep", "r1", "FY2026-Q1", "open_pipeline"), (5000.0, 5000.0, N)),
    (("rep", "r1", "FY2026-Q1", "pipeline_coverage"), (1.25, 5000.0, 4000.0)),
    (("rep", "r1", "FY2026-Q1", "win_rate"), (pytest.approx(2 / 3), 2.0, 3.0)),
    (("rep", "r1", "FY2026-Q1", "win_rate_value"), (pytest.approx(4000 / 6000), 4000.0, 6000.0)),
    (("rep", "r1", "FY2026-Q1", "sales_cycle_days"), (35.5, 71.0, 2.0)),
    (("rep", "r1", "FY2026-Q1", "arr"), (1700.0, 1700.0, N)),
    (("rep", "r1", "FY2026-Q1", "proposals_sent"), (2.0, 2.0, N)),
    (("rep", "r1", "FY2026", "calls"), (3.0, 3.0, N)),
    (("rep", "r1", "2025-12", "leads_generated"), (1.0, 1.0, N)),
    (("rep", "r1", "2025-12", "lead_conversion_rate"), (1.0, 1.0, 1.0)),
    (("rep", "r1", "2025-12", "quota_attainment"), (N, 0.0, 0.0)),  # no quota in December
    (("rep", "r1", "2025-12", "stage_days_proposal"), (13.0, 13.0, 1.0)),  # o1 Dec 20 -> Jan 2
    (
        ("rep", "r1", "2025-12", "stage_days_prospecting"),
        (pytest.approx(18 + 14 / 24), pytest.approx(18 + 14 / 24), 1.0),
    ),
    (("rep", "r1", "2025-12", "stage_conversion_prospecting"), (1.0, 1.0, 1.0)),
    # --- r2: quota across a month and quarter boundary, a rep in two CRMs -------------------------
    (("rep", "r2", "2025-12", "quota"), (3100.0, 3100.0, N)),  # 9000 x 31 / 90 days
    (("rep", "r2", "2025-12", "quota_attainment"), (0.0, 0.0, 3100.0)),
    (("rep", "r2", "2026-01", "quota"), (3100.0, 3100.0, N)),
    (("rep", "r2", "2026-01", "quota_attainment"), (pytest.approx(2000 / 3100), 2000.0, 3100.0)),
    (("rep", "r2", "FY2026-Q1", "quota"), (5900.0, 5900.0, N)),  # Jan + Feb: 59 of 90 days
    (("rep", "r2", "FY2025-Q4", "quota"), (3100.0, 3100.0, N)),
    (("rep", "r2", "FY2026-Q1", "new_customer_revenue_share"), (1.0, 2000.0, 2000.0)),  # o7 has no account
    (("rep", "r2", "2026-02", "new_customer_revenue_share"), (N, 0.0, 0.0)),
    (("rep", "r2", "2026-01", "calls"), (3.0, 3.0, N)),  # two from one CRM, one from the other
    (("rep", "r2", "2026-01", "csat"), (pytest.approx(200 / 3), 200.0, 3.0)),  # 5, 3 (via A3), 4
    (("rep", "r2", "2026-01", "feedback_count"), (3.0, 3.0, N)),
    (("rep", "r2", "2026-01", "attainment_rank_in_team"), (1.0, N, 1.0)),
    # --- r3: zero quota, missing quota, trailing windows, rep_id beats the account owner -----------
    (("rep", "r3", "2026-01", "quota_attainment"), (N, 0.0, 0.0)),  # quota row of 0
    (("rep", "r3", "2026-02", "quota_attainment"), (N, 1000.0, 0.0)),  # no quota row
    (("rep", "r3", "2026-02", "arr"), (2400.0, 2400.0, N)),  # o8 (2025-06-15) + o9
    (("rep", "r3", "2026-02", "active_customers"), (1.0, 1.0, N)),
    (("rep", "r3", "2026-02", "new_customer_revenue_share"), (0.0, 0.0, 1000.0)),
    (("rep", "r3", "2025-06", "new_customer_revenue_share"), (1.0, 4000.0, 4000.0)),
    (("rep", "r3", "FY2025", "revenue_won"), (4000.0, 4000.0, N)),
    (("rep", "r3", "FY2025", "arr"), (2000.0, 2000.0, N)),
    (("rep", "r3", "2026-01", "nps"), (100.0, 100.0, 1.0)),  # F4 names r3 though its account is r1's
    (("rep", "r3", "2026-01", "attainment_rank_in_team"), (N, N, 0.0)),
    # --- teams: members by current membership, explicit team quota replaces its members' ----------
    (("team", "east_smb", "FY2026-Q1", "quota"), (6000.0, 6000.0, N)),
    (("team", "east_smb", "FY2026-Q1", "quota_attainment"), (pytest.approx(2500 / 6000), 2500.0, 6000.0)),
    (("team", "east_smb", "2026-01", "quota"), (pytest.approx(6000 * 31 / 90), pytest.approx(6000 * 31 / 90), N)),
    (("team", "east_smb", "2025-12", "quota"), (3100.0, 3100.0, N)),  # no explicit row in December
    (("team", "east", "FY2026-Q1", "quota"), (15000.0, 15000.0, N)),  # r1 8000 + r5 1000 + east_smb 6000
    (("team", "east", "FY2026-Q1", "revenue_won"), (7300.0, 7300.0, N)),  # 4000 + 800 + 2500
    (("team", "east", "FY2026-Q1", "quota_attainment"), (pytest.approx(7300 / 15000), 7300.0, 15000.0)),
    (("team", "east", "2025-12", "quota"), (3100.0, 3100.0, N)),
    (("team", "east", "2026-01", "win_rate"), (0.75, 3.0, 4.0)),  # ratio of sums: r1 1/2, r2 1/1, r5 1/1
    (("team", "west", "FY2026-Q1", "quota_attainment"), (N, 1000.0, 0.0)),
    (("team", "west", "2026-01", "nps"), (100.0, 100.0, 1.0)),
    # --- company: all rows, unowned included ----------------------------------------------------------
    (("company", "company", "FY2026-Q1", "revenue_won"), (9000.0, 9000.0, N)),  # + o10 of an unknown owner
    (("company", "company", "FY2026-Q1", "quota"), (15000.0, 15000.0, N)),
    (("company", "company", "FY2026-Q1", "quota_attainment"), (0.6, 9000.0, 15000.0)),
    (("company", "company", "2026-01", "revenue_won"), (4500.0, 4500.0, N)),
    (("company", "company", "2026-01", "calls"), (7.0, 7.0, N)),  # an unowned call too
    (("company", "company", "2026-01", "nps"), (pytest.approx(100 * 2 / 6), 200.0, 6.0)),
    (("company", "company", "2026-01", "feedback_count"), (9.0, 9.0, N)),
    (("company", "company", "2026-01", "active_customers"), (4.0, 4.0, N)),  # A1, A3, A5, A4 (won 2025-06-15)
    (("company", "company", "2026-02", "active_customers"), (4.0, 4.0, N)),
]


@pytest.mark.parametrize(("key", "expected"), CASES, ids=["/".join(k) for k, _ in CASES])
def test_kpi_value(values: Values, key: tuple[str, str, str, str], expected: tuple) -> None:
    assert values[key] == expected


def test_every_entity_gets_every_metric_for_every_period(values: Values) -> None:
    entities = {(k[0], k[1]) for k in values}
    periods = {k[2] for k in values}
    metrics = {k[3] for k in values}
    assert entities == {("rep", r) for r in ("r1", "r2", "r3", "r4", "r5")} | {
        ("team", t) for t in ("east", "east_smb", "west")
    } | {("company", "company")}
    assert len(periods) == 2 * (12 + 4 + 1)  # FY2025 and FY2026
    assert len(metrics) == 49
    ranked = sum(1 for k in values if k[3] == "attainment_rank_in_team")
    assert len(values) == 9 * 34 * 48 + 5 * 34  # the rank is a rep metric only
    assert ranked == 5 * 34


def test_idle_rep_has_zero_rows_not_missing_rows(values: Values) -> None:
    idle = {k[3]: v for k, v in values.items() if k[:3] == ("rep", "r4", "2026-01")}
    assert idle["revenue_won"] == (0.0, 0.0, None)
    assert idle["calls"] == (0.0, 0.0, None)
    assert idle["quota"] == (0.0, 0.0, None)
    assert idle["win_rate"] == (None, 0.0, 0.0)
    assert idle["nps"] == (None, 0.0, 0.0)
    assert idle["attainment_rank_in_team"] == (None, None, 0.0)
    assert len(idle) == 49


def test_deleted_records_never_count(values: Values) -> None:
    # o5 (deleted, 99,999 won in January) shows nowhere, not even as a proposal or a customer
    assert all(v[1] != 99999.0 and v[0] != 99999.0 for v in values.values())
    assert values[("rep", "r1", "2026-01", "stage_conversion_proposal")] == (1.0, 1.0, 1.0)
