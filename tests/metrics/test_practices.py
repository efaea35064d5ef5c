"""Issue 14's KPIs against values worked out by hand from tests/metrics/practices_dataset.py, on DuckDB
and PostgreSQL: breakdowns (loss reason, deal type, lead source, survey topic), pipeline hygiene as of
the period end, process efficiency and eNPS.

Keys are (entity_type, entity_id, period, metric, dimension, dimension_value); a total has dimension None.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from spm_sync.config import Config, parse_config
from spm_sync.crediting import credits
from spm_sync.errors import ConfigError
from spm_sync.metrics import KpiFilter, compute_kpis, query_kpis
from spm_sync.runs import Run
from spm_sync.store import Store, open_store
from spm_sync.writeback.inputs import load_kpis
from tests.metrics.conftest import insert
from tests.metrics.practices_dataset import TABLES
from tests.metrics.test_postgres import _same

N = None
Key = tuple[str, str, str, str, str | None, str | None]
Rows = dict[Key, tuple[float | None, float | None, float | None]]
ALL_ROWS = (
    "SELECT entity_type, entity_id, period, metric, dimension, dimension_value, value, numerator, denominator "
    "FROM spm.kpi_values"
)


def _computed(cfg: Config) -> tuple[Store, Rows]:
    store = open_store(cfg)
    for table, rows in TABLES.items():
        insert(store, table, rows)
    assert cfg.as_of is not None
    credits.apply(cfg, store, cfg.as_of)
    compute_kpis(cfg, store, Run(job="kpis"))
    return store, {tuple(r[:6]): tuple(r[6:]) for r in store.fetchall(ALL_ROWS)}  # type: ignore[misc]


@pytest.fixture(scope="module")
def duck(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, Rows]]:
    path = tmp_path_factory.mktemp("practices") / "spm_sync.duckdb"
    store, rows = _computed(parse_config({"store": {"path": str(path)}, "as_of": "2026-03-15"}))
    yield store, rows
    store.close()


def _total(entity: str, period: str, metric: str) -> Key:
    kind = "company" if entity == "company" else "team" if entity.startswith("t") else "rep"
    return (kind, entity, period, metric, N, N)


def _by(entity: str, period: str, metric: str, dimension: str, value: str | None) -> Key:
    return (*_total(entity, period, metric)[:4], dimension, value)


CASES: list[tuple[Key, tuple[float | None, float | None, float | None]]] = [
    # --- loss reasons: l1 Price 2,000 and l2 Competitor 500 (p1), l3 Price 700 (p2) in January ---------
    (_by("p1", "2026-01", "deals_lost", "loss_reason", "Price"), (1.0, 1.0, N)),
    (_by("p1", "2026-01", "deals_lost", "loss_reason", "Competitor"), (1.0, 1.0, N)),
    (_by("p2", "2026-01", "deals_lost", "loss_reason", "Price"), (1.0, 1.0, N)),
    (_by("t1", "2026-01", "deals_lost", "loss_reason", "Price"), (2.0, 2.0, N)),
    (_by("company", "2026-01", "deals_lost", "loss_reason", "Price"), (2.0, 2.0, N)),
    (_by("company", "2026-01", "deals_lost", "loss_reason", "Competitor"), (1.0, 1.0, N)),
    (_by("company", "2026-02", "deals_lost", "loss_reason", N), (1.0, 1.0, N)),  # l4 gives no reason
    (_by("company", "FY2026-Q1", "deals_lost", "loss_reason", "Price"), (2.0, 2.0, N)),
    (_by("company", "FY2026-Q1", "deals_lost", "loss_reason", N), (1.0, 1.0, N)),
    (_by("p1", "2026-01", "revenue_lost", "loss_reason", "Price"), (2000.0, 2000.0, N)),
    (_by("company", "2026-01", "revenue_lost", "loss_reason", "Price"), (2700.0, 2700.0, N)),
    (_by("company", "2026-01", "revenue_lost", "loss_reason", "Competitor"), (500.0, 500.0, N)),
    (_total("company", "2026-01", "revenue_lost"), (3200.0, 3200.0, N)),
    (_total("company", "2026-01", "deals_lost"), (3.0, 3.0, N)),
    # --- win rate by deal type: January closes w1 (new, won), l1 (new), l2 (renewal), l3 (new), w3 (new, won)
    (_by("p1", "2026-01", "win_rate", "deal_type", "new"), (0.5, 1.0, 2.0)),
    (_by("p1", "2026-01", "win_rate", "deal_type", "renewal"), (0.0, 0.0, 1.0)),
    (_by("p2", "2026-01", "win_rate", "deal_type", "new"), (0.0, 0.0, 1.0)),
    (_by("p3", "2026-01", "win_rate", "deal_type", "new"), (1.0, 1.0, 1.0)),
    (_by("t1", "2026-01", "win_rate", "deal_type", "new"), (pytest.approx(1 / 3), 1.0, 3.0)),
    (_by("company", "2026-01", "win_rate", "deal_type", "new"), (0.5, 2.0, 4.0)),
    (_by("company", "2026-02", "win_rate", "deal_type", "renewal"), (1.0, 1.0, 1.0)),  # w2
    (_by("company", "FY2026-Q1", "win_rate", "deal_type", "new"), (0.4, 2.0, 5.0)),  # + l4
    (_by("company", "FY2026-Q1", "win_rate", "deal_type", "renewal"), (0.5, 1.0, 2.0)),  # l2, w2
    (_total("company", "2026-01", "win_rate"), (0.4, 2.0, 5.0)),
    # --- win rate by lead source ---------------------------------------------------------------------
    (_by("p1", "2026-01", "win_rate", "lead_source", "Web"), (pytest.approx(1 / 3), 1.0, 3.0)),  # w1, l1, l2
    (_by("company", "2026-01", "win_rate", "lead_source", "Web"), (0.5, 2.0, 4.0)),  # + w3
    (_by("company", "2026-01", "win_rate", "lead_source", "Referral"), (0.0, 0.0, 1.0)),  # l3
    (_by("company", "2026-02", "win_rate", "lead_source", "Referral"), (1.0, 1.0, 1.0)),  # w2
    (_by("company", "2026-02", "win_rate", "lead_source", N), (0.0, 0.0, 1.0)),  # l4
    # --- pipeline hygiene as of the period end ---------------------------------------------------------
    # 2026-01-01: open w2, open1 (p1), l3 (p2), open3 (p3); stale l3 (created 12-01) and open3 (11-01)
    (_total("company", "2025-12", "pipeline_stale_share"), (0.5, 2.0, 4.0)),
    (_total("p1", "2025-12", "pipeline_stale_share"), (0.0, 0.0, 2.0)),
    (_total("t1", "2025-12", "pipeline_stale_share"), (pytest.approx(1 / 3), 1.0, 3.0)),
    (_total("company", "2025-12", "pipeline_past_due_share"), (0.0, 0.0, 4.0)),
    # 2026-02-01: open w2, open1, l4 (no amount), open3; open1 untouched since the 01-01 call (31 days)
    (_total("company", "2026-01", "pipeline_missing_amount_share"), (0.25, 1.0, 4.0)),
    (_total("p2", "2026-01", "pipeline_missing_amount_share"), (1.0, 1.0, 1.0)),
    (_total("company", "2026-01", "pipeline_stale_share"), (0.25, 1.0, 4.0)),
    (_total("p1", "2026-01", "pipeline_stale_share"), (0.5, 1.0, 2.0)),
    (_total("company", "2026-01", "pipeline_past_due_share"), (0.0, 0.0, 4.0)),
    # 2026-03-01: open open1 (close 02-15: past due), open2 (no amount, created 02-01), open3 (stale from 02-19)
    (_total("company", "2026-02", "pipeline_past_due_share"), (pytest.approx(1 / 3), 1.0, 3.0)),
    (_total("p1", "2026-02", "pipeline_past_due_share"), (1.0, 1.0, 1.0)),
    (_total("company", "2026-02", "pipeline_missing_amount_share"), (pytest.approx(1 / 3), 1.0, 3.0)),
    (_total("company", "2026-02", "pipeline_stale_share"), (pytest.approx(2 / 3), 2.0, 3.0)),
    (_total("t1", "2026-02", "pipeline_stale_share"), (0.5, 1.0, 2.0)),
    # 2026-04-01 (March and the quarter), after as_of 03-15 so read as of 03-15: open3's close date 03-31
    # is still ahead (not past due), only open1 is; open2 touched by the 03-10 call
    (_total("company", "2026-03", "pipeline_past_due_share"), (pytest.approx(1 / 3), 1.0, 3.0)),
    (_total("company", "FY2026-Q1", "pipeline_past_due_share"), (pytest.approx(1 / 3), 1.0, 3.0)),
    (_total("company", "FY2026-Q1", "pipeline_stale_share"), (pytest.approx(2 / 3), 2.0, 3.0)),
    (_total("p2", "FY2026-Q1", "pipeline_missing_amount_share"), (1.0, 1.0, 1.0)),
    # --- process efficiency ---------------------------------------------------------------------------
    (_total("p1", "2026-01", "activities_per_win"), (5.0, 5.0, 1.0)),  # a1, a2, a3, a6, a7 per w1
    (_total("p2", "2026-01", "activities_per_win"), (N, 1.0, 0.0)),  # a8, no win
    (_total("company", "2026-01", "activities_per_win"), (3.5, 7.0, 2.0)),
    (_total("p1", "2026-02", "activities_per_win"), (0.0, 0.0, 1.0)),
    (_total("company", "FY2026-Q1", "activities_per_win"), (pytest.approx(8 / 3), 8.0, 3.0)),
    (_total("p1", "2026-01", "avg_days_to_first_activity"), (2.5, 2.5, 1.0)),  # LD1: 01-05 08:00 -> 01-07 20:00
    (_total("company", "2026-01", "avg_days_to_first_activity"), (1.75, 3.5, 2.0)),  # + LD2: 1 day
    (_total("p3", "2026-02", "avg_days_to_first_activity"), (N, 0.0, 0.0)),  # LD3 has no activity yet
    (_total("company", "2026-01", "stage_skip_share"), (1.0, 2.0, 2.0)),  # w1 and w3 skipped a stage
    (_total("p1", "2026-02", "stage_skip_share"), (0.0, 0.0, 1.0)),  # w2 passed through every stage
    (_total("company", "FY2026-Q1", "stage_skip_share"), (pytest.approx(2 / 3), 2.0, 3.0)),
    # --- feedback from the team: +100 for 9-10, -100 for 0-6, 0 for 7-8 ------------------------------------
    (_total("p1", "2026-01", "enps"), (0.0, 0.0, 2.0)),  # 10, 6 (the customer's NPS of 10 is not the team's)
    (_total("p2", "2026-01", "enps"), (50.0, 100.0, 2.0)),  # 9, 8
    (_total("company", "2026-01", "enps"), (25.0, 100.0, 4.0)),
    (_total("company", "FY2026-Q1", "enps"), (pytest.approx(100 / 6), 100.0, 6.0)),
    (_by("company", "2026-01", "enps", "topic", "Tools"), (100.0, 200.0, 2.0)),
    (_by("company", "2026-01", "enps", "topic", "Leads"), (-50.0, -100.0, 2.0)),
    (_by("company", "FY2026-Q1", "enps", "topic", "Tools"), (pytest.approx(100 / 3), 100.0, 3.0)),
    (_by("company", "FY2026-Q1", "enps", "topic", N), (100.0, 100.0, 1.0)),
    (_total("company", "2026-01", "rep_feedback_count"), (4.0, 4.0, N)),
    (_total("company", "2026-01", "feedback_count"), (5.0, 5.0, N)),
    (_by("company", "FY2026-Q1", "rep_feedback_count", "topic", "Tools"), (3.0, 3.0, N)),
    (_by("p3", "2026-02", "rep_feedback_count", "topic", N), (1.0, 1.0, N)),
]


@pytest.mark.parametrize(("key", "expected"), CASES, ids=["/".join(str(p) for p in c[0]) for c in CASES])
def test_value_matches_hand_computation(duck: tuple[Store, Rows], key: Key, expected: tuple[Any, ...]) -> None:
    assert duck[1][key] == expected


def test_stale_days_comes_from_config(tmp_path: Path) -> None:
    """reporting.stale_days 45 instead of 30: l3 (12-01) is no longer stale on 01-01, nor open1 (01-01) on 02-01;
    open3 (11-01) still is on 01-01, open1 is on 03-01 but open3 (01-20) not yet."""
    cfg = parse_config({"store": {"path": str(tmp_path / "spm_sync.duckdb")}, "as_of": "2026-03-15",
                        "reporting": {"stale_days": 45}})
    store, rows = _computed(cfg)
    store.close()
    periods = ("2025-12", "2026-01", "2026-02")
    assert [rows[_total("company", period, "pipeline_stale_share")] for period in periods] == [
        (0.25, 1.0, 4.0), (0.0, 0.0, 4.0), (pytest.approx(1 / 3), 1.0, 3.0),
    ]
    assert rows[_total("p1", "2026-02", "pipeline_stale_share")] == (1.0, 1.0, 1.0)


def test_a_breakdown_has_exactly_the_slices_with_rows(duck: tuple[Store, Rows]) -> None:
    rows = duck[1]
    lost = ("company", "company", "2026-01", "deals_lost", "loss_reason")
    slices = {k[5]: v for k, v in rows.items() if k[:5] == lost}
    assert slices == {"Price": (2.0, 2.0, N), "Competitor": (1.0, 1.0, N)}
    by_type = {k[:2] + k[5:] for k in rows if k[2:5] == ("2026-01", "win_rate", "deal_type")}
    assert by_type == {
        ("rep", "p1", "new"), ("rep", "p1", "renewal"), ("rep", "p2", "new"), ("rep", "p3", "new"),
        ("team", "t1", "new"), ("team", "t1", "renewal"), ("team", "t2", "new"),
        ("company", "company", "new"), ("company", "company", "renewal"),
    }
    assert {k[3] for k in rows if k[4] == "loss_reason"} == {"deals_lost", "revenue_lost"}
    assert {k[4] for k in rows if k[3] == "win_rate"} == {None, "deal_type", "lead_source"}


def test_kpis_by_a_dimension_and_totals_only_otherwise(duck: tuple[Store, Rows]) -> None:
    store = duck[0]
    chosen = KpiFilter(period="2026-01", entity_type="company", metrics=["deals_lost"], by="loss_reason")
    company = {"entity_type": "company", "entity_id": "company", "entity_name": "Company", "period": "2026-01"}
    assert query_kpis(store, chosen) == [
        {**company, "metric": "deals_lost", "value": 1.0, "numerator": 1.0, "denominator": N,
         "dimension": "loss_reason", "dimension_value": "Competitor"},
        {**company, "metric": "deals_lost", "value": 2.0, "numerator": 2.0, "denominator": N,
         "dimension": "loss_reason", "dimension_value": "Price"},
    ]
    totals = query_kpis(store, KpiFilter(period="2026-01", entity_type="company", metrics=["win_rate"]))
    assert totals == [{**company, "metric": "win_rate", "value": 0.4, "numerator": 2.0, "denominator": 5.0}]
    with pytest.raises(ConfigError, match="no metric is broken down by 'region'"):
        query_kpis(store, KpiFilter(by="region"))


def test_write_back_reads_totals_only(duck: tuple[Store, Rows]) -> None:
    values = load_kpis(duck[0], "company", "2026-01", ["win_rate", "deals_lost"])
    assert [(v.entity_id, v.metric, v.value) for v in values] == [
        ("company", "deals_lost", 3.0), ("company", "win_rate", 0.4),
    ]


def test_breakdowns_off_stores_totals_only(tmp_path: Path) -> None:
    cfg = parse_config({"store": {"path": str(tmp_path / "spm_sync.duckdb")}, "as_of": "2026-03-15"})
    with open_store(cfg) as store:
        for table, rows in TABLES.items():
            insert(store, table, rows)
        credits.apply(cfg, store, cfg.as_of)  # type: ignore[arg-type]
        result = compute_kpis(cfg, store, Run(job="kpis"), breakdowns=False)
        assert store.fetchone("SELECT count(*) FROM spm.kpi_values WHERE dimension IS NOT NULL") == (0,)
    assert result.breakdown_values == {}


@pytest.mark.postgres
def test_postgres_gives_the_same_values_and_breakdowns(pg_dsn: str, duck: tuple[Store, Rows]) -> None:
    store, got = _computed(parse_config({"store": {"backend": "postgres", "dsn": pg_dsn}, "as_of": "2026-03-15"}))
    store.close()
    expected = duck[1]
    assert set(got) == set(expected)
    different = {k: (got[k], v) for k, v in expected.items() if not all(map(_same, got[k], v))}
    assert different == {}
    for key, value in CASES:
        assert got[key] == value


def test_explain_lists_the_deals_open_at_the_period_end(duck: tuple[Store, Rows], tmp_path: Path) -> None:
    from datetime import date

    from spm_sync.metrics.explain import explain

    cfg = parse_config({"store": {"path": str(tmp_path / "unused.duckdb")}, "as_of": "2026-03-15"})
    found = explain(cfg, duck[0], "company", "pipeline_past_due_share", "2026-03", date(2026, 3, 15))
    assert (found.value, found.numerator, found.denominator) == (pytest.approx(1 / 3), 1.0, 3.0)
    assert [c["record_id"] for c in found.contributions] == ["open3", "open1", "open2"]
    found = explain(cfg, duck[0], "t1", "stage_skip_share", "2026-01", date(2026, 3, 15))
    assert [c["record_id"] for c in found.contributions] == ["w1"]
