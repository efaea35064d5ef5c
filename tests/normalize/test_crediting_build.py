"""The build step's crediting inputs end to end through normalize: mirror links, unified teams,
owner changes and splits resolved through rep identities, dated and observed team history, credits.

The shipped mappings fill these inputs once the connectors land them (credit-sources); here small
mappings of our own, over raw tables of our own, exercise the build step alone.
"""

from __future__ import annotations

from datetime import date

import pytest

from spm_sync.config import Config
from spm_sync.normalize import normalize, parse_mapping, run
from tests.normalize.conftest import new_run, rows
from tests.normalize.rawdata import d, raw_table, ts

MAPPINGS = {
    "salesforce": """
stages: {Won: closed_won, Open: qualification}
tables:
  reps: {from: user, fields: {crm_id: id, email: email, team_crm_id: role_id, name: id}}
  teams: {from: role, fields: {crm_id: id, name: name}}
  accounts: {from: account, fields: {crm_id: id, name: name, owner_crm_id: owner_id}}
  opportunities:
    from: opportunity
    fields: {crm_id: id, account_crm_id: account_id, owner_crm_id: owner_id, stage: stage, amount: amount,
             close_date: close_date, created_at: close_date}
  owner_changes:
    from: owner_history
    fields: {opportunity_crm_id: opportunity_id, old_owner_crm_id: old_value, new_owner_crm_id: new_value,
             changed_at: created_date}
  opportunity_splits:
    from: split
    fields: {crm_id: id, opportunity_crm_id: opportunity_id, owner_crm_id: owner_id, percentage: percentage,
             split_type: type}
""",
    "hubspot": """
stages: {closedwon: closed_won}
tables:
  reps: {from: owners, fields: {crm_id: id, email: email, team_crm_id: team_id, name: id}}
  teams: {from: teams, fields: {crm_id: id, name: name}}
  accounts: {from: companies, fields: {crm_id: id, name: name, mirror_of_crm_id: salesforceaccountid}}
  opportunities:
    from: deals
    fields: {crm_id: id, account_crm_id: company_id, owner_crm_id: owner_id, stage: stage, amount: amount,
             close_date: close_date, created_at: close_date, mirror_of_crm_id: hs_salesforceopportunityid,
             owner_assigned_at: assigned_at}
""",
    "files": """
tables:
  teams: {from: teams, fields: {crm_id: team, name: team}}
  team_members:
    from: teams
    fields: {team_crm_id: team, email: rep_email, valid_from: valid_from,
             valid_to: "valid_to + INTERVAL 1 DAY"}
""",
}


ASSIGNED = ts("2026-01-02T00:00:00").replace(tzinfo=None)


@pytest.fixture(autouse=True)
def test_mappings(monkeypatch):
    monkeypatch.setattr(run, "load_mapping", lambda kind, override=None: parse_mapping(MAPPINGS[kind], file=kind))


def _config(path, as_of: str) -> Config:
    return Config.model_validate({
        "store": {"path": str(path)},
        "as_of": as_of,
        "sources": [
            {"name": "sf", "type": "salesforce", "instance_url": "https://x.my.salesforce.com", "session_id": "x"},
            {"name": "hs", "type": "hubspot", "access_token": "x"},
            {"name": "erp", "type": "files"},
        ],
        "crediting": {"teams": {"Boston AEs": "Boston Sales"}},
    })


def _raw(store, role_of_a: str = "00E1") -> None:
    for schema in ("raw_sf", "raw_hs", "raw_erp"):
        store.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    sf, hs, erp = "raw_sf", "raw_hs", "raw_erp"
    raw_table(store, sf, "user", "id VARCHAR, email VARCHAR, role_id VARCHAR", [
        ("005A", "a@x.test", role_of_a), ("005B", "b@x.test", "00E1"), ("005C", "c@x.test", "00E2"),
    ])
    raw_table(store, sf, "role", "id VARCHAR, name VARCHAR", [("00E1", "Boston Sales"), ("00E2", "West")])
    raw_table(store, sf, "account", "id VARCHAR, name VARCHAR, owner_id VARCHAR", [("001A", "Acme", "005A")])
    raw_table(store, sf, "opportunity", "id VARCHAR, account_id VARCHAR, owner_id VARCHAR, stage VARCHAR, "
              "amount DOUBLE, close_date DATE", [
                  ("006A", "001A", "005B", "Won", 1000.0, d("2026-01-10")),
                  ("006B", "001A", "005A", "Won", 400.0, d("2026-01-12")),
              ])
    raw_table(store, sf, "owner_history", "opportunity_id VARCHAR, old_value VARCHAR, new_value VARCHAR, "
              "created_date TIMESTAMPTZ", [("006A", "005A", "005B", ts("2026-02-01T10:00:00"))])
    raw_table(store, sf, "split", "id VARCHAR, opportunity_id VARCHAR, owner_id VARCHAR, percentage DOUBLE, "
              "type VARCHAR", [("S1", "006B", "005A", 75.0, "Revenue"), ("S2", "006B", "005C", 25.0, "Revenue")])
    raw_table(store, hs, "owners", "id VARCHAR, email VARCHAR, team_id VARCHAR", [("41", "A@x.test", "7")])
    raw_table(store, hs, "teams", "id VARCHAR, name VARCHAR", [("7", " boston sales")])
    raw_table(store, hs, "companies", "id VARCHAR, name VARCHAR, salesforceaccountid VARCHAR", [("C1", "Acme", "001A")])
    raw_table(store, hs, "deals", "id VARCHAR, company_id VARCHAR, owner_id VARCHAR, stage VARCHAR, amount VARCHAR, "
              "close_date VARCHAR, hs_salesforceopportunityid VARCHAR, assigned_at VARCHAR", [
                  ("D1", "C1", "41", "closedwon", "1000", "2026-01-10", "006A", "2026-01-02T00:00:00Z"),
                  ("D2", None, "41", "closedwon", "50", "2026-01-20", None, "2026-01-02T00:00:00Z"),
              ])
    raw_table(store, erp, "teams", "team VARCHAR, rep_email VARCHAR, valid_from DATE, valid_to DATE", [
        ("Boston AEs", "c@x.test", None, d("2025-12-31")),
        ("West", "c@x.test", d("2026-01-01"), None),
    ])


def test_mirrors_teams_owner_history_splits_and_credits(store, duckdb_path):
    _raw(store)
    result = normalize(_config(duckdb_path, "2026-03-15"), store, new_run())
    assert rows(store, "teams") == [("sf:00E1", "Boston Sales", None), ("sf:00E2", "West", None)]
    assert rows(store, "reps", "rep_id, team_id") == [("sf:005A", "sf:00E1"), ("sf:005B", "sf:00E1"),
                                                      ("sf:005C", "sf:00E2")]
    assert rows(store, "opportunities", "opportunity_id, mirror_of, owner_assigned_at") == [
        ("hs:D1", "sf:006A", ASSIGNED),
        ("hs:D2", None, ASSIGNED),
        ("sf:006A", None, None),
        ("sf:006B", None, None),
    ]
    assert rows(store, "accounts", "account_id, mirror_of") == [("hs:C1", "sf:001A"), ("sf:001A", None)]
    assert rows(store, "owner_changes") == [
        ("sf:006A", "sf", "sf:005A", "sf:005B", ts("2026-02-01T10:00:00").replace(tzinfo=None)),
    ]
    assert rows(store, "opportunity_splits", "split_id, opportunity_id, owner_rep_id, percentage, split_type") == [
        ("sf:S1", "sf:006B", "sf:005A", 75.0, "Revenue"), ("sf:S2", "sf:006B", "sf:005C", 25.0, "Revenue"),
    ]
    # c's dated file rows are its history ("Boston AEs" is Boston Sales by config); a and b were first seen now
    assert rows(store, "rep_team_history", order="rep_id, valid_from NULLS FIRST") == [
        ("sf:005A", "sf:00E1", None, None, "observed"),
        ("sf:005B", "sf:00E1", None, None, "observed"),
        ("sf:005C", "sf:00E1", None, date(2026, 1, 1), "file"),
        ("sf:005C", "sf:00E2", date(2026, 1, 1), None, "file"),
    ]
    assert store.fetchall(
        "SELECT opportunity_id, rep_id, team_id, share, rule FROM spm.opportunity_credits ORDER BY 1, 2"
    ) == [
        ("hs:D2", "sf:005A", "sf:00E1", 1.0, "owner_at_close"),  # assigned before close: no history needed
        ("sf:006A", "sf:005A", "sf:00E1", 1.0, "owner_at_close"),  # a held it at close; b got it in February
        ("sf:006B", "sf:005A", "sf:00E1", 0.75, "split:Revenue"),
        ("sf:006B", "sf:005C", "sf:00E2", 0.25, "split:Revenue"),
    ]
    assert result.quality == {}
    assert result.credits == {"owner_at_close": 2, "split:Revenue": 2}
    assert "credits (spm.opportunity_credits, crediting.owner = at_close): owner_at_close 2, split:Revenue 2" \
        in result.summary()


def test_team_changes_between_syncs_become_history(store, duckdb_path):
    _raw(store)
    normalize(_config(duckdb_path, "2026-03-15"), store, new_run())
    _raw(store, role_of_a="00E2")  # a moved to West in the CRM
    normalize(_config(duckdb_path, "2026-04-02"), store, new_run())
    history = store.fetchall(
        "SELECT team_id, valid_from, valid_to FROM spm.rep_team_history WHERE rep_id = 'sf:005A' "
        "ORDER BY valid_from NULLS FIRST"
    )
    assert history == [("sf:00E1", None, date(2026, 4, 2)), ("sf:00E2", date(2026, 4, 2), None)]
    # the deal a won in January still counts for Boston Sales, where a was then
    assert store.fetchone(
        "SELECT team_id FROM spm.opportunity_credits WHERE opportunity_id = 'sf:006A'"
    ) == ("sf:00E1",)
    normalize(_config(duckdb_path, "2026-04-03"), store, new_run())  # nothing changed: history unchanged
    assert store.fetchall(
        "SELECT team_id, valid_from, valid_to FROM spm.rep_team_history WHERE rep_id = 'sf:005A' "
        "ORDER BY valid_from NULLS FIRST"
    ) == history
