"""mappings/salesforce.yaml on a hand-built multi-currency org: exact normalized rows."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from spm_sync.normalize import normalize
from tests.normalize.conftest import SF, new_run, normalize_raw, rows
from tests.normalize.rawdata import salesforce_raw


@pytest.fixture
def normalized(store, config):
    return normalize_raw(store, config(SF), salesforce_raw)


def test_reps_teams_and_identities(normalized):
    store, _ = normalized
    assert rows(store, "reps") == [
        ("sf:0051", "sf", "0051", "Ada Lovelace", "Ada@Example.com", "sf:00E2", "sf:0052", True),
        ("sf:0052", "sf", "0052", "Grace Hopper", "grace@example.com", "sf:00E1", None, True),
        ("sf:0053", "sf", "0053", "Old Timer", None, None, None, False),
    ]
    assert rows(store, "rep_identities") == [
        ("sf:0051", "sf", "0051", "0051", "Ada@Example.com"),
        ("sf:0052", "sf", "0052", "0052", "grace@example.com"),
        ("sf:0053", "sf", "0053", "0053", None),
    ]
    assert rows(store, "teams") == [("sf:00E1", "Sales", None), ("sf:00E2", "Sales EMEA", "sf:00E1")]


def test_opportunities_converted_to_reporting_currency(normalized):
    store, _ = normalized
    got = rows(store, "opportunities")
    assert [r[:10] for r in got] == [
        ("sf:0061", "sf", "0061", "sf:0011", "sf:0051", "Acme EUR", "Closed Won", "closed_won", True, True),
        ("sf:0062", "sf", "0062", None, "sf:0052", "Open USD", "Proposal/Price Quote", "proposal", False, False),
        ("sf:0063", "sf", "0063", "sf:0011", None, "Yen deal", "Custom Stage", None, False, False),
        ("sf:0064", "sf", "0064", "sf:0011", "sf:0051", "Deleted", "Closed Lost", "closed_lost", True, False),
    ]
    money = [(r[10], r[11], r[12], r[13], r[14]) for r in got]
    assert money == [
        (900.0, "EUR", pytest.approx(1000.0), pytest.approx(2000.0), "new"),  # 900 EUR / 0.9
        (500.0, "USD", 500.0, None, "expansion"),
        (1000.0, "JPY", None, None, None),  # no JPY rate: listed in quality
        (100.0, "USD", 100.0, None, None),
    ]
    assert [(r[15], r[16], r[17], r[18]) for r in got] == [
        (datetime(2026, 1, 2, 10), date(2026, 2, 15), False, datetime(2026, 2, 15, 12)),
        (datetime(2026, 1, 3, 10), date(2026, 3, 31), False, datetime(2026, 1, 5, 9)),
        (datetime(2026, 1, 4, 10), date(2026, 3, 1), False, datetime(2026, 1, 5, 9)),
        (datetime(2026, 1, 4, 10), date(2026, 3, 1), True, datetime(2026, 1, 5, 9)),
    ]


def test_corporate_currency_converted_to_a_different_reporting_currency(store, config):
    salesforce_raw(store)
    normalize(config(SF, currency="GBP"), store, new_run())
    # amount / rate(EUR) * rate(GBP): 900 / 0.9 * 0.8 = 800 GBP; 500 USD * 0.8 = 400 GBP.
    got = rows(store, "opportunities", "opportunity_id, amount_rc, recurring_amount_rc")
    assert got == [
        ("sf:0061", pytest.approx(800.0), pytest.approx(1600.0)),
        ("sf:0062", pytest.approx(400.0), None),
        ("sf:0063", None, None),
        ("sf:0064", pytest.approx(80.0), None),
    ]
    assert rows(store, "quotas", "owner, amount_rc") == [
        ("sf:0051", pytest.approx(8000.0)), ("sf:0052", pytest.approx(8000.0)),
    ]


def test_stage_events_are_changes_of_stage_of_live_opportunities(normalized):
    store, _ = normalized
    assert rows(store, "stage_events", order="opportunity_id, entered_at") == [
        ("sf:0061", "Prospecting", "prospecting", datetime(2026, 1, 2, 10)),
        ("sf:0061", "Proposal/Price Quote", "proposal", datetime(2026, 1, 20, 10)),
        ("sf:0061", "Closed Won", "closed_won", datetime(2026, 2, 15, 12)),
        ("sf:0062", "Proposal/Price Quote", "proposal", datetime(2026, 1, 3, 10)),
    ]


def test_accounts_leads_activities_feedback_quotas(normalized):
    store, _ = normalized
    assert rows(store, "accounts") == [("sf:0011", "sf", "0011", "Acme", "sf:0051", datetime(2025, 6, 1), None)]
    assert rows(store, "leads") == [
        ("sf:00Q1", "sf", "sf:0051", datetime(2026, 1, 10, 8), "Closed - Converted", True, datetime(2026, 1, 20), None),
        ("sf:00Q2", "sf", None, datetime(2026, 1, 11, 8), "Open - Not Contacted", False, None, None),
    ]
    assert rows(store, "activities") == [
        ("sf:00T1", "sf", "sf:0051", "call", datetime(2026, 1, 15), True, "sf:0011", "sf:0061", None),
        ("sf:00T2", "sf", "sf:0052", "email", datetime(2026, 1, 16, 9, 30), True, None, None, None),
        ("sf:00T3", "sf", None, "task", datetime(2026, 1, 17), False, None, None, None),
        ("sf:00U1", "sf", "sf:0051", "meeting", datetime(2026, 1, 21, 14), True, "sf:0011", "sf:0061", None),
    ]
    assert rows(store, "feedback") == [
        ("sf:a0X1", "sf", "nps", 9.0, "great", datetime(2026, 1, 30, 10), "sf:0011", "sf:0051", None),
        ("sf:a0X2", "sf", "csat", 4.0, None, datetime(2026, 1, 31, 10), "sf:0011", None, None),
    ]
    assert rows(store, "quotas") == [
        ("sf:0051", "sf", date(2026, 1, 1), date(2026, 2, 1), "revenue", 10000.0),
        ("sf:0052", "sf", date(2026, 2, 1), date(2026, 3, 1), "revenue", pytest.approx(10000.0)),
    ]
    assert rows(store, "currency_rates") == [("sf", "EUR", 0.9), ("sf", "GBP", 0.8), ("sf", "USD", 1.0)]


def test_quality_report_lists_each_problem(normalized):
    store, result = normalized
    got = store.fetchall(
        "SELECT source, check_name, object, record_id, detail FROM spm_state.quality ORDER BY check_name, record_id"
    )
    assert got == [
        ("sf", "no_owner", "activity", "sf:00T3", "no owner"),
        ("sf", "no_rate", "opportunity", "sf:0063", "no rate from JPY to USD"),
        ("sf", "owner_history_missing", "opportunity", "sf",
         "no owner history in this source: 1 closed opportunity(ies) credited to the current owner, not the owner at "
         "close"),
        ("sf", "unknown_owner", "opportunity", "sf:0063", "owner 005X is not a known user"),
        ("sf", "unknown_stage", "opportunity", "sf:0063", "stage 'Custom Stage' is not in the mapping's stages"),
    ]
    assert result.quality == {
        "no_owner activity": 1, "no_rate opportunity": 1, "owner_history_missing opportunity": 1,
        "unknown_owner opportunity": 1, "unknown_stage opportunity": 1,
    }
    summary = result.summary()
    assert "spm.opportunities: 4 rows" in summary
    assert "unknown_stage opportunity: 1" in summary


def test_rebuild_is_idempotent(normalized, config):
    store, first = normalized
    before = {t: rows(store, t) for t in first.tables}
    second = normalize(config(SF), store, new_run())
    assert second.tables == first.tables
    assert {t: rows(store, t) for t in first.tables} == before
    assert store.fetchone("SELECT count(*) FROM spm_state.quality")[0] == 5
