"""Benchmark: one `run` cycle (sync -> normalize -> kpis -> writeback) on the sandbox, steady state.

The sandbox (both CRMs, HubSpot with its rate limit raised so the first load is not the subject) runs
in a child process; every cycle runs in a fresh spawned process, so its peak RSS is the cycle's own.
Cycles: the first load (for reference), then two with nothing changed (the first of them still syncs the
users our write-back just updated), then one after 1 % of the deals / opportunities changed in both CRMs
through their APIs. Per cycle: wall and CPU time per stage, whether normalize / kpis kept their last
output (inputs unchanged, spm_sync/fingerprint.py), API calls per
CRM (the emulators' own request counters, so every call is counted, ours or the SDK's) and per synced
object, peak RSS. Run it under `nice`; note the load average printed with the figures.

    .venv/bin/python benchmarks/bench_cycle.py --scale large
    .venv/bin/python benchmarks/bench_cycle.py --scale medium
    .venv/bin/python benchmarks/bench_cycle.py --scale small     # a minute, for trying it

Target (issue 15): a no-change cycle costs at most one call per synced object and finishes in seconds.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

HUBSPOT_RATE = 10_000  # requests / 10 s on both sides: the rate limit is not what this measures
SEARCH_PER_SECOND = 5  # the portal's own search limit (the emulator keeps it): paced, not met by 429s


def start_sandbox(seed: int, scale: str) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    code = f"from spm_sync.sandbox.serve import serve; serve(seed={seed}, scale={scale!r}, rate_limit={HUBSPOT_RATE})"
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        raise SystemExit("the sandbox did not start")
    return proc, json.loads(line)


def config_document(root: Path, crm: dict[str, Any]) -> dict[str, Any]:
    sf, hs = crm["salesforce"], crm["hubspot"]
    lookback = float(os.environ.get("BENCH_HUBSPOT_LOOKBACK_MINUTES", "5"))
    return {
        "store": {"path": str(root / "spm_sync.duckdb"), "state_dir": str(root / "state")},
        "sources": [
            {"name": "sf", "type": "salesforce", "instance_url": sf["instance_url"], "session_id": sf["session_id"],
             "ca_bundle": sf["ca_bundle"]},
            {"name": "hs", "type": "hubspot", "base_url": hs["base_url"], "access_token": hs["access_token"],
             "rate_limit": {"requests_per_10s": HUBSPOT_RATE, "search_per_second": SEARCH_PER_SECOND},
             "lookback_minutes": lookback},
        ],
        "writeback": [
            {"name": "sf_reps", "source": "sf", "object": "User", "entity": "rep", "period": "current_quarter",
             "fields": {"quota_attainment": "Quota_Attainment__c", "revenue_won": "Revenue_Won__c"}},
            {"name": "hs_reps", "source": "hs", "object": "users", "entity": "rep", "period": "current_quarter",
             "fields": {"quota_attainment": "spm_quota_attainment"}},
        ],
    }


def api_totals(crm: dict[str, Any]) -> dict[str, int]:
    """Requests each emulator has answered so far (GET /__sandbox/stats is not counted itself)."""
    import requests

    session = requests.Session()
    session.trust_env = False
    sf = session.get(crm["salesforce"]["instance_url"] + "/__sandbox/stats", verify=crm["salesforce"]["ca_bundle"])
    hs = session.get(crm["hubspot"]["base_url"] + "/__sandbox/stats")
    return {"salesforce": sf.json()["total"], "hubspot": hs.json()["total"]}


def cycle(root: str, crm: dict[str, Any]) -> dict[str, Any]:
    """One run cycle in this (spawned) process, stage by stage, as `spm-sync run` does."""
    from spm_sync import jobs
    from spm_sync.config import parse_config

    cfg = parse_config(config_document(Path(root), crm))
    stages: dict[str, dict[str, Any]] = {}
    for name, stage in (("sync", lambda: jobs.sync(cfg)), ("normalize", lambda: jobs.normalize(cfg)),
                        ("kpis", lambda: jobs.kpis(cfg)), ("writeback", lambda: jobs.writeback(cfg))):
        before = api_totals(crm)
        started, cpu = time.perf_counter(), time.process_time()
        result = stage()
        after = api_totals(crm)
        stages[name] = {"seconds": time.perf_counter() - started, "cpu_s": time.process_time() - cpu,
                        "calls": {k: after[k] - before[k] for k in after},
                        "kept": bool(getattr(result, "kept_from", None))}
        if name == "sync":
            for synced in result:
                stages[name].setdefault("records", {})[synced.source] = sum(synced.records.values())
                stages[name].setdefault("by_family", {})[synced.source] = synced.api_calls.get("by_family", {})
    return {"stages": stages, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def run_cycle(root: Path, crm: dict[str, Any]) -> dict[str, Any]:
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(cycle, (str(root), crm))


def change_one_percent(root: Path, crm: dict[str, Any]) -> dict[str, int]:
    """Update 1 % of the opportunities (Salesforce composite, 200 per call) and deals (HubSpot batch
    update, 100 per call) through the APIs, so their modification stamps move as a user's edit would."""
    import requests

    from spm_sync.store import open_store

    with open_store(parse(root, crm).store) as store:
        opps = [r[0] for r in store.fetchall("SELECT id FROM raw_sf.opportunity WHERE NOT is_deleted ORDER BY id")]
        deals = [r[0] for r in store.fetchall("SELECT id FROM raw_hs.deals WHERE NOT archived ORDER BY id")]
    opps, deals = opps[: max(1, len(opps) // 100)], deals[: max(1, len(deals) // 100)]
    session = requests.Session()
    session.trust_env = False
    sf = crm["salesforce"]
    headers = {"Authorization": f"Bearer {sf['session_id']}"}
    for start in range(0, len(opps), 200):
        records = [{"attributes": {"type": "Opportunity"}, "id": i, "Name": f"changed {i}"}
                   for i in opps[start:start + 200]]
        session.patch(f"{sf['instance_url']}/services/data/v62.0/composite/sobjects", headers=headers,
                      json={"allOrNone": False, "records": records}, verify=sf["ca_bundle"]).raise_for_status()
    hs = crm["hubspot"]
    headers = {"Authorization": f"Bearer {hs['access_token']}"}
    for start in range(0, len(deals), 100):
        inputs = [{"id": i, "properties": {"dealname": f"changed {i}"}} for i in deals[start:start + 100]]
        session.post(f"{hs['base_url']}/crm/v3/objects/deals/batch/update", headers=headers,
                     json={"inputs": inputs}).raise_for_status()
    return {"opportunities": len(opps), "deals": len(deals)}


def parse(root: Path, crm: dict[str, Any]) -> Any:
    from spm_sync.config import parse_config

    return parse_config(config_document(root, crm))


def report(title: str, numbers: dict[str, Any]) -> None:
    stages = numbers["stages"]
    total = sum(s["seconds"] for s in stages.values())
    cpu = sum(s["cpu_s"] for s in stages.values())
    print(f"\n== {title}: {total:.1f}s wall, {cpu:.1f}s CPU (this process; the emulators not counted), peak RSS "
          f"{numbers['peak_rss_mb']:.0f} MB   (load average {os.getloadavg()[0]:.1f})")
    for name, stage in stages.items():
        calls = ", ".join(f"{crm} {n}" for crm, n in stage["calls"].items())
        kept = "   (inputs unchanged: kept)" if stage["kept"] else ""
        print(f"   {name:<10}{stage['seconds']:>8.1f}s wall {stage['cpu_s']:>7.1f}s CPU   API calls: {calls}{kept}")
    sync = stages["sync"]
    for source, families in sync.get("by_family", {}).items():
        print(f"   sync {source}: {sync['records'][source]:,} records; calls by family {families}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", default="large", help="small | medium | large | number of reps (default large)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--hubspot-lookback-minutes", type=float, default=5.0,
                        help="HubSpot's re-read window (default 5, the config default): cycles minutes apart re-read "
                             "the records the previous cycle's write-back changed; 0 measures syncs further apart")
    args = parser.parse_args()
    os.environ["BENCH_HUBSPOT_LOOKBACK_MINUTES"] = str(args.hubspot_lookback_minutes)
    scale: Any = int(args.scale) if args.scale.isdigit() else args.scale
    started = time.perf_counter()
    proc, crm = start_sandbox(args.seed, scale)
    print(f"sandbox up (scale={scale}) in {time.perf_counter() - started:.1f}s; load average "
          f"{os.getloadavg()[0]:.1f}")
    try:
        with tempfile.TemporaryDirectory(prefix="bench-cycle-") as tmp:
            root = Path(tmp)
            report("first load (reference)", run_cycle(root, crm))
            report("nothing changed (the first load's write-back comes back as changed users)", run_cycle(root, crm))
            report("nothing changed", run_cycle(root, crm))
            changed = change_one_percent(root, crm)
            print(f"\nchanged 1 % through the APIs: {changed}")
            report("1 % changed", run_cycle(root, crm))
    finally:
        proc.terminate()
        proc.wait(30)


if __name__ == "__main__":
    main()
