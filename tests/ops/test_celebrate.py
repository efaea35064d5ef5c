"""Celebrations over a local HTTP receiver: a win once per entity x period x threshold (kept in the
store, recorded only when delivered), and the weekly digest of top movers once per week."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pytest

from spm_sync import jobs
from spm_sync.config import Config, parse_config
from spm_sync.crediting import credits
from spm_sync.ops.celebrate import celebrate, digest_due
from spm_sync.store import open_store
from tests.metrics.conftest import insert
from tests.metrics.dataset import TABLES
from tests.ops.test_alerts import Receiver

NOW = datetime(2026, 3, 15, 12, 0)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.shutdown()


def settings(tmp_path: Path, urls: list[str], **notifications: object) -> Config:
    return parse_config({
        "store": {"path": str(tmp_path / "spm_sync.duckdb"), "state_dir": str(tmp_path / "state")},
        "as_of": "2026-03-15",  # a Sunday in FY2026-Q1
        "notifications": {"urls": urls, "thresholds": [0.5, 0.8], "digest_top": 3, **notifications},
    })


@pytest.fixture
def cfg(tmp_path: Path, receiver: Receiver) -> Config:
    """tests/metrics/dataset.py computed by the kpis job (which celebrates); FY2026-Q1 attainment:
    Ed 80 %, Ann 50 %, Bo 42.4 %, East 48.7 %, East SMB 41.7 %."""
    config = settings(tmp_path, [receiver.url], digest_weekday=None)
    with open_store(config) as store:
        for table, rows in TABLES.items():
            insert(store, table, rows)
        credits.apply(config, store, date(2026, 3, 15))
    jobs.kpis(config)
    return config


def test_kpis_job_celebrates_each_crossing_once(cfg: Config, receiver: Receiver) -> None:
    [body] = receiver.bodies
    assert body["text"] == (
        ":tada: Quota reached in FY2026-Q1: Ed and 2 more\n"
        "*Ed (East)* reached 80% of quota: 80.0% (800 of 1,000 USD)\n"
        "*Ed (East)* reached 50% of quota: 80.0% (800 of 1,000 USD)\n"
        "*Ann (East)* reached 50% of quota: 50.0% (4,000 of 8,000 USD)"
    )
    assert (body["event"], body["period"], body["count"]) == ("quota_reached", "FY2026-Q1", "3")
    with open_store(cfg) as store:
        assert sorted(store.fetchall("SELECT entity_id, period, threshold FROM spm_state.celebrations")) == [
            ("r1", "FY2026-Q1", 0.5), ("r5", "FY2026-Q1", 0.5), ("r5", "FY2026-Q1", 0.8)]
        [(details,)] = store.fetchall("SELECT details FROM spm_state.runs WHERE job = 'kpis'")
    assert '"notifications": {"wins": 3}' in str(details).replace("'", '"')
    jobs.kpis(cfg)  # the same values again: nothing new to celebrate
    assert len(receiver.bodies) == 1


def test_undelivered_win_is_sent_on_the_next_run(cfg: Config, receiver: Receiver, tmp_path: Path) -> None:
    with open_store(cfg) as store:
        store.execute("DELETE FROM spm_state.celebrations WHERE entity_id = 'r1'")
        down = settings(tmp_path, ["http://127.0.0.1:9/down"], timeout_s=1)
        assert celebrate(down, store, date(2026, 3, 15), NOW) == {}
        assert celebrate(cfg, store, date(2026, 3, 15), NOW) == {"wins": 1}
    assert receiver.bodies[-1]["text"].splitlines()[0] == ":tada: Quota reached in FY2026-Q1: Ann"


def test_weekly_digest_of_top_movers(cfg: Config, receiver: Receiver, tmp_path: Path) -> None:
    digest = settings(tmp_path, [receiver.url], digest_weekday="fri")
    with open_store(cfg) as store:  # a run 8 days ago had half of today's attainment
        store.execute(
            "INSERT INTO spm_state.kpi_history (entity_type, entity_id, period, metric, value, computed_at, run_id) "
            "SELECT entity_type, entity_id, period, metric, value / 2, TIMESTAMP '2026-03-07 06:00:00', 'old' "
            "FROM spm.kpi_values WHERE metric = 'quota_attainment' AND dimension IS NULL")
        assert celebrate(digest, store, date(2026, 3, 15), NOW) == {"digest": "2026-W11"}
        assert celebrate(digest, store, date(2026, 3, 15), NOW) == {}  # once a week
    assert receiver.bodies[-1]["text"] == (
        ":chart_with_upwards_trend: Top movers this week in FY2026-Q1\n"
        "*Ed (East)*: 40.0% -> 80.0% (+40.0 pts)\n"
        "*Ann (East)*: 25.0% -> 50.0% (+25.0 pts)\n"
        "*East*: 24.3% -> 48.7% (+24.3 pts)"
    )


@pytest.mark.parametrize(
    ("weekday", "today", "sent", "due"),
    [("mon", date(2026, 3, 16), set(), "2026-W12"), ("wed", date(2026, 3, 16), set(), None),
     ("wed", date(2026, 3, 20), {"2026-W12"}, None), ("wed", date(2026, 3, 20), {"2026-W11"}, "2026-W12")],
)
def test_digest_is_due_on_or_after_its_weekday_once_a_week(
    tmp_path: Path, weekday: str, today: date, sent: set[str], due: str | None
) -> None:
    assert digest_due(settings(tmp_path, [], digest_weekday=weekday).notifications, today, sent) == due
