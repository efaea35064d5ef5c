"""`spm-sync demo`: the whole loop on the sandbox CRMs, with no config and no network.

Starts both emulators on loopback with HubSpot mirroring Salesforce through the native integration
(every company, deal and contact in both CRMs, the HubSpot copies carrying the Salesforce ids), deals
reassigned after close, revenue splits and reps who moved team mid-year (a teams file with dated
membership). The CRMs start without the KPI fields: `writeback setup` creates them. Then it syncs,
normalizes, credits (each deal once, to its owner at close or its split owners, in the team of the
credited date), computes KPIs, writes them back, and prints a leaderboard, why deals were lost, the
process and the team's survey (eNPS), the pipeline hygiene as of the last full month's end, plus the
values now stored in the sandbox CRMs' fields, with their periods and the names of the upserted records.
"""

from __future__ import annotations

import csv
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import yaml
from rich.console import Console
from rich.table import Table

from spm_sync import jobs
from spm_sync.calls import ApiCalls
from spm_sync.config import Config, HubSpotSource, SalesforceSource, parse_config
from spm_sync.errors import ConfigError
from spm_sync.runs import utcnow
from spm_sync.store import open_store

DEMO_PERIOD = "current_quarter"
LEADERBOARD_METRICS = ("revenue_won", "quota", "quota_attainment", "win_rate", "calls", "emails", "meetings")
SF_FIELDS = {"quota_attainment": "Quota_Attainment__c", "revenue_won": "Revenue_Won__c", "win_rate": "Win_Rate__c"}
HS_FIELDS = {"quota_attainment": "spm_quota_attainment", "revenue_won": "spm_revenue_won"}
# What makes a written value readable: its period and when it was computed (fields `writeback setup` creates).
SF_RECORD_FIELDS = {"period_field": "KPI_Period__c", "computed_at_field": "KPI_Computed_At__c"}
HS_RECORD_FIELDS = {"period_field": "spm_kpi_period"}
SF_HISTORY = {"object": "Rep_KPI__c", "mode": "upsert", "external_id_field": "Rep_Period_Key__c",
              "name_field": "Name", "lookup_field": "Rep__c", "period_field": "Period__c"}


def demo_store(folder: Path, store_dsn: str | None = None) -> dict[str, Any]:
    """A DuckDB file in the demo folder, or the PostgreSQL database `store_dsn`; dlt's state stays in the folder."""
    state_dir = str(folder / "state")
    if store_dsn:
        return {"backend": "postgres", "dsn": store_dsn, "state_dir": state_dir}
    return {"path": str(folder / "spm_sync.duckdb"), "state_dir": state_dir}


def write_team_history(dataset: Any, path: Path) -> Path:
    """The teams file a sales-ops user keeps: one dated row per team a moved rep belonged to
    (valid_to inclusive, empty while current), as the files source reads it."""
    teams = dict(zip(dataset.teams["team_id"].to_pylist(), dataset.teams["name"].to_pylist(), strict=True))
    emails = dict(zip(dataset.reps["rep_id"].to_pylist(), dataset.reps["email"].to_pylist(), strict=True))
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["team", "rep_email", "valid_from", "valid_to"])
        for row in dataset.team_history.to_pylist():
            last_day = row["valid_to"] - timedelta(days=1) if row["valid_to"] else None
            writer.writerow([teams[row["team_id"]], emails[row["rep_id"]], row["valid_from"].isoformat(),
                             last_day.isoformat() if last_day else ""])
    return path


def demo_config_document(sandbox: Any, folder: Path, store_dsn: str | None = None,
                         teams_file: Path | None = None, period: str = DEMO_PERIOD) -> dict[str, Any]:
    """A config like a user would write, pointing both sources at the emulators (and the teams file)."""
    sf, hs = sandbox.salesforce, sandbox.hubspot
    files = [{"name": "files", "type": "files", "teams": str(teams_file)}] if teams_file else []
    return {
        "store": demo_store(folder, store_dsn),
        "reporting": {"currency": "USD", "fiscal_year_start_month": 1},
        "sources": [
            {
                "name": "sf",
                "type": "salesforce",
                "instance_url": sf.instance_url,
                "session_id": sf.session_id,
                "ca_bundle": str(sf.ca_bundle),
            },
            {"name": "hs", "type": "hubspot", "base_url": hs.base_url, "access_token": hs.access_token},
            *files,
        ],
        "writeback": [
            {
                "name": "sf_reps",
                "source": "sf",
                "object": "User",
                "entity": "rep",
                "period": period,
                "fields": SF_FIELDS,
                **SF_RECORD_FIELDS,
            },
            {"name": "sf_history", "source": "sf", "entity": "rep", "period": period, "fields": SF_FIELDS,
             **SF_HISTORY},
            {
                "name": "hs_reps",
                "source": "hs",
                "object": "users",
                "entity": "rep",
                "period": period,
                "fields": HS_FIELDS,
                **HS_RECORD_FIELDS,
            },
        ],
    }


def inactive_reps(cfg: Config, period: str) -> tuple[int, list[str]]:
    """(reps with KPIs in the period, names of the inactive ones): the leaderboard leaves those out."""
    with open_store(cfg) as store:
        rows = store.fetchall(
            "SELECT r.name, r.is_active FROM spm.reps r WHERE r.rep_id IN "
            "(SELECT entity_id FROM spm.kpi_values WHERE entity_type = 'rep' AND period = ?) ORDER BY r.name",
            [period],
        )
    return len(rows), [name for name, active in rows if not active]


def leaderboard(cfg: Config, period: str) -> list[dict[str, Any]]:
    pivot = ", ".join(f"max(k.value) FILTER (WHERE k.metric = '{m}') AS {m}" for m in LEADERBOARD_METRICS)
    rank = "max(k.value) FILTER (WHERE k.metric = 'attainment_rank_in_team') AS team_rank"
    with open_store(cfg) as store:
        return store.fetch_dicts(
            f"SELECT r.name AS rep, t.name AS team, {pivot}, {rank} "
            "FROM spm.kpi_values k JOIN spm.reps r ON r.rep_id = k.entity_id "
            "LEFT JOIN spm.teams t ON t.team_id = r.team_id "
            "WHERE k.entity_type = 'rep' AND k.period = ? AND r.is_active AND k.dimension IS NULL "
            "GROUP BY r.name, t.name ORDER BY quota_attainment DESC NULLS LAST, revenue_won DESC, rep",
            [period],
        )


CREDITING_SUMMARY = """
SELECT
  (SELECT count(*) FROM spm.opportunities WHERE mirror_of IS NOT NULL),
  (SELECT count(DISTINCT c.opportunity_id) FROM spm.opportunity_credits c
     JOIN spm.opportunities o ON o.opportunity_id = c.opportunity_id
   WHERE c.rule = 'owner_at_close' AND c.rep_id <> o.owner_rep_id),
  (SELECT count(DISTINCT opportunity_id) FROM spm.opportunity_credits WHERE rule LIKE 'split:%'),
  (SELECT count(DISTINCT rep_id) FROM spm.rep_team_history WHERE valid_to IS NOT NULL)"""


def render_crediting(cfg: Config, console: Console) -> None:
    """One line on what the crediting rules did to this data set."""
    with open_store(cfg) as store:
        mirrored, reassigned, split, moved = store.fetchone(CREDITING_SUMMARY) or (0, 0, 0, 0)
    console.print(
        f"crediting: {mirrored} HubSpot copies of Salesforce deals counted once (from Salesforce); "
        f"{reassigned} deals credited to the rep who closed them (reassigned since); {split} deals split "
        f"between reps; {moved} rep(s) moved team (credited in the team of the close date)"
    )


# (metric, header, format): the pipeline as of a month's end, and the process and team feedback of a period
HYGIENE = (
    ("pipeline_past_due_share", "past due", "pct"), ("pipeline_stale_share", "stale", "pct"),
    ("pipeline_missing_amount_share", "no amount", "pct"),
)
PROCESS = (
    ("activities_per_win", "activities / win", "num"), ("avg_days_to_first_activity", "days to 1st lead touch", "num"),
    ("stage_skip_share", "wins skipping a stage", "pct"), ("enps", "eNPS", "num"),
    ("rep_feedback_count", "survey answers", "num"),
)
Column = tuple[str, str, str]


def last_full_month(cfg: Config, today: date) -> str | None:
    """The latest month that ended by today: the pipeline as of its end is the freshest that is history."""
    with open_store(cfg) as store:
        row = store.fetchone("SELECT period FROM spm.fiscal_periods WHERE grain = 'month' AND period_end <= ? "
                             "ORDER BY period_end DESC LIMIT 1", [today])
    return str(row[0]) if row else None


def practices(cfg: Config, period: str, columns: tuple[Column, ...]) -> list[dict[str, Any]]:
    """The company's and each team's values of these metrics in `period` (company first)."""
    pivot = ", ".join(f"max(k.value) FILTER (WHERE k.metric = '{m}') AS {m}" for m, _, _ in columns)
    with open_store(cfg) as store:
        return store.fetch_dicts(
            f"SELECT k.entity_type, coalesce(t.name, 'Company') AS name, {pivot} FROM spm.kpi_values k "
            "LEFT JOIN spm.teams t ON t.team_id = k.entity_id AND k.entity_type = 'team' "
            "WHERE k.entity_type IN ('company', 'team') AND k.period = ? AND k.dimension IS NULL "
            "GROUP BY k.entity_type, t.name ORDER BY k.entity_type = 'team', name",
            [period],
        )


def loss_reasons(cfg: Config, period: str) -> list[dict[str, Any]]:
    """The company's deals and revenue lost in `period` by loss reason (the stored breakdown), most revenue first."""
    with open_store(cfg) as store:
        return store.fetch_dicts(
            "SELECT dimension_value AS reason, max(value) FILTER (WHERE metric = 'deals_lost') AS deals_lost, "
            "max(value) FILTER (WHERE metric = 'revenue_lost') AS revenue_lost FROM spm.kpi_values "
            "WHERE entity_type = 'company' AND period = ? AND dimension = 'loss_reason' "
            "GROUP BY dimension_value ORDER BY revenue_lost DESC NULLS LAST, reason",
            [period],
        )


def render_practices(rows: list[dict[str, Any]], title: str, columns: tuple[Column, ...], console: Console) -> None:
    table = Table(title=title)
    table.add_column("team", justify="left")
    for _, header, _ in columns:
        table.add_column(header, justify="right")
    for row in rows:
        table.add_row(row["name"], *((_pct if kind == "pct" else _num)(row[m]) for m, _, kind in columns))
    console.print(table)


def render_losses(rows: list[dict[str, Any]], period: str, console: Console) -> None:
    table = Table(title=f"Why deals were lost {period} (company)")
    for column, justify in (("loss reason", "left"), ("deals lost", "right"), ("revenue lost", "right")):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for row in rows:
        table.add_row(row["reason"] or "(no reason given)", _num(row["deals_lost"]), _money(row["revenue_lost"]))
    console.print(table)


def last_fiscal_year(today: date) -> str:
    """The demo's period: the last full fiscal year (January start), which the sandbox data covers whole."""
    return f"FY{today.year - 1}"


def _money(value: float | None) -> str:
    return "-" if value is None else f"${value:,.0f}"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f}".removesuffix(".0")


def render_leaderboard(rows: list[dict[str, Any]], period: str, console: Console,
                       inactive: tuple[int, list[str]] = (0, [])) -> None:
    total, left_out = inactive
    caption = (f"{len(rows)} of {total} reps; left out as inactive: {', '.join(left_out)}"
               if left_out else None)
    table = Table(title=f"Leaderboard {period}", caption=caption)
    for column, justify in (
        ("#", "right"),
        ("rep", "left"),
        ("team", "left"),
        ("revenue won", "right"),
        ("quota", "right"),
        ("attainment", "right"),
        ("win rate", "right"),
        ("calls / emails / meetings", "right"),
    ):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for i, row in enumerate(rows, 1):
        activities = " / ".join(str(int(row[k] or 0)) for k in ("calls", "emails", "meetings"))
        table.add_row(
            str(i),
            row["rep"],
            row["team"] or "-",
            _money(row["revenue_won"]),
            _money(row["quota"]),
            _pct(row["quota_attainment"]),
            _pct(row["win_rate"]),
            activities,
        )
    console.print(table)


def crm_field_values(cfg: Config, limit: int = 5) -> tuple[tuple[list[dict[str, Any]], int], ...]:
    """What the CRMs now hold, read back through their APIs as a sales-ops user would see it: the first
    `limit` records of each and how many hold a value in all."""
    from spm_sync.connectors.hubspot.client import HubSpotClient
    from spm_sync.connectors.salesforce.client import SalesforceClient

    sf_fields = [*SF_FIELDS.values(), *SF_RECORD_FIELDS.values()]
    sf = SalesforceClient(cfg.source_of("sf", SalesforceSource), ApiCalls(source="sf"))
    written = f"FROM User WHERE {sf_fields[0]} != null"
    soql = f"SELECT Name, {', '.join(sf_fields)} {written} ORDER BY Name LIMIT {limit}"
    sf_rows = [{k: r[k] for k in ("Name", *sf_fields)} for r in sf.sf.query(soql)["records"]]
    sf_total = int(sf.sf.query(f"SELECT count() {written}")["totalSize"])
    history = ["Name", "Rep__c", "Period__c", *SF_FIELDS.values()]
    soql = f"SELECT {', '.join(history)} FROM Rep_KPI__c ORDER BY Name LIMIT {limit}"
    sf_rows_history = [{k: r[k] for k in history} for r in sf.sf.query(soql)["records"]]
    history_total = int(sf.sf.query("SELECT count() FROM Rep_KPI__c")["totalSize"])
    hs = HubSpotClient(cfg.source_of("hs", HubSpotSource), ApiCalls(source="hs"))
    body = {
        "filterGroups": [{"filters": [{"propertyName": HS_FIELDS["quota_attainment"], "operator": "HAS_PROPERTY"}]}],
        "properties": ["hs_email", *HS_FIELDS.values(), *HS_RECORD_FIELDS.values()],
        "sorts": [{"propertyName": "hs_email", "direction": "ASCENDING"}],
        "limit": limit,
    }
    found = hs.request("POST", hs.path("objects", "users", "search"), json=body, search=True, require="results")
    shown = ("hs_email", *HS_FIELDS.values(), *HS_RECORD_FIELDS.values())
    hs_rows = [{k: r["properties"].get(k) for k in shown} for r in found["results"]]
    hs_total = int(found.get("total") or len(hs_rows))
    return (sf_rows, sf_total), (sf_rows_history, history_total), (hs_rows, hs_total)


def render_crm_values(cfg: Config, console: Console) -> None:
    users, history, hubspot = crm_field_values(cfg)
    tables = (("Salesforce User fields", users), ("Salesforce Rep_KPI__c records (upsert)", history),
              ("HubSpot users properties", hubspot))
    for title, (rows, total) in tables:
        table = Table(title=f"{title} ({len(rows)} of {total})")
        for column in rows[0] if rows else ["(nothing written)"]:
            table.add_column(column)
        for row in rows:
            table.add_row(*("-" if v is None else str(v) for v in row.values()))
        console.print(table)


def install_fields(cfg: Config, console: Console) -> None:
    """The sandbox CRMs start without KPI fields, as a new customer's do: `writeback setup` creates them."""
    from spm_sync.writeback.setup import setup

    console.print("the sandbox CRMs have no KPI fields yet: spm-sync writeback setup")
    setup(cfg).render(console)


def require_empty_store(cfg: Config) -> None:
    """The demo's sandbox CRMs are new each time: a store holding an earlier run's ledger and cursors would
    make write-back skip values it believes already sent, so a reused PostgreSQL database is refused."""
    with open_store(cfg) as store:
        row = store.fetchone("SELECT count(*) FROM spm_state.runs")
    if row and row[0]:
        raise ConfigError(
            "--store-dsn: the database already holds spm-sync runs; the demo needs an empty database "
            "(e.g. createdb spm_demo)"
        )


def write_demo_report(cfg: Config, period: str, keep: Path | None, console: Console) -> Path:
    """The HTML report of the leaderboard's period: in the kept folder, else state/ (it outlives the demo)."""
    from spm_sync.report import build_report

    output = keep / "report.html" if keep else Path("state") / "demo-report.html"
    build_report(cfg, period, None, output, cache_dir=None if keep else Path("state") / "cache")
    console.print(f"HTML report ({period}, opens offline): {output.resolve()}")
    return output


def run_demo(console: Console, *, keep: Path | None = None, seed: int = 7, store_dsn: str | None = None) -> None:
    from spm_sync.sandbox import Sandbox
    from spm_sync.sandbox.facade import STATE_FILE

    started = time.monotonic()
    if not console.is_terminal:  # piped (make demo in a log): room for the leaderboard's columns
        console.width = max(console.width, 130)
    with tempfile.TemporaryDirectory(prefix="spm-sync-demo-") as tmp:
        folder = keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        sandbox_state = folder / "sandbox" if keep else None
        if sandbox_state is not None:  # fresh ports and session; the kept CA stays valid
            (sandbox_state / STATE_FILE).unlink(missing_ok=True)
        with Sandbox(seed=seed, scale="small", mirror=True, kpi_fields=False, state_dir=sandbox_state) as sandbox:
            console.print(
                f"sandbox Salesforce at {sandbox.salesforce.instance_url}, HubSpot (mirroring Salesforce) at "
                f"{sandbox.hubspot.base_url}"
            )
            teams_file = write_team_history(sandbox.dataset, folder / "teams.csv")
            period = last_fiscal_year(utcnow().date())
            document = demo_config_document(sandbox, folder, store_dsn, teams_file, period)
            (folder / "config.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
            cfg = parse_config(document, file=str(folder / "config.yaml"))
            if store_dsn:
                require_empty_store(cfg)
            install_fields(cfg, console)
            results = jobs.run_all(cfg)
            for synced in results["sync"]:
                console.print(
                    f"synced {synced.source}: {sum(synced.records.values()):,} records, "
                    f"{synced.api_calls.get('total', 0)} API calls"
                )
            console.print(results["normalize"].summary())
            console.print(results["kpis"].summary())
            render_crediting(cfg, console)
            render_leaderboard(leaderboard(cfg, period), period, console, inactive_reps(cfg, period))
            render_losses(loss_reasons(cfg, period), period, console)
            render_practices(practices(cfg, period, PROCESS), f"Process and team feedback {period}", PROCESS, console)
            month = last_full_month(cfg, utcnow().date())
            if month:
                render_practices(practices(cfg, month, HYGIENE), f"Pipeline hygiene as of the end of {month}",
                                 HYGIENE, console)
            write_demo_report(cfg, period, folder if keep else None, console)
            results["writeback"].render(console)
            render_crm_values(cfg, console)
        console.print(
            f"demo finished in {time.monotonic() - started:.1f}s; files in {folder if keep else '(temp dir, removed)'}"
            + ("; store: PostgreSQL (--store-dsn)" if store_dsn else "")
        )
        if sandbox_state is not None:
            config = folder / "config.yaml"
            console.print(
                f"to run the kept config again, start the sandbox on the same ports and CA:\n"
                f"  spm-sync sandbox serve --mirror --no-kpi-fields --seed {seed} --state {sandbox_state}\n"
                f"  spm-sync --config {config} writeback setup   # its fields live in memory, like its records\n"
                f"  spm-sync --config {config} run"
            )
