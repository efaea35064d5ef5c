"""Pure planning: KPI rows -> slots -> diff against the ledger -> decisions against the CRM -> records."""

from __future__ import annotations

from spm_sync.connectors.writing import (
    BatchRejected,
    CurrentRecord,
    FieldInfo,
    RecordResult,
    RecordWrite,
    send_splitting,
)
from spm_sync.writeback.model import KpiValue, LedgerEntry, Matching, Slot
from spm_sync.writeback.plan import decide, diff_ledger, plan_slots, record_writes, sends_by_record, upsert_key

FIELDS = {
    "Att__c": FieldInfo("Att__c", "percent", "percent", scale=2),
    "Rev__c": FieldInfo("Rev__c", "number", "currency", scale=2, required=True),
}
FIELD_MAP = {"quota_attainment": "Att__c", "revenue_won": "Rev__c"}
USER = Matching(None, identity="crm_id")
UPSERT = Matching("Key__c", upsert=True)


def slot(entity: str, field: str, key: str, value: object) -> Slot:
    metric = {"Att__c": "quota_attainment", "Rev__c": "revenue_won"}[field]
    return Slot(entity, "2026-03", metric, field, key, value, "k1")


def test_plan_maps_metrics_resolves_users_and_reports_invalid_rows() -> None:
    rows = [
        KpiValue("rep1", "quota_attainment", 0.8125, "k1"),
        KpiValue("rep1", "revenue_won", 10.0, "k1"),
        KpiValue("rep1", "win_rate", 0.5, "k1"),  # not mapped by this target: ignored
        KpiValue("rep2", "quota_attainment", 0.5, "k1"),  # no CRM user
        KpiValue("rep3", "revenue_won", None, "k1"),  # null for a required field
        KpiValue("rep3", "quota_attainment", None, "k1"),  # null clears an optional field
    ]
    slots, invalid = plan_slots(FIELD_MAP, "2026-03", USER, rows, {"rep1": "005A", "rep3": "005C"}, FIELDS)
    assert slots == [
        slot("rep1", "Att__c", "005A", 81.25),
        slot("rep1", "Rev__c", "005A", 10),
        slot("rep3", "Att__c", "005C", None),
    ]
    assert [(i.entity_id, i.metric, i.reason) for i in invalid] == [
        ("rep2", "quota_attainment", "no CRM user for this rep"),
        ("rep3", "revenue_won", "null value for a required field"),
    ]


def test_upsert_key_is_entity_and_period() -> None:
    slots, _ = plan_slots(FIELD_MAP, "FY2026-Q1", UPSERT, [KpiValue("team:7", "revenue_won", 1.0)], {}, FIELDS)
    assert upsert_key("team:7", "FY2026-Q1") == "team:7|FY2026-Q1"
    assert [s.record_key for s in slots] == ["team:7|FY2026-Q1"]


def test_diff_sends_only_what_differs_from_the_last_successful_write() -> None:
    slots = [slot("rep1", "Att__c", "005A", 81.25), slot("rep1", "Rev__c", "005A", 10),
             slot("rep2", "Att__c", "005B", 50)]
    ledger = {("rep1", "", "Att__c"): LedgerEntry("005A", "81.25"), ("rep1", "", "Rev__c"): LedgerEntry("005A", "9")}
    pending, unchanged = diff_ledger(slots, ledger, FIELDS, upsert=False)
    assert pending == [slots[1], slots[2]]
    assert [s.slot for s in unchanged] == [slots[0]]


def test_decide_sends_skips_in_sync_and_flags_edits_made_in_the_crm() -> None:
    pending = [
        slot("rep1", "Att__c", "005A", 90),  # CRM still holds our last write: send
        slot("rep2", "Att__c", "005B", 90),  # a person changed it since our write: conflict
        slot("rep3", "Att__c", "005C", 90),  # the CRM already holds the new value
        slot("rep4", "Att__c", "005D", 90),  # never written by us: send
        slot("rep5", "Att__c", "005E", 90),  # no such record
    ]
    current = {
        "005A": CurrentRecord("005A", {"Att__c": 80.0}),
        "005B": CurrentRecord("005B", {"Att__c": 12.0}),
        "005C": CurrentRecord("005C", {"Att__c": 90.0}),
        "005D": CurrentRecord("005D", {"Att__c": 33.0}),
    }
    ledger = {(f"rep{n}", "", "Att__c"): LedgerEntry(f"005{c}", "80") for n, c in ((1, "A"), (2, "B"))}
    steps = decide(pending, current, ledger, FIELDS, USER, overwrite=False, object_name="User")
    assert [(s.slot.entity_id, s.action) for s in steps] == [
        ("rep1", "send"), ("rep2", "conflict"), ("rep3", "in_sync"), ("rep4", "send"), ("rep5", "invalid")]
    assert steps[4].reason == "no User record with Id=005E"
    overwritten = decide(pending[1:2], current, ledger, FIELDS, USER, overwrite=True, object_name="User")
    assert [(s.action, s.reason) for s in overwritten] == [("send", "overwrites an edit in the CRM")]


def test_record_writes_group_fields_per_record() -> None:
    pending = [slot("rep1", "Att__c", "005A", 90), slot("rep1", "Rev__c", "005A", 5)]
    steps = decide(pending, {"005A": CurrentRecord("005A", {})}, {}, FIELDS, USER, False, "User")
    assert record_writes(sends_by_record(steps, upsert=False)) == [RecordWrite("005A", {"Att__c": 90, "Rev__c": 5})]


def test_split_isolates_the_record_that_fails_the_batch() -> None:
    calls: list[list[str]] = []

    def send(batch: object) -> list[RecordResult]:
        keys = [r.key for r in batch]  # type: ignore[attr-defined]
        calls.append(keys)
        if "c" in keys:
            raise BatchRejected("INVALID", "bad value in c")
        return [RecordResult(k, True, k.upper()) for k in keys]

    records = [RecordWrite(k, {}) for k in "abcde"]
    results = send_splitting(records, send)
    assert calls == [list("abcde"), ["a", "b"], ["c", "d", "e"], ["c"], ["d", "e"]]
    assert results == [RecordResult("a", True, "A"), RecordResult("b", True, "B"),
                       RecordResult("c", False, error_code="INVALID", error_message="bad value in c"),
                       RecordResult("d", True, "D"), RecordResult("e", True, "E")]
