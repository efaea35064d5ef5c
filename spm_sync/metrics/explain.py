"""`spm-sync explain`: why a stored KPI value is what it is, down to the records behind it.

Generic over the definitions: a metric is walked down to the simple and target metrics it is made
of; a simple metric lists the rows of its model that count for the entity in the period (with the
model's `record` spec naming them, the credit share and the rule that put them there), a target
metric lists its target rows with the share of each inside the period. For credited models the rows
before crediting show what a user would expect but was left out, and why. The value, numerator and
denominator are those of the stored `spm.kpi_values` row (or of a run kept in spm_state.kpi_history).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from rich.console import Console
from rich.table import Table

from spm_sync.config import Config
from spm_sync.errors import ConfigError
from spm_sync.metrics.calendar import resolve_period
from spm_sync.metrics.compiler import (
    COMPANY_ID,
    TEAM_TREE,
    TEAM_TREE_CTES,
    model_columns,
    model_cte,
    q,
    target_ctes,
    team_on,
    user_sql,
)
from spm_sync.metrics.definitions import Catalog, ModelDef, Primitive, Simple, Target, dependencies, load_catalog
from spm_sync.store import Store

CONTRIBUTION_KEYS = ("source", "object", "record_id", "name", "date", "amount_rc", "credit_share", "rule")
EXCLUDED_KEYS = ("source", "object", "record_id", "reason")
RECORD = ("record_source", "record_id", "record_name", "record_amount", "record_rule")


@dataclass(frozen=True)
class Entity:
    type: str  # rep | team | company
    id: str
    label: str


@dataclass(frozen=True)
class Period:
    id: str
    start: date
    end: date  # exclusive
    year_start: date
    year_end: date


@dataclass
class Explanation:
    entity: Entity
    metric: str
    period: str
    run_id: str | None
    value: float | None
    numerator: float | None
    denominator: float | None
    contributions: list[dict[str, Any]] = field(default_factory=list)
    excluded: list[dict[str, Any]] = field(default_factory=list)
    stale: bool = False  # the value is of an older KPI run than spm.kpi_values: records are today's

    def as_json(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "numerator": self.numerator,
            "denominator": self.denominator,
            "contributions": self.contributions,
            "excluded": self.excluded,
        }

    def render(self, console: Console) -> None:
        if not console.is_terminal:  # piped: room for the record ids and dates
            console.width = max(console.width, 160)
        console.print(
            f"[bold]{self.metric}[/] for {self.entity.type} {self.entity.label} in {self.period}"
            + (f" (KPI run {self.run_id})" if self.run_id else "")
            + f": value {_fmt(self.value)} = numerator {_fmt(self.numerator)}"
            + (f" / denominator {_fmt(self.denominator)}" if self.denominator is not None else "")
        )
        if self.stale:
            console.print("[yellow]note[/]: not the latest KPI run; the records below are as the store holds them now")
        for title, rows, keys in (
            ("contributing records", self.contributions, CONTRIBUTION_KEYS),
            ("excluded records", self.excluded, EXCLUDED_KEYS),
        ):
            table = Table(title=f"{title} ({len(rows)})", title_justify="left")
            for key in keys:
                table.add_column(key, justify="right" if key in ("amount_rc", "credit_share") else "left")
            for row in rows:
                table.add_row(*(_fmt(row[k]) for k in keys))
            console.print(table)


def _fmt(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:,.4f}".rstrip("0").rstrip(".")
    return str(value)


def _close(word: str, choices: list[str]) -> str:
    near = difflib.get_close_matches(word, choices, n=3, cutoff=0.5)
    return f"; did you mean {', '.join(near)}?" if near else ""


# --- what is asked --------------------------------------------------------------------------------


def resolve_entity(store: Store, text: str) -> Entity:
    """A rep (id, CRM id, email or name), a team (id or name) or `company`; else a usage error."""
    if text.lower() == COMPANY_ID:
        return Entity("company", COMPANY_ID, COMPANY_ID)
    key = text.strip().lower()
    reps = store.fetchall(
        "SELECT DISTINCT r.rep_id, r.name, r.email FROM spm.reps AS r LEFT JOIN spm.rep_identities AS i "
        "ON i.rep_id = r.rep_id WHERE r.rep_id = ? OR i.crm_id = ? OR i.source || ':' || i.crm_id = ? "
        "OR lower(r.email) = ? OR lower(i.email) = ? OR lower(r.name) = ? ORDER BY r.rep_id",
        [text, text, text, key, key, key],
    )
    teams = store.fetchall(
        "SELECT team_id, name FROM spm.teams WHERE team_id = ? OR lower(name) = ? ORDER BY team_id", [text, key]
    )
    found = [Entity("rep", r[0], f"{r[1] or r[0]} ({r[0]})") for r in reps]
    found += [Entity("team", t[0], f"{t[1] or t[0]} ({t[0]})") for t in teams]
    if len(found) == 1:
        return found[0]
    if found:
        raise ConfigError(f"entity {text!r} is ambiguous: {'; '.join(f'{e.type} {e.label}' for e in found)}")
    names = [str(v) for row in store.fetchall("SELECT rep_id, name, email FROM spm.reps") for v in row if v]
    names += [str(v) for row in store.fetchall("SELECT team_id, name FROM spm.teams") for v in row if v]
    raise ConfigError(f"unknown entity {text!r} (a rep email, name or id, a team name or id, or company)"
                      + _close(text, names))


def _metric(catalog: Catalog, name: str) -> Primitive:
    visible = {m.name: m for m in catalog.visible}
    if name not in visible:
        raise ConfigError(f"unknown metric {name!r}" + _close(name, sorted(visible)))
    return visible[name]


def _period(cfg: Config, store: Store, text: str, today: date) -> Period:
    period = resolve_period(cfg, text, today, store)
    row = store.fetchone(
        "SELECT p.period_start, p.period_end, y.period_start, y.period_end FROM spm.fiscal_periods AS p "
        "JOIN spm.fiscal_periods AS y ON y.grain = 'year' AND y.period_start <= p.period_start "
        "AND p.period_end <= y.period_end WHERE p.period = ?",
        [period],
    )
    if row is None:
        known = [str(r[0]) for r in store.fetchall("SELECT period FROM spm.fiscal_periods")]
        hint = _close(period, known) if known else " (no KPIs computed yet: run `spm-sync kpis`)"
        raise ConfigError(f"unknown period {period!r}{hint}")
    return Period(period, row[0], row[1], row[2], row[3])


def _leaves(catalog: Catalog, metric: Primitive) -> list[Simple | Target]:
    """The simple and target metrics a metric is computed from, in definition order."""
    by_name = {m.name: m for m in catalog.metrics}
    seen: dict[str, Simple | Target] = {}

    def walk(m: Primitive) -> None:
        if isinstance(m, Simple | Target):
            seen.setdefault(m.name, m)
            return
        for name in sorted(dependencies(m)):
            if name in by_name:
                walk(by_name[name])

    walk(metric)
    return list(seen.values())


def team_subtree(store: Store, team_id: str) -> list[str]:
    """The team and every team below it."""
    rows = store.fetchall(
        "WITH RECURSIVE sub(team_id, depth) AS (SELECT CAST(? AS TEXT), 0 UNION ALL "
        "SELECT t.team_id, s.depth + 1 FROM spm.teams AS t JOIN sub AS s ON t.parent_team_id = s.team_id "
        "WHERE s.depth < 32) SELECT DISTINCT team_id FROM sub",
        [team_id],
    )
    return [str(r[0]) for r in rows]


# --- the records -----------------------------------------------------------------------------------


def _record_model(model: ModelDef) -> ModelDef:
    """The model with the record columns explain prints (RECORD) added."""
    spec = model.record
    if spec is None:
        raise ConfigError("a model without a `record:` spec: explain cannot name its rows")
    values = (spec.source, spec.id, spec.name or "NULL", spec.amount or "NULL", spec.rule or "'owner'")
    return model.model_copy(update={"columns": {**model.columns, **dict(zip(RECORD, values, strict=True))}})


def _contribution(object_: str, row: tuple[Any, ...]) -> dict[str, Any]:
    source, record_id, name, day, amount, share, rule = row
    return {
        "source": source, "object": object_, "record_id": str(record_id), "name": name,
        "date": day.isoformat() if isinstance(day, date) else day,
        "amount_rc": None if amount is None else float(amount),
        "credit_share": None if share is None else round(float(share), 9), "rule": rule,
    }


@dataclass
class Records:
    """Finds the rows behind one entity's value in one period."""

    store: Store
    catalog: Catalog
    entity: Entity
    period: Period

    def __post_init__(self) -> None:
        self.teams = team_subtree(self.store, self.entity.id) if self.entity.type == "team" else []

    def _who(self, team_column: str, totals: bool = True) -> tuple[str, list[Any]]:
        """The rows that are the entity's; for a team or the company, the credits in its totals (with
        `totals` False: those left out of them, overlay credit)."""
        if self.entity.type == "rep":
            return "r.owner_id = ?", [self.entity.id]
        counted = "r.in_totals" if totals else "NOT r.in_totals"
        if self.entity.type == "team":
            return f"{counted} AND {team_column} IN ({', '.join('?' for _ in self.teams)})", list(self.teams)
        return counted, []

    def _rows_sql(self, metric: Simple, model: ModelDef, extra: tuple[str, ...] = ()) -> str:
        columns = model_columns([metric], model, extra) + list(RECORD)
        return (
            f"WITH {model_cte(metric.model, model, columns)},\n"
            f"rows_ AS (SELECT *, CAST({q(metric.time)} AS DATE) AS day FROM m_{metric.model}"
            f" WHERE {q(metric.time)} IS NOT NULL)\n"
        )

    @staticmethod
    def _keep(metric: Simple) -> str:
        keep = [f"({user_sql(metric.filter)})"] if metric.filter else []
        if metric.expr and metric.agg != "sum":
            keep.append(f"({user_sql(metric.expr)}) IS NOT NULL")
        return "".join(f" AND {k}" for k in keep)

    def simple(self, metric: Simple, totals: bool = True) -> list[dict[str, Any]]:
        """Rows of the metric's model that count for the entity in the period (trailing: in the window);
        a team's or the company's share of a record sums its credits under one rule (with `totals` False:
        its credits that team and company totals leave out)."""
        model = _record_model(self.catalog.models[metric.model])
        team_column, lookup = ("r.team_id", "") if model.team else ("m.team_id", team_on("r"))
        who, params = self._who(team_column, totals)
        days = metric.trailing_days
        start = self.period.end - timedelta(days=days) if days else self.period.start
        when, bounds = "r.day >= ? AND r.day < ?", [start, self.period.end]
        if metric.until:  # as of the period end: started before it, not ended before it
            until = f"CAST(r.{q(metric.until)} AS DATE)"
            when, bounds = f"r.day < ? AND ({until} IS NULL OR {until} >= ?)", [self.period.end] * 2
        sql = (
            self._rows_sql(metric, model)
            + "SELECT r.record_source, r.record_id, r.record_name, r.day, r.record_amount, sum(r.credit_share), "
            f"r.record_rule\nFROM rows_ AS r{lookup}\n"
            f"WHERE {who} AND {when}{self._keep(metric)}\n"
            "GROUP BY r.record_source, r.record_id, r.record_name, r.day, r.record_amount, r.record_rule\n"
            "ORDER BY r.day, r.record_id, r.record_rule"
        )
        object_ = model.record.object if model.record else metric.model
        return [_contribution(object_, row) for row in self.store.fetchall(sql, params + bounds)]

    def target(self, metric: Target) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """(counted, replaced) target rows of the entity in the period, from the compiler's own
        target_contributions: credit_share = the fraction of the row that counts (inside the period; for
        a team's members, while the owner was a member); a share that a team's explicit row replaces is
        left out, naming that team."""
        model = _record_model(self.catalog.models[metric.model])
        columns = model_columns([metric], model, ("period_start", "period_end")) + list(RECORD)
        keys = {"record_source": "record_source", "record_id": "record_id", "record_name": "record_name",
                "row_start": "period_start", "row_amount": f"({user_sql(metric.expr)})"}
        months = (
            "kpi_periods AS (SELECT period, grain, period_start, period_end FROM spm.fiscal_periods\n"
            "  WHERE grain = 'month' AND CAST(? AS DATE) <= period_start AND period_end <= CAST(? AS DATE))"
        )
        ctes = [*TEAM_TREE_CTES, f"kpi_team_tree AS (\n  {TEAM_TREE}\n)", months,
                model_cte(metric.model, model, columns), *target_ctes([metric], keys, unit=True)]
        rule = (
            "CASE WHEN c.entity_type = 'rep' THEN 'target' WHEN c.team_row THEN 'team target' "
            "WHEN c.entity_type = 'team' THEN 'member of ' || c.from_team ELSE 'target' END"
        )
        named = "record_source, record_id, record_name, row_start, row_amount"
        sql = (
            "WITH RECURSIVE " + ",\n".join(ctes) + "\n"
            f"SELECT {named}, sum(amount) AS share, rule, replaced_by FROM (\n"
            f"  SELECT {', '.join('c.' + n for n in named.split(', '))}, c.amount, {rule} AS rule,"
            " a.ancestor_id AS replaced_by\n"
            "  FROM target_contributions AS c\n"
            "  LEFT JOIN kpi_team_tree AS a ON a.team_id = c.from_team AND a.distance = c.replaced_at\n"
            "  WHERE c.entity_type = ? AND c.entity_id = ?\n"
            f") AS x GROUP BY {named}, rule, replaced_by HAVING sum(amount) > 1e-12\n"
            "ORDER BY row_start, record_id, rule, replaced_by"
        )
        object_ = model.record.object if model.record else metric.model
        params = [self.period.start, self.period.end, self.entity.type, self.entity.id]
        counted: list[dict[str, Any]] = []
        replaced: list[dict[str, Any]] = []
        for *row, by in self.store.fetchall(sql, params):
            if by is None:
                counted.append(_contribution(object_, tuple(row)))
            else:
                reason = f"replaced by team {by}'s own {object_} row"
                replaced.append({"source": row[0], "object": object_, "record_id": str(row[1]), "reason": reason})
        return counted, replaced

    def excluded(self, metric: Simple, counted: set[str]) -> list[dict[str, Any]]:
        """Records a user expects in the value but that are not there, with the reason: deleted,
        mirrored copy, credited to someone else, or (a rep's own) dated outside the period."""
        model = self.catalog.models[metric.model]
        spec = model.record
        if spec is None or spec.base is None:
            return []
        base = _record_model(model)
        base = base.model_copy(update={
            "from_": spec.base, "where": None, "owner": spec.base_owner or model.owner, "team": None,
            "share": None, "in_totals": None,
            "columns": {**base.columns, "record_rule": "NULL", "record_deleted": spec.deleted or "FALSE",
                        "record_mirror_of": spec.mirror_of or "NULL"},
        })
        if self.entity.type == "rep":
            who, params = "r.owner_id = ?", [self.entity.id]
            lo, hi = self.period.year_start, self.period.year_end
        else:
            marks = ", ".join("?" for _ in self.teams)
            who = f"r.owner_id IN (SELECT rep_id FROM spm.reps WHERE team_id IN ({marks}))" if self.teams else "TRUE"
            params, lo, hi = list(self.teams), self.period.start, self.period.end
        sql = (
            self._rows_sql(metric, base, ("record_deleted", "record_mirror_of"))
            + "SELECT r.record_source, r.record_id, r.day, r.record_deleted, r.record_mirror_of FROM rows_ AS r\n"
            f"WHERE {who} AND r.day >= ? AND r.day < ?{self._keep(metric)}\nORDER BY r.day, r.record_id"
        )
        out: list[dict[str, Any]] = []
        elsewhere: list[dict[str, Any]] = []
        for source, record_id, day, deleted, mirror_of in self.store.fetchall(sql, params + [lo, hi]):
            record_id = str(record_id)
            inside = self.period.start <= day < self.period.end
            if record_id in counted or (not inside and (deleted or mirror_of)):
                continue
            if deleted:
                reason = "deleted"
            elif mirror_of:
                reason = f"mirrored copy of {mirror_of}"
            elif not inside:
                what = "closed" if metric.time == "close_date" else metric.time
                reason = f"{what} outside the period ({day.isoformat()})"
            else:
                reason = ""
            row = {"source": source, "object": spec.object, "record_id": record_id, "reason": reason}
            out.append(row)
            if not reason:
                elsewhere.append(row)
        self._credited_elsewhere(metric, elsewhere)
        if self.entity.type != "rep":
            listed = counted | {row["record_id"] for row in out}
            out += [
                {"source": row["source"], "object": spec.object, "record_id": row["record_id"],
                 "reason": f"not in team or company totals ({row['rule']} credit counts for the rep only)"}
                for row in self.simple(metric, totals=False) if row["record_id"] not in listed
            ]
        return out

    def _credited_elsewhere(self, metric: Simple, rows: list[dict[str, Any]]) -> None:
        """Fill the reason of records in the period that count for other reps (for a team: naming the
        team each credited rep was in on the credited date)."""
        if not rows:
            return
        model = _record_model(self.catalog.models[metric.model])
        team_column, lookup = ("r.team_id", "") if model.team else ("m.team_id", team_on("r"))
        marks = ", ".join("?" for _ in rows)
        sql = (
            self._rows_sql(metric, model)
            + f"SELECT r.record_id, r.owner_id, {team_column}, r.credit_share, r.record_rule FROM rows_ AS r{lookup}\n"
            f"WHERE r.record_id IN ({marks}) ORDER BY r.record_id, r.owner_id"
        )
        credits: dict[str, list[str]] = {}
        for record_id, owner, team, share, rule in self.store.fetchall(sql, [r["record_id"] for r in rows]):
            part = f" {float(share):.0%}" if share is not None and float(share) != 1 else ""
            where = f" in {team}" if team and self.entity.type != "rep" else ""
            credits.setdefault(str(record_id), []).append(f"{owner or 'no known rep'}{where}{part} ({rule})")
        for row in rows:
            found = credits.get(row["record_id"])
            row["reason"] = f"credited to {', '.join(found)}" if found else "not credited to anyone"


def _value_row(store: Store, entity: Entity, metric: str, period: str, run_id: str | None) -> tuple[Any, ...]:
    table, extra, params = "spm.kpi_values", "", [entity.type, entity.id, period, metric]
    if run_id is not None:
        table, extra = "spm_state.kpi_history", " AND run_id = ?"
        params.append(run_id)
    row = store.fetchone(
        f"SELECT value, numerator, denominator, run_id FROM {table} "
        f"WHERE entity_type = ? AND entity_id = ? AND period = ? AND metric = ? AND dimension IS NULL{extra}",
        params,
    )
    if row is None:
        where = f"KPI run {run_id}" if run_id else "spm.kpi_values (run `spm-sync kpis`)"
        raise ConfigError(f"no value of {metric} for {entity.type} {entity.id} in {period} in {where}")
    return tuple(row)


def kpi_run_of(store: Store, run_id: str) -> str:
    """A KPI run id, or the KPI run a write-back run pushed; else a usage error."""
    if store.fetchone("SELECT 1 FROM spm_state.kpi_history WHERE run_id = ? LIMIT 1", [run_id]):
        return run_id
    rows = store.fetchall(
        "SELECT DISTINCT kpi_run_id FROM spm_state.writeback_ledger WHERE run_id = ? AND kpi_run_id IS NOT NULL",
        [run_id],
    )
    if len(rows) == 1:
        return str(rows[0][0])
    raise ConfigError(f"no KPI run and no write-back run with id {run_id!r} (see `spm-sync status`)")


def ledger_rows(store: Store, run_id: str) -> list[dict[str, Any]]:
    """The CRM field values written from one KPI run (or by one write-back run)."""
    keys = ("target", "record_id", "field", "entity_id", "period", "metric", "value_sent", "kpi_run_id", "outcome")
    rows = store.fetchall(
        f"SELECT {', '.join(keys)} FROM spm_state.writeback_ledger WHERE kpi_run_id = ? OR run_id = ? "
        "ORDER BY target, entity_id, period, metric, sent_at",
        [run_id, run_id],
    )
    if not rows:
        kpi_run_of(store, run_id)  # a KPI run that wrote nothing is not an error, an unknown id is
    return [dict(zip(keys, row, strict=True)) for row in rows]


def explain(
    cfg: Config, store: Store, entity: str, metric: str, period: str, today: date, run_id: str | None = None
) -> Explanation:
    """The stored value of `metric` for `entity` in `period` and every record behind it."""
    catalog = load_catalog(cfg)
    found_metric = _metric(catalog, metric)
    who = resolve_entity(store, entity)
    when = _period(cfg, store, period, today)
    kpi_run = kpi_run_of(store, run_id) if run_id is not None else None
    value, numerator, denominator, stored_run = _value_row(store, who, found_metric.name, when.id, kpi_run)
    records = Records(store, catalog, who, when)
    contributions: list[dict[str, Any]] = []
    seen: set[tuple[Any, ...]] = set()
    leaves = _leaves(catalog, found_metric)
    excluded: list[dict[str, Any]] = []
    for leaf in leaves:
        rows, replaced = (records.simple(leaf), []) if isinstance(leaf, Simple) else records.target(leaf)
        for row in rows:
            key = (row["source"], row["object"], row["record_id"], row["rule"])
            if key not in seen:
                seen.add(key)
                contributions.append(row)
        excluded += [row for row in replaced if row not in excluded]
    for leaf in leaves:
        if isinstance(leaf, Simple):
            counted = {c["record_id"] for c in contributions}
            for row in records.excluded(leaf, counted):
                if all(row["record_id"] != e["record_id"] for e in excluded):
                    excluded.append(row)
    latest = store.fetchone("SELECT max(run_id) FROM spm.kpi_values")
    stale = kpi_run is not None and (latest is None or latest[0] != kpi_run)
    return Explanation(who, found_metric.name, when.id, stored_run, value, numerator, denominator,
                       contributions, excluded, stale)
