"""A failing rebuild leaves the previous spm tables (and quality report) exactly as they were."""

from __future__ import annotations

import duckdb
import pytest

from spm_sync.normalize import build, normalize, quality
from tests.normalize.conftest import SF, new_run, rows
from tests.normalize.rawdata import salesforce_raw

TABLES = ("reps", "opportunities", "stage_events", "activities", "quotas")


def _snapshot(store):
    return {t: rows(store, t) for t in TABLES} | {
        "quality": store.fetchall("SELECT check_name, record_id FROM spm_state.quality ORDER BY ALL")
    }


@pytest.fixture
def before(store, config):
    salesforce_raw(store)
    normalize(config(SF), store, new_run())
    store.execute("DELETE FROM raw_sf.opportunity WHERE id = '0062'")  # the next build would differ
    return _snapshot(store)


def test_failure_inside_the_swap_transaction_rolls_back(store, config, before, monkeypatch):
    broken = quality.Check("broken", "opportunity", "SELECT no_such_column FROM _out_opportunities")
    monkeypatch.setattr(quality, "checks", lambda reporting: (broken,))
    with pytest.raises(duckdb.BinderException):
        normalize(config(SF), store, new_run())
    assert _snapshot(store) == before
    assert len(before["opportunities"]) == 4


def test_failure_while_staging_touches_nothing(store, config, before, monkeypatch):
    monkeypatch.setattr(build, "BUILD_ORDER", (*build.BUILD_ORDER, ("x", "SELECT * FROM no_such_table")))
    with pytest.raises(duckdb.CatalogException):
        normalize(config(SF), store, new_run())
    assert _snapshot(store) == before
    assert store.fetchall("SELECT count(*) FROM duckdb_tables() WHERE temporary") == [(0,)]
    assert store.fetchall("SELECT count(*) FROM duckdb_views() WHERE temporary AND NOT internal") == [(0,)]


def test_the_next_successful_run_applies_the_change(store, config, before):
    normalize(config(SF), store, new_run())
    assert len(rows(store, "opportunities")) == 3


def test_a_column_added_by_a_later_migration_survives_the_rebuild(store, config, before):
    store.execute("ALTER TABLE spm.opportunities ADD COLUMN forecast_note TEXT")
    normalize(config(SF), store, new_run())
    assert store.columns("spm", "opportunities")[-1] == "forecast_note"
    assert store.fetchall("SELECT count(*), count(forecast_note) FROM spm.opportunities") == [(3, 0)]
    types = dict(store.fetchall(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = 'spm' AND table_name = 'opportunities'"
    ))
    assert (types["amount_rc"], types["close_date"], types["created_at"]) == ("DOUBLE", "DATE", "TIMESTAMP")
