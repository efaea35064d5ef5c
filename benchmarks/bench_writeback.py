"""Write-back API calls and wall time: 2,000 reps x 4 metrics into Salesforce and HubSpot (sandbox).

Counts come from the sandbox servers' own `/__sandbox/stats` (not from our counters). For each CRM and
mode: a first push (every value new), a re-run with no KPI change (must make 0 write calls and 0 reads),
and a push after every value changed (reads back for human-edit protection, then writes). The minimum
is ceil(records / batch maximum): Salesforce sObject Collections 200, HubSpot batch 100. Upsert mode
writes one record per rep x period holding the 4 metrics, so its minimum is ceil(2,000 / 200), a quarter
of the one-record-per-metric layout's ceil(8,000 / 200).

Salesforce is also run on the Bulk API 2.0 ingest path (`bulk_threshold: 0`): one job per run, so its
minimum is 6 calls whatever the size (create, upload, close, at least one status poll, successful and
failed results); the sandbox takes `bulk_delay_s` (0.2 s) to finish a job, which is in the wall time.

    .venv/bin/python benchmarks/bench_writeback.py [--reps 2000]
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")

from spm_sync.config import Config, parse_config  # noqa: E402
from spm_sync.runs import Run  # noqa: E402
from spm_sync.sandbox import Sandbox  # noqa: E402
from spm_sync.sandbox.dataset import generate  # noqa: E402
from spm_sync.store import Store, open_store  # noqa: E402
from spm_sync.writeback import write_back  # noqa: E402

AS_OF = date(2026, 3, 15)
PERIOD = "2026-03"
METRICS = ("quota_attainment", "revenue_won", "win_rate", "calls")
INGEST_ENDPOINTS = ("bulk_ingest_create", "bulk_ingest_upload", "bulk_ingest_close", "bulk_ingest_status",
                    "bulk_ingest_results")
WRITE_ENDPOINTS = {"salesforce": ("composite_sobjects", *INGEST_ENDPOINTS), "hubspot": ("batch_update", "batch_upsert")}
BULK_MIN_CALLS = 6  # one ingest job: create, upload, close, >= 1 poll, successful + failed results
RUNS = (("salesforce", "update", False), ("salesforce", "upsert", False), ("salesforce", "update", True),
        ("salesforce", "upsert", True), ("hubspot", "update", False), ("hubspot", "upsert", False))
META_ENDPOINTS = {"salesforce": ("describe",), "hubspot": ("properties",)}
BATCH_MAX = {"salesforce": 200, "hubspot": 100}
TARGETS: dict[str, dict[str, dict[str, Any]]] = {
    "salesforce": {
        "update": {"object": "User", "fields": dict(zip(METRICS, (
            "Quota_Attainment__c", "Revenue_Won__c", "Win_Rate__c", "Calls_This_Month__c"), strict=True))},
        "upsert": {"object": "Rep_KPI__c", "mode": "upsert", "external_id_field": "Rep_Period_Key__c",
                   "fields": dict(zip(METRICS, ("Quota_Attainment__c", "Revenue_Won__c", "Win_Rate__c", "Calls__c"),
                                      strict=True))},
    },
    "hubspot": {
        "update": {"object": "users", "fields": dict(zip(METRICS, (
            "spm_quota_attainment", "spm_revenue_won", "spm_win_rate", "spm_calls_this_month"), strict=True))},
        "upsert": {"object": "users", "mode": "upsert", "external_id_field": "spm_rep_key",
                   "fields": dict(zip(METRICS, (
                       "spm_quota_attainment", "spm_revenue_won", "spm_win_rate", "spm_calls_this_month"),
                       strict=True))},
    },
}


def sandbox_for(reps: int) -> Sandbox:
    """Users only: the benchmark measures write-back, not the loading of a million opportunities."""
    data = generate(seed=7, scale=reps, as_of=AS_OF)
    empty = ("accounts", "opportunities", "stage_events", "leads", "activities", "feedback", "quotas")
    return Sandbox(dataset=dataclasses.replace(data, **{n: getattr(data, n).slice(0, 0) for n in empty}),
                   rate_limit=190)


def config(sb: Sandbox, path: Path, crm: str, mode: str, bulk: bool) -> Config:
    sources = {
        "salesforce": {"name": "sf", "type": "salesforce", "instance_url": sb.salesforce.instance_url,
                       "session_id": sb.salesforce.session_id, "ca_bundle": sb.salesforce.ca_bundle},
        "hubspot": {"name": "hs", "type": "hubspot", "base_url": sb.hubspot.base_url,
                    "access_token": sb.hubspot.access_token, "rate_limit": {"requests_per_10s": 190}},
    }
    target = {"name": f"{crm}_{mode}", "source": sources[crm]["name"], "entity": "rep", "period": PERIOD,
              **TARGETS[crm][mode], **({"bulk_threshold": 0} if bulk else {})}
    return parse_config({"store": {"path": str(path)}, "as_of": AS_OF.isoformat(), "sources": [sources[crm]],
                         "writeback": [target]}, env={})


def seed(store: Store, sb: Sandbox, reps: int, bump: float) -> None:
    portal = sb.hubspot.portal
    if not store.fetchone("SELECT count(*) FROM spm.rep_identities")[0]:
        rows = []
        for n, (sf_id, hs_id) in enumerate(zip(sb.salesforce.org.ids("User"), portal.ids("users"), strict=True)):
            rows.append((f"rep{n}", "sf", sf_id, None))
            rows.append((f"rep{n}", "hs", f"owner{n}", portal.get("users", hs_id)["hs_internal_user_id"]))
        store.executemany("INSERT INTO spm.rep_identities (rep_id, source, crm_id, crm_user_id) VALUES (?, ?, ?, ?)",
                          rows)
    store.execute("DELETE FROM spm.kpi_values")
    values = (0.5 + bump, 10_000.0 + bump, 0.25 + bump, 40.0 + 100 * bump)
    store.executemany(
        "INSERT INTO spm.kpi_values (entity_type, entity_id, period, metric, value, run_id) "
        "VALUES ('rep', ?, ?, ?, ?, ?)",
        [(f"rep{n}", PERIOD, m, v + n / 10_000, f"kpi-{bump}") for n in range(reps) for m, v in
         zip(METRICS, values, strict=True)],
    )


def calls(sb: Sandbox, crm: str) -> dict[str, int]:
    return dict((sb.salesforce if crm == "salesforce" else sb.hubspot).stats()["by_endpoint"])


def measure(sb: Sandbox, cfg: Config, store: Store, crm: str) -> tuple[int, int, int, float]:
    before = calls(sb, crm)
    started = time.perf_counter()
    result = write_back(cfg, store, Run(job="writeback"))
    wall = time.perf_counter() - started
    after = calls(sb, crm)
    diff = {k: after.get(k, 0) - before.get(k, 0) for k in after if after.get(k, 0) != before.get(k, 0)}
    writes = sum(diff.get(e, 0) for e in WRITE_ENDPOINTS[crm])
    reads = sum(v for k, v in diff.items() if k not in WRITE_ENDPOINTS[crm] and k not in META_ENDPOINTS[crm])
    return writes, reads, result.totals()["sent"], wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=2000)
    args = parser.parse_args()
    console = Console(width=150)
    table = Table(title=f"write-back: {args.reps} reps x {len(METRICS)} metrics")
    for name in ("CRM", "mode", "path", "run", "values sent", "write calls", "minimum", "ratio", "read calls",
                 "wall s"):
        table.add_column(name, justify="left" if name in ("CRM", "mode", "path", "run") else "right")
    with sandbox_for(args.reps) as sb, tempfile.TemporaryDirectory() as tmp:
        for crm, mode, bulk in RUNS:
            path = "bulk ingest" if bulk else "batch API"
            cfg = config(sb, Path(tmp) / f"{crm}_{mode}_{path[:4]}" / "spm_sync.duckdb", crm, mode, bulk)
            store = open_store(cfg)
            minimum = BULK_MIN_CALLS if bulk else math.ceil(args.reps / BATCH_MAX[crm])
            base = 0.5 if bulk else 0.0  # other values than the batch-API run left in the same org
            for label, bump in (("first push", base), ("no change", base), ("all changed", base + 0.01)):
                seed(store, sb, args.reps, bump)
                writes, reads, sent, wall = measure(sb, cfg, store, crm)
                expected = 0 if label == "no change" else minimum
                ratio = f"{writes / expected:.2f}" if expected else ("ok" if writes == 0 else "FAIL")
                table.add_row(crm, mode, path, label, str(sent), str(writes), str(expected), ratio, str(reads),
                              f"{wall:.2f}")
            store.close()
    console.print(table)
    console.print(
        f"upsert minimum counts one record per rep x period with {len(METRICS)} fields; one record per metric "
        f"would need ceil({args.reps * len(METRICS)} / 200) = {math.ceil(args.reps * len(METRICS) / 200)} "
        "Salesforce calls."
    )


if __name__ == "__main__":
    main()
