"""The same mappings on the PostgreSQL backend give the same rows as on DuckDB (SQL transpiled by sqlglot)."""

from __future__ import annotations

import pytest

from spm_sync.config import Config
from spm_sync.normalize import normalize
from spm_sync.store import open_store
from tests.normalize.conftest import HS, SF, new_run, normalize_raw
from tests.normalize.rawdata import hubspot_raw, salesforce_raw

pytestmark = pytest.mark.postgres
TABLES = ("reps", "opportunities", "stage_events", "activities", "leads", "quotas", "feedback")


def _rows(store, table):
    return sorted(store.fetchall(f"SELECT * FROM spm.{table}"), key=repr)


@pytest.mark.parametrize(("source", "builder"), [(SF, salesforce_raw), (HS, hubspot_raw)], ids=["sf", "hs"])
def test_postgres_matches_duckdb(pg_dsn, store, config, source, builder):
    _, on_duckdb = normalize_raw(store, config(source), builder)
    expected = {t: _rows(store, t) for t in TABLES}
    cfg = Config.model_validate({"store": {"backend": "postgres", "dsn": pg_dsn}, "sources": [source]})
    with open_store(cfg) as pg:
        builder(pg)
        result = normalize(cfg, pg, new_run())
        assert {t: _rows(pg, t) for t in TABLES} == expected
        assert result.quality == on_duckdb.quality
