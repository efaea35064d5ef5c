"""mappings/hubspot.yaml on hand-built raw tables of strings: typed values, timestamps, associations."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from spm_sync.normalize.notes import Note
from tests.normalize.conftest import HS, normalize_raw, rows
from tests.normalize.rawdata import hubspot_raw


@pytest.fixture
def normalized(store, config):
    return normalize_raw(store, config(HS), hubspot_raw)


def test_owners_become_reps_with_their_user_id_and_primary_team(normalized):
    store, _ = normalized
    assert rows(store, "reps") == [
        ("hs:41", "hs", "41", "Ada Lovelace", "ada@example.com", "hs:7", None, True),
        ("hs:42", "hs", "42", "Linus Torvalds", "linus@example.com", None, None, False),
    ]
    assert rows(store, "rep_identities") == [
        ("hs:41", "hs", "41", "9001", "ada@example.com"),
        ("hs:42", "hs", "42", "9002", "linus@example.com"),
    ]
    assert rows(store, "teams") == [("hs:7", "EMEA", None)]
    assert rows(store, "accounts") == [("hs:501", "hs", "501", "Initech", "hs:41", datetime(2025, 7, 1), None)]


def test_deals_parse_strings_and_take_the_primary_company(normalized):
    store, _ = normalized
    got = rows(store, "opportunities")
    assert got == [
        ("hs:901", "hs", "901", "hs:501", "hs:41", "Initech EUR", "closedwon", "closed_won", True, True,
         900.0, "EUR", 1000.5, pytest.approx(2000 * 1000.5 / 900), "new",
         datetime(2026, 1, 2, 10, 0, 0, 123000), date(2026, 2, 15), False, datetime(2026, 2, 15, 12),
         None, None, None, None, None),
        ("hs:902", "hs", "902", None, "hs:42", "Open USD", "contractsent", "proposal", False, False,
         250.5, "USD", 250.5, None, "expansion", datetime(2026, 1, 3, 10), date(2026, 3, 31), False,
         datetime(2026, 1, 5, 9), None, None, None, None, None),
        ("hs:903", "hs", "903", None, "hs:41", "Archived", "closedlost", "closed_lost", True, False,
         10.0, "USD", 10.0, None, None, datetime(2026, 1, 4, 10), date(2026, 3, 1), True, datetime(2026, 1, 5, 9),
         None, None, None, None, None),
    ]


def test_stage_entries_from_v2_then_old_properties_iso_or_epoch(normalized):
    store, result = normalized
    assert rows(store, "stage_events", order="opportunity_id, entered_at") == [
        ("hs:901", "appointmentscheduled", "prospecting", datetime(2026, 1, 2, 10, 0, 0, 123000)),
        ("hs:901", "contractsent", "proposal", datetime(2026, 1, 20, 10)),
        ("hs:901", "closedwon", "closed_won", datetime(2026, 2, 15, 12)),
        ("hs:902", "contractsent", "proposal", datetime(2026, 1, 3, 10)),
    ]
    assert Note("column_absent", "hs stage_events", "deals", "hs_v2_date_entered_closedwon") in result.notes


def test_contacts_with_a_lead_date_are_leads(normalized):
    store, _ = normalized
    assert rows(store, "leads") == [
        ("hs:1001", "hs", "hs:41", datetime(2026, 1, 10, 8), "CONNECTED", True, datetime(2026, 1, 20, 8), None),
        ("hs:1002", "hs", "hs:41", datetime(2026, 1, 11, 8), "NEW", True, datetime(2026, 1, 25, 8), None),
    ]


def test_engagements_with_associations_and_offsets(normalized):
    store, result = normalized
    assert rows(store, "activities") == [
        ("hs:601", "hs", "hs:41", "call", datetime(2026, 1, 15, 9, 30), True, "hs:501", "hs:901", None),
        ("hs:602", "hs", None, "call", datetime(2026, 1, 17, 9, 30), False, None, None, None),
        ("hs:701", "hs", "hs:42", "meeting", datetime(2026, 1, 21, 13), False, None, None, None),
    ]
    assert Note("table_not_loaded", "hs activities[1]", "emails", dataset="raw_hs") in result.notes
    # no owner history and no owner assignment date in this raw data: the won deal is a fallback
    assert result.quality == {"no_owner activity": 1, "owner_history_missing opportunity": 1}


def test_feedback_goals_and_team_goals(normalized):
    store, _ = normalized
    assert rows(store, "feedback") == [
        ("hs:801", "hs", "nps", 10.0, "love it", datetime(2026, 1, 30, 10), "hs:501", None, None),
        ("hs:802", "hs", "csat", 4.0, None, datetime(2026, 1, 30, 10), None, "hs:41", None),
    ]
    # Goals end on the last millisecond of the period: exclusive end is the next day.
    assert rows(store, "quotas") == [
        ("hs:41", "hs", date(2026, 1, 1), date(2026, 2, 1), "revenue", 12000.0),
        ("hs:7", "hs", date(2026, 1, 1), date(2026, 4, 1), "revenue", 50000.0),
    ]
