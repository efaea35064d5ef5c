"""kill -9 at seeded points of every stage; the next run alone converges to the uninterrupted result.

Two sandboxes from the same seed serve identical CRMs. Store A runs the cycle
`sync (full) -> normalize -> kpis -> writeback -> [CRM edits] -> sync (incremental) -> normalize ->
kpis -> writeback -> sync` without interruption, counting how often each kill point
(tests/reliability/killpoints.py) is hit. Store B runs the same cycle, but each stage is first run
again and again with SIGKILL at seeded (point, n-th hit) pairs drawn from A's counts -- inside
dlt's extract, normalize and load steps, after an API response, the instant after the CRM received
a write, after a store statement -- until KILLS_PER_STAGE processes died there; then once without a
kill. Finally both stores (raw, normalized, KPIs, write-back outcome per field) and both CRMs'
applied writes are compared: a row of A missing from B is a lost row; a CRM record written more
often in B than in A is a double write.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from spm_sync.sandbox import Sandbox
from tests.reliability.harness import (
    ROOT,
    cli_env,
    compare,
    count_applied_writes,
    edit_crms,
    snapshot,
    write_config,
)

SEED = 16
KILLS_PER_STAGE = int(os.environ.get("SPM_RELIABILITY_KILLS", "12"))
MAX_ATTEMPTS = 3 * KILLS_PER_STAGE
KPIS = ["kpis", "--metric", "revenue_won", "--entity-type", "company", "--format", "json"]
SYNC_POINTS = ("dlt.extract.write", "dlt.extract.commit", "dlt.state.save", "dlt.normalize.commit",
               "dlt.load.job", "dlt.load.package", "http.read")
STORE_POINTS = ("store.statement", "store.batch")
# (label, argv, points killed at; None: run once, not killed)
CYCLE: list[tuple[str, list[str], tuple[str, ...] | None]] = [
    ("sync full", ["sync"], SYNC_POINTS),
    # --rebuild: a kill attempt after one that got through still rebuilds (not kept as unchanged inputs)
    ("normalize", ["normalize", "--rebuild"], STORE_POINTS),
    ("kpis", [*KPIS, "--rebuild"], STORE_POINTS),
    ("writeback", ["writeback"], ("http.read", "http.write", *STORE_POINTS)),
    ("edit", [], None),
    ("sync incremental", ["sync"], SYNC_POINTS),
    ("normalize again", ["normalize"], None),
    ("kpis again", KPIS, None),
    ("writeback again", ["writeback"], None),
    ("sync after writeback", ["sync"], None),
]


class Zygote:
    """Client of tests/reliability/zygote.py: one forked CLI process per `run`."""

    def __init__(self) -> None:
        env = {**os.environ, **cli_env(), "PYTHONPATH": str(ROOT)}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.reliability.zygote"], cwd=ROOT, env=env, text=True,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        )

    def run(self, config: Path, argv: list[str], **env: str) -> tuple[int, str]:
        out = config.parent / "last-run.txt"
        request = {"argv": ["--config", str(config), *argv], "cwd": str(config.parent), "env": env, "out": str(out)}
        assert self.process.stdin and self.process.stdout
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        status = json.loads(self.process.stdout.readline())["status"]
        return status, out.read_text()

    def close(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        self.process.wait(timeout=30)


def _kill_plan(counts: Counter[str], points: tuple[str, ...], rng: random.Random) -> Iterator[tuple[str, int]]:
    """Seeded (point, n) pairs: points in turn (each reached by the uninterrupted run), n uniform in its hits."""
    reached = [p for p in points if counts[p] > 0]
    assert reached, f"none of {points} was hit by the uninterrupted run: {counts}"
    for attempt in range(MAX_ATTEMPTS):
        point = reached[attempt % len(reached)]
        yield point, rng.randint(1, counts[point])


@pytest.fixture(scope="module")
def zygote() -> Iterator[Zygote]:
    server = Zygote()
    yield server
    server.close()


@pytest.mark.timeout(900)  # about 2-3 min alone on 2 cores; more when other suites share the machine
def test_kill_9_at_seeded_points_of_every_stage_converges(tmp_path: Path, zygote: Zygote, tally) -> None:
    rng = random.Random(SEED)
    with Sandbox(seed=7, scale="small", split=True) as crm_a, Sandbox(seed=7, scale="small", split=True) as crm_b:
        writes_a, writes_b = count_applied_writes(crm_a), count_applied_writes(crm_b)
        config_a, config_b = write_config(tmp_path / "a", crm_a), write_config(tmp_path / "b", crm_b)
        killed: dict[str, Counter[str]] = {}
        for label, argv, points in CYCLE:
            if not argv:
                edit_crms(crm_a)
                edit_crms(crm_b)
                continue
            counts_file = tmp_path / "counts.json"
            status, output = zygote.run(config_a, argv, SPM_TEST_COUNT=str(counts_file))
            assert status == 0, f"{label} (uninterrupted): {output[-2000:]}"
            counts = Counter(json.loads(counts_file.read_text()))
            killed[label] = Counter()
            for point, n in _kill_plan(counts, points or (), rng) if points else ():
                if sum(killed[label].values()) >= KILLS_PER_STAGE:
                    break
                status, output = zygote.run(config_b, argv, SPM_TEST_KILL=f"{point}:{n}")
                assert status in (0, -9), f"{label} killed at {point}:{n} earlier, now: {output[-2000:]}"
                if status == -9:
                    killed[label][point] += 1
            status, output = zygote.run(config_b, argv)
            assert status == 0, f"{label}: the run after the kills failed: {output[-3000:]}"
            if points:
                assert sum(killed[label].values()) >= KILLS_PER_STAGE, (label, killed[label], counts)
        tally.add("crash_points", sum(sum(c.values()) for c in killed.values()))
        lost, extra, differing = compare(snapshot(config_a), snapshot(config_b))
        double = sum(max(0, writes_b[k] - writes_a[k]) for k in writes_b)
        tally.add("rows_lost", lost)
        tally.add("double_writes", double)
        assert differing == {}
        assert (lost, extra, double) == (0, 0, 0)
        assert sum(writes_a.values()) > 0 and writes_b == writes_a
        for label, by_point in killed.items():
            print(f"{label}: {sum(by_point.values())} kills {dict(by_point)}")
