"""The HubSpot connector against a portal fake written from HubSpot's docs (tests/fakes/hubspot_docs.py).

Real hubspot-api-client over loopback HTTP, run by `spm_sync.extract.sync_source` into a temp DuckDB
store: exact raw rows, an incremental run through search, then normalize and typed spm rows.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from spm_sync.config import Config, parse_config
from spm_sync.extract import sync_source
from spm_sync.normalize import normalize
from spm_sync.runs import Run
from spm_sync.store import Store, open_store
from tests.fakes.hubspot_docs import HsObject, HubSpotDocsPortal, rate_limited
from tests.fakes.wire import html_reply, serve

T0 = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
STAGES = ["appointmentscheduled", "qualifiedtobuy", "presentationscheduled", "decisionmakerboughtin",
          "contractsent", "closedwon", "closedlost"]
RENEWAL_STAGES = ["1234567", "1234568"]
CUSTOM = [f"custom_{k:02d}_field_with_a_long_internal_name" for k in range(60)]
N_DEALS = 80
PRIMARY = {"category": "HUBSPOT_DEFINED", "typeId": 5, "label": "Primary"}
UNLABELED = {"category": "HUBSPOT_DEFINED", "typeId": 341, "label": None}


def iso(moment: datetime, millis: bool = True) -> str:
    text = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return text + (f".{moment.microsecond // 1000:03d}Z" if millis else "Z")


def stamp(moment: datetime, variant: int) -> str:
    """The shapes HubSpot datetimes arrive in: ISO with or without millis, or epoch milliseconds."""
    return [iso(moment, millis=False), iso(moment), str(int(moment.timestamp() * 1000))][variant % 3]


def record(record_id: str, props: dict[str, str | None], created: datetime, **extra: Any) -> dict[str, Any]:
    return {"id": record_id, "properties": {"hs_object_id": record_id, **props}, "createdAt": iso(created),
            "updatedAt": iso(created + timedelta(hours=1)), "archived": False, **extra}


def deal(i: int) -> dict[str, Any]:
    """Generated deals: every value a string, in varied formats, with nulls and cleared (`""`) values."""
    stage = STAGES[i % 7]
    closed = stage in ("closedwon", "closedlost")
    created = T0 + timedelta(hours=i)
    props: dict[str, str | None] = {
        "dealname": f"Deal {i}", "pipeline": "default", "dealstage": stage,
        "amount": "" if i % 5 == 2 else None if i % 5 == 3 else f"{1000 + 10 * i}" + (".50" if i % 2 else ""),
        "closedate": stamp(datetime(2026, 2, 1, tzinfo=UTC) + timedelta(days=i), i),
        "createdate": stamp(created, i + 1), "hs_lastmodifieddate": iso(created + timedelta(hours=1)),
        "hubspot_owner_id": ["101", "102", "103", None][i % 4],
        "hs_is_closed": None if i % 9 == 0 else "true" if closed else "false",
        "hs_is_closed_won": None if i % 9 == 0 else "true" if stage == "closedwon" else "false",
        "deal_currency_code": "EUR" if i % 6 == 0 else "USD", "dealtype": ["newbusiness", "existingbusiness"][i % 2],
    }
    if i % 6 == 0 and props["amount"]:
        props["amount_in_home_currency"] = str(float(props["amount"]) * 1.25)
    if STAGES.index(stage) >= 4:
        props["hs_v2_date_entered_contractsent" if i % 2 else "hs_date_entered_contractsent"] = stamp(
            created + timedelta(days=1), i)
    if i == 7:
        props.update(pipeline="123456", dealstage=RENEWAL_STAGES[0])
    props.update({name: f"c{k}-{i}" for k, name in enumerate(CUSTOM) if (i + k) % 10 == 0})
    extra = {"propertiesWithHistory": {"dealstage": [{"value": stage, "timestamp": iso(created),
                                                      "sourceType": "CRM_UI"}]}} if i % 10 == 3 else {}
    return record(str(2001 + i), props, created, **extra)


def deal_links(i: int) -> list[tuple[str, list[dict[str, Any]]]]:
    if i % 8 == 5:
        return []  # answered as an error of the 207
    if i == 2:  # three companies: two pages of this input's own paging
        return [("3001", [PRIMARY, UNLABELED]), ("3002", [UNLABELED]),
                ("3003", [{"category": "USER_DEFINED", "typeId": 12, "label": "Reseller"}])]
    return [(str(3001 + i % 4), [PRIMARY, UNLABELED])]


def stage_entry(stage: str) -> list[tuple[str, str]]:
    return [(f"hs_v2_date_entered_{stage}", "datetime"), (f"hs_date_entered_{stage}", "datetime")]


def pipeline(pipeline_id: str, label: str, stages: list[tuple[str, str, str, str]]) -> dict[str, Any]:
    return {"id": pipeline_id, "label": label, "displayOrder": 0, "createdAt": "2019-08-06T02:41:08.029Z",
            "updatedAt": "2024-03-01T10:00:00Z", "archived": False,
            "stages": [{"id": sid, "label": name, "displayOrder": n, "metadata": {"isClosed": closed, "probability": p},
                        "createdAt": "2019-08-06T02:41:08.029Z", "updatedAt": None, "archived": False,
                        "writePermissions": "CRM_PERMISSIONS_ENFORCEMENT"}
                       for n, (sid, name, closed, p) in enumerate(stages)]}


OWNERS = [
    {"id": "101", "email": "ada@example.com", "type": "PERSON", "firstName": "Ada", "lastName": "Byron",
     "userId": 9001, "userIdIncludingInactive": 9001, "createdAt": "2019-12-25T13:01:35.228Z",
     "updatedAt": "2023-08-22T13:40:26.790Z", "archived": False,
     "teams": [{"id": "7", "name": "East", "primary": True}]},
    {"id": "102", "email": "Bo@Example.com", "type": "PERSON", "firstName": "Bo", "lastName": None, "userId": 9002,
     "userIdIncludingInactive": 9002, "createdAt": "2020-01-01T00:00:00Z", "updatedAt": "2023-08-22T13:40:26Z",
     "archived": False, "teams": [{"id": "7", "name": "East", "primary": False},
                                  {"id": "8", "name": "West", "primary": True}]},
    {"id": "103", "email": "cy@example.com", "type": "PERSON", "firstName": "Cy", "lastName": "Dee", "userId": 9003,
     "userIdIncludingInactive": 9003, "createdAt": "2020-01-01T00:00:00Z", "updatedAt": "2024-01-01T00:00:00Z",
     "archived": False},
    {"id": "104", "email": "di@example.com", "type": "PERSON", "firstName": "Di", "lastName": "Ess", "userId": 9004,
     "userIdIncludingInactive": 9004, "createdAt": "2020-01-01T00:00:00Z", "updatedAt": "2024-01-01T00:00:00Z",
     "archived": False, "teams": []},
    {"id": "105", "email": "ex@example.com", "type": "PERSON", "firstName": "Ex", "lastName": "Rep", "userId": None,
     "userIdIncludingInactive": 9005, "createdAt": "2020-01-01T00:00:00Z", "updatedAt": "2025-06-01T00:00:00Z",
     "archived": True, "teams": [{"id": "8", "name": "West", "primary": True}]},
]


def sample_portal() -> HubSpotDocsPortal:
    """Objects, pipelines, owners and associations of one small portal."""
    common = [("createdate", "datetime"), ("hs_lastmodifieddate", "datetime"), ("hs_object_id", "number"),
              ("hubspot_owner_id", "enumeration")]
    deal_props = [*common, ("dealname", "string"), ("amount", "number"), ("closedate", "datetime"),
                  ("dealstage", "enumeration"), ("pipeline", "enumeration"), ("hs_is_closed", "bool"),
                  ("hs_is_closed_won", "bool"), ("deal_currency_code", "enumeration"), ("dealtype", "enumeration"),
                  ("amount_in_home_currency", "number"), ("hs_arr", "number"),
                  *[p for s in STAGES + RENEWAL_STAGES for p in stage_entry(s)], *[(c, "string") for c in CUSTOM]]
    deals = [deal(i) for i in range(N_DEALS)]
    for n, i in enumerate((N_DEALS, N_DEALS + 1)):
        deals.append({**deal(i), "archived": True, "archivedAt": iso(T0 + timedelta(days=2, hours=n))})
    companies = [record(str(3001 + n), {"name": f"Company {n}", "domain": None if n else "example.com",
                                        "hubspot_owner_id": ["101", "102"][n % 2], "createdate": stamp(T0, n),
                                        "hs_lastmodifieddate": iso(T0)}, T0) for n in range(4)]
    companies.append({**record("3005", {"name": "Gone Inc", "createdate": iso(T0)}, T0), "archived": True,
                      "archivedAt": "2026-01-06T00:00:00Z"})
    contact_props = [(p, "datetime" if p.endswith("date") else "string") for p in (
        "createdate", "lastmodifieddate", "hubspot_owner_id", "hs_lead_status", "lifecyclestage",
        "hs_lifecyclestage_lead_date", "hs_lifecyclestage_opportunity_date", "hs_lifecyclestage_customer_date")]
    contacts = [
        record("501", {"hubspot_owner_id": "101", "hs_lead_status": "IN_PROGRESS", "lifecyclestage": "opportunity",
                       "hs_lifecyclestage_lead_date": "2026-01-10T08:00:00Z",
                       "hs_lifecyclestage_opportunity_date": "1768550400000", "lastmodifieddate": iso(T0)}, T0),
        record("502", {"hubspot_owner_id": "102", "hs_lead_status": None, "lifecyclestage": "lead",
                       "hs_lifecyclestage_lead_date": "2026-01-12T08:00:00.250Z",
                       "hs_lifecyclestage_opportunity_date": "", "lastmodifieddate": iso(T0)}, T0),
        record("503", {"hubspot_owner_id": None, "lifecyclestage": "customer",
                       "hs_lifecyclestage_customer_date": "2025-12-01T00:00:00Z"}, T0),
    ]
    engagement = [*common, ("hs_timestamp", "datetime"), ("hs_call_status", "enumeration"),
                  ("hs_email_status", "enumeration"), ("hs_meeting_outcome", "enumeration"),
                  ("hs_task_status", "enumeration")]
    calls = [record("601", {"hs_timestamp": "2026-01-07T10:00:00.000Z", "hs_call_status": "COMPLETED",
                            "hubspot_owner_id": "101"}, T0),
             record("602", {"hs_timestamp": "1767780000000", "hs_call_status": "NO_ANSWER",
                            "hubspot_owner_id": "102"}, T0)]
    emails = [record("701", {"hs_timestamp": "2026-01-08T11:00:00Z", "hs_email_status": "SENT",
                             "hubspot_owner_id": "103"}, T0)]
    meetings = [record("801", {"hs_timestamp": "2026-01-09T12:30:00.500Z", "hs_meeting_outcome": "COMPLETED",
                               "hubspot_owner_id": "101"}, T0)]
    tasks = [record("901", {"hs_timestamp": "2026-01-10T00:00:00Z", "hs_task_status": "NOT_STARTED",
                            "hubspot_owner_id": None}, T0)]
    users = [record(str(1100 + n), {"hs_internal_user_id": str(9001 + n), "hs_email": e}, T0)
             for n, e in enumerate(["ada@example.com", "bo@example.com"])]
    goal_props = [(p, "string") for p in ("hs_assignee_user_id", "hs_assignee_team_id", "hs_target_amount",
                                          "hs_kpi_display_unit")] + [("hs_start_datetime", "datetime"),
                                                                     ("hs_end_datetime", "datetime")]
    goals = [
        record("1201", {"hs_assignee_user_id": "9001", "hs_target_amount": "50000", "hs_kpi_display_unit": "currency",
                        "hs_start_datetime": "2026-01-01T00:00:00Z", "hs_end_datetime": "2026-01-31T23:59:59.999Z"},
               T0),
        record("1202", {"hs_assignee_user_id": "9002", "hs_target_amount": "12000.5", "hs_kpi_display_unit": None,
                        "hs_start_datetime": "1767225600000", "hs_end_datetime": "1769903999999"}, T0),
    ]
    objects = [
        HsObject("deals", deal_props, deals), HsObject("companies", [*common, ("name", "string"),
                                                                    ("domain", "string")], companies),
        HsObject("contacts", contact_props, contacts), HsObject("calls", engagement, calls),
        HsObject("emails", engagement, emails), HsObject("meetings", engagement, meetings),
        HsObject("tasks", engagement, tasks),
        HsObject("users", [*common, ("hs_internal_user_id", "number"), ("hs_email", "string")], users),
        HsObject("goal_targets", [*common, *goal_props], goals),
        HsObject("feedback_submissions", [], missing_scope=True),
    ]
    pipelines = [
        pipeline("default", "Sales Pipeline", [(s, s.title(), str(s.startswith("closed")).lower(), p) for s, p in zip(
            STAGES, ["0.2", "0.4", "0.6", "0.8", "0.9", "1.0", "0.0"], strict=True)]),
        pipeline("123456", "Renewals", [(RENEWAL_STAGES[0], "Renewal due", "false", "0.5"),
                                        (RENEWAL_STAGES[1], "Renewed", "true", "1")]),
    ]
    links = {
        ("deals", "companies"): {str(2001 + i): deal_links(i) for i in range(N_DEALS + 2)},
        ("calls", "deals"): {"601": [("2001", [{"category": "HUBSPOT_DEFINED", "typeId": 206, "label": None}])]},
        ("calls", "companies"): {"601": [("3001", [{"category": "HUBSPOT_DEFINED", "typeId": 182, "label": None}])]},
        ("meetings", "companies"): {"801": [("3002", [{"category": "HUBSPOT_DEFINED", "typeId": 188,
                                                       "label": None}])]},
    }
    owners = [dict(o) for o in OWNERS]
    # Splits of won deal 2006 as the changelog example shows them: fraction strings, deals without splits left out.
    splits = {"2006": [{"id": f"8800{n}", "properties": {"hs_deal_split_percentage": share, "hubspot_owner_id": owner},
                        "createdAt": iso(T0), "updatedAt": iso(T0), "archived": False}
                       for n, (share, owner) in enumerate((("0.6", "101"), ("0.4", "102")))]}
    return HubSpotDocsPortal(objects, pipelines=pipelines, owners=owners, associations=links, splits=splits)


def make_config(tmp: Path, url: str, portal: HubSpotDocsPortal, **extra: Any) -> Config:
    source = {"name": "hs", "type": "hubspot", "base_url": url, "access_token": portal.access_token,
              "lookback_minutes": 0, "rate_limit": {"requests_per_10s": 1000, "search_per_second": 50}, **extra}
    return parse_config({"store": {"path": str(tmp / "s.duckdb"), "state_dir": str(tmp / "state")},
                         "sources": [source]})


def fetch(store: Store, table: str, columns: str, order: str = "1") -> list[tuple[Any, ...]]:
    return store.fetchall(f"SELECT {columns} FROM {table} ORDER BY {order}")


DEAL_COLUMNS = ["dealname", "amount", "closedate", "createdate", "dealstage", "pipeline", "hubspot_owner_id",
                "hs_is_closed_won", "amount_in_home_currency", "hs_v2_date_entered_contractsent",
                "hs_date_entered_contractsent", CUSTOM[0], CUSTOM[59]]


def deal_rows(store: Store) -> list[tuple[Any, ...]]:
    return fetch(store, "raw_hs.deals", "id, archived, archived_at, " + ", ".join(DEAL_COLUMNS), "CAST(id AS BIGINT)")


def expected_deals(records: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [(r["id"], r["archived"], r.get("archivedAt"), *(r["properties"].get(c) for c in DEAL_COLUMNS))
            for r in sorted(records, key=lambda r: int(r["id"]))]


def test_extract_and_normalize_over_http(tmp_path: Path) -> None:
    portal = sample_portal()
    portal.fail_next(r"GET /crm/v3/objects/deals$", rate_limited("TEN_SECONDLY_ROLLING", retry_after="1"))
    portal.fail_next(r"POST /crm/v4/associations/deals/", rate_limited("SECONDLY"))  # no Retry-After: headers only
    portal.fail_next(r"GET /crm/v3/owners$", html_reply(502, "Bad Gateway"))
    with serve(portal) as (url, _):
        cfg = make_config(tmp_path, url, portal)
        store = open_store(cfg)
        try:
            first = sync_source(cfg, store, "hs", run=Run(job="sync"))
            for throttled in (r"GET /crm/v3/objects/deals$", r"POST /crm/v4/associations/deals/"):
                arrivals = portal.arrivals(throttled)
                assert arrivals[1] - arrivals[0] >= 0.95  # Retry-After: 1, or the SECONDLY policy's window
            assert first.api_calls["total"] == len(portal.calls)  # every call counted, throttled ones too
            assert first.api_calls["daily_max"] == 500_000  # from X-HubSpot-RateLimit-Daily(-Remaining)
            assert [w.split(":")[0] for w in first.warnings] == ["hubspot object feedback_submissions skipped"]
            assert "MISSING_SCOPES" in first.warnings[0]
            deals = portal.objects["deals"].records
            assert deal_rows(store) == expected_deals(deals)
            # deals are searched (37 a call here: 3 calls), properties in the body; only the archived listing's
            # long URL leaves properties to a batch read
            assert portal.calls_to(r"POST /crm/v3/objects/deals/search") == 3
            assert portal.calls_to(r"POST /crm/v3/objects/deals/batch/read") == 1
            assert_raw_side_tables(store)
            # Splits of the won deals, one call; the won deals the answer leaves out have none stored.
            assert portal.calls_to(r"POST /crm/v3/objects/deals/splits/batch/read") == 1
            assert store.fetchall("SELECT deal_id, hubspot_owner_id, hs_deal_split_percentage FROM raw_hs.deal_splits "
                                  "ORDER BY id") == [("2006", "101", "0.6"), ("2006", "102", "0.4")]

            # Incremental: 40 deals changed (two search pages of 37 + 3), one archived since; deal 2001 lost
            # its only company (its batch read input now errors in the 207), owner 102 left both teams.
            now = datetime.now(UTC) - timedelta(seconds=1)
            for changed in deals[:40]:
                props = changed["properties"]
                props.update(amount="4242.42", hs_lastmodifieddate=iso(now))
                if "amount_in_home_currency" in props:
                    props["amount_in_home_currency"] = "5303.025"
            deals[40].update(archived=True, archivedAt=iso(now))
            portal.associations["deals", "companies"]["2001"] = []
            del portal.owners[1]["teams"]
            purged = deals.pop(N_DEALS - 1)  # a GDPR delete: gone from lists, searches and archives alike
            second = sync_source(make_config(tmp_path, url, portal, delete_sweep_days=0), store, "hs",
                                 run=Run(job="sync"))
            assert second.records["deals"] == 42  # 40 changed, 1 archived, 1 hard-deleted
            assert portal.calls_to(r"POST /crm/v3/objects/deals/search") == 3 + 2 + 3  # + window + id sweep (37+37+4)
            assert [r for r in deal_rows(store) if r[0] != purged["id"]] == expected_deals(deals)
            assert store.fetchall("SELECT archived, hard_deleted, dealname FROM raw_hs.deals WHERE id = ?",
                                  [purged["id"]]) == [(True, True, None)]  # erased: only the id is kept
            assert store.fetchall("SELECT to_id FROM raw_hs.associations WHERE from_id = '2001' AND "
                                  "to_object = 'companies'") == []

            normalize(cfg, store, Run(job="normalize"))
            assert_normalized(store)
        finally:
            store.close()


def assert_raw_side_tables(store: Store) -> None:
    """Associations from 207 answers, owners with and without teams, pipeline stages as strings."""
    links = fetch(store, "raw_hs.associations", "from_object, from_id, to_object, to_id, association_type_id, "
                  "association_label", "1, 2, 3, 4, 5")
    deal_links_loaded = [r for r in links if r[0] == "deals"]
    expected = sorted(("deals", str(2001 + i), "companies", to_id, kind["typeId"], kind["label"])
                      for i in range(N_DEALS) for to_id, kinds in deal_links(i) for kind in kinds)  # live deals
    assert sorted(deal_links_loaded) == expected
    assert [r for r in links if r[0] != "deals"] == [
        ("calls", "601", "companies", "3001", 182, None), ("calls", "601", "deals", "2001", 206, None),
        ("meetings", "801", "companies", "3002", 188, None),
    ]
    assert fetch(store, "raw_hs.owners", "id, email, first_name, last_name, user_id, primary_team_id, archived") == [
        ("101", "ada@example.com", "Ada", "Byron", 9001, "7", False),
        ("102", "Bo@Example.com", "Bo", None, 9002, "8", False),
        ("103", "cy@example.com", "Cy", "Dee", 9003, None, False),
        ("104", "di@example.com", "Di", "Ess", 9004, None, False),
        ("105", "ex@example.com", "Ex", "Rep", None, "8", True),
    ]
    assert fetch(store, "raw_hs.deal_pipeline_stages", "pipeline_id, stage_id, label, display_order, is_closed, "
                 "probability", "1, 4") == [
        ("123456", "1234567", "Renewal due", 0, "false", "0.5"), ("123456", "1234568", "Renewed", 1, "true", "1"),
        *[("default", s, s.title(), n, str(s.startswith("closed")).lower(), p) for n, (s, p) in enumerate(zip(
            STAGES, ["0.2", "0.4", "0.6", "0.8", "0.9", "1.0", "0.0"], strict=True))],
    ]


def assert_normalized(store: Store) -> None:
    """Typed values in spm.* parsed from HubSpot's strings."""
    assert fetch(store, "spm.reps", "rep_id, name, email, team_id, is_active") == [
        ("hs:101", "Ada Byron", "ada@example.com", "hs:7", True),
        ("hs:102", "Bo", "Bo@Example.com", None, True),  # left its teams before the second run
        ("hs:103", "Cy Dee", "cy@example.com", None, True),
        ("hs:104", "Di Ess", "di@example.com", None, True),
        ("hs:105", "Ex Rep", "ex@example.com", "hs:8", False),
    ]
    assert fetch(store, "spm.teams", "team_id, name") == [("hs:7", "East"), ("hs:8", "West")]
    columns = ("opportunity_id, account_id, owner_rep_id, stage, stage_category, is_closed, is_won, amount, currency, "
               "amount_rc, deal_type, created_at, close_date, is_deleted")
    rows = {r[0]: r for r in fetch(store, "spm.opportunities", columns)}
    assert len(rows) == N_DEALS + 2
    naive = T0.replace(tzinfo=None)
    assert [rows[f"hs:{n}"] for n in (2001, 2007, 2008, 2041, 2042)] == [
        # no hs_is_closed: closed-ness from the stage; EUR through amount_in_home_currency; company link gone
        ("hs:2001", None, "hs:101", "appointmentscheduled", "prospecting", False, False, 4242.42, "EUR", 5303.025,
         "new", naive, date(2026, 2, 1), False),
        ("hs:2007", "hs:3003", "hs:103", "closedlost", "closed_lost", True, False, 4242.42, "EUR", 5303.025, "new",
         naive + timedelta(hours=6), date(2026, 2, 7), False),
        # a stage of another pipeline: no category; created from an epoch-ms string
        ("hs:2008", "hs:3004", None, "1234567", None, False, False, 4242.42, "USD", 4242.42, "expansion",
         naive + timedelta(hours=7), date(2026, 2, 8), False),
        ("hs:2041", "hs:3001", "hs:101", "closedwon", "closed_won", True, True, 1400.0, "USD", 1400.0, "new",
         naive + timedelta(hours=40), date(2026, 3, 13), True),  # archived since the first run
        ("hs:2042", "hs:3002", "hs:102", "closedlost", "closed_lost", True, False, 1410.5, "USD", 1410.5,
         "expansion", naive + timedelta(hours=41), date(2026, 3, 14), False),
    ]
    assert fetch(store, "spm.stage_events", "opportunity_id, stage, stage_category, entered_at", "4")[:2] == [
        ("hs:2005", "contractsent", "proposal", naive + timedelta(days=1, hours=4)),  # hs_date_entered_ (old)
        ("hs:2006", "contractsent", "proposal", naive + timedelta(days=1, hours=5)),  # hs_v2_, epoch ms
    ]
    assert fetch(store, "spm.accounts", "account_id, name, owner_rep_id, created_at") == [
        (f"hs:{3001 + n}", f"Company {n}", ["hs:101", "hs:102"][n % 2], naive) for n in range(4)
    ]
    assert fetch(store, "spm.leads", "lead_id, owner_rep_id, created_at, status, is_converted, converted_at") == [
        ("hs:501", "hs:101", datetime(2026, 1, 10, 8), "IN_PROGRESS", True, datetime(2026, 1, 16, 8)),
        ("hs:502", "hs:102", datetime(2026, 1, 12, 8, 0, 0, 250_000), None, False, None),
    ]
    columns = "activity_id, owner_rep_id, kind, occurred_at, is_completed, account_id, opportunity_id"
    assert fetch(store, "spm.activities", columns) == [
        ("hs:601", "hs:101", "call", datetime(2026, 1, 7, 10), True, "hs:3001", "hs:2001"),
        ("hs:602", "hs:102", "call", datetime(2026, 1, 7, 10), False, None, None),
        ("hs:701", "hs:103", "email", datetime(2026, 1, 8, 11), True, None, None),
        ("hs:801", "hs:101", "meeting", datetime(2026, 1, 9, 12, 30, 0, 500_000), True, "hs:3002", None),
        ("hs:901", None, "task", datetime(2026, 1, 10), False, None, None),
    ]
    assert fetch(store, "spm.quotas", "owner, period_start, period_end, measure, amount_rc") == [
        ("hs:101", date(2026, 1, 1), date(2026, 2, 1), "revenue", 50000.0),
        ("hs:102", date(2026, 1, 1), date(2026, 2, 1), "revenue", 12000.5),
    ]


def test_dated_api_paths(tmp_path: Path) -> None:
    """`api_version: 2026-03` reads through HubSpot's dated paths only, with the same raw rows."""
    portal = sample_portal()
    with serve(portal) as (url, _):
        cfg = make_config(tmp_path, url, portal, api_version="2026-03")
        with open_store(cfg) as store:
            result = sync_source(cfg, store, "hs", run=Run(job="sync"), objects=["deals"])
            assert result.warnings == []
            assert deal_rows(store) == expected_deals(portal.objects["deals"].records)
            links = sum(len(kinds) for i in range(N_DEALS) for _, kinds in deal_links(i))
            assert store.fetchone("SELECT count(*) FROM raw_hs.associations")[0] == links
    assert {c.split(" ")[-1].split("/2026-03/")[0] for c in portal.calls} == {
        "/crm/objects", "/crm/properties", "/crm/pipelines", "/crm/associations", "/deal-splits"}
