"""Dagster assets materialized in-process (`dagster.materialize`) against the sandbox on PostgreSQL."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

dg = pytest.importorskip("dagster", reason="needs the extra: pip install 'spm-sync[dagster]'")

from spm_sync.integrations.dagster import definitions  # noqa: E402
from spm_sync.sandbox import Sandbox  # noqa: E402
from spm_sync.store import open_store  # noqa: E402
from tests.sandbox_sources import sandbox_sources  # noqa: E402

pytestmark = pytest.mark.postgres

AS_OF = date(2026, 3, 15)


def write_config(folder: Path, dsn: str, sources: list[dict[str, Any]], **extra: Any) -> Path:
    document = {"store": {"backend": "postgres", "dsn": dsn, "state_dir": "state"}, "as_of": AS_OF.isoformat(),
                "sources": sources, **extra}
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def materializations(result: dg.ExecuteInProcessResult) -> dict[str, dict[str, Any]]:
    """Metadata values of each materialized asset, by asset name."""
    found = {}
    for event in result.get_asset_materialization_events():
        materialization = event.step_materialization_data.materialization
        found[materialization.asset_key.to_user_string()] = {k: v.value for k, v in materialization.metadata.items()}
    return found


def test_every_asset_materializes_with_its_stage_counts(pg_dsn: str, tmp_path: Path) -> None:
    schedules = [{"name": "nightly-run", "job": "run", "cron": "0 2 * * *", "timezone": "Europe/Berlin"},
                 {"name": "hourly_sf", "job": "sync", "source": "sf", "cron": "5 * * * *"}]
    with Sandbox(seed=3, scale=2, as_of=AS_OF, kpi_fields=True) as sb:
        sources = sandbox_sources(sb)
        target = {"name": "rep_kpis", "source": "sf", "object": "User", "entity": "rep", "period": "FY2026",
                  "fields": {"revenue_won": "Revenue_Won__c"}}
        path = write_config(tmp_path, pg_dsn, [sources["sf"], sources["hs"]], writeback=[target],
                            schedules=schedules, reporting={"freshness_hours": 6})
        defs = definitions(path)
        result = dg.materialize(list(defs.assets or []), raise_on_error=True)
    assert result.success
    meta = materializations(result)
    assert sorted(meta) == ["kpi_values", "raw_hs", "raw_sf", "spm", "writeback_rep_kpis"]
    with open_store(open_config(path)) as store:
        runs = {(job, subject): (status, records) for job, subject, status, records in store.fetchall(
            "SELECT job, subject, status, records FROM spm_state.runs")}
        kpis = store.fetchone("SELECT count(*) FROM spm.kpi_values")[0]
        sent = store.fetchone("SELECT count(*) FROM spm_state.writeback_ledger WHERE outcome = 'sent'")[0]
        opportunities = store.fetchone("SELECT count(*) FROM spm.opportunities")[0]
    assert {key: status for key, (status, _) in runs.items()} == {
        ("sync", "sf"): "succeeded", ("sync", "hs"): "succeeded", ("normalize", None): "succeeded",
        ("kpis", None): "succeeded", ("writeback", "rep_kpis"): "succeeded",
    }
    for source in ("sf", "hs"):
        recorded = runs[("sync", source)][1]  # a JSON column: psycopg returns the dict
        assert meta[f"raw_{source}"]["records_by_table"] == recorded
        assert meta[f"raw_{source}"]["records"] == sum(recorded.values()) > 0
        assert meta[f"raw_{source}"]["api_calls"] > 0
    assert meta["raw_sf"]["api_budget_left"] > 0  # Salesforce reports its daily allowance
    assert meta["spm"]["rows_by_table"]["opportunities"] == opportunities > 0
    assert meta["kpi_values"]["records"] == kpis > 0
    assert meta["writeback_rep_kpis"]["records"] == sent > 0


def open_config(path: Path) -> Any:
    from spm_sync.config import load_config

    return load_config(path)
