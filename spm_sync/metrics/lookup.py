"""What a reader can ask for, by the names they know: reps by id, email or name, teams by id or name,
metrics and periods; and the rows `spm-sync kpis` shows for those filters.

Why here and not in the CLI: the report and the celebrations use the same names and the same
"current quarter and month" default, so a rep is called the same everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from spm_sync.config import Config
from spm_sync.errors import ConfigError
from spm_sync.metrics.definitions import load_catalog, metric_unit
from spm_sync.metrics.explain import _close, resolve_entity
from spm_sync.metrics.query import KpiFilter, query_kpis
from spm_sync.store import Store

DEFAULT_PERIODS = ("current_quarter", "current_month")
# The overview's columns when no --metric is given (what a sales manager reads first), with their headers.
HEADLINE_METRICS = {
    "quota_attainment": "attainment", "revenue_won": "revenue won", "quota": "quota", "win_rate": "win rate",
    "pipeline_coverage": "coverage", "deals_won": "deals won", "avg_deal_size": "avg deal",
    "calls_vs_target": "calls/target", "meetings_vs_target": "meetings/target",
}

class NoMatch(ConfigError):
    """A filter that matches nothing: a usage error (exit 2) naming the filter."""


@dataclass(frozen=True)
class KpiAsk:
    """The `kpis` filters as the user typed them (names, emails or ids)."""

    period: str | None = None
    grain: str | None = None
    entity_type: str | None = None
    entity: str | None = None
    team: str | None = None
    metrics: list[str] | None = None
    by: str | None = None  # a breakdown dimension


def resolve_team(store: Store, text: str) -> str:
    """A team id from its id or name (case-insensitive); a name shared by teams lists them."""
    rows = store.fetchall(
        "SELECT team_id, name FROM spm.teams WHERE team_id = ? OR lower(name) = lower(?) ORDER BY team_id",
        [text, text.strip()],
    )
    exact = [r for r in rows if r[0] == text]
    if len(exact) == 1 or len(rows) == 1:
        return str((exact or rows)[0][0])
    if rows:
        raise NoMatch(f"--team {text!r} is ambiguous: {'; '.join(f'{r[1]} ({r[0]})' for r in rows)}")
    names = [str(v) for row in store.fetchall("SELECT team_id, name FROM spm.teams") for v in row if v]
    raise NoMatch(f"--team {text!r} matches no team (a team name or id; see `spm-sync list teams`)"
                  + _close(text, names))


def kpi_filter(store: Store, ask: KpiAsk, today: date) -> KpiFilter:
    """Names resolved to ids; without a period, the current fiscal quarter and month by team."""
    entity_type, entity_id = ask.entity_type, None
    if ask.entity is not None:
        try:
            found = resolve_entity(store, ask.entity)
        except ConfigError as exc:
            raise NoMatch(f"--entity: {exc.message}") from exc
        if entity_type is not None and entity_type != found.type:
            raise NoMatch(f"--entity {ask.entity!r} is a {found.type}, not a {entity_type} (--entity-type)")
        entity_type, entity_id = found.type, found.id
    default_view = ask.period is None and ask.grain is None
    return KpiFilter(
        period=ask.period,
        periods=DEFAULT_PERIODS if default_view else None,
        grain=ask.grain,
        entity_type=entity_type,
        entity_id=entity_id,
        team=resolve_team(store, ask.team) if ask.team is not None else None,
        metrics=ask.metrics,
        today=today,
        by_team=default_view,
        by=ask.by,
    )


def _asked(ask: KpiAsk) -> str:
    flags = [(f"--{k.replace('_', '-')}", v) for k, v in vars(ask).items() if v]
    return " ".join(f"{flag} {','.join(v) if isinstance(v, list) else v}" for flag, v in flags) or "(no filter)"


def kpi_rows(cfg: Config, store: Store, ask: KpiAsk) -> list[dict[str, Any]]:
    """The rows `spm-sync kpis` prints; a filter that matches no stored value is a NoMatch."""
    today = cfg.as_of or datetime.now(UTC).date()
    rows = query_kpis(store, kpi_filter(store, ask, today))
    if rows:
        return rows
    if store.fetchone("SELECT 1 FROM spm.kpi_values LIMIT 1") is None:
        raise NoMatch("no KPI values stored yet (run `spm-sync kpis` with compute, or `spm-sync run`)")
    if ask.period is None and ask.grain is None:
        raise NoMatch(f"no KPI values for the current fiscal quarter and month ({today}) with {_asked(ask)}; "
                      "give --period (see `spm-sync list periods`)")
    raise NoMatch(f"no KPI values match {_asked(ask)}")


def units(cfg: Config) -> dict[str, str]:
    """Metric name -> ratio | currency | count | number (how a value is shown)."""
    return {m.name: metric_unit(m) for m in load_catalog(cfg).visible}


def overview(rows: list[dict[str, Any]], columns: dict[str, str]) -> list[dict[str, Any]]:
    """One row per entity and period (in the rows' order), a column per metric (metric -> header): the table view."""
    by_key: dict[tuple[str, str, str], dict[str, Any]] = {}
    for row in rows:
        key = (row["period"], row["entity_type"], row["entity_id"])
        if key not in by_key:
            by_key[key] = {"period": row["period"], "entity_type": row["entity_type"],
                           "entity_name": row["entity_name"], "entity_id": row["entity_id"]}
            by_key[key].update(dict.fromkeys(columns.values()))
        if row["metric"] in columns:
            by_key[key][columns[row["metric"]]] = row["value"]
    return list(by_key.values())


def list_rows(cfg: Config, store: Store, what: str) -> list[dict[str, Any]]:
    """`spm-sync list reps|teams|metrics|periods`: what the kpis filters and the report accept."""
    if what == "reps":
        return store.fetch_dicts(
            "SELECT r.name, r.email, t.name AS team, r.rep_id, r.is_active AS active FROM spm.reps AS r "
            "LEFT JOIN spm.teams AS t ON t.team_id = r.team_id ORDER BY t.name NULLS LAST, r.name, r.rep_id"
        )
    if what == "teams":
        return store.fetch_dicts(
            "SELECT t.name, t.team_id, p.name AS parent, (SELECT count(*) FROM spm.reps AS r "
            "WHERE r.team_id = t.team_id) AS reps FROM spm.teams AS t LEFT JOIN spm.teams AS p "
            "ON p.team_id = t.parent_team_id ORDER BY t.name, t.team_id"
        )
    if what == "metrics":
        return [
            {"metric": m.name, "unit": metric_unit(m), "definition": " ".join((m.doc or "").split())}
            for m in load_catalog(cfg).visible
        ]
    if what == "periods":
        today = cfg.as_of or datetime.now(UTC).date()
        rows = store.fetch_dicts(
            "SELECT period, grain, period_start, period_end FROM spm.fiscal_periods "
            "ORDER BY period_start, period_end DESC"
        )
        return [
            {"period": r["period"], "grain": r["grain"], "first_day": r["period_start"],
             "last_day": r["period_end"] - timedelta(days=1), "current": r["period_start"] <= today < r["period_end"]}
            for r in rows
        ]
    raise ConfigError(f"unknown list {what!r} (use one of reps, teams, metrics, periods)")

