"""Hand-built raw tables shaped like what the connectors land (dlt snake_case names and types)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from spm_sync.store import Store


def ts(text: str) -> datetime:
    """An aware UTC datetime, as dlt loads Salesforce datetimes (TIMESTAMPTZ)."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def d(text: str) -> date:
    return date.fromisoformat(text)


def raw_table(store: Store, dataset: str, table: str, columns: str, rows: list[tuple[Any, ...]]) -> None:
    """Create raw_<dataset>.<table> with `columns` ("name TYPE, ...") and insert rows."""
    store.execute(f"CREATE SCHEMA IF NOT EXISTS {dataset}")
    store.execute(f"CREATE TABLE {dataset}.{table} ({columns})")
    marks = ", ".join("?" for _ in columns.split(","))
    store.executemany(f"INSERT INTO {dataset}.{table} VALUES ({marks})", rows)


SF_USER = "id VARCHAR, name VARCHAR, first_name VARCHAR, last_name VARCHAR, email VARCHAR, user_role_id VARCHAR, " \
    "manager_id VARCHAR, is_active BOOLEAN, system_modstamp TIMESTAMPTZ"
SF_ROLE = "id VARCHAR, name VARCHAR, parent_role_id VARCHAR"
SF_ACCOUNT = "id VARCHAR, name VARCHAR, owner_id VARCHAR, created_date TIMESTAMPTZ, is_deleted BOOLEAN, " \
    "system_modstamp TIMESTAMPTZ"
SF_OPPORTUNITY = (
    "id VARCHAR, account_id VARCHAR, owner_id VARCHAR, name VARCHAR, stage_name VARCHAR, is_closed BOOLEAN, "
    "is_won BOOLEAN, amount DOUBLE, currency_iso_code VARCHAR, arr_c DOUBLE, type VARCHAR, "
    "created_date TIMESTAMPTZ, close_date DATE, is_deleted BOOLEAN, system_modstamp TIMESTAMPTZ"
)
SF_HISTORY = "id VARCHAR, opportunity_id VARCHAR, stage_name VARCHAR, amount DOUBLE, created_date TIMESTAMPTZ, " \
    "is_deleted BOOLEAN"
SF_LEAD = "id VARCHAR, owner_id VARCHAR, created_date TIMESTAMPTZ, status VARCHAR, is_converted BOOLEAN, " \
    "converted_date DATE, is_deleted BOOLEAN, system_modstamp TIMESTAMPTZ"
SF_TASK = (
    "id VARCHAR, owner_id VARCHAR, task_subtype VARCHAR, activity_date DATE, completed_date_time TIMESTAMPTZ, "
    "created_date TIMESTAMPTZ, is_closed BOOLEAN, status VARCHAR, account_id VARCHAR, what_id VARCHAR, "
    "is_deleted BOOLEAN, system_modstamp TIMESTAMPTZ"
)
SF_EVENT = (
    "id VARCHAR, owner_id VARCHAR, activity_date_time TIMESTAMPTZ, activity_date DATE, end_date_time TIMESTAMPTZ, "
    "account_id VARCHAR, what_id VARCHAR, is_deleted BOOLEAN, system_modstamp TIMESTAMPTZ"
)
SF_QUOTA = "id VARCHAR, quota_owner_id VARCHAR, quota_amount DOUBLE, start_date DATE, is_amount BOOLEAN, " \
    "currency_iso_code VARCHAR"
SF_CURRENCY = "id VARCHAR, iso_code VARCHAR, conversion_rate DOUBLE, is_active BOOLEAN, is_corporate BOOLEAN"
SF_NPS = (
    "id VARCHAR, kind_c VARCHAR, score_c DOUBLE, comment_c VARCHAR, submitted_at_c TIMESTAMPTZ, "
    "created_date TIMESTAMPTZ, account_c VARCHAR, rep_c VARCHAR, is_deleted BOOLEAN, system_modstamp TIMESTAMPTZ"
)

T0 = ts("2026-01-05T09:00:00")


def salesforce_raw(store: Store, dataset: str = "raw_sf") -> None:
    """A small multi-currency org: 3 users in 2 roles, 4 opportunities (EUR, USD, unknown JPY, deleted)."""
    raw_table(store, dataset, "user_role", SF_ROLE, [("00E1", "Sales", None), ("00E2", "Sales EMEA", "00E1")])
    raw_table(store, dataset, "user", SF_USER, [
        ("0051", "Ada Lovelace", "Ada", "Lovelace", "Ada@Example.com", "00E2", "0052", True, T0),
        ("0052", "Grace Hopper", "Grace", "Hopper", "grace@example.com", "00E1", None, True, T0),
        ("0053", None, "Old", "Timer", None, None, None, False, T0),
    ])
    raw_table(store, dataset, "account", SF_ACCOUNT, [
        ("0011", "Acme", "0051", ts("2025-06-01T00:00:00"), False, T0),
        ("0012", "Gone Ltd", "0051", ts("2025-06-01T00:00:00"), True, T0),
    ])
    raw_table(store, dataset, "opportunity", SF_OPPORTUNITY, [
        ("0061", "0011", "0051", "Acme EUR", "Closed Won", True, True, 900.0, "EUR", 1800.0, "New Business",
         ts("2026-01-02T10:00:00"), d("2026-02-15"), False, ts("2026-02-15T12:00:00")),
        ("0062", None, "0052", "Open USD", "Proposal/Price Quote", False, False, 500.0, "USD", None,
         "Existing Customer - Upgrade", ts("2026-01-03T10:00:00"), d("2026-03-31"), False, T0),
        ("0063", "0011", "005X", "Yen deal", "Custom Stage", False, False, 1000.0, "JPY", None, None,
         ts("2026-01-04T10:00:00"), d("2026-03-01"), False, T0),
        ("0064", "0011", "0051", "Deleted", "Closed Lost", True, False, 100.0, "USD", None, None,
         ts("2026-01-04T10:00:00"), d("2026-03-01"), True, T0),
    ])
    raw_table(store, dataset, "opportunity_history", SF_HISTORY, [
        ("0081", "0061", "Prospecting", 900.0, ts("2026-01-02T10:00:00"), False),
        ("0082", "0061", "Proposal/Price Quote", 900.0, ts("2026-01-20T10:00:00"), False),
        ("0083", "0061", "Proposal/Price Quote", 950.0, ts("2026-01-25T10:00:00"), False),  # amount edit
        ("0084", "0061", "Closed Won", 900.0, ts("2026-02-15T12:00:00"), False),
        ("0085", "0062", "Proposal/Price Quote", 500.0, ts("2026-01-03T10:00:00"), False),
        ("0086", "0064", "Closed Lost", 100.0, ts("2026-01-04T10:00:00"), False),  # opp deleted
    ])
    raw_table(store, dataset, "lead", SF_LEAD, [
        ("00Q1", "0051", ts("2026-01-10T08:00:00"), "Closed - Converted", True, d("2026-01-20"), False, T0),
        ("00Q2", "00G1", ts("2026-01-11T08:00:00"), "Open - Not Contacted", False, None, False, T0),
        ("00Q3", "0051", ts("2026-01-12T08:00:00"), "Open - Not Contacted", False, None, True, T0),
    ])
    raw_table(store, dataset, "task", SF_TASK, [
        ("00T1", "0051", "Call", d("2026-01-15"), None, ts("2026-01-14T08:00:00"), True, "Completed", "0011",
         "0061", False, T0),
        ("00T2", "0052", "Email", None, ts("2026-01-16T09:30:00"), ts("2026-01-16T09:00:00"), True, "Completed",
         None, "0011", False, T0),
        ("00T3", None, "Task", d("2026-01-17"), None, ts("2026-01-17T08:00:00"), False, "Not Started", None,
         None, False, T0),
        ("00T4", "0051", "Call", d("2026-01-18"), None, ts("2026-01-18T08:00:00"), True, "Completed", None,
         None, True, T0),
    ])
    raw_table(store, dataset, "event", SF_EVENT, [
        ("00U1", "0051", ts("2026-01-21T14:00:00"), d("2026-01-21"), ts("2026-01-21T15:00:00"), "0011", "0061",
         False, T0),
    ])
    raw_table(store, dataset, "forecasting_quota", SF_QUOTA, [
        ("0J91", "0051", 10000.0, d("2026-01-01"), True, "USD"),
        ("0J92", "0052", 9000.0, d("2026-02-01"), True, "EUR"),
    ])
    raw_table(store, dataset, "currency_type", SF_CURRENCY, [
        ("02B1", "USD", 1.0, True, True),
        ("02B2", "EUR", 0.9, True, False),
        ("02B3", "GBP", 0.8, True, False),
    ])
    raw_table(store, dataset, "nps_response_c", SF_NPS, [
        ("a0X1", "nps", 9.0, "great", ts("2026-01-30T10:00:00"), T0, "0011", "0051", False, T0),
        ("a0X2", "CSAT", 4.0, None, None, ts("2026-01-31T10:00:00"), "0011", None, False, T0),
    ])


HS_RECORD = "id VARCHAR NOT NULL, archived BOOLEAN, created_at VARCHAR, updated_at VARCHAR"
HS_OWNERS = "id VARCHAR, email VARCHAR, first_name VARCHAR, last_name VARCHAR, user_id BIGINT, archived BOOLEAN, " \
    "primary_team_id VARCHAR, primary_team_name VARCHAR, _dlt_id VARCHAR"
HS_TEAMS = 'id VARCHAR, name VARCHAR, "primary" BOOLEAN, _dlt_parent_id VARCHAR'
HS_ASSOCIATIONS = "from_object VARCHAR, from_id VARCHAR, to_object VARCHAR, to_id VARCHAR, " \
    "association_type_id BIGINT"
HS_DEALS = (
    f"{HS_RECORD}, dealname VARCHAR, amount VARCHAR, deal_currency_code VARCHAR, amount_in_home_currency VARCHAR, "
    "dealstage VARCHAR, closedate VARCHAR, hubspot_owner_id VARCHAR, hs_is_closed VARCHAR, hs_is_closed_won VARCHAR, "
    "hs_arr VARCHAR, dealtype VARCHAR, createdate VARCHAR, hs_lastmodifieddate VARCHAR, "
    "hs_v2_date_entered_appointmentscheduled VARCHAR, hs_date_entered_appointmentscheduled VARCHAR, "
    "hs_v2_date_entered_contractsent VARCHAR, hs_date_entered_contractsent VARCHAR, "
    "hs_date_entered_closedwon VARCHAR"
)
HS_CONTACTS = (
    f"{HS_RECORD}, hubspot_owner_id VARCHAR, hs_lead_status VARCHAR, hs_lifecyclestage_lead_date VARCHAR, "
    "hs_lifecyclestage_opportunity_date VARCHAR, hs_lifecyclestage_customer_date VARCHAR"
)
HS_COMPANIES = f"{HS_RECORD}, name VARCHAR, hubspot_owner_id VARCHAR, createdate VARCHAR"
HS_CALLS = f"{HS_RECORD}, hubspot_owner_id VARCHAR, hs_timestamp VARCHAR, hs_call_status VARCHAR"
HS_MEETINGS = f"{HS_RECORD}, hubspot_owner_id VARCHAR, hs_timestamp VARCHAR, hs_meeting_outcome VARCHAR"
HS_GOALS = (
    f"{HS_RECORD}, hs_target_amount VARCHAR, hs_start_datetime VARCHAR, hs_end_datetime VARCHAR, "
    "hs_assignee_user_id VARCHAR, hs_assignee_team_id VARCHAR, hs_kpi_display_unit VARCHAR"
)
HS_FEEDBACK = (
    f"{HS_RECORD}, hs_survey_type VARCHAR, hs_value VARCHAR, hs_response_value VARCHAR, hs_content VARCHAR, "
    "hs_submission_timestamp VARCHAR, hubspot_owner_id VARCHAR"
)
STAMP = "2026-01-05T09:00:00.000Z"


def hubspot_raw(store: Store, dataset: str = "raw_hs") -> None:
    """A small portal; every property a string, timestamps ISO with/without millis or epoch millis."""
    raw_table(store, dataset, "owners", HS_OWNERS, [
        ("41", "ada@example.com", "Ada", "Lovelace", 9001, False, "7", "EMEA", "d1"),
        ("42", "linus@example.com", "Linus", "Torvalds", 9002, True, None, None, "d2"),
    ])
    raw_table(store, dataset, "owners__teams", HS_TEAMS, [("7", "EMEA", True, "d1")])
    raw_table(store, dataset, "companies", HS_COMPANIES, [
        ("501", False, STAMP, STAMP, "Initech", "41", "2025-07-01T00:00:00Z"),
    ])
    raw_table(store, dataset, "deals", HS_DEALS, [
        # EUR deal: amount_in_home_currency wins; stage entries from v2, old-only and epoch millis.
        ("901", False, STAMP, STAMP, "Initech EUR", "900", "EUR", "1000.5", "closedwon", "2026-02-15T00:00:00Z",
         "41", "true", "true", "2000", "newbusiness", "2026-01-02T10:00:00.123Z", "2026-02-15T12:00:00Z",
         "2026-01-02T10:00:00.123Z", None, "1768903200000", "2026-01-01T00:00:00Z", "2026-02-15T12:00:00Z"),
        # hs_is_closed missing: derived from the stage category; no home amount: USD is the reporting currency.
        ("902", False, STAMP, STAMP, "Open USD", "250.5", "USD", None, "contractsent", "2026-03-31",
         "42", None, None, None, "existingbusiness", "1767434400000", "2026-01-05T09:00:00Z",
         None, None, "2026-01-03T10:00:00Z", None, None),
        ("903", True, STAMP, STAMP, "Archived", "10", "USD", "10", "closedlost", "2026-03-01T00:00:00Z",
         "41", "true", "false", None, None, "2026-01-04T10:00:00Z", STAMP,
         None, None, None, None, None),
    ])
    raw_table(store, dataset, "associations", HS_ASSOCIATIONS, [
        ("deals", "901", "companies", "501", 5),
        ("deals", "901", "companies", "501", 341),
        ("calls", "601", "companies", "501", 182),
        ("calls", "601", "deals", "901", 206),
        ("feedback_submissions", "801", "companies", "501", 99),
    ])
    raw_table(store, dataset, "contacts", HS_CONTACTS, [
        ("1001", False, STAMP, STAMP, "41", "CONNECTED", "2026-01-10T08:00:00Z", "2026-01-20T08:00:00.000Z", None),
        ("1002", False, STAMP, STAMP, "41", "NEW", "1768118400000", None, "2026-01-25T08:00:00Z"),
        ("1003", False, STAMP, STAMP, "41", "NEW", None, None, None),  # never a lead
        ("1004", True, STAMP, STAMP, "41", "NEW", "2026-01-12T08:00:00Z", None, None),  # archived
    ])
    raw_table(store, dataset, "calls", HS_CALLS, [
        ("601", False, STAMP, STAMP, "41", "2026-01-15T09:30:00.000Z", "COMPLETED"),
        ("602", False, STAMP, STAMP, None, "1768642200000", "QUEUED"),
    ])
    raw_table(store, dataset, "meetings", HS_MEETINGS, [
        ("701", False, STAMP, STAMP, "42", "2026-01-21T14:00:00+01:00", "SCHEDULED"),
    ])
    raw_table(store, dataset, "goal_targets", HS_GOALS, [
        ("201", False, STAMP, STAMP, "12000", "2026-01-01T00:00:00.000Z", "2026-01-31T23:59:59.999Z", "9001",
         None, "currency"),
        ("202", False, STAMP, STAMP, "50000", "2026-01-01T00:00:00.000Z", "2026-03-31T23:59:59.999Z", None,
         "7", "currency"),
        ("203", False, STAMP, STAMP, "30", "2026-01-01T00:00:00.000Z", "2026-01-31T23:59:59.999Z", "9001",
         None, "number"),
    ])
    raw_table(store, dataset, "feedback_submissions", HS_FEEDBACK, [
        ("801", False, STAMP, STAMP, "NPS", "10", "10", "love it", "2026-01-30T10:00:00.000Z", None),
        ("802", False, STAMP, STAMP, "CSAT", None, "4", None, "1769767200000", "41"),
    ])


def files_raw(store: Store, dataset: str = "raw_erp") -> None:
    """What the files connector lands: typed columns, currency filled, period_end inclusive."""
    raw_table(store, dataset, "quotas",
              "rep_email VARCHAR, team VARCHAR, period_start DATE, period_end DATE, amount DOUBLE, currency VARCHAR",
              [
                  ("ada@example.com", None, d("2026-01-01"), d("2026-03-31"), 30000.0, "USD"),
                  ("GRACE@example.com", None, d("2026-01-01"), d("2026-01-31"), 900.0, "EUR"),
                  (None, "EMEA North", d("2026-01-01"), d("2026-12-31"), 500000.0, "USD"),
                  ("nobody@example.com", None, d("2026-01-01"), d("2026-01-31"), 1.0, "USD"),
              ])
    raw_table(store, dataset, "teams", "team VARCHAR, rep_email VARCHAR, parent_team VARCHAR", [
        ("EMEA North", "ada@example.com", "EMEA"),
    ])
    raw_table(store, dataset, "activity_targets",
              "rep_email VARCHAR, team VARCHAR, period_start DATE, period_end DATE, kind VARCHAR, target DOUBLE", [
                  ("grace@example.com", None, d("2026-01-01"), d("2026-01-31"), "Calls", 50.0),
              ])
