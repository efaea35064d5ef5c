"""Salesforce write-back through Bulk API 2.0 ingest above `bulk_threshold`, against the sandbox.

The same KPI values pushed through sObject Collections (default threshold) and through one ingest job
(threshold 0) into two identical orgs must leave identical CRM values and identical ledgers, rejected
records included; the bulk path costs create + upload + close + polls + 2 result calls.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from spm_sync.connectors.salesforce import ingest, settings
from spm_sync.connectors.writing import RecordWrite
from spm_sync.runs import Run
from spm_sync.sandbox import Sandbox
from spm_sync.sandbox.dataset import Dataset
from spm_sync.sandbox.faults import FaultKind
from spm_sync.store import Store, open_store
from spm_sync.writeback import WritebackResult, write_back
from tests.writeback.conftest import kpis, make_config, salesforce_crm, seed_kpis, seed_reps, upsert_target, user_target

INGEST = ("bulk_ingest_create", "bulk_ingest_upload", "bulk_ingest_close", "bulk_ingest_status", "bulk_ingest_results")
LEDGER = ("SELECT entity_id, period, field, record_id, value_sent, outcome, error_code, error_message "
          "FROM spm_state.writeback_ledger ORDER BY entity_id, field, sent_at")
TARGETS = {"update": user_target, "upsert": upsert_target}


@pytest.fixture(autouse=True)
def quick_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings, "BULK_POLL_START_S", 0.05)
    monkeypatch.setattr(settings, "RETRY_BASE_S", 0.0)


@pytest.fixture
def twin(dataset: Dataset) -> Iterator[Sandbox]:
    """A second org with the same data: one takes the collections path, the other the bulk path."""
    with Sandbox(dataset=dataset) as sb:
        yield sb


class Push:
    """One org, one store: seed reps and KPI values, run write-back, read what it did."""

    def __init__(self, tmp: Path, sb: Sandbox, mode: str, **target: Any) -> None:
        self.sb, self.crm = sb, salesforce_crm(sb)
        self.cfg = make_config(tmp, self.crm, [TARGETS[mode](self.crm, **target)])
        self.store: Store = open_store(self.cfg)
        seed_reps(self.store, self.crm)

    def run(self, values: dict[str, dict[str, float | None]]) -> WritebackResult:
        seed_kpis(self.store, values)
        return write_back(self.cfg, self.store, Run(job="writeback"))

    def calls(self) -> dict[str, int]:
        return dict(self.sb.salesforce.stats()["by_endpoint"])

    def ledger(self) -> list[tuple[Any, ...]]:
        return self.store.fetchall(LEDGER)


@pytest.fixture
def pushes(tmp_path: Path, sandbox: Sandbox, twin: Sandbox) -> Iterator[Callable[..., tuple[Push, Push]]]:
    opened: list[Push] = []

    def build(mode: str = "update", **target: Any) -> tuple[Push, Push]:
        pair = (Push(tmp_path / "collections", sandbox, mode, **target),
                Push(tmp_path / "bulk", twin, mode, bulk_threshold=0, **target))
        opened.extend(pair)
        return pair

    yield build
    for push in opened:
        push.store.close()


def delta(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    return {k: v - before.get(k, 0) for k, v in after.items() if v != before.get(k, 0)}


def values_of(push: Push, mode: str) -> list[dict[str, Any]]:
    """Every managed field of every written record, by rep."""
    org, crm = push.sb.salesforce.org, push.crm
    if mode == "update":
        return [{f: org.get("User", i)[f] for f in crm.user_fields.values()} for i in crm.user_ids]
    found = [crm.find(f"rep{n}|2026-03") for n in range(10)]
    return [{f: org.get("Rep_KPI__c", i)[f] for f in crm.upsert_fields.values()} if i else {} for i in found]


def staged(push: Push) -> dict[str, dict[str, float | None]]:
    """KPI values with a null for a field that holds a value (sent as #N/A on the bulk path) and a
    record that fails validation (rep4)."""
    org = push.sb.salesforce.org
    org.update("User", push.crm.user_ids[5], {"Calls_This_Month__c": 7.0})
    org.fail_records([push.crm.user_ids[4]], "Attainment needs a manager's sign-off.")
    values = kpis(10)
    values["rep5"]["calls"] = None
    return values


@pytest.mark.parametrize("mode", ["update", "upsert"])
def test_bulk_and_collections_leave_identical_crm_values_and_ledgers(
    pushes: Callable[..., tuple[Push, Push]], mode: str
) -> None:
    collections, bulk = pushes(mode)
    before = bulk.calls()
    by_collections, by_bulk = collections.run(staged(collections)), bulk.run(staged(bulk))
    assert by_bulk.reports[0].counts() == by_collections.reports[0].counts()
    assert values_of(bulk, mode) == values_of(collections, mode)
    assert bulk.ledger() == collections.ledger()
    used = delta(bulk.calls(), before)
    assert "composite_sobjects" not in used and used["bulk_ingest_create"] == 1
    if mode == "update":
        assert bulk.sb.salesforce.org.get("User", bulk.crm.user_ids[5])["Calls_This_Month__c"] is None
        assert [(r.record, r.code) for r in by_bulk.reports[0].rejections] == [
            (bulk.crm.user_ids[4], "FIELD_CUSTOM_VALIDATION_EXCEPTION")]
        rejected = [row for row in bulk.ledger() if row[5] == "rejected"]
        assert {(r[0], r[6], r[7]) for r in rejected} == {
            ("rep4", "FIELD_CUSTOM_VALIDATION_EXCEPTION", "Attainment needs a manager's sign-off.")}
    assert bulk.run(kpis(10)).reports[0].counts()["sent"] == collections.run(kpis(10)).reports[0].counts()["sent"]


def test_bulk_path_costs_create_upload_close_polls_and_two_result_calls(
    pushes: Callable[..., tuple[Push, Push]]
) -> None:
    _, bulk = pushes()
    before = bulk.calls()
    result = bulk.run(kpis(10))
    assert result.reports[0].counts()["sent"] == 30
    used = delta(bulk.calls(), before)
    polls = used["bulk_ingest_status"]
    assert polls >= 1
    assert {k: used[k] for k in INGEST} == {"bulk_ingest_create": 1, "bulk_ingest_upload": 1, "bulk_ingest_close": 1,
                                            "bulk_ingest_status": polls, "bulk_ingest_results": 2}
    assert sum(used[k] for k in INGEST) == 5 + polls
    assert "composite_sobjects" not in used
    assert result.reports[0].calls["bulk_ingest"] == 5 + polls
    before = bulk.calls()
    assert bulk.run(kpis(10)).reports[0].counts()["unchanged"] == 30
    assert not any(k.startswith("bulk_ingest") or k == "composite_sobjects" for k in delta(bulk.calls(), before))


def test_threshold_counts_records_per_run(tmp_path: Path, sandbox: Sandbox) -> None:
    at = Push(tmp_path / "at", sandbox, "update", bulk_threshold=10)
    before = at.calls()
    at.run(kpis(10))  # 10 records: not above the threshold
    assert delta(at.calls(), before).get("composite_sobjects") == 1
    above = Push(tmp_path / "above", sandbox, "update", bulk_threshold=9)
    before = above.calls()
    above.run(kpis(10, attainment=0.5))
    used = delta(above.calls(), before)
    assert used["bulk_ingest_create"] == 1 and "composite_sobjects" not in used
    at.store.close()
    above.store.close()


def test_row_locked_records_are_resent_through_collections(pushes: Callable[..., tuple[Push, Push]]) -> None:
    _, bulk = pushes()
    bulk.sb.salesforce.org.fail_requests(1)  # the job: UNABLE_TO_LOCK_ROW on every row
    before = bulk.calls()
    result = bulk.run(kpis(10))
    assert result.reports[0].counts()["sent"] == 30
    used = delta(bulk.calls(), before)
    assert (used["bulk_ingest_create"], used["composite_sobjects"]) == (1, 1)
    assert {row[5] for row in bulk.ledger()} == {"sent"}


def test_a_failed_job_falls_back_to_collections(
    pushes: Callable[..., tuple[Push, Push]], monkeypatch: pytest.MonkeyPatch
) -> None:
    original = ingest.csv_uploads

    def crlf(key_field: str, records: Any) -> Iterator[tuple[bytes, Any]]:  # the org fails an LF job sent CRLF
        for body, batch in original(key_field, records):
            yield body.replace(b"\n", b"\r\n"), batch

    monkeypatch.setattr(ingest, "csv_uploads", crlf)
    collections, bulk = pushes()
    before = bulk.calls()
    result = bulk.run(kpis(10))
    used = delta(bulk.calls(), before)
    assert result.reports[0].counts()["sent"] == 30
    assert (used["bulk_ingest_close"], used.get("bulk_ingest_results", 0), used["composite_sobjects"]) == (1, 0, 1)
    collections.run(kpis(10))
    assert bulk.ledger() == collections.ledger()


@pytest.mark.parametrize("endpoint", ["bulk_ingest_create", "bulk_ingest_close", "bulk_ingest_results"])
def test_cut_off_answers_are_fetched_again_and_the_outcome_is_unchanged(
    pushes: Callable[..., tuple[Push, Push]], endpoint: str
) -> None:
    collections, bulk = pushes()
    faults = bulk.sb.salesforce.faults
    faults.endpoints = frozenset({endpoint})
    faults.inject(FaultKind.TRUNCATE)  # a retried close finds the job closed; a retried create opens another
    result = bulk.run(kpis(10))
    assert faults.injected() == {"truncate": 1}
    assert result.reports[0].counts()["sent"] == 30
    assert "composite_sobjects" not in bulk.calls()
    collections.run(kpis(10))
    assert bulk.ledger() == collections.ledger()


@pytest.mark.parametrize(("text", "parsed"), [
    ("FIELD_CUSTOM_VALIDATION_EXCEPTION:Needs review.:--", ("FIELD_CUSTOM_VALIDATION_EXCEPTION", "Needs review.", [])),
    ("REQUIRED_FIELD_MISSING:Required fields are missing: [A, B]:A B --",
     ("REQUIRED_FIELD_MISSING", "Required fields are missing: [A, B]", ["A", "B"])),
    ("UNKNOWN_EXCEPTION:no trailer", ("UNKNOWN_EXCEPTION", "no trailer", [])),
])
def test_sf_error_is_read_into_code_message_and_fields(text: str, parsed: tuple[str, str, list[str]]) -> None:
    assert ingest.parse_error(text) == parsed


def test_csv_cells_are_the_values_in_the_fields_type() -> None:
    assert [ingest.csv_cell(v) for v in (81.25, 1e16, 42, None, "", "a,b", True)] == [
        "81.25", "10000000000000000", "42", "#N/A", "#N/A", "a,b", "true"]
    (body, batch), = ingest.csv_uploads("Id", [RecordWrite("005A", {"X__c": 1.5}),
                                              RecordWrite("005B", {"Y__c": "q\"uote"})])
    assert body == b'Id,X__c,Y__c\n005A,1.5,\n005B,,"q""uote"\n' and len(batch) == 2
