from __future__ import annotations

import multiprocessing
import select
import time
from pathlib import Path
from typing import IO

import pytest

from spm_sync.config import StoreConfig
from spm_sync.errors import LockBusy
from spm_sync.ops import locks
from spm_sync.ops.locks import stage_lock


def hold_lock(path: str, ready: multiprocessing.synchronize.Event, release: multiprocessing.synchronize.Event) -> None:
    with stage_lock(StoreConfig(path=Path(path)), "sync:sf"):
        ready.set()
        release.wait(60)


def test_second_process_is_refused_then_waits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = StoreConfig(path=tmp_path / "spm_sync.duckdb")
    ctx = multiprocessing.get_context("spawn")
    ready, release = ctx.Event(), ctx.Event()
    holder = ctx.Process(target=hold_lock, args=(str(config.path), ready, release))
    holder.start()
    announced: list[tuple[str, str, float]] = []

    def release_once_waiting(stage: str, held_by: str, timeout_s: float) -> None:
        announced.append((stage, held_by, timeout_s))
        release.set()

    monkeypatch.setattr(locks, "_announce_wait", release_once_waiting)
    try:
        assert ready.wait(30)
        with (
            pytest.raises(LockBusy, match=r"stage 'sync:sf' is already running \(pid \d+\)"),
            stage_lock(config, "sync:sf"),
        ):
            pass
        with stage_lock(config, "normalize"):  # another stage is free
            pass
        assert announced == []  # refusing without a timeout is not waiting
        with stage_lock(config, "sync:sf", timeout_s=20):
            assert announced == [("sync:sf", f"pid {holder.pid}", 20)]
    finally:
        release.set()
        holder.join(30)
    assert holder.exitcode == 0


@pytest.mark.postgres
def test_postgres_advisory_lock(pg_dsn: str) -> None:
    from spm_sync.store import open_store

    config = StoreConfig(backend="postgres", dsn=pg_dsn)
    with open_store(config) as first, open_store(config) as second:
        with (
            stage_lock(config, "kpis", store=first),
            pytest.raises(LockBusy, match="stage 'kpis' is already running"),
            stage_lock(config, "kpis", store=second),
        ):
            pass
        with stage_lock(config, "kpis", store=second):
            pass


def test_cli_exits_with_a_message_or_waits_per_flag(tmp_path: Path) -> None:
    import subprocess
    import sys

    config = tmp_path / "config.yaml"
    db = tmp_path / "spm_sync.duckdb"
    config.write_text(f"store: {{path: {db}, state_dir: {tmp_path / 'state'}}}\n")
    command = [sys.executable, "-m", "spm_sync.cli", "--config", str(config)]
    with stage_lock(StoreConfig(path=db), "normalize"):
        refused = subprocess.run([*command, "normalize"], capture_output=True, text=True, timeout=120)
        assert refused.returncode == 1
        assert "error: stage 'normalize' is already running (pid" in refused.stderr
        assert "try again later" in refused.stderr
        waiter = subprocess.Popen(
            [*command, "--lock-timeout", "60", "normalize"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        assert waiter.stderr is not None
        said = _line_containing(waiter.stderr, "waiting up to 60 s for stage 'normalize' (pid ")
        assert waiter.poll() is None, said  # still waiting for the lock
    out, err = waiter.communicate(timeout=120)
    assert waiter.returncode == 0, err


def _line_containing(stream: IO[str], text: str, timeout_s: float = 60) -> str:
    """The first line of `stream` containing `text`; fails after `timeout_s` without one."""
    deadline = time.monotonic() + timeout_s
    while (left := deadline - time.monotonic()) > 0:
        if select.select([stream], [], [], left)[0]:
            line = stream.readline()
            if text in line or not line:
                assert line, f"stream ended without {text!r}"
                return line
    raise AssertionError(f"no line with {text!r} within {timeout_s} s")


def test_no_lock_file_outlives_its_run(tmp_path: Path) -> None:
    config = StoreConfig(path=tmp_path / "spm_sync.duckdb")
    with stage_lock(config, "sync:sf"):
        assert [p.name for p in tmp_path.iterdir()] == ["spm_sync.duckdb.sync-sf.lock"]
    assert list(tmp_path.iterdir()) == []
    with stage_lock(config, "sync:sf"):  # taken again at once
        pass
    assert list(tmp_path.iterdir()) == []
