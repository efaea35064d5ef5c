"""config.example.yaml with its sample files works end to end against the sandbox, as plain
`sandbox serve` starts it (KPI fields included) and as a new org (`--no-kpi-fields`): after
`writeback setup`, `check` passes every line and `run` completes."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
import yaml

from spm_sync.sandbox import Sandbox
from spm_sync.sandbox.dataset import generate

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("kpi_fields", [True, False], ids=["plain-serve", "no-kpi-fields"])
def test_example_config_passes_check_and_runs_against_the_sandbox(tmp_path: Path, kpi_fields: bool) -> None:
    shutil.copy(REPO / "config.example.yaml", tmp_path / "config.yaml")  # its state/ lands next to it
    shutil.copytree(REPO / "data", tmp_path / "data")
    with Sandbox(seed=7, scale="small", kpi_fields=kpi_fields) as sandbox:
        env = {
            **os.environ,
            "SF_INSTANCE_URL": sandbox.salesforce.instance_url,
            "SF_SESSION_ID": sandbox.salesforce.session_id,
            "SF_CA_BUNDLE": sandbox.salesforce.ca_bundle,
            "HUBSPOT_BASE_URL": sandbox.hubspot.base_url,
            "HUBSPOT_TOKEN": sandbox.hubspot.access_token,
            "ALERT_WEBHOOK": "http://127.0.0.1:9/unused",
            "COLUMNS": "200",
        }
        cli = [sys.executable, "-m", "spm_sync.cli", "--config", str(tmp_path / "config.yaml")]
        setup = subprocess.run([*cli, "writeback", "setup"], capture_output=True, text=True, env=env, timeout=240)
        assert setup.returncode == 0, setup.stdout + setup.stderr
        check = subprocess.run([*cli, "check"], capture_output=True, text=True, env=env, timeout=240)
        run = subprocess.run([*cli, "run"], capture_output=True, text=True, env=env, timeout=600)
    assert check.returncode == 0, check.stdout + check.stderr
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.splitlines()[0] == "run complete: stages sync, normalize, kpis, writeback"
    lines = check.stdout.splitlines()
    assert "ok   source erp: 3 files valid: quotas (8 rows), activity_targets (324 rows), teams (12 rows)" in lines
    assert lines[-1] == "all 7 checks ok"
    assert (tmp_path / "state" / "spm_sync.duckdb").exists()  # resolved against the config's folder


@pytest.mark.parametrize("as_of", [date(2026, 3, 15), date(2027, 8, 1)])
def test_sample_files_name_the_sandbox_people_on_any_day(as_of: date) -> None:
    """The people of `sandbox serve` do not change from day to day, so the shipped samples keep matching."""
    reps = generate(seed=7, scale="small", as_of=as_of).reps.to_pylist()
    with open(REPO / "data" / "teams.csv") as teams, open(REPO / "data" / "activity_targets.csv") as targets:
        members = {row["rep_email"] for row in csv.DictReader(teams) if row["rep_email"]}
        targeted = {row["rep_email"] for row in csv.DictReader(targets)}
    assert members == {r["email"] for r in reps}
    assert targeted == {r["email"] for r in reps if r["is_active"]}
    example = yaml.safe_load((REPO / "config.example.yaml").read_text())
    access = next(s for s in example["sources"] if s["type"] == "salesforce")["kpi_access"]
    assert set(access["users"]) | set(access["editors"]) <= members
