"""Celebrate wins: tell people when a rep or team crosses an attainment threshold in the current period
(once per entity x period x threshold, remembered in spm_state.celebrations), and once a week who
moved up most (spm_state.digests). Runs after each KPI computation; sends through apprise.

Finding who to celebrate is plain SQL over stored values; wording is done by pure functions; only
`celebrate` talks to the outside, and it records a win only once a message was delivered, so a chat
that is down gets the news on the next run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from spm_sync.config import Config, Notifications
from spm_sync.metrics.calendar import stored_period
from spm_sync.ops.notify import Message, deliver
from spm_sync.runs import utcnow
from spm_sync.store import Store

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
GRAIN = {"current_month": "month", "current_quarter": "quarter", "current_year": "year"}
MOVER_WINDOW = timedelta(days=7)
LISTED = 15  # names in one message; the rest are counted


@dataclass(frozen=True)
class Win:
    entity_type: str
    entity_id: str
    name: str
    team: str | None
    period: str
    threshold: float
    attainment: float
    revenue_won: float | None
    quota: float | None


@dataclass(frozen=True)
class Move:
    entity_type: str
    name: str
    team: str | None
    before: float
    now: float


ENTITY_NAMES = """
  LEFT JOIN spm.reps AS r ON v.entity_type = 'rep' AND r.rep_id = v.entity_id
  LEFT JOIN spm.teams AS t ON t.team_id = CASE WHEN v.entity_type = 'rep' THEN r.team_id ELSE v.entity_id END
  LEFT JOIN spm.teams AS pt ON v.entity_type = 'team' AND pt.team_id = t.parent_team_id"""


def new_wins(store: Store, settings: Notifications, period: str) -> list[Win]:
    """Entities at or above a threshold in `period` not celebrated yet for it, best first."""
    types = ", ".join(f"'{t}'" for t in settings.entities)  # Literal-validated: rep | team
    values = ", ".join("(CAST(? AS DOUBLE PRECISION))" for _ in settings.thresholds)
    rows = store.fetchall(
        f"WITH thresholds(threshold) AS (VALUES {values}) "
        "SELECT v.entity_type, v.entity_id, coalesce(r.name, t.name, v.entity_id), "
        "CASE WHEN v.entity_type = 'rep' THEN t.name ELSE pt.name END, h.threshold, v.value, v.numerator, "
        "v.denominator FROM spm.kpi_values AS v CROSS JOIN thresholds AS h" + ENTITY_NAMES + " "
        f"WHERE v.metric = 'quota_attainment' AND v.dimension IS NULL AND v.period = ? "
        f"AND v.entity_type IN ({types}) AND v.value >= h.threshold "
        "AND NOT EXISTS (SELECT 1 FROM spm_state.celebrations AS c WHERE "
        "c.entity_type = v.entity_type AND c.entity_id = v.entity_id AND c.period = v.period "
        "AND c.threshold = h.threshold) ORDER BY h.threshold DESC, v.value DESC, v.entity_type DESC, 3",
        [*settings.thresholds, period],
    )
    return [Win(r[0], r[1], r[2], r[3], period, r[4], r[5], r[6], r[7]) for r in rows]


def top_movers(store: Store, settings: Notifications, period: str, now: datetime) -> list[Move]:
    """Biggest rises in attainment in `period` since the last KPI run a week or more ago (else the first)."""
    types = ", ".join(f"'{t}'" for t in settings.entities)
    rows = store.fetchall(
        "WITH base AS (SELECT coalesce(max(computed_at) FILTER (WHERE computed_at <= ?), min(computed_at)) AS at "
        "FROM spm_state.kpi_history WHERE period = ? AND metric = 'quota_attainment' AND dimension IS NULL), "
        "before AS (SELECT h.entity_type, h.entity_id, h.value FROM spm_state.kpi_history AS h, base "
        "WHERE h.computed_at = base.at AND h.period = ? AND h.metric = 'quota_attainment' AND h.dimension IS NULL) "
        "SELECT v.entity_type, coalesce(r.name, t.name, v.entity_id), "
        "CASE WHEN v.entity_type = 'rep' THEN t.name ELSE pt.name END, coalesce(b.value, 0), v.value "
        "FROM spm.kpi_values AS v LEFT JOIN before AS b ON b.entity_type = v.entity_type "
        "AND b.entity_id = v.entity_id" + ENTITY_NAMES + " "
        f"WHERE v.metric = 'quota_attainment' AND v.dimension IS NULL AND v.period = ? "
        f"AND v.entity_type IN ({types}) AND v.value > coalesce(b.value, 0) "
        "ORDER BY v.value - coalesce(b.value, 0) DESC, 2 LIMIT ?",
        [now - MOVER_WINDOW, period, period, period, settings.digest_top],
    )
    return [Move(r[0], r[1], r[2], float(r[3]), float(r[4])) for r in rows]


def _who(name: str, team: str | None) -> str:
    return f"{name} ({team})" if team else name


def _pct(value: float) -> str:
    return f"{value * 100:.1f}%"


def wins_message(wins: list[Win], currency: str) -> Message:
    """One message for the wins of a run (a first run can have many)."""
    period = wins[0].period
    lines = [
        f"*{_who(w.name, w.team)}* reached {w.threshold * 100:g}% of quota: {_pct(w.attainment)}"
        + (f" ({w.revenue_won:,.0f} of {w.quota:,.0f} {currency})" if w.revenue_won is not None and w.quota else "")
        for w in wins[:LISTED]
    ]
    if len(wins) > LISTED:
        lines.append(f"and {len(wins) - LISTED} more")
    title = f":tada: Quota reached in {period}: {wins[0].name}" + (
        f" and {len(wins) - 1} more" if len(wins) > 1 else "")
    return Message(title, tuple(lines), "quota_reached", (("period", period), ("count", str(len(wins)))))


def digest_message(moves: list[Move], period: str) -> Message:
    lines = [f"*{_who(m.name, m.team)}*: {_pct(m.before)} -> {_pct(m.now)} (+{(m.now - m.before) * 100:.1f} pts)"
             for m in moves]
    return Message(f":chart_with_upwards_trend: Top movers this week in {period}", tuple(lines), "weekly_digest",
                   (("period", period),))


def digest_due(settings: Notifications, today: date, sent_weeks: set[str]) -> str | None:
    """The ISO week whose digest is due today (on or after the configured weekday, not sent yet), else None."""
    if settings.digest_weekday is None or today.weekday() < WEEKDAYS.index(settings.digest_weekday):
        return None
    year, week, _ = today.isocalendar()
    name = f"{year}-W{week:02d}"
    return None if name in sent_weeks else name


def celebrate(cfg: Config, store: Store, today: date, now: datetime | None = None) -> dict[str, Any]:
    """Send what is new since the last run; returns what was sent (for the run's details)."""
    settings = cfg.notifications
    if not settings.urls:
        return {}
    period = stored_period(store, GRAIN[settings.period], today)
    if period is None:
        return {}
    now = now or utcnow()
    sent: dict[str, Any] = {}
    wins = new_wins(store, settings, period)
    if wins and deliver(settings.urls, wins_message(wins, cfg.reporting.currency), settings.timeout_s):
        store.executemany(
            "INSERT INTO spm_state.celebrations VALUES (?, ?, ?, ?, ?, ?)",
            [[w.entity_type, w.entity_id, w.period, w.threshold, w.attainment, now] for w in wins],
        )
        sent["wins"] = len(wins)
    weeks = {str(r[0]) for r in store.fetchall("SELECT week FROM spm_state.digests")}
    week = digest_due(settings, today, weeks)
    if week is not None:
        moves = top_movers(store, settings, period, now)
        if moves and deliver(settings.urls, digest_message(moves, period), settings.timeout_s):
            store.execute("INSERT INTO spm_state.digests VALUES (?, ?, ?)", [week, period, now])
            sent["digest"] = week
    return sent
