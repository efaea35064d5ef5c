"""`spm-sync runs`: the run history kept in `spm_state.runs`, newest first, one row per stage run."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from spm_sync.output import print_table
from spm_sync.runs import mark_interrupted
from spm_sync.store import Store, json_column

RUN_KEYS = (
    "run_id", "job", "source", "started_at", "duration_s", "outcome", "records", "api_calls", "budget_left",
    "error", "writeback",
)


def _writeback_counts(details: dict[str, Any]) -> dict[str, int] | None:
    """Field values changed (differing from the ledger), sent and rejected, summed over the run's targets;
    None for runs that are not write-backs. A dry run sends nothing."""
    targets = details.get("writeback")
    if not isinstance(targets, dict):
        return None
    total = {"changed": 0, "sent": 0, "rejected": 0}
    for report in targets.values():
        total["changed"] += int(report.get("planned", 0))
        total["sent"] += int(report.get("sent", 0))
        total["rejected"] += int(report.get("rejected", 0))
    return total


def run_rows(store: Store, job: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
    """The last `limit` runs (of `job`), newest first, with exactly `RUN_KEYS`."""
    mark_interrupted(store)
    where, params = ("WHERE job = ? ", [job]) if job else ("", [])
    rows = store.fetch_dicts(
        "SELECT run_id, job, subject, started_at, ended_at, status, records, api_calls, api_budget, error_message, "
        f"details FROM spm_state.runs {where}ORDER BY started_at DESC LIMIT ?",
        [*params, limit],
    )
    out = []
    for row in rows:
        records, calls = json_column(row["records"]) or {}, json_column(row["api_calls"]) or {}
        budget, details = json_column(row["api_budget"]) or {}, json_column(row["details"]) or {}
        daily_max, daily_used = budget.get("daily_max"), budget.get("daily_used")
        ended = row["ended_at"]
        out.append({
            "run_id": row["run_id"],
            "job": row["job"] + (" (dry run)" if details.get("dry_run") else ""),
            "source": row["subject"],
            "started_at": row["started_at"],
            "duration_s": round((ended - row["started_at"]).total_seconds(), 1) if ended else None,
            "outcome": row["status"],
            "records": sum(v for k, v in records.items() if "." not in k),
            "api_calls": sum(calls.values()),
            "budget_left": daily_max - (daily_used or 0) if daily_max else None,
            "error": row["error_message"],
            "writeback": _writeback_counts(details),
        })
    return out


def render_runs(rows: list[dict[str, Any]], console: Console) -> None:
    if not rows:
        console.print("no runs recorded yet")
        return
    table = Table(title="Runs (newest first)")
    for column in ("started (UTC)", "job", "source", "outcome", "duration", "records", "API calls",
                   "budget left", "write-back changed/sent/rejected", "error"):
        table.add_column(column, overflow="fold")
    for row in rows:
        wb = row["writeback"]
        colour = {"succeeded": "green", "failed": "red", "running": "yellow"}.get(row["outcome"], "yellow")
        table.add_row(
            f"{row['started_at']:%Y-%m-%d %H:%M:%S}",
            row["job"],
            row["source"] or "-",
            f"[{colour}]{row['outcome']}[/]",
            "-" if row["duration_s"] is None else f"{row['duration_s']:.1f}s",
            f"{row['records']:,}",
            f"{row['api_calls']:,}",
            "-" if row["budget_left"] is None else f"{row['budget_left']:,}",
            f"{wb['changed']}/{wb['sent']}/{wb['rejected']}" if wb else "-",
            row["error"] or "",
        )
    print_table(console, table)
