from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from spm_sync import jobs
from spm_sync.config import Config
from spm_sync.ops.backfill import chunk_window
from spm_sync.ops.status import collect_status
from spm_sync.store import open_store
from tests.ops import fake_source


def raw_rows(cfg: Config) -> list[tuple]:
    with open_store(cfg) as store:
        return store.fetchall("SELECT id, amount, updated_at FROM raw_erp.items ORDER BY id")


def test_sync_records_run_history_and_cursor(fake_cfg: Config) -> None:
    [result] = jobs.sync(fake_cfg)
    assert result.records == {"items": 100}
    assert result.api_calls["by_family"] == {"items.list": 100}
    info = collect_status(fake_cfg, now=datetime.now() + timedelta(hours=1))
    [source] = info["sources"]
    assert source["records"] == {"items": 100}
    assert source["last_status"] == "succeeded"
    assert source["stale"] is False
    assert source["cursors"]["items"]["cursor"] == "updated_at"
    assert str(source["cursors"]["items"]["last_value"]).startswith("2025-10-25")  # day 297 of the fixture
    with open_store(fake_cfg) as store:
        row = store.fetch_dicts("SELECT job, subject, status, records, api_calls FROM spm_state.runs")[0]
    assert (row["job"], row["subject"], row["status"]) == ("sync", "erp", "succeeded")
    assert json.loads(row["records"]) == {"items": 100}
    assert json.loads(row["api_calls"]) == {"items.list": 100}


def test_status_warns_when_stale_and_lists_schedules(fake_cfg: Config) -> None:
    jobs.sync(fake_cfg)
    info = collect_status(fake_cfg, now=datetime.now() + timedelta(hours=30))
    assert info["sources"][0]["stale"] is True
    assert info["warnings"] == ["source erp: last successful sync 1d ago"]
    assert [s["schedule"] for s in info["schedules"]] == ["nightly", "quarter-hour"]
    json.dumps(info, default=str)  # --format json must serialise


def test_backfill_interrupted_and_resumed_equals_uninterrupted(fake_cfg: Config, tmp_path) -> None:
    start, end = datetime(2025, 1, 1), datetime(2025, 7, 1)
    expected = [r for r in fake_source.ROWS if start <= r["updated_at"] < end]
    fake_source.FAIL_AFTER["rows"] = 5  # every chunk dies after 5 rows: nothing of it is loaded
    chunk_rows = len([r for r in expected if r["updated_at"] < datetime(2025, 2, 1)])
    assert chunk_rows > 5
    with pytest.raises(Exception, match="connection reset"):
        jobs.backfill(fake_cfg, "erp", start, end)
    fake_source.FAIL_AFTER["rows"] = None
    result = jobs.backfill(fake_cfg, "erp", start, end)
    assert result.chunks_total == len(chunk_window(start, end))
    assert result.chunks_run == result.chunks_total
    rows = raw_rows(fake_cfg)
    assert [r[0] for r in rows] == [r["id"] for r in expected]
    again = jobs.backfill(fake_cfg, "erp", start, end)
    assert (again.chunks_run, again.chunks_skipped) == (0, again.chunks_total)
    # the incremental cursor of the regular pipeline did not move: a normal sync still pulls everything
    [synced] = jobs.sync(fake_cfg)
    assert synced.records == {"items": 100}


def test_backfill_resumes_after_the_last_completed_chunk(fake_cfg: Config, monkeypatch: pytest.MonkeyPatch) -> None:
    start, end = datetime(2025, 1, 1), datetime(2025, 5, 1)
    calls: list[tuple[datetime, datetime]] = []
    from spm_sync.ops import backfill as backfill_module

    real = backfill_module.sync_source

    def flaky(*args, window, **kwargs):
        calls.append(window)
        if len(calls) == 3:
            raise RuntimeError("interrupted")
        return real(*args, window=window, **kwargs)

    monkeypatch.setattr(backfill_module, "sync_source", flaky)
    with pytest.raises(RuntimeError):
        jobs.backfill(fake_cfg, "erp", start, end)
    calls.clear()
    result = jobs.backfill(fake_cfg, "erp", start, end)
    chunks = chunk_window(start, end)
    assert calls == chunks[2:]
    assert (result.chunks_run, result.chunks_skipped) == (len(chunks) - 2, 2)
    expected = [r["id"] for r in fake_source.ROWS if start <= r["updated_at"] < end]
    assert [r[0] for r in raw_rows(fake_cfg)] == expected
