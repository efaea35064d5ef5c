"""Crediting rules end to end: spm.* rows -> spm.opportunity_credits -> KPI values, worked by hand
from tests/metrics/crediting_dataset.py (its docstring tells each opportunity's story)."""

from __future__ import annotations

import pytest

from spm_sync.normalize import quality
from tests.metrics.conftest import kpis
from tests.metrics.crediting_dataset import TABLES

AT_CLOSE = {"crediting": {"overlay_split_types": ["Overlay"]}}
CURRENT = {"crediting": {"owner": "current", "overlay_split_types": ["Overlay"]}}
CREDITS = "SELECT opportunity_id, rep_id, team_id, share, CAST(credited_on AS VARCHAR), rule, in_totals " \
    "FROM spm.opportunity_credits ORDER BY opportunity_id, rep_id"


@pytest.fixture
def at_close(make_store):
    cfg, store = make_store(TABLES, **AT_CLOSE)
    return store, kpis(cfg, store)


def value(values, entity_type: str, entity: str, period: str, metric: str) -> float | None:
    return values[(entity_type, entity, period, metric)][0]


def test_credit_rows_under_owner_at_close(at_close):
    store, _ = at_close
    assert store.fetchall(CREDITS) == [
        ("o1", "r1", "east", 1.0, "2026-01-10", "owner_at_close", True),  # reassigned after close
        ("o11", "r3", "west", 1.0, "2026-03-01", "owner_fallback_current", True),  # hs keeps no history
        ("o12", "r3", "west", 1.0, "2026-03-02", "owner_at_close", True),  # assigned before close
        ("o2", "r1", "east", 0.6, "2026-01-15", "split:Revenue", True),
        ("o2", "r3", "west", 0.4, "2026-01-15", "split:Revenue", True),
        ("o3", "r1", "east", 1.0, "2026-01-20", "owner_at_close", True),  # lone 100 % split is no split
        ("o4", "r1", "east", 0.5, "2026-02-10", "split:Revenue", True),
        ("o4", "r2", "east", 0.5, "2026-02-10", "split:Revenue", True),  # the owner's split, held at close
        ("o5", "r4", "east", 1.0, "2026-01-25", "owner_at_close", True),  # r4 was in east in January
        ("o6", "r4", "west", 1.0, "2026-02-25", "owner_at_close", True),
        ("o8", "r1", "east", 1.0, "2026-01-05", "overlay:Overlay", False),  # counts for r1 only
        ("o8", "r3", "west", 1.0, "2026-01-05", "owner_at_close", True),
        ("o9", "r2", "east", 1.0, "2026-03-15", "current_owner", True),  # open: current owner, today
    ]


def test_rep_values_use_the_credited_share(at_close):
    _, values = at_close
    q1 = "FY2026-Q1"
    # r1: o1 1000 + o2 60 % of 2000 + o3 500 + o4 50 % of 3000 + o8 overlay 400
    assert value(values, "rep", "r1", q1, "revenue_won") == 4600
    assert value(values, "rep", "r1", q1, "deals_won") == pytest.approx(1 + 0.6 + 1 + 0.5 + 1)
    assert value(values, "rep", "r2", q1, "revenue_won") == 1500  # o4's moved split; o1 went to r1
    assert value(values, "rep", "r3", q1, "revenue_won") == 800 + 400 + 100 + 200
    assert value(values, "rep", "r4", q1, "revenue_won") == 1500
    assert value(values, "rep", "r2", "2026-03", "open_pipeline") == 900


def test_team_values_count_each_deal_once_in_the_team_of_the_credited_date(at_close):
    _, values = at_close
    q1 = "FY2026-Q1"
    # east: o1 1000 + o2 1200 + o3 500 + o4 3000 (both split owners in east: once) + o5 800 (r4 in January)
    assert value(values, "team", "east", q1, "revenue_won") == 6500
    assert value(values, "team", "east", q1, "deals_won") == pytest.approx(1 + 0.6 + 1 + 1 + 1)
    assert value(values, "team", "east", "2026-02", "revenue_won") == 3000
    # west: o2 800 + o8 400 (the overlay never adds) + o6 700 (r4 moved) + o11 100 + o12 200
    assert value(values, "team", "west", q1, "revenue_won") == 2200
    assert value(values, "team", "west", "2026-01", "revenue_won") == 1200
    # the company: each deal once, mirrored copy, overlay and deleted deal left out
    assert value(values, "company", "company", q1, "revenue_won") == 1000 + 2000 + 500 + 3000 + 800 + 700 + 400 + 300
    assert value(values, "company", "company", q1, "deals_won") == pytest.approx(9)


def test_activities_and_quotas_follow_the_team_at_their_date(at_close):
    _, values = at_close
    assert value(values, "team", "east", "2026-01", "calls") == 1
    assert value(values, "team", "west", "2026-02", "calls") == 1
    assert value(values, "team", "east", "FY2026-Q1", "calls") == 1
    assert value(values, "team", "east", "FY2026-Q1", "quota") == 3100
    assert value(values, "team", "west", "FY2026-Q1", "quota") == 2800
    assert value(values, "rep", "r4", "FY2026-Q1", "quota") == 5900
    assert value(values, "company", "company", "FY2026-Q1", "quota") == 5900


def test_owner_current_credits_the_current_owner_and_current_team(make_store):
    cfg, store = make_store(TABLES, **CURRENT)
    values = kpis(cfg, store)
    q1 = "FY2026-Q1"
    assert store.fetchall(
        "SELECT opportunity_id, rep_id, team_id, share, rule FROM spm.opportunity_credits "
        "WHERE opportunity_id IN ('o1', 'o4', 'o5') ORDER BY opportunity_id, rep_id"
    ) == [
        ("o1", "r2", "east", 1.0, "current_owner"),
        ("o4", "r1", "east", 0.5, "split:Revenue"),
        ("o4", "r3", "west", 0.5, "split:Revenue"),
        ("o5", "r4", "west", 1.0, "current_owner"),
    ]
    assert value(values, "rep", "r1", q1, "revenue_won") == 1200 + 500 + 1500 + 400
    assert value(values, "rep", "r2", q1, "revenue_won") == 1000
    assert value(values, "team", "east", q1, "revenue_won") == 1000 + 1200 + 500 + 1500
    assert value(values, "team", "west", q1, "revenue_won") == 800 + 1500 + 400 + 800 + 700 + 300
    assert value(values, "team", "west", q1, "quota") == 5900
    assert value(values, "team", "west", "2026-01", "calls") == 1
    assert value(values, "company", "company", q1, "revenue_won") == 8700


def test_quality_checks_on_credits(make_store):
    tables = dict(TABLES)
    tables["accounts"] = [
        {"account_id": "A1", "source": "sf", "name": "Acme"},
        {"account_id": "A9", "source": "hs", "name": " ACME"},
    ]
    tables["opportunities"] = [
        *TABLES["opportunities"],
        _dup("o20", "sf", "A1"),
        _dup("o21", "hs", "A9"),
    ]
    tables["opportunity_splits"] = [*TABLES["opportunity_splits"], _bad_split()]
    cfg, store = make_store(tables, **AT_CLOSE)
    found = {
        check.name: store.fetchall(f"SELECT * FROM ({check.select}) AS q ORDER BY 1, 2")
        for check in quality.credit_checks(["Revenue"])
    }
    assert found == {
        "owner_history_missing": [
            ("hs", "hs", "no owner history in this source: 2 closed opportunity(ies) credited to the current owner, "
             "not the owner at close"),
        ],
        "split_total": [("sf", "o6", "revenue splits total 70.00 %, not 100 %: shares scaled to 100 %")],
        "probable_duplicate": [
            ("hs", "o21", _DUPLICATE),
            ("sf", "o20", _DUPLICATE),
        ],
    }


_DUPLICATE = (
    "probably the same deal as 1 other opportunity(ies) in other sources (same account name, amount, close date "
    "and owner); link them (mirror_of_crm_id, e.g. hs_salesforceopportunityid) to count it once"
)


def _dup(oid: str, source: str, account: str) -> dict:
    row = dict(TABLES["opportunities"][0])
    row.update(opportunity_id=oid, source=source, account_id=account, owner_rep_id="r1", amount_rc=50.0,
               close_date="2026-03-03")
    return row


def _bad_split() -> dict:
    return {"split_id": "s9", "source": "sf", "opportunity_id": "o6", "owner_rep_id": "r3", "percentage": 70,
            "split_type": "Revenue"}


def test_owner_current_reproduces_the_values_of_clean_data(dataset_store, make_store):
    """The KPI data set has no history, splits or mirrors: both rules give every value of test_kpis.py."""
    from tests.metrics.dataset import TABLES as CLEAN

    _, at_close_values = dataset_store
    cfg, store = make_store(CLEAN, crediting={"owner": "current"})
    assert kpis(cfg, store) == at_close_values


def test_hubspot_history_is_read_only_for_deals_reassigned_after_close(make_store):
    """hs tracks history for the deal it re-read (h1); h2 was reassigned after close but has none."""
    def deal(oid: str, assigned: str) -> dict:
        row = dict(TABLES["opportunities"][0])
        row.update(opportunity_id=oid, source="hs", owner_rep_id="r2", close_date="2026-01-10",
                   owner_assigned_at=assigned)
        return row

    tables = {
        "reps": TABLES["reps"],
        "opportunities": [deal("h1", "2026-02-01 00:00:00"), deal("h2", "2026-02-01 00:00:00"),
                          deal("h3", "2026-01-05 00:00:00")],
        "owner_changes": [
            {"opportunity_id": "h1", "source": "hs", "old_owner_rep_id": None, "new_owner_rep_id": "r1",
             "changed_at": "2025-12-01 00:00:00"},
            {"opportunity_id": "h1", "source": "hs", "old_owner_rep_id": "r1", "new_owner_rep_id": "r2",
             "changed_at": "2026-02-01 00:00:00"},
        ],
    }
    _, store = make_store(tables)
    assert store.fetchall("SELECT opportunity_id, rep_id, rule FROM spm.opportunity_credits ORDER BY 1") == [
        ("h1", "r1", "owner_at_close"),
        ("h2", "r2", "owner_fallback_current"),
        ("h3", "r2", "owner_at_close"),
    ]


def test_overlapping_dated_membership_gives_one_team_a_day(make_store):
    """r4's file rows overlap in February: the row starting later wins, and a call counts once."""
    tables = {
        "teams": TABLES["teams"],
        "reps": TABLES["reps"],
        "rep_team_history": [
            {"rep_id": "r4", "team_id": "east", "valid_from": None, "valid_to": "2026-03-01", "origin": "file"},
            {"rep_id": "r4", "team_id": "west", "valid_from": "2026-02-01", "valid_to": None, "origin": "file"},
        ],
        "activities": TABLES["activities"],
    }
    cfg, store = make_store(tables)
    assert store.fetchall(
        "SELECT team_id, CAST(valid_from AS VARCHAR), CAST(valid_to AS VARCHAR) FROM spm.credit_membership "
        "WHERE rep_id = 'r4' ORDER BY valid_from NULLS FIRST"
    ) == [("east", None, "2026-02-01"), ("west", "2026-02-01", None)]
    values = kpis(cfg, store)
    assert value(values, "rep", "r4", "2026-02", "calls") == 1
    assert value(values, "team", "west", "2026-02", "calls") == 1
    assert value(values, "team", "east", "2026-02", "calls") == 0
