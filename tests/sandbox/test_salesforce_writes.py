"""Salesforce emulator, write side: sObject rows, sObject Collections, upserts, org mutations.

Every write goes through the real simple-salesforce (or its session for raw collection calls) over
HTTPS; org-level mutations (`sandbox.org.update/delete/hard_delete`) are then observed through
query/queryAll exactly as a sync connector would see them.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest, SalesforceResourceNotFound

from spm_sync.sandbox.dataset import generate
from spm_sync.sandbox.salesforce import SalesforceSandbox
from spm_sync.sandbox.salesforce.ids import make_id

DATASET = generate(7, "small", as_of=date(2025, 6, 15))
START = datetime(2025, 6, 15, 12, 0, 0, tzinfo=UTC)
COLLECTIONS = "/services/data/v59.0/composite/sobjects"
NEVER_ISSUED = make_id("005", 99_999)


class Clock:
    """A settable clock so SystemModstamp values are exact."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sandbox(clock: Clock) -> Iterator[SalesforceSandbox]:
    with SalesforceSandbox(DATASET, clock=clock) as sb:
        yield sb


@pytest.fixture
def sf(sandbox: SalesforceSandbox) -> Salesforce:
    session = requests.Session()
    session.verify = sandbox.ca_bundle
    session.trust_env = False
    return Salesforce(instance_url=sandbox.instance_url, session_id=sandbox.session_id, session=session)


def collections(sf: Salesforce, method: str, records: list[dict[str, object]], all_or_none: bool = False,
                path: str = COLLECTIONS) -> list[dict[str, object]]:
    return sf.restful(path.removeprefix("/services/data/v59.0/"), method=method,
                      json={"allOrNone": all_or_none, "records": records})


def user_ids(sandbox: SalesforceSandbox) -> list[str]:
    return sandbox.org.ids("User")


# ---- single records --------------------------------------------------------------------------------

def test_sobject_get_update_create_delete(sandbox: SalesforceSandbox, sf: Salesforce, clock: Clock) -> None:
    user = user_ids(sandbox)[0]
    record = sf.User.get(user)
    assert record["Id"] == user and record["Email"] == DATASET.reps["email"][0].as_py()
    assert record["attributes"]["url"] == f"/services/data/v59.0/sobjects/User/{user}"
    clock.now = START + timedelta(minutes=5)
    assert sf.User.update(user, {"Quota_Attainment__c": 81.25, "Calls_This_Month__c": 42}) == 204
    after = sf.User.get(user)
    assert (after["Quota_Attainment__c"], after["Calls_This_Month__c"]) == (81.25, 42.0)
    assert after["SystemModstamp"] == after["LastModifiedDate"] == "2025-06-15T12:05:00.000+0000"
    created = sf.Account.create({"Name": "Acme Sandbox", "OwnerId": user})
    assert created["success"] is True and created["id"].startswith("001")
    assert sf.Account.get(created["id"])["CreatedDate"] == "2025-06-15T12:05:00.000+0000"
    assert sf.Account.delete(created["id"]) == 204
    with pytest.raises(SalesforceResourceNotFound) as err:
        sf.Account.get(created["id"])
    assert err.value.content == [{"message": "entity is deleted", "errorCode": "ENTITY_IS_DELETED"}]
    with pytest.raises(SalesforceResourceNotFound) as missing:
        sf.Account.get("001Hs00000ZZZZZAAA")
    assert missing.value.content == [{"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}]


def test_single_record_errors(sandbox: SalesforceSandbox, sf: Salesforce) -> None:
    opp = sandbox.org.ids("Opportunity")[0]
    with pytest.raises(SalesforceMalformedRequest) as readonly:
        sf.Opportunity.update(opp, {"IsWon": True})
    assert readonly.value.content == [{
        "message": "Unable to create/update fields: IsWon. Please check the security settings of this field and "
                   "verify that it is read/write for your profile or permission set.",
        "errorCode": "INVALID_FIELD_FOR_INSERT_UPDATE", "fields": ["IsWon"],
    }]
    with pytest.raises(SalesforceMalformedRequest) as bad_type:
        sf.Opportunity.update(opp, {"CloseDate": "next tuesday"})
    assert bad_type.value.content[0]["errorCode"] == "JSON_PARSER_ERROR"
    with pytest.raises(SalesforceMalformedRequest) as missing:
        sf.Opportunity.create({"Name": "No stage"})
    assert missing.value.content == [{"message": "Required fields are missing: [StageName, CloseDate]",
                                      "errorCode": "REQUIRED_FIELD_MISSING", "fields": ["StageName", "CloseDate"]}]


def test_upsert_by_external_id(sandbox: SalesforceSandbox, sf: Salesforce) -> None:
    rep = user_ids(sandbox)[0]
    assert sf.Rep_KPI__c.upsert("Rep_Period_Key__c/r1-2025-06", {"Rep__c": rep, "Period__c": "2025-06"}) == 201
    assert sf.Rep_KPI__c.upsert("Rep_Period_Key__c/r1-2025-06", {"Calls__c": 12}) == 200
    rows = sf.query("SELECT Rep_Period_Key__c, Rep__c, Period__c, Calls__c FROM Rep_KPI__c")["records"]
    assert [(r["Rep_Period_Key__c"], r["Rep__c"], r["Period__c"], r["Calls__c"]) for r in rows] == [
        ("r1-2025-06", rep, "2025-06", 12.0)]
    found = sf.Rep_KPI__c.get_by_custom_id("Rep_Period_Key__c", "R1-2025-06")  # case-insensitive, as Salesforce
    assert (found["Rep_Period_Key__c"], found["Calls__c"]) == ("r1-2025-06", 12.0)
    with pytest.raises(SalesforceResourceNotFound):
        sf.Rep_KPI__c.get_by_custom_id("Rep_Period_Key__c", "r2-2025-06")


# ---- sObject Collections ---------------------------------------------------------------------------

def test_collection_update_per_record_results(sandbox: SalesforceSandbox, sf: Salesforce) -> None:
    users = user_ids(sandbox)
    sandbox.org.fail_records([users[2]], "Attainment must be reviewed")
    results = collections(sf, "PATCH", [
        {"attributes": {"type": "User"}, "Id": users[0], "Win_Rate__c": 40.0},
        {"attributes": {"type": "User"}, "Id": users[1], "Name": "Renamed"},
        {"attributes": {"type": "User"}, "Id": users[2], "Win_Rate__c": 50.0},
        {"attributes": {"type": "User"}, "Id": NEVER_ISSUED, "Win_Rate__c": 60.0},
        {"attributes": {"type": "User"}, "Id": "005Hs00000ZZZZZAAA", "Win_Rate__c": 60.0},
    ])
    assert results == [
        {"id": users[0], "success": True, "errors": []},
        {"id": users[1], "success": False, "errors": [{
            "statusCode": "INVALID_FIELD_FOR_INSERT_UPDATE",
            "message": "Unable to create/update fields: Name. Please check the security settings of this field and "
                       "verify that it is read/write for your profile or permission set.",
            "fields": ["Name"]}]},
        {"id": users[2], "success": False, "errors": [{
            "statusCode": "FIELD_CUSTOM_VALIDATION_EXCEPTION", "message": "Attainment must be reviewed",
            "fields": []}]},
        {"id": NEVER_ISSUED, "success": False, "errors": [{
            "statusCode": "INVALID_CROSS_REFERENCE_KEY", "message": "invalid cross reference id", "fields": []}]},
        {"id": "005Hs00000ZZZZZAAA", "success": False, "errors": [{
            "statusCode": "MALFORMED_ID", "message": "User ID: id value of incorrect type: 005Hs00000ZZZZZAAA",
            "fields": ["Id"]}]},
    ]
    assert sf.User.get(users[0])["Win_Rate__c"] == 40.0
    assert sf.User.get(users[2])["Win_Rate__c"] is None


def test_collection_all_or_none_rolls_back(sandbox: SalesforceSandbox, sf: Salesforce) -> None:
    users = user_ids(sandbox)
    results = collections(sf, "PATCH", [
        {"attributes": {"type": "User"}, "Id": users[0], "Win_Rate__c": 40.0},
        {"attributes": {"type": "User"}, "Id": users[1], "IsWon": True},
    ], all_or_none=True)
    assert results[0] == {"id": users[0], "success": False, "errors": [{
        "statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
        "message": "Record rolled back because not all records were valid and the request was using AllOrNone header",
        "fields": []}]}
    assert results[1]["success"] is False and results[1]["errors"][0]["statusCode"] == "INVALID_FIELD"
    assert sf.User.get(users[0])["Win_Rate__c"] is None


def test_collection_limit_is_200(sandbox: SalesforceSandbox, sf: Salesforce) -> None:
    user = user_ids(sandbox)[0]
    records = [{"attributes": {"type": "User"}, "Id": user, "Calls_This_Month__c": i} for i in range(201)]
    with pytest.raises(SalesforceMalformedRequest) as err:
        collections(sf, "PATCH", records)
    assert err.value.content == [{"message": "record limit reached. cannot submit more than 200 records into this call",
                                  "errorCode": "EXCEEDED_ID_LIMIT"}]
    assert all(r["success"] for r in collections(sf, "PATCH", records[:200]))
    assert sf.User.get(user)["Calls_This_Month__c"] == 199.0
    assert sandbox.stats()["by_endpoint"]["composite_sobjects"] == 2


def test_collection_lock_failures_then_success(sandbox: SalesforceSandbox, sf: Salesforce) -> None:
    user = user_ids(sandbox)[0]
    sandbox.org.fail_requests(2)
    record = [{"attributes": {"type": "User"}, "Id": user, "Revenue_Won__c": 1234.5}]
    for _ in range(2):
        (result,) = collections(sf, "PATCH", record)
        assert result["success"] is False and result["errors"][0]["statusCode"] == "UNABLE_TO_LOCK_ROW"
    assert collections(sf, "PATCH", record) == [{"id": user, "success": True, "errors": []}]
    assert sf.User.get(user)["Revenue_Won__c"] == 1234.5


def test_collection_create_and_upsert(sandbox: SalesforceSandbox, sf: Salesforce) -> None:
    rep = user_ids(sandbox)[3]
    created = collections(sf, "POST", [
        {"attributes": {"type": "Rep_KPI__c"}, "Name": "k1", "Rep_Period_Key__c": "a-2025-06", "Rep__c": rep},
        {"attributes": {"type": "Rep_KPI__c"}, "Name": "k2", "Rep__c": "001Hs0000000001IAA"},
    ])
    assert created[0]["success"] is True and created[0]["id"].startswith("a0Y")
    assert created[1] == {"success": False, "errors": [{
        "statusCode": "FIELD_INTEGRITY_EXCEPTION", "message": "Rep: id value of incorrect type: 001Hs0000000001IAA",
        "fields": ["Rep__c"]}]}
    upserted = collections(sf, "PATCH", [
        {"attributes": {"type": "Rep_KPI__c"}, "Rep_Period_Key__c": "a-2025-06", "Win_Rate__c": 55.0},
        {"attributes": {"type": "Rep_KPI__c"}, "Rep_Period_Key__c": "b-2025-06", "Win_Rate__c": 45.0},
    ], path=f"{COLLECTIONS}/Rep_KPI__c/Rep_Period_Key__c")
    assert [(r["success"], r["created"]) for r in upserted] == [(True, False), (True, True)]
    assert upserted[0]["id"] == created[0]["id"]
    keys = sf.query("SELECT Rep_Period_Key__c, Win_Rate__c FROM Rep_KPI__c ORDER BY Rep_Period_Key__c")["records"]
    assert [(r["Rep_Period_Key__c"], r["Win_Rate__c"]) for r in keys] == [("a-2025-06", 55.0), ("b-2025-06", 45.0)]


# ---- org mutations as a sync connector sees them ------------------------------------------------

def test_stage_change_bumps_modstamp_and_appends_history(sandbox: SalesforceSandbox, sf: Salesforce,
                                                         clock: Clock) -> None:
    opp = next(r for r in sf.query("SELECT Id, StageName FROM Opportunity WHERE IsClosed = false")["records"])
    before = sf.query(f"SELECT COUNT() FROM OpportunityHistory WHERE OpportunityId = '{opp['Id']}'")["totalSize"]
    clock.now = START + timedelta(hours=1, microseconds=999)
    sandbox.org.update("Opportunity", opp["Id"], {"StageName": "Closed Won"})
    changed = sf.query("SELECT Id, StageName, IsClosed, IsWon, Probability, SystemModstamp FROM Opportunity "
                       "WHERE SystemModstamp >= 2025-06-15T13:00:00Z")["records"]
    assert [(r["Id"], r["StageName"], r["IsClosed"], r["IsWon"], r["Probability"], r["SystemModstamp"])
            for r in changed] == [(opp["Id"], "Closed Won", True, True, 100.0, "2025-06-15T13:00:00.000+0000")]
    history = sf.query(f"SELECT StageName, CreatedDate FROM OpportunityHistory WHERE OpportunityId = '{opp['Id']}' "
                       "ORDER BY CreatedDate DESC")
    assert history["totalSize"] == before + 1
    assert (history["records"][0]["StageName"], history["records"][0]["CreatedDate"]) == (
        "Closed Won", "2025-06-15T13:00:00.000+0000")


def test_soft_and_hard_delete_visibility(sandbox: SalesforceSandbox, sf: Salesforce, clock: Clock) -> None:
    first, second = sandbox.org.ids("Lead")[:2]
    clock.now = START + timedelta(days=1)
    sandbox.org.delete("Lead", first)
    sandbox.org.hard_delete("Lead", second)
    total = DATASET.leads.num_rows
    assert sf.query("SELECT COUNT() FROM Lead")["totalSize"] == total - 2
    every = sf.query_all("SELECT Id, IsDeleted, SystemModstamp FROM Lead WHERE SystemModstamp >= 2025-06-16T00:00:00Z",
                         include_deleted=True)["records"]
    assert [(r["Id"], r["IsDeleted"], r["SystemModstamp"]) for r in every] == [
        (first, True, "2025-06-16T12:00:00.000+0000")]
    assert sf.query("SELECT COUNT() FROM Lead", include_deleted=True)["totalSize"] == total - 1
    sandbox.org.undelete("Lead", first)
    assert sf.query("SELECT COUNT() FROM Lead")["totalSize"] == total - 1
