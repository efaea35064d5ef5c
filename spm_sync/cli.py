"""The `spm-sync` command line: a thin face over `spm_sync.jobs` and the stage modules.

Exit codes: 0 ok, 1 a run failed, 2 usage or configuration error. Errors print as one line.
"""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from spm_sync.config import Config, load_config, resolve_config_path
from spm_sync.errors import ConfigError, RunFailed, SpmError
from spm_sync.logs import configure_logging, log_event

if TYPE_CHECKING:  # the extract stage is imported only when a sync runs
    from spm_sync.extract import SyncResult

console = Console()
err_console = Console(stderr=True)

app = typer.Typer(
    name="spm-sync",
    help=(
        "Sales Performance Management sync: pull CRM data into one store, compute attainment and "
        "activity KPIs per rep, team and period, and write them back into CRM fields.\n\n"
        "Example: spm-sync --config config.yaml run"
    ),
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    add_completion=False,
)
sandbox_app = typer.Typer(help="Local emulators of the Salesforce and HubSpot APIs.", no_args_is_help=True)
app.add_typer(sandbox_app, name="sandbox")


class LogFormat(StrEnum):
    text = "text"
    json = "json"


class LogLevel(StrEnum):
    DEBUG = "DEBUG"
    INFO = "INFO"
    WARNING = "WARNING"
    ERROR = "ERROR"


class OutputFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"
    parquet = "parquet"


class StatusFormat(StrEnum):
    table = "table"
    json = "json"


class State:
    config_path: Path | None = None
    lock_timeout: float | None = None


STATE = State()


@app.callback()
def main_options(
    config: Annotated[
        Path | None,
        typer.Option(
            "--config", "-c", help="Config file (default ./config.yaml, or $SPM_SYNC_CONFIG).", show_default=False
        ),
    ] = None,
    log_format: Annotated[
        LogFormat, typer.Option(help="text (readable) or json (one object a line).")
    ] = LogFormat.text,
    log_level: Annotated[
        LogLevel, typer.Option(case_sensitive=False, help="Least severe log lines shown.")
    ] = LogLevel.INFO,
    lock_timeout: Annotated[
        float | None,
        typer.Option(
            min=0,
            help="When another process runs the same stage: wait up to this many seconds (default: "
            "runs.lock_timeout_s from config, 0 = exit at once with a message).",
        ),
    ] = None,
) -> None:
    STATE.config_path = config
    STATE.lock_timeout = lock_timeout
    configure_logging(log_format.value, log_level.value)


def _config() -> Config:
    cfg = load_config(resolve_config_path(STATE.config_path))
    if STATE.lock_timeout is not None:
        runs = cfg.runs.model_copy(update={"lock_timeout_s": STATE.lock_timeout})
        cfg = cfg.model_copy(update={"runs": runs})
    return cfg


def _split(values: str | None) -> list[str] | None:
    return [v.strip() for v in values.split(",") if v.strip()] if values else None


# --- pipeline stages ---------------------------------------------------------------------------


@app.command()
def sync(
    source: Annotated[
        list[str] | None, typer.Option("--source", "-s", help="Source name (repeatable); default all.")
    ] = None,
    objects: Annotated[str | None, typer.Option(help="Comma-separated objects to pull, e.g. Opportunity,User.")] = None,
    full: Annotated[bool, typer.Option(help="Re-pull everything, ignoring incremental cursors.")] = False,
    allow_empty: Annotated[
        bool, typer.Option(help="Let a header-only export file replace (delete) its stored rows.")
    ] = False,
) -> None:
    """Extract CRM objects into raw_<source> tables, incrementally.

    Example: spm-sync sync --source salesforce --objects Opportunity,OpportunityHistory
    """
    from spm_sync import jobs
    from spm_sync.progress import sync_progress

    cfg = _config()
    failed: RunFailed | None = None
    source = list(dict.fromkeys(source)) if source else None  # --source sf --source sf syncs sf once
    with sync_progress(console) as progress:
        try:
            results = jobs.sync(
                cfg, source, objects=_split(objects), full=full, progress=progress, allow_empty=allow_empty
            )
        except RunFailed as exc:  # the sources that succeeded are reported first
            failed, results = exc, exc.results
    print_synced(results)
    if failed is not None:
        raise failed


def print_synced(results: list[SyncResult]) -> None:
    """Per source: records, API calls, and each warning once (one line each; those the previous sync of
    the source gave too are counted, and listed at DEBUG). `sync` and `run` both end with this."""
    for result in results:
        total = sum(result.records.values())
        calls = result.api_calls.get("total", 0)
        console.print(f"[bold]{result.source}[/]: {total} records loaded, {calls} API calls")
        for warning in dict.fromkeys(result.warnings):
            if warning not in result.repeated:
                console.print(f"  [yellow]warning[/]: {warning}", soft_wrap=True, highlight=False)
        if result.repeated:
            console.print(f"  {len(result.repeated)} warning(s) as on the previous sync, not repeated "
                          "(listed with --log-level DEBUG)", soft_wrap=True)
            for warning in result.repeated:
                log_event(f"as on the previous sync: {warning}", level=logging.DEBUG, source=result.source)
        if result.stopped_by_budget:
            console.print(f"  [yellow]stopped early[/]: {result.stopped_by_budget} (the next run resumes)")


def window_end(text: str | None, now: datetime) -> datetime:
    """`--to` as people read dates: a day is included whole (2026-01-31 ends at 2026-02-01 00:00);
    a date with a time is the exact end; none is now."""
    if text is None:
        return now
    try:
        end = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(
            f"expected a date (2026-01-31) or a date and time, got {text!r}", param_hint="--to"
        ) from None
    if end.tzinfo is not None:
        end = end.astimezone(UTC).replace(tzinfo=None)
    return end + timedelta(days=1) if len(text) == len("2026-01-31") else end


@app.command()
def backfill(
    source: Annotated[str, typer.Option("--source", "-s", help="Source name.")],
    from_: Annotated[datetime, typer.Option("--from", help="Window start (date or datetime, UTC).")],
    to: Annotated[
        str | None,
        typer.Option("--to", help="Window end, inclusive: a date includes that whole day (default now).",
                     show_default=False),
    ] = None,
    objects: Annotated[str | None, typer.Option(help="Comma-separated objects (default all).")] = None,
    restart: Annotated[
        bool, typer.Option(help="Pull the whole window again, also the chunks an earlier run of it finished.")
    ] = False,
) -> None:
    """Re-pull a window of history without moving incremental cursors; resumable.

    Re-running the same backfill continues after its last finished chunk; --restart starts it over.
    Example: spm-sync backfill --source salesforce --from 2025-01-01 --to 2025-06-30
    """
    from spm_sync import jobs
    from spm_sync.progress import sync_progress

    cfg = _config()
    end = window_end(to, datetime.now(UTC).replace(tzinfo=None))
    with sync_progress(console) as progress:
        result = jobs.backfill(
            cfg, source, from_, end, objects=_split(objects), progress=progress, restart=restart
        )
    last_day = end - timedelta(microseconds=1)
    console.print(f"backfill of {source} {from_:%Y-%m-%d} .. {last_day:%Y-%m-%d} (inclusive): {result}", soft_wrap=True)


REBUILD_HELP = "Rebuild even when the inputs are those of the last successful run (which is otherwise kept)."


@app.command()
def normalize(rebuild: Annotated[bool, typer.Option(help=REBUILD_HELP)] = False) -> None:
    """Rebuild the normalized spm.* tables from the raw tables using mappings/*.yaml.

    When no raw table, config, mapping or day changed since the last successful normalize, its
    tables are kept; --rebuild rebuilds anyway (e.g. after raw rows were edited by hand).

    Example: spm-sync normalize
    """
    from spm_sync import jobs

    console.print(jobs.normalize(_config(), rebuild=rebuild).summary())


@app.command()
def kpis(
    compute: Annotated[bool, typer.Option(help="Compute before printing (--no-compute reads stored values).")] = True,
    rebuild: Annotated[bool, typer.Option(help=REBUILD_HELP)] = False,
    period: Annotated[
        str | None,
        typer.Option(help="Period id: 2026-03, FY2026-Q1, FY2026, or current_quarter. Default: the current fiscal "
                     "quarter and month, by team then attainment."),
    ] = None,
    grain: Annotated[str | None, typer.Option(help="month, quarter or year.")] = None,
    entity_type: Annotated[str | None, typer.Option(help="rep, team or company.")] = None,
    entity: Annotated[
        str | None, typer.Option(help="A rep's id, email or name, or a team's id or name (see `spm-sync list reps`).")
    ] = None,
    team: Annotated[
        str | None, typer.Option(help="Team name or id: the team and the reps of it and its sub-teams.")
    ] = None,
    metric: Annotated[
        str | None, typer.Option(help="Comma-separated metric names (see `spm-sync list metrics`).")
    ] = None,
    by: Annotated[
        str | None,
        typer.Option(
            "--by",
            help="A breakdown dimension (loss_reason, deal_type, lead_source, topic): the values per dimension "
            "value instead of the totals, with dimension and dimension_value columns.",
        ),
    ] = None,
    format: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="table, json, csv or parquet.")
    ] = OutputFormat.table,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to a file (required for parquet).")
    ] = None,
) -> None:
    """Compute KPIs per rep, team and company, and print them with rep and team names.

    Without --period: the current fiscal quarter and month; the table then has one row per team and
    rep with the headline metrics (attainment, revenue, quota, win rate, ...), percentages as
    percentages. A filter that matches nothing exits 2 naming it.

    Example: spm-sync kpis --team "Boston Sales"
    Example: spm-sync kpis --period FY2026-Q1 --entity melissa.roberts@example.com --format json
    """
    from spm_sync import jobs
    from spm_sync.metrics import KpiFilter
    from spm_sync.metrics.lookup import HEADLINE_METRICS, KpiAsk, kpi_rows, overview, units
    from spm_sync.metrics.query import check_filter
    from spm_sync.output import write_rows
    from spm_sync.store import open_store

    cfg = _config()
    check_filter(KpiFilter(period=period, grain=grain, entity_type=entity_type))  # a typo: refused before computing
    if metric:
        from spm_sync.metrics import load_catalog

        known = {m.name for m in load_catalog(cfg).metrics}
        if unknown := [m for m in _split(metric) or [] if m not in known]:
            raise ConfigError(f"unknown metric(s) {', '.join(unknown)} (see `spm-sync list metrics`)")
    if compute:
        jobs.kpis(cfg, rebuild=rebuild)
    overview_table = format is OutputFormat.table and period is None and grain is None and metric is None and by is None
    metrics = list(HEADLINE_METRICS) if overview_table else _split(metric)  # the overview reads only its columns
    ask = KpiAsk(period=period, grain=grain, entity_type=entity_type, entity=entity, team=team, metrics=metrics, by=by)
    with open_store(cfg) as store:
        rows = kpi_rows(cfg, store, ask)
    shown_units = units(cfg) if format is OutputFormat.table else None
    if shown_units is not None and overview_table:
        rows = overview(rows, HEADLINE_METRICS)
        shown_units.update({header: shown_units.get(m, "number") for m, header in HEADLINE_METRICS.items()})
    write_rows(rows, format.value, output, console, shown_units)


class ListWhat(StrEnum):
    reps = "reps"
    teams = "teams"
    metrics = "metrics"
    periods = "periods"


@app.command("list")
def list_(
    what: Annotated[ListWhat, typer.Argument(help="reps, teams, metrics or periods.")],
    format: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="table, json, csv or parquet.")
    ] = OutputFormat.table,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to a file.")] = None,
) -> None:
    """List what `kpis` and `report` can be asked for: reps (name, email, team, id), teams, metrics
    (with their definitions) and periods (the current ones marked).

    Example: spm-sync list reps --format csv
    """
    from spm_sync.metrics.lookup import list_rows
    from spm_sync.output import write_rows
    from spm_sync.store import open_store

    cfg = _config()
    with open_store(cfg) as store:
        rows = list_rows(cfg, store, what.value)
    write_rows(rows, format.value, output, console)


@app.command()
def report(
    period: Annotated[
        str | None, typer.Option(help="Period id (FY2026-Q1, 2026-03, FY2026) or current_month/current_year; "
                                 "default the current fiscal quarter.")
    ] = None,
    team: Annotated[str | None, typer.Option(help="Team name or id: that team, its sub-teams and reps.")] = None,
    output: Annotated[Path, typer.Option("--output", "-o", help="The HTML file to write.")] = Path("report.html"),
) -> None:
    """Write one self-contained HTML report (opens offline): team and rep leaderboards, attainment over the
    fiscal year against the pro-rated quota, stage funnel, new vs existing revenue, NPS/CSAT, with each
    number's definition on hover and when the data was last synced. Reads stored KPIs (run `kpis` first).

    Example: spm-sync report --period FY2026-Q1 --team "Boston Sales" --output boston.html
    """
    from spm_sync.report import build_report

    data = build_report(_config(), period, team, output)
    console.print(f"report {data.period} ({len(data.teams)} teams, {len(data.reps)} reps): {output.resolve()}")


class ExplainFormat(StrEnum):
    table = "table"
    json = "json"


@app.command()
def explain(
    entity: Annotated[
        str | None, typer.Option(help="Rep email, name or id, team name or id, or company.")
    ] = None,
    metric: Annotated[str | None, typer.Option(help="Metric name, e.g. quota_attainment.")] = None,
    period: Annotated[
        str | None, typer.Option(help="Period id (2026-03, FY2026-Q1, FY2026) or current_quarter.")
    ] = None,
    run: Annotated[
        str | None,
        typer.Option(help="A KPI run id (or write-back run id): alone, the CRM field values written from it; "
                     "with --entity/--metric/--period, that run's value."),
    ] = None,
    format: Annotated[ExplainFormat, typer.Option("--format", "-f", help="table or json.")] = ExplainFormat.table,
) -> None:
    """Why a KPI value is what it is: value, numerator, denominator, every contributing record (with
    its credit share and the crediting rule) and the records left out, with the reason.

    Example: spm-sync explain --entity ada@example.com --metric quota_attainment --period FY2026-Q1
    """
    import json

    from spm_sync.metrics.explain import explain as explain_value
    from spm_sync.metrics.explain import ledger_rows
    from spm_sync.output import write_rows
    from spm_sync.store import open_store

    cfg = _config()
    asked = [entity, metric, period]
    if any(a is None for a in asked) and (run is None or any(a is not None for a in asked)):
        raise ConfigError("give --entity, --metric and --period (optionally --run), or --run alone")
    with open_store(cfg) as store:
        if entity is None or metric is None or period is None:
            assert run is not None
            write_rows(ledger_rows(store, run), format.value, None, console)
            return
        today = cfg.as_of or datetime.now(UTC).date()
        result = explain_value(cfg, store, entity, metric, period, today, run)
    if format is ExplainFormat.json:
        sys.stdout.write(json.dumps(result.as_json(), default=str) + "\n")
    else:
        result.render(console)


writeback_app = typer.Typer()  # help: the callback docstring (the push itself)
app.add_typer(writeback_app, name="writeback")


@writeback_app.callback(invoke_without_command=True)
def writeback(
    ctx: typer.Context,
    target: Annotated[
        list[str] | None, typer.Option("--target", "-t", help="Target name (repeatable); default all.")
    ] = None,
    dry_run: Annotated[bool, typer.Option(help="Print the plan (current -> new per field); send nothing.")] = False,
) -> None:
    """Push changed KPI values into CRM fields (only what differs from the ledger).

    `spm-sync writeback setup` creates the fields first (see its --help).

    Example: spm-sync writeback --target sf_rep_attainment --dry-run
    """
    if ctx.invoked_subcommand is not None:
        return
    from spm_sync import jobs

    jobs.writeback(_config(), target, dry_run=dry_run).render(console)


@writeback_app.command("setup")
def writeback_setup(
    target: Annotated[
        list[str] | None, typer.Option("--target", "-t", help="Target name (repeatable); default all.")
    ] = None,
    dry_run: Annotated[bool, typer.Option(help="Print the plan (what exists, what would be created); create "
                                          "nothing.")] = False,
) -> None:
    """Create the CRM fields the write-back targets need: plan first, then only what is missing.

    HubSpot: the spm_sync property group and typed properties. Salesforce: custom fields (and the
    custom object of upsert targets) through the Tooling API, plus the SPM_Sync_KPIs permission sets
    for the users and profiles in the source's kpi_access. A field that exists with another type is
    reported as a conflict (exit 1) and nothing is created.

    Example: spm-sync writeback setup --target sf_rep_month --dry-run
    """
    from spm_sync.writeback.setup import SetupConflict, setup

    try:
        result = setup(_config(), target, dry_run=dry_run)
    except SetupConflict as exc:
        exc.result.render(console)
        raise
    result.render(console)


@app.command("run")
def run_all() -> None:
    """Run every stage in order: sync all sources, normalize, kpis, writeback.

    Example: spm-sync --config config.yaml run
    """
    from spm_sync import jobs
    from spm_sync.progress import sync_progress

    try:
        with sync_progress(console) as progress:
            results = jobs.run_all(_config(), progress=progress)
    except RunFailed as exc:  # what the sources that ran said, before the failure lines
        print_synced(exc.results.get("sync", []) if isinstance(exc.results, dict) else exc.results)
        raise
    console.print(f"run complete: stages {', '.join(results)}")
    print_synced(results["sync"])


# --- operations -------------------------------------------------------------------------------


@app.command()
def schedule(
    once: Annotated[bool, typer.Option(help="Run the jobs that are due now, then exit (for cron).")] = False,
) -> None:
    """Run the scheduler daemon for the `schedules:` in config (stops cleanly on SIGTERM/SIGINT).

    Example: spm-sync schedule            # daemon
             spm-sync schedule --once     # from cron / a Kubernetes CronJob
    """
    from spm_sync.scheduler import run_scheduler

    run_scheduler(_config(), once=once, console=console)


@app.command()
def status(
    format: Annotated[StatusFormat, typer.Option("--format", "-f", help="table or json.")] = StatusFormat.table,
) -> None:
    """Show last syncs and their age, cursors, records, write-back outcomes, next runs, data quality.

    Example: spm-sync status --format json
    """
    from spm_sync.ops.status import collect_status, render_status

    info = collect_status(_config())
    if format is StatusFormat.json:
        import json

        typer.echo(json.dumps(info, default=str, indent=2))
    else:
        render_status(info, console)


@app.command()
def runs(
    job: Annotated[
        str | None, typer.Option(help="Only runs of this job: sync, backfill, normalize, kpis, writeback.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="How many runs, newest first.")] = 20,
    format: Annotated[StatusFormat, typer.Option("--format", "-f", help="table or json.")] = StatusFormat.table,
) -> None:
    """Run history: per run its job, source, start, duration, outcome, records, API calls, daily API
    budget left, error line, and write-back values changed / sent / rejected.

    Example: spm-sync runs --job sync --limit 5
    """
    from spm_sync.ops.history import render_runs, run_rows
    from spm_sync.store import open_store

    jobs_known = ("sync", "backfill", "normalize", "kpis", "writeback")
    if job is not None and job not in jobs_known:
        raise ConfigError(f"--job: unknown job {job!r} (use one of {', '.join(jobs_known)})")
    with open_store(_config()) as store:
        rows = run_rows(store, job, limit)
    if format is StatusFormat.json:
        import json

        typer.echo(json.dumps(rows, default=str, indent=2))
    else:
        render_runs(rows, console)


@app.command()
def check() -> None:
    """Validate config and mappings, reach every source once, verify write-back fields.

    Exit code 0 only if every check passes; 2 when the config or a mapping is wrong (a mapping naming a
    raw table or column the synced source does not have), 1 when something else fails.
    Example: spm-sync check
    """
    from spm_sync.ops.check import render_checks, run_checks

    results = run_checks(resolve_config_path(STATE.config_path))
    render_checks(results, console)
    if any(not r.ok and r.usage for r in results):
        raise typer.Exit(2)
    if not all(r.ok for r in results):
        raise typer.Exit(1)


@app.command()
def demo(
    keep: Annotated[Path | None, typer.Option(help="Keep the demo's files (store, config) in this folder.")] = None,
    seed: Annotated[int, typer.Option(help="Data set seed.")] = 7,
    store_dsn: Annotated[
        str | None,
        typer.Option(help="Run on this empty PostgreSQL database instead of a DuckDB file.", show_default=False),
    ] = None,
) -> None:
    """Start the sandbox CRMs on loopback and run the whole loop; print a leaderboard.

    Needs no config and no network. Example: spm-sync demo --keep ./demo
    On PostgreSQL: spm-sync demo --store-dsn postgresql://postgres@127.0.0.1:5432/spm_demo
    """
    from spm_sync.demo import run_demo

    run_demo(console, keep=keep, seed=seed, store_dsn=store_dsn)


@sandbox_app.command("serve")
def sandbox_serve(
    seed: Annotated[int, typer.Option(help="Data set seed (same seed, same data).")] = 7,
    scale: Annotated[str, typer.Option(help="small, medium, large, or a number of reps.")] = "small",
    faults: Annotated[float, typer.Option(help="Fraction of requests answered with a fault (0..1).")] = 0.0,
    split: Annotated[bool, typer.Option(help="Split teams between the two CRMs instead of mirroring.")] = False,
    rate_limit: Annotated[int, typer.Option(help="HubSpot requests per 10 s.")] = 100,
    fiscal_start_month: Annotated[
        int, typer.Option(min=0, max=12, help="Salesforce org's fiscal year start month (0: no Period data).")
    ] = 1,
    mirror: Annotated[bool, typer.Option(
        help="HubSpot holds the Salesforce integration's copies of every company, deal and contact "
             "(with hs_salesforceopportunityid etc.); excludes --split.")] = False,
    kpi_fields: Annotated[
        bool, typer.Option(help="Start with the write-back KPI fields; --no-kpi-fields: as a new org/portal, "
                           "for trying `spm-sync writeback setup`.")
    ] = True,
    port_sf: Annotated[int, typer.Option(min=0, max=65535, help="Salesforce emulator port (0: a free one).")] = 0,
    port_hs: Annotated[int, typer.Option(min=0, max=65535, help="HubSpot emulator port (0: a free one).")] = 0,
    state: Annotated[Path | None, typer.Option(
        help="Keep the TLS CA, ports and Salesforce session in this folder and reuse them next time, so a "
             "config written for an earlier run (demo --keep DIR: DIR/sandbox) works again.")] = None,
) -> None:
    """Serve the Salesforce (HTTPS) and HubSpot (HTTP) emulators until interrupted.

    The first stdout line is a JSON object with their URLs, tokens and CA bundle. The data set is
    built anew each start (records, and fields created by writeback setup, live in memory).
    Example: spm-sync sandbox serve --seed 3 --scale medium --faults 0.05
    Example: spm-sync sandbox serve --mirror   (HubSpot mirrors Salesforce, as with the native integration)
    Example: spm-sync sandbox serve --port-sf 8443 --port-hs 8080 --state ./sandbox-state
    """
    scale_value: str | int = int(scale) if scale.isdigit() else scale
    if scale_value not in ("small", "medium", "large") and not isinstance(scale_value, int):
        raise ConfigError(f"--scale: expected small, medium, large or a number of reps, got {scale!r}")
    if not 0.0 <= faults <= 1.0:
        raise ConfigError(f"--faults: expected a fraction between 0 and 1, got {faults}")
    if mirror and split:
        raise ConfigError("--mirror and --split exclude each other: a mirrored HubSpot copies all of Salesforce")
    from spm_sync.sandbox.serve import serve

    serve(
        seed=seed,
        scale=scale_value,
        faults=faults,
        split=split,
        rate_limit=rate_limit,
        fiscal_start_month=fiscal_start_month or None,
        mirror=mirror,
        kpi_fields=kpi_fields,
        salesforce_port=port_sf,
        hubspot_port=port_hs,
        state_dir=state,
    )


def main(argv: list[str] | None = None) -> Any:
    """Console entry point: turns project errors into one line and an exit code."""
    try:
        return app(args=argv, standalone_mode=False)
    except SpmError as exc:
        for line in str(exc).splitlines() or [type(exc).__name__]:
            err_console.print(f"error: {line}", style="red", markup=False, highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err_console.print("interrupted", style="yellow")
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except Exception as exc:  # usage errors (typer's click) and the unexpected
        if hasattr(exc, "show") and hasattr(exc, "exit_code"):
            exc.show()
            sys.exit(exc.exit_code)
        if type(exc).__name__ == "Abort":
            sys.exit(130)
        err_console.print(f"error: {type(exc).__name__}: {exc}", style="red", markup=False, soft_wrap=True)
        sys.exit(1)


if __name__ == "__main__":
    sys.exit(main())  # a command's typer.Exit code comes back as main's return value
