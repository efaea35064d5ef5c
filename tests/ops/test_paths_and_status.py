"""Relative paths in a config belong to the config's folder (a cron job started elsewhere finds the same
store), and `status` says where the store is, why a source failed, and what a dry run did not do."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from rich.console import Console

from spm_sync.cli import main
from spm_sync.config import Config, load_config
from spm_sync.ops.status import collect_status, render_status
from spm_sync.runs import recorded_run
from spm_sync.store import open_store


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    try:
        code = main(list(args))
    except SystemExit as exited:
        code = exited.code
    return int(code or 0), capsys.readouterr().out


def test_relative_paths_resolve_against_the_config_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder, elsewhere = tmp_path / "conf", tmp_path / "cron-home"
    (folder / "data").mkdir(parents=True)
    elsewhere.mkdir()
    (folder / "data" / "quotas.csv").write_text(
        "rep_email,period_start,period_end,amount,currency\na@x.io,2026-01-01,2026-01-31,1000,USD\n"
    )
    (folder / "config.yaml").write_text(yaml.safe_dump({
        "store": {"state_dir": "state"},  # path left at its default, state/spm_sync.duckdb
        "sources": [{"name": "erp", "type": "files", "quotas": "data/quotas.csv", "mapping": "my/files.yaml"}],
    }))
    monkeypatch.chdir(elsewhere)
    cfg = load_config(Path("../conf/config.yaml"))
    assert cfg.store.path == folder.resolve() / "state" / "spm_sync.duckdb"
    assert cfg.store.state_dir == folder.resolve() / "state"
    [source] = cfg.sources
    assert (source.quotas, source.mapping) == (folder / "data" / "quotas.csv", folder / "my" / "files.yaml")

    (folder / "config.yaml").write_text(yaml.safe_dump({
        "sources": [{"name": "erp", "type": "files", "quotas": "data/quotas.csv"}],
    }))
    assert run_cli(capsys, "--config", "../conf/config.yaml", "sync")[0] == 0
    assert not (elsewhere / "state").exists()
    with open_store(load_config(folder / "config.yaml")) as store:
        assert store.fetchall("SELECT rep_email, amount FROM raw_erp.quotas") == [("a@x.io", 1000.0)]
    code, out = run_cli(capsys, "--config", "../conf/config.yaml", "status", "--format", "json")
    assert code == 0
    assert json.loads(out)["store"] == {"backend": "duckdb", "location": str(folder / "state" / "spm_sync.duckdb")}


def test_status_names_a_failed_sources_error_and_tells_dry_runs_apart(
    fake_cfg: Config, capsys: pytest.CaptureFixture[str]
) -> None:
    with open_store(fake_cfg) as store:
        with pytest.raises(RuntimeError), recorded_run(store, "sync", "erp") as failed:
            raise RuntimeError("connection reset by peer")
        with recorded_run(store, "writeback") as run:
            run.details["dry_run"] = True
    info = collect_status(fake_cfg, now=failed.started_at + timedelta(seconds=90))
    assert info["sources"][0]["last_error"] == "RuntimeError: connection reset by peer"
    assert info["warnings"][:2] == [
        "source erp: never synced successfully",
        "source erp: last sync failed 1m ago: RuntimeError: connection reset by peer",
    ]
    assert info["stages"]["writeback"] is None
    assert info["writeback_dry_run"]["status"] == "succeeded"
    assert info["store"]["location"] == str(fake_cfg.store.path)
    render_status(info, Console(width=80))
    out = capsys.readouterr().out
    assert "writeback: never run\n" in out
    assert "writeback dry run: succeeded at " in out and "(nothing sent)" in out
    assert "warning: source erp: last sync failed 1m ago: RuntimeError: connection reset by peer\n" in out
