"""query_kpis: the rows behind `spm-sync kpis --format json` and write-back, filtered and ordered."""

from __future__ import annotations

from datetime import date

import pytest

from spm_sync.errors import ConfigError
from spm_sync.metrics import KpiFilter, query_kpis
from spm_sync.store import Store
from tests.metrics.conftest import Values


@pytest.fixture
def store(dataset_store: tuple[Store, Values]) -> Store:
    return dataset_store[0]


def test_rows_have_exactly_the_json_contract_keys(store: Store) -> None:
    rows = query_kpis(
        store, KpiFilter(period="2026-01", entity_type="rep", entity_id="r1", metrics=["quota_attainment"])
    )
    assert rows == [
        {
            "entity_type": "rep",
            "entity_id": "r1",
            "entity_name": "Ann",
            "period": "2026-01",
            "metric": "quota_attainment",
            "value": 0.25,
            "numerator": 1000.0,
            "denominator": 4000.0,
        }
    ]


def test_order_is_entity_then_calendar_then_metric(store: Store) -> None:
    rows = query_kpis(store, KpiFilter(entity_type="rep", entity_id="r1", metrics=["calls", "arr"]))
    keys = [(r["period"], r["metric"]) for r in rows]
    assert keys[:6] == [
        ("2025-01", "arr"),
        ("2025-01", "calls"),
        ("FY2025-Q1", "arr"),
        ("FY2025-Q1", "calls"),
        ("FY2025", "arr"),
        ("FY2025", "calls"),
    ]
    assert len(rows) == 34 * 2
    assert rows == query_kpis(store, KpiFilter(entity_type="rep", entity_id="r1", metrics=["arr", "calls"]))


def test_grain_filter(store: Store) -> None:
    rows = query_kpis(store, KpiFilter(grain="quarter", entity_type="company", metrics=["revenue_won"]))
    assert [(r["period"], r["value"]) for r in rows] == [
        ("FY2025-Q1", 0.0),
        ("FY2025-Q2", 4000.0),
        ("FY2025-Q3", 0.0),
        ("FY2025-Q4", 0.0),
        ("FY2026-Q1", 9000.0),
        ("FY2026-Q2", 0.0),
        ("FY2026-Q3", 0.0),
        ("FY2026-Q4", 0.0),
    ]


def test_team_filter_takes_the_team_and_reps_of_its_subtree(store: Store) -> None:
    rows = query_kpis(store, KpiFilter(team="east", period="FY2026-Q1", metrics=["revenue_won"]))
    assert [(r["entity_type"], r["entity_id"], r["value"]) for r in rows] == [
        ("rep", "r1", 4000.0),
        ("rep", "r2", 2500.0),
        ("rep", "r5", 800.0),
        ("team", "east", 7300.0),
    ]


@pytest.mark.parametrize(
    ("name", "period"), [("current_month", "2026-03"), ("current_quarter", "FY2026-Q1"), ("current_year", "FY2026")]
)
def test_current_period_names(store: Store, name: str, period: str) -> None:
    rows = query_kpis(store, KpiFilter(period=name, entity_type="company", metrics=["calls"], today=date(2026, 3, 15)))
    assert [r["period"] for r in rows] == [period]


def test_current_period_outside_the_calendar_gives_no_rows(store: Store) -> None:
    assert query_kpis(store, KpiFilter(period="current_month", today=date(2031, 1, 1))) == []


def test_bad_filters_are_clear_errors(store: Store) -> None:
    with pytest.raises(ConfigError, match="unknown grain 'week' \\(use one of month, quarter, year\\)"):
        query_kpis(store, KpiFilter(grain="week"))
    with pytest.raises(ConfigError, match="unknown entity type 'region'"):
        query_kpis(store, KpiFilter(entity_type="region"))
    with pytest.raises(ConfigError, match="unknown metric\\(s\\) revenue \\(known: active_customers,"):
        query_kpis(store, KpiFilter(metrics=["revenue", "calls"]))
