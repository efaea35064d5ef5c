"""Benchmark: many sources on one PostgreSQL store, serial vs N concurrent worker processes.

24 small sources (12 sandboxes, each a Salesforce org and a HubSpot portal, seeded differently, each
sandbox in a process of its own like a remote CRM, the connectors' rate limits per source on) are synced
and normalized twice into fresh databases: once by one process (`spm-sync sync`, one source after the
other, then `spm-sync normalize`), once by N workers (`spm-sync sync --source S`, N at a time, as cron
jobs / Kubernetes CronJobs or Dagster's multiprocess executor run them) with a `spm-sync normalize`
started once a given share of the syncs has started (`--normalize-after`, default all: a cron normalize
after the sync jobs): it waits for the running syncs of the sources it reads (data locks), and syncs
still to start call their CRMs meanwhile, waiting for it only to load.

Prints wall times (syncs alone and the whole cycle), the speed-ups, CPU seconds of the spm-sync
processes (load-independent, unlike wall time), API calls, lock waits, records/s per worker, peak RSS
of one worker, the store's size per million opportunities and the 1-minute load average.

    .venv/bin/python benchmarks/bench_parallel_sources.py                  # 24 sources, 4 workers
    .venv/bin/python benchmarks/bench_parallel_sources.py --sources 8 --workers 2 --normalize-after 0.5
    .venv/bin/python benchmarks/bench_parallel_sources.py --hubspot-rate 20   # API-bound HubSpot syncs
    .venv/bin/python benchmarks/bench_parallel_sources.py --sources-per-process 6  # 4 long-lived workers

A scale-1 portal needs ~80 calls, which fit in HubSpot's 100 per 10 s: at the default rate the syncs
are CPU-bound on this machine (loopback emulators answer in microseconds); `--hubspot-rate 20` makes
each HubSpot sync wait ~30 s on its limit, as syncs against a remote CRM wait on round trips.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
import yaml

ADMIN_DSN = os.environ.get("SPM_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
CLI = [sys.executable, "-m", "spm_sync.cli"]
AS_OF = date(2026, 3, 15)


def serve_sandbox(stack: ExitStack, seed: int, scale: int, hubspot_rate: int) -> list[dict[str, Any]]:
    """`spm-sync sandbox serve` in its own process; its org and portal as sources, the portal limited
    to `hubspot_rate` requests per 10 s and the connector paced to that."""
    server = stack.enter_context(subprocess.Popen(
        [*CLI, "sandbox", "serve", "--seed", str(seed), "--scale", str(scale), "--no-kpi-fields",
         "--rate-limit", str(hubspot_rate)],
        stdout=subprocess.PIPE, text=True,
    ))
    stack.callback(server.terminate)
    assert server.stdout is not None
    urls = json.loads(server.stdout.readline())
    sf, hs = urls["salesforce"], urls["hubspot"]
    return [
        {"name": f"sf{seed}", "type": "salesforce", "instance_url": sf["instance_url"],
         "session_id": sf["session_id"], "ca_bundle": sf["ca_bundle"]},
        {"name": f"hs{seed}", "type": "hubspot", "base_url": hs["base_url"], "access_token": hs["access_token"],
         "rate_limit": {"requests_per_10s": hubspot_rate}},
    ]


def config_file(folder: Path, dsn: str, sources: list[dict[str, Any]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "config.yaml"
    document = {"store": {"backend": "postgres", "dsn": dsn, "state_dir": "state"}, "as_of": AS_OF.isoformat(),
                "sources": sources}
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


@dataclass
class Usage:
    """What one spm-sync process cost (from wait4: its own CPU and peak RSS, whatever the load)."""

    wall_s: float
    cpu_s: float
    peak_mb: float


def spm_sync(config: Path, *args: str) -> Usage:
    started = time.monotonic()
    process = subprocess.Popen([*CLI, "--config", str(config), *args], stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise subprocess.CalledProcessError(process.returncode, process.args)
    return Usage(time.monotonic() - started, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)


def parallel_cycle(config: Path, dsn: str, names: list[str], args: argparse.Namespace) -> dict[str, Any]:
    """N workers sync `names`, `sources_per_process` per `spm-sync sync` process; a normalize starts once
    `normalize_after` of the syncs have started, i.e. have their run recorded (a sync takes its data lock
    right after; the normalize process needs seconds of imports before it looks at the locks)."""
    started = time.monotonic()
    threshold = max(1, round(args.normalize_after * len(names)))
    batches = [names[i:i + args.sources_per_process] for i in range(0, len(names), args.sources_per_process)]

    def sync(batch: list[str]) -> tuple[Usage, float]:
        usage = spm_sync(config, "sync", *(option for name in batch for option in ("--source", name)))
        return usage, time.monotonic() - started

    with ThreadPoolExecutor(args.workers) as pool, psycopg.connect(dsn, autocommit=True) as con:
        syncs = [pool.submit(sync, batch) for batch in batches]
        while con.execute("SELECT count(*) FROM spm_state.runs WHERE job = 'sync'").fetchone()[0] < threshold:
            time.sleep(0.1)
        normalize = spm_sync(config, "normalize")  # waits for the syncs running now
        done = [future.result() for future in syncs]
    return {"syncs": [usage for usage, _ in done], "syncs_wall_s": max(at for _, at in done),
            "normalize": normalize, "wall_s": time.monotonic() - started}


def store_figures(dsn: str) -> dict[str, Any]:
    with psycopg.connect(dsn, autocommit=True) as con:
        size = con.execute("SELECT pg_database_size(current_database())").fetchone()[0]
        tables = con.execute("SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema "
                             "LIKE 'raw\\_%' AND table_name IN ('opportunity', 'deals')").fetchall()
        opportunities = sum(con.execute(f'SELECT count(*) FROM "{schema}"."{table}"').fetchone()[0]
                            for schema, table in tables)
        runs = con.execute("SELECT job, subject, status, records, api_calls, details FROM spm_state.runs").fetchall()
    syncs = [r for r in runs if r[0] == "sync"]
    return {
        "bytes": size, "opportunities": opportunities,
        "sync_records": sum(sum((r[3] or {}).values()) for r in syncs),
        "api_calls": sum(sum((r[4] or {}).values()) for r in syncs),
        "failed": [f"{job}:{subject}" for job, subject, status, *_ in runs if status != "succeeded"],
        "normalize_wait_s": sum((r[5] or {}).get("lock_wait_s", 0.0) for r in runs if r[0] == "normalize"),
        "sync_wait_s": [(r[5] or {}).get("lock_wait_s", 0.0) for r in syncs],
    }


def run(args: argparse.Namespace) -> None:
    admin = psycopg.connect(ADMIN_DSN, autocommit=True)
    names = {kind: f"spm_bench_{kind}_{uuid.uuid4().hex[:8]}" for kind in ("serial", "parallel")}
    dsns = {kind: ADMIN_DSN.rsplit("/", 1)[0] + f"/{name}" for kind, name in names.items()}
    try:
        for name in names.values():
            admin.execute(f'CREATE DATABASE "{name}"')
        with ExitStack() as stack, tempfile.TemporaryDirectory() as tmp:
            entries: list[dict[str, Any]] = []
            for seed in range(100, 100 + (args.sources + 1) // 2):
                entries += serve_sandbox(stack, seed, args.scale, args.hubspot_rate)
            entries = entries[:args.sources]
            serial_cfg = config_file(Path(tmp) / "serial", dsns["serial"], entries)
            parallel_cfg = config_file(Path(tmp) / "parallel", dsns["parallel"], entries)
            spm_sync(serial_cfg, "check")  # migrations once, so both timings start from a ready store
            spm_sync(parallel_cfg, "check")
            load_before = os.getloadavg()[0]
            serial_sync = spm_sync(serial_cfg, "sync")
            serial_normalize = spm_sync(serial_cfg, "normalize")
            load_between = os.getloadavg()[0]
            parallel = parallel_cycle(parallel_cfg, dsns["parallel"], [e["name"] for e in entries], args)
            load_after = os.getloadavg()[0]
        figures = {kind: store_figures(dsn) for kind, dsn in dsns.items()}
    finally:
        for name in names.values():
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
    report(figures, serial_sync, serial_normalize, parallel, args, (load_before, load_between, load_after))


def report(figures: dict[str, dict[str, Any]], serial_sync: Usage, serial_normalize: Usage,
           parallel: dict[str, Any], args: argparse.Namespace, loads: tuple[float, float, float]) -> None:
    serial, par = figures["serial"], figures["parallel"]
    assert not serial["failed"] and not par["failed"], (serial["failed"], par["failed"])
    syncs: list[Usage] = parallel["syncs"]
    serial_cycle = serial_sync.wall_s + serial_normalize.wall_s
    per_million = par["bytes"] / max(par["opportunities"], 1) * 1_000_000 / 1e9
    workers = args.workers
    print(f"{args.sources} sources, {workers} workers, {args.sources_per_process} source(s) per sync process, "
          f"HubSpot at {args.hubspot_rate} requests / 10 s; 1-minute load average {loads[0]:.1f} before, "
          f"{loads[1]:.1f} after the serial run, {loads[2]:.1f} after the parallel run")
    print(f"records synced: serial {serial['sync_records']:,}, parallel {par['sync_records']:,}; "
          f"API calls: serial {serial['api_calls']:,}, parallel {par['api_calls']:,}")
    print(f"serial   syncs {serial_sync.wall_s:7.1f} s wall, {serial_sync.cpu_s:6.1f} s CPU  "
          f"{serial['sync_records'] / serial_sync.wall_s:6.0f} records/s (one worker); "
          f"normalize {serial_normalize.wall_s:.1f} s wall, {serial_normalize.cpu_s:.1f} s CPU")
    print(f"parallel syncs {parallel['syncs_wall_s']:7.1f} s wall, {sum(u.cpu_s for u in syncs):6.1f} s CPU  "
          f"{par['sync_records'] / parallel['syncs_wall_s'] / workers:6.0f} records/s per worker; "
          f"cycle with normalize {parallel['wall_s']:.1f} s (normalize {parallel['normalize'].wall_s:.1f} s wall, "
          f"{parallel['normalize'].cpu_s:.1f} s CPU)")
    print(f"speed-up with {workers} workers: syncs {serial_sync.wall_s / parallel['syncs_wall_s']:.2f}x, "
          f"cycle (syncs + normalize) {serial_cycle / parallel['wall_s']:.2f}x")
    print(f"lock waits: normalize waited {par['normalize_wait_s']:.1f} s for running syncs; syncs waited "
          f"{sum(par['sync_wait_s']):.1f} s in all (max {max(par['sync_wait_s'], default=0.0):.1f} s) to load")
    print(f"peak RSS of one worker process: {max(u.peak_mb for u in syncs):.0f} MB; serial sync "
          f"{serial_sync.peak_mb:.0f} MB; normalize {parallel['normalize'].peak_mb:.0f} MB")
    print(f"store (after the parallel cycle): {par['bytes'] / 1e6:.0f} MB for {par['opportunities']:,} "
          f"opportunities (~{per_million:.1f} GB per million opportunities, raw + spm + dlt state)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=int, default=24)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--scale", type=int, default=1, help="reps per sandbox (the sandbox's scale)")
    parser.add_argument("--normalize-after", type=float, default=1.0,
                        help="share of the syncs started before the parallel run's normalize starts")
    parser.add_argument("--hubspot-rate", type=int, default=100,
                        help="HubSpot requests per 10 s (portal and connector; 100 is HubSpot's and the default)")
    parser.add_argument("--sources-per-process", type=int, default=1,
                        help="sources one worker's `spm-sync sync` process syncs, one after the other")
    run(parser.parse_args())


if __name__ == "__main__":
    main()
