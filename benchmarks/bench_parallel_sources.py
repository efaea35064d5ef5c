"""Benchmark: many sources on one PostgreSQL store, serial vs N concurrent worker processes.

24 small sources (12 sandboxes, each a Salesforce org and a HubSpot portal, seeded differently, each
sandbox in a process of its own like a remote CRM, its per-source rate limits on) are synced twice into fresh
databases: once by one process
(`spm-sync sync`, one source after the other), once by N workers (`spm-sync sync --source S`, N at a
time, as cron jobs / Kubernetes CronJobs or Dagster's multiprocess executor run them). While the
workers run, a `spm-sync normalize` starts half-way: it waits for the running syncs of the sources it
reads (data locks); its wait is printed. Prints wall times, the speed-up, records/s per worker, peak
RSS of a worker, and the store's size per million opportunities.

    .venv/bin/python benchmarks/bench_parallel_sources.py                  # 24 sources, 4 workers
    .venv/bin/python benchmarks/bench_parallel_sources.py --sources 8 --workers 2
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
import yaml

ADMIN_DSN = os.environ.get("SPM_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
CLI = [sys.executable, "-m", "spm_sync.cli"]
AS_OF = date(2026, 3, 15)


def serve_sandbox(stack: ExitStack, seed: int, scale: int) -> list[dict[str, Any]]:
    """`spm-sync sandbox serve` in its own process; its org and portal as sources (connector's pacing)."""
    server = stack.enter_context(subprocess.Popen(
        [*CLI, "sandbox", "serve", "--seed", str(seed), "--scale", str(scale), "--no-kpi-fields"],
        stdout=subprocess.PIPE, text=True,
    ))
    stack.callback(server.terminate)
    assert server.stdout is not None
    urls = json.loads(server.stdout.readline())
    sf, hs = urls["salesforce"], urls["hubspot"]
    return [
        {"name": f"sf{seed}", "type": "salesforce", "instance_url": sf["instance_url"],
         "session_id": sf["session_id"], "ca_bundle": sf["ca_bundle"]},
        {"name": f"hs{seed}", "type": "hubspot", "base_url": hs["base_url"], "access_token": hs["access_token"]},
    ]


def config_file(folder: Path, dsn: str, sources: list[dict[str, Any]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "config.yaml"
    document = {"store": {"backend": "postgres", "dsn": dsn, "state_dir": "state"}, "as_of": AS_OF.isoformat(),
                "sources": sources}
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def spm_sync(config: Path, *args: str) -> None:
    subprocess.run([*CLI, "--config", str(config), *args], check=True, stdout=subprocess.DEVNULL)


def store_figures(dsn: str) -> dict[str, Any]:
    with psycopg.connect(dsn, autocommit=True) as con:
        size = con.execute("SELECT pg_database_size(current_database())").fetchone()[0]
        tables = con.execute("SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema "
                             "LIKE 'raw\\_%' AND table_name IN ('opportunity', 'deals')").fetchall()
        opportunities = sum(con.execute(f'SELECT count(*) FROM "{schema}"."{table}"').fetchone()[0]
                            for schema, table in tables)
        runs = con.execute("SELECT job, subject, status, records, details FROM spm_state.runs").fetchall()
    records = sum(sum(r[3].values()) for r in runs if r[0] == "sync" and r[3])
    failed = [f"{job}:{subject}" for job, subject, status, _, _ in runs if status != "succeeded"]
    waits = {f"{job}:{subject}" if subject else job: (details or {}).get("lock_wait_s", 0.0)
             for job, subject, _, _, details in runs}
    return {"bytes": size, "opportunities": opportunities, "sync_records": records, "failed": failed, "waits": waits}


def run(sources: int, workers: int, scale: int) -> None:
    admin = psycopg.connect(ADMIN_DSN, autocommit=True)
    names = {kind: f"spm_bench_{kind}_{uuid.uuid4().hex[:8]}" for kind in ("serial", "parallel")}
    dsns = {kind: ADMIN_DSN.rsplit("/", 1)[0] + f"/{name}" for kind, name in names.items()}
    try:
        for name in names.values():
            admin.execute(f'CREATE DATABASE "{name}"')
        with ExitStack() as stack, tempfile.TemporaryDirectory() as tmp:
            entries: list[dict[str, Any]] = []
            for seed in range(100, 100 + (sources + 1) // 2):
                entries += serve_sandbox(stack, seed, scale)
            entries = entries[:sources]
            serial_cfg = config_file(Path(tmp) / "serial", dsns["serial"], entries)
            parallel_cfg = config_file(Path(tmp) / "parallel", dsns["parallel"], entries)
            spm_sync(serial_cfg, "check")  # migrations once, so both timings start from a ready store
            spm_sync(parallel_cfg, "check")

            started = time.monotonic()
            spm_sync(serial_cfg, "sync")
            serial_s = time.monotonic() - started

            started = time.monotonic()
            with ThreadPoolExecutor(workers) as pool:
                syncs = [pool.submit(spm_sync, parallel_cfg, "sync", "--source", e["name"]) for e in entries]
                while sum(f.done() for f in syncs) < len(syncs) // 2:
                    time.sleep(0.2)
                normalize_started = time.monotonic()
                spm_sync(parallel_cfg, "normalize")  # waits for the syncs running now
                normalize_s = time.monotonic() - normalize_started
                for future in syncs:
                    future.result()
            parallel_s = time.monotonic() - started
        figures = {kind: store_figures(dsn) for kind, dsn in dsns.items()}
    finally:
        for name in names.values():
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
    serial, parallel = figures["serial"], figures["parallel"]
    assert not serial["failed"] and not parallel["failed"], (serial["failed"], parallel["failed"])
    sync_waits = [w for key, w in parallel["waits"].items() if key.startswith("sync:")]
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    per_million = parallel["bytes"] / max(parallel["opportunities"], 1) * 1_000_000 / 1e9
    print(f"sources {sources} (scale {scale}), workers {workers}, load average {os.getloadavg()[0]:.1f}")
    print(f"records synced: serial {serial['sync_records']:,}, parallel {parallel['sync_records']:,}")
    print(f"serial   {serial_s:7.1f} s  {serial['sync_records'] / serial_s:8.0f} records/s (one worker)")
    print(f"parallel {parallel_s:7.1f} s  {parallel['sync_records'] / parallel_s / workers:8.0f} records/s per worker")
    print(f"speed-up {serial_s / parallel_s:.2f}x with {workers} workers")
    print(f"normalize started half-way: {normalize_s:.1f} s, of which waiting for running syncs "
          f"{parallel['waits'].get('normalize', 0.0):.1f} s; syncs waiting for it: total {sum(sync_waits):.1f} s")
    print(f"peak RSS of one spm-sync process (the largest of all, the serial one included): {peak_mb:.0f} MB")
    print(f"store (after the workers' run and one normalize): {parallel['bytes'] / 1e6:.0f} MB for "
          f"{parallel['opportunities']:,} opportunities "
          f"(~{per_million:.1f} GB per million opportunities, raw + spm + dlt state)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=int, default=24)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--scale", type=int, default=1, help="reps per sandbox (the sandbox's scale)")
    args = parser.parse_args()
    run(args.sources, args.workers, args.scale)


if __name__ == "__main__":
    main()
