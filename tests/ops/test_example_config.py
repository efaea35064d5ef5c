"""config.example.yaml with its sample files works end to end against the sandbox: after
`writeback setup` (the sandbox started without KPI fields, as a new org), `check` passes every line."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from spm_sync.sandbox import Sandbox

REPO = Path(__file__).resolve().parents[2]


def test_example_config_passes_check_against_the_sandbox(tmp_path: Path) -> None:
    shutil.copy(REPO / "config.example.yaml", tmp_path / "config.yaml")  # its state/ lands next to it
    shutil.copytree(REPO / "data", tmp_path / "data")
    with Sandbox(seed=7, scale="small", kpi_fields=False) as sandbox:
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
    assert check.returncode == 0, check.stdout + check.stderr
    lines = check.stdout.splitlines()
    assert "ok   source erp: 3 files valid: quotas (8 rows), activity_targets (324 rows), teams (12 rows)" in lines
    assert lines[-1] == "all 7 checks ok"
    assert (tmp_path / "state" / "spm_sync.duckdb").exists()  # resolved against the config's folder
