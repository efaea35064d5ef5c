"""A due scheduled run that meets a busy lock stays due: not recorded, retried by the next --once or the daemon."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest

from spm_sync.config import Config, StoreConfig
from spm_sync.errors import StoreBusy
from spm_sync.ops.locks import stage_lock
from spm_sync.scheduler import build_scheduler, due_schedules, run_once
from spm_sync.store import open_store

NOW = datetime(2026, 5, 1, 10, 7)
DEFERRED = "deferred: stage 'sync:erp' is already running"


def _nightly_only(cfg: Config) -> Config:
    return cfg.model_copy(update={"schedules": cfg.schedules[:1]})


def _recorded(cfg: Config) -> list[tuple[str, str]]:
    with open_store(cfg) as store:
        return store.fetchall("SELECT schedule, status FROM spm_state.schedule_runs")


@pytest.fixture(params=["duckdb", "postgres"])
def cfg(request: pytest.FixtureRequest, fake_cfg: Config) -> Config:
    if request.param == "duckdb":
        return _nightly_only(fake_cfg)
    dsn = request.getfixturevalue("pg_dsn")
    store = StoreConfig(backend="postgres", dsn=dsn, state_dir=fake_cfg.store.state_dir)
    return _nightly_only(fake_cfg.model_copy(update={"store": store}))


def test_a_due_run_blocked_by_a_manual_run_stays_due(cfg: Config, tally) -> None:
    open_store(cfg).close()
    with stage_lock(cfg.store, "sync:erp"):  # a manual `spm-sync sync --source erp` is running
        [outcome] = run_once(cfg, NOW).values()
    tally.add("faults", 1)
    assert outcome.startswith(DEFERRED) and outcome.endswith("stays due, runs when the lock frees")
    assert _recorded(cfg) == []
    assert [due.schedule.name for due in due_schedules(cfg, NOW)] == ["nightly"]
    assert run_once(cfg, NOW) == {"nightly": "succeeded"}
    assert _recorded(cfg) == [("nightly", "succeeded")]


def test_the_daemon_retries_a_deferred_run(cfg: Config) -> None:
    scheduler = build_scheduler(cfg)
    job = scheduler.get_job("nightly")
    with stage_lock(cfg.store, "sync:erp"):
        assert job.func(*job.args).startswith(DEFERRED)
    retry = scheduler.get_job("nightly:retry")
    assert retry is not None and retry.args == job.args
    assert retry.func(*retry.args) == "succeeded"
    assert _recorded(cfg) == [("nightly", "succeeded")]


HOLDER = """
import sys, time
import duckdb
con = duckdb.connect(sys.argv[1])
print("held", flush=True)
time.sleep(60)
"""


def test_duckdb_held_by_another_process_defers_at_once(fake_cfg: Config, tmp_path: Path) -> None:
    cfg = _nightly_only(fake_cfg)
    open_store(cfg).close()
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(cfg.store.path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        started = time.monotonic()
        with pytest.raises(StoreBusy):
            run_once(cfg, NOW)
        assert time.monotonic() - started < 5  # not the 30 s wait for the file
    finally:
        holder.kill()
        holder.wait()
    assert run_once(cfg, NOW) == {"nightly": "succeeded"}
    assert _recorded(cfg) == [("nightly", "succeeded")]
