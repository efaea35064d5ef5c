"""Noise: other libraries' lines in our format, once, without the ones nobody can act on; a warning
about an object the org does not have is said once, not on every sync; a backfill logs no timezone
warnings. Against the Salesforce sandbox over HTTPS."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
import yaml

from spm_sync.cli import main
from spm_sync.logs import configure_logging
from spm_sync.sandbox import Sandbox
from tests.sandbox_sources import sandbox_sources


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    try:
        code = main(list(args))
    except SystemExit as exited:
        code = exited.code
    captured = capsys.readouterr()
    return int(code or 0), captured.out, captured.err


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(seed=3, scale="small") as sb:
        yield sb


def test_dlt_lines_nobody_can_act_on_only_at_debug_and_each_once(capsys: pytest.CaptureFixture[str]) -> None:
    dlt_logger = logging.getLogger("dlt")
    cursor = ("Large number of records (216) sharing the same value of cursor field 'system_modstamp' on resource "
              "'forecasting_quota'. This can happen if the cursor field has a low resolution")
    try:
        configure_logging("text", "INFO")
        dlt_logger.warning(cursor)
        dlt_logger.warning("In resource task: last_value '2026-11-03 00:00:00' and row value 2026-12-01 "
                           "22:35:11+00:00 differ in timezone awareness.")
        dlt_logger.warning("destination is slow")
        dlt_logger.warning("destination is slow")
        lines = capsys.readouterr().err.splitlines()
        assert [line.split(" ", 2)[2] for line in lines] == ["destination is slow logger=dlt"]
        configure_logging("text", "DEBUG")
        dlt_logger.warning(cursor)
        [line] = capsys.readouterr().err.splitlines()
        assert line.split(" ", 1)[1].startswith("DEBUG   Large number of records (216)")
    finally:
        configure_logging("text", "INFO")


def test_missing_object_warned_once_and_backfill_restart(
    tmp_path: Path, sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"sources": [sandbox_sources(sandbox)["sf"]]}))
    sync = ["--config", str(config), "sync", "--objects", "User,DatedConversionRate"]
    code, first, _ = run_cli(capsys, *sync)
    assert code == 0
    assert "  warning: DatedConversionRate: NOT_FOUND: not in this org or not readable by this user; skipped\n" in first
    code, second, _ = run_cli(capsys, *sync)
    assert code == 0
    assert "warning:" not in second
    assert "  1 warning(s) as on the previous sync, not repeated (listed with --log-level DEBUG)\n" in second

    backfill = ["--config", str(config), "--log-level", "DEBUG", "backfill", "--source", "sf", "--objects", "Task",
                "--from", "2026-09-01", "--to", "2026-10-31"]
    code, out, err = run_cli(capsys, *backfill)
    assert code == 0
    assert "backfill of sf 2026-09-01 .. 2026-10-31 (inclusive): 2 chunks pulled, 0 already done" in out
    assert "timezone awareness" not in err
    code, out, _ = run_cli(capsys, *backfill)
    assert "0 chunks pulled, 2 already done (resumed), 0 records, 0 API calls (all done by an earlier run: " \
           "--restart pulls the window again)" in out
    code, out, err = run_cli(capsys, *backfill, "--restart")
    assert code == 0, err[-2000:]
    assert "2 chunks pulled, 0 already done" in out


def test_status_shows_hubspot_cursors(tmp_path: Path, sandbox: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"sources": [sandbox_sources(sandbox)["hs"]]}))
    assert run_cli(capsys, "--config", str(config), "sync", "--objects", "deals")[0] == 0
    code, out, _ = run_cli(capsys, "--config", str(config), "status", "--format", "json")
    assert code == 0
    cursors = json.loads(out)["sources"][0]["cursors"]
    assert list(cursors) == ["deals"]
    assert cursors["deals"]["cursor"] == "last_modified"
    assert datetime.fromisoformat(cursors["deals"]["last_value"]).tzinfo is not None
    code, table, _ = run_cli(capsys, "--config", str(config), "status")
    [row] = [line for line in table.splitlines() if line.startswith("│ hs ") and "deals" in line]
    assert "last_modified" in row and " UTC " in row


def test_run_prints_each_source_warning_once(
    tmp_path: Path, sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    source = {**sandbox_sources(sandbox)["sf"], "extra_objects": ["DatedConversionRate"]}
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"sources": [source]}))
    warning = "  warning: DatedConversionRate: NOT_FOUND: not in this org or not readable by this user; skipped"
    code, first, err = run_cli(capsys, "--config", str(config), "run")
    assert code == 0, err[-2000:]
    lines = first.splitlines()
    assert lines[0] == "run complete: stages sync, normalize, kpis"
    assert lines[1].startswith("sf: ") and lines[1].endswith(" API calls")
    assert lines.count(warning) == 1
    code, second, err = run_cli(capsys, "--config", str(config), "run")
    assert code == 0, err[-2000:]
    assert warning not in second.splitlines()
    assert "  1 warning(s) as on the previous sync, not repeated (listed with --log-level DEBUG)" in second.splitlines()
