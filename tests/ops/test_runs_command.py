"""`spm-sync runs`: the stored run history as a table and as JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from spm_sync import jobs
from spm_sync.cli import main
from spm_sync.config import Config
from spm_sync.runs import recorded_run
from spm_sync.store import open_store
from tests.ops import fake_source


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    try:
        code = main(list(args))
    except SystemExit as exited:
        code = exited.code
    return int(code or 0), capsys.readouterr().out


@pytest.fixture
def history(fake_cfg: Config, tmp_path: Path) -> Path:
    """A synced source, a failed sync, and a write-back run; returns a config file on the same store."""
    jobs.sync(fake_cfg)
    fake_source.FAIL_AFTER["rows"] = 0
    with pytest.raises(Exception, match="connection reset"):
        jobs.sync(fake_cfg, full=True)
    with open_store(fake_cfg) as store, recorded_run(store, "writeback", "sf_reps") as run:
        run.api_calls = {"sf.describe": 1, "sf.update": 2}
        run.api_budget = {"daily_used": 120, "daily_max": 15000}
        run.details.update({"dry_run": False, "writeback": {
            "sf_reps": {"planned": 12, "sent": 11, "rejected": 1, "unchanged": 30},
            "sf_teams": {"planned": 3, "sent": 3, "rejected": 0, "unchanged": 0},
        }})
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({"store": {"path": str(fake_cfg.store.path)}}))
    return path


def test_runs_json_lists_every_run_newest_first(history: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run_cli(capsys, "--config", str(history), "runs", "--format", "json")
    assert code == 0
    rows = json.loads(out)
    assert [(r["job"], r["source"], r["outcome"]) for r in rows] == [
        ("writeback", "sf_reps", "succeeded"), ("sync", "erp", "failed"), ("sync", "erp", "succeeded"),
    ]
    writeback, failed, synced = rows
    assert (writeback["api_calls"], writeback["budget_left"]) == (3, 14880)
    assert writeback["writeback"] == {"changed": 15, "sent": 14, "rejected": 1}
    assert failed["error"] == "files 'erp': RuntimeError: connection reset by peer"
    assert (synced["records"], synced["api_calls"], synced["error"], synced["writeback"]) == (100, 100, None, None)
    assert all(r["duration_s"] >= 0 for r in rows)
    assert set(synced) == {"run_id", "job", "source", "started_at", "duration_s", "outcome", "records",
                           "api_calls", "budget_left", "error", "writeback"}


def test_runs_table_filters_by_job_and_limit(history: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run_cli(capsys, "--config", str(history), "runs", "--job", "sync", "--limit", "1")
    assert code == 0
    [row] = [line for line in out.splitlines() if line.startswith("│")]
    cells = [c.strip() for c in row.strip("│").split("│")]
    assert cells[1:] == ["sync", "erp", "failed", cells[4], "0", "0", "-", "-",
                         "files 'erp': RuntimeError: connection reset by peer"]
    assert cells[4].endswith("s")
    assert run_cli(capsys, "--config", str(history), "runs", "--job", "syncs")[0] == 2
