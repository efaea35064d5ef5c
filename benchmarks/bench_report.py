"""Benchmark: `spm-sync report` and the default `spm-sync kpis` view on a large store (2,000 reps).

Prints the report's generation time (first run builds the cached vega bundle, second run reuses it),
its file size, and the wall time of `kpis --no-compute` without filters (the current fiscal quarter
and month: table and json) with the rows it printed. The issue's baseline: `kpis` without a filter
printed 21,556 rows in 19 s. Each command runs as the user runs it (a CLI process), under `nice`.

    .venv/bin/python benchmarks/bench_report.py                # scale large, cached store
    .venv/bin/python benchmarks/bench_report.py --scale 200    # quicker

The store is bench_metrics.py's (the sandbox data set landed in spm.*), with KPIs computed once,
cached under benchmarks/.data/.
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
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from benchmarks.bench_metrics import AS_OF, DATA, build_store  # noqa: E402


def computed_store(scale: str, rebuild: bool) -> Path:
    from spm_sync.config import parse_config
    from spm_sync.crediting import credits
    from spm_sync.metrics import compute_kpis
    from spm_sync.runs import Run
    from spm_sync.store import open_store

    path = DATA / f"report_{scale}.duckdb"
    if rebuild or not path.exists():
        started = time.perf_counter()
        counts = build_store(path, scale)
        cfg = parse_config({"store": {"path": str(path)}, "as_of": AS_OF.isoformat()})
        with open_store(cfg) as store:
            credits.apply(cfg, store, AS_OF)
            compute_kpis(cfg, store, Run(job="kpis"))
        print(f"built {path.name} with KPIs in {time.perf_counter() - started:.0f} s: {counts}")
    return path


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(argv: list[str]) -> tuple[str, str]:
    """Wall and CPU seconds of one CLI run (CPU time is what a loaded shared machine does not inflate)."""
    started, cpu = time.perf_counter(), _children_cpu_s()
    out = subprocess.run(["nice", *argv], capture_output=True, text=True, check=False,
                         env={**os.environ, "COLUMNS": "200"})
    seconds, cpu = time.perf_counter() - started, _children_cpu_s() - cpu
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{out.stderr[-2000:]}")
    return f"{seconds:.1f} s wall / {cpu:.1f} s CPU", out.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", default="large")
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args()
    path = computed_store(args.scale, args.rebuild)
    cli = [sys.executable, "-m", "spm_sync.cli"]
    with tempfile.TemporaryDirectory(prefix="bench-report-") as tmp:
        config = Path(tmp) / "config.yaml"
        config.write_text(yaml.safe_dump({"store": {"path": str(path), "state_dir": str(Path(tmp) / "state")},
                                          "as_of": AS_OF.isoformat()}))
        base = [*cli, "--config", str(config)]
        report = Path(tmp) / "report.html"
        first, _ = timed([*base, "report", "--output", str(report)])
        second, said = timed([*base, "report", "--output", str(report)])
        print(f"report (current quarter, all teams): {second} ({first} on the first run, which "
              f"builds the cached vega bundle), {report.stat().st_size / 1e6:.2f} MB -- {said.strip()}")
        table_s, table = timed([*base, "kpis", "--no-compute"])
        json_s, as_json = timed([*base, "kpis", "--no-compute", "--format", "json"])
        rows = len(json.loads(as_json))
        table_rows = sum(1 for line in table.splitlines() if line.startswith("│"))
        print(f"kpis default view (current quarter + month): table {table_s} ({table_rows:,} rows, one per "
              f"team/rep and period), json {json_s} ({rows:,} values); baseline 21,556 rows in 19 s")
    print(f"load average {os.getloadavg()[0]:.1f} ({os.cpu_count()} cpus)")


if __name__ == "__main__":
    main()
