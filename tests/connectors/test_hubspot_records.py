"""Pure transforms of the HubSpot connector: exact inputs, exact outputs."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from spm_sync.connectors.hubspot.objects import archived_since
from spm_sync.connectors.hubspot.records import (
    as_text,
    association_rows,
    deleted_table,
    merge_by_id,
    owner_row,
    pipeline_stage_rows,
    records_table,
    search_body,
    select_properties,
    split_for_query,
    stage_entry_properties,
)
from spm_sync.connectors.hubspot.settings import ObjectDef, object_defs
from spm_sync.connectors.hubspot.sweep import hard_deleted


@pytest.mark.parametrize(
    ("value", "text"),
    [(None, None), ("12.50", "12.50"), (5, "5"), (5.0, "5"), (2.5, "2.5"), (True, "true"), (False, "false"),
     ({"a": 1}, '{"a":1}'), ([1, "x"], '[1,"x"]')],
)
def test_as_text_matches_hubspot_wire_strings(value: Any, text: str | None) -> None:
    assert as_text(value) == text


def test_records_table_is_strings_with_stable_columns() -> None:
    records = [
        {"id": "1", "properties": {"amount": "10", "dealname": "A", "hs_new_prop": "x"},
         "createdAt": "2026-01-01T00:00:00Z", "updatedAt": "2026-01-02T00:00:00Z", "archived": False,
         "propertiesWithHistory": {}, "url": "https://app.hubspot.com/x"},
        {"id": 2, "properties": {"amount": 20.5, "dealname": None}, "archived": True,
         "archivedAt": "2026-02-01T00:00:00.000Z"},
    ]
    table = records_table(records, ["amount", "closedate", "dealname"])
    assert table.column_names == ["id", "archived", "created_at", "updated_at", "archived_at", "amount",
                                  "closedate", "dealname", "hs_new_prop"]
    assert table.schema.field("id").nullable is False
    assert all(table.schema.field(c).type == pa.string() for c in table.column_names if c != "archived")
    assert table.to_pylist() == [
        {"id": "1", "archived": False, "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-02T00:00:00Z",
         "archived_at": None, "amount": "10", "closedate": None, "dealname": "A", "hs_new_prop": "x"},
        {"id": "2", "archived": True, "created_at": None, "updated_at": None,
         "archived_at": "2026-02-01T00:00:00.000Z", "amount": "20.5", "closedate": None, "dealname": None,
         "hs_new_prop": None},
    ]


def test_deleted_table_keeps_only_the_id() -> None:
    assert deleted_table(["7", "9"], "2026-03-01T00:00:00.000Z").to_pylist() == [
        {"id": "7", "archived": True, "archived_at": "2026-03-01T00:00:00.000Z", "hard_deleted": True},
        {"id": "9", "archived": True, "archived_at": "2026-03-01T00:00:00.000Z", "hard_deleted": True},
    ]


def test_association_rows_one_per_type_tolerating_extra_fields() -> None:
    results = [
        {"from": {"id": "11"}, "to": [
            {"toObjectId": 501, "associationTypes": [
                {"category": "HUBSPOT_DEFINED", "typeId": 5, "label": "Primary"},
                {"category": "HUBSPOT_DEFINED", "typeId": 341, "label": None}]},
            {"toObjectId": "502", "associationTypes": [{"category": "USER_DEFINED", "typeId": "17"}],
             "extra": "ignored"}],
         "paging": {"next": {"after": "abc"}}},
        {"from": {"id": "12"}, "to": []},
    ]
    assert association_rows("deals", "companies", results) == [
        {"from_object": "deals", "from_id": "11", "to_object": "companies", "to_id": "501",
         "association_type_id": 5, "association_category": "HUBSPOT_DEFINED", "association_label": "Primary"},
        {"from_object": "deals", "from_id": "11", "to_object": "companies", "to_id": "501",
         "association_type_id": 341, "association_category": "HUBSPOT_DEFINED", "association_label": None},
        {"from_object": "deals", "from_id": "11", "to_object": "companies", "to_id": "502",
         "association_type_id": 17, "association_category": "USER_DEFINED", "association_label": None},
    ]


def test_pipeline_stage_rows_and_stage_properties() -> None:
    pipelines = [{"id": "default", "label": "Sales", "stages": [
        {"id": "contractsent", "label": "Contract Sent", "displayOrder": 4,
         "metadata": {"isClosed": "false", "probability": "0.9"}},
        {"id": "closedwon", "label": "Won", "displayOrder": 5, "metadata": {"isClosed": True, "probability": 1.0},
         "archived": False}]}]
    rows = pipeline_stage_rows(pipelines)
    assert [(r["pipeline_id"], r["stage_id"], r["display_order"], r["is_closed"], r["probability"]) for r in rows] == [
        ("default", "contractsent", 4, "false", "0.9"), ("default", "closedwon", 5, "true", "1")]
    assert stage_entry_properties(["contractsent", "closedwon"]) == [
        "hs_v2_date_entered_contractsent", "hs_date_entered_contractsent",
        "hs_v2_date_entered_closedwon", "hs_date_entered_closedwon"]


def test_select_properties_allow_deny_required() -> None:
    available = ["amount", "dealname", "secret_notes", "hs_object_id"]
    assert select_properties(available, allow=None, deny=["secret_notes"], required=["hs_lastmodifieddate"]) == [
        "amount", "dealname", "hs_lastmodifieddate", "hs_object_id"]
    assert select_properties(available, allow=["dealname"], deny=None, required=["hs_lastmodifieddate"]) == [
        "dealname", "hs_lastmodifieddate", "hs_object_id"]


def test_split_for_query_keeps_urls_short() -> None:
    names = [f"prop_{i:03d}" for i in range(10)]  # each costs len("properties=prop_000") + 1 = 20
    assert split_for_query(names, fixed_chars=40, budget=100) == (names[:3], names[3:])
    assert split_for_query(names, fixed_chars=0, budget=10_000) == (names, [])
    assert split_for_query(["x" * 500], fixed_chars=0, budget=100) == (["x" * 500], [])  # never an empty head


def test_search_body_restarts_after_the_last_id() -> None:
    assert search_body("lastmodifieddate", (1000, 2000), "42", ["email"], 200) == {
        "filterGroups": [{"filters": [
            {"propertyName": "lastmodifieddate", "operator": "GTE", "value": "1000"},
            {"propertyName": "lastmodifieddate", "operator": "LT", "value": "2000"},
            {"propertyName": "hs_object_id", "operator": "GT", "value": "42"}]}],
        "sorts": [{"propertyName": "hs_object_id", "direction": "ASCENDING"}],
        "properties": ["email"],
        "limit": 200,
    }


def test_search_body_without_a_window_lists_every_live_record() -> None:
    assert search_body("lastmodifieddate", None, None, ["email"], 200)["filterGroups"] == [
        {"filters": [{"propertyName": "hs_object_id", "operator": "GT", "value": "0"}]}]


def test_merge_by_id_adds_the_other_half_of_the_properties() -> None:
    base = [{"id": "1", "properties": {"a": "1"}}, {"id": "2", "properties": {"a": "2"}}]
    assert merge_by_id(base, [{"id": "2", "properties": {"b": "y"}}]) == [
        {"id": "1", "properties": {"a": "1"}}, {"id": "2", "properties": {"a": "2", "b": "y"}}]


def test_hard_deleted_excludes_live_archived_and_fresh_ids() -> None:
    known = np.array([1, 2, 3, 4, 5], np.int64)
    gone = hard_deleted(known, live=np.array([1, 6]), archived=np.array([2]), fresh=np.array([5]))
    assert gone.tolist() == [3, 4]


def test_owner_row_flattens_the_primary_team() -> None:
    owner = {"id": "41", "email": "a@x.com", "userId": 7, "archived": False,
             "teams": [{"id": "t1", "name": "East", "primary": False}, {"id": "t2", "name": "West", "primary": True}]}
    row = owner_row(owner)
    assert (row["id"], row["primary_team_id"], row["primary_team_name"], row["userId"]) == ("41", "t2", "West", 7)
    assert row["teams"] == [{"id": "t1", "name": "East", "primary": False},
                            {"id": "t2", "name": "West", "primary": True}]


@pytest.mark.parametrize(
    ("stamp", "since", "expected"),
    [("2026-03-01T00:00:00.000Z", 1772323200000, True), ("2026-02-28T23:59:59.999Z", 1772323200000, False),
     (None, 1772323200000, True)],
)
def test_archived_since(stamp: str | None, since: int, expected: bool) -> None:
    assert archived_since({"id": "1", "archivedAt": stamp}, since) is expected


def test_object_table_from_definitions() -> None:
    defs = object_defs(["p_widgets", "2-1234", "deals"])
    assert [d.table for d in defs[-2:]] == ["p_widgets", "object_2_1234"]
    assert sum(1 for d in defs if d.name == "deals") == 1
    assert ObjectDef("contacts", modified_property="lastmodifieddate").table == "contacts"
