"""Write-back against the sandbox with the real SDKs, every scenario on Salesforce and HubSpot."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rich.console import Console

from spm_sync.connectors.hubspot.client import HubSpotClient
from spm_sync.connectors.salesforce import settings
from spm_sync.connectors.salesforce.client import SalesforceClient
from spm_sync.errors import ConfigError
from spm_sync.sandbox import Sandbox
from spm_sync.writeback import validate_targets
from tests.writeback.conftest import PERIOD, Crm, Harness, kpis, seed_kpis, upsert_target, user_target

# rep0's values as the CRM stores them: Salesforce percent (scale 2) gets 81.25 for 0.8125, currency
# rounds to 2 places, a scale-0 double to a whole number; HubSpot number properties keep the value.
REP0 = {
    "salesforce": {"quota_attainment": 81.25, "revenue_won": 12345.68, "calls": 42.0},
    "hubspot": {"quota_attainment": "81.25", "revenue_won": "12345.68", "calls": "41.6"},  # percentage, currency hints
}
REP2_EDITED = {"salesforce": (55.5, 55.5), "hubspot": ("55.5", "55.5")}  # (what a person types, read back)
REJECTED_CODE = {"salesforce": "FIELD_CUSTOM_VALIDATION_EXCEPTION", "hubspot": "OBJECT_NOT_FOUND"}
SPLIT_CODE = {"salesforce": "JSON_PARSER_ERROR", "hubspot": "VALIDATION_ERROR"}
DESCRIBE_ENDPOINT = {"salesforce": "describe", "hubspot": "properties"}
IDENTITY_ENDPOINT = {"salesforce": "userinfo", "hubspot": "account_details"}
COUNTS_ALL_SENT = {
    "planned": 30, "sent": 30, "unchanged": 0, "conflicts": 0, "rejected": 0, "invalid": 0, "held_back": 0,
}


def delta(after: dict[str, Any], before: dict[str, Any]) -> dict[str, int]:
    """Requests per endpoint between two `/__sandbox/stats` snapshots."""
    keys = set(after["by_endpoint"]) | set(before["by_endpoint"])
    out = {k: after["by_endpoint"].get(k, 0) - before["by_endpoint"].get(k, 0) for k in keys}
    return {k: v for k, v in out.items() if v}


def field_values(crm: Crm, record_id: str, fields: dict[str, str]) -> dict[str, Any]:
    return {metric: crm.get(record_id, field) for metric, field in fields.items()}


def test_update_writes_each_rep_user_in_its_field_type_in_one_batch(
    crm: Crm, sandbox: Sandbox, harness: Callable[..., Harness]
) -> None:
    h = harness(user_target(crm))
    seed_kpis(h.store, kpis(10))
    before = crm.stats(sandbox)
    result = h.run()
    assert result.reports[0].counts() == COUNTS_ALL_SENT
    assert crm.writes(sandbox) == 1
    assert delta(crm.stats(sandbox), before)[DESCRIBE_ENDPOINT[crm.name]] == 1
    assert field_values(crm, crm.user_ids[0], crm.user_fields) == REP0[crm.name]
    assert h.store.fetchone("SELECT count(*), min(outcome), max(outcome) FROM spm_state.writeback_ledger") == (
        30, "sent", "sent")


def test_upsert_creates_one_record_per_rep_and_period(
    crm: Crm, sandbox: Sandbox, harness: Callable[..., Harness]
) -> None:
    h = harness(upsert_target(crm))
    seed_kpis(h.store, kpis(10))
    result = h.run()
    assert result.reports[0].counts() == COUNTS_ALL_SENT
    assert crm.writes(sandbox) == 1
    record_id = crm.find("rep0|2026-03")
    assert record_id is not None
    assert field_values(crm, record_id, crm.upsert_fields) == REP0[crm.name]
    again = h.run()
    assert again.reports[0].counts()["unchanged"] == 30
    assert crm.writes(sandbox) == 1


def test_dry_run_prints_the_plan_and_sends_nothing(
    crm: Crm, sandbox: Sandbox, harness: Callable[..., Harness]
) -> None:
    h = harness(user_target(crm))
    seed_kpis(h.store, kpis(10))
    result = h.run(dry_run=True)
    console = Console(record=True, width=200)
    result.render(console)
    text = console.export_text()
    assert result.reports[0].counts()["planned"] == 30
    assert crm.writes(sandbox) == 0
    assert h.ledger() == []
    assert crm.get(crm.user_ids[0], crm.user_fields["quota_attainment"]) is None
    assert "dry run: nothing sent" in text
    first_row = next(line for line in text.splitlines() if crm.user_fields["quota_attainment"] in line)
    assert str(REP0[crm.name]["quota_attainment"]) in first_row and "send" in first_row


def test_rerun_without_kpi_change_makes_no_write_and_no_read_calls(
    crm: Crm, sandbox: Sandbox, harness: Callable[..., Harness]
) -> None:
    h = harness(user_target(crm))
    seed_kpis(h.store, kpis(10))
    h.run()
    before = crm.stats(sandbox)
    result = h.run()
    assert result.reports[0].counts() == {**COUNTS_ALL_SENT, "planned": 0, "sent": 0, "unchanged": 30}
    # describe, and which org / portal this is (the ledger's writes count only for it): no reads, no writes
    assert delta(crm.stats(sandbox), before) == {DESCRIBE_ENDPOINT[crm.name]: 1, IDENTITY_ENDPOINT[crm.name]: 1}


def test_only_changed_values_are_sent(crm: Crm, sandbox: Sandbox, harness: Callable[..., Harness]) -> None:
    h = harness(user_target(crm))
    values = kpis(10)
    seed_kpis(h.store, values)
    h.run()
    values["rep3"]["revenue_won"] = 1.0
    seed_kpis(h.store, values, run_id="kpi-2")
    result = h.run()
    assert result.reports[0].counts() == {**COUNTS_ALL_SENT, "planned": 1, "sent": 1, "unchanged": 29}
    assert crm.writes(sandbox) == 2
    assert h.store.fetchall(
        "SELECT entity_id, field, value_sent, kpi_run_id FROM spm_state.writeback_ledger WHERE kpi_run_id = 'kpi-2'"
    ) == [("rep3", crm.user_fields["revenue_won"], "1", "kpi-2")]


def test_human_edit_is_a_conflict_unless_overwrite(
    crm: Crm, sandbox: Sandbox, harness: Callable[..., Harness]
) -> None:
    h = harness(user_target(crm))
    values = kpis(10)
    seed_kpis(h.store, values)
    h.run()
    field = crm.user_fields["quota_attainment"]
    typed, read_back = REP2_EDITED[crm.name]
    crm.edit(crm.user_ids[2], field, typed)
    values["rep2"]["quota_attainment"] = 0.9
    seed_kpis(h.store, values, run_id="kpi-2")
    result = h.run()
    assert result.reports[0].counts() == {**COUNTS_ALL_SENT, "planned": 0, "sent": 0, "unchanged": 29,
                                          "conflicts": 1}
    assert crm.writes(sandbox) == 1
    assert crm.get(crm.user_ids[2], field) == read_back
    h.reconfigure(user_target(crm, overwrite=True))
    result = h.run()
    assert result.reports[0].counts()["sent"] == 1
    assert crm.get(crm.user_ids[2], field) == (90.0 if crm.name == "salesforce" else "90")


def _break_record(crm: Crm, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, record_id: str) -> Callable[[], None]:
    """Make the CRM refuse one record's write; returns the repair."""
    if crm.name == "salesforce":
        sandbox.salesforce.org.fail_records([record_id])
        return sandbox.salesforce.org.clear_failures
    portal = sandbox.hubspot.portal
    original = HubSpotClient.request

    def archive_before_update(self: HubSpotClient, method: str, path: str, *args: Any, **kw: Any) -> Any:
        if path.endswith("batch/update") and record_id in portal.ids("users"):
            portal.archive("users", record_id)  # deleted between our read and our write: 207 for it
        return original(self, method, path, *args, **kw)

    monkeypatch.setattr(HubSpotClient, "request", archive_before_update)

    def repair() -> None:
        monkeypatch.setattr(HubSpotClient, "request", original)
        portal.restore("users", record_id)

    return repair


def test_rejected_record_is_recorded_and_retried_next_run(
    crm: Crm, sandbox: Sandbox, harness: Callable[..., Harness], monkeypatch: pytest.MonkeyPatch
) -> None:
    h = harness(user_target(crm))
    seed_kpis(h.store, kpis(10))
    repair = _break_record(crm, sandbox, monkeypatch, crm.user_ids[4])
    result = h.run()
    assert result.reports[0].counts() == {**COUNTS_ALL_SENT, "sent": 27, "rejected": 3}
    assert crm.writes(sandbox) == 1  # a per-record rejection is never retried within the run
    assert h.store.fetchall(
        "SELECT DISTINCT entity_id, outcome, error_code FROM spm_state.writeback_ledger WHERE outcome <> 'sent'"
    ) == [("rep4", "rejected", REJECTED_CODE[crm.name])]
    repair()
    result = h.run()
    assert result.reports[0].counts() == {**COUNTS_ALL_SENT, "planned": 3, "sent": 3, "unchanged": 27}
    assert crm.writes(sandbox) == 2
    assert field_values(crm, crm.user_ids[4], crm.user_fields)["quota_attainment"] is not None


def _poison(crm: Crm, monkeypatch: pytest.MonkeyPatch, record_id: str) -> None:
    """Corrupt one record in every write payload so the real server refuses the whole batch (400)."""
    if crm.name == "salesforce":
        original = SalesforceClient.request

        def corrupt(self: SalesforceClient, method: str, path: str, **kw: Any) -> Any:
            for record in (kw.get("json") or {}).get("records", []):
                if record.get("id") == record_id:
                    record["Quota_Attainment__c"] = "not a number"
            return original(self, method, path, **kw)

        monkeypatch.setattr(SalesforceClient, "request", corrupt)
        return
    original_hs = HubSpotClient.request

    def corrupt_hs(self: HubSpotClient, method: str, path: str, json: Any = None, *args: Any, **kw: Any) -> Any:
        for item in (json or {}).get("inputs", []) if path.endswith("batch/update") else []:
            if item["id"] == record_id:
                item["properties"]["no_such_property"] = "1"
        return original_hs(self, method, path, json, *args, **kw)

    monkeypatch.setattr(HubSpotClient, "request", corrupt_hs)


def test_batch_refused_as_a_whole_is_split_until_the_bad_record_is_alone(
    crm: Crm, sandbox: Sandbox, harness: Callable[..., Harness], monkeypatch: pytest.MonkeyPatch
) -> None:
    h = harness(user_target(crm))
    seed_kpis(h.store, kpis(10))
    bad = sorted(crm.user_ids)[3]  # 4th record of the batch (records go out sorted by key)
    _poison(crm, monkeypatch, bad)
    result = h.run()
    report = result.reports[0]
    assert report.counts() == {**COUNTS_ALL_SENT, "sent": 27, "rejected": 3}
    assert [(r.record, r.code) for r in report.rejections] == [(bad, SPLIT_CODE[crm.name])]
    # 10 -> 5 (bad) + 5; 5 -> 2 + 3 (bad); 3 -> 1 + 2 (bad); 2 -> 1 (bad) + 1: 9 calls in all
    assert crm.writes(sandbox) == 9


def test_rep_without_crm_user_is_reported_invalid_not_dropped(
    crm: Crm, sandbox: Sandbox, harness: Callable[..., Harness]
) -> None:
    h = harness(user_target(crm))
    values = kpis(10)
    values["ghost"] = {"quota_attainment": 0.5, "revenue_won": 1.0}
    seed_kpis(h.store, values)
    result = h.run()
    report = result.reports[0]
    assert report.counts() == {**COUNTS_ALL_SENT, "invalid": 2}
    assert {(i.entity_id, i.metric, i.reason) for i in report.invalid} == {
        ("ghost", "quota_attainment", f"no CRM user for this rep in source {crm.source['name']}"),
        ("ghost", "revenue_won", f"no CRM user for this rep in source {crm.source['name']}"),
    }


def test_missing_or_read_only_field_is_a_config_error_before_anything_is_sent(
    crm: Crm, sandbox: Sandbox, harness: Callable[..., Harness]
) -> None:
    read_only = "Name" if crm.name == "salesforce" else "hs_object_id"
    good = user_target(crm)
    bad = user_target(crm, name="broken", fields={"quota_attainment": "No_Such_Field__c", "calls": read_only})
    h = harness(good, bad)
    seed_kpis(h.store, kpis(10))
    problems = [
        f"writeback target broken: field No_Such_Field__c (for quota_attainment) does not exist on {crm.user_object} "
        "(spm-sync writeback setup creates it)",
        f"writeback target broken: field {read_only} (for calls) on {crm.user_object} is not updateable",
    ]
    with pytest.raises(ConfigError) as caught:
        h.run()
    assert crm.writes(sandbox) == 0
    assert str(caught.value) == "; ".join(problems)
    assert validate_targets(h.cfg) == problems


def test_run_record_carries_counts_per_target(crm: Crm, sandbox: Sandbox, harness: Callable[..., Harness]) -> None:
    from spm_sync.runs import Run
    from spm_sync.writeback import write_back

    h = harness(user_target(crm))
    seed_kpis(h.store, kpis(10))
    run = Run(job="writeback")
    write_back(h.cfg, h.store, run)
    details = run.details["writeback"]["users"]
    assert {k: details[k] for k in COUNTS_ALL_SENT} == COUNTS_ALL_SENT
    assert details["period"] == "2026-03"
    assert run.records["users.sent"] == 30


@pytest.mark.parametrize("crm", ["salesforce"], indirect=True)
def test_salesforce_row_lock_errors_are_retried(
    crm: Crm, sandbox: Sandbox, harness: Callable[..., Harness], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "RETRY_BASE_S", 0.0)
    h = harness(user_target(crm))
    seed_kpis(h.store, kpis(10))
    sandbox.salesforce.org.fail_requests(1)  # the first collection call: UNABLE_TO_LOCK_ROW for every record
    result = h.run()
    assert result.reports[0].counts() == COUNTS_ALL_SENT
    assert crm.writes(sandbox) == 2


def test_team_values_update_the_record_whose_key_field_holds_the_team_id(
    crm: Crm, sandbox: Sandbox, harness: Callable[..., Harness]
) -> None:
    record_id = crm.create_team_record("team:1")
    revenue = crm.upsert_fields["revenue_won"]
    target = {"name": "teams", "source": crm.source["name"], "object": crm.upsert_object, "entity": "team",
              "period": PERIOD, "record_id_field": crm.team_key_field, "fields": {"revenue_won": revenue}}
    h = harness(target)
    seed_kpis(h.store, {"team:1": {"revenue_won": 5000.5}, "team:2": {"revenue_won": 1.0}}, entity_type="team")
    report = h.run().reports[0]
    assert report.counts() == {**COUNTS_ALL_SENT, "planned": 1, "sent": 1, "invalid": 1}
    assert [i.reason for i in report.invalid] == [f"no {crm.upsert_object} record with {crm.team_key_field}=team:2"]
    assert crm.get(record_id, revenue) == (5000.5 if crm.name == "salesforce" else "5000.5")


def test_team_on_the_user_object_needs_a_record_id_field(crm: Crm, harness: Callable[..., Harness]) -> None:
    h = harness(user_target(crm, name="teams", entity="team"))
    assert validate_targets(h.cfg) == [
        f"writeback target teams: entity team on object {crm.user_object} needs record_id_field (the field "
        "holding the team id), or mode upsert with external_id_field"
    ]
