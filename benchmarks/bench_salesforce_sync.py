"""Benchmark: Salesforce extract into DuckDB — full sync via Bulk and via REST, then incrementals.

Runs the sandbox org in a child process (so this process's peak RSS is the sync's own) and each sync
phase in a fresh spawned process. Prints records/s, API calls per object against the minimum the
API allows, and peak RSS, with the issue's targets.

    .venv/bin/python benchmarks/bench_salesforce_sync.py                 # large: 1,000,000 opportunities
    .venv/bin/python benchmarks/bench_salesforce_sync.py --scale medium  # 100,000 opportunities
    .venv/bin/python benchmarks/bench_salesforce_sync.py --scale 20 --objects Opportunity,OpportunityHistory
"""

from __future__ import annotations

import argparse
import json
import math
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

REST_PAGE = 2000
TARGETS = {"bulk": 50_000, "rest": 20_000}
RSS_TARGET_MB = 1536
CHANGE_FIELDS = {"Opportunity": "Name", "Account": "Name", "Lead": "Company", "Task": "Subject", "Event": "Subject"}


def start_sandbox(seed: int, scale: str) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    code = f"from spm_sync.sandbox.serve import serve; serve(seed={seed}, scale={scale!r})"
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        raise SystemExit("the sandbox did not start")
    return proc, json.loads(line)["salesforce"]


def config(root: Path, sf: dict[str, Any], bulk_threshold: int, extract_memory_limit: str = "auto") -> Any:
    from spm_sync.config import parse_config

    return parse_config({
        "store": {"path": str(root / "spm_sync.duckdb"), "state_dir": str(root / "state"),
                  "extract_memory_limit": extract_memory_limit},
        "sources": [{
            "name": "sf", "type": "salesforce", "instance_url": sf["instance_url"], "session_id": sf["session_id"],
            "ca_bundle": sf["ca_bundle"], "bulk_threshold": bulk_threshold, "delete_sweep_days": 365,
        }],
    })


def phase(
    root: str, sf: dict[str, Any], bulk_threshold: int, objects: list[str] | None, memory_limit: str | None
) -> dict[str, Any]:
    """One sync in this (spawned) process; returns its numbers."""
    import spm_sync.connectors.salesforce.source as source_module
    from spm_sync.connectors.salesforce.client import SalesforceClient
    from spm_sync.extract import sync_source
    from spm_sync.runs import Run
    from spm_sync.store import open_store

    clients: list[SalesforceClient] = []

    class Recording(SalesforceClient):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            clients.append(self)

    source_module.SalesforceClient = Recording  # type: ignore[misc]
    cfg = config(Path(root), sf, bulk_threshold, os.environ.get("BENCH_EXTRACT_MEMORY_LIMIT", "auto"))
    store = open_store(cfg)
    if memory_limit:  # DuckDB's merge of a multi-million-row table otherwise takes GBs (default: 80% of RAM)
        store.connection.execute(f"SET memory_limit = '{memory_limit}'")
    started = time.perf_counter()
    result = sync_source(cfg, store, "sf", run=Run(job="sync"), objects=objects)
    elapsed = time.perf_counter() - started
    counts = {}
    for table in store.fetchall("SELECT table_name FROM information_schema.tables WHERE table_schema = 'raw_sf'"):
        if not table[0].startswith("_dlt"):
            counts[table[0]] = store.fetchone(f"SELECT count(*) FROM raw_sf.{table[0]}")[0]
    store.close()
    return {
        "seconds": elapsed,
        "loaded": result.records,
        "stored": counts,
        "calls": result.api_calls["by_family"],
        "by_object": _per_object(clients[0].session.by_object) if clients else {},
        "warnings": result.warnings,
        "stopped": result.stopped_by_budget,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _per_object(counts: dict[tuple[str, str], int]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for (obj, family), n in counts.items():
        out.setdefault(obj, {"describe": 0, "data": 0})["describe" if family == "describe" else "data"] += n
    return out


def run_phase(
    root: Path, sf: dict[str, Any], bulk_threshold: int, objects: list[str] | None, memory_limit: str | None
) -> dict[str, Any]:
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(phase, (str(root), sf, bulk_threshold, objects, memory_limit))


def change_one_percent(root: Path, sf: dict[str, Any], objects: list[str] | None) -> dict[str, int]:
    """Update 1% of the rows of the main objects through the composite API (200 records per call)."""
    from spm_sync.calls import ApiCalls
    from spm_sync.connectors.salesforce.client import SalesforceClient
    from spm_sync.store import open_store

    cfg = config(root, sf, 10_000)
    client = SalesforceClient(cfg.sources[0], ApiCalls(source="bench"))  # type: ignore[arg-type]
    store = open_store(cfg)
    changed: dict[str, int] = {}
    for obj, field in CHANGE_FIELDS.items():
        if objects and obj not in objects:
            continue
        table = obj.lower()
        total = store.fetchone(f"SELECT count(*) FROM raw_sf.{table} WHERE NOT is_deleted")[0]
        ids = [r[0] for r in store.fetchall(
            f"SELECT id FROM raw_sf.{table} WHERE NOT is_deleted ORDER BY id LIMIT {max(1, total // 100)}"
        )]
        for start in range(0, len(ids), 200):
            records = [{"attributes": {"type": obj}, "id": i, field: f"changed {i}"} for i in ids[start:start + 200]]
            client.request("PATCH", "composite/sobjects", json={"allOrNone": False, "records": records})
        changed[table] = len(ids)
    store.close()
    return changed


def report(title: str, numbers: dict[str, Any], *, path: str | None, minimum: str) -> None:
    records = sum(numbers["loaded"].values())
    rate = records / numbers["seconds"] if numbers["seconds"] else 0.0
    print(f"\n== {title}: {records:,} records in {numbers['seconds']:.1f}s = {rate:,.0f} records/s"
          + (f" (target >= {TARGETS[path]:,}/s: {'OK' if rate >= TARGETS[path] else 'MISSED'})" if path else ""))
    print(f"   API calls by family: {numbers['calls']}   peak RSS {numbers['peak_rss_mb']:.0f} MB "
          f"(target <= {RSS_TARGET_MB} MB: {'OK' if numbers['peak_rss_mb'] <= RSS_TARGET_MB else 'MISSED'})")
    if numbers["stopped"]:
        print(f"   STOPPED BY BUDGET: {numbers['stopped']}")
    print(f"   {'object':<24}{'rows':>11}{'describe':>9}{'data calls':>11}{'minimum':>8}{'ratio':>7}")
    for obj, calls in sorted(numbers["by_object"].items()):
        rows = numbers["loaded"].get(_table(obj), 0)
        least = _minimum(rows, minimum)
        data = calls["data"]
        print(f"   {obj:<24}{rows:>11,}{calls['describe']:>9}{data:>11}{least:>8}{data / least:>7.2f}")


def _table(obj: str) -> str:
    from spm_sync.connectors.salesforce.records import column_name

    return column_name(obj)


def _minimum(rows: int, kind: str) -> int:
    """REST: ceil(n/2000) pages (at least one query); Bulk: create + poll + ceil(n/50000) result pages;
    `any`: the cheaper of the two."""
    rest = max(1, math.ceil(rows / REST_PAGE))
    bulk = 2 + math.ceil(rows / 50_000)
    if kind == "bulk" and rows > 10_000:
        return bulk
    return min(rest, bulk) if kind == "any" else rest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", default="large", help="small | medium | large | number of reps (default large)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--objects", default="", help="comma-separated objects (default: all)")
    parser.add_argument("--paths", default="bulk,rest", help="which full syncs to run (bulk,rest)")
    parser.add_argument("--duckdb-memory-limit", default=None, help="e.g. 1GB: SET memory_limit on the store")
    parser.add_argument("--extract-memory-limit", default="auto",
                        help="store.extract_memory_limit: auto (default), off (the old default), 2GB, 10%%")
    args = parser.parse_args()
    os.environ["BENCH_EXTRACT_MEMORY_LIMIT"] = args.extract_memory_limit  # read by the spawned sync phases
    scale: Any = int(args.scale) if args.scale.isdigit() else args.scale
    objects = [o for o in args.objects.split(",") if o] or None

    started = time.perf_counter()
    proc, sf = start_sandbox(args.seed, scale)
    print(f"sandbox up (scale={scale}) in {time.perf_counter() - started:.1f}s at {sf['instance_url']}; "
          f"DuckDB memory_limit: {args.duckdb_memory_limit or 'default (80% of RAM)'}; "
          f"extract_memory_limit: {args.extract_memory_limit}")
    limit = args.duckdb_memory_limit
    try:
        with tempfile.TemporaryDirectory(prefix="bench-sf-") as tmp:
            last_root: Path | None = None
            for path in [p for p in args.paths.split(",") if p]:
                root = Path(tmp) / path
                threshold = 10_000 if path == "bulk" else 10**12
                numbers = run_phase(root, sf, threshold, objects, limit)
                report(f"full sync via {path.upper()}", numbers, path=path, minimum=path)
                last_root = root
            if last_root is None:
                return
            report("incremental, nothing changed", run_phase(last_root, sf, 10_000, objects, limit), path=None,
                   minimum="rest")
            changed = change_one_percent(last_root, sf, objects)
            print(f"\nchanged 1% through the API: {changed}")
            report("incremental, 1% changed", run_phase(last_root, sf, 10_000, objects, limit), path=None,
                   minimum="any")
    finally:
        proc.terminate()
        proc.wait(timeout=30)


if __name__ == "__main__":
    main()
