"""Every log line is JSON with `--log-format json` (dlt's too); config mistakes are exit 2 naming the key."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from spm_sync import jobs
from spm_sync.config import Config
from spm_sync.logs import configure_logging
from spm_sync.sandbox import Sandbox
from tests.reliability.harness import spm, write_config


def test_dlt_lines_come_out_as_our_json(fake_cfg: Config, capsys: pytest.CaptureFixture[str]) -> None:
    from dlt.common import logger as dlt_logger

    configure_logging("json")
    try:
        jobs.sync(fake_cfg)  # dlt (re)creates its logger and sets its own formatter during the run
        dlt_logger.warning("schema of items changed")
        logging.getLogger("urllib3.connectionpool").warning("Retrying after connection broken")
    finally:
        configure_logging("text", "WARNING")
    err = capsys.readouterr().err
    lines = [json.loads(line) for line in err.splitlines()]  # raises on any line that is not JSON
    foreign = [(line["logger"], line["message"], line["level"]) for line in lines if "logger" in line]
    assert foreign == [
        ("dlt", "schema of items changed", "warning"),
        ("urllib3.connectionpool", "Retrying after connection broken", "warning"),
    ]


def test_json_log_of_a_real_sync_is_all_json(tmp_path: Path, sandbox: Sandbox) -> None:
    config = write_config(tmp_path, sandbox)
    result = spm(config, "--log-format", "json", "sync", "--source", "hs")
    assert result.returncode == 0, result.stderr
    messages = [json.loads(line)["message"] for line in result.stderr.splitlines()]
    assert messages == ["sync started", "sync succeeded"]


def test_empty_config_is_a_config_error_and_creates_nothing(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("# nothing configured yet\n")
    result = spm(config, "run")
    assert result.returncode == 2
    assert result.stderr.strip() == f"error: {config}: the file is empty; see config.example.yaml for every option"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.yaml"]


def test_unwritable_store_path_names_the_key(tmp_path: Path) -> None:
    (tmp_path / "not-a-folder").write_text("a file where the store's folder should be")
    config = tmp_path / "config.yaml"
    config.write_text(f"store:\n  path: {tmp_path}/not-a-folder/spm_sync.duckdb\n")
    result = spm(config, "normalize")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"error: store.path: cannot create folder {tmp_path}/not-a-folder: File exists"
    )
