"""KPI definitions as data: custom KPIs from config, and bad definitions reported with file and key."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from spm_sync.config import parse_config
from spm_sync.errors import MappingError
from spm_sync.metrics import KpiDefinitionError, load_catalog
from spm_sync.metrics.definitions import BUILTIN_FILE, _builtin_text
from tests.metrics.conftest import kpis
from tests.metrics.dataset import TABLES

BUILTIN = [
    "revenue_won",
    "quota",
    "quota_attainment",
    "deals_won",
    "deals_lost",
    "win_rate",
    "win_rate_value",
    "avg_deal_size",
    "sales_cycle_days",
    "open_pipeline",
    "pipeline_coverage",
    "arr_new",
    "arr",
    "active_customers",
    "arpa",
    "new_customer_revenue_share",
    "leads_generated",
    "leads_converted",
    "lead_conversion_rate",
    "proposals_sent",
    "calls",
    "emails",
    "meetings",
    "calls_vs_target",
    "emails_vs_target",
    "meetings_vs_target",
    "nps",
    "csat",
    "feedback_count",
]
PROCESS = [
    f"stage_{k}_{s}"
    for s in ("prospecting", "qualification", "needs_analysis", "proposal", "negotiation")
    for k in ("conversion", "days")
] + ["attainment_rank_in_team"]
# issue 14: learning from losses, pipeline hygiene and process efficiency, feedback from the team
PRACTICES = [
    "revenue_lost",
    "pipeline_past_due_share",
    "pipeline_missing_amount_share",
    "pipeline_stale_share",
    "activities_per_win",
    "avg_days_to_first_activity",
    "stage_skip_share",
    "enps",
    "rep_feedback_count",
]


def test_builtin_set_is_exactly_designs_table_plus_process_metrics() -> None:
    assert sorted(m.name for m in load_catalog().visible) == sorted(BUILTIN + PROCESS + PRACTICES)


def test_custom_kpis_from_config(make_store) -> None:
    metrics = [
        {
            "name": "expansion_revenue",
            "type": "simple",
            "model": "opportunities",
            "time": "close_date",
            "agg": "sum",
            "expr": "amount_rc",
            "filter": "is_won AND account_id = 'A1'",
        },
        {"name": "revenue_per_call", "type": "derived", "expr": "revenue_won / nullif(calls, 0)"},
        {
            "name": "accounts_won",
            "type": "simple",
            "model": "opportunities",
            "time": "close_date",
            "agg": "count_distinct",
            "expr": "account_id",
            "filter": "is_won",
        },
        {"name": "calls_per_deal", "type": "ratio", "numerator": "calls", "denominator": "deals_won"},
        {
            "name": "task_target_hit",
            "type": "attainment",
            "actual": "calls",
            "target": {"model": "activity_targets", "expr": "target * 2", "filter": "kind = 'call'"},
        },
    ]
    cfg, store = make_store(TABLES, metrics=metrics)
    values = kpis(cfg, store)
    assert values[("rep", "r1", "FY2026-Q1", "expansion_revenue")] == (4000.0, 4000.0, None)  # o1 + o2 on A1
    assert values[("rep", "r1", "2026-01", "revenue_per_call")] == (1000.0 / 3, 1000.0 / 3, None)
    assert values[("rep", "r4", "2026-01", "revenue_per_call")] == (None, None, None)
    assert values[("team", "east", "FY2026-Q1", "accounts_won")] == (3.0, 3.0, None)  # A1, A3, A5
    assert values[("rep", "r1", "2026-01", "calls_per_deal")] == (3.0, 3.0, 1.0)
    assert values[("rep", "r1", "2026-01", "task_target_hit")] == (0.15, 3.0, 20.0)
    assert len({k[3] for k in values}) == 49 + len(metrics)


def _problems(metrics: list[dict[str, Any]]) -> list[str]:
    with pytest.raises(KpiDefinitionError) as info:
        load_catalog(parse_config({"metrics": metrics}))
    assert isinstance(info.value, MappingError)
    assert info.value.file == "config"
    return str(info.value).splitlines()


@pytest.mark.parametrize(
    ("metric", "expected"),
    [
        (
            {"name": "x", "type": "simple", "model": "deals", "time": "close_date", "expr": "1"},
            "config: metrics[0].model: unknown model 'deals' (known: activities, activity_targets, feedback, leads, "
            "opportunities, opportunity_stages, opportunity_touches, quotas)",
        ),
        (
            {"name": "x", "type": "simple", "model": "leads", "time": "closed_at", "agg": "count"},
            "config: metrics[0].time: unknown column 'closed_at' of model leads",
        ),
        (
            {"name": "x", "type": "simple", "model": "leads", "time": "created_at", "agg": "median", "expr": "1"},
            "config: metrics[0].agg: Input should be 'sum', 'count', 'count_distinct' or 'mean'",
        ),
        (
            {"name": "x", "type": "simple", "model": "leads", "time": "created_at", "agg": "sum"},
            "config: metrics[0].expr: required for agg sum",
        ),
        (
            {
                "name": "x",
                "type": "simple",
                "model": "leads",
                "time": "created_at",
                "agg": "count",
                "filter": "status = 1",
            },
            "config: metrics[0].filter: unknown column(s) of model leads: status (known: converted_at, created_at, "
            "first_activity_at, is_converted, lead_id)",
        ),
        (
            {"name": "x", "type": "simple", "model": "leads", "time": "created_at", "agg": "sum", "expr": "sum(1)"},
            "config: metrics[0].expr: aggregate and window functions are not allowed here (one value per row)",
        ),
        (
            {"name": "x", "type": "ratio", "numerator": "revenue_won", "denominator": "quotaa"},
            "config: metrics[0].denominator: unknown metric(s) quotaa (known: ",
        ),
        (
            {"name": "x", "type": "derived", "expr": "revenue_won +* 2"},
            "config: metrics[0].expr: not a SQL expression (",
        ),
        (
            {"name": "x", "type": "derived", "expr": "(SELECT 1)"},
            "config: metrics[0].expr: a statement or query is not allowed here, only an expression over columns",
        ),
        (
            {"name": "x", "type": "gauge"},
            "config: metrics[0].type: Input tag 'gauge' found using 'type' does not match",
        ),
        (
            {"name": "revenue_won", "type": "derived", "expr": "1"},
            "config: metrics[0].name: metric 'revenue_won' is defined twice",
        ),
        ({"name": "x", "type": "derived", "expr": "1", "colour": "red"}, "config: metrics[0].colour: unknown key"),
        ({"name": "x__n", "type": "derived", "expr": "1"}, "config: metrics[0].name: String should match pattern"),
        (
            {"name": "x", "type": "attainment", "actual": "calls", "target": {"model": "activity_targets"}},
            "config: metrics[0].target.expr: Field required",
        ),
        (
            {"name": "x", "type": "attainment", "actual": "calls", "target": {"model": "leads", "expr": "1"}},
            "config: metrics[0].target.model: a target model needs columns period_start and period_end "
            "(leads lacks them)",
        ),
    ],
)
def test_bad_custom_kpi_names_file_and_key(metric: dict[str, Any], expected: str) -> None:
    problems = _problems([metric])
    assert len(problems) == 1
    assert problems[0].startswith(expected)


def test_every_problem_is_reported_at_once() -> None:
    problems = _problems(
        [
            {"name": "a", "type": "derived", "expr": "b + 1"},
            {"name": "b", "type": "derived", "expr": "a * 2"},
            {"name": "c", "type": "simple", "model": "nope", "time": "t"},
            {"name": "d", "type": "rank", "of": "e"},
        ]
    )
    assert problems == [
        "config: metrics[2].model: unknown model 'nope' (known: activities, activity_targets, feedback, leads, "
        "opportunities, opportunity_stages, opportunity_touches, quotas)",
        problems[1],
    ]
    assert problems[1].startswith("config: metrics[3].of: unknown metric(s) e (known: a, active_customers,")


def test_cycle_between_metrics() -> None:
    problems = _problems(
        [
            {"name": "a", "type": "derived", "expr": "b + 1"},
            {"name": "b", "type": "ratio", "numerator": "a", "denominator": "calls"},
        ]
    )
    assert problems == ["config: metrics[0]: metrics depend on each other in a cycle: a -> b -> a"]


def test_error_in_the_builtin_file_names_its_line() -> None:
    text = _builtin_text().replace(
        "    agg: count\n    filter: kind = 'call'", "    agg: count\n    filter: kinds = 'call'"
    )
    with pytest.raises(KpiDefinitionError) as info:
        load_catalog(builtin_text=text)
    (problem,) = info.value.problems
    assert problem.file == BUILTIN_FILE
    assert problem.key.endswith(".filter") and problem.key.startswith("metrics[")
    assert problem.line == text.splitlines().index("    filter: kinds = 'call'") + 1
    assert str(problem).startswith(f"{BUILTIN_FILE}: line {problem.line}: metrics[")


def test_model_parameters_are_bound_from_config_and_unknown_ones_named() -> None:
    stale = load_catalog(parse_config({"reporting": {"stale_days": 12}, "as_of": "2026-03-15"}))
    assert stale.models["opportunity_touches"].columns["stale_from"] == (
        "CASE WHEN x.touched_on + 12 <= CAST('2026-03-15' AS DATE) THEN x.touched_on + 12 END"
    )
    today = datetime.now(UTC).date().isoformat()
    assert load_catalog().models["opportunity_touches"].columns["stale_from"] == (
        f"CASE WHEN x.touched_on + 30 <= CAST('{today}' AS DATE) THEN x.touched_on + 30 END"
    )
    text = _builtin_text().replace("x.touched_on + :stale_days <=", "x.touched_on + :stale_weeks <=")
    with pytest.raises(KpiDefinitionError) as info:
        load_catalog(builtin_text=text)
    (problem,) = info.value.problems
    assert problem.key == "models.opportunity_touches.columns.stale_from"
    assert problem.message == "unknown parameter :stale_weeks (known: stale_days, today)"
    line = next(i for i, t in enumerate(text.splitlines(), 1) if t.startswith("      stale_from:"))
    assert problem.line == line
