"""The Salesforce connector against an org fake written from Salesforce's docs (tests/fakes/salesforce_docs.py).

Unit level through `responses` (paging, Bulk CSV, faults, limits), then one end-to-end extract over real
HTTPS (trustme CA) into a temp DuckDB store, exact raw rows, an incremental run, and normalize.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import responses

from spm_sync.calls import ApiCalls
from spm_sync.config import Config, SalesforceSource, parse_config
from spm_sync.connectors.salesforce import settings
from spm_sync.connectors.salesforce.bulk import bulk_query
from spm_sync.connectors.salesforce.client import SalesforceClient
from spm_sync.connectors.salesforce.records import Field, arrow_schema
from spm_sync.connectors.salesforce.rest import query_pages
from spm_sync.errors import BudgetExhausted
from spm_sync.extract import sync_source
from spm_sync.normalize import normalize
from spm_sync.ops.check import _salesforce as check_salesforce
from spm_sync.runs import Run
from spm_sync.store import Store, open_store
from tests.fakes.salesforce_docs import SalesforceDocsOrg, SObject
from tests.fakes.wire import add_responses, html_reply, json_reply, serve

T0 = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
BASE = "https://docs-fake.my.salesforce.com"
USERS = ["005000000000001AAA", "005000000000002AAA", "005000000000003AAA", "005000000000004AAA"]
ROLES = ["00E000000000001AAA", "00E000000000002AAA"]
ACCOUNTS = ["001000000000001AAA", "001000000000002AAA", "001000000000003AAA"]
N_OPPS = 300


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def opportunity(i: int) -> dict[str, Any]:
    """Generated deals: ties on SystemModstamp, nulls, two currencies, awkward CSV text, soft deletes."""
    closed, won = i % 3 != 0, i % 3 == 1
    return {
        "Id": f"006{i:012d}AAA", "IsDeleted": i % 50 == 49, "AccountId": ACCOUNTS[i % 3] if i % 7 else None,
        "Name": f"Deal {i}", "StageName": "Closed Won" if won else "Closed Lost" if closed else "Proposal/Price Quote",
        "Amount": float(1000 + 10 * i) if i % 11 else None, "CloseDate": date(2026, 1, 1) + timedelta(days=i % 59),
        "Type": "New Customer" if i % 2 else "Existing Customer - Upgrade", "IsClosed": closed, "IsWon": won,
        "OwnerId": USERS[i % 3], "CurrencyIsoCode": "EUR" if i % 4 == 0 else "USD",
        "Probability": 100.0 if won else 0.0 if closed else 75.0, "ARR__c": 1200.5 if won else None,
        "Description": 'Line one\nLine "two", with comma' if i % 25 == 5 else None,
        "CreatedDate": at(-60 * 24 * 30 + i), "SystemModstamp": at(i // 4 + (i % 2) / 240),  # +250 ms on odd ones
        "LastModifiedDate": at(i // 4),
    }


def sample_org(**options: Any) -> SalesforceDocsOrg:
    """A small org: 4 users, 2 roles, 3 accounts, 300 opportunities and a few of everything else."""
    stamp = [("CreatedDate", "datetime"), ("SystemModstamp", "datetime")]
    users = SObject("User", [("Id", "id"), ("Username", "string"), ("FirstName", "string"), ("LastName", "string"),
                             ("Name", "string"), ("Email", "email"), ("IsActive", "boolean"),
                             ("UserRoleId", "reference"), ("ManagerId", "reference"), ("Address", "address"),
                             ("Quota_Attainment__c", "percent"), *stamp], [
        {"Id": USERS[0], "Username": "ada@docs", "FirstName": "Ada", "LastName": "Byron", "Name": "Ada Byron",
         "Email": "Ada@Example.com", "IsActive": True, "UserRoleId": ROLES[0], "CreatedDate": at(-500),
         "SystemModstamp": at(-400)},
        {"Id": USERS[1], "Username": "bo@docs", "FirstName": None, "LastName": "Bo", "Name": "Bo",
         "Email": "bo@example.com", "IsActive": True, "UserRoleId": ROLES[1], "ManagerId": USERS[0],
         "CreatedDate": at(-500), "SystemModstamp": at(-400)},
        {"Id": USERS[2], "Username": "cy@docs", "FirstName": "Cy", "LastName": "Dee", "Name": "Cy Dee",
         "Email": "cy@example.com", "IsActive": False, "UserRoleId": ROLES[1], "ManagerId": USERS[0],
         "CreatedDate": at(-500), "SystemModstamp": at(-300)},
        {"Id": USERS[3], "Username": "int@docs", "FirstName": "Integration", "LastName": "User",
         "Name": "Integration User", "Email": None, "IsActive": True, "CreatedDate": at(-500),
         "SystemModstamp": at(-300)},
    ])
    roles = SObject("UserRole", [("Id", "id"), ("Name", "string"), ("ParentRoleId", "reference"),
                                 ("SystemModstamp", "datetime")], [
        {"Id": ROLES[0], "Name": "Sales VP", "ParentRoleId": None, "SystemModstamp": at(-900)},
        {"Id": ROLES[1], "Name": "Sales East", "ParentRoleId": ROLES[0], "SystemModstamp": at(-900)},
    ])
    deleted = [("IsDeleted", "boolean")]
    accounts = SObject("Account", [("Id", "id"), *deleted, ("Name", "string"), ("OwnerId", "reference"),
                                   ("BillingAddress", "address"), ("AnnualRevenue", "currency"), *stamp], [
        {"Id": a, "IsDeleted": False, "Name": f"Account {n}", "OwnerId": USERS[n % 2], "AnnualRevenue": None,
         "CreatedDate": at(-1000 + n), "SystemModstamp": at(-200 + n)} for n, a in enumerate(ACCOUNTS)
    ])
    opportunities = SObject("Opportunity", [
        ("Id", "id"), *deleted, ("AccountId", "reference"), ("Name", "string"), ("StageName", "picklist"),
        ("Amount", "currency"), ("CloseDate", "date"), ("Type", "picklist"), ("IsClosed", "boolean"),
        ("IsWon", "boolean"), ("OwnerId", "reference"), ("CurrencyIsoCode", "picklist"), ("Probability", "percent"),
        ("ARR__c", "currency"), ("Description", "textarea"), ("Legacy_Score__c", "double"),
        ("CreatedDate", "datetime"), ("SystemModstamp", "datetime"), ("LastModifiedDate", "datetime"),
    ], [opportunity(i) for i in range(N_OPPS)], hidden=("Legacy_Score__c",))
    history = SObject("OpportunityHistory", [("Id", "id"), *deleted, ("OpportunityId", "reference"),
                                             ("StageName", "picklist"), ("Amount", "currency"), *stamp], [
        {"Id": "008000000000001AAA", "IsDeleted": False, "OpportunityId": opportunity(1)["Id"],
         "StageName": "Proposal/Price Quote", "Amount": 1010, "CreatedDate": at(-100), "SystemModstamp": at(-100)},
        {"Id": "008000000000002AAA", "IsDeleted": False, "OpportunityId": opportunity(1)["Id"],
         "StageName": "Closed Won", "Amount": 1010, "CreatedDate": at(-50), "SystemModstamp": at(-50)},
    ])
    leads = SObject("Lead", [("Id", "id"), *deleted, ("OwnerId", "reference"), ("Status", "picklist"),
                             ("IsConverted", "boolean"), ("ConvertedDate", "date"), ("Company", "string"), *stamp], [
        {"Id": "00Q000000000001AAA", "IsDeleted": False, "OwnerId": USERS[0], "Status": "Converted",
         "IsConverted": True, "ConvertedDate": date(2026, 1, 20), "Company": "Acme", "CreatedDate": at(-3000),
         "SystemModstamp": at(5)},
        {"Id": "00Q000000000002AAA", "IsDeleted": False, "OwnerId": USERS[1], "Status": "Open",
         "IsConverted": False, "ConvertedDate": None, "Company": None, "CreatedDate": at(-20), "SystemModstamp": at(6)},
    ])
    activity = [("OwnerId", "reference"), ("AccountId", "reference"), ("WhatId", "reference"),
                ("ActivityDate", "date")]
    tasks = SObject("Task", [("Id", "id"), *deleted, *activity, ("TaskSubtype", "picklist"), ("Status", "picklist"),
                             ("IsClosed", "boolean"), ("CompletedDateTime", "datetime"), *stamp], [
        {"Id": "00T000000000001AAA", "IsDeleted": False, "OwnerId": USERS[0], "AccountId": ACCOUNTS[0],
         "WhatId": opportunity(1)["Id"], "ActivityDate": date(2026, 1, 7), "TaskSubtype": "Call",
         "Status": "Completed", "IsClosed": True, "CreatedDate": at(0), "SystemModstamp": at(1)},
        {"Id": "00T000000000002AAA", "IsDeleted": False, "OwnerId": USERS[1], "AccountId": None,
         "WhatId": ACCOUNTS[1], "ActivityDate": None, "TaskSubtype": "Email", "Status": "Completed",
         "IsClosed": True, "CompletedDateTime": at(30), "CreatedDate": at(2), "SystemModstamp": at(3)},
    ])
    events = SObject("Event", [("Id", "id"), *deleted, *activity, ("ActivityDateTime", "datetime"),
                               ("EndDateTime", "datetime"), *stamp], [
        {"Id": "00U000000000001AAA", "IsDeleted": False, "OwnerId": USERS[0], "AccountId": ACCOUNTS[2],
         "WhatId": None, "ActivityDate": date(2026, 1, 9), "ActivityDateTime": at(60 * 24 * 4),
         "EndDateTime": at(60 * 24 * 4 + 30), "CreatedDate": at(0), "SystemModstamp": at(2)},
    ])
    quotas = SObject("ForecastingQuota", [("Id", "id"), ("QuotaOwnerId", "reference"), ("StartDate", "date"),
                                          ("QuotaAmount", "currency"), ("IsAmount", "boolean"),
                                          ("CurrencyIsoCode", "picklist"), *stamp], [
        {"Id": "0J9000000000001AAA", "QuotaOwnerId": USERS[0], "StartDate": date(2026, 1, 1), "QuotaAmount": 50000,
         "IsAmount": True, "CurrencyIsoCode": "USD", "CreatedDate": at(-10), "SystemModstamp": at(-10)},
        {"Id": "0J9000000000002AAA", "QuotaOwnerId": USERS[1], "StartDate": date(2026, 1, 1), "QuotaAmount": 9000,
         "IsAmount": True, "CurrencyIsoCode": "EUR", "CreatedDate": at(-10), "SystemModstamp": at(-10)},
    ])
    currencies = SObject("CurrencyType", [("Id", "id"), ("IsoCode", "picklist"), ("ConversionRate", "double"),
                                          ("IsCorporate", "boolean"), ("IsActive", "boolean"), *stamp], [
        {"Id": "01L000000000001AAA", "IsoCode": "USD", "ConversionRate": 1, "IsCorporate": True, "IsActive": True,
         "CreatedDate": at(-999), "SystemModstamp": at(-999)},
        {"Id": "01L000000000002AAA", "IsoCode": "EUR", "ConversionRate": 0.8, "IsCorporate": False,
         "IsActive": True, "CreatedDate": at(-999), "SystemModstamp": at(-999)},
    ])
    feedback = SObject("NPS_Response__c", [("Id", "id"), *deleted, ("Score__c", "double"), ("Kind__c", "picklist"),
                                           ("Comment__c", "textarea"), ("Account__c", "reference"),
                                           ("Rep__c", "reference"), ("SubmittedAt__c", "datetime"), *stamp], [
        {"Id": "a01000000000001AAA", "IsDeleted": False, "Score__c": 9, "Kind__c": "NPS",
         "Comment__c": 'Great, "fast"', "Account__c": ACCOUNTS[0], "Rep__c": None, "SubmittedAt__c": None,
         "CreatedDate": at(100), "SystemModstamp": at(100)},
    ])
    objects = [users, roles, accounts, opportunities, history, leads, tasks, events, quotas, currencies, feedback]
    return SalesforceDocsOrg(objects, **options)


@pytest.fixture(autouse=True)
def _fast(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings, "RETRY_BASE_S", 0.01)
    monkeypatch.setattr(settings, "BULK_POLL_START_S", 0.01)


def source(url: str, org: SalesforceDocsOrg, **extra: Any) -> dict[str, Any]:
    return {"name": "sf", "type": "salesforce", "instance_url": url, "session_id": org.session_id, **extra}


# ---- unit level (responses) --------------------------------------------------------------------------
@pytest.fixture
def mocked() -> Iterator[tuple[SalesforceDocsOrg, SalesforceClient]]:
    org = sample_org(last_page_next="null")
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        add_responses(mock, BASE, org)
        calls = ApiCalls(source="sf")
        yield org, SalesforceClient(SalesforceSource(**source(BASE, org)), calls)


def test_query_pages_follow_short_pages_to_a_null_next_url(mocked: tuple[SalesforceDocsOrg, SalesforceClient]) -> None:
    org, client = mocked
    soql = "SELECT Id, Amount, CloseDate FROM Opportunity ORDER BY SystemModstamp ASC, Id ASC"
    pages = list(query_pages(client, "Opportunity", soql, include_deleted=True))
    assert [len(p.records) for p in pages] == [137, 137, 26]
    assert {p.total_size for p in pages} == {N_OPPS}
    first = pages[0].records[:3]
    assert [(r["Id"], r["Amount"], r["CloseDate"]) for r in first] == [
        (opportunity(0)["Id"], None, "2026-01-01"), (opportunity(2)["Id"], 1020, "2026-01-03"),
        (opportunity(1)["Id"], 1010, "2026-01-02"),  # 250 ms later than deal 2
    ]
    assert first[0]["attributes"]["type"] == "Opportunity"
    assert client.calls.daily_used == 3 and client.calls.daily_max == 15_000  # from Sforce-Limit-Info


def test_bulk_results_in_another_column_order_and_quoting(mocked: tuple[SalesforceDocsOrg, SalesforceClient]) -> None:
    org, client = mocked
    fields = [Field("Id", "id"), Field("Amount", "currency"), Field("CloseDate", "date"), Field("IsWon", "boolean"),
              Field("Description", "textarea"), Field("SystemModstamp", "datetime")]
    org.fail_next(r"GET .*/results", html_reply(502, "Bad Gateway"))
    soql = "SELECT Id, Amount, CloseDate, IsWon, Description, SystemModstamp FROM Opportunity"
    tables = list(bulk_query(client, "Opportunity", soql, fields, arrow_schema(fields), include_deleted=True))
    assert [t.num_rows for t in tables] == [120, 120, 60]
    rows = [r for t in tables for r in t.to_pylist()]
    expected = [opportunity(i) for i in range(N_OPPS)]
    assert rows == [{"id": o["Id"], "amount": o["Amount"], "close_date": o["CloseDate"], "is_won": o["IsWon"],
                     "description": o["Description"], "system_modstamp": o["SystemModstamp"]} for o in expected]
    assert org.calls_to(r"GET .*/results") == 4  # 3 chunks + the one after the 502


def test_daily_limit_stops_without_retrying(mocked: tuple[SalesforceDocsOrg, SalesforceClient]) -> None:
    org, client = mocked
    org.fail_next(r"GET .*/query", json_reply(403, [{"message": "TotalRequests Limit exceeded.",
                                                     "errorCode": "REQUEST_LIMIT_EXCEEDED"}]))
    with pytest.raises(BudgetExhausted):
        list(query_pages(client, "Lead", "SELECT Id FROM Lead", include_deleted=False))
    assert org.calls_to(r"/query") == 1


def test_check_reads_the_daily_allowance(mocked: tuple[SalesforceDocsOrg, SalesforceClient]) -> None:
    org, _ = mocked
    assert check_salesforce(SalesforceSource(**source(BASE, org))).endswith("14,999 of 15,000 daily calls left")


# ---- end to end over HTTPS -------------------------------------------------------------------------
def make_config(tmp: Path, url: str, ca: Path, org: SalesforceDocsOrg, **extra: Any) -> Config:
    return parse_config({
        "store": {"path": str(tmp / "s.duckdb"), "state_dir": str(tmp / "state")},
        "sources": [source(url, org, ca_bundle=str(ca), bulk_threshold=100, **extra)],
    })


def sync(cfg: Config, store: Store) -> Any:
    return sync_source(cfg, store, "sf", run=Run(job="sync"))


def fetch(store: Store, table: str, columns: str, order: str = "1") -> list[tuple[Any, ...]]:
    return store.fetchall(f"SELECT {columns} FROM {table} ORDER BY {order}")


def opportunity_rows(store: Store) -> list[tuple[Any, ...]]:
    return store.fetchall(
        "SELECT id, is_deleted, account_id, name, stage_name, amount, close_date, type, is_closed, is_won, owner_id, "
        "currency_iso_code, probability, arr_c, description, created_date, system_modstamp, last_modified_date "
        "FROM raw_sf.opportunity ORDER BY id"
    )


def expected_opportunity(record: dict[str, Any]) -> tuple[Any, ...]:
    keys = ["Id", "IsDeleted", "AccountId", "Name", "StageName", "Amount", "CloseDate", "Type", "IsClosed", "IsWon",
            "OwnerId", "CurrencyIsoCode", "Probability", "ARR__c", "Description", "CreatedDate", "SystemModstamp",
            "LastModifiedDate"]
    return tuple(record.get(k) for k in keys)


def test_extract_and_normalize_over_https(tmp_path: Path) -> None:
    org = sample_org()
    org.fail_next(r"GET .*/queryAll", html_reply(502, "Bad Gateway"))
    with serve(org, tls_dir=tmp_path) as (url, ca):
        assert ca is not None
        cfg = make_config(tmp_path, url, ca, org)
        store = open_store(cfg)
        try:
            first = sync(cfg, store)
            assert first.warnings == [
                f"{name}: NOT_FOUND: not in this org or not readable by this user; skipped"
                for name in ("OpportunityFieldHistory", "DatedConversionRate", "Period", "FiscalYearSettings",
                             "OpportunitySplit", "OpportunitySplitType", "Rep_Survey__c")
            ]
            assert first.records["opportunity"] == N_OPPS
            assert first.api_calls["total"] == len(org.calls)  # every call counted, the 502 too
            assert first.api_calls["daily_max"] == 15_000  # from Sforce-Limit-Info
            assert org.calls_to(r"POST .*/jobs/query$") == 1  # 300 rows > bulk_threshold: one Bulk job
            opportunities = org.objects["Opportunity"].records
            assert opportunity_rows(store) == [expected_opportunity(r) for r in opportunities]
            columns = {r[0] for r in store.fetchall("SELECT column_name FROM information_schema.columns "
                                                    "WHERE table_schema = 'raw_sf' AND table_name = 'user'")}
            assert {"address", "quota_attainment_c", "email", "user_role_id"} & columns == {
                "quota_attainment_c", "email", "user_role_id"}
            assert fetch(store, "raw_sf.user", "id, first_name, email, is_active, manager_id") == [
                (USERS[0], "Ada", "Ada@Example.com", True, None), (USERS[1], None, "bo@example.com", True, USERS[0]),
                (USERS[2], "Cy", "cy@example.com", False, USERS[0]), (USERS[3], "Integration", None, True, None),
            ]
            assert fetch(store, "raw_sf.nps_response_c", "id, score_c, kind_c, comment_c, submitted_at_c") == [
                ("a01000000000001AAA", 9.0, "NPS", 'Great, "fast"', None),
            ]

            # Incremental: one change, one soft delete, one new record -> REST (below the Bulk threshold);
            # one record purged from the recycle bin -> found by the delete sweep (an Id-only Bulk job).
            now = datetime.now(UTC).replace(microsecond=500_000)
            opportunities[1].update(Amount=2222.25, SystemModstamp=now, LastModifiedDate=now)
            opportunities[2].update(IsDeleted=True, SystemModstamp=now, LastModifiedDate=now)
            opportunities.append({**opportunity(N_OPPS), "SystemModstamp": now, "LastModifiedDate": now})
            purged = opportunities.pop(10)
            jobs = org.calls_to(r"POST .*/jobs/query$")
            second = sync(make_config(tmp_path, url, ca, org, delete_sweep_days=0), store)
            assert second.records == {"opportunity": 4}  # 3 pulled, 1 marked deleted by the sweep
            assert org.calls_to(r"POST .*/jobs/query$") == jobs + 1
            opportunities.insert(10, {**purged, "IsDeleted": True})
            assert opportunity_rows(store) == [expected_opportunity(r) for r in opportunities]

            normalize(cfg, store, Run(job="normalize"))
            assert_normalized(store)
        finally:
            store.close()


def assert_normalized(store: Store) -> None:
    """Typed values in spm.* from the raw rows the docs fake produced."""
    def sf(value: str | None) -> str | None:
        return None if value is None else f"sf:{value}"

    assert fetch(store, "spm.reps", "rep_id, name, email, team_id, manager_rep_id, is_active") == [
        (sf(USERS[0]), "Ada Byron", "Ada@Example.com", sf(ROLES[0]), None, True),
        (sf(USERS[1]), "Bo", "bo@example.com", sf(ROLES[1]), sf(USERS[0]), True),
        (sf(USERS[2]), "Cy Dee", "cy@example.com", sf(ROLES[1]), sf(USERS[0]), False),
        (sf(USERS[3]), "Integration User", None, None, None, True),
    ]
    assert fetch(store, "spm.teams", "team_id, name, parent_team_id") == [
        (sf(ROLES[0]), "Sales VP", None), (sf(ROLES[1]), "Sales East", sf(ROLES[0])),
    ]
    rows = store.fetchall(
        "SELECT opportunity_id, account_id, owner_rep_id, stage, stage_category, is_closed, is_won, amount, currency, "
        "amount_rc, recurring_amount_rc, deal_type, created_at, close_date, is_deleted FROM spm.opportunities "
        "WHERE crm_id IN (?, ?, ?, ?) ORDER BY 1",
        [opportunity(i)["Id"] for i in (1, 2, 3, 4)],
    )
    naive = T0.replace(tzinfo=None)
    assert rows == [
        (sf(opportunity(1)["Id"]), sf(ACCOUNTS[1]), sf(USERS[1]), "Closed Won", "closed_won", True, True, 2222.25,
         "USD", 2222.25, 1200.5, "new", naive + timedelta(days=-30, minutes=1), date(2026, 1, 2), False),
        (sf(opportunity(2)["Id"]), sf(ACCOUNTS[2]), sf(USERS[2]), "Closed Lost", "closed_lost", True, False, 1020.0,
         "USD", 1020.0, None, "expansion", naive + timedelta(days=-30, minutes=2), date(2026, 1, 3), True),
        (sf(opportunity(3)["Id"]), sf(ACCOUNTS[0]), sf(USERS[0]), "Proposal/Price Quote", "proposal", False, False,
         1030.0, "USD", 1030.0, None, "new", naive + timedelta(days=-30, minutes=3), date(2026, 1, 4), False),
        (sf(opportunity(4)["Id"]), sf(ACCOUNTS[1]), sf(USERS[1]), "Closed Won", "closed_won", True, True, 1040.0,
         "EUR", 1300.0, 1500.625, "expansion", naive + timedelta(days=-30, minutes=4), date(2026, 1, 5), False),
    ]
    assert store.fetchone("SELECT count(*) FROM spm.opportunities")[0] == N_OPPS + 1
    assert fetch(store, "spm.stage_events", "opportunity_id, stage, stage_category, entered_at", order="4") == [
        (sf(opportunity(1)["Id"]), "Proposal/Price Quote", "proposal", naive + timedelta(minutes=-100)),
        (sf(opportunity(1)["Id"]), "Closed Won", "closed_won", naive + timedelta(minutes=-50)),
    ]
    assert fetch(store, "spm.leads", "lead_id, owner_rep_id, status, is_converted, converted_at") == [
        ("sf:00Q000000000001AAA", sf(USERS[0]), "Converted", True, datetime(2026, 1, 20)),
        ("sf:00Q000000000002AAA", sf(USERS[1]), "Open", False, None),
    ]
    columns = "activity_id, owner_rep_id, kind, occurred_at, is_completed, account_id, opportunity_id"
    assert fetch(store, "spm.activities", columns) == [
        ("sf:00T000000000001AAA", sf(USERS[0]), "call", datetime(2026, 1, 7), True, sf(ACCOUNTS[0]),
         sf(opportunity(1)["Id"])),
        ("sf:00T000000000002AAA", sf(USERS[1]), "email", naive + timedelta(minutes=30), True, None, None),
        ("sf:00U000000000001AAA", sf(USERS[0]), "meeting", naive + timedelta(days=4), True, sf(ACCOUNTS[2]), None),
    ]
    assert fetch(store, "spm.feedback", "feedback_id, kind, score, comment, submitted_at, account_id, rep_id") == [
        ("sf:a01000000000001AAA", "nps", 9.0, 'Great, "fast"', naive + timedelta(minutes=100), sf(ACCOUNTS[0]), None),
    ]
    assert fetch(store, "spm.quotas", "owner, period_start, period_end, measure, amount_rc") == [
        (sf(USERS[0]), date(2026, 1, 1), date(2026, 2, 1), "revenue", 50000.0),
        (sf(USERS[1]), date(2026, 1, 1), date(2026, 2, 1), "revenue", 11250.0),
    ]
