"""`spm-sync report`: one self-contained HTML page of attainment, leaderboards, funnel and customers."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from spm_sync.config import Config
from spm_sync.report.data import ReportData, load_report
from spm_sync.report.page import write_report
from spm_sync.store import open_store


def build_report(
    cfg: Config, period: str | None, team: str | None, output: Path, cache_dir: Path | None = None
) -> ReportData:
    """Read the stored KPIs for `period`/`team` and write the page to `output`; returns what it shows.

    `cache_dir` keeps the vega bundle between runs (default: the store's state_dir/cache).
    """
    today = cfg.as_of or datetime.now(UTC).date()
    with open_store(cfg) as store:
        data = load_report(cfg, store, period, team, today)
    write_report(data, cfg.reporting.currency, output, cache_dir or cfg.store.state_dir / "cache")
    return data


__all__ = ["ReportData", "build_report"]
