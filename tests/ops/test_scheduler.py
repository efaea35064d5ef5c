from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from spm_sync.config import Config, StoreConfig
from spm_sync.scheduler import due_schedules, run_once, trigger_for
from spm_sync.store import open_store

ROOT = Path(__file__).resolve().parents[2]


def test_cron_next_run_times_with_timezone(fake_cfg: Config) -> None:
    nightly, quarter = fake_cfg.schedules
    after = datetime(2026, 3, 28, 23, 50, tzinfo=UTC)
    assert trigger_for(nightly).get_next_fire_time(None, after) == datetime(2026, 3, 29, 2, 0, tzinfo=UTC)
    fire = trigger_for(quarter).get_next_fire_time(None, after)
    assert fire.astimezone(UTC) == datetime(2026, 3, 29, 0, 0, tzinfo=UTC)
    assert str(fire.tzinfo) == "Europe/Paris"


def test_once_runs_what_is_due_and_coalesces(fake_cfg: Config) -> None:
    now = datetime(2026, 5, 1, 10, 7)
    assert run_once(fake_cfg, now) == {"nightly": "succeeded", "quarter-hour": "succeeded"}
    assert due_schedules(fake_cfg, now + timedelta(minutes=5)) == []
    later = now + timedelta(hours=3)  # many missed quarter-hours coalesce into one run
    assert [s.name for s, *_ in due_schedules(fake_cfg, later)] == ["quarter-hour"]
    assert [s.name for s, *_ in due_schedules(fake_cfg, now + timedelta(days=1))] == ["nightly", "quarter-hour"]
    with open_store(fake_cfg) as store:
        assert store.fetchall("SELECT schedule, status FROM spm_state.schedule_runs ORDER BY schedule") == [
            ("nightly", "succeeded"),
            ("quarter-hour", "succeeded"),
        ]


def test_once_says_why_a_schedule_is_due(fake_cfg: Config) -> None:
    now = datetime(2026, 5, 1, 10, 7)
    said: list[str] = []
    run_once(fake_cfg, now, announce=said.append)
    assert said == [
        "nightly (sync, cron '0 2 * * *'): first run of this schedule (no earlier run recorded)",
        "quarter-hour (sync, cron '*/15 * * * *'): first run of this schedule (no earlier run recorded)",
    ]
    on_time = [d.reason for d in due_schedules(fake_cfg, datetime(2026, 5, 2, 2, 3))]
    assert on_time == ["due at 2026-05-02 02:00 UTC", "catching up 64 missed runs in one "
                       "(the last due at 2026-05-02 04:00 CEST, 3m late)"]
    after_a_day_down = [d.reason for d in due_schedules(fake_cfg, datetime(2026, 5, 2, 22, 7))]
    assert after_a_day_down == [
        "catching up a missed run (due at 2026-05-02 02:00 UTC, 20h 07m late)",
        "catching up 144 missed runs in one (the last due at 2026-05-03 00:00 CEST, 7m late)",
    ]


RACER = """
import sys, time
from pathlib import Path
sys.path.insert(0, {root!r})
from tests.ops import fake_source
import spm_sync.extract
spm_sync.extract.source_factory = lambda kind: fake_source.fake_source
from spm_sync.config import parse_config
from spm_sync.scheduler import run_once
cfg = parse_config({{"store": {{"path": {db!r}, "state_dir": {state!r}}},
    "sources": [{{"name": "erp", "type": "files"}}],
    "schedules": [{{"name": "nightly", "cron": "0 2 * * *", "job": "sync", "source": "erp"}}]}})
print(run_once(cfg))
"""


def test_two_processes_racing_never_overlap(tmp_path: Path) -> None:
    script = RACER.format(root=str(ROOT), db=str(tmp_path / "spm_sync.duckdb"), state=str(tmp_path / "state"))
    racers = [
        subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=120) for p in racers]
    assert all(p.returncode == 0 for p in racers), outputs
    printed = sorted(out.strip() for out, _ in outputs)
    assert printed == ["{'nightly': 'succeeded'}", "{}"]
    store_cfg = StoreConfig(path=tmp_path / "spm_sync.duckdb")
    with open_store(store_cfg) as store:
        assert store.fetchall("SELECT job, status FROM spm_state.runs") == [("sync", "succeeded")]


DAEMON = RACER.replace(
    "print(run_once(cfg))",
    """
original = fake_source.fake_source
def slow(config, context):
    src = original(config, context)
    Path({marker!r}).write_text("started")
    return src
spm_sync.extract.source_factory = lambda kind: slow
from spm_sync.calls import ApiCalls
_rec = ApiCalls.record
def record(self, family, count=1):  # the first call waits until the test has sent SIGTERM
    Path({calling!r}).touch()
    while not Path({go!r}).exists():
        time.sleep(0.01)
    _rec(self, family, count)
ApiCalls.record = record
from spm_sync.scheduler import run_scheduler
run_scheduler(cfg)
""",
)


def test_sigterm_mid_stage_finishes_it_and_leaves_the_store_consistent(tmp_path: Path) -> None:
    marker, calling, go = tmp_path / "started", tmp_path / "calling", tmp_path / "go"
    script = DAEMON.format(
        root=str(ROOT), db=str(tmp_path / "spm_sync.duckdb"), state=str(tmp_path / "state"), marker=str(marker),
        calling=str(calling), go=str(go),
    )
    daemon = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not calling.exists() and time.monotonic() < deadline and daemon.poll() is None:
        time.sleep(0.05)
    assert marker.exists() and calling.exists(), daemon.stderr.read() if daemon.poll() is not None else "no job"
    os.kill(daemon.pid, signal.SIGTERM)  # the stage is inside its first API call
    go.touch()
    out, err = daemon.communicate(timeout=60)
    assert daemon.returncode == 0, err
    assert "scheduler stopped" in out
    store_cfg = StoreConfig(path=tmp_path / "spm_sync.duckdb")
    with open_store(store_cfg) as store:
        assert store.fetchall("SELECT job, status FROM spm_state.runs") == [("sync", "succeeded")]
        assert store.fetchone("SELECT count(*) FROM raw_erp.items")[0] == 100
        assert store.fetchall("SELECT schedule, status FROM spm_state.schedule_runs") == [("nightly", "succeeded")]
