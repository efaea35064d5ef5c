"""`spm-sync status`: freshness, cursors, record counts, write-back outcomes, schedule, data quality."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from rich.console import Console
from rich.table import Table

from spm_sync.config import Config
from spm_sync.extract import pipelines_dir, raw_dataset
from spm_sync.output import print_table
from spm_sync.runs import mark_interrupted, utcnow
from spm_sync.store import Store, json_column, open_store


def _age(then: datetime | None, now: datetime) -> str | None:
    if then is None:
        return None
    seconds = int((now - then).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit} ago"
    return f"{seconds}s ago"


def cursor_positions(cfg: Config, source: str) -> dict[str, Any]:
    """Last cursor value per resource from the dlt pipeline's local state (empty before the first sync)."""
    import dlt

    path = pipelines_dir(cfg) / f"spm_{source}"
    if not path.exists():
        return {}
    try:
        state = dlt.attach(pipeline_name=f"spm_{source}", pipelines_dir=str(pipelines_dir(cfg))).state
    except Exception:  # noqa: BLE001 - a broken local state must not break status
        return {}
    cursors: dict[str, Any] = {}
    for source_state in state.get("sources", {}).values():
        for resource, resource_state in source_state.get("resources", {}).items():
            for cursor, inc in (resource_state.get("incremental") or {}).items():
                cursors[resource] = {"cursor": cursor, "last_value": inc.get("last_value")}
            if isinstance(resource_state.get("cursor"), int):  # HubSpot's own: epoch ms of the last change read
                last = datetime.fromtimestamp(resource_state["cursor"] / 1000, UTC)
                cursors[resource] = {"cursor": "last_modified", "last_value": last}
    return cursors


def store_location(cfg: Config) -> str:
    """The store as an absolute file path, or the PostgreSQL DSN without its password."""
    if cfg.store.backend == "duckdb":
        return str(cfg.store.path.resolve())
    assert cfg.store.dsn is not None
    parts = urlsplit(cfg.store.dsn.get_secret_value())
    if parts.password is None:
        return parts.geturl()
    host = parts.netloc.rsplit("@", 1)[-1]
    return parts._replace(netloc=f"{parts.username}:***@{host}").geturl()


def raw_counts(store: Store, source: str) -> dict[str, int]:
    schema = raw_dataset(source)
    tables = store.fetchall(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = ? AND table_name NOT LIKE '\\_dlt%' "
        "ESCAPE '\\' ORDER BY table_name",
        [schema],
    )
    return {t: store.scalar(f'SELECT count(*) FROM {schema}."{t}"') for (t,) in tables}


def _last_run(store: Store, job: str, subject: str | None, status: str | None = None) -> dict[str, Any] | None:
    clauses = ["job = ?"]
    params: list[Any] = [job]
    if subject is not None:
        clauses.append("subject = ?")
        params.append(subject)
    if status is not None:
        clauses.append("status = ?")
        params.append(status)
    rows = store.fetch_dicts(
        "SELECT run_id, status, started_at, ended_at, records, api_calls, api_budget, error_class, error_message "
        f"FROM spm_state.runs WHERE {' AND '.join(clauses)} ORDER BY started_at DESC LIMIT 1",
        params,
    )
    if not rows:
        return None
    row = rows[0]
    for key in ("records", "api_calls", "api_budget"):
        row[key] = json_column(row[key])
    return row


def _details(row: dict[str, Any]) -> dict[str, Any]:
    return json_column(row["details"]) or {}


def last_writebacks(store: Store) -> dict[str, Any]:
    """The last real write-back run and the last dry run (a dry run writes nothing, so it is not the
    stage's outcome)."""
    rows = store.fetch_dicts(
        "SELECT status, started_at, ended_at, details FROM spm_state.runs WHERE job = 'writeback' "
        "ORDER BY started_at DESC LIMIT 50"
    )
    found: dict[str, Any] = {"real": None, "dry_run": None}
    for row in rows:
        kind = "dry_run" if _details(row).get("dry_run") else "real"
        if found[kind] is None:
            found[kind] = {k: row[k] for k in ("status", "started_at", "ended_at")}
    return found


def writeback_outcomes(store: Store, target: str) -> dict[str, Any]:
    """The target's last real (not dry-run) write-back: when, and counts sent / unchanged /
    conflicts / rejected / invalid, as recorded in that run's details."""
    rows = store.fetch_dicts(
        "SELECT run_id, status, ended_at, details FROM spm_state.runs WHERE job = 'writeback' "
        "ORDER BY started_at DESC LIMIT 50"
    )
    for row in rows:
        details = _details(row)
        report = (details.get("writeback") or {}).get(target)
        if report is None or details.get("dry_run"):
            continue
        counts = {k: v for k, v in report.items() if isinstance(v, int) and not isinstance(v, bool)}
        return {"last_run_id": row["run_id"], "status": row["status"], "at": row["ended_at"], "counts": counts}
    return {"last_run_id": None, "status": None, "at": None, "counts": {}}


def next_runs(cfg: Config, now: datetime) -> list[dict[str, Any]]:
    from apscheduler.triggers.cron import CronTrigger

    upcoming = []
    for schedule in cfg.schedules:
        trigger = CronTrigger.from_crontab(schedule.cron, timezone=schedule.timezone)
        fire = trigger.get_next_fire_time(None, now.replace(tzinfo=UTC))
        upcoming.append(
            {"schedule": schedule.name, "job": schedule.job, "next_run": fire.isoformat() if fire else None}
        )
    return upcoming


def quality_counts(store: Store) -> dict[str, int]:
    row = store.fetchone("SELECT max(found_at) FROM spm_state.quality")
    if not row or row[0] is None:
        return {}
    latest = store.scalar("SELECT run_id FROM spm_state.quality WHERE found_at = ? LIMIT 1", [row[0]])
    return dict(
        store.fetchall(
            "SELECT check_name, count(*) FROM spm_state.quality WHERE run_id = ? GROUP BY 1 ORDER BY 1", [latest]
        )
    )


def rejected_inputs(store: Store) -> dict[str, Any]:
    """Input rows normalize refused, per input, and the KPI values computed without them (spm.kpi_flags)."""
    by_input = dict(store.fetchall("SELECT input, count(*) FROM spm.rejected_inputs GROUP BY 1 ORDER BY 1"))
    flagged = store.fetchall(
        "SELECT DISTINCT entity_type, entity_id, period, metric FROM spm.kpi_flags ORDER BY 1, 2, 3, 4"
    )
    return {
        "rows": {str(k): int(v) for k, v in by_input.items()},
        "kpis_flagged": len(flagged),
        "examples": [" ".join(str(part) for part in row) for row in flagged[:3]],
    }


def collect_status(cfg: Config, now: datetime | None = None) -> dict[str, Any]:
    now = now or utcnow()
    freshness = timedelta(hours=cfg.reporting.freshness_hours)
    warnings: list[str] = []
    with open_store(cfg) as store:
        mark_interrupted(store)
        sources = []
        for source in cfg.sources:
            last_ok = _last_run(store, "sync", source.name, "succeeded")
            last_any = _last_run(store, "sync", source.name)
            synced_at = last_ok["ended_at"] if last_ok else None
            stale = synced_at is None or now - synced_at > freshness
            if stale:
                warnings.append(
                    f"source {source.name}: "
                    + (f"last successful sync {_age(synced_at, now)}" if synced_at else "never synced successfully")
                )
            if last_any and last_any["status"] not in ("succeeded", "running"):
                warnings.append(
                    f"source {source.name}: last sync {last_any['status']} {_age(last_any['started_at'], now)}: "
                    f"{last_any['error_message'] or 'no error recorded'}"
                )
            sources.append(
                {
                    "source": source.name,
                    "type": source.type,
                    "last_success": synced_at,
                    "age": _age(synced_at, now),
                    "stale": stale,
                    "last_status": last_any["status"] if last_any else None,
                    "last_error": last_any["error_message"] if last_any and last_any["status"] != "succeeded" else None,
                    "api_budget": last_ok["api_budget"] if last_ok else None,
                    "cursors": cursor_positions(cfg, source.name),
                    "records": raw_counts(store, source.name),
                }
            )
        targets = [{"target": t.name, **writeback_outcomes(store, t.name)} for t in cfg.writeback]
        stages = {job: _last_run(store, job, None) for job in ("normalize", "kpis")}
        writebacks = last_writebacks(store)
        stages["writeback"] = writebacks["real"]
        quality = quality_counts(store)
        rejected = rejected_inputs(store)
    if rejected["rows"]:
        rows = ", ".join(f"{name} {n}" for name, n in rejected["rows"].items())
        examples = "; e.g. " + ", ".join(rejected["examples"]) if rejected["examples"] else ""
        warnings.append(
            f"rejected input rows ({rows}; listed in spm_state.quality): {rejected['kpis_flagged']} KPI values "
            f"are computed without them{examples}; write-back holds them back unless on_rejected_inputs: send"
        )
    return {
        "generated_at": now,
        "store": {"backend": cfg.store.backend, "location": store_location(cfg)},
        "sources": sources,
        "stages": {
            k: ({"status": v["status"], "started_at": v["started_at"], "ended_at": v["ended_at"]} if v else None)
            for k, v in stages.items()
        },
        "writeback_dry_run": writebacks["dry_run"],
        "writeback": targets,
        "schedules": next_runs(cfg, now),
        "quality": quality,
        "rejected_inputs": rejected,
        "warnings": warnings,
    }


def render_status(info: dict[str, Any], console: Console) -> None:
    console.print(f"store: {info['store']['backend']} {info['store']['location']}", soft_wrap=True)
    table = Table(title="Sources")
    for column in ("source", "type", "last success", "status", "records"):
        table.add_column(column)
    cursors = Table(title="Cursors (where the next incremental sync starts)")
    for column in ("source", "object", "cursor", "last value"):
        cursors.add_column(column)
    for s in info["sources"]:
        table.add_row(
            s["source"],
            s["type"],
            s["age"] or "never",
            ("[red]" if s["stale"] or s["last_error"] else "[green]") + (s["last_status"] or "-"),
            f"{sum(s['records'].values()):,} in {len(s['records'])} tables",
        )
        for name, cursor in s["cursors"].items():
            cursors.add_row(s["source"], name, cursor["cursor"], _when(cursor["last_value"]))
    print_table(console, table)
    if cursors.row_count:
        print_table(console, cursors)
    for name, stage in info["stages"].items():
        when = (
            f"{stage['status']} at {(stage['ended_at'] or stage['started_at']):%Y-%m-%d %H:%M}" if stage else None
        )
        console.print(f"{name}: {when or 'never run'}")
    if dry := info["writeback_dry_run"]:
        console.print(f"writeback dry run: {dry['status']} at {(dry['ended_at'] or dry['started_at']):%Y-%m-%d %H:%M}"
                      " (nothing sent)")
    for target in info["writeback"]:
        counts = ", ".join(f"{k} {v}" for k, v in sorted(target["counts"].items())) or "never run"
        console.print(f"write-back {target['target']}: {counts}")
    for schedule in info["schedules"]:
        console.print(f"next {schedule['schedule']} ({schedule['job']}): {schedule['next_run']}")
    if info["quality"]:
        console.print("data quality: " + ", ".join(f"{k} {v}" for k, v in info["quality"].items()))
    for warning in info["warnings"]:
        console.print(f"[yellow]warning[/]: {warning}", soft_wrap=True, highlight=False)


def _when(value: Any) -> str:
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            value = datetime.fromisoformat(value)
    if isinstance(value, datetime):
        return f"{value.astimezone(UTC) if value.tzinfo else value:%Y-%m-%d %H:%M:%S} UTC"
    return "-" if value is None else str(value)
