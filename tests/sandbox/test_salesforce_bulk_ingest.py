"""Salesforce emulator, Bulk API 2.0 ingest: the documented job lifecycle over HTTPS.

Raw calls go through simple-salesforce's requests session (as a connector would make them); one test
drives simple-salesforce's own `bulk2` client end to end to show the real SDK accepts the emulator.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
import requests
from simple_salesforce import Salesforce

from spm_sync.sandbox.dataset import generate
from spm_sync.sandbox.salesforce import SalesforceSandbox

DATASET = generate(7, "small", as_of=date(2025, 6, 15))
V = "v59.0"


@pytest.fixture
def sandbox() -> Iterator[SalesforceSandbox]:
    with SalesforceSandbox(DATASET, bulk_delay_s=0.05) as sb:
        yield sb


@pytest.fixture
def sf(sandbox: SalesforceSandbox) -> Salesforce:
    session = requests.Session()
    session.verify = sandbox.ca_bundle
    session.trust_env = False
    return Salesforce(instance_url=sandbox.instance_url, session_id=sandbox.session_id, session=session,
                      version=V[1:])


def call(sf: Salesforce, method: str, path: str, **kw: Any) -> requests.Response:
    """One raw call on simple-salesforce's session (bearer header included)."""
    headers = {"Authorization": f"Bearer {sf.session_id}", **kw.pop("headers", {})}
    return sf.session.request(method, f"{sf.base_url}{path}", headers=headers, **kw)


def create(sf: Salesforce, **job: Any) -> dict[str, Any]:
    response = call(sf, "POST", "jobs/ingest", json={"contentType": "CSV", "lineEnding": "LF", **job})
    assert response.status_code == 200, response.text
    return dict(response.json())


def upload(sf: Salesforce, job_id: str, data: str) -> requests.Response:
    return call(sf, "PUT", f"jobs/ingest/{job_id}/batches", data=data.encode(),
                headers={"Content-Type": "text/csv"})


def close(sf: Salesforce, job_id: str, state: str = "UploadComplete") -> requests.Response:
    return call(sf, "PATCH", f"jobs/ingest/{job_id}", json={"state": state})


def wait(sf: Salesforce, job_id: str) -> dict[str, Any]:
    for _ in range(100):
        info = call(sf, "GET", f"jobs/ingest/{job_id}").json()
        if info["state"] in ("JobComplete", "Failed", "Aborted"):
            return dict(info)
        time.sleep(0.02)
    raise AssertionError("job never finished")


def results(sf: Salesforce, job_id: str, kind: str) -> list[dict[str, str]]:
    response = call(sf, "GET", f"jobs/ingest/{job_id}/{kind}/")
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.text)))


def run(sf: Salesforce, data: str, **job: Any) -> tuple[dict[str, Any], list[dict[str, str]], list[dict[str, str]]]:
    """Create, upload, close, wait; (final info, successful rows, failed rows)."""
    job_id = create(sf, **job)["id"]
    assert upload(sf, job_id, data).status_code == 201
    assert close(sf, job_id).status_code == 200
    info = wait(sf, job_id)
    return info, results(sf, job_id, "successfulResults"), results(sf, job_id, "failedResults")


def test_update_job_lifecycle_results_and_counts(sf: Salesforce, sandbox: SalesforceSandbox) -> None:
    org = sandbox.org
    users = org.ids("User")[:4]
    org.update("User", users[3], {"Revenue_Won__c": 5.0, "Calls_This_Month__c": 9.0})
    org.fail_records([users[1]], "Quota must be reviewed first.")
    job = create(sf, object="User", operation="update")
    assert job["state"] == "Open" and job["id"].startswith("750")
    assert job["contentUrl"] == f"services/data/{V}/jobs/ingest/{job['id']}/batches"
    data = (
        "Id,Quota_Attainment__c,Revenue_Won__c,Calls_This_Month__c\n"
        f"{users[0]},81.25,12345.68,42\n"
        f"{users[1]},50,1,1\n"
        f"{users[2]},\"7.5\",,3\n"  # an empty cell leaves the field alone
        f"{users[3]},#N/A,#N/A,\n"  # #N/A clears it
    )
    assert upload(sf, job["id"], data).status_code == 201
    again = upload(sf, job["id"], data)
    assert again.status_code == 400 and again.json()[0]["errorCode"] == "BULK_API_ERROR"
    early = call(sf, "GET", f"jobs/ingest/{job['id']}/successfulResults/")
    assert early.status_code == 400 and early.json()[0]["errorCode"] == "INVALIDJOBSTATE"
    closed = close(sf, job["id"]).json()
    assert closed["state"] in ("UploadComplete", "InProgress")
    info = wait(sf, job["id"])
    assert (info["state"], info["numberRecordsProcessed"], info["numberRecordsFailed"]) == ("JobComplete", 4, 1)
    assert info["jobType"] == "V2Ingest" and info["operation"] == "update" and info["object"] == "User"

    ok = results(sf, job["id"], "successfulResults")
    assert [(r["sf__Id"], r["sf__Created"], r["Id"]) for r in ok] == [(u, "false", u) for u in
                                                                      (users[0], users[2], users[3])]
    assert ok[0]["Quota_Attainment__c"] == "81.25" and ok[2]["Revenue_Won__c"] == "#N/A"
    failed = results(sf, job["id"], "failedResults")
    assert failed == [{"sf__Id": users[1], "sf__Error": "FIELD_CUSTOM_VALIDATION_EXCEPTION:Quota must be reviewed "
                       "first.:--", "Id": users[1], "Quota_Attainment__c": "50", "Revenue_Won__c": "1",
                       "Calls_This_Month__c": "1"}]

    user0, user2, user3 = (org.get("User", u) for u in (users[0], users[2], users[3]))
    assert (user0["Quota_Attainment__c"], user0["Revenue_Won__c"], user0["Calls_This_Month__c"]) == (81.25, 12345.68,
                                                                                                     42.0)
    assert user2["Quota_Attainment__c"] == 7.5 and user2["Calls_This_Month__c"] == 3.0
    assert (user3["Revenue_Won__c"], user3["Calls_This_Month__c"]) == (None, 9.0)
    assert org.get("User", users[1])["Quota_Attainment__c"] != 50
    by_endpoint = sandbox.stats()["by_endpoint"]
    assert (by_endpoint["bulk_ingest_create"], by_endpoint["bulk_ingest_upload"], by_endpoint["bulk_ingest_close"],
            by_endpoint["bulk_ingest_results"]) == (1, 2, 1, 3)
    assert by_endpoint["bulk_ingest_status"] >= 1


def test_upsert_creates_and_updates_by_external_id(sf: Salesforce, sandbox: SalesforceSandbox) -> None:
    org = sandbox.org
    existing = org.create("Rep_KPI__c", {"Rep_Period_Key__c": "rep1|2025-06", "Calls__c": 1.0})
    data = ("Rep_Period_Key__c,Calls__c,Win_Rate__c\n"
            "rep0|2025-06,10,25.5\n"
            "rep1|2025-06,11,\n"
            ",12,1\n")
    info, ok, failed = run(sf, data, object="Rep_KPI__c", operation="upsert", externalIdFieldName="Rep_Period_Key__c")
    assert (info["externalIdFieldName"], info["numberRecordsProcessed"], info["numberRecordsFailed"]) == (
        "Rep_Period_Key__c", 3, 1)
    created = {r["Rep_Period_Key__c"]: (r["sf__Id"], r["sf__Created"]) for r in ok}
    assert created["rep1|2025-06"] == (existing, "false")
    assert created["rep0|2025-06"][1] == "true"
    new = org.get("Rep_KPI__c", created["rep0|2025-06"][0])
    assert (new["Rep_Period_Key__c"], new["Calls__c"], new["Win_Rate__c"]) == ("rep0|2025-06", 10.0, 25.5)
    assert org.get("Rep_KPI__c", existing)["Calls__c"] == 11.0
    assert [(r["sf__Id"], r["sf__Error"]) for r in failed] == [
        ("", "MISSING_ARGUMENT:Rep_Period_Key__c not specified:Rep_Period_Key__c --")]


def test_insert_reports_each_failing_field_and_a_bad_number(sf: Salesforce, sandbox: SalesforceSandbox) -> None:
    data = "Name,Calls__c\nfine,1\nbad number,abc\n"
    info, ok, failed = run(sf, data, object="Rep_KPI__c", operation="insert")
    assert (info["numberRecordsProcessed"], info["numberRecordsFailed"]) == (2, 1)
    assert ok[0]["sf__Created"] == "true" and sandbox.org.get("Rep_KPI__c", ok[0]["sf__Id"])["Name"] == "fine"
    assert failed[0]["sf__Error"].startswith("INVALID_FIELD:Failed to deserialize field at col 2. Due to, 'abc'")
    assert failed[0]["sf__Error"].endswith(":Calls__c --")

    _, _, missing = run(sf, "Title\nNo name\n", object="User", operation="insert")
    code, rest = missing[0]["sf__Error"].split(":", 1)
    message, fields = rest.rsplit(":", 1)  # the message itself holds a colon
    assert code == "REQUIRED_FIELD_MISSING" and message.startswith("Required fields are missing: [")
    assert "LastName" in fields.split() and fields.endswith(" --")


@pytest.mark.parametrize(("data", "line_ending", "message"), [
    ("Id,No_Such_Field__c\n005x,1\n", "LF", "InvalidBatch : Field name not found : No_Such_Field__c"),
    ("Id,Title\r\n005x,Boss\r\n", "LF", "ClientInputError : LineEnding is invalid on user data. Current "
                                        "LineEnding setting is LF"),
    ("Id,Title\n005x\n", "LF", "InvalidBatch : Wrong number of columns in record 1: 1 instead of 2"),
])
def test_an_unreadable_upload_fails_the_job_and_leaves_every_row_unprocessed(
    sf: Salesforce, data: str, line_ending: str, message: str
) -> None:
    info, ok, failed = run(sf, data, object="User", operation="update", lineEnding=line_ending)
    assert (info["state"], info["errorMessage"], info["numberRecordsProcessed"]) == ("Failed", message, 0)
    assert ok == [] and failed == []
    unprocessed = call(sf, "GET", f"jobs/ingest/{info['id']}/unprocessedrecords/")
    assert unprocessed.status_code == 200


def test_crlf_jobs_and_other_delimiters_round_trip(sf: Salesforce, sandbox: SalesforceSandbox) -> None:
    user = sandbox.org.ids("User")[0]
    data = f"Id;Title\r\n{user};\"Head; Sales\"\r\n"
    info, ok, _ = run(sf, data, object="User", operation="update", lineEnding="CRLF", columnDelimiter="SEMICOLON")
    assert info["state"] == "JobComplete"
    assert call(sf, "GET", f"jobs/ingest/{info['id']}/successfulResults/").text.endswith("\r\n")
    assert sandbox.org.get("User", user)["Title"] == "Head; Sales"


def test_create_refuses_bad_jobs_and_state_changes_follow_the_docs(sf: Salesforce) -> None:
    bad = [
        {"object": "User", "operation": "merge"},
        {"object": "No_Such__c", "operation": "insert"},
        {"object": "Rep_KPI__c", "operation": "upsert"},
        {"object": "Rep_KPI__c", "operation": "upsert", "externalIdFieldName": "Name"},
        {"object": "User", "operation": "update", "lineEnding": "CR"},
    ]
    for job in bad:
        response = call(sf, "POST", "jobs/ingest", json=job)
        assert (response.status_code, response.json()[0]["errorCode"]) == (400, "INVALIDJOB"), job
    job_id = create(sf, object="User", operation="update")["id"]
    assert close(sf, job_id, "Aborted").json()["state"] == "Aborted"
    refused = upload(sf, job_id, "Id\n")
    assert (refused.status_code, refused.json()[0]["errorCode"]) == (400, "INVALIDJOBSTATE")
    assert close(sf, job_id).status_code == 400
    listed = call(sf, "GET", "jobs/ingest").json()
    assert [j["id"] for j in listed["records"]] == [job_id] and listed["done"] is True
    assert call(sf, "DELETE", f"jobs/ingest/{job_id}").status_code == 204
    assert call(sf, "GET", f"jobs/ingest/{job_id}").status_code == 404


def test_a_lock_failure_fails_every_row_of_the_job(sf: Salesforce, sandbox: SalesforceSandbox) -> None:
    users = sandbox.org.ids("User")[:2]
    sandbox.org.fail_requests(1)
    _, ok, failed = run(sf, "Id,Title\n" + "".join(f"{u},x\n" for u in users), object="User", operation="update")
    assert ok == [] and {r["sf__Error"].split(":")[0] for r in failed} == {"UNABLE_TO_LOCK_ROW"}


def test_simple_salesforce_bulk2_client_runs_against_the_emulator(sf: Salesforce, sandbox: SalesforceSandbox) -> None:
    users = sandbox.org.ids("User")[:3]
    sandbox.org.fail_records([users[2]])
    outcome = sf.bulk2.User.update(records=[{"Id": u, "Win_Rate__c": 12.5} for u in users], wait=0)
    assert [(o["numberRecordsProcessed"], o["numberRecordsFailed"]) for o in outcome] == [(3, 1)]
    failed = list(csv.DictReader(io.StringIO(sf.bulk2.User.get_failed_records(outcome[0]["job_id"]))))
    assert [r["sf__Id"] for r in failed] == [users[2]]
    assert sandbox.org.get("User", users[0])["Win_Rate__c"] == 12.5
