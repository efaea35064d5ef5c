"""Salesforce emulator, read side: the real simple-salesforce over HTTPS against the sandbox.

Covers versions/resources, query + queryAll + locator paging, batch sizes, SOQL errors, describe
and If-Modified-Since, limits and the daily budget, sessions and OAuth refresh, faults, Bulk 2.0.
"""

from __future__ import annotations

import csv
import io
import re
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime

import pyarrow.compute as pc
import pytest
import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (
    SalesforceExpiredSession,
    SalesforceGeneralError,
    SalesforceMalformedRequest,
    SalesforceRefusedRequest,
)

from spm_sync.sandbox.dataset import generate
from spm_sync.sandbox.faults import FaultKind
from spm_sync.sandbox.salesforce import SalesforceSandbox
from tests.clock import ManualClock

AS_OF = date(2025, 6, 15)
DATASET = generate(7, "small", as_of=AS_OF)
OPPS = DATASET.opportunities
N_OPPS = OPPS.num_rows
N_DELETED = int(pc.sum(OPPS["is_deleted"]).as_py())
NOW = datetime(2025, 6, 15, 12, 0, 0, tzinfo=UTC)


@pytest.fixture
def sandbox() -> Iterator[SalesforceSandbox]:
    with SalesforceSandbox(DATASET, bulk_delay_s=0.05, clock=lambda: NOW) as sb:
        yield sb


def client(sb: SalesforceSandbox, session_id: str | None = None) -> Salesforce:
    session = requests.Session()
    session.verify = sb.ca_bundle
    session.trust_env = False
    return Salesforce(instance_url=sb.instance_url, session_id=session_id or sb.session_id, session=session)


@pytest.fixture
def sf(sandbox: SalesforceSandbox) -> Salesforce:
    return client(sandbox)


def raw(sf: Salesforce, method: str, path: str, **kwargs: object) -> requests.Response:
    """A request with the client's session and auth headers but no error mapping."""
    return sf.session.request(method, f"https://{sf.sf_instance}{path}", headers=sf.headers, **kwargs)


# ---- discovery ---------------------------------------------------------------------------------

def test_versions_and_resources(sf: Salesforce) -> None:
    listed = raw(sf, "GET", "/services/data/").json()
    assert {"label": "Winter '24", "url": "/services/data/v59.0", "version": "59.0"} in listed
    assert {"label": "Summer '24", "url": "/services/data/v61.0", "version": "61.0"} in listed
    resources = raw(sf, "GET", "/services/data/v59.0/").json()
    assert resources["query"] == "/services/data/v59.0/query"
    assert resources["sobjects"] == "/services/data/v59.0/sobjects"
    missing = raw(sf, "GET", "/services/data/v99.0/limits")
    assert missing.status_code == 404
    assert missing.json() == [{"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}]


# ---- query and paging ----------------------------------------------------------------------------

def test_query_record_shape(sf: Salesforce) -> None:
    first = OPPS.slice(0, 1).to_pylist()[0]
    result = sf.query("SELECT Id, Name, Amount, CloseDate, CreatedDate, IsDeleted, CurrencyIsoCode "
                      "FROM Opportunity ORDER BY Id LIMIT 1")
    assert result["totalSize"] == 1 and result["done"] is True
    record = dict(result["records"][0])
    assert dict(record.pop("attributes")) == {
        "type": "Opportunity", "url": "/services/data/v59.0/sobjects/Opportunity/006Hs0000000001IAA",
    }
    assert record == {
        "Id": "006Hs0000000001IAA",
        "Name": first["name"],
        "Amount": first["amount"],
        "CloseDate": first["close_date"].isoformat(),
        "CreatedDate": first["created_at"].strftime("%Y-%m-%dT%H:%M:%S.000+0000"),
        "IsDeleted": first["is_deleted"],
        "CurrencyIsoCode": first["currency"],
    }


def test_query_pages_with_batch_size_until_done(sandbox: SalesforceSandbox, sf: Salesforce) -> None:
    live = N_OPPS - N_DELETED
    page = sf.query("SELECT Id FROM Opportunity", headers={"Sforce-Query-Options": "batchSize=200"})
    seen = [r["Id"] for r in page["records"]]
    assert page["totalSize"] == live and page["done"] is False and len(seen) == 200
    assert re.fullmatch(r"/services/data/v59\.0/query/01g[A-Za-z0-9]{15}-200", page["nextRecordsUrl"])
    while not page["done"]:
        page = sf.query_more(page["nextRecordsUrl"], identifier_is_url=True)
        seen += [r["Id"] for r in page["records"]]
        assert page["totalSize"] == live
    assert "nextRecordsUrl" not in page
    assert len(seen) == live == len(set(seen))
    assert sandbox.stats()["by_endpoint"] == {"query": 1, "query_more": (live - 1) // 200}


@pytest.mark.parametrize(("header", "first_page"), [
    (None, 393), ("batchSize=100", 200), ("batchSize=300", 300), ("batchSize=5000", 393),
])
def test_batch_size_is_clamped_to_documented_range(sf: Salesforce, header: str | None, first_page: int) -> None:
    assert N_OPPS - N_DELETED == 393
    headers = {"Sforce-Query-Options": header} if header else {}
    assert len(sf.query("SELECT Id FROM Opportunity", headers=headers)["records"]) == first_page


def test_query_all_sees_soft_deleted_rows(sf: Salesforce) -> None:
    live = sf.query_all("SELECT Id, IsDeleted FROM Opportunity")["records"]
    every = sf.query_all("SELECT Id, IsDeleted FROM Opportunity", include_deleted=True)["records"]
    assert (len(live), len(every)) == (N_OPPS - N_DELETED, N_OPPS)
    assert sum(r["IsDeleted"] for r in every) == N_DELETED == 7
    assert not any(r["IsDeleted"] for r in live)


def test_query_all_pages_through_its_own_resource(sf: Salesforce) -> None:
    first = sf.query("SELECT Id FROM Opportunity", include_deleted=True,
                     headers={"Sforce-Query-Options": "batchSize=200"})
    assert first["nextRecordsUrl"].startswith("/services/data/v59.0/queryAll/01g")
    ids = [r["Id"] for r in sf.query_all_iter("SELECT Id FROM Opportunity", include_deleted=True)]
    assert len(ids) == N_OPPS


def test_count_and_aggregate(sf: Salesforce) -> None:
    closed = sum(r["stage"] in ("closed_won", "closed_lost") and not r["is_deleted"] for r in OPPS.to_pylist())
    assert sf.query("SELECT COUNT() FROM Opportunity WHERE IsClosed = true")["totalSize"] == closed
    agg = sf.query("SELECT COUNT(Id) FROM Lead")
    assert agg["totalSize"] == 1
    assert dict(agg["records"][0]) == {"attributes": {"type": "AggregateResult"}, "expr0": DATASET.leads.num_rows}


def test_modstamp_filter_and_order(sf: Salesforce) -> None:
    cutoff = datetime(2025, 3, 1, tzinfo=UTC)
    expected = sorted(
        (r["updated_at"].replace(microsecond=0), r["opportunity_id"])
        for r in OPPS.to_pylist() if r["updated_at"] >= cutoff and not r["is_deleted"]
    )
    got = sf.query_all("SELECT Id, SystemModstamp FROM Opportunity WHERE SystemModstamp >= 2025-03-01T00:00:00Z "
                       "ORDER BY SystemModstamp ASC, Id ASC")["records"]
    assert [r["SystemModstamp"] for r in got] == [t.strftime("%Y-%m-%dT%H:%M:%S.000+0000") for t, _ in expected]
    offset_form = sf.query("SELECT COUNT() FROM Opportunity WHERE SystemModstamp >= 2025-03-01T01:00:00+01:00")
    assert offset_form["totalSize"] == len(expected)


# ---- SOQL errors ------------------------------------------------------------------------------------

def test_unknown_field_is_invalid_field(sf: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.query("SELECT Id, Foo FROM Account")
    assert err.value.status == 400
    assert err.value.content == [{
        "message": "\nSELECT Id, Foo FROM Account\n           ^\nERROR at Row:1:Column:12\nNo such column 'Foo' on "
                   "entity 'Account'. If you are attempting to use a custom field, be sure to append the '__c' after "
                   "the custom field name. Please reference your WSDL or the describe call for the appropriate names.",
        "errorCode": "INVALID_FIELD",
    }]


@pytest.mark.parametrize(("soql", "code", "detail"), [
    ("SELECT Id FROM Widget__c", "INVALID_TYPE", "sObject type 'Widget__c' is not supported."),
    ("SELECT Id FORM Account", "MALFORMED_QUERY", "unexpected token: 'FORM'"),
    ("SELECT Id FROM Account WHERE Name = 'a' AND Name = 'b' OR Name = 'c'", "MALFORMED_QUERY",
     "unexpected token: 'OR'"),
    ("SELECT Id FROM Opportunity WHERE CloseDate > '2025-01-01'", "INVALID_FIELD",
     "value of filter criterion for field 'CloseDate' must be of type date and should not be enclosed in quotes"),
    ("SELECT Id FROM Opportunity WHERE SystemModstamp > 2025-01-01", "INVALID_FIELD",
     "value of filter criterion for field 'SystemModstamp' must be of type dateTime and should not be enclosed"),
    ("SELECT Id FROM Opportunity WHERE OwnerId = 'nope'", "INVALID_QUERY_FILTER_OPERATOR", "invalid ID field: nope"),
    ("SELECT Id FROM NPS_Response__c WHERE Comment__c = 'x'", "INVALID_FIELD",
     "field 'Comment__c' can not be filtered in a query call"),
])
def test_refused_queries(sf: Salesforce, soql: str, code: str, detail: str) -> None:
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.query(soql)
    (body,) = err.value.content
    assert body["errorCode"] == code
    assert detail in body["message"]


# ---- describe ----------------------------------------------------------------------------------------

def test_describe_global_and_object(sf: Salesforce) -> None:
    described = sf.describe()
    assert described["maxBatchSize"] == 200
    prefixes = {o["name"]: o["keyPrefix"] for o in described["sobjects"]}
    assert prefixes["Opportunity"] == "006" and prefixes["NPS_Response__c"] == "a0X"
    assert prefixes["Rep_KPI__c"] == "a0Y" and prefixes["ForecastingQuota"] == "0J9"
    fields = {f["name"]: f for f in sf.User.describe()["fields"]}
    attainment = fields["Quota_Attainment__c"]
    assert (attainment["type"], attainment["custom"], attainment["updateable"]) == ("percent", True, True)
    assert (attainment["precision"], attainment["scale"]) == (7, 2)
    assert (fields["Name"]["updateable"], fields["Id"]["type"]) == (False, "id")
    kpi = {f["name"]: f for f in sf.Rep_KPI__c.describe()["fields"]}
    assert (kpi["Rep_Period_Key__c"]["externalId"], kpi["Rep_Period_Key__c"]["unique"]) == (True, True)
    opp = {f["name"]: f for f in sf.Opportunity.describe()["fields"]}
    assert [p["value"] for p in opp["StageName"]["picklistValues"]][-2:] == ["Closed Won", "Closed Lost"]
    reasons = {n: (opp[n]["type"], opp[n]["custom"], [p["value"] for p in opp[n]["picklistValues"]])
               for n in ("Loss_Reason__c", "Won_Reason__c", "LeadSource")}
    assert reasons["Loss_Reason__c"] == (
        "picklist", True, ["Price", "Competitor", "No decision", "Timing", "Product fit", "Other"])
    assert reasons["Won_Reason__c"][:2] == ("picklist", True) and reasons["LeadSource"][:2] == ("picklist", False)
    lead = {f["name"]: f for f in sf.Lead.describe()["fields"]}
    assert [p["value"] for p in lead["LeadSource"]["picklistValues"]] == reasons["LeadSource"][2]
    survey = sf.Rep_Survey__c.describe()
    assert (survey["custom"], survey["keyPrefix"]) == (True, "a0Z")
    fields = {f["name"]: f["type"] for f in survey["fields"]}
    assert {k: fields[k] for k in ("Rep__c", "Score__c", "Topic__c", "Comment__c", "SubmittedAt__c")} == {
        "Rep__c": "reference", "Score__c": "double", "Topic__c": "picklist", "Comment__c": "textarea",
        "SubmittedAt__c": "datetime"}
    address = {f["name"]: f for f in sf.Account.describe()["fields"]}
    assert address["BillingAddress"]["type"] == "address"
    assert address["BillingCity"]["compoundFieldName"] == "BillingAddress"


def test_reasons_sources_and_surveys_are_the_data_sets(sf: Salesforce) -> None:
    opps = OPPS.to_pylist()
    lost = Counter(o["loss_reason"] for o in opps if o["stage"] == "closed_lost" and not o["is_deleted"])
    rows = sf.query_all("SELECT Loss_Reason__c FROM Opportunity WHERE StageName = 'Closed Lost'")["records"]
    assert Counter(r["Loss_Reason__c"] for r in rows) == lost
    won = sf.query("SELECT Won_Reason__c, LeadSource FROM Opportunity WHERE IsWon = true LIMIT 5")["records"]
    assert all(r["Won_Reason__c"] and r["LeadSource"] for r in won)
    leads = sf.query("SELECT LeadSource FROM Lead LIMIT 200")["records"]
    assert len({r["LeadSource"] for r in leads}) > 1
    surveys = sf.query_all("SELECT Rep__c, Score__c, Topic__c, Comment__c, SubmittedAt__c FROM Rep_Survey__c")
    assert surveys["totalSize"] == DATASET.rep_surveys.num_rows
    assert sorted(r["Score__c"] for r in surveys["records"]) == sorted(DATASET.rep_surveys["score"].to_pylist())
    whos = sf.query("SELECT COUNT() FROM Task WHERE WhoId != null")["totalSize"]
    assert whos == DATASET.lead_activities.num_rows


def test_describe_if_modified_since(sf: Salesforce) -> None:
    path = "/services/data/v59.0/sobjects/Opportunity/describe"
    fresh = raw(sf, "GET", path)
    assert fresh.status_code == 200
    last_modified = fresh.headers["Last-Modified"]
    unchanged = sf.session.get(f"https://{sf.sf_instance}{path}",
                               headers={**sf.headers, "If-Modified-Since": last_modified})
    assert (unchanged.status_code, unchanged.content) == (304, b"")
    older = sf.session.get(f"https://{sf.sf_instance}{path}",
                           headers={**sf.headers, "If-Modified-Since": "Mon, 01 Jan 2018 00:00:00 GMT"})
    assert older.status_code == 200 and older.json()["name"] == "Opportunity"


# ---- limits, sessions, faults ------------------------------------------------------------------------

def test_limit_header_and_daily_budget() -> None:
    with SalesforceSandbox(DATASET, daily_api_limit=3) as sb:
        sf = client(sb)
        sf.query("SELECT Id FROM User")
        assert sf.api_usage["api-usage"].used == 1 and sf.api_usage["api-usage"].total == 3
        limits = sf.limits()
        assert limits["DailyApiRequests"] == {"Max": 3, "Remaining": 1}
        sf.query("SELECT Id FROM User")
        with pytest.raises(SalesforceRefusedRequest) as err:
            sf.query("SELECT Id FROM User")
        assert err.value.status == 403
        assert err.value.content == [{"message": "TotalRequests Limit exceeded.",
                                      "errorCode": "REQUEST_LIMIT_EXCEEDED"}]


def test_bad_session_and_oauth_refresh(sandbox: SalesforceSandbox) -> None:
    with pytest.raises(SalesforceExpiredSession) as err:
        client(sandbox, session_id="00D!bogus").query("SELECT Id FROM User")
    assert err.value.status == 401
    assert err.value.content == [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
    sf = client(sandbox)
    sandbox.org.expire_session()
    with pytest.raises(SalesforceExpiredSession):
        sf.query("SELECT Id FROM User")
    username = DATASET.reps["email"][0].as_py()
    token = requests.post(f"{sandbox.instance_url}/services/oauth2/token", verify=sandbox.ca_bundle, data={
        "grant_type": "password", "client_id": "cid", "client_secret": "cs",
        "username": username, "password": sandbox.org.password + "TOKEN",
    })
    assert token.status_code == 200 and token.json()["instance_url"] == sandbox.instance_url
    assert client(sandbox, token.json()["access_token"]).query("SELECT COUNT() FROM User")["totalSize"] == 10
    bad = requests.post(f"{sandbox.instance_url}/services/oauth2/token", verify=sandbox.ca_bundle,
                        data={"grant_type": "password", "username": username, "password": "wrong"})
    assert (bad.status_code, bad.json()) == (400, {"error": "invalid_grant",
                                                   "error_description": "authentication failure"})


def test_jwt_bearer_grant(sandbox: SalesforceSandbox) -> None:
    import jwt

    username = next(r["email"] for r in DATASET.reps.to_pylist()[1:] if r["is_active"])
    assertion = jwt.encode({"iss": "cid", "sub": username, "aud": "https://login.salesforce.com",
                            "exp": int(time.time()) + 60}, "k" * 32, algorithm="HS256")
    token = requests.post(f"{sandbox.instance_url}/services/oauth2/token", verify=sandbox.ca_bundle, data={
        "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": assertion,
    })
    assert token.status_code == 200
    assert sandbox.org.token_valid(token.json()["access_token"])
    assert sandbox.stats()["by_endpoint"] == {"oauth_token": 1}
    left = next(r["email"] for r in DATASET.reps.to_pylist() if not r["is_active"])
    refused = requests.post(f"{sandbox.instance_url}/services/oauth2/token", verify=sandbox.ca_bundle, data={
        "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
        "assertion": jwt.encode({"sub": left, "exp": int(time.time()) + 60}, "k" * 32, algorithm="HS256"),
    })
    assert refused.json() == {"error": "invalid_grant", "error_description": "authentication failure"}


def test_injected_faults_are_salesforce_shaped(sandbox: SalesforceSandbox, sf: Salesforce) -> None:
    sandbox.faults.inject(FaultKind.SERVER_ERROR, status=503)
    with pytest.raises(SalesforceGeneralError) as err:
        sf.query("SELECT Id FROM User")
    assert err.value.status == 503
    assert err.value.content[0]["errorCode"] == "SERVER_UNAVAILABLE"
    sandbox.faults.inject(FaultKind.THROTTLE)
    with pytest.raises(SalesforceRefusedRequest) as err2:
        sf.query("SELECT Id FROM User")
    assert err2.value.content == [{"message": "ConcurrentPerOrgLongTxn Limit exceeded.",
                                   "errorCode": "REQUEST_LIMIT_EXCEEDED"}]
    assert sf.query("SELECT COUNT() FROM User")["totalSize"] == 10
    assert sandbox.faults.injected() == {"server_error": 1, "throttle": 1}
    assert sandbox.stats() == {"total": 3, "by_endpoint": {"query": 3}}


# ---- Bulk API 2.0 ----------------------------------------------------------------------------------

def test_bulk_query_to_completion_with_locator_paging(sandbox: SalesforceSandbox, sf: Salesforce) -> None:
    pages = list(sf.bulk2.Opportunity.query(
        "SELECT Id, Amount, IsWon, CloseDate, SystemModstamp, AccountId FROM Opportunity", max_records=150, wait=0.05,
    ))
    rows = [row for page in pages for row in csv.DictReader(io.StringIO(page))]
    assert [len(list(csv.DictReader(io.StringIO(p)))) for p in pages] == [150, 150, 93]
    assert len(rows) == N_OPPS - N_DELETED == len({r["Id"] for r in rows})
    first = OPPS.slice(0, 1).to_pylist()[0]
    assert pages[0].splitlines()[0] == '"Id","Amount","IsWon","CloseDate","SystemModstamp","AccountId"'
    assert rows[0]["Id"] == "006Hs0000000001IAA"
    assert rows[0]["SystemModstamp"] == first["updated_at"].strftime("%Y-%m-%dT%H:%M:%S.000Z")
    assert rows[0]["IsWon"] == str(first["stage"] == "closed_won").lower()
    counts = sandbox.stats()["by_endpoint"]
    assert counts["bulk_query_create"] == 1 and counts["bulk_query_results"] == 3


def test_bulk_job_states_and_headers(sandbox: SalesforceSandbox, sf: Salesforce) -> None:
    base = "/services/data/v59.0/jobs/query"
    clock = sandbox.org.timer = ManualClock()  # bulk_delay_s=0.05: InProgress from 0.025 s, done at 0.05 s
    created = raw(sf, "POST", base, json={"operation": "queryAll", "query": "SELECT Id, IsDeleted FROM Opportunity"})
    job = created.json()
    assert (job["state"], job["operation"], job["object"], job["apiVersion"]) == (
        "UploadComplete", "queryAll", "Opportunity", 59.0)
    assert raw(sf, "GET", f"{base}/{job['id']}/results").status_code == 400
    clock.advance(0.03125)
    assert raw(sf, "GET", f"{base}/{job['id']}").json()["state"] == "InProgress"
    clock.advance(0.03125)
    status = raw(sf, "GET", f"{base}/{job['id']}").json()
    assert (status["state"], status["numberRecordsProcessed"]) == ("JobComplete", N_OPPS)
    first = raw(sf, "GET", f"{base}/{job['id']}/results", params={"maxRecords": 300})
    assert (first.headers["Sforce-NumberOfRecords"], first.headers["Sforce-Locator"]) == ("300", "MzAw")
    assert first.headers["Sforce-Limit-Info"].startswith("api-usage=")
    last = raw(sf, "GET", f"{base}/{job['id']}/results", params={"maxRecords": 300, "locator": "MzAw"})
    assert (last.headers["Sforce-NumberOfRecords"], last.headers["Sforce-Locator"]) == ("100", "null")
    deleted_rows = [line for line in last.text.splitlines() + first.text.splitlines() if line.endswith('"true"')]
    assert len(deleted_rows) == N_DELETED


@pytest.mark.parametrize(("soql", "code", "message"), [
    ("SELECT Id FROM TaskStatus", "INVALIDENTITY", "Entity 'TaskStatus' is not supported by the Bulk API."),
    ("SELECT Id, BillingAddress FROM Account", "API_ERROR", "Selecting compound data not supported in Bulk Query"),
])
def test_bulk_refuses_what_bulk_cannot_do(sf: Salesforce, soql: str, code: str, message: str) -> None:
    response = raw(sf, "POST", "/services/data/v59.0/jobs/query", json={"operation": "query", "query": soql})
    assert response.status_code == 400
    assert response.json() == [{"message": message, "errorCode": code}]
    assert sf.query(soql)["totalSize"] > 0  # the REST API serves the same query


def test_refresh_token_grant(sandbox: SalesforceSandbox) -> None:
    url = f"{sandbox.instance_url}/services/oauth2/token"
    grant = {"grant_type": "refresh_token", "client_id": "cid", "client_secret": "cs",
             "refresh_token": sandbox.org.refresh_token}
    token = requests.post(url, verify=sandbox.ca_bundle, data=grant)
    assert token.status_code == 200
    body = token.json()
    assert "refresh_token" not in body and body["instance_url"] == sandbox.instance_url
    assert client(sandbox, body["access_token"]).query("SELECT COUNT() FROM User")["totalSize"] == 10
    stale = requests.post(url, verify=sandbox.ca_bundle, data={**grant, "refresh_token": "5Aep861-revoked"})
    assert (stale.status_code, stale.json()) == (400, {"error": "invalid_grant",
                                                       "error_description": "expired access/refresh token"})
    anonymous = requests.post(url, verify=sandbox.ca_bundle, data={**grant, "client_id": ""})
    assert anonymous.json() == {"error": "invalid_client_id", "error_description": "client identifier invalid"}
