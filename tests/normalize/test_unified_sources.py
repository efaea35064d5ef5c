"""Several sources feed one set of tables: reps unified by email, files quotas, teams and targets."""

from __future__ import annotations

from datetime import date

import pytest

from spm_sync.normalize import normalize
from tests.normalize.conftest import FILES, HS, SF, new_run, normalize_raw, rows
from tests.normalize.rawdata import files_raw, hubspot_raw, salesforce_raw


@pytest.fixture
def normalized(store, config):
    return normalize_raw(store, config(SF, HS, FILES), salesforce_raw, hubspot_raw, files_raw)


def test_a_rep_in_two_crms_is_one_rep(normalized):
    store, _ = normalized
    assert rows(store, "rep_identities") == [
        ("hs:42", "hs", "42", "9002", "linus@example.com"),
        ("sf:0051", "hs", "41", "9001", "ada@example.com"),
        ("sf:0051", "sf", "0051", "0051", "Ada@Example.com"),
        ("sf:0052", "sf", "0052", "0052", "grace@example.com"),
        ("sf:0053", "sf", "0053", "0053", None),
    ]
    assert rows(store, "reps", "rep_id, source, team_id") == [
        ("hs:42", "hs", None),
        ("sf:0051", "sf", "erp:EMEA North"),  # the files team overrides the CRM's
        ("sf:0052", "sf", "sf:00E1"),
        ("sf:0053", "sf", None),
    ]
    owners = rows(store, "opportunities", "opportunity_id, owner_rep_id", order="opportunity_id")
    assert dict(owners)["hs:901"] == "sf:0051"
    assert dict(owners)["sf:0061"] == "sf:0051"
    activity_owners = dict(rows(store, "activities", "activity_id, owner_rep_id"))
    assert activity_owners["hs:601"] == "sf:0051"


def test_source_order_decides_the_rep_id(store, config):
    salesforce_raw(store)
    hubspot_raw(store)
    normalize(config(HS, SF), store, new_run())
    assert rows(store, "rep_identities", "rep_id, source, crm_id", order="source, crm_id")[:2] == [
        ("hs:41", "hs", "41"), ("hs:42", "hs", "42"),
    ]
    assert dict(rows(store, "rep_identities", "source || crm_id, rep_id"))["sf0051"] == "hs:41"


def test_files_quotas_end_inclusive_becomes_exclusive_and_converts(normalized):
    store, result = normalized
    assert store.fetchall(
        "SELECT owner, period_start, period_end, measure, amount_rc FROM spm.quotas WHERE source = 'erp' ORDER BY ALL"
    ) == [
        ("erp:EMEA North", date(2026, 1, 1), date(2027, 1, 1), "revenue", 500000.0),
        ("sf:0051", date(2026, 1, 1), date(2026, 4, 1), "revenue", 30000.0),
        # 900 EUR with the Salesforce org's rate (the files source has none of its own): 900 / 0.9.
        ("sf:0052", date(2026, 1, 1), date(2026, 2, 1), "revenue", pytest.approx(1000.0)),
    ]
    # Ada's January quota is 10,000 in Salesforce and 12,000 in HubSpot: which is right is not ours to
    # guess (nor is their sum), so both are rejected and reported. The files rows were written by hand
    # (no source_file/source_line), so they are named by owner and start.
    assert store.fetchall(
        "SELECT source, check_name, record_id, detail FROM spm_state.quality WHERE object = 'quota' ORDER BY 1"
    ) == [
        ("erp", "unknown_owner", "nobody@example.com 2026-01-01",
         "owner: not a known rep or team of any source 'nobody@example.com'"),
        ("hs", "conflicting_duplicate", "goal_targets 201",
         "amount: another row gives a different value for the same owner and period '12000.0'"),
        ("sf", "conflicting_duplicate", "ForecastingQuota 0J91",
         "amount: another row gives a different value for the same owner and period '10000.0'"),
    ]
    assert result.quality["unknown_owner quota"] == 1
    assert result.quality["conflicting_duplicate quota"] == 2
    assert store.fetchall("SELECT owner, period_start, period_end FROM spm.rejected_inputs ORDER BY source") == [
        (None, date(2026, 1, 1), date(2026, 2, 1)),
        ("sf:0051", date(2026, 1, 1), date(2026, 2, 1)),
        ("sf:0051", date(2026, 1, 1), date(2026, 2, 1)),
    ]


def test_files_teams_and_activity_targets(normalized):
    store, _ = normalized
    assert rows(store, "teams") == [
        # "EMEA" of the files and of HubSpot is one team, with the id of the first source in config order
        ("erp:EMEA North", "EMEA North", "hs:7"),
        ("hs:7", "EMEA", None),
        ("sf:00E1", "Sales", None),
        ("sf:00E2", "Sales EMEA", "sf:00E1"),
    ]
    assert rows(store, "activity_targets") == [
        ("sf:0052", "erp", date(2026, 1, 1), date(2026, 2, 1), "call", 50.0),
    ]
