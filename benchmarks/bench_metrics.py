"""Benchmark: every KPI for every rep/team/company, 24 months + 8 quarters + 2 fiscal years.

Targets (DESIGN/issue 6, this 2-core machine): compute_kpis <= 10 s and <= 3 GB peak RSS on
2,000 reps / 1M opportunities / 5M activities / 200k leads / 100k feedback, and >= 5x faster than
a straightforward pandas implementation of the same KPIs (`pandas_kpis` below, checked against the
store's values so the comparison is like for like).

    .venv/bin/python benchmarks/bench_metrics.py                 # scale large, cached store
    .venv/bin/python benchmarks/bench_metrics.py --scale 200     # quicker (200 reps)
    .venv/bin/python benchmarks/bench_metrics.py --rebuild --skip-pandas
    .venv/bin/python benchmarks/bench_metrics.py --skip-pandas --breakdowns both   # cost of the breakdowns

The store is built from `spm_sync.sandbox.dataset.generate` straight into `spm.*` (what normalize
would produce from the sandbox CRMs) and cached under benchmarks/.data/; the credits (normalize's
last step) are rebuilt and timed before compute_kpis. Each measured side runs in
its own process so peak RSS is its own.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = ROOT / "benchmarks" / ".data"
AS_OF = date(2026, 3, 15)
NO_OWNER = "(none)"  # rows without a known owner count for the company only
CHECKED = (
    "revenue_won",
    "deals_won",
    "quota",
    "quota_attainment",
    "calls",
    "win_rate",
    "nps",
    "arr",
    "active_customers",
    "proposals_sent",
    "lead_conversion_rate",
    "sales_cycle_days",
)


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_s() -> float:
    """CPU seconds of this process (all threads): unlike wall time, not inflated by other load."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# --- building the store -------------------------------------------------------------------------

LOAD_SQL = {
    "teams": "SELECT 'sb:t' || team_id AS team_id, name, 'sb:t' || parent_team_id AS parent_team_id FROM src",
    "reps": """SELECT 'sb:' || rep_id AS rep_id, 'sandbox' AS source, CAST(rep_id AS TEXT) AS crm_id,
        first_name || ' ' || last_name AS name, lower(email) AS email, 'sb:t' || team_id AS team_id,
        'sb:' || manager_rep_id AS manager_rep_id, is_active FROM src""",
    "accounts": """SELECT 'sb:a' || account_id AS account_id, 'sandbox' AS source, CAST(account_id AS TEXT) AS crm_id,
        name, 'sb:' || owner_rep_id AS owner_rep_id, timezone('UTC', created_at) AS created_at FROM src""",
    "opportunities": """SELECT 'sb:o' || o.opportunity_id AS opportunity_id, 'sandbox' AS source,
        CAST(o.opportunity_id AS TEXT) AS crm_id, 'sb:a' || o.account_id AS account_id,
        'sb:' || o.owner_rep_id AS owner_rep_id, o.name, o.stage, o.stage AS stage_category,
        o.stage IN ('closed_won', 'closed_lost') AS is_closed, o.stage = 'closed_won' AS is_won, o.amount, o.currency,
        o.amount / c.conversion_rate AS amount_rc, o.recurring_amount / c.conversion_rate AS recurring_amount_rc,
        o.deal_type, timezone('UTC', o.created_at) AS created_at, o.close_date, o.is_deleted,
        timezone('UTC', o.updated_at) AS updated_at, o.loss_reason, o.won_reason, o.lead_source
        FROM src AS o JOIN currencies AS c ON c.iso_code = o.currency""",
    "stage_events": """SELECT 'sb:o' || opportunity_id AS opportunity_id, stage, stage AS stage_category,
        timezone('UTC', entered_at) AS entered_at FROM src""",
    "leads": """SELECT 'sb:l' || lead_id AS lead_id, 'sandbox' AS source, 'sb:' || owner_rep_id AS owner_rep_id,
        timezone('UTC', created_at) AS created_at, status, is_converted, timezone('UTC', converted_at) AS converted_at
        FROM src""",
    "activities": """SELECT 'sb:x' || activity_id AS activity_id, 'sandbox' AS source,
        'sb:' || owner_rep_id AS owner_rep_id, kind, timezone('UTC', occurred_at) AS occurred_at, is_completed,
        'sb:a' || account_id AS account_id, 'sb:o' || opportunity_id AS opportunity_id FROM src""",
    "feedback": """SELECT 'sb:f' || feedback_id AS feedback_id, 'sandbox' AS source, kind,
        CAST(score AS DOUBLE) AS score,
        comment, timezone('UTC', submitted_at) AS submitted_at, 'sb:a' || account_id AS account_id,
        'sb:' || rep_id AS rep_id FROM src""",
    "quotas": """SELECT 'sb:' || rep_id AS owner, 'sandbox' AS source, period_start, period_end, 'revenue' AS measure,
        amount AS amount_rc FROM src""",
}


def build_store(path: Path, scale: str) -> dict[str, int]:
    """Generate the sandbox data set and land it in spm.* of a fresh store."""
    from spm_sync.config import StoreConfig
    from spm_sync.sandbox.dataset import generate
    from spm_sync.store import open_store

    dataset = generate(seed=7, scale=scale, as_of=AS_OF)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    store = open_store(StoreConfig(path=path))
    con = store.connection
    con.register("currencies", dataset.currencies)
    for table, select in LOAD_SQL.items():
        con.register("src", getattr(dataset, table))
        columns = [d[0] for d in con.execute(f"SELECT * FROM ({select}) LIMIT 0").description]
        con.execute(f"INSERT INTO spm.{table} ({', '.join(columns)}) {select}")
        con.unregister("src")
    # activity targets: each rep, each month of the data, one row per kind (the data set has none)
    con.execute("""INSERT INTO spm.activity_targets (owner, source, period_start, period_end, kind, target)
        SELECT q.owner, 'sandbox', q.period_start, q.period_end, k.kind, k.target
        FROM spm.quotas AS q
        CROSS JOIN (VALUES ('call', 60.0), ('email', 120.0), ('meeting', 12.0)) AS k(kind, target)""")
    # explicit monthly quotas for the top-level teams, so the replacement rule is on the hot path too
    con.execute("""INSERT INTO spm.quotas (owner, source, period_start, period_end, measure, amount_rc)
        SELECT t.team_id, 'sandbox', m.period_start, m.period_end, 'revenue', 2.5e7
        FROM spm.teams AS t CROSS JOIN (SELECT DISTINCT period_start, period_end FROM spm.quotas) AS m
        WHERE t.parent_team_id IS NULL""")
    # the team's pulse surveys, as a survey export brings them in (feedback of kind rep with a topic)
    con.register("surveys", dataset.rep_surveys)
    con.execute("""INSERT INTO spm.feedback (feedback_id, source, kind, score, comment, submitted_at, rep_id, topic)
        SELECT 'sb:s' || survey_id, 'survey', 'rep', CAST(score AS DOUBLE), comment, timezone('UTC', submitted_at),
        'sb:' || rep_id, topic FROM surveys""")
    # the first calls and e-mails about leads (Salesforce Tasks with a Lead WhoId): avg_days_to_first_activity
    con.register("touches", dataset.lead_activities)
    con.execute("""INSERT INTO spm.activities (activity_id, source, owner_rep_id, kind, occurred_at, is_completed,
        lead_id) SELECT 'sb:x' || activity_id, 'sandbox', 'sb:' || owner_rep_id, kind, timezone('UTC', occurred_at),
        TRUE, 'sb:l' || lead_id FROM touches""")
    counts = dataset.counts()
    store.close()
    return counts


# --- measured sides -------------------------------------------------------------------------------


def run_sql(path: Path, breakdowns: bool = True) -> dict[str, Any]:
    from spm_sync.config import parse_config
    from spm_sync.crediting import credits
    from spm_sync.metrics import compute_kpis
    from spm_sync.runs import Run
    from spm_sync.store import open_store

    cfg = parse_config({"store": {"path": str(path)}, "as_of": AS_OF.isoformat()})
    store = open_store(cfg)
    started = time.perf_counter()
    credits.apply(cfg, store, AS_OF)  # normalize's last step; timed on its own
    crediting_s = time.perf_counter() - started
    started, cpu = time.perf_counter(), _cpu_s()
    result = compute_kpis(cfg, store, Run(job="kpis"), breakdowns=breakdowns)
    seconds, cpu = time.perf_counter() - started, _cpu_s() - cpu
    store.close()
    return {
        "seconds": seconds,
        "cpu_s": cpu,
        "load": os.getloadavg()[0],
        "peak_rss_mb": _peak_rss_mb(),
        "values": result.values,
        "summary": result.summary(),
        "timings": result.timings,
        "crediting_s": crediting_s,
    }


def _periods(con: duckdb.DuckDBPyConnection) -> Any:
    return con.execute("SELECT period, grain, period_start, period_end FROM spm.fiscal_periods").df()


def pandas_kpis(frames: dict[str, Any], periods: Any) -> Any:
    """The same KPIs, the straightforward pandas way: per period, filter the rows and group by owner.

    Entities: reps via owner, teams via the members of each team's subtree, company = all rows.
    Returns a long DataFrame (entity_type, entity_id, period, metric, value).
    """
    import numpy as np
    import pandas as pd

    opps = frames["opportunities"]
    opps = opps[~opps["is_deleted"].fillna(False)]
    opps = opps.assign(
        close_date=pd.to_datetime(opps["close_date"]),
        created=pd.to_datetime(opps["created_at"]).dt.normalize(),
        owner_rep_id=opps["owner_rep_id"].fillna(NO_OWNER),
    )
    won = opps[opps["is_won"]]
    first_won = won.groupby("account_id")["close_date"].transform("min")
    opps["is_new"] = False
    opps.loc[won.index, "is_new"] = (won["close_date"] == first_won).values
    acts, leads = (
        frames[t].assign(owner_rep_id=frames[t]["owner_rep_id"].fillna(NO_OWNER)) for t in ("activities", "leads")
    )
    feedback = frames["feedback"]
    accounts = frames["accounts"].set_index("account_id")["owner_rep_id"]
    feedback = feedback.assign(owner=feedback["rep_id"].fillna(feedback["account_id"].map(accounts)).fillna(NO_OWNER))
    entries = frames["stage_events"].merge(opps[["opportunity_id", "owner_rep_id"]], on="opportunity_id")
    proposals = (
        entries[entries["stage_category"] == "proposal"]
        .groupby("opportunity_id")
        .agg(entered_at=("entered_at", "min"), owner_rep_id=("owner_rep_id", "first"))
    )
    quotas, reps, teams = frames["quotas"], frames["reps"], frames["teams"]
    all_owners = sorted(
        set(reps["rep_id"])
        | set(opps["owner_rep_id"])
        | set(acts["owner_rep_id"])
        | set(leads["owner_rep_id"])
        | set(feedback["owner"])
        | set(quotas["owner"])
        | {NO_OWNER}
    )

    # team -> members (reps of the team and its descendant teams)
    children: dict[str, list[str]] = {}
    for team, parent in zip(teams["team_id"], teams["parent_team_id"], strict=True):
        children.setdefault(parent, []).append(team)

    def subtree(team: str) -> list[str]:
        out, todo = [], [team]
        while todo:
            current = todo.pop()
            out.append(current)
            todo += children.get(current, [])
        return out

    top_teams = list(teams.loc[teams["parent_team_id"].isna(), "team_id"])
    rep_team = reps.set_index("rep_id")["team_id"]
    members = {t: set(rep_team[rep_team.isin(subtree(t))].index) for t in teams["team_id"]}
    team_ids = set(teams["team_id"])
    rep_quotas = quotas[~quotas["owner"].isin(team_ids)]

    def prorated(rows: Any, start: Any, end: Any) -> Any:
        s, e = pd.to_datetime(rows["period_start"]), pd.to_datetime(rows["period_end"])
        inside = (np.minimum(e, end) - np.maximum(s, start)).dt.days.clip(lower=0)
        return rows["amount_rc"] * inside / (e - s).dt.days

    out = []
    for period in periods.itertuples():
        start, end = pd.Timestamp(period.period_start), pd.Timestamp(period.period_end)
        in_p = opps[(opps["close_date"] >= start) & (opps["close_date"] < end)]
        w = in_p[in_p["is_won"]]
        by_owner = pd.DataFrame(index=pd.Index(all_owners, name="owner"))
        by_owner["revenue_won"] = w.groupby("owner_rep_id")["amount_rc"].sum()
        by_owner["deals_won"] = w.groupby("owner_rep_id").size()
        by_owner["deals_lost"] = in_p[in_p["is_closed"] & ~in_p["is_won"]].groupby("owner_rep_id").size()
        by_owner["cycle_sum"] = (w["close_date"] - w["created"]).dt.days.groupby(w["owner_rep_id"]).sum()
        trailing = won[(won["close_date"] >= end - pd.Timedelta(days=365)) & (won["close_date"] < end)]
        by_owner["arr"] = trailing.groupby("owner_rep_id")["recurring_amount_rc"].sum()
        q = rep_quotas.assign(amount=prorated(rep_quotas, start, end))
        by_owner["quota"] = q.groupby("owner")["amount"].sum()
        a = acts[(acts["occurred_at"] >= start) & (acts["occurred_at"] < end)]
        by_owner["calls"] = a[a["kind"] == "call"].groupby("owner_rep_id").size()
        f = feedback[
            (feedback["submitted_at"] >= start) & (feedback["submitted_at"] < end) & (feedback["kind"] == "nps")
        ]
        by_owner["nps_n"] = f.groupby("owner")["score"].apply(lambda s: 100 * ((s >= 9).sum() - (s <= 6).sum()))
        by_owner["nps_d"] = f.groupby("owner").size()
        lp = leads[(leads["created_at"] >= start) & (leads["created_at"] < end)]
        by_owner["leads"] = lp.groupby("owner_rep_id").size()
        by_owner["leads_conv"] = lp[lp["is_converted"].fillna(False)].groupby("owner_rep_id").size()
        pp = proposals[(proposals["entered_at"] >= start) & (proposals["entered_at"] < end)]
        by_owner["proposals_sent"] = pp.groupby("owner_rep_id").size()
        by_owner = by_owner.fillna(0)
        by_rep = by_owner.loc[reps["rep_id"]]
        rows = {("rep", r): by_rep.loc[r] for r in by_rep.index}
        for team, who in members.items():
            sums = by_rep.loc[list(who)].sum()
            explicit = quotas[quotas["owner"] == team]
            if len(explicit):
                sums["quota"] = prorated(explicit, start, end).sum()
            rows[("team", team)] = sums
        company = by_owner.sum()
        company["quota"] = sum(rows[("team", t)]["quota"] for t in top_teams)
        rows[("company", "company")] = company
        active = trailing.groupby("owner_rep_id")["account_id"].nunique()
        for (kind, entity), s in rows.items():
            if kind == "rep":
                customers = active.get(entity, 0)
            elif kind == "team":
                customers = trailing[trailing["owner_rep_id"].isin(members[entity])]["account_id"].nunique()
            else:
                customers = trailing["account_id"].nunique()
            values = {
                "revenue_won": s["revenue_won"],
                "deals_won": s["deals_won"],
                "quota": s["quota"],
                "quota_attainment": s["revenue_won"] / s["quota"] if s["quota"] else None,
                "win_rate": s["deals_won"] / (s["deals_won"] + s["deals_lost"])
                if s["deals_won"] + s["deals_lost"]
                else None,
                "sales_cycle_days": s["cycle_sum"] / s["deals_won"] if s["deals_won"] else None,
                "arr": s["arr"],
                "active_customers": customers,
                "calls": s["calls"],
                "nps": s["nps_n"] / s["nps_d"] if s["nps_d"] else None,
                "lead_conversion_rate": s["leads_conv"] / s["leads"] if s["leads"] else None,
                "proposals_sent": s["proposals_sent"],
            }
            out += [(kind, entity, period.period, m, v) for m, v in values.items()]
    return pd.DataFrame(out, columns=["entity_type", "entity_id", "period", "metric", "value"])


def run_pandas(path: Path) -> dict[str, Any]:
    import pandas as pd

    con = duckdb.connect(str(path), read_only=True)
    started = time.perf_counter()
    frames = {
        t: con.execute(f"SELECT * FROM spm.{t}").df()
        for t in (
            "opportunities",
            "activities",
            "leads",
            "feedback",
            "accounts",
            "stage_events",
            "quotas",
            "reps",
            "teams",
        )
    }
    loaded, cpu_loaded = time.perf_counter(), _cpu_s()
    result = pandas_kpis(frames, _periods(con))
    seconds, cpu = time.perf_counter() - loaded, _cpu_s() - cpu_loaded
    stored = con.execute(
        f"SELECT entity_type, entity_id, period, metric, value FROM spm.kpi_values WHERE metric IN {CHECKED} "
        "AND dimension IS NULL"
    ).df()
    merged = result.merge(stored, on=["entity_type", "entity_id", "period", "metric"], suffixes=("_pd", "_sql"))
    a, b = merged["value_pd"].astype(float), merged["value_sql"].astype(float)
    same = ((a - b).abs() <= 1e-6 * b.abs().clip(lower=1)) | (a.isna() & b.isna())
    bad = merged[~same]
    return {
        "seconds": seconds,
        "cpu_s": cpu,
        "load_seconds": loaded - started,
        "peak_rss_mb": _peak_rss_mb(),
        "compared": len(merged),
        "expected": len(result),
        "mismatches": len(bad),
        "example_mismatches": bad.head(5).astype(str).to_dict("records"),
        "pandas": pd.__version__,
    }


def _child(side: str, path: Path, *extra: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--side", side, "--store", str(path), *extra],
        capture_output=True, text=True, check=False,
    )
    if out.returncode != 0:
        raise SystemExit(f"{side} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", default="large")
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--skip-pandas", action="store_true")
    parser.add_argument(
        "--breakdowns", choices=("on", "off", "both"), default="on",
        help="KPI breakdowns (loss_reason, deal_type, ...): on, off, or both (prints both times and the ratio)",
    )
    parser.add_argument("--side", choices=("sql", "pandas"), help=argparse.SUPPRESS)
    parser.add_argument("--store", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side:
        measured = run_sql(args.store, args.breakdowns != "off") if args.side == "sql" else run_pandas(args.store)
        print(json.dumps(measured, default=str))
        return
    path = DATA / f"metrics_{args.scale}.duckdb"
    if args.rebuild or not path.exists():
        started = time.perf_counter()
        counts = build_store(path, args.scale)
        print(f"built {path.name} in {time.perf_counter() - started:.1f} s: {counts}")
    print(f"cpus: {os.cpu_count()}, duckdb {duckdb.__version__}")
    if args.breakdowns == "both":
        off = _child("sql", path, "--breakdowns", "off")
        print(f"compute_kpis without breakdowns: {off['seconds']:.2f} s wall, {off['cpu_s']:.2f} s CPU, "
              f"peak RSS {off['peak_rss_mb']:.0f} MB (load average {off['load']:.1f})")
    sql = _child("sql", path, "--breakdowns", "off" if args.breakdowns == "off" else "on")
    print(
        f"compute_kpis: {sql['seconds']:.2f} s wall, {sql['cpu_s']:.2f} s CPU, peak RSS {sql['peak_rss_mb']:.0f} MB "
        f"(load average {sql['load']:.1f}) -- {sql['summary']}"
    )
    print(f"  steps: {sql['timings']}")
    print(f"  crediting (spm.opportunity_credits, normalize's last step): {sql['crediting_s']:.2f} s wall")
    if args.breakdowns == "both":
        ratio, cpu_ratio = sql["seconds"] / off["seconds"], sql["cpu_s"] / off["cpu_s"]
        print(f"breakdowns on / off: {ratio:.2f}x wall, {cpu_ratio:.2f}x CPU")
    if args.skip_pandas:
        return
    pdr = _child("pandas", path)
    print(
        f"pandas baseline: {pdr['seconds']:.2f} s wall, {pdr['cpu_s']:.2f} s CPU "
        f"(+{pdr['load_seconds']:.1f} s loading), "
        f"peak RSS {pdr['peak_rss_mb']:.0f} MB; values compared {pdr['compared']:,}/{pdr['expected']:,}, "
        f"mismatches {pdr['mismatches']}"
    )
    for example in pdr["example_mismatches"]:
        print(f"  mismatch: {example}")
    print(
        f"speed-up vs pandas (compute only): {pdr['seconds'] / sql['seconds']:.1f}x wall, "
        f"{pdr['cpu_s'] / sql['cpu_s']:.1f}x CPU"
    )


if __name__ == "__main__":
    main()
