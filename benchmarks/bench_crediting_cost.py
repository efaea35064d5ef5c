"""Benchmark: the API cost of crediting data (owner history and splits) against the sandbox.

Both CRMs on one split data set (each team's deals in one CRM). Syncs only what crediting adds:
HubSpot `deals` (owner history is read for deals reassigned after close, splits for won deals) and
Salesforce OpportunityFieldHistory / OpportunitySplit / OpportunitySplitType. Prints, per kind, the
calls spent vs the minimum the APIs allow, records/s and the syncing process's peak RSS; then an
incremental run after reassigning some closed deals in HubSpot.

Minimums: HubSpot history = ceil(reassigned after close / 50) (batch read with propertiesWithHistory),
splits = ceil(won deals / 100) (HubSpot documents no way to tell which deals have splits, so every
won deal's splits are read once); Salesforce = one describe + ceil(rows / 2,000) query pages per
object (or, past the Bulk threshold, a Bulk job: a few calls).

    .venv/bin/python benchmarks/bench_crediting_cost.py                 # medium: 200 reps, 100k deals
    .venv/bin/python benchmarks/bench_crediting_cost.py --scale large   # 2,000 reps, 1M deals (long)

Target: HubSpot history and splits calls == their minimum (ratio 1.00), incremental history calls ==
ceil(reassigned / 50).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

HISTORY, SPLITS = "objects.deals.batch.read.history", "deals.splits.batch.read"
SF_OBJECTS = ("OpportunityFieldHistory", "OpportunitySplit", "OpportunitySplitType")


def serve(scale: str, reassign: int) -> None:
    """Child process: both emulators; prints connection details and the data set's truth; on a line
    from stdin reassigns `reassign` closed HubSpot deals (long after close) and prints their ids."""
    from spm_sync.sandbox import Sandbox

    with Sandbox(seed=7, scale=scale, split=True, rate_limit=1_000_000, search_rate_limit=100_000) as sb:
        portal = sb.hubspot.portal
        table = portal.table("deals")
        live = table.live_mask()
        closed = table.column("hs_is_closed")
        won = table.column("hs_is_closed_won")
        closed_ids, won_n, late = [], 0, 0
        for row in map(int, live.nonzero()[0]):
            if closed.render(row) == "true":
                closed_ids.append(str(table.ids[row]))
                won_n += won.render(row) == "true"
                assigned, close = table.render(row, "hubspot_owner_assigneddate"), table.render(row, "closedate")
                late += bool(assigned and close and assigned[:10] > close[:10])
        org = sb.salesforce.org
        sf_rows = {name: len(org.ids(name, include_deleted=True)) for name in SF_OBJECTS}
        print(json.dumps({"description": sb.description(), "hubspot_deals": int(live.sum()),
                          "reassigned_after_close": late, "won": won_n, "salesforce_rows": sf_rows}), flush=True)
        sys.stdin.readline()
        owners = sorted(portal.owner_ids())
        picked = closed_ids[:reassign]
        for n, deal in enumerate(picked):
            current = portal.get("deals", deal)["hubspot_owner_id"]
            portal.update("deals", deal, {"hubspot_owner_id": next(o for o in owners[n % len(owners):] + owners
                                                                    if o != current)})
        time.sleep(0.01)
        print(json.dumps(picked), flush=True)
        sys.stdin.read()


def run(args: argparse.Namespace) -> None:
    from spm_sync.config import parse_config
    from spm_sync.extract import sync_source
    from spm_sync.runs import Run
    from spm_sync.store import open_store

    child = subprocess.Popen([sys.executable, __file__, "--serve", "--scale", args.scale, "--reassign",
                              str(args.reassign)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdin is not None and child.stdout is not None
        info = json.loads(child.stdout.readline())
        desc = info["description"]
        tmp = Path(tempfile.mkdtemp(prefix="bench_crediting_"))
        cfg = parse_config({
            "store": {"path": str(tmp / "bench.duckdb"), "state_dir": str(tmp / "state")},
            "sources": [
                {"name": "sf", "type": "salesforce", "instance_url": desc["salesforce"]["instance_url"],
                 "session_id": desc["salesforce"]["session_id"], "ca_bundle": desc["salesforce"]["ca_bundle"]},
                {"name": "hs", "type": "hubspot", "base_url": desc["hubspot"]["base_url"],
                 "access_token": desc["hubspot"]["access_token"], "lookback_minutes": 0,
                 "rate_limit": {"requests_per_10s": 100_000, "search_per_second": 10_000}},
            ],
        })
        store = open_store(cfg)
        print(f"scale {args.scale}: HubSpot {info['hubspot_deals']:,} live deals, "
              f"{info['reassigned_after_close']:,} reassigned after close, {info['won']:,} won; "
              f"Salesforce rows {info['salesforce_rows']}")

        started = time.monotonic()
        hs = sync_source(cfg, store, "hs", run=Run(job="sync"), objects=["deals"])
        hs_wall = time.monotonic() - started
        calls = hs.api_calls["by_family"]
        rows = sum(hs.records.values())
        print(f"\nHubSpot deals full sync: {rows:,} rows in {hs_wall:.1f} s ({rows / hs_wall:,.0f} records/s), "
              f"{hs.api_calls['total']:,} calls in all; warnings {hs.warnings}")
        print(f"{'kind':<34}{'records':>10}{'calls':>8}{'minimum':>9}{'ratio':>7}")
        for label, family, n, size in (("owner history (reassigned)", HISTORY, info["reassigned_after_close"], 50),
                                       ("splits (won deals)", SPLITS, info["won"], 100)):
            minimum = math.ceil(n / size)
            got = calls.get(family, 0)
            print(f"{label:<34}{n:>10,}{got:>8}{minimum:>9}{got / max(minimum, 1):>7.2f}")
        print(f"raw rows: deal_owner_history {hs.records.get('deal_owner_history', 0):,}, "
              f"deal_splits {hs.records.get('deal_splits', 0):,}")

        started = time.monotonic()
        sf = sync_source(cfg, store, "sf", run=Run(job="sync"), objects=list(SF_OBJECTS))
        sf_wall = time.monotonic() - started
        sf_rows = sum(sf.records.values())
        print(f"\nSalesforce {', '.join(SF_OBJECTS)}: {sf_rows:,} rows in {sf_wall:.1f} s "
              f"({sf_rows / sf_wall:,.0f} records/s); calls {sf.api_calls['by_family']}")
        sf_minimum = sum(1 + math.ceil(n / 2000) for n in info["salesforce_rows"].values())
        print(f"calls {sf.api_calls['total']} vs REST minimum {sf_minimum} (describe + 2,000-row pages per object; "
              f"Bulk jobs above the threshold cost a few calls per object instead)")

        child.stdin.write("go\n")
        child.stdin.flush()
        picked = json.loads(child.stdout.readline())
        started = time.monotonic()
        again = sync_source(cfg, store, "hs", run=Run(job="sync"), objects=["deals"])
        inc = again.api_calls["by_family"]
        print(f"\nincremental after reassigning {len(picked)} closed deals: {time.monotonic() - started:.1f} s, "
              f"history calls {inc.get(HISTORY, 0)} (minimum {math.ceil(len(picked) / 50)}), "
              f"splits calls {inc.get(SPLITS, 0)}, all calls {again.api_calls['total']}")
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"\npeak RSS of the syncing process: {peak_mb:,.0f} MB")
        store.close()
    finally:
        if child.stdin:
            child.stdin.close()
        child.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", default="medium", help="small, medium (default), large or a number of reps")
    parser.add_argument("--reassign", type=int, default=120, help="closed deals reassigned before the incremental run")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.scale, args.reassign)
    else:
        run(args)


if __name__ == "__main__":
    main()
