"""Dagster definitions over the same stage jobs the CLI runs (`spm_sync.jobs`); no logic of their own.

One asset per source (`raw_<source>`), `spm` (normalize) after all of them, `kpi_values`, one
`writeback_<target>` per write-back target; schedules from the config's `schedules:`; a freshness
check per source from `reporting.freshness_hours`. Each materialization carries the stage's counts.
Locks, run history (`spm_state.runs`) and alerts stay where the CLI has them, so Dagster and cron
runs of one store mix safely. dagster-dlt is not used: the extract stage around dlt (budgets,
interrupted-load repair, locks, run records) is what a sync is here.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import dagster as dg

from spm_sync import jobs
from spm_sync.config import Config, Schedule, WritebackTarget, load_config

SOURCE_GROUP = "extract"
STORE_GROUP = "spm"


def _metadata(values: dict[str, Any]) -> dict[str, Any]:
    """Dagster metadata without the values the stage did not know (None)."""
    return {key: value for key, value in values.items() if value is not None}


def source_asset_key(source: str) -> dg.AssetKey:
    return dg.AssetKey(f"raw_{source}")


def _source_asset(cfg: Config, source: str, retry_policy: dg.RetryPolicy | None) -> dg.AssetsDefinition:
    @dg.asset(
        name=f"raw_{source}",
        group_name=SOURCE_GROUP,
        kinds={cfg.source(source).type},
        description=f"`spm-sync sync --source {source}`: the CRM's objects as sent, in raw_{source}",
        retry_policy=retry_policy,
    )
    def raw() -> dg.MaterializeResult[Any]:
        result = jobs.sync(cfg, [source])[0]
        calls = result.api_calls
        daily_max, daily_used = calls.get("daily_max"), calls.get("daily_used")
        return dg.MaterializeResult(metadata=_metadata({
            "records": sum(result.records.values()),
            "records_by_table": result.records,
            "api_calls": calls.get("total"),
            "api_calls_by_family": calls.get("by_family"),
            "api_budget_left": daily_max - daily_used if daily_max and daily_used is not None else None,
            "stopped_by_budget": result.stopped_by_budget,
        }))

    return raw


def _store_assets(cfg: Config, raw_keys: Sequence[dg.AssetKey]) -> list[dg.AssetsDefinition]:
    @dg.asset(name="spm", group_name=STORE_GROUP, deps=list(raw_keys), kinds={cfg.store.backend},
              description="`spm-sync normalize`: spm.* rebuilt from every source's raw tables")
    def spm() -> dg.MaterializeResult[Any]:
        result = jobs.normalize(cfg)
        return dg.MaterializeResult(metadata={
            "records": sum(result.tables.values()), "rows_by_table": result.tables,
            "quality_problems": sum(result.quality.values()), "seconds": round(result.seconds, 3),
        })

    @dg.asset(name="kpi_values", group_name=STORE_GROUP, deps=[spm], kinds={cfg.store.backend},
              description="`spm-sync kpis`: every KPI per rep, team and company, per period")
    def kpi_values() -> dg.MaterializeResult[Any]:
        result = jobs.kpis(cfg)
        return dg.MaterializeResult(metadata={
            "records": result.values, "entities": result.entities, "flagged": result.flagged,
            "spm_run_id": result.run_id, "seconds": round(result.duration_s, 3),
        })

    return [spm, kpi_values, *(_writeback_asset(cfg, target, kpi_values) for target in cfg.writeback)]


def _writeback_asset(cfg: Config, target: WritebackTarget, kpi_values: dg.AssetsDefinition) -> dg.AssetsDefinition:
    @dg.asset(name=f"writeback_{target.name}", group_name="writeback", deps=[kpi_values],
              kinds={cfg.source(target.source).type},
              description=f"`spm-sync writeback --target {target.name}`: changed KPI values to CRM fields")
    def writeback() -> dg.MaterializeResult[Any]:
        totals = jobs.writeback(cfg, [target.name]).totals()
        return dg.MaterializeResult(metadata={"records": totals.get("sent", 0), "outcomes": totals})

    return writeback


def _selection(schedule: Schedule) -> dg.AssetSelection:
    """The assets a schedule's job runs: what `spm-sync <job>` with the same options would run."""
    if schedule.job == "sync":
        return (dg.AssetSelection.assets(source_asset_key(schedule.source)) if schedule.source
                else dg.AssetSelection.groups(SOURCE_GROUP))
    if schedule.job == "writeback":
        return (dg.AssetSelection.assets(f"writeback_{schedule.target}") if schedule.target
                else dg.AssetSelection.groups("writeback"))
    if schedule.job == "run":
        return dg.AssetSelection.all()
    return dg.AssetSelection.assets({"normalize": "spm", "kpis": "kpi_values"}[schedule.job])


def _schedule(schedule: Schedule) -> dg.ScheduleDefinition:
    name = schedule.name.replace("-", "_")
    return dg.ScheduleDefinition(
        name=name,
        job=dg.define_asset_job(f"{name}_job", selection=_selection(schedule)),
        cron_schedule=schedule.cron,
        execution_timezone=schedule.timezone,
        description=f"config schedule {schedule.name!r}: {schedule.job}",
    )


def definitions(config_path: str | Path, *, retry_policy: dg.RetryPolicy | None = None) -> dg.Definitions:
    """Dagster `Definitions` for the spm-sync config at `config_path` (what a `definitions.py` returns).

    `retry_policy` applies to the source assets (a CRM outage is worth a retry; a failed normalize is not).
    """
    cfg = load_config(Path(config_path))
    sources = [_source_asset(cfg, source.name, retry_policy) for source in cfg.sources]
    raw_keys = [source_asset_key(source.name) for source in cfg.sources]
    freshness = _freshness_checks(raw_keys, timedelta(hours=cfg.reporting.freshness_hours))
    return dg.Definitions(
        assets=[*sources, *_store_assets(cfg, raw_keys)],
        asset_checks=freshness,
        schedules=[_schedule(schedule) for schedule in cfg.schedules],
        sensors=[_freshness_sensor(freshness)] if freshness else [],
        jobs=[dg.define_asset_job("spm_sync_all", selection=dg.AssetSelection.all())],
    )


def _freshness_checks(raw_keys: list[dg.AssetKey], older_than: timedelta) -> Sequence[dg.AssetChecksDefinition]:
    """One `freshness_check` per source asset and the sensor that runs them: the checks' pass/fail history
    shows in Dagster OSS without the newer FreshnessPolicy machinery, whose supersession notice is muted."""
    if not raw_keys:
        return []
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*is superseded.*")
        return dg.build_last_update_freshness_checks(assets=raw_keys, lower_bound_delta=older_than)


def _freshness_sensor(checks: Sequence[dg.AssetChecksDefinition]) -> dg.SensorDefinition:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*is superseded.*")
        return dg.build_sensor_for_freshness_checks(freshness_checks=checks)
