"""Pure parts of the Salesforce connector: SOQL building, typing, split-query merge, sweep, cursor boundary."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest

from spm_sync.connectors.salesforce import soql
from spm_sync.connectors.salesforce.describe import ObjectDescribe, select_fields
from spm_sync.connectors.salesforce.pull import ObjectPlan, Puller, later_boundary, table_boundary
from spm_sync.connectors.salesforce.records import (
    Field,
    arrow_schema,
    column_name,
    csv_table,
    records_table,
    typed_column,
)
from spm_sync.connectors.salesforce.rest import QueryPage, SplitMerge
from spm_sync.connectors.salesforce.source import settled
from spm_sync.connectors.salesforce.sweep import mark_deleted, missing_ids, sweep_due
from spm_sync.errors import ConnectorError

FIELDS = (
    Field("Id", "id"),
    Field("SystemModstamp", "datetime"),
    Field("Amount", "currency"),
    Field("CloseDate", "date"),
    Field("IsWon", "boolean"),
    Field("Count__c", "int"),
    Field("Name", "string"),
)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "null"),
        (True, "true"),
        (42, "42"),
        (1.5, "1.5"),
        (date(2026, 3, 1), "2026-03-01"),
        (datetime(2026, 3, 1, 12, 30, 5, 123000, tzinfo=UTC), "2026-03-01T12:30:05Z"),
        (datetime(2026, 3, 1, 14, 30, 5, tzinfo=UTC).astimezone(__import__("zoneinfo").ZoneInfo("Europe/Paris")),
         "2026-03-01T14:30:05Z"),
        (datetime(2026, 3, 1, 12, 0), "2026-03-01T12:00:00Z"),
        ("O'Brien \\ co\nx", "'O\\'Brien \\\\ co\\nx'"),
    ],
)
def test_literal(value: object, text: str) -> None:
    assert soql.literal(value) == text


def test_identifiers_are_checked() -> None:
    assert soql.select("Account", ["Id", "Name"], where=[soql.condition("Name", "=", "x")], order_by=["Id"]) == (
        "SELECT Id, Name FROM Account WHERE Name = 'x' ORDER BY Id ASC"
    )
    with pytest.raises(ConnectorError):
        soql.select("Account; DELETE", ["Id"])
    with pytest.raises(ConnectorError):
        soql.condition("Name", "LIKE", "x")


def test_split_fields_keeps_keys_in_every_group_and_fits() -> None:
    names = ["Id", "SystemModstamp"] + [f"Custom_Field_{i:03d}__c" for i in range(40)]
    base = "https://x.test/services/data/v62.0/"
    groups = soql.split_fields("Account", names, keys=["Id", "SystemModstamp"], where=[],
                               order_by=["SystemModstamp", "Id"], base_url=base, max_length=400)
    assert len(groups) > 1
    assert all(g[:2] == ["Id", "SystemModstamp"] for g in groups)
    assert [f for g in groups for f in g[2:]] == names[2:]
    assert all(soql.query_url_length(base, soql.select("Account", g, order_by=["SystemModstamp", "Id"])) <= 400
               for g in groups)
    with pytest.raises(ConnectorError) as err:
        soql.split_fields("Account", names, keys=["Id"], where=[], order_by=["Id"], base_url=base, max_length=60)
    assert err.value.object == "Account"


def _puller() -> Puller:
    return Puller(None, bulk_threshold=10, stage_dir=Path("."), warn=print, progress=lambda *a: None)  # type: ignore[arg-type]


def test_where_uses_the_settled_boundary_id() -> None:
    plan = ObjectPlan("Account", "account", FIELDS, "SystemModstamp", True)
    since = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert _puller().where(plan, since, None, "001A") == [
        "(SystemModstamp > 2026-01-02T03:04:05Z OR (SystemModstamp = 2026-01-02T03:04:05Z AND Id > '001A'))"
    ]
    assert _puller().where(plan, since + timedelta(microseconds=500), datetime(2026, 2, 1, 0, 0, 0, 1, tzinfo=UTC)) == [
        "SystemModstamp >= 2026-01-02T03:04:05Z", "SystemModstamp < 2026-02-01T00:00:01Z",
    ]


def test_settled_needs_the_same_cursor_and_age() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    mark = {"cursor": start.isoformat(), "id": "001", "observed": (start + timedelta(minutes=10)).isoformat()}
    assert settled(mark, start)
    assert not settled({**mark, "observed": (start + timedelta(seconds=30)).isoformat()}, start)
    assert not settled(mark, start + timedelta(seconds=1))


RECORDS = [
    {"attributes": {"type": "X"}, "Id": "a1", "SystemModstamp": "2026-01-02T03:04:05.000+0000", "Amount": 10.5,
     "CloseDate": "2026-03-31", "IsWon": True, "Count__c": 3, "Name": 'He said "hi", ok'},
    {"attributes": {"type": "X"}, "Id": "a2", "SystemModstamp": "2026-01-02T03:04:06.000+0000", "Amount": None,
     "CloseDate": None, "IsWon": False, "Count__c": None, "Name": None, "Extra__c": "ignored"},
]
CSV = (
    b'"Id","SystemModstamp","Amount","CloseDate","IsWon","Count__c","Name"\n'
    b'"a1","2026-01-02T03:04:05.000Z","10.5","2026-03-31","true","3","He said ""hi"", ok"\n'
    b'"a2","2026-01-02T03:04:06.000Z","","","false","",""\n'
)


def test_rest_and_csv_records_give_the_same_typed_table() -> None:
    schema = arrow_schema(FIELDS)
    rest = records_table(RECORDS, FIELDS, schema)
    bulk = csv_table(CSV, FIELDS, schema, object_name="X")
    assert rest.equals(bulk)
    assert rest.schema.names == ["id", "system_modstamp", "amount", "close_date", "is_won", "count_c", "name"]
    assert rest.to_pylist()[0] == {
        "id": "a1", "system_modstamp": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), "amount": 10.5,
        "close_date": date(2026, 3, 31), "is_won": True, "count_c": 3, "name": 'He said "hi", ok',
    }


def test_typed_column_is_tolerant() -> None:
    assert typed_column(["12.5", 3, None, ""], "double").to_pylist() == [12.5, 3.0, None, None]
    assert typed_column(["true", "false", None], "boolean").to_pylist() == [True, False, None]
    assert typed_column([1, True, 2.0], "anyType").to_pylist() == ["1", "true", "2"]
    assert typed_column(["", None, "2026-03-31"], "date").to_pylist() == [None, None, date(2026, 3, 31)]
    assert typed_column(pa.array(["", "7"]), "int").to_pylist() == [None, 7]
    assert typed_column([""], "string").to_pylist() == [""]  # text keeps its empty value
    with pytest.raises(ConnectorError):
        typed_column(["not a date"], "date")


def test_column_names_follow_dlt() -> None:
    assert [column_name(n) for n in ("SystemModstamp", "NPS_Score__c", "OpportunityHistory")] == [
        "system_modstamp", "nps_score_c", "opportunity_history",
    ]


def _pages(rows: list[dict[str, str]], size: int):  # noqa: ANN202
    for start in range(0, len(rows), size):
        yield QueryPage(rows[start:start + size], len(rows))


def test_split_merge_joins_pages_and_drops_rows_changed_between_queries() -> None:
    a = [{"Id": f"r{i}", "SM": f"t{i:02d}", "A": i} for i in range(10)]
    b = [{"Id": f"r{i}", "SM": f"t{i:02d}", "B": -i} for i in range(10) if i != 4]
    b.append({"Id": "r4", "SM": "t99", "B": -4})  # r4 changed after the first query ran
    merged = [r for page in SplitMerge([_pages(a, 3), _pages(b, 4)], "SM").pages() for r in page.records]
    assert [r["Id"] for r in merged] == [f"r{i}" for i in range(10) if i != 4]
    assert all(r["B"] == -r["A"] for r in merged)


def test_table_boundary() -> None:
    stamps = pa.array([datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC),
                       datetime(2026, 1, 2, tzinfo=UTC)], pa.timestamp("us", tz="UTC"))
    table = pa.table({"id": ["b", "c", "a"], "system_modstamp": stamps})
    top = table_boundary(table, "system_modstamp")
    assert top == (datetime(2026, 1, 2, tzinfo=UTC), "c")
    assert later_boundary(None, top) == top
    assert later_boundary((datetime(2026, 1, 2, tzinfo=UTC), "d"), top) == (datetime(2026, 1, 2, tzinfo=UTC), "d")


def test_sweep_helpers() -> None:
    gone = missing_ids(pa.array(["a", "b", "c"]), pa.array(["c", "a", "z"]))
    assert gone.to_pylist() == ["b"]
    stored = pa.table({"id": ["b"], "is_deleted": [False], "name": ["kept"], "_dlt_load_id": ["1"]})
    assert mark_deleted(stored).to_pylist() == [{"id": "b", "is_deleted": True, "name": "kept"}]
    now = datetime(2026, 3, 10, tzinfo=UTC)
    assert sweep_due(None, now, 7)
    assert not sweep_due((now - timedelta(days=6)).isoformat(), now, 7)
    assert sweep_due((now - timedelta(days=7)).isoformat(), now, 7)


def test_select_fields_drops_compound_and_binary_and_applies_lists() -> None:
    describe = ObjectDescribe("Account", (
        Field("Id", "id"), Field("SystemModstamp", "datetime"), Field("Name", "string"),
        Field("BillingAddress", "address"), Field("Logo", "base64"), Field("Industry", "picklist"),
    ))
    warnings: list[str] = []
    kw = {"required": ["Id", "SystemModstamp"], "warn": warnings.append}
    assert [f.name for f in select_fields(describe, allow={}, deny={}, **kw)] == [
        "Id", "SystemModstamp", "Name", "Industry",
    ]
    assert [f.name for f in select_fields(describe, allow={"account": ["name", "Nope"]}, deny={}, **kw)] == [
        "Id", "SystemModstamp", "Name",
    ]
    assert warnings == ["Account.Nope: field not found or not readable; skipped"]
    assert [f.name for f in select_fields(describe, allow={}, deny={"Account": ["Industry", "Id"]}, **kw)] == [
        "Id", "SystemModstamp", "Name",
    ]
