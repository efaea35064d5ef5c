"""The extract stage: run a connector's dlt source into `raw_<source>` of the store."""

from __future__ import annotations

import os
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from spm_sync.calls import ApiCalls
from spm_sync.config import Config
from spm_sync.connectors.context import ExtractContext
from spm_sync.connectors.registry import source_factory
from spm_sync.errors import BudgetExhausted, find_cause
from spm_sync.interrupted_loads import repair_working_folder
from spm_sync.logs import log_event
from spm_sync.runs import Run
from spm_sync.store import Store, ensure_folder, json_column

os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")


@dataclass
class SyncResult:
    source: str
    records: dict[str, int] = field(default_factory=dict)
    api_calls: dict[str, Any] = field(default_factory=dict)
    stopped_by_budget: str | None = None
    warnings: list[str] = field(default_factory=list)
    repeated: list[str] = field(default_factory=list)  # warnings the previous run of the source gave too


# Parquet is fastest into DuckDB; dlt's postgres destination loads parquet only through an ADBC
# driver (else it warns and picks another format), so PostgreSQL gets csv, which it loads with COPY.
LOADER_FILE_FORMATS = {"duckdb": "parquet", "postgres": "csv"}


def pipelines_dir(cfg: Config) -> Path:
    return cfg.store.state_dir / "pipelines"


def raw_dataset(source_name: str) -> str:
    return f"raw_{source_name}"


def make_pipeline(cfg: Config, store: Store, source_name: str, *, suffix: str = "") -> Any:
    import dlt

    return dlt.pipeline(
        pipeline_name=f"spm_{source_name}{suffix}",
        destination=store.dlt_destination(),
        dataset_name=raw_dataset(source_name),
        pipelines_dir=str(pipelines_dir(cfg)),
    )


Loading = Callable[[], AbstractContextManager[Any]]


def loaded_row_counts(normalize_info: Any) -> dict[str, int]:
    return {k: v for k, v in normalize_info.row_counts.items() if not k.startswith("_dlt")}


def sync_source(
    cfg: Config,
    store: Store,
    source_name: str,
    *,
    run: Run,
    objects: list[str] | None = None,
    full: bool = False,
    window: tuple[datetime, datetime] | None = None,
    progress: Any = None,
    allow_empty: bool = False,
    loading: Loading = nullcontext,
) -> SyncResult:
    """Pull one source incrementally (or `full`, or a backfill `window`) and load it with dlt.

    dlt's steps run one by one (what `pipeline.run` does) so that only the load, the one step that
    writes `raw_<source>`, runs under `loading` (jobs: the source's data lock): the CRM calls of a
    sync never wait for a normalize reading the source."""
    source_cfg = cfg.source(source_name)
    budget = getattr(source_cfg, "api_budget", None)
    calls = ApiCalls(
        source=source_name,
        per_run_budget=budget.per_run if budget else None,
        reserve_fraction=budget.reserve_fraction if budget else 0.0,
    )
    result = SyncResult(source=source_name)
    context = ExtractContext(
        calls=calls,
        cache_dir=cfg.store.state_dir / "cache" / source_name,
        objects=objects,
        window=window,
        full=full,
        allow_empty=allow_empty,
        warn=result.warnings.append,
        **({"progress": progress} if progress else {}),
    )
    ensure_folder(context.cache_dir, "store.state_dir")
    if hasattr(progress, "watch"):
        progress.watch(calls)
    dlt_source = source_factory(source_cfg.type)(source_cfg, context)
    pipeline = make_pipeline(cfg, store, source_name, suffix="_backfill" if window else "")
    recovered = False
    try:
        with store.extract_memory():
            recovered = finish_interrupted(pipeline, source_name, loading)
            pipeline.extract(
                dlt_source,
                loader_file_format=LOADER_FILE_FORMATS[store.backend],
                refresh="drop_resources" if full else None,  # dlt drops the tables in the load step
            )
            result.records = loaded_row_counts(pipeline.normalize())
            with loading():
                pipeline.load()
    except Exception as exc:
        stop = find_cause(exc, BudgetExhausted)
        if stop is None:
            raise
        calls.mark_exhausted(str(stop))
    result.stopped_by_budget = calls.exhausted
    if calls.exhausted:
        log_event(f"stopped cleanly: {calls.exhausted}", level=30, stage="sync", source=source_name)
    result.api_calls = calls.snapshot()
    for name, n in result.records.items():
        run.count(name, n)
    for family, n in calls.by_family.items():
        run.api_calls[family] = run.api_calls.get(family, 0) + n
    run.api_budget = {"daily_used": calls.daily_used, "daily_max": calls.daily_max}
    reloaded = bool(context.digests) and context.digests == previous_digests(store, run, source_name)
    run.details.update({"warnings": result.warnings, "stopped_by_budget": result.stopped_by_budget,
                        "raw_changed": (bool(result.records) and not reloaded) or full or recovered})  # fingerprint.py
    if context.digests:
        run.details["digests"] = context.digests
    result.repeated = sorted(set(result.warnings) & previous_warnings(store, run, source_name))
    return result



def previous_digests(store: Store, run: Run, source_name: str) -> dict[str, str] | None:
    """What the source's previous sync or backfill loaded (ExtractContext.digests), if that run succeeded:
    after a failed one the raw tables may hold anything."""
    row = store.fetchone(
        "SELECT status, details FROM spm_state.runs WHERE job IN ('sync', 'backfill') AND subject = ? "
        "AND run_id <> ? ORDER BY started_at DESC LIMIT 1",
        [source_name, run.run_id],
    )
    if row is None or row[0] != "succeeded" or not row[1]:
        return None
    return json_column(row[1]).get("digests")


def previous_warnings(store: Store, run: Run, source_name: str) -> set[str]:
    """What the source's previous run of the same job warned about: an object the org does not have is
    said once (and kept in every run's details), not on every sync."""
    row = store.fetchone(
        "SELECT details FROM spm_state.runs WHERE job = ? AND subject = ? AND run_id <> ? AND details IS NOT NULL "
        "ORDER BY started_at DESC LIMIT 1",
        [run.job, source_name, run.run_id],
    )
    details = json_column(row[0]) if row else None
    return set((details or {}).get("warnings") or [])


def finish_interrupted(pipeline: Any, source_name: str, loading: Loading) -> bool:
    """Repair what a killed run left in the pipeline's folder, restore the pipeline's state from the
    store (as `pipeline.run` does first), then normalize and load its pending packages (their cursors
    are already saved, so they must land) before anything new is extracted. One log line when there
    was anything; True when packages were loaded."""
    notes = repair_working_folder(Path(pipeline.working_dir))
    pending = [*pipeline.list_extracted_load_packages(), *pipeline.list_normalized_load_packages()]
    pipeline.sync_destination()
    if pipeline.list_extracted_load_packages():
        pipeline.normalize()
    if pipeline.list_normalized_load_packages():
        with loading():
            pipeline.load()
    if pending:
        notes.append(f"finished {len(pending)} load package(s) left by the interrupted run: {', '.join(pending)}")
    if notes:
        log_event(f"recovered an interrupted sync: {'; '.join(notes)}", level=30, stage="sync", source=source_name)
    return bool(pending)
