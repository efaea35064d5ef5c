"""Soak: the reliability suite's crash and fault tests with more kill points and more fault seeds.

The CI part (tests/reliability/) kills the CLI at 20 seeded points per stage and runs faults at 20 %
and 40 % once each; this runs the crash test with `--kills` points per stage and the fault test
`--fault-rounds` times with other seeds, and prints the suite's summary line and the wall time.

    .venv/bin/python benchmarks/bench_reliability_soak.py --kills 60 --fault-rounds 3
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=60, help="SIGKILLs per stage (CI: 20)")
    parser.add_argument("--fault-rounds", type=int, default=3, help="fault test repetitions, seed offset each")
    args = parser.parse_args()
    started = time.monotonic()
    for round_ in range(args.fault_rounds):
        tests = ["tests/reliability/test_faults.py"]
        if round_ == 0:
            tests.append("tests/reliability/test_crash_recovery.py")
        env = {**os.environ, "SPM_RELIABILITY_KILLS": str(args.kills), "SPM_RELIABILITY_SEED_OFFSET": str(round_)}
        result = subprocess.run(
            [sys.executable, "-m", "pytest", *tests, "-q", "-s", "-p", "no:cacheprovider", "--timeout=0"],
            cwd=ROOT, env=env, capture_output=True, text=True,
        )
        shown = ("reliability:", "sync", "normalize", "kpis", "writeback")
        lines = result.stdout.splitlines()
        print("\n".join(line for line in lines if line.startswith(shown) or " passed" in line or " failed" in line))
        if result.returncode != 0:
            print(result.stdout[-4000:])
            sys.exit(1)
    print(f"soak: {time.monotonic() - started:.0f} s wall (2-core machine; say whether it was shared)")


if __name__ == "__main__":
    main()
