from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from spm_sync.cli import app

COMMANDS = (
    "sync", "backfill", "normalize", "kpis", "explain", "writeback", "run", "schedule", "status", "check", "demo",
    "report", "list", "runs",
)


def spm(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "spm_sync.cli", *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=120
    )


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_an_example(command: str) -> None:
    result = spm(command, "--help")
    assert result.returncode == 0, result.stderr
    assert "Example" in result.stdout


def test_sandbox_serve_help() -> None:
    result = spm("sandbox", "serve", "--help")
    assert result.returncode == 0
    assert "--faults" in result.stdout and "--scale" in result.stdout and "--seed" in result.stdout


def test_writeback_setup_help() -> None:
    result = spm("writeback", "setup", "--help")
    assert result.returncode == 0, result.stderr
    assert "Example" in result.stdout and "--dry-run" in result.stdout and "--target" in result.stdout


def test_registered_commands_match_design() -> None:
    names = {c.name or c.callback.__name__ for c in app.registered_commands}
    groups = {g.name for g in app.registered_groups}
    assert set(COMMANDS) <= names | groups
    assert groups == {"sandbox", "writeback"}


def test_bad_config_is_one_line_exit_2(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("sources:\n  - name: sf\n    type: salesforce\n    instance_url: nope\n    session_id: x\n")
    result = spm("--config", str(config), "sync")
    assert result.returncode == 2
    assert result.stderr.strip() == f"error: {config}: sources[0].instance_url: not a URL"


def test_missing_config_file_exit_2(tmp_path: Path) -> None:
    result = spm("sync", cwd=tmp_path, env={"PATH": "/usr/bin:/bin", "SPM_SYNC_CONFIG": str(tmp_path / "none.yaml")})
    assert result.returncode == 2
    assert (
        result.stderr.strip() == f"error: {tmp_path / 'none.yaml'}: no such file (pass --config or set SPM_SYNC_CONFIG)"
    )


def test_usage_errors_exit_2() -> None:
    assert spm("no-such-command").returncode == 2
    assert spm("kpis", "--format", "xml").returncode == 2
    bad_scale = spm("sandbox", "serve", "--scale", "huge")
    assert bad_scale.returncode == 2
    assert "--scale: expected small, medium, large or a number of reps" in bad_scale.stderr
    both = spm("sandbox", "serve", "--mirror", "--split")
    assert both.returncode == 2
    assert "--mirror and --split exclude each other" in both.stderr


def test_secret_not_in_error_output(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(
        "sources:\n  - name: hs\n    type: hubspot\n    access_token: pat-na1-supersecret\n    base_url: ftp//bad\n"
    )
    result = spm("--config", str(config), "sync")
    assert result.returncode == 2
    assert "supersecret" not in result.stderr + result.stdout
