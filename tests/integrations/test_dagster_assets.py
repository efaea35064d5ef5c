"""Dagster assets materialized in-process (`dagster.materialize`) against the sandbox on PostgreSQL."""

from __future__ import annotations

import socket
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

dg = pytest.importorskip("dagster", reason="needs the extra: pip install 'spm-sync[dagster]'")

from spm_sync.config import load_config  # noqa: E402
from spm_sync.integrations.dagster import definitions  # noqa: E402
from spm_sync.sandbox import Sandbox  # noqa: E402
from spm_sync.store import open_store  # noqa: E402
from tests.sandbox_sources import sandbox_sources  # noqa: E402

pytestmark = pytest.mark.postgres

AS_OF = date(2026, 3, 15)
SCHEDULES = [{"name": "nightly-run", "job": "run", "cron": "0 2 * * *", "timezone": "Europe/Berlin"},
             {"name": "hourly_sf", "job": "sync", "source": "sf", "cron": "5 * * * *"},
             {"name": "kpis_at_six", "job": "kpis", "cron": "0 6 * * *"}]
TARGET = {"name": "rep_kpis", "source": "sf", "object": "User", "entity": "rep", "period": "FY2026",
          "fields": {"revenue_won": "Revenue_Won__c"}}


def write_config(folder: Path, dsn: str, sources: list[dict[str, Any]], **extra: Any) -> Path:
    document = {"store": {"backend": "postgres", "dsn": dsn, "state_dir": "state"}, "as_of": AS_OF.isoformat(),
                "sources": sources, **extra}
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def refused_url() -> str:
    """A loopback address nothing listens on (the port was free a moment ago)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def materializations(result: dg.ExecuteInProcessResult) -> dict[str, dict[str, Any]]:
    """Metadata values of each materialized asset, by asset name."""
    found = {}
    for event in result.get_asset_materialization_events():
        materialization = event.step_materialization_data.materialization
        found[materialization.asset_key.to_user_string()] = {k: v.value for k, v in materialization.metadata.items()}
    return found


def test_definitions_from_config(tmp_path: Path) -> None:
    path = write_config(tmp_path, "postgresql://nobody@127.0.0.1:5432/none", [
        {"name": "sf", "type": "salesforce", "instance_url": "https://127.0.0.1:1", "session_id": "x"},
        {"name": "hs", "type": "hubspot", "access_token": "x"},
    ], writeback=[TARGET], schedules=SCHEDULES, reporting={"freshness_hours": 6})
    defs = definitions(path)
    graph = defs.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    assert keys == {"raw_sf", "raw_hs", "spm", "kpi_values", "writeback_rep_kpis"}
    assert {k.to_user_string() for k in graph.get(dg.AssetKey("spm")).parent_keys} == {"raw_sf", "raw_hs"}
    assert {k.to_user_string() for k in graph.get(dg.AssetKey("writeback_rep_kpis")).parent_keys} == {"kpi_values"}
    schedules = {s.name: defs.resolve_schedule_def(s.name) for s in defs.schedules or []}
    assert {name: (s.cron_schedule, s.execution_timezone) for name, s in schedules.items()} == {
        "nightly_run": ("0 2 * * *", "Europe/Berlin"), "hourly_sf": ("5 * * * *", "UTC"),
        "kpis_at_six": ("0 6 * * *", "UTC"),
    }
    selected = {name: {k.to_user_string() for k in defs.resolve_job_def(s.job_name).asset_layer.selected_asset_keys}
                for name, s in schedules.items()}
    assert selected == {"nightly_run": keys, "hourly_sf": {"raw_sf"}, "kpis_at_six": {"kpi_values"}}
    (checks,) = defs.asset_checks or []
    bounds = {spec.key.asset_key.to_user_string(): (spec.key.name, spec.metadata["dagster/freshness_params"].data)
              for spec in checks.check_specs}
    six_hours = {"timezone": "UTC", "lower_bound_delta_seconds": timedelta(hours=6).total_seconds()}
    assert bounds == {"raw_sf": ("freshness_check", six_hours), "raw_hs": ("freshness_check", six_hours)}


def test_every_asset_materializes_with_its_stage_counts(pg_dsn: str, tmp_path: Path) -> None:
    with Sandbox(seed=3, scale=1, as_of=AS_OF, kpi_fields=True) as sb:
        sources = sandbox_sources(sb)
        down = {"name": "down", "type": "hubspot", "base_url": refused_url(), "access_token": "x"}
        path = write_config(tmp_path, pg_dsn, [sources["sf"], sources["hs"], down], writeback=[TARGET])
        assets = list(definitions(path).assets or [])
        first = dg.materialize(assets, raise_on_error=False)
        # the failed source stopped nothing but what depends on it: the store stages then run on what is stored
        second = dg.materialize(assets, selection="spm*")
    assert not first.success
    failed = {e.step_key for e in first.all_events if e.event_type_value == "STEP_FAILURE"}
    assert failed == {"raw_down"}
    meta = {**materializations(first), **materializations(second)}
    assert sorted(meta) == ["kpi_values", "raw_hs", "raw_sf", "spm", "writeback_rep_kpis"]
    with open_store(load_config(path)) as store:
        runs = {(job, subject): (status, records, error) for job, subject, status, records, error in store.fetchall(
            "SELECT job, subject, status, records, error_class FROM spm_state.runs")}
        kpis = store.fetchone("SELECT count(*) FROM spm.kpi_values")[0]
        sent = store.fetchone("SELECT count(*) FROM spm_state.writeback_ledger WHERE outcome = 'sent'")[0]
        opportunities = store.fetchone("SELECT count(*) FROM spm.opportunities")[0]
    assert {key: status for key, (status, _, _) in runs.items()} == {
        ("sync", "sf"): "succeeded", ("sync", "hs"): "succeeded", ("sync", "down"): "failed",
        ("normalize", None): "succeeded", ("kpis", None): "succeeded", ("writeback", "rep_kpis"): "succeeded",
    }
    assert runs[("sync", "down")][2] == "Unreachable"
    for source in ("sf", "hs"):
        recorded = runs[("sync", source)][1]  # a JSON column: psycopg returns the dict
        assert meta[f"raw_{source}"]["records_by_table"] == recorded
        assert meta[f"raw_{source}"]["records"] == sum(recorded.values()) > 0
        assert meta[f"raw_{source}"]["api_calls"] > 0
    assert meta["raw_sf"]["api_budget_left"] > 0  # Salesforce reports its daily allowance
    assert meta["spm"]["rows_by_table"]["opportunities"] == opportunities > 0
    assert meta["kpi_values"]["records"] == runs[("kpis", None)][1]["kpi_values"] > 0
    assert kpis >= meta["kpi_values"]["records"]
    assert meta["writeback_rep_kpis"]["records"] == sent > 0
