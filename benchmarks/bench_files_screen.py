"""Benchmark: reading, typing and screening a large ERP export (the files connector's row rules).

Writes an opportunities CSV of N rows (default 1,000,000) where about 0.1 % of rows break a rule
(non-finite or negative amount, unknown currency), 0.1 % are exact copies and 0.05 % conflict with
another row of the same id; then times `read_export` (read, type, rules, duplicates) and prints rows/s,
the rejected and duplicate counts and the peak RSS of this process.

    .venv/bin/python benchmarks/bench_files_screen.py            # 1M rows
    .venv/bin/python benchmarks/bench_files_screen.py --rows 200000

Target: the rules cost little next to reading and typing (rows/s within 2x of a plain typed read).
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from spm_sync.connectors.files.settings import EXPORTS_BY_NAME  # noqa: E402
from spm_sync.connectors.files.source import _read_strings, _Where, read_export, typed_export  # noqa: E402


def write_export(path: Path, rows: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    lines = ["id,account_id,owner_email,name,stage,amount,currency,close_date"]
    for i in range(rows):
        roll = rng.random()
        amount = f"{rng.randint(1, 500_000)}.{rng.randint(0, 99):02d}"
        currency = rng.choice(["USD", "EUR", "usd", "GBP"])
        deal = f"D{i}"
        if roll < 0.0005:
            amount = rng.choice(["inf", "1e400", "NaN", "-100"])
        elif roll < 0.001:
            currency = "XYZ"
        elif roll < 0.0015 and i:
            deal = f"D{i - 1}"  # same id as the previous row, other values: a conflict
        line = f"{deal},A{i % 5000},rep{i % 200}@example.com,Deal {i},won,{amount},{currency},2026-0{1 + i % 9}-15"
        lines.append(line)
        if 0.0015 <= roll < 0.0025:
            lines.append(line)  # an exact copy
    path.write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    kind = EXPORTS_BY_NAME["opportunities"]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "opportunities.csv"
        write_export(path, args.rows)
        started = time.perf_counter()
        strings, first_line = _read_strings(path)
        typed_export(strings, kind, _Where(path, first_line), "USD")
        plain = time.perf_counter() - started
        started = time.perf_counter()
        screened = read_export(path, kind)
        full = time.perf_counter() - started
    total = screened.rows.num_rows + len(screened.rejections) + screened.duplicates
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"rows in file: {total:,}")
    print(f"read + type only:          {plain:6.2f} s  ({total / plain:,.0f} rows/s)")
    print(f"read + type + row rules:   {full:6.2f} s  ({total / full:,.0f} rows/s)  ratio {full / plain:.2f}")
    by_check: dict[str, int] = {}
    for rejection in screened.rejections:
        by_check[rejection.check] = by_check.get(rejection.check, 0) + 1
    print(f"loaded {screened.rows.num_rows:,}; rejected {len(screened.rejections):,} {by_check}; "
          f"exact copies dropped {screened.duplicates:,}")
    print(f"peak RSS: {peak_mb:,.0f} MB")


if __name__ == "__main__":
    main()
