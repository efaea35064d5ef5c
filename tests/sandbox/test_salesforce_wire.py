"""The fast wire encoder (wire.py) against the reference path (render.records + orjson, csv_reference).

Why byte for byte: clients never see which path served a page, so the two must not differ in a
single byte — for every object and field kind, for awkward values, and after the org has changed.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import numpy as np
import orjson
import pytest
import requests

from spm_sync.sandbox.dataset import generate
from spm_sync.sandbox.salesforce import SalesforceSandbox, render, soql, wire
from spm_sync.sandbox.salesforce.org import Org
from spm_sync.sandbox.salesforce.query import evaluate
from spm_sync.sandbox.salesforce.schema import OBJECTS
from spm_sync.sandbox.salesforce.store import Table

AS_OF = date(2025, 6, 15)
DATASET = generate(7, "small", as_of=AS_OF)
NOW = datetime(2025, 6, 15, 12, 0, 0, tzinfo=UTC)
BASE = "/services/data/v59.0"


def assert_same(table: Table, rows: np.ndarray, fields: list | None = None) -> None:
    """Both paths, JSON and CSV (two dialect settings), give identical bytes for these rows."""
    fields = fields or [f for f in table.spec.fields if f.storage != "compound"]
    fast = wire.json_records(table, fields, rows, BASE)
    assert fast == orjson.dumps(render.records(table, fields, rows, BASE))
    for sep, eol in ((",", "\n"), ("|", "\r\n")):
        assert wire.csv_lines(table, fields, rows, sep.encode(), eol.encode()) == render.csv_reference(
            table, fields, rows, sep, eol)


@pytest.fixture(scope="module")
def loaded() -> Org:
    return SalesforceSandbox(DATASET, bulk_delay_s=0.0, clock=lambda: NOW).org


@pytest.mark.parametrize("name", sorted(OBJECTS))
def test_every_object_and_field_kind(loaded: Org, name: str) -> None:
    table = loaded.tables[name]
    rows = np.arange(table.n)
    assert_same(table, rows)
    assert_same(table, rows[::-1][:7])  # any order, any subset
    assert_same(table, rows[:0])


def test_awkward_values_and_nulls() -> None:
    org = Org(clock=lambda: NOW)
    owner = org.create("User", {"LastName": "Owner", "Username": "o@x.io", "Email": "o@x.io"})
    values: list[dict[str, object]] = [
        {"Name": 'quote " comma , newline \n tab \t', "Amount": 1e-7, "ARR__c": 1e20, "CloseDate": "1850-01-02"},
        {"Name": "unicodé ☃ \\ backslash", "Amount": -0.0, "ARR__c": 0.0001, "CloseDate": "2500-12-31"},
        {"Name": "big", "Amount": 123456789012345.67, "ARR__c": None, "CloseDate": "2025-01-01",
         "Probability": 12.5, "Type": None},
        {"Name": "x" * 120, "Amount": None, "CloseDate": "2024-02-29", "StageName": "Closed Won"},
    ]
    for extra in values:
        org.create("Opportunity", {"StageName": "Prospecting", "OwnerId": owner, **extra})
    table = org.tables["Opportunity"]
    assert_same(table, np.arange(table.n))
    org.create("Task", {"Subject": "s", "OwnerId": owner, "WhatId": org.ids("Opportunity")[0]})
    org.create("Task", {"Subject": None, "OwnerId": owner})
    org.create("Event", {"Subject": "e", "OwnerId": owner, "ActivityDateTime": "1900-01-01T00:00:00.999Z",
                         "DurationInMinutes": 45})
    for name in ("Task", "Event", "User"):
        assert_same(org.tables[name], np.arange(org.tables[name].n))


def test_long_and_nul_text_use_the_reference_path() -> None:
    org = Org(clock=lambda: NOW)
    owner = org.create("User", {"LastName": "Owner", "Username": "o@x.io", "Email": "o@x.io"})
    org.create("NPS_Response__c", {"Comment__c": "long " * 2000, "OwnerId": owner})  # wide pool: per page
    org.create("NPS_Response__c", {"Comment__c": "nul \x00 inside", "OwnerId": owner})
    table = org.tables["NPS_Response__c"]
    fields = [f for f in table.spec.fields if f.storage != "compound"]
    assert_same(table, np.array([0]))  # long text, no NUL: still the fast path
    with pytest.raises(wire.Unsupported):
        wire.csv_lines(table, fields, np.arange(2), b",", b"\n")
    page = render.csv_page(table, fields, np.arange(2))
    assert page.endswith(render.csv_reference(table, fields, np.arange(2), ",", "\n"))
    account = org.tables["Account"]
    org.create("Account", {"Name": "A", "BillingCity": "Oslo"})
    with pytest.raises(wire.Unsupported):  # BillingAddress is compound
        wire.json_records(account, list(account.spec.fields), np.arange(1), BASE)
    assert render.records_json(account, list(account.spec.fields), np.arange(1), BASE) == orjson.dumps(
        render.records(account, list(account.spec.fields), np.arange(1), BASE))


# ---- over HTTP, after mutations ------------------------------------------------------------------

@pytest.fixture
def sandbox() -> Iterator[SalesforceSandbox]:
    with SalesforceSandbox(DATASET, bulk_delay_s=0.0, clock=lambda: NOW) as sb:
        yield sb


def fetch_all(sb: SalesforceSandbox, soql_text: str, resource: str = "queryAll") -> list[dict[str, object]]:
    session = requests.Session()
    session.verify, session.trust_env = sb.ca_bundle, False
    session.headers.update({"Authorization": f"Bearer {sb.session_id}", "Sforce-Query-Options": "batchSize=200"})
    body = session.get(f"{sb.instance_url}{BASE}/{resource}", params={"q": soql_text}).json()
    records = list(body["records"])
    while not body["done"]:
        body = session.get(sb.instance_url + body["nextRecordsUrl"]).json()
        records += body["records"]
    return records


def reference(sb: SalesforceSandbox, soql_text: str, include_deleted: bool = True) -> list[dict[str, object]]:
    parsed = soql.parse(soql_text)
    table = sb.org.table(parsed.object.name)
    result = evaluate(parsed, table, include_deleted=include_deleted, today=AS_OF)
    return orjson.loads(orjson.dumps(render.records(table, result.fields, result.rows, BASE)))


QUERIES = [
    "SELECT Id, Name, AccountId, OwnerId, StageName, Amount, CloseDate, IsWon, SystemModstamp FROM Opportunity "
    "WHERE SystemModstamp >= 2020-01-01T00:00:00Z ORDER BY SystemModstamp ASC, Id ASC",
    "SELECT Id, Subject, WhatId, AccountId, ActivityDate, Status, IsClosed FROM Task ORDER BY Subject DESC, Id",
    "SELECT Id, StageName, Amount, ExpectedRevenue, Probability FROM OpportunityHistory WHERE Amount > 1000",
    "SELECT Id, Name, Email, IsActive, ManagerId, Quota_Attainment__c FROM User",
]


def test_pages_over_http_match_the_reference_after_mutations(sandbox: SalesforceSandbox) -> None:
    for text in QUERIES:
        assert fetch_all(sandbox, text) == reference(sandbox, text)
    org = sandbox.org
    changed, soft, hard = org.ids("Opportunity")[:3]
    org.update("Opportunity", changed, {"Amount": 12345.5, "StageName": "Closed Won", "Name": 'Renamed "deal"'})
    org.delete("Opportunity", soft)
    org.hard_delete("Opportunity", hard)
    org.update("User", org.ids("User")[1], {"Quota_Attainment__c": 101.25, "Title": None})
    new_task = org.create("Task", {"Subject": "Brand new, with comma", "OwnerId": org.ids("User")[0]})
    for text in QUERIES:
        assert fetch_all(sandbox, text) == reference(sandbox, text)
    opps = {r["Id"]: r for r in fetch_all(sandbox, QUERIES[0])}
    assert opps[changed]["Name"] == 'Renamed "deal"' and opps[changed]["IsWon"] is True
    assert hard not in opps and soft in opps
    assert soft not in {r["Id"] for r in fetch_all(sandbox, QUERIES[0], resource="query")}
    assert new_task in {r["Id"] for r in fetch_all(sandbox, QUERIES[1])}
