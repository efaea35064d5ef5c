"""What the HTML report shows, read from the store: KPI values by name for one period and scope.

Pure reads (no rendering): the page and its tests take the same `ReportData`, so a number on the
page is the stored number, formatted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from spm_sync.config import Config
from spm_sync.errors import ConfigError
from spm_sync.metrics.calendar import resolve_period
from spm_sync.metrics.definitions import load_catalog, metric_unit
from spm_sync.metrics.explain import team_subtree
from spm_sync.metrics.lookup import NoMatch, resolve_team
from spm_sync.store import Store

COMPANY = "company"
STAGES = ("prospecting", "qualification", "needs_analysis", "proposal", "negotiation")
BOARD_METRICS = (
    "quota_attainment", "revenue_won", "quota", "win_rate", "pipeline_coverage", "open_pipeline", "deals_won",
    "calls", "calls_vs_target", "emails", "emails_vs_target", "meetings", "meetings_vs_target",
    "new_customer_revenue_share", "nps", "csat", "feedback_count",
    "enps", "pipeline_stale_share", "pipeline_past_due_share", "activities_per_win",
    "pipeline_missing_amount_share", "stage_skip_share", "avg_days_to_first_activity", "rep_feedback_count",
    "deals_lost", "revenue_lost",
)
FUNNEL_METRICS = tuple(f"stage_{kind}_{stage}" for stage in STAGES for kind in ("conversion", "days"))


@dataclass(frozen=True)
class Entity:
    """A rep, team or the company with its values in the period: metric -> (value, numerator, denominator)."""

    type: str
    id: str
    name: str
    team: str | None  # a rep's current team's name; a team's parent's
    values: dict[str, tuple[float | None, float | None, float | None]]

    def value(self, metric: str) -> float | None:
        return self.values.get(metric, (None, None, None))[0]

    def part(self, metric: str, index: int) -> float | None:
        return self.values.get(metric, (None, None, None))[index]


@dataclass(frozen=True)
class Month:
    entity_type: str
    name: str
    month: str  # YYYY-MM
    revenue_won: float
    quota: float


@dataclass(frozen=True)
class LossReason:
    """One slice of the scope's losses in the period (reason None: the deals lost without one)."""

    reason: str | None
    deals: float
    revenue: float


@dataclass
class ReportData:
    period: str
    period_start: date
    period_end: date  # exclusive
    fiscal_year: str
    scope: Entity  # the company, or the team asked for
    teams: list[Entity]
    reps: list[Entity]
    months: list[Month]  # the fiscal year's months, for the scope, its teams and its reps
    last_synced: datetime | None
    computed_at: datetime | None
    today: date
    definitions: dict[str, str] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)
    loss_reasons: list[LossReason] = field(default_factory=list)  # most revenue lost first


def _definitions(cfg: Config) -> tuple[dict[str, str], dict[str, str]]:
    catalog = load_catalog(cfg)
    docs = {m.name: " ".join((m.doc or "").split()) for m in catalog.visible}
    for stage in STAGES:
        label = stage.replace("_", " ")
        docs[f"stage_conversion_{stage}"] = (
            f"Of the opportunities first entering {label} in P, the share that went on to a later stage.")
        docs[f"stage_days_{stage}"] = f"Mean days from first entering {label} to first entering a later stage."
    return docs, {m.name: metric_unit(m) for m in catalog.visible}


def _entities(store: Store, period: str, kind: str, ids: list[str] | None, metrics: tuple[str, ...]) -> list[Entity]:
    """Entities of one kind with their values; `ids` None = all of that kind."""
    if ids is not None and not ids:
        return []
    names = {
        "rep": "SELECT r.rep_id, r.name, t.name FROM spm.reps AS r LEFT JOIN spm.teams AS t ON t.team_id = r.team_id",
        "team": "SELECT t.team_id, t.name, p.name FROM spm.teams AS t "
                "LEFT JOIN spm.teams AS p ON p.team_id = t.parent_team_id",
    }
    known = {str(r[0]): (r[1], r[2]) for r in store.fetchall(names[kind])} if kind in names else {}
    where = "" if ids is None else f" AND entity_id IN ({', '.join('?' for _ in ids)})"
    rows = store.fetchall(
        "SELECT entity_id, metric, value, numerator, denominator FROM spm.kpi_values WHERE period = ? "
        "AND dimension IS NULL "
        f"AND entity_type = ? AND metric IN ({', '.join('?' for _ in metrics)}){where}",
        [period, kind, *metrics, *(ids or [])],
    )
    values: dict[str, dict[str, tuple[float | None, float | None, float | None]]] = {}
    for entity_id, metric, value, numerator, denominator in rows:
        values.setdefault(str(entity_id), {})[str(metric)] = (value, numerator, denominator)
    out = []
    for entity_id, by_metric in values.items():
        name, team = known.get(entity_id, (None, None))
        label = "Company" if kind == COMPANY else str(name or entity_id)
        out.append(Entity(kind, entity_id, label, team, by_metric))
    return sorted(out, key=lambda e: (-(e.value("quota_attainment") or -1.0), e.name, e.id))


def _months(store: Store, year_start: date, year_end: date, entities: list[Entity]) -> list[Month]:
    """Monthly revenue_won and quota of the fiscal year for these entities (cumulated by the page)."""
    by_key = {(e.type, e.id): e for e in entities}
    rows = store.fetchall(
        "SELECT v.entity_type, v.entity_id, v.period, v.metric, v.value FROM spm.kpi_values AS v "
        "JOIN spm.fiscal_periods AS p ON p.period = v.period WHERE p.grain = 'month' AND p.period_start >= ? "
        "AND p.period_start < ? AND v.metric IN ('revenue_won', 'quota') AND v.dimension IS NULL "
        "ORDER BY p.period_start",
        [year_start, year_end],
    )
    cells: dict[tuple[str, str, str], dict[str, float]] = {}
    for kind, entity_id, month, metric, value in rows:
        if (kind, entity_id) in by_key:
            cells.setdefault((kind, str(entity_id), str(month)), {})[str(metric)] = float(value or 0.0)
    return [
        Month(kind, by_key[(kind, entity_id)].name, month, v.get("revenue_won", 0.0), v.get("quota", 0.0))
        for (kind, entity_id, month), v in cells.items()
    ]


def _loss_reasons(store: Store, period: str, scope: Entity) -> list[LossReason]:
    """deals_lost and revenue_lost of the scope by loss_reason (their stored breakdown), most revenue first."""
    slices: dict[str | None, dict[str, float]] = {}
    for reason, metric, value in store.fetchall(
        "SELECT dimension_value, metric, value FROM spm.kpi_values WHERE period = ? AND entity_type = ? "
        "AND entity_id = ? AND dimension = 'loss_reason' AND metric IN ('deals_lost', 'revenue_lost')",
        [period, scope.type, scope.id],
    ):
        slices.setdefault(reason, {})[str(metric)] = float(value or 0.0)
    found = [LossReason(r, v.get("deals_lost", 0.0), v.get("revenue_lost", 0.0)) for r, v in slices.items()]
    return sorted(found, key=lambda s: (-s.revenue, -s.deals, s.reason is None, s.reason or ""))


def load_report(cfg: Config, store: Store, period: str | None, team: str | None, today: date) -> ReportData:
    """Everything the report shows for `period` (default: the current fiscal quarter) and `team` (default: all)."""
    asked = resolve_period(cfg, period or "current_quarter", today, store)
    row = store.fetchone(
        "SELECT p.period_start, p.period_end, y.period, y.period_start, y.period_end FROM spm.fiscal_periods AS p "
        "JOIN spm.fiscal_periods AS y ON y.grain = 'year' AND y.period_start <= p.period_start "
        "AND p.period_end <= y.period_end WHERE p.period = ?",
        [asked],
    )
    if row is None:
        raise NoMatch(f"--period {asked!r}: no KPIs computed for it (see `spm-sync list periods`)")
    start, end, fiscal_year, year_start, year_end = row
    metrics = BOARD_METRICS + FUNNEL_METRICS
    if team is None:
        team_ids = None
        scope = _entities(store, asked, COMPANY, [COMPANY], metrics)
        rep_ids = None
    else:
        team_id = resolve_team(store, team)
        team_ids = team_subtree(store, team_id)
        scope = _entities(store, asked, "team", [team_id], metrics)
        rep_ids = [str(r[0]) for r in store.fetchall(
            f"SELECT rep_id FROM spm.reps WHERE team_id IN ({', '.join('?' for _ in team_ids)})", team_ids)]
    if not scope:
        raise ConfigError(f"no KPI values for {team or 'the company'} in {asked} (run `spm-sync kpis`)")
    teams = [t for t in _entities(store, asked, "team", team_ids, BOARD_METRICS) if t.id != scope[0].id]
    reps = [r for r in _entities(store, asked, "rep", rep_ids, BOARD_METRICS)
            if (r.value("quota") or 0) > 0 or (r.value("revenue_won") or 0) > 0]
    docs, units = _definitions(cfg)
    synced = store.fetchone("SELECT max(ended_at) FROM spm_state.runs WHERE job = 'sync' AND status = 'succeeded'")
    computed = store.fetchone("SELECT max(computed_at) FROM spm.kpi_values")
    return ReportData(
        period=asked, period_start=start, period_end=end, fiscal_year=str(fiscal_year), scope=scope[0],
        teams=teams, reps=reps, months=_months(store, year_start, year_end, [scope[0], *teams, *reps]),
        last_synced=synced[0] if synced else None, computed_at=computed[0] if computed else None, today=today,
        definitions=docs, units=units, loss_reasons=_loss_reasons(store, asked, scope[0]),
    )


def board_row(entity: Entity) -> dict[str, Any]:
    """The leaderboard's numbers for one entity (None where the store has none)."""
    return {metric: entity.value(metric) for metric in BOARD_METRICS}
