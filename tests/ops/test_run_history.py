from __future__ import annotations

import json
import logging

import pytest

from spm_sync import jobs
from spm_sync.config import Config
from spm_sync.logs import configure_logging
from spm_sync.store import open_store
from tests.ops import fake_source
from tests.ops.test_alerts import Receiver


def test_failed_run_is_recorded_and_alerted(fake_cfg: Config) -> None:
    receiver = Receiver()
    try:
        cfg = fake_cfg.model_copy(update={"alerts": fake_cfg.alerts.model_copy(update={"webhooks": [receiver.url]})})
        fake_source.FAIL_AFTER["rows"] = 3
        with pytest.raises(Exception, match="connection reset by peer"):
            jobs.sync(cfg)
    finally:
        receiver.server.shutdown()
    [alert] = receiver.bodies
    assert alert["event"] == "run_failed"
    assert alert["job"] == "sync" and alert["subject"] == "erp"
    assert "connection reset by peer" in alert["error_message"]
    with open_store(cfg) as store:
        [(status, error_class, message)] = store.fetchall(
            "SELECT status, error_class, error_message FROM spm_state.runs"
        )
    assert status == "failed"
    assert error_class == "RuntimeError"
    assert message == "files 'erp': RuntimeError: connection reset by peer"


def test_json_logs_carry_run_id_job_stage_counts_duration(fake_cfg: Config, capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("json")
    try:
        jobs.sync(fake_cfg)
    finally:
        configure_logging("text", "WARNING")
        logging.getLogger("spm_sync").handlers.clear()
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    done = [line for line in lines if line["message"] == "sync succeeded"]
    assert len(done) == 1
    event = done[0]
    with open_store(fake_cfg) as store:
        run_id = store.fetchone("SELECT run_id FROM spm_state.runs")[0]
    assert event["run_id"] == run_id
    assert (event["job"], event["stage"], event["subject"]) == ("sync", "sync", "erp")
    assert event["records"] == {"items": 100}
    assert event["api_calls"] == 100
    assert event["duration_s"] >= 0


def test_stale_data_alerts_once_per_episode(fake_cfg: Config) -> None:
    from spm_sync.scheduler import check_freshness, run_once

    receiver = Receiver()
    try:
        cfg = fake_cfg.model_copy(
            update={
                "alerts": fake_cfg.alerts.model_copy(update={"webhooks": [receiver.url]}),
                "schedules": [],
            }
        )
        assert run_once(cfg) == {}  # nothing scheduled, but the never-synced source is stale
        assert check_freshness(cfg) == []  # same episode: not alerted twice
        jobs.sync(cfg)
        assert check_freshness(cfg) == []  # fresh now
    finally:
        receiver.server.shutdown()
    [alert] = receiver.bodies
    assert (alert["event"], alert["sources"]) == ("stale_data", "erp")
    assert alert["text"] == ":hourglass: spm-sync data is stale\n*erp*: last successful sync never"
