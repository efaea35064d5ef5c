"""Benchmark: `normalize` on a large store (2,000 reps, 1M opportunities, 5M activities, ...).

Raw tables shaped like what the Salesforce connector lands (dlt snake_case names and types) are
built straight from `spm_sync.sandbox.dataset.generate(scale=...)` with DuckDB, into a store file
that is reused between runs; normalize then runs in a fresh child process so that its wall time and
peak RSS are its own. Target (issue 6): <= 15 s on this 2-core machine.

    .venv/bin/python benchmarks/bench_normalize.py [--scale large] [--rebuild] [--repeat 1]
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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from spm_sync.config import Config  # noqa: E402

AS_OF = date(2026, 3, 15)
STAGE_NAMES = {
    "prospecting": "Prospecting", "qualification": "Qualification", "needs_analysis": "Needs Analysis",
    "proposal": "Proposal/Price Quote", "negotiation": "Negotiation/Review", "closed_won": "Closed Won",
    "closed_lost": "Closed Lost",
}
DEAL_TYPES = {"new": "New Business", "expansion": "Existing Customer - Upgrade",
              "renewal": "Existing Customer - Replacement"}


def _case(column: str, mapping: dict[str, str]) -> str:
    whens = " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in mapping.items())
    return f"CASE {column} {whens} END"


def _sfid(prefix: str, column: str) -> str:
    """A Salesforce-looking 18-character id from an integer key."""
    return f"CASE WHEN {column} IS NOT NULL THEN '{prefix}' || lpad(CAST({column} AS VARCHAR), 15, '0') END"


RAW_TABLES = {
    "user_role": f"SELECT {_sfid('00E', 'team_id')} AS id, name, {_sfid('00E', 'parent_team_id')} AS parent_role_id "
                 "FROM teams",
    "user": f"SELECT {_sfid('005', 'rep_id')} AS id, first_name || ' ' || last_name AS name, first_name, last_name, "
            f"email, {_sfid('00E', 'team_id')} AS user_role_id, {_sfid('005', 'manager_rep_id')} AS manager_id, "
            "is_active FROM reps",
    "account": f"SELECT {_sfid('001', 'account_id')} AS id, name, {_sfid('005', 'owner_rep_id')} AS owner_id, "
               "created_at AS created_date, FALSE AS is_deleted, created_at AS system_modstamp FROM accounts",
    "opportunity": f"SELECT {_sfid('006', 'opportunity_id')} AS id, {_sfid('001', 'account_id')} AS account_id, "
                   f"{_sfid('005', 'owner_rep_id')} AS owner_id, name, {_case('stage', STAGE_NAMES)} AS stage_name, "
                   "stage IN ('closed_won', 'closed_lost') AS is_closed, stage = 'closed_won' AS is_won, amount, "
                   f"currency AS currency_iso_code, recurring_amount AS arr_c, {_case('deal_type', DEAL_TYPES)} "
                   "AS type, created_at AS created_date, close_date, is_deleted, updated_at AS system_modstamp "
                   "FROM opportunities",
    "opportunity_history": f"SELECT {_sfid('008', 'row_number() OVER ()')} AS id, "
                           f"{_sfid('006', 'opportunity_id')} AS opportunity_id, "
                           f"{_case('stage', STAGE_NAMES)} AS stage_name, entered_at AS created_date, "
                           "FALSE AS is_deleted FROM stage_events",
    "lead": f"SELECT {_sfid('00Q', 'lead_id')} AS id, {_sfid('005', 'owner_rep_id')} AS owner_id, "
            "created_at AS created_date, status, is_converted, CAST(converted_at AS DATE) AS converted_date, "
            "FALSE AS is_deleted, created_at AS system_modstamp FROM leads",
    "task": f"SELECT {_sfid('00T', 'activity_id')} AS id, {_sfid('005', 'owner_rep_id')} AS owner_id, "
            "CASE kind WHEN 'call' THEN 'Call' WHEN 'email' THEN 'Email' ELSE 'Task' END AS task_subtype, "
            "CAST(occurred_at AS DATE) AS activity_date, CASE WHEN is_completed THEN occurred_at END "
            "AS completed_date_time, occurred_at AS created_date, is_completed AS is_closed, "
            "CASE WHEN is_completed THEN 'Completed' ELSE 'Not Started' END AS status, "
            f"{_sfid('001', 'account_id')} AS account_id, "
            f"COALESCE({_sfid('006', 'opportunity_id')}, {_sfid('001', 'account_id')}) AS what_id, "
            "FALSE AS is_deleted, occurred_at AS system_modstamp FROM activities WHERE kind <> 'meeting'",
    "event": f"SELECT {_sfid('00U', 'activity_id')} AS id, {_sfid('005', 'owner_rep_id')} AS owner_id, "
             "occurred_at AS activity_date_time, CAST(occurred_at AS DATE) AS activity_date, "
             "occurred_at + INTERVAL 30 MINUTE AS end_date_time, "
             f"{_sfid('001', 'account_id')} AS account_id, "
             f"COALESCE({_sfid('006', 'opportunity_id')}, {_sfid('001', 'account_id')}) AS what_id, "
             "FALSE AS is_deleted, occurred_at AS system_modstamp FROM activities WHERE kind = 'meeting'",
    "forecasting_quota": f"SELECT {_sfid('0J9', 'row_number() OVER ()')} AS id, {_sfid('005', 'rep_id')} "
                         "AS quota_owner_id, amount AS quota_amount, period_start AS start_date, TRUE AS is_amount, "
                         "'USD' AS currency_iso_code FROM quotas",
    "currency_type": f"SELECT {_sfid('02B', 'row_number() OVER ()')} AS id, iso_code, conversion_rate, "
                     "TRUE AS is_active, iso_code = 'USD' AS is_corporate FROM currencies",
    "nps_response_c": f"SELECT {_sfid('a0X', 'feedback_id')} AS id, kind AS kind_c, CAST(score AS DOUBLE) AS score_c, "
                      "comment AS comment_c, submitted_at AS submitted_at_c, submitted_at AS created_date, "
                      f"{_sfid('001', 'account_id')} AS account_c, {_sfid('005', 'rep_id')} AS rep_c, "
                      "FALSE AS is_deleted, submitted_at AS system_modstamp FROM feedback",
}


def config(path: Path) -> Config:
    return Config.model_validate({
        "store": {"path": str(path), "state_dir": str(path.parent)},
        "sources": [{"name": "sf", "type": "salesforce", "instance_url": "https://bench.my.salesforce.com",
                     "session_id": "bench"}],
    })


def prepare(path: Path, scale: str) -> dict[str, int]:
    """Generate the data set and write raw_sf.* into a fresh store file."""
    from spm_sync.sandbox.dataset import generate
    from spm_sync.store import open_store

    started = time.monotonic()
    dataset = generate(seed=7, scale=scale, as_of=AS_OF)
    print(f"generated {scale} data set in {time.monotonic() - started:.1f}s", flush=True)
    for suffix in ("", ".wal"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    counts = {}
    with open_store(config(path)) as store:
        con = store.connection
        con.execute("SET TimeZone = 'UTC'")
        for name, table in dataset.tables().items():
            con.register(name, table)
        con.execute("CREATE SCHEMA raw_sf")
        for name, select in RAW_TABLES.items():
            con.execute(f"CREATE TABLE raw_sf.{name} AS {select}")
            counts[name] = con.execute(f"SELECT count(*) FROM raw_sf.{name}").fetchone()[0]
        con.execute("CHECKPOINT")
    print(f"raw tables ready in {time.monotonic() - started:.1f}s: {json.dumps(counts)}", flush=True)
    return counts


def run_once(path: Path) -> None:
    """Child process: normalize once and report seconds and peak RSS as one JSON line."""
    from spm_sync.normalize import normalize
    from spm_sync.runs import Run
    from spm_sync.store import open_store

    cfg = config(path)
    with open_store(cfg) as store:
        started = time.monotonic()
        result = normalize(cfg, store, Run(job="normalize"))
        seconds = time.monotonic() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": round(seconds, 2), "peak_rss_mb": round(peak_mb), "tables": result.tables,
                      "quality": result.quality}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", default="large")
    parser.add_argument("--store", type=Path, default=ROOT / "state" / "bench" / "normalize_{scale}.duckdb")
    parser.add_argument("--rebuild", action="store_true", help="regenerate the raw tables")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--run", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        run_once(args.run)
        return
    path = Path(str(args.store).format(scale=args.scale))
    if args.rebuild or not path.exists():
        prepare(path, args.scale)
    env = {**os.environ, "RUNTIME__DLTHUB_TELEMETRY": "false"}
    for attempt in range(args.repeat):
        out = subprocess.run([sys.executable, __file__, "--run", str(path)], check=True, capture_output=True,
                             text=True, env=env).stdout.strip().splitlines()[-1]
        report = json.loads(out)
        verdict = "OK" if report["seconds"] <= 15 else "OVER TARGET"
        load = os.getloadavg()[0]
        print(f"run {attempt + 1}: normalize {report['seconds']} s (target <= 15 s: {verdict}), "
              f"peak RSS {report['peak_rss_mb']} MB, load average {load:.1f} on {os.cpu_count()} cores")
        print(f"  rows: {json.dumps(report['tables'])}")
        print(f"  quality: {json.dumps(report['quality'])}")


if __name__ == "__main__":
    main()
