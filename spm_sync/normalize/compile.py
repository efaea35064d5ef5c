"""Compile one mapping part to a SELECT over a source's raw tables (pure: catalog and types come in).

A TIMESTAMPTZ raw column (Salesforce datetimes as dlt stores them) reads as naive UTC in expressions,
the store's convention, so `COALESCE(activity_date, created_date)` mixes types without per-row
time zone work.

Why columns are resolved here: dlt only creates a column once some record had a value for it (a
HubSpot property nobody filled, a custom field on an empty org), so a missing column reads as NULL
with a note, rather than failing the whole rebuild.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping as AnyMapping
from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp

from spm_sync.normalize.helpers import coerce, expand_helpers, sql_literal, utc_naive
from spm_sync.normalize.model import Mapping, Part, ValueMap
from spm_sync.normalize.targets import TARGETS, Target

SRC = "src"
# Raw columns per table of one dataset: {table: {column: store type}}.
Catalog = AnyMapping[str, AnyMapping[str, str]]
# Bind a SELECT without running it: [(column name, store type)].
Describe = Callable[[str], list[tuple[str, str]]]


@dataclass(frozen=True)
class SourceRef:
    """Which source a part reads: its name (ids are prefixed with it), config order, raw dataset, and
    the store backend (the SQL dialect of a few helpers)."""

    name: str
    order: int
    dataset: str
    backend: str = "duckdb"


@dataclass
class Compiled:
    sql: str | None
    notes: list[str] = field(default_factory=list)


def _field_text(value: str | ValueMap) -> str:
    """A value map becomes a CASE over the expression's text form (booleans read 'true'/'false')."""
    if not isinstance(value, ValueMap):
        return value
    whens = " ".join(
        f"WHEN {sql_literal(crm)} THEN {sql_literal(ours) if ours is not None else 'NULL'}"
        for crm, ours in value.map.items()
    )
    default = sql_literal(value.default) if value.default is not None else "NULL"
    return f"CASE CAST(({value.expr}) AS VARCHAR) {whens} ELSE {default} END"


class _Resolver:
    """Qualifies columns with their table alias; unknown ones become NULL (noted once each)."""

    def __init__(self, part: Part, table: str, catalog: Catalog, where: str, backend: str) -> None:
        self.backend = backend
        self.aliases: dict[str, AnyMapping[str, str] | None] = {SRC: catalog.get(table)}
        self.tables = {SRC: table}
        for join in part.joins:
            self.aliases[join.alias] = catalog.get(join.table)
            self.tables[join.alias] = join.table
        self.where = where
        self.notes: list[str] = []

    def _note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def __call__(self, node: exp.Expression) -> exp.Expression:
        if not isinstance(node, exp.Column) or isinstance(node.this, exp.Star):
            return node
        alias = (node.table or SRC).lower()
        name = node.name.lower()
        if alias not in self.aliases:
            self._note(f"{self.where}: unknown table alias {alias!r} (column {node.sql()} reads NULL)")
            return exp.Null()
        columns = self.aliases[alias]
        if columns is None:
            self._note(f"{self.where}: raw table {self.tables[alias]} not loaded yet ({node.sql()} reads NULL)")
            return exp.Null()
        if name not in columns:
            self._note(f"{self.where}: column {self.tables[alias]}.{name} not in raw data (reads NULL)")
            return exp.Null()
        column = exp.column(name, table=alias, quoted=True)
        if columns[name].startswith("TIMESTAMP WITH TIME ZONE"):
            return utc_naive(column, self.backend)
        return column


def _expression(text: str, table: str, stage: str | None, resolve: _Resolver) -> exp.Expression:
    text = text.replace("{from}", table)
    if stage is not None:
        text = text.replace("{stage}", stage)
    return expand_helpers(sqlglot.parse_one(text, read="duckdb")).transform(resolve)


def _from_clause(part: Part, source: SourceRef, table: str, stage: str | None, resolve: _Resolver) -> str:
    sql = f"FROM {source.dataset}.{table} AS {SRC}"
    for join in part.joins:
        if resolve.aliases.get(join.alias) is None:
            continue  # the joined table is not loaded: its columns already read NULL
        on = _expression(join.on, table, stage, resolve).sql(dialect="duckdb")
        sql += f"\nLEFT JOIN {source.dataset}.{join.table} AS {join.alias} ON {on}"
    if part.where:
        sql += "\nWHERE " + _expression(part.where, table, stage, resolve).sql(dialect="duckdb")
    return sql


def _stage_select(
    part: Part, target: Target, source: SourceRef, stage: str | None, catalog: Catalog, describe: Describe, where: str
) -> tuple[str, list[str]]:
    table = part.from_
    resolve = _Resolver(part, table, catalog, where, source.backend)
    given = {
        column: _expression(_field_text(value), table, stage, resolve) for column, value in part.fields.items()
    }
    tail = _from_clause(part, source, table, stage, resolve)
    probe = ", ".join(f"{e.sql(dialect='duckdb')} AS {c}" for c, e in given.items())
    types = dict(describe(f"SELECT {probe}\n{tail}")) if given else {}
    items = [f"{sql_literal(source.name)} AS source", f"{source.order} AS src_order"]
    for column, sql_type in target.columns.items():
        if column in given:
            typed = coerce(given[column], types.get(column, "NULL"), sql_type)
        else:
            typed = exp.Cast(this=exp.Null(), to=exp.DataType.build(sql_type))
        items.append(f"{typed.sql(dialect='duckdb')} AS {column}")
    return "SELECT\n  " + ",\n  ".join(items) + "\n" + tail, resolve.notes


def compile_part(
    mapping: Mapping,
    target_name: str,
    part: Part,
    source: SourceRef,
    catalog: Catalog,
    describe: Describe,
    where: str,
) -> Compiled:
    """The SELECT producing this part's rows in the target's column order, or a note why not."""
    target = TARGETS[target_name]
    if part.from_ not in catalog:
        return Compiled(None, [f"{where}: raw table {source.dataset}.{part.from_} not loaded yet; skipped"])
    stages = list(mapping.stages) if part.each_stage else [None]
    selects, notes = [], []
    for stage in stages:
        sql, stage_notes = _stage_select(part, target, source, stage, catalog, describe, where)
        selects.append(sql)
        notes += [n for n in stage_notes if n not in notes]
    body = "\nUNION ALL\n".join(selects)
    columns = ", ".join(["source", "src_order", *target.columns])
    required = " AND ".join(f"{c} IS NOT NULL" for c in target.required)
    sql = f"SELECT {columns}\nFROM (\n{body}\n) AS p\nWHERE {required}"
    if part.joins and target.key:
        sql = _keep_one_per_key(sql, target, columns)
    return Compiled(sql, notes)


def _keep_one_per_key(sql: str, target: Target, columns: str) -> str:
    """A join can repeat a row (two primary associations): keep one per key, the newest when known."""
    order = "updated_at DESC NULLS LAST" if "updated_at" in target.columns else ", ".join(target.key)
    partition = ", ".join(target.key)
    return (
        f"SELECT {columns}\nFROM (\nSELECT *, ROW_NUMBER() OVER (PARTITION BY {partition} ORDER BY {order}) AS rn\n"
        f"FROM (\n{sql}\n) AS j\n) AS d\nWHERE rn = 1"
    )
