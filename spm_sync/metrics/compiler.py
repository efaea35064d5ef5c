"""KPI definitions -> the SQL statements that compute every metric for every entity and period.

Why this shape (all set-based, inside the store):
1. rows of each model are aggregated once per (owner, month) - or per (owner, day) for trailing
   windows - so the big tables are scanned once per time column, not once per period or metric;
2. those small facts are keyed by (owner, team, in_totals): the team is the one the owner belonged
   to on the row's date (credited rows carry it; otherwise spm.credit_membership at the time column),
   so a rep's value sums its rows, a team's the in-totals rows of its own and descendant teams, and
   the company every in-totals row, unowned included. Shares weight sums and counts (a 50 % split
   is half a deal); overlay credit (in_totals false) counts for the rep only;
3. targets are prorated per month, with a team's explicit rows replacing its members' below it;
4. count-distinct metrics are counted per entity directly (distinct counts do not add up);
5. ratios, derived metrics and ranks are columns over the entity grid, in dependency layers, then
   unpivoted into `spm.kpi_values`. Ratios are therefore always ratios of sums;
6. breakdowns (`breakdowns: [<column>]`) repeat steps 1, 2 and 5 with the column as one more key, over
   the slices that have rows only, into the same table with `dimension`/`dimension_value` set.
Generated SQL is DuckDB's dialect kept portable (Store.sql transpiles it for PostgreSQL).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlglot import exp

from spm_sync.expressions import render
from spm_sync.metrics.definitions import (
    Catalog,
    Derived,
    ModelDef,
    Primitive,
    Rank,
    Ratio,
    Simple,
    Target,
    dependencies,
    parse_expression,
    referenced_names,
)

COMPANY_ID = "company"
TEMP_TABLES = (
    "kpi_periods",
    "kpi_month_map",
    "kpi_team_tree",
    "kpi_entities",
    "kpi_owner_months",
    "kpi_owner_trailing",
    "kpi_distinct_rows",
    "kpi_owner_facts",
    "kpi_target_facts",
    "kpi_distinct_facts",
    "kpi_entity_facts",
    "kpi_wide",
    "kpi_breakdowns",
)
KPI_COLUMNS = (
    "entity_type, entity_id, period, metric, value, numerator, denominator, computed_at, run_id, "
    "dimension, dimension_value"
)
NULL = "CAST(NULL AS DOUBLE)"


# team -> itself and every ancestor with the distance up: CTEs (recursive) and the SELECT over them
TEAM_TREE_CTES = (
    "team_nodes AS (\n"
    "  SELECT team_id, parent_team_id FROM spm.teams WHERE team_id IS NOT NULL\n"
    "  UNION ALL\n"
    "  SELECT DISTINCT team_id, CAST(NULL AS TEXT) FROM (\n"
    "    SELECT team_id FROM spm.reps UNION SELECT team_id FROM spm.credit_membership\n"
    "  ) AS used\n"
    "  WHERE team_id IS NOT NULL AND team_id NOT IN (SELECT team_id FROM spm.teams WHERE team_id IS NOT NULL)\n"
    ")",
    "team_paths AS (\n"
    "  SELECT team_id, team_id AS ancestor_id, 0 AS distance FROM team_nodes\n"
    "  UNION ALL\n"
    "  SELECT p.team_id, n.parent_team_id, p.distance + 1\n"
    "  FROM team_paths AS p JOIN team_nodes AS n ON n.team_id = p.ancestor_id\n"
    "  WHERE n.parent_team_id IS NOT NULL AND p.distance < 32\n"
    ")",
)
TEAM_TREE = "SELECT team_id, ancestor_id, min(distance) AS distance FROM team_paths GROUP BY team_id, ancestor_id"


@dataclass(frozen=True)
class Step:
    """One statement of the plan; `name` is the temp table it creates (or what it does)."""

    name: str
    sql: str


def q(name: str) -> str:
    return f'"{name}"'


def fact_columns(metric: Primitive) -> list[str]:
    """The columns a metric needs in the entity facts (mean: sum and count)."""
    if isinstance(metric, Simple):
        return [f"{metric.name}__n", f"{metric.name}__d"] if metric.agg == "mean" else [metric.name]
    if isinstance(metric, Target):
        return [metric.name]
    return []


def user_tree(text: str) -> exp.Expr:
    """A user's expression (KPI `expr`/`filter`) as a fresh tree, parsed and checked at load."""
    return parse_expression(text).copy()


def user_sql(text: str) -> str:
    """A user's expression as the SQL statements embed: rendered from its parsed tree, never the text."""
    return render(parse_expression(text))


def _when(metric: Simple | Target, value: exp.Expr) -> exp.Expr:
    if not metric.filter:
        return value
    return exp.Case(ifs=[exp.If(this=user_tree(metric.filter), true=value)])


def not_null(value: exp.Expr) -> exp.Expr:
    return exp.Not(this=exp.Is(this=exp.paren(value), expression=exp.Null()))


def model_columns(metrics: list[Primitive], model: ModelDef, extra: tuple[str, ...] = ()) -> list[str]:
    used: set[str] = set(extra)
    for metric in metrics:
        if isinstance(metric, Simple):
            used |= {metric.time, *([metric.until] if metric.until else [])}
        for text in (getattr(metric, "expr", None), getattr(metric, "filter", None)):
            if text:
                used |= referenced_names(text)
    return [c for c in model.columns if c in used]


CREDIT_KEYS = "owner_id, team_id, in_totals"


def model_cte(name: str, model: ModelDef, columns: list[str], *, materialized: bool = False) -> str:
    """`m_<model>`: the model's rows with owner_id, team_id, credit_share, in_totals and only the columns
    some metric uses (team_id NULL when the model has none: it is looked up by date, see `_keyed`);
    `materialized` when several branches read it."""
    keys = [
        f"{model.owner} AS owner_id",
        f"{model.team or 'CAST(NULL AS TEXT)'} AS team_id",
        f"CAST({model.share or 1} AS DOUBLE) AS credit_share",
        f"{model.in_totals or 'TRUE'} AS in_totals",
    ]
    items = ", ".join(keys + [f"{model.column_sql(c)} AS {q(c)}" for c in columns])
    where = f" WHERE {model.where}" if model.where else ""
    return f"m_{name} AS {'MATERIALIZED ' if materialized else ''}(\n  SELECT {items}\n  FROM {model.from_}{where}\n)"


def _models_ctes(
    catalog: Catalog, metrics: list[Primitive], extra: tuple[str, ...] = (), *, materialized: bool = False
) -> list[str]:
    by_model: dict[str, list[Primitive]] = defaultdict(list)
    for metric in metrics:
        by_model[metric.model].append(metric)  # type: ignore[union-attr]
    return [
        model_cte(name, catalog.models[name], model_columns(group, catalog.models[name], extra),
                  materialized=materialized)
        for name, group in by_model.items()
    ]


def _create_as(table: str, ctes: list[str], select: str) -> Step:
    """`CREATE TEMP TABLE <table> AS WITH <ctes> <select>` as the step named after the table."""
    return Step(table, f"CREATE TEMP TABLE {table} AS\nWITH " + ",\n".join(ctes) + f"\n{select}")


def _union(branches: list[str]) -> str:
    return "\n  UNION ALL\n  ".join(branches)


# --- structure: calendar, teams, entities -------------------------------------------------------


def month_map_step() -> Step:
    """month start -> the month, quarter and year it belongs to (needs kpi_periods)."""
    return Step(
        "kpi_month_map",
        (
            "CREATE TEMP TABLE kpi_month_map AS\n"
            "SELECT m.period_start AS month, p.period\n"
            "FROM kpi_periods AS m JOIN kpi_periods AS p\n"
            "  ON m.grain = 'month' AND p.period_start <= m.period_start AND m.period_start < p.period_end"
        ),
    )


def structure_steps() -> list[Step]:
    """Team closure (team -> itself and every ancestor), entity list and rep/team membership."""
    tree = "CREATE TEMP TABLE kpi_team_tree AS\nWITH RECURSIVE " + ",\n".join(TEAM_TREE_CTES) + f"\n{TEAM_TREE}"
    entities = (
        "CREATE TEMP TABLE kpi_entities AS\n"
        "SELECT 'rep' AS entity_type, rep_id AS entity_id, team_id AS rank_group FROM spm.reps\n"
        "UNION ALL\n"
        "SELECT DISTINCT 'team', team_id, CAST(NULL AS TEXT) FROM kpi_team_tree\n"
        "UNION ALL\n"
        f"SELECT 'company', '{COMPANY_ID}', CAST(NULL AS TEXT)"
    )
    return [Step("kpi_team_tree", tree), Step("kpi_entities", entities)]


def entity_rows(source: str, columns: str, group: str) -> list[str]:
    """SELECTs of `source` (keyed by owner_id, team_id, in_totals) rolled up to each entity: the rep
    (all its rows), every team from the row's own up (in-totals rows), the company (in-totals rows).
    `columns` are the SELECT items after the entity; `group` the GROUP BY after the entity ('' = none)."""
    by = f" GROUP BY {{}}{', ' + group if group else ''}"
    return [
        f"SELECT 'rep' AS entity_type, f.owner_id AS entity_id, {columns}\n  FROM {source} AS f"
        f" WHERE f.owner_id IS NOT NULL" + by.format("f.owner_id"),
        f"SELECT 'team', t.ancestor_id, {columns}\n  FROM {source} AS f"
        " JOIN kpi_team_tree AS t ON t.team_id = f.team_id WHERE f.in_totals" + by.format("t.ancestor_id"),
        f"SELECT 'company', '{COMPANY_ID}', {columns}\n  FROM {source} AS f WHERE f.in_totals"
        + (f" GROUP BY {group}" if group else ""),
    ]


# --- facts --------------------------------------------------------------------------------------


def _additive(catalog: Catalog) -> list[Simple]:
    return [m for m in catalog.metrics if isinstance(m, Simple) and m.agg != "count_distinct"]


def _groups(catalog: Catalog, trailing: bool) -> dict[tuple[str, str, int | str | None], list[Simple]]:
    """Additive metrics by (model, time column, window or `until` column): each group is one scan of its
    model; `trailing` selects the metrics counted at period ends."""
    groups: dict[tuple[str, str, int | str | None], list[Simple]] = defaultdict(list)
    for metric in _additive(catalog):
        if metric.as_of_end == trailing:
            groups[(metric.model, metric.time, metric.trailing_days or metric.until)].append(metric)
    return groups


def _group_columns(catalog: Catalog, trailing: bool) -> list[str]:
    """The fact columns of the additive metrics that are (or are not) trailing windows."""
    return [c for g in _groups(catalog, trailing).values() for m in g for c in fact_columns(m)]


def contributions(metric: Simple) -> list[tuple[str, exp.Expr]]:
    """(column, per-row value) of an additive metric: what a row adds to its sums, weighted by its
    credit share (1 for rows of models without shares)."""
    share = exp.column("credit_share")
    value = exp.paren(user_tree(metric.expr)) if metric.expr else exp.Literal.number(1)
    weighted = _when(metric, exp.Mul(this=share.copy(), expression=value))
    if metric.agg == "sum":
        return [(metric.name, weighted)]
    conditions = [
        *([user_tree(metric.filter)] if metric.filter else []),
        *([not_null(user_tree(metric.expr))] if metric.expr else []),
    ]
    counted: exp.Expr = share
    if conditions:
        counted = exp.Case(ifs=[exp.If(this=exp.and_(*conditions), true=share)], default=exp.Literal.number(0))
    if metric.agg == "count":
        return [(metric.name, counted)]
    return [(metric.name + "__n", weighted), (metric.name + "__d", counted)]


def _keyed(
    model_name: str, model: ModelDef, time: str, parts: list[tuple[str, exp.Expr]], extra: tuple[str, ...] = ()
) -> str:
    """Rows of m_<model> summed per (owner_id, team_id, in_totals, `extra` columns, day of `time`).

    A model without its own team takes the owner's team on that day from spm.credit_membership;
    grouping by day first keeps that range join small (owners x days, not rows).
    """
    day = f"CAST({q(time)} AS DATE)"
    keys = ", ".join([CREDIT_KEYS, *map(q, extra)])
    sums = ", ".join(f"sum({render(value)}) AS {q(name)}" for name, value in parts)
    daily = (
        f"SELECT {keys}, {day} AS day, {sums}\n  FROM m_{model_name} WHERE {q(time)} IS NOT NULL\n"
        f"  GROUP BY {keys}, {day}"
    )
    if model.team:
        return daily
    names = ", ".join(f"d.{q(name)}" for name in [*extra, *(n for n, _ in parts)])
    return f"SELECT d.owner_id, m.team_id, d.in_totals, d.day, {names}\n  FROM ({daily}) AS d{team_on('d')}"


def team_on(alias: str) -> str:
    """LEFT JOIN of the membership `m` valid on `<alias>.day` for the rep `<alias>.owner_id`."""
    return (
        f"\n  LEFT JOIN spm.credit_membership AS m ON m.rep_id = {alias}.owner_id\n"
        f"    AND (m.valid_from IS NULL OR m.valid_from <= {alias}.day)\n"
        f"    AND (m.valid_to IS NULL OR {alias}.day < m.valid_to)"
    )


def _create(table: str, keys: str, columns: list[str]) -> str:
    return f"CREATE TEMP TABLE {table} ({keys}" + "".join(f", {q(c)} DOUBLE" for c in columns) + ")"


def owner_month_steps(catalog: Catalog) -> list[Step]:
    """Additive metrics per (owner, month): one INSERT per model, one branch per time column.

    A model with several time columns is MATERIALIZED once and read by each branch.
    """
    groups = _groups(catalog, False)
    columns = _group_columns(catalog, False)
    keys = "owner_id TEXT, team_id TEXT, in_totals BOOLEAN, month DATE"
    steps = [Step("kpi_owner_months", _create("kpi_owner_months", keys, columns))]
    by_model: dict[str, list[tuple[str, list[Simple]]]] = defaultdict(list)
    for (model, time, _), group in groups.items():
        by_model[model].append((time, group))
    for model, times in by_model.items():
        metrics = [m for _, group in times for m in group]
        own = [c for m in metrics for c in fact_columns(m)]
        cte = _models_ctes(catalog, list(metrics), materialized=len(times) > 1)[0]
        branches = []
        for time, group in times:
            parts = [c for m in group for c in contributions(m)]
            mine = {name for name, _ in parts}
            bucket = "CAST(date_trunc('month', day) AS DATE)"
            sums = ",\n    ".join(f"sum({q(c)}) AS {q(c)}" if c in mine else f"{NULL} AS {q(c)}" for c in own)
            keyed = _keyed(model, catalog.models[model], time, parts)
            branches.append(
                f"SELECT {CREDIT_KEYS}, {bucket} AS month,\n    {sums}\n  FROM ({keyed}) AS k\n"
                f"  GROUP BY {CREDIT_KEYS}, {bucket}"
            )
        steps.append(
            Step(
                f"kpi_owner_months:{model}",
                f"INSERT INTO kpi_owner_months ({CREDIT_KEYS}, month, {', '.join(q(c) for c in own)})\n"
                f"WITH {cte}\n{_union(branches)}",
            )
        )
    return steps


def _boundary(day: str) -> str:
    """The first month start after `day`: the first period end a row at `day` can count for."""
    return f"CAST(date_trunc('month', {day}) + INTERVAL 1 MONTH AS DATE)"


def owner_trailing_steps(catalog: Catalog) -> list[Step]:
    """Metrics counted at period ends as +value / -value at month boundaries (a running sum reads them back).

    A row at day d counts for period ends E with d < E <= d + window: it enters at the first month
    start after d and leaves at the first month start after d + window. With `until` u instead of a
    window it counts for d < E <= u (rows with u <= d never count; a NULL u never leaves).
    """
    groups = _groups(catalog, True)
    columns = _group_columns(catalog, True)
    keys = "owner_id TEXT, team_id TEXT, in_totals BOOLEAN, boundary DATE"
    steps = [Step("kpi_owner_trailing", _create("kpi_owner_trailing", keys, columns))]
    for (model, time, window), group in groups.items():
        parts = [c for m in group for c in contributions(m)]
        names = ", ".join(q(n) for n, _ in parts)
        sums = ", ".join(f"sum({q(n)}) AS {q(n)}" for n, _ in parts)
        negated = ", ".join(f"-{q(n)}" for n, _ in parts)
        if isinstance(window, int):
            keyed = _keyed(model, catalog.models[model], time, parts)
            leave = f"SELECT {CREDIT_KEYS}, {_boundary(f'day + {window}')}, {negated} FROM rows_"
        else:
            assert window is not None  # trailing metrics have a window or an `until` column (_groups)
            until = f"CAST({q(window)} AS DATE)"
            keyed = f"SELECT * FROM ({_keyed(model, catalog.models[model], time, parts, (window,))}) AS k " + (
                f"WHERE {until} IS NULL OR {until} > day"
            )
            leave = f"SELECT {CREDIT_KEYS}, {_boundary(until)}, {negated} FROM rows_ WHERE {until} IS NOT NULL"
        steps.append(
            Step(
                f"kpi_owner_trailing:{model}.{time}.{window}",
                f"INSERT INTO kpi_owner_trailing ({CREDIT_KEYS}, boundary, {names})\n"
                f"WITH {_models_ctes(catalog, list(group))[0]},\n"
                f"rows_ AS (\n  {keyed}\n),\n"
                f"deltas AS (\n  SELECT {CREDIT_KEYS}, {_boundary('day')} AS boundary, {names} FROM rows_\n"
                f"  UNION ALL\n  {leave}\n)\n"
                f"SELECT {CREDIT_KEYS}, boundary, {sums} FROM deltas GROUP BY {CREDIT_KEYS}, boundary",
            )
        )
    return steps


def _distinct(catalog: Catalog) -> list[Simple]:
    return [m for m in catalog.metrics if isinstance(m, Simple) and m.agg == "count_distinct"]


def distinct_rows_steps(catalog: Catalog) -> list[Step]:
    """count_distinct metrics: the distinct (entity, key, day) rows, counted once periods are known."""
    steps = [
        Step(
            "kpi_distinct_rows",
            "CREATE TEMP TABLE kpi_distinct_rows (metric TEXT, entity_type TEXT, entity_id TEXT, k TEXT, day DATE)",
        )
    ]
    for metric in _distinct(catalog):
        keep = f" AND ({user_sql(metric.filter)})" if metric.filter else ""
        assert metric.expr is not None  # required for count_distinct (checked at load)
        key = user_sql(metric.expr)
        model = catalog.models[metric.model]
        team, lookup = ("r.team_id", "") if model.team else ("m.team_id", team_on("r"))
        branches = entity_rows("teamed", "f.k, f.day", "f.k, f.day")
        steps.append(
            Step(
                f"kpi_distinct_rows:{metric.name}",
                "INSERT INTO kpi_distinct_rows (metric, entity_type, entity_id, k, day)\n"
                f"WITH {_models_ctes(catalog, [metric])[0]},\n"
                f"rows_ AS (\n  SELECT DISTINCT {CREDIT_KEYS}, CAST(({key}) AS TEXT) AS k, "
                f"CAST({q(metric.time)} AS DATE) AS day\n"
                f"  FROM m_{metric.model} WHERE {q(metric.time)} IS NOT NULL AND ({key}) IS NOT NULL{keep}\n"
                "),\n"
                f"teamed AS (\n  SELECT r.owner_id, {team} AS team_id, r.in_totals, r.k, r.day\n"
                f"  FROM rows_ AS r{lookup}\n)\n"
                f"SELECT DISTINCT '{metric.name}', entity_type, entity_id, k, day FROM (\n  {_union(branches)}\n) AS e",
            )
        )
    return steps


def _running(source: str, keys: list[str], columns: list[str]) -> list[str]:
    """CTEs `net` and `running`: deltas folded onto the calendar's period ends, then summed up to each end.

    The running sums are rounded to 9 decimals (through DECIMAL, which both stores round alike): split
    shares entering and leaving cancel only up to the summation order (0.3 + 0.3 + 0.4 - 1 can be 1e-17),
    and a stock of 1e-17 open deals would turn an undefined share into 0 or 2 by the order rows arrived in."""
    key_list = ", ".join(keys)
    sums = ", ".join(f"sum({q(c)}) AS {q(c)}" for c in columns)
    running = ", ".join(
        f"CAST(CAST(sum(coalesce(n.{q(c)}, 0)) OVER (PARTITION BY {', '.join('o.' + k for k in keys)} "
        f"ORDER BY x.period_end ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS DECIMAL(38, 9)) AS DOUBLE) "
        f"AS {q(c)}"
        for c in columns
    )
    on = " AND ".join(f"n.{k} IS NOT DISTINCT FROM o.{k}" for k in keys)
    folded = "greatest(boundary, (SELECT min(period_end) FROM kpi_periods))"  # earlier deltas count from the start
    return [
        "ends AS (SELECT DISTINCT period_end FROM kpi_periods)",
        f"net AS (\n  SELECT {key_list}, {folded} AS boundary, {sums}\n"
        f"  FROM {source} GROUP BY {key_list}, {folded}\n)",
        f"running AS (\n  SELECT {', '.join('o.' + k for k in keys)}, x.period_end, {running}\n"
        f"  FROM (SELECT DISTINCT {key_list} FROM net) AS o CROSS JOIN ends AS x\n"
        f"  LEFT JOIN net AS n ON {on} AND n.boundary = x.period_end\n)",
    ]


def owner_facts_step(catalog: Catalog) -> Step:
    """Additive metrics per (owner, period): months summed into periods, trailing windows read at period ends."""
    month_cols, trailing_cols = _group_columns(catalog, False), _group_columns(catalog, True)
    columns = month_cols + trailing_cols
    keys = CREDIT_KEYS.split(", ")
    ctes = _running("kpi_owner_trailing", keys, trailing_cols) if trailing_cols else []

    def items(own: list[str], alias: str) -> str:
        return ", ".join(f"{alias}.{q(c)}" if c in own else f"{NULL} AS {q(c)}" for c in columns)

    def keyed(alias: str) -> str:
        return ", ".join(f"{alias}.{k}" for k in keys)

    branches = [
        f"SELECT {keyed('b')}, p.period, {items(month_cols, 'b')}\n"
        "  FROM kpi_owner_months AS b JOIN kpi_month_map AS p ON p.month = b.month"
    ]
    if trailing_cols:
        branches.append(
            f"SELECT {keyed('r')}, p.period, {items(trailing_cols, 'r')}\n"
            "  FROM running AS r JOIN kpi_periods AS p ON p.period_end = r.period_end"
        )
    ctes.append(f"facts AS (\n  {_union(branches)}\n)")
    sums = ", ".join(f"sum({q(c)}) AS {q(c)}" for c in columns)
    return _create_as(
        "kpi_owner_facts", ctes, f"SELECT {CREDIT_KEYS}, period, {sums}\nFROM facts GROUP BY {CREDIT_KEYS}, period"
    )


def target_ctes(targets: list[Target], keys: dict[str, str] | None = None, unit: bool = False) -> list[str]:
    """CTEs (after the targets' m_<model> CTEs) ending in `target_contributions`: every share of a target
    row an entity's target is made of, per month. A rep's row counts for the teams it belonged to by the
    days of each membership; a team's explicit row for the team and those above it. `replaced_at` is not
    NULL where the nearest team with an explicit row for that target and month (that many levels above
    `from_team`) replaces the share: the KPI sums the rows where it is NULL, explain names the others.

    `keys` (alias -> SQL over the model's columns) are carried through to name the rows; with `unit`
    a row's amount is 1 (its shares are then the fractions of the row that count)."""
    extra = list(keys or {})

    def k(alias: str) -> str:
        return "".join(f", {alias}.{c}" for c in extra)

    def amount(target: Target) -> str:
        value = user_tree(target.expr)
        if unit:
            value = exp.Case(ifs=[exp.If(this=not_null(value), true=exp.Literal.number("1.0"))])
        return render(value)

    rows = _union(
        [
            f"SELECT '{t.name}' AS target, owner_id, period_start, period_end, {amount(t)} AS amount"
            + "".join(f", {sql} AS {alias}" for alias, sql in (keys or {}).items())
            + f" FROM m_{t.model}" + (f" WHERE {user_sql(t.filter)}" if t.filter else "")
            for t in targets
        ]
    )
    link = "n.team_id = {x}.team_id AND n.target = {x}.target AND n.month = {x}.month"
    same = "".join(f" AND b.{c} IS NOT DISTINCT FROM a.{c}" for c in extra)
    return [
        f"target_rows AS (\n  {rows}\n)",
        "monthly AS (\n"
        f"  SELECT r.target, r.owner_id, m.period_start AS month{k('r')},\n"
        "    greatest(r.period_start, m.period_start) AS lo, least(r.period_end, m.period_end) AS hi,\n"
        "    CAST(r.amount AS DOUBLE)\n"
        "      * (least(r.period_end, m.period_end) - greatest(r.period_start, m.period_start))\n"
        "      / (r.period_end - r.period_start) AS amount\n"
        "  FROM target_rows AS r JOIN kpi_periods AS m\n"
        "    ON m.grain = 'month' AND m.period_start < r.period_end AND r.period_start < m.period_end\n"
        "  WHERE r.period_end > r.period_start AND r.amount IS NOT NULL\n)",
        "nodes AS (SELECT DISTINCT team_id FROM kpi_team_tree)",
        f"team_rows AS (\n  SELECT target, owner_id AS team_id, month{k('monthly')}, sum(amount) AS amount\n"
        "  FROM monthly\n"
        f"  WHERE owner_id IN (SELECT team_id FROM nodes) GROUP BY target, owner_id, month{k('monthly')}\n)",
        # a rep's row goes to the teams it belonged to, by days inside each membership; the rest to no team
        f"rep_monthly AS (\n  SELECT mo.target, r.rep_id, mo.month{k('mo')}, mo.lo, mo.hi, mo.amount\n"
        "  FROM monthly AS mo LEFT JOIN spm.reps AS r ON r.rep_id = mo.owner_id\n"
        "  WHERE mo.owner_id IS NULL OR mo.owner_id NOT IN (SELECT team_id FROM nodes)\n)",
        f"placed AS (\n  SELECT p.target, p.rep_id, m.team_id, p.month{k('p')},\n"
        "    p.amount * (least(p.hi, coalesce(m.valid_to, p.hi)) - greatest(p.lo, coalesce(m.valid_from, p.lo)))\n"
        "      / (p.hi - p.lo) AS amount\n"
        "  FROM rep_monthly AS p JOIN spm.credit_membership AS m ON m.rep_id = p.rep_id\n"
        "    AND (m.valid_from IS NULL OR m.valid_from < p.hi) AND (m.valid_to IS NULL OR p.lo < m.valid_to)\n)",
        f"unplaced AS (\n  SELECT a.target, a.rep_id, CAST(NULL AS TEXT) AS team_id, a.month{k('a')},\n"
        "    a.amount - coalesce(b.amount, 0) AS amount\n"
        f"  FROM (SELECT target, rep_id, month{k('rep_monthly')}, sum(amount) AS amount FROM rep_monthly"
        f" GROUP BY target, rep_id, month{k('rep_monthly')}) AS a\n"
        f"  LEFT JOIN (SELECT target, rep_id, month{k('placed')}, sum(amount) AS amount FROM placed"
        f" GROUP BY target, rep_id, month{k('placed')}) AS b\n"
        f"    ON b.target = a.target AND b.rep_id = a.rep_id AND b.month = a.month{same}\n)",
        f"rep_rows AS (\n  SELECT target, rep_id, team_id, month{k('x')}, sum(amount) AS amount FROM (\n"
        "    SELECT * FROM placed UNION ALL SELECT * FROM unplaced WHERE abs(amount) > 1e-9\n"
        f"  ) AS x GROUP BY target, rep_id, team_id, month{k('x')}\n)",
        "nearest AS (\n  SELECT c.team_id, e.target, e.month, min(c.distance) AS distance\n"
        "  FROM kpi_team_tree AS c JOIN team_rows AS e ON e.team_id = c.ancestor_id\n"
        "  GROUP BY c.team_id, e.target, e.month\n)",
        "nearest_above AS (\n  SELECT c.team_id, e.target, e.month, min(c.distance) AS distance\n"
        "  FROM kpi_team_tree AS c JOIN team_rows AS e ON e.team_id = c.ancestor_id\n"
        "  WHERE c.distance > 0 GROUP BY c.team_id, e.target, e.month\n)",
        "target_contributions AS (\n  "
        + _union(
            [
                "SELECT 'rep' AS entity_type, rep_id AS entity_id, target, month, amount, FALSE AS team_row, "
                f"team_id AS from_team, CAST(NULL AS INTEGER) AS replaced_at{k('rep_rows')} FROM rep_rows "
                "WHERE rep_id IS NOT NULL",
                "SELECT 'team', c.ancestor_id, r.target, r.month, r.amount, FALSE, r.team_id,\n"
                f"    CASE WHEN c.distance >= n.distance THEN n.distance END{k('r')}\n"
                "  FROM rep_rows AS r JOIN kpi_team_tree AS c ON c.team_id = r.team_id\n"
                f"  LEFT JOIN nearest AS n ON {link.format(x='r')}",
                "SELECT 'team', c.ancestor_id, t.target, t.month, t.amount, TRUE, t.team_id,\n"
                f"    CASE WHEN c.distance >= n.distance THEN n.distance END{k('t')}\n"
                "  FROM team_rows AS t JOIN kpi_team_tree AS c ON c.team_id = t.team_id\n"
                f"  LEFT JOIN nearest_above AS n ON {link.format(x='t')}",
                f"SELECT 'company', '{COMPANY_ID}', r.target, r.month, r.amount, FALSE, r.team_id, n.distance{k('r')}\n"
                f"  FROM rep_rows AS r LEFT JOIN nearest AS n ON {link.format(x='r')}",
                f"SELECT 'company', '{COMPANY_ID}', t.target, t.month, t.amount, TRUE, t.team_id, n.distance{k('t')}\n"
                f"  FROM team_rows AS t LEFT JOIN nearest_above AS n ON {link.format(x='t')}",
            ]
        )
        + "\n)",
    ]


def target_facts_step(catalog: Catalog) -> Step:
    """Targets per entity and period: rows prorated by days per month; explicit team rows replace below."""
    targets = [m for m in catalog.metrics if isinstance(m, Target)]
    if not targets:
        return Step(
            "kpi_target_facts",
            "CREATE TEMP TABLE kpi_target_facts AS\n"
            "SELECT entity_type, entity_id, period FROM kpi_entities CROSS JOIN kpi_periods WHERE FALSE",
        )
    ctes = _models_ctes(catalog, list(targets), extra=("period_start", "period_end")) + target_ctes(targets)
    # rounded to micro-units: prorating by days leaves float noise (14999.999999999998 for 15000)
    pivots = ", ".join(
        f"CAST(round(CAST(sum(CASE WHEN c.target = '{t.name}' THEN c.amount END) AS DECIMAL(38, 9)), 6) AS DOUBLE) "
        f"AS {q(t.name)}"
        for t in targets
    )
    select = (
        f"SELECT c.entity_type, c.entity_id, p.period, {pivots}\n"
        "FROM target_contributions AS c JOIN kpi_month_map AS p ON p.month = c.month\n"
        "WHERE c.replaced_at IS NULL\n"
        "GROUP BY c.entity_type, c.entity_id, p.period"
    )
    return _create_as("kpi_target_facts", ctes, select)


def distinct_facts_step(catalog: Catalog) -> Step:
    """count_distinct metrics per entity and period, from kpi_distinct_rows.

    A trailing window is counted without expanding rows over periods: for each (entity, key) the
    distinct days d1 < d2 < ... each cover the period ends E in (d_i, min(d_i+1, d_i + window)],
    disjoint by construction, so +1/-1 at month boundaries and a running sum give the count per end.
    """
    metrics = _distinct(catalog)
    keys = ["metric", "entity_type", "entity_id"]
    branches = []
    ctes: list[str] = []
    trailing = [m for m in metrics if m.trailing_days]
    if trailing:
        windows = " ".join(f"WHEN '{m.name}' THEN {m.trailing_days}" for m in trailing)
        ctes += [
            "spans AS (\n  SELECT metric, entity_type, entity_id, day,\n"
            f"    least(lead(day) OVER (PARTITION BY metric, entity_type, entity_id, k ORDER BY day), "
            f"day + CASE metric {windows} END) AS stop\n"
            f"  FROM kpi_distinct_rows WHERE metric IN ({', '.join(repr(m.name) for m in trailing)})\n)",
            f"deltas AS (\n  SELECT metric, entity_type, entity_id, {_boundary('day')} AS boundary, 1 AS n FROM spans\n"
            f"  UNION ALL\n  SELECT metric, entity_type, entity_id, {_boundary('stop')}, -1 FROM spans\n)",
            *_running("deltas", keys, ["n"]),
        ]
        branches.append(
            "SELECT r.metric, r.entity_type, r.entity_id, p.period, r.n\n"
            "  FROM running AS r JOIN kpi_periods AS p ON p.period_end = r.period_end"
        )
    in_period = [m for m in metrics if not m.trailing_days]
    if in_period:
        branches.append(
            "SELECT d.metric, d.entity_type, d.entity_id, p.period, count(DISTINCT d.k) AS n\n"
            "  FROM kpi_distinct_rows AS d\n"
            "  JOIN kpi_month_map AS p ON p.month = CAST(date_trunc('month', d.day) AS DATE)\n"
            f"  WHERE d.metric IN ({', '.join(repr(m.name) for m in in_period)})\n"
            "  GROUP BY d.metric, d.entity_type, d.entity_id, p.period"
        )
    if not branches:
        branches.append(
            "SELECT metric, entity_type, entity_id, CAST(NULL AS TEXT) AS period, 0 AS n "
            "FROM kpi_distinct_rows WHERE FALSE"
        )
    ctes.append(f"counts AS (\n  {_union(branches)}\n)")
    pivots = "".join(f", max(CASE WHEN metric = '{m.name}' THEN n END) AS {q(m.name)}" for m in metrics)
    select = f"SELECT entity_type, entity_id, period{pivots}\nFROM counts GROUP BY entity_type, entity_id, period"
    return _create_as("kpi_distinct_facts", ctes, select)


def entity_facts_step(catalog: Catalog) -> Step:
    """The complete grid entity x period, every fact column (missing = NULL, made 0 later)."""
    additive = [c for m in _additive(catalog) for c in fact_columns(m)]
    sums = ", ".join(f"sum(f.{q(c)}) AS {q(c)}" for c in additive)
    targets = [m.name for m in catalog.metrics if isinstance(m, Target)]
    distinct = [m.name for m in _distinct(catalog)]
    items = [f"a.{q(c)}" for c in additive] + [f"t.{q(c)}" for c in targets] + [f"d.{q(c)}" for c in distinct]
    on = "{x}.entity_type = e.entity_type AND {x}.entity_id = e.entity_id AND {x}.period = p.period"
    sql = (
        "CREATE TEMP TABLE kpi_entity_facts AS\n"
        f"WITH additive AS (\n  {_union(entity_rows('kpi_owner_facts', f'f.period, {sums}', 'f.period'))}\n)\n"
        f"SELECT e.entity_type, e.entity_id, e.rank_group, p.period, {', '.join(items)}\n"
        "FROM kpi_entities AS e CROSS JOIN kpi_periods AS p\n"
        f"LEFT JOIN additive AS a ON {on.format(x='a')}\n"
        f"LEFT JOIN kpi_target_facts AS t ON {on.format(x='t')}\n"
        f"LEFT JOIN kpi_distinct_facts AS d ON {on.format(x='d')}"
    )
    return Step("kpi_entity_facts", sql)


# --- metric values --------------------------------------------------------------------------------


def _over_metrics(text: str) -> str:
    """An expression over metric names, with every name quoted (names may be SQL keywords)."""
    return parse_expression(text).sql(dialect="duckdb", identify=True)


def _value_columns(metric: Primitive) -> list[str]:
    """SELECT items of a metric's value (and numerator/denominator where they differ from it)."""
    name = q(metric.name)
    if isinstance(metric, Simple | Target):
        if isinstance(metric, Simple) and metric.agg == "mean":
            n, d = q(metric.name + "__n"), q(metric.name + "__d")
            return [
                f"CAST(coalesce({n}, 0) AS DOUBLE) AS {n}",
                f"CAST(coalesce({d}, 0) AS DOUBLE) AS {d}",
                f"CASE WHEN coalesce({d}, 0) = 0 THEN NULL ELSE CAST({n} AS DOUBLE) / {d} END AS {name}",
            ]
        return [f"CAST(coalesce({name}, 0) AS DOUBLE) AS {name}"]
    if isinstance(metric, Ratio):
        num, den = _over_metrics(metric.numerator), _over_metrics(metric.denominator)
        guard = f"({den}) > 0" if metric.positive_denominator else f"({den}) <> 0"
        return [
            f"CAST({num} AS DOUBLE) AS {q(metric.name + '__n')}",
            f"CAST({den} AS DOUBLE) AS {q(metric.name + '__d')}",
            f"CASE WHEN {guard} THEN CAST({num} AS DOUBLE) / ({den}) END AS {name}",
        ]
    if isinstance(metric, Derived):
        return [f"CAST({_over_metrics(metric.expr)} AS DOUBLE) AS {name}"]
    assert isinstance(metric, Rank)
    of = q(metric.of)
    ranked = f"entity_type = 'rep' AND rank_group IS NOT NULL AND {of} IS NOT NULL"
    window = f"PARTITION BY entity_type, period, rank_group, {of} IS NULL ORDER BY {of} {metric.order.upper()}"
    return [
        f"CASE WHEN {ranked} THEN CAST(rank() OVER ({window}) AS DOUBLE) END AS {name}",
        f"CASE WHEN entity_type = 'rep' AND rank_group IS NOT NULL "
        f"THEN CAST(count({of}) OVER (PARTITION BY entity_type, period, rank_group) AS DOUBLE) END "
        f"AS {q(metric.name + '__d')}",
    ]


def _layers(metrics: list[Primitive]) -> list[list[Primitive]]:
    depth: dict[str, int] = {}
    for metric in metrics:  # dependency order
        deps = dependencies(metric)
        depth[metric.name] = 1 + max((depth[d] for d in deps), default=-1) if deps else 0
    layers: list[list[Primitive]] = [[] for _ in range(max(depth.values(), default=0) + 1)]
    for metric in metrics:
        layers[depth[metric.name]].append(metric)
    return layers


def layer_ctes(metrics: list[Primitive], keys: str, source: str) -> list[str]:
    """CTEs l0..lN over `source`: each adds the value columns of the metrics whose inputs are ready."""
    ctes = []
    for index, layer in enumerate(_layers(metrics)):
        items = ",\n    ".join(c for m in layer for c in _value_columns(m))
        if index == 0:
            ctes.append(f"l0 AS (\n  SELECT {keys},\n    {items}\n  FROM {source}\n)")
        else:
            ctes.append(f"l{index} AS (\n  SELECT l{index - 1}.*,\n    {items}\n  FROM l{index - 1}\n)")
    return ctes


def wide_step(catalog: Catalog) -> Step:
    """One row per entity and period, one column per metric (value, and numerator/denominator)."""
    ctes = layer_ctes(catalog.metrics, "entity_type, entity_id, rank_group, period", "kpi_entity_facts")
    return _create_as("kpi_wide", ctes, f"SELECT * FROM l{len(ctes) - 1}")


BREAKDOWN_KEYS = "entity_type, entity_id, period, metric, value, numerator, denominator, dimension, dimension_value"


def _sums(alias: str, columns: list[str]) -> str:
    return ", ".join(f"sum({alias}.{q(c)}) AS {q(c)}" for c in columns)


def breakdown_step(catalog: Catalog, dimension: str) -> Step:
    """Metrics broken down by a column of their model: the additive facts keyed by the column's value as
    well, rolled up to entities and periods like the totals, ratios over those.

    Only slices with something in them are kept (a numerator or denominator other than 0), so a
    breakdown costs rows where the data has them, not entities x periods x values.
    """
    metrics = catalog.broken_down(dimension)
    simple = [m for m in metrics if isinstance(m, Simple)]
    columns = [c for m in simple for c in fact_columns(m)]
    groups: dict[tuple[str, str], list[Simple]] = defaultdict(list)
    for additive in simple:
        groups[(additive.model, additive.time)].append(additive)
    branches = []
    for (model, time), group in groups.items():
        parts = [c for m in group for c in contributions(m)]
        mine = {name for name, _ in parts}
        values = ", ".join(f"k.{q(c)}" if c in mine else f"{NULL} AS {q(c)}" for c in columns)
        keyed = _keyed(model, catalog.models[model], time, parts, (dimension,))
        branches.append(
            f"SELECT k.owner_id, k.team_id, k.in_totals, CAST(k.{q(dimension)} AS TEXT) AS dimension_value, "
            f"k.day, {values}\n  FROM ({keyed}) AS k"
        )
    keys = "r.owner_id, r.team_id, r.in_totals, r.dimension_value, p.period"
    rolled_up = entity_rows(
        "owner_periods", f"f.period, f.dimension_value, {_sums('f', columns)}", "f.period, f.dimension_value"
    )
    ctes = _models_ctes(catalog, list(simple), extra=(dimension,)) + [
        f"rows_ AS (\n  {_union(branches)}\n)",
        f"owner_periods AS (\n  SELECT {keys}, {_sums('r', columns)}\n  FROM rows_ AS r\n"
        "  JOIN kpi_month_map AS p ON p.month = CAST(date_trunc('month', r.day) AS DATE)\n"
        f"  GROUP BY {keys}\n)",
        f"facts AS (\n  {_union(rolled_up)}\n)",
        *layer_ctes(metrics, "entity_type, entity_id, period, dimension_value", "facts"),
    ]
    last = f"l{len(_layers(metrics)) - 1}"
    unpivot = []
    for metric in metrics:
        if dimension in metric.breakdowns and not metric.hidden:
            numerator, denominator = _parts(metric)
            unpivot.append(
                f"SELECT entity_type, entity_id, period, '{metric.name}' AS metric, {q(metric.name)} AS value, "
                f"{numerator} AS numerator, {denominator} AS denominator, '{dimension}' AS dimension, "
                f"dimension_value FROM {last}"
            )
    return Step(
        f"kpi_breakdowns:{dimension}",
        f"INSERT INTO kpi_breakdowns ({BREAKDOWN_KEYS})\nWITH "
        + ",\n".join(ctes)
        + f"\nSELECT {BREAKDOWN_KEYS} FROM (\n  {_union(unpivot)}\n) AS u\n"
        "WHERE coalesce(u.numerator, 0) <> 0 OR coalesce(u.denominator, 0) <> 0",
    )


def breakdown_steps(catalog: Catalog) -> list[Step]:
    """The table of breakdown values, then one INSERT per dimension."""
    create = Step(
        "kpi_breakdowns",
        "CREATE TEMP TABLE kpi_breakdowns (entity_type TEXT, entity_id TEXT, period TEXT, metric TEXT, "
        "value DOUBLE, numerator DOUBLE, denominator DOUBLE, dimension TEXT, dimension_value TEXT)",
    )
    return [create, *(breakdown_step(catalog, d) for d in catalog.dimensions)]


def _parts(metric: Primitive) -> tuple[str, str]:
    """(numerator, denominator) columns of a metric in kpi_wide."""
    if isinstance(metric, Ratio) or (isinstance(metric, Simple) and metric.agg == "mean"):
        return q(metric.name + "__n"), q(metric.name + "__d")
    if isinstance(metric, Rank):
        return NULL, q(metric.name + "__d")
    return q(metric.name), NULL


def insert_step(catalog: Catalog, breakdowns: bool = True) -> Step:
    """Unpivot the visible metrics into spm.kpi_values, totals with a NULL dimension, then the breakdowns
    (parameters: computed_at, run_id)."""
    branches = []
    for metric in catalog.visible:
        numerator, denominator = _parts(metric)
        where = " WHERE entity_type = 'rep'" if isinstance(metric, Rank) else ""
        branches.append(
            f"SELECT entity_type, entity_id, period, '{metric.name}' AS metric, {q(metric.name)} AS value, "
            f"{numerator} AS numerator, {denominator} AS denominator, CAST(NULL AS TEXT) AS dimension, "
            f"CAST(NULL AS TEXT) AS dimension_value FROM kpi_wide{where}"
        )
    if breakdowns and catalog.dimensions:
        branches.append(f"SELECT {BREAKDOWN_KEYS} FROM kpi_breakdowns")
    sql = (
        f"INSERT INTO spm.kpi_values ({KPI_COLUMNS})\n"
        "SELECT u.entity_type, u.entity_id, u.period, u.metric, u.value, u.numerator, u.denominator,\n"
        "  CAST(? AS TIMESTAMP), CAST(? AS TEXT), u.dimension, u.dimension_value\n"
        f"FROM (\n  {_union(branches)}\n) AS u"
    )
    return Step("insert_kpi_values", sql)


# What bounds the calendar: the months that hold additive facts.
RANGE_SQL = "SELECT min(month), max(month) FROM kpi_owner_months"


@dataclass(frozen=True)
class Plan:
    """`prepare` needs no calendar; then kpi_periods is loaded (covering RANGE_SQL), `compute` runs,
    and `insert` writes spm.kpi_values inside the caller's transaction."""

    prepare: list[Step]
    compute: list[Step]
    insert: Step

    @property
    def steps(self) -> list[Step]:
        return [*self.prepare, *self.compute, self.insert]


def compile_plan(catalog: Catalog, breakdowns: bool = True) -> Plan:
    """Every statement of a metrics run, in order (`breakdowns=False`: totals only)."""
    return Plan(
        prepare=[
            *structure_steps(),
            *owner_month_steps(catalog),
            *owner_trailing_steps(catalog),
            *distinct_rows_steps(catalog),
        ],
        compute=[
            month_map_step(),
            owner_facts_step(catalog),
            target_facts_step(catalog),
            distinct_facts_step(catalog),
            entity_facts_step(catalog),
            wide_step(catalog),
            *(breakdown_steps(catalog) if breakdowns and catalog.dimensions else []),
        ],
        insert=insert_step(catalog, breakdowns),
    )
