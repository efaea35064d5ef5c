"""A killed process leaves nothing that needs a human: half-moved dlt packages and `running` rows."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from spm_sync import jobs
from spm_sync.config import Config
from spm_sync.interrupted_loads import repair_working_folder
from spm_sync.ops.status import collect_status
from spm_sync.runs import Run, insert_run, process_started
from spm_sync.store import open_store
from tests.ops import fake_source
from tests.reliability.harness import ROOT, cli_env


def _package(root: Path, *parts: str) -> Path:
    folder = root.joinpath(*parts)
    folder.mkdir(parents=True)
    (folder / "job.parquet").write_text("rows")
    return folder


def test_repair_finishes_committed_moves_and_drops_uncommitted_extracts(tmp_path: Path) -> None:
    _package(tmp_path, "normalize", "extracted", "111")  # committed to load/normalized: copy left behind
    _package(tmp_path, "load", "normalized", "111")
    _package(tmp_path, "load", "new", "111")
    _package(tmp_path, "normalize", "extracted", "222")  # still to normalize: dlt redoes load/new itself
    _package(tmp_path, "load", "new", "222")
    _package(tmp_path, "load", "new", "333")  # orphan: no extracted package feeds it
    _package(tmp_path, "normalize", "a1b2c3d4", "new", "444")  # extract killed before its commit
    _package(tmp_path, "load", "loaded", "555")
    notes = repair_working_folder(tmp_path)
    assert notes == [
        "package 111: normalized before the kill; removed its extracted copy",
        "package 111: removed a half-normalized copy",
        "package 333: removed a half-normalized copy",
        "extract folder a1b2c3d4: never committed (cursors not saved); dropped, it is pulled again",
    ]
    left = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_dir() and p.parent.name
                  in ("extracted", "new", "normalized", "loaded"))
    assert left == ["load/loaded/555", "load/new/222", "load/normalized/111", "normalize/extracted/222"]
    assert repair_working_folder(tmp_path) == []


class Killed(BaseException):
    """Stands for a kill inside one process: nothing after it runs, no dlt clean-up catches it."""


SYNC_SCRIPT = """
import os, sys
sys.path.insert(0, {root!r})
from tests.ops import fake_source
fake_source.ROWS.extend(fake_source.NEW_ROWS[: int(os.environ.get("NEW_ROWS", "0"))])
from tests.reliability.harness import ROOT, cli_env
from tests.reliability import killpoints
import spm_sync.extract
spm_sync.extract.source_factory = lambda kind: fake_source.fake_source
killpoints.install()
from spm_sync import jobs
from spm_sync.config import parse_config
from spm_sync.logs import configure_logging
configure_logging("text")
jobs.sync(parse_config({{"store": {{"path": {db!r}, "state_dir": {state!r}}},
                        "sources": [{{"name": "erp", "type": "files"}}]}}))
"""


def test_kill_9_between_normalize_commit_and_delete_recovers_on_next_sync(fake_cfg: Config, tally) -> None:
    script = SYNC_SCRIPT.format(root=str(ROOT), db=str(fake_cfg.store.path), state=str(fake_cfg.store.state_dir))
    first = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=cli_env(), timeout=120)
    assert first.returncode == 0, first.stderr  # the destination holds the pipeline's state from here on
    env = cli_env(SPM_TEST_KILL="dlt.normalize.commit:1", NEW_ROWS="5")
    killed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120)
    assert killed.returncode == -9, killed.stderr
    tally.add("crash_points", 1)
    pipeline_dir = fake_cfg.store.state_dir / "pipelines" / "spm_erp"
    [load_id] = [p.name for p in (pipeline_dir / "normalize" / "extracted").iterdir()]
    assert (pipeline_dir / "load" / "normalized" / load_id).is_dir()  # the same package in two places
    again = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=cli_env(NEW_ROWS="5"), timeout=120
    )
    assert again.returncode == 0, again.stderr  # the defect: OSError Directory not empty, on every run
    [recovered] = [line for line in again.stderr.splitlines() if "recovered an interrupted sync" in line]
    assert f"package {load_id}: normalized before the kill; removed its extracted copy" in recovered
    assert f"finished 1 load package(s) left by the interrupted run: {load_id}" in recovered
    with open_store(fake_cfg) as store:
        rows = store.fetchall("SELECT id, amount FROM raw_erp.items ORDER BY id")
        runs = store.fetchall("SELECT status FROM spm_state.runs ORDER BY started_at")
    assert rows == [(r["id"], r["amount"]) for r in [*fake_source.ROWS, *fake_source.NEW_ROWS[:5]]]
    assert runs == [("succeeded",), ("interrupted",), ("succeeded",)]
    assert not any((pipeline_dir / "normalize" / "extracted").iterdir())
    assert not any((pipeline_dir / "load" / "new").iterdir())


def test_kill_after_extract_commit_loads_the_package_then_extracts(fake_cfg: Config, monkeypatch) -> None:
    from dlt.pipeline.pipeline import Pipeline

    def die(self: Pipeline, *args: object, **kwargs: object) -> None:
        raise Killed()

    jobs.sync(fake_cfg)
    original_rows = list(fake_source.ROWS)
    try:
        fake_source.ROWS.extend(fake_source.NEW_ROWS[:5])
        monkeypatch.setattr(Pipeline, "normalize", die)  # extracted, cursor saved, then the process dies
        with pytest.raises(Killed):
            jobs.sync(fake_cfg)
        monkeypatch.undo()
        monkeypatch.setattr("spm_sync.extract.source_factory", lambda kind: fake_source.fake_source)
        fake_source.ROWS.extend(fake_source.NEW_ROWS[5:])
        jobs.sync(fake_cfg)  # dlt alone would load the pending package and skip this extract
        with open_store(fake_cfg) as store:
            ids = [row[0] for row in store.fetchall("SELECT id FROM raw_erp.items ORDER BY id")]
    finally:
        fake_source.ROWS[:] = original_rows
    assert ids == list(range(110))


def test_a_run_whose_process_is_gone_shows_interrupted(fake_cfg: Config) -> None:
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(gone.stdout)
    with open_store(fake_cfg) as store:
        run = Run(job="sync", subject="erp")
        insert_run(store, run)
        store.execute(
            "UPDATE spm_state.runs SET pid = ?, process_started = NULL WHERE run_id = ?", [dead_pid, run.run_id]
        )
        live = Run(job="kpis")
        insert_run(store, live)  # this process: alive
        store.execute(
            "UPDATE spm_state.runs SET pid = 1, process_started = ? WHERE run_id = ?", [process_started(1), live.run_id]
        )
    info = collect_status(fake_cfg)
    assert info["sources"][0]["last_status"] == "interrupted"
    assert info["stages"]["kpis"]["status"] == "running"  # pid 1 is alive
    with open_store(fake_cfg) as store:
        rows = store.fetchall("SELECT job, status, error_class FROM spm_state.runs ORDER BY job")
    assert rows == [("kpis", "running", None), ("sync", "interrupted", "ProcessGone")]
