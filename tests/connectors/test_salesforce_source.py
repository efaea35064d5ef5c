"""The Salesforce source end to end: real simple-salesforce over HTTPS against the sandbox org,
run by `spm_sync.extract.sync_source` into a temporary DuckDB store."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from spm_sync.config import Config, parse_config
from spm_sync.connectors.registry import raw_tables
from spm_sync.connectors.salesforce import settings
from spm_sync.errors import AuthError
from spm_sync.extract import SyncResult, sync_source
from spm_sync.runs import Run
from spm_sync.sandbox import Sandbox
from spm_sync.sandbox.dataset import Dataset, generate
from spm_sync.store import open_store

AS_OF = date(2026, 3, 15)
# Sandbox object -> raw table; the other optional objects of the table are absent from the sandbox org.
TABLES = {
    "User": "user",
    "UserRole": "user_role",
    "Account": "account",
    "Opportunity": "opportunity",
    "OpportunityHistory": "opportunity_history",
    "Lead": "lead",
    "Task": "task",
    "Event": "event",
    "ForecastingQuota": "forecasting_quota",
    "CurrencyType": "currency_type",
    "NPS_Response__c": "nps_response_c",
    "Rep_Survey__c": "rep_survey",  # rep_survey_object: a fixed raw table whatever the object's name
    "FiscalYearSettings": "fiscal_year_settings",
    "Period": "period",
    "OpportunityFieldHistory": "opportunity_field_history",
    "OpportunitySplit": "opportunity_split",
    "OpportunitySplitType": "opportunity_split_type",
}
ABSENT = ("DatedConversionRate",)
MISSING_WARNINGS = [f"{name}: NOT_FOUND: not in this org or not readable by this user; skipped" for name in ABSENT]


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    return generate(seed=7, scale="small", as_of=AS_OF)


@pytest.fixture
def sandbox(dataset: Dataset) -> Iterator[Sandbox]:
    with Sandbox(dataset=dataset) as sb:
        yield sb


@pytest.fixture(autouse=True)
def _fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings, "RETRY_BASE_S", 0.01)
    monkeypatch.setattr(settings, "BULK_POLL_START_S", 0.05)


def make_config(root: Path, sb: Sandbox, **source: Any) -> Config:
    sf = sb.salesforce
    entry = {"name": "sf", "type": "salesforce", "instance_url": sf.instance_url, "ca_bundle": sf.ca_bundle}
    if "username" not in source:
        entry["session_id"] = sf.session_id
    entry.update(source)
    return parse_config({
        "store": {"path": str(root / "spm_sync.duckdb"), "state_dir": str(root / "state")},
        "sources": [entry],
    })


def sync(cfg: Config, **kw: Any) -> SyncResult:
    store = open_store(cfg)
    try:
        return sync_source(cfg, store, "sf", run=Run(job="sync"), **kw)
    finally:
        store.close()


def read(cfg: Config, table: str, order: str = "id") -> pa.Table:
    store = open_store(cfg)
    try:
        rows = store.connection.sql(f"SELECT * FROM raw_sf.{table} ORDER BY {order}").to_arrow_table()
        return rows.drop_columns([c for c in rows.column_names if c.startswith("_dlt")])
    finally:
        store.close()


def column_types(cfg: Config, table: str) -> dict[str, str]:
    store = open_store(cfg)
    try:
        rows = store.fetchall(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'raw_sf' AND table_name = ? AND column_name NOT LIKE '\\_dlt%' ESCAPE '\\'",
            [table],
        )
    finally:
        store.close()
    return dict(rows)


def org_counts(sb: Sandbox) -> dict[str, int]:
    return {table: len(sb.salesforce.org.ids(obj, include_deleted=True)) for obj, table in TABLES.items()}


def test_full_then_unchanged_incremental(tmp_path: Path, sandbox: Sandbox) -> None:
    cfg = make_config(tmp_path, sandbox)
    first = sync(cfg)
    assert first.records == org_counts(sandbox)
    assert first.warnings == MISSING_WARNINGS
    assert first.api_calls["by_family"] == {"describe": 18, "query": 17}
    assert column_types(cfg, "opportunity") == {
        "id": "VARCHAR", "is_deleted": "BOOLEAN", "created_date": "TIMESTAMP WITH TIME ZONE",
        "created_by_id": "VARCHAR", "last_modified_date": "TIMESTAMP WITH TIME ZONE",
        "last_modified_by_id": "VARCHAR", "system_modstamp": "TIMESTAMP WITH TIME ZONE", "account_id": "VARCHAR",
        "name": "VARCHAR", "stage_name": "VARCHAR", "amount": "DOUBLE", "probability": "DOUBLE",
        "close_date": "DATE", "type": "VARCHAR", "forecast_category_name": "VARCHAR", "is_closed": "BOOLEAN",
        "is_won": "BOOLEAN", "owner_id": "VARCHAR", "currency_iso_code": "VARCHAR", "arr_c": "DOUBLE",
        "lead_source": "VARCHAR", "loss_reason_c": "VARCHAR", "won_reason_c": "VARCHAR",
    }
    deleted = sum(1 for v in read(cfg, "opportunity").column("is_deleted").to_pylist() if v)
    assert deleted == len(sandbox.salesforce.org.ids("Opportunity", include_deleted=True)) - len(
        sandbox.salesforce.org.ids("Opportunity")
    )
    # Nothing changed: one query per object, no describe, nothing loaded.
    second = sync(cfg)
    assert second.api_calls["by_family"] == {"query": 17}
    assert second.records == {}


def test_incremental_sees_changed_new_soft_and_hard_deleted(tmp_path: Path, sandbox: Sandbox) -> None:
    cfg = make_config(tmp_path, sandbox, delete_sweep_days=0)
    sync(cfg)
    org = sandbox.salesforce.org
    changed, soft, hard = org.ids("Opportunity")[:3]
    hard_name = org.get("Opportunity", hard)["Name"]
    org.update("Opportunity", changed, {"Amount": 12345.5})
    new = org.create("Opportunity", {
        "Name": "Brand new deal", "StageName": "Prospecting", "CloseDate": "2026-06-30",
        "OwnerId": org.ids("User")[0],
    })
    org.delete("Opportunity", soft)
    org.hard_delete("Opportunity", hard)

    result = sync(cfg)
    assert result.records["opportunity"] == 4  # changed, new, soft-deleted, and the swept hard-deleted row
    rows = {r["id"]: r for r in read(cfg, "opportunity").to_pylist()}
    assert len(rows) == 401
    assert rows[changed]["amount"] == 12345.5 and rows[changed]["is_deleted"] is False
    assert rows[new]["name"] == "Brand new deal" and rows[new]["close_date"] == date(2026, 6, 30)
    assert rows[soft]["is_deleted"] is True
    assert rows[hard]["is_deleted"] is True and rows[hard]["name"] == hard_name


def test_bulk_and_rest_give_identical_tables(tmp_path: Path, sandbox: Sandbox) -> None:
    rest_cfg = make_config(tmp_path / "rest", sandbox, bulk_threshold=10**9)
    bulk_cfg = make_config(tmp_path / "bulk", sandbox, bulk_threshold=0)
    sync(rest_cfg)
    bulk = sync(bulk_cfg)
    assert bulk.api_calls["by_family"]["bulk_query"] >= 3 * len(TABLES)  # create, poll, results per object
    for table in TABLES.values():
        assert column_types(bulk_cfg, table) == column_types(rest_cfg, table), table
        assert read(bulk_cfg, table).equals(read(rest_cfg, table)), table


def test_long_field_lists_are_split_and_merged(
    tmp_path: Path, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole_cfg = make_config(tmp_path / "whole", sandbox)
    sync(whole_cfg, objects=["Opportunity", "Account"])
    monkeypatch.setattr(settings, "MAX_URL_LENGTH", 260)
    monkeypatch.setattr(settings, "QUERY_BATCH_SIZE", 200)  # several pages per group, merged across pages
    split_cfg = make_config(tmp_path / "split", sandbox)
    split = sync(split_cfg, objects=["Opportunity", "Account"])
    assert split.api_calls["by_family"]["query"] >= 4  # two or more field groups per object
    for table in ("opportunity", "account"):
        assert read(split_cfg, table).equals(read(whole_cfg, table)), table


def test_missing_object_and_field_are_reported_and_skipped(tmp_path: Path, sandbox: Sandbox) -> None:
    cfg = make_config(
        tmp_path, sandbox, extra_objects=["Nope__c"],
        fields={"allow": {"Opportunity": ["Name", "Bogus__c"]}, "deny": {"Account": ["Industry"]}},
    )
    result = sync(cfg, objects=["Opportunity", "Account", "Nope__c"])
    assert result.warnings == [
        "Opportunity.Bogus__c: field not found or not readable; skipped",
        "Nope__c: NOT_FOUND: not in this org or not readable by this user; skipped",
    ]
    assert set(result.records) == {"opportunity", "account"}
    assert list(column_types(cfg, "opportunity")) == ["id", "is_deleted", "system_modstamp", "name"]
    assert "industry" not in column_types(cfg, "account")


def test_config_objects_restrict_the_source(tmp_path: Path, sandbox: Sandbox) -> None:
    cfg = make_config(tmp_path, sandbox, objects=["User", "opportunity"], extra_objects=["Rep_Survey__c"])
    result = sync(cfg)
    assert set(result.records) == {"user", "opportunity", "rep_survey"}
    assert result.api_calls["by_family"] == {"describe": 3, "query": 3}
    assert sync(cfg, objects=["Lead"]).warnings == ["Lead: not in the source's `objects:`; skipped"]


def test_the_rep_survey_object_named_in_config_lands_in_rep_survey(tmp_path: Path, sandbox: Sandbox) -> None:
    cfg = make_config(tmp_path, sandbox)
    surveys = len(sandbox.salesforce.org.ids("Rep_Survey__c"))
    assert surveys > 0
    assert sync(cfg, objects=["Rep_Survey__c"]).records == {"rep_survey": surveys}
    assert {"rep_c", "score_c", "topic_c", "comment_c", "submitted_at_c"} <= set(column_types(cfg, "rep_survey"))
    renamed = make_config(tmp_path / "renamed", sandbox, rep_survey_object="Pulse_Survey__c")
    assert "rep_survey" in raw_tables(renamed.sources[0]) and "pulse_survey_c" not in raw_tables(renamed.sources[0])
    result = sync(renamed, objects=["Pulse_Survey__c"])
    assert result.warnings == ["Pulse_Survey__c: NOT_FOUND: not in this org or not readable by this user; skipped"]
    none = make_config(tmp_path / "none", sandbox, rep_survey_object=None)
    assert "rep_survey" not in raw_tables(none.sources[0])


def test_budget_stopped_runs_continue_from_the_saved_cursor(
    tmp_path: Path, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Beyond the raw contract (test_raw_contract.py): each budgeted run picks up where the last stopped."""
    monkeypatch.setattr(settings, "QUERY_BATCH_SIZE", 200)  # OpportunityHistory: 1,647 rows = 9 pages
    cfg = make_config(tmp_path / "budget", sandbox, api_budget={"per_run": 4})
    runs = []
    for _ in range(6):
        result = sync(cfg, objects=["OpportunityHistory"])
        runs.append((result.stopped_by_budget, result.api_calls["total"]))
        if result.stopped_by_budget is None:
            break
    stop = "per-run API budget of 4 calls reached"
    # 1 describe + 3 pages (600 rows), then 4 pages (800 rows) from the saved cursor, then the last 247 rows.
    assert runs == [(stop, 4), (stop, 4), (None, 2)]
    assert read(cfg, "opportunity_history").num_rows == org_counts(sandbox)["opportunity_history"]


def test_describe_cache_revalidates_with_if_modified_since(
    tmp_path: Path, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = make_config(tmp_path, sandbox)
    sync(cfg, objects=["Account"])
    monkeypatch.setattr(settings, "DESCRIBE_MAX_AGE_S", 0.0)
    before = sandbox.salesforce.stats()["by_endpoint"].get("describe", 0)
    second = sync(cfg, objects=["Account"])
    assert second.api_calls["by_family"] == {"describe": 1, "query": 1}  # one conditional describe: 304
    assert sandbox.salesforce.stats()["by_endpoint"]["describe"] == before + 1
    assert column_types(cfg, "account")["name"] == "VARCHAR"


def test_expired_session_without_credentials_is_an_auth_error(tmp_path: Path, sandbox: Sandbox) -> None:
    cfg = make_config(tmp_path, sandbox)
    sandbox.salesforce.org.expire_session()
    with pytest.raises(Exception) as err:
        sync(cfg, objects=["Account"])
    cause: BaseException | None = err.value
    while cause is not None and not isinstance(cause, AuthError):
        cause = cause.__cause__ or cause.__context__
    assert isinstance(cause, AuthError)
    assert sandbox.salesforce.session_id not in str(err.value)


def test_password_login_refreshes_once_on_401(tmp_path: Path, sandbox: Sandbox) -> None:
    from spm_sync.calls import ApiCalls
    from spm_sync.connectors.salesforce.client import SalesforceClient

    org = sandbox.salesforce.org
    username = org.get("User", org.ids("User")[0])["Username"]
    cfg = make_config(tmp_path, sandbox, username=username, password=org.password)
    calls = ApiCalls(source="sf")
    client = SalesforceClient(cfg.sources[0], calls)  # type: ignore[arg-type]
    org.expire_session()
    assert client.request("GET", "limits").parsed()  # 401, log in again, repeat
    assert calls.by_family == {"auth": 2, "limits": 2}
    result = sync(cfg, objects=["UserRole"])
    assert result.records == {"user_role": 3}


def test_faults_are_retried_to_the_same_store(tmp_path: Path, sandbox: Sandbox) -> None:
    clean_cfg = make_config(tmp_path / "clean", sandbox, bulk_threshold=500)
    sync(clean_cfg)
    faults = sandbox.salesforce.server.faults
    faults.timeout_s = 0.5
    faults.retry_after_s = 0
    faults.reseed(3)
    faults.rate = 0.25
    faulty_cfg = make_config(tmp_path / "faulty", sandbox, bulk_threshold=500, timeout_s=0.5, max_retries=8)
    result = sync(faulty_cfg)
    faults.rate = 0.0
    assert result.records == org_counts(sandbox)
    assert result.api_calls["total"] > 27
    for table in TABLES.values():
        assert read(faulty_cfg, table).equals(read(clean_cfg, table)), table


def test_backfill_window_is_resumable_and_leaves_the_cursor_alone(
    tmp_path: Path, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import UTC, datetime

    monkeypatch.setattr(settings, "QUERY_BATCH_SIZE", 200)
    window = (datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 10, 1, tzinfo=UTC))
    org = sandbox.salesforce.org
    expected = sorted(
        i for i in org.ids("OpportunityHistory", include_deleted=True)
        if window[0] <= datetime.fromisoformat(org.get("OpportunityHistory", i)["CreatedDate"]) < window[1]
    )
    assert 400 < len(expected) < 1600
    cfg = make_config(tmp_path, sandbox, api_budget={"per_run": 2})
    stops = []
    for _ in range(8):
        result = sync(cfg, objects=["OpportunityHistory"], window=window)
        stops.append(result.stopped_by_budget is not None)
        if not stops[-1]:
            break
    assert stops[0] and stops[-1] is False and len(stops) > 2
    assert read(cfg, "opportunity_history").column("id").to_pylist() == expected
    # The backfill pipeline kept its own state: a normal sync still pulls the whole object.
    cfg_all = make_config(tmp_path, sandbox)
    total = len(org.ids("OpportunityHistory", include_deleted=True))
    assert sync(cfg_all, objects=["OpportunityHistory"]).records == {"opportunity_history": total}


def test_jwt_bearer_login_against_the_instance(tmp_path: Path, sandbox: Sandbox) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    org = sandbox.salesforce.org
    username = org.get("User", org.ids("User")[0])["Username"]
    cfg = make_config(tmp_path, sandbox, username=username, consumer_key="3MVG9-test", private_key=pem)
    result = sync(cfg, objects=["UserRole"])
    assert result.records == {"user_role": 3}
    assert result.api_calls["by_family"] == {"auth": 1, "describe": 1, "query": 1}


def test_stale_describe_cache_skips_the_object_once_then_heals(tmp_path: Path, sandbox: Sandbox) -> None:
    import json

    cfg = make_config(tmp_path, sandbox)
    sync(cfg, objects=["UserRole"])
    cached = tmp_path / "state" / "cache" / "sf" / "describe" / "UserRole.json"
    entry = json.loads(cached.read_text())
    entry["describe"]["fields"].append({"name": "Dropped__c", "type": "string"})  # a field since deleted
    cached.write_text(json.dumps(entry))
    stale = sync(cfg, objects=["UserRole"])
    assert stale.records == {}
    assert len(stale.warnings) == 1 and stale.warnings[0].startswith("UserRole: fields changed since the cached")
    assert not cached.exists()
    healed = sync(cfg, objects=["UserRole"], full=True)
    assert healed.records == {"user_role": 3} and healed.warnings == []
