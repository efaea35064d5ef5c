"""Salesforce `Period` rows -> spm.fiscal_periods_imported: our period ids, exclusive ends, FY by ending year."""

from __future__ import annotations

from datetime import date

import pytest

from spm_sync.config import Config
from spm_sync.normalize import normalize
from spm_sync.store import Store, open_store
from tests.normalize.conftest import SF, new_run, normalize_raw, rows
from tests.normalize.rawdata import T0, d, raw_table, salesforce_raw

SF_PERIOD = (
    "id VARCHAR, fiscal_year_settings_id VARCHAR, type VARCHAR, start_date DATE, end_date DATE, "
    "is_forecast_period BOOLEAN, number BIGINT, fully_qualified_label VARCHAR, system_modstamp TIMESTAMPTZ"
)


def fiscal_raw(store: Store, dataset: str = "raw_sf") -> None:
    """An org whose standard fiscal year starts in February and is named by its starting year ("FY 2025")."""
    raw_table(store, dataset, "period", SF_PERIOD, [
        ("0261", "0221", "Year", d("2025-02-01"), d("2026-01-31"), False, None, "FY 2025", T0),
        ("0262", "0221", "Quarter", d("2025-02-01"), d("2025-04-30"), False, 1, "Q1 FY 2025", T0),
        ("0263", "0221", "Quarter", d("2025-11-01"), d("2026-01-31"), False, 4, "Q4 FY 2025", T0),
        ("0264", "0221", "Month", d("2025-02-01"), d("2025-02-28"), True, 1, "February FY 2025", T0),
        ("0265", "0221", "Month", d("2026-01-01"), d("2026-01-31"), True, 12, "January FY 2025", T0),
        ("0266", "0221", "Week", d("2025-02-01"), d("2025-02-07"), False, 1, "W1", T0),  # weeks are left out
        ("0267", "0221", "Quarter", d("2025-05-01"), d("2025-07-31"), False, None, None, T0),  # no Number
        ("0268", None, "Quarter", d("2027-02-01"), d("2027-04-30"), False, 1, "orphan", T0),  # in no year
    ])


def test_periods_in_our_ids_with_exclusive_ends(store, config):
    store, result = normalize_raw(store, config(SF), salesforce_raw, fiscal_raw)
    assert rows(store, "fiscal_periods_imported", order="period_start, period_end DESC") == [
        ("FY2026", "sf", "0261", "year", date(2025, 2, 1), date(2026, 2, 1), 2026),
        ("FY2026-Q1", "sf", "0262", "quarter", date(2025, 2, 1), date(2025, 5, 1), 2026),
        ("2025-02", "sf", "0264", "month", date(2025, 2, 1), date(2025, 3, 1), 2026),
        ("FY2026-Q2", "sf", "0267", "quarter", date(2025, 5, 1), date(2025, 8, 1), 2026),
        ("FY2026-Q4", "sf", "0263", "quarter", date(2025, 11, 1), date(2026, 2, 1), 2026),
        ("2026-01", "sf", "0265", "month", date(2026, 1, 1), date(2026, 2, 1), 2026),
    ]
    assert result.tables["fiscal_periods_imported"] == 6
    assert result.quality["no_fiscal_year fiscal_period"] == 1
    assert store.fetchall(
        "SELECT record_id, detail FROM spm_state.quality WHERE object = 'fiscal_period'"
    ) == [("0268", "quarter period from 2027-02-01 lies in no year period of its source")]


def test_no_period_table_leaves_the_import_empty(store, config):
    store, result = normalize_raw(store, config(SF), salesforce_raw)
    assert rows(store, "fiscal_periods_imported") == []
    assert "spm.fiscal_periods_imported: 0 rows" in result.summary()


@pytest.mark.postgres
def test_postgres_gives_the_same_periods(pg_dsn, store, config):
    store, _ = normalize_raw(store, config(SF), salesforce_raw, fiscal_raw)
    expected = rows(store, "fiscal_periods_imported", order="period_start, period_end DESC")
    cfg = Config.model_validate({"store": {"backend": "postgres", "dsn": pg_dsn}, "sources": [SF]})
    with open_store(cfg) as pg:
        salesforce_raw(pg)
        fiscal_raw(pg)
        result = normalize(cfg, pg, new_run())
        assert rows(pg, "fiscal_periods_imported", order="period_start, period_end DESC") == expected
        assert result.quality["no_fiscal_year fiscal_period"] == 1
