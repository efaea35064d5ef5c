from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from spm_sync.config import Config, parse_config
from tests.ops import fake_source


@pytest.fixture
def fake_cfg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Config]:
    """A config with one files-typed source whose connector is the in-memory fake."""
    monkeypatch.setattr("spm_sync.extract.source_factory", lambda kind: fake_source.fake_source)
    fake_source.FAIL_AFTER["rows"] = None
    cfg = parse_config(
        {
            "store": {"path": str(tmp_path / "spm_sync.duckdb"), "state_dir": str(tmp_path / "state")},
            "sources": [{"name": "erp", "type": "files"}],
            "schedules": [
                {"name": "nightly", "cron": "0 2 * * *", "job": "sync", "source": "erp"},
                {"name": "quarter-hour", "cron": "*/15 * * * *", "timezone": "Europe/Paris", "job": "sync"},
            ],
        }
    )
    yield cfg
