"""Benchmark the sandbox data set generator: seconds, rows/s per table, peak RSS per scale.

Each scale runs in a fresh subprocess so its peak RSS is its own.
Targets: large (2,000 reps, 1M opportunities, 5M activities) under 60 s and ~3 GB RSS on 2 cores.

    .venv/bin/python benchmarks/bench_sandbox_generate.py            # small, medium
    .venv/bin/python benchmarks/bench_sandbox_generate.py --large    # + large
    .venv/bin/python benchmarks/bench_sandbox_generate.py --scale 500
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from datetime import date

# generator step -> the tables it builds
STEP_TABLES = {
    "org": ("teams", "reps"),
    "accounts": ("accounts",),
    "deals": ("opportunities", "stage_events"),
    "leads": ("leads",),
    "activities": ("activities",),
    "feedback": ("feedback",),
    "quotas": ("quotas",),
}


def measure(scale: str) -> dict[str, object]:
    """Generate once in this process and report timings, counts and peak RSS."""
    from spm_sync.sandbox.dataset import generate_timed

    started = time.perf_counter()
    dataset, steps = generate_timed(seed=7, scale=scale, as_of=date(2026, 3, 15))
    total = time.perf_counter() - started
    counts = dataset.counts()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
    per_table = {
        table: {"rows": counts[table], "rows_per_s": counts[table] / max(seconds, 1e-9)}
        for step, seconds in steps.items() for table in STEP_TABLES[step]
    }
    return {"scale": scale, "seconds": total, "steps": steps, "tables": per_table, "peak_rss_mb": peak_mb}


def report(result: dict[str, object]) -> None:
    print(f"\n== scale {result['scale']}: {result['seconds']:.2f} s, peak RSS {result['peak_rss_mb']:.0f} MB")
    steps = result["steps"]
    assert isinstance(steps, dict)
    tables = result["tables"]
    assert isinstance(tables, dict)
    for step, names in STEP_TABLES.items():
        for name in names:
            row = tables[name]
            print(f"  {name:<14} {row['rows']:>10,} rows  {steps[step]:7.3f} s (step {step})"
                  f"  {row['rows_per_s']:>14,.0f} rows/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--large", action="store_true", help="also run the large scale (1M opportunities)")
    parser.add_argument("--scale", action="append", help="run only these scales (repeatable)")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # child mode: one scale, JSON on stdout
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one)))
        return
    scales = args.scale or ["small", "medium", *(["large"] if args.large else [])]
    for scale in scales:
        child = subprocess.run([sys.executable, __file__, "--one", scale], capture_output=True, text=True,
                               check=True)
        report(json.loads(child.stdout.strip().splitlines()[-1]))


if __name__ == "__main__":
    main()
