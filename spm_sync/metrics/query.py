"""Reading stored KPI values: the rows behind `spm-sync kpis` and write-back, filtered and ordered.

Why ordered by the calendar: a period id sorts as text (`2026-03` < `FY2026`), which is stable but
not what a reader expects; rows come by entity, then period start (month before its quarter before
its year), then metric.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from spm_sync.errors import ConfigError
from spm_sync.metrics.calendar import CURRENT, GRAINS, check_period_id, stored_period
from spm_sync.store import Store

ENTITY_TYPES = ("rep", "team", "company")
ROW_KEYS = ("entity_type", "entity_id", "entity_name", "period", "metric", "value", "numerator", "denominator")
COMPANY_NAME = "Company"
# A reader's order for an overview: by period, then team (the team's row before its reps), then attainment.
TEAM_ORDER = (
    "p.period_start, p.period_end, coalesce(rt.name, t.name, ''), v.entity_type <> 'team', "
    "a.value DESC NULLS LAST, coalesce(r.name, t.name), v.entity_id, v.metric, v.dimension_value"
)
ENTITY_ORDER = "v.entity_type, v.entity_id, p.period_start, p.period_end, v.period, v.metric, v.dimension_value"
BREAKDOWN_KEYS = ("dimension", "dimension_value")


@dataclass(frozen=True)
class KpiFilter:
    """Which stored values to return; every field is optional (None = no restriction)."""

    period: str | None = None
    grain: str | None = None
    entity_type: str | None = None
    entity_id: str | None = None
    team: str | None = None
    metrics: Sequence[str] | None = None
    today: date | None = None  # for current_month / current_quarter / current_year (default: today UTC)
    periods: Sequence[str] | None = None  # several periods at once (ids or current_* names)
    by_team: bool = False  # order by period, team, attainment (TEAM_ORDER) instead of by entity
    by: str | None = None  # a breakdown dimension: its rows instead of the totals


def _check_choice(value: str | None, choices: tuple[str, ...], what: str) -> None:
    if value is not None and value not in choices:
        raise ConfigError(f"unknown {what} {value!r} (use one of {', '.join(choices)})")


def _check_metrics(store: Store, metrics: Sequence[str]) -> None:
    known = {r[0] for r in store.fetchall("SELECT DISTINCT metric FROM spm.kpi_values")}
    unknown = sorted(set(metrics) - known)
    if known and unknown:
        raise ConfigError(f"unknown metric(s) {', '.join(unknown)} (known: {', '.join(sorted(known))})")


def _stored(store: Store, period: str, today: date | None) -> str | None:
    """A period id as asked, or the stored period a `current_*` name stands for (None: outside the calendar)."""
    if period in CURRENT:
        return stored_period(store, CURRENT[period], today or datetime.now(UTC).date())
    return period


def check_filter(filters: KpiFilter) -> None:
    """Usage errors of a filter that need no store (a period that cannot exist, an unknown grain or
    entity type): the CLI asks before computing anything."""
    _check_choice(filters.grain, GRAINS, "grain")
    _check_choice(filters.entity_type, ENTITY_TYPES, "entity type")
    for period in [filters.period] if filters.period is not None else filters.periods or []:
        check_period_id(period)


def _check_dimension(store: Store, dimension: str) -> None:
    known = {r[0] for r in store.fetchall("SELECT DISTINCT dimension FROM spm.kpi_values WHERE dimension IS NOT NULL")}
    if dimension not in known:
        raise ConfigError(
            f"no metric is broken down by {dimension!r} (stored breakdowns: {', '.join(sorted(known)) or 'none'})"
        )


def query_kpis(store: Store, filters: KpiFilter) -> list[dict[str, Any]]:
    """Stored KPI values as dicts with exactly DESIGN.md's JSON keys, in a deterministic order; with
    `filters.by` the values of that breakdown, with `dimension` and `dimension_value` as well."""
    check_filter(filters)
    where: list[str] = ["v.dimension IS NULL"]
    params: list[Any] = []
    keys: tuple[str, ...] = ROW_KEYS
    if filters.by is not None:
        _check_dimension(store, filters.by)
        where = ["v.dimension = ?"]
        params.append(filters.by)
        keys = ROW_KEYS + BREAKDOWN_KEYS
    prefix = ""
    asked = [filters.period] if filters.period is not None else list(filters.periods or [])
    if asked:
        periods = [_stored(store, p, filters.today) for p in asked]
        known = [p for p in periods if p is not None]
        if not known:
            return []
        where.append(f"v.period IN ({', '.join('?' for _ in known)})")
        params.extend(known)
    if filters.grain is not None:
        where.append("p.grain = ?")
        params.append(filters.grain)
    if filters.entity_type is not None:
        where.append("v.entity_type = ?")
        params.append(filters.entity_type)
    if filters.entity_id is not None:
        where.append("v.entity_id = ?")
        params.append(filters.entity_id)
    if filters.metrics:
        _check_metrics(store, filters.metrics)
        where.append(f"v.metric IN ({', '.join('?' for _ in filters.metrics)})")
        params.extend(filters.metrics)
    if filters.team is not None:
        # members by current membership: reps of the team and of its descendant teams, and the team itself
        prefix = (
            "WITH RECURSIVE subtree(team_id, depth) AS (\n"
            "  SELECT CAST(? AS TEXT), 0\n"
            "  UNION ALL\n"
            "  SELECT t.team_id, s.depth + 1 FROM spm.teams AS t JOIN subtree AS s ON t.parent_team_id = s.team_id\n"
            "  WHERE s.depth < 32\n"
            ")\n"
        )
        params.insert(0, filters.team)
        where.append(
            "((v.entity_type = 'team' AND v.entity_id = ?) OR (v.entity_type = 'rep' AND v.entity_id IN "
            "(SELECT r.rep_id FROM spm.reps AS r WHERE r.team_id IN (SELECT team_id FROM subtree))))"
        )
        params.append(filters.team)
    sql = (
        prefix + "SELECT v.entity_type, v.entity_id, "
        f"CASE WHEN v.entity_type = 'company' THEN '{COMPANY_NAME}' ELSE coalesce(r.name, t.name) END, "
        "v.period, v.metric, v.value, v.numerator, v.denominator"
        + (", v.dimension, v.dimension_value\n" if filters.by is not None else "\n")
        + "FROM spm.kpi_values AS v LEFT JOIN spm.fiscal_periods AS p ON p.period = v.period\n"
        "LEFT JOIN spm.reps AS r ON v.entity_type = 'rep' AND r.rep_id = v.entity_id\n"
        "LEFT JOIN spm.teams AS t ON v.entity_type = 'team' AND t.team_id = v.entity_id\n"
        + (
            "LEFT JOIN spm.teams AS rt ON rt.team_id = r.team_id\n"
            "LEFT JOIN spm.kpi_values AS a ON a.entity_type = v.entity_type AND a.entity_id = v.entity_id "
            "AND a.period = v.period AND a.metric = 'quota_attainment' AND a.dimension IS NULL\n"
            if filters.by_team
            else ""
        )
        + f"WHERE {' AND '.join(where)}\n"
        + f"ORDER BY {TEAM_ORDER if filters.by_team else ENTITY_ORDER}"
    )
    return [dict(zip(keys, row, strict=True)) for row in store.fetchall(sql, params)]
