"""Compile one mapping part to a SELECT over a source's raw tables (pure: catalog and types come in).

A TIMESTAMPTZ raw column (Salesforce datetimes as dlt stores them) reads as naive UTC in expressions,
the store's convention, so `COALESCE(activity_date, created_date)` mixes types without per-row
time zone work.

Why tables and columns are resolved here: a mapping naming a table or column the source does not have
(`from: companiez`, a misspelt column) must fail loudly, not yield zero rows or NULLs. The rules:
- a table must be in the raw dataset or among the tables the source's connector can produce (an
  object not synced yet, or one the org lacks, is a note and adds no rows), unless the part is
  `optional: true` (a table the connector does not know of, e.g. from a custom pipeline);
- when dlt loaded the raw dataset (it records the schema in `_dlt_version`), every column a part names
  must be in its table, unless the part lists it in `optional_columns`. The connectors make that schema complete:
Salesforce and HubSpot rows are Arrow tables with a column for every described field / requested
property, filled or not, and the files connector for every column of its exports; what a source may
legitimately lack (an object the org does not have, a column added only once a record needs it, such
as HubSpot's `hard_deleted`) is marked optional in the built-in mappings. A dataset dlt did not load
(tables written by hand) has no recorded schema: there a missing table or column is a note and reads
NULL, as before.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from collections.abc import Mapping as AnyMapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field

from sqlglot import exp

from spm_sync.normalize.helpers import coerce, expand_helpers, sql_literal, utc_naive
from spm_sync.normalize.mapping import Problem, fill, parse_sql
from spm_sync.normalize.model import Mapping, Part, ValueMap
from spm_sync.normalize.notes import Note
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


RECORDED_SCHEMA = "_dlt_version"  # a dataset with this table was loaded by dlt: its schema is authoritative


def schema_recorded(catalog: Catalog) -> bool:
    return RECORDED_SCHEMA in catalog


@dataclass
class Compiled:
    sql: str | None
    notes: list[Note] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


@dataclass(frozen=True)
class PartRef:
    """Which part is compiled, to name it in problems: the mapping, its target and index."""

    mapping: Mapping
    target: str
    index: int

    def problem(self, sub: tuple[str | int, ...], message: str) -> Problem:
        file, key, line = self.mapping.where(("tables", self.target, self.index, *sub))
        return Problem(file, key, line, message)


def _suggest(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, [k for k in known if not k.startswith("_dlt")], n=1)
    return f"; did you mean {close[0]}?" if close else ""


def _field_tree(value: str | ValueMap) -> exp.Expr:
    """A value map becomes a CASE over the expression's text form (booleans read 'true'/'false')."""
    if not isinstance(value, ValueMap):
        return parse_sql(value)
    def literal(text: str | None) -> exp.Expr:
        return exp.Literal.string(text) if text is not None else exp.Null()

    return exp.Case(
        this=exp.Cast(this=exp.paren(parse_sql(value.expr).copy()), to=exp.DataType.build("VARCHAR")),
        ifs=[exp.If(this=exp.Literal.string(crm), true=literal(ours)) for crm, ours in value.map.items()],
        default=literal(value.default),
    )


class _Resolver:
    """Qualifies columns with their table alias; unknown ones become NULL, noted once each, or a problem
    at `key` (the mapping key being compiled) when the source's schema is recorded (module docstring)."""

    def __init__(
        self, part: Part, table: str, catalog: Catalog, where: str, backend: str, ref: PartRef | None = None
    ) -> None:
        self.backend = backend
        self.part = part
        self.aliases: dict[str, AnyMapping[str, str] | None] = {SRC: catalog.get(table)}
        self.tables = {SRC: table}
        for join in part.joins:
            self.aliases[join.alias] = catalog.get(join.table)
            self.tables[join.alias] = join.table
        self.where = where
        self.ref = ref if ref is not None and schema_recorded(catalog) else None
        self.key: tuple[str | int, ...] = ()
        self.stage: str | None = None
        self.notes: list[Note] = []
        self.problems: list[Problem] = []

    def _note(self, note: Note) -> None:
        if note not in self.notes:
            self.notes.append(note)

    def _missing(self, note: Note, problem: str, column: str | None = None) -> exp.Expr:
        """A missing table alias / column: a problem when the schema is recorded and the part does not
        mark it optional, else a note; either way the expression reads NULL."""
        if self.ref is not None and not self.part.may_lack(column, self.stage):
            found = self.ref.problem(self.key, problem)
            if found not in self.problems:
                self.problems.append(found)
        else:
            self._note(note)
        return exp.Null()

    def __call__(self, node: exp.Expr) -> exp.Expr:
        if not isinstance(node, exp.Column) or isinstance(node.this, exp.Star):
            return node
        alias = (node.table or SRC).lower()
        name = node.name.lower()
        if alias not in self.aliases:
            return self._missing(
                Note("unknown_alias", self.where, alias, node.sql()),
                f"unknown table alias {alias!r} in {node.sql()} (known: {', '.join(self.aliases)})",
            )
        columns = self.aliases[alias]
        if columns is None:
            self._note(Note("joined_table_not_loaded", self.where, self.tables[alias], node.sql()))
            return exp.Null()
        if name not in columns:
            table = self.tables[alias]
            return self._missing(
                Note("column_absent", self.where, table, name),
                f"column {name} is not in raw table {table} of the source's schema{_suggest(name, columns)} "
                f"(if it may be absent, list it in the part's optional_columns)",
                name,
            )
        column = exp.column(name, table=alias, quoted=True)
        if columns[name].startswith("TIMESTAMP WITH TIME ZONE"):
            return utc_naive(column, self.backend)
        return column


def _expression(template: exp.Expr, table: str, stage: str | None, resolve: _Resolver) -> exp.Expr:
    values = {"{from}": table} | ({"{stage}": stage} if stage is not None else {})
    return expand_helpers(fill(template, values)).transform(resolve)


def _from_clause(part: Part, source: SourceRef, table: str, stage: str | None, resolve: _Resolver) -> str:
    sql = f"FROM {source.dataset}.{table} AS {SRC}"
    for index, join in enumerate(part.joins):
        if resolve.aliases.get(join.alias) is None:
            continue  # the joined table is not loaded: its columns already read NULL
        resolve.key = ("joins", index, "on")
        on = _expression(parse_sql(join.on), table, stage, resolve).sql(dialect="duckdb")
        sql += f"\nLEFT JOIN {source.dataset}.{join.table} AS {join.alias} ON {on}"
    if part.where:
        resolve.key = ("where",)
        sql += "\nWHERE " + _expression(parse_sql(part.where), table, stage, resolve).sql(dialect="duckdb")
    return sql


def _stage_select(
    part: Part, target: Target, source: SourceRef, stage: str | None, catalog: Catalog, describe: Describe, where: str,
    ref: PartRef | None = None,
) -> tuple[str, _Resolver]:
    table = part.from_
    resolve = _Resolver(part, table, catalog, where, source.backend, ref)
    resolve.stage = stage
    given = {}
    for column, value in part.fields.items():
        resolve.key = ("fields", column)
        given[column] = _expression(_field_tree(value), table, stage, resolve)
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
    return "SELECT\n  " + ",\n  ".join(items) + "\n" + tail, resolve


def compile_part(
    mapping: Mapping,
    target_name: str,
    part: Part,
    source: SourceRef,
    catalog: Catalog,
    describe: Describe,
    where: str,
    index: int = 0,
    known_tables: AbstractSet[str] | None = None,
) -> Compiled:
    """The SELECT producing this part's rows in the target's column order, or a note (or a problem: see
    the module docstring) saying why not; `index` is the part's place among the target's parts and
    `known_tables` the raw tables the source's connector can produce, loaded or not."""
    target = TARGETS[target_name]
    ref = PartRef(mapping, target_name, index)
    if known_tables is not None and not part.may_lack():
        named = [(("from",), part.from_)] + [(("joins", i, "table"), j.table) for i, j in enumerate(part.joins)]
        problems = [
            ref.problem(key, f"raw table {name} is not a table source {source.name} has or can sync"
                        f"{_suggest(name, set(catalog) | set(known_tables))} (if the source may lack it, mark "
                        "the part `optional: true`)")
            for key, name in named
            if name not in catalog and name not in known_tables
        ]
        if problems:
            return Compiled(None, problems=problems)
    if part.from_ not in catalog:
        return Compiled(None, [Note("table_not_loaded", where, part.from_, dataset=source.dataset)])
    stages = list(mapping.stages) if part.each_stage else [None]
    selects: list[str] = []
    notes: list[Note] = []
    problems = []
    for stage in stages:
        sql, resolved = _stage_select(part, target, source, stage, catalog, describe, where, ref)
        selects.append(sql)
        notes += [n for n in resolved.notes if n not in notes]
        problems += [p for p in resolved.problems if p not in problems]
    if problems:
        return Compiled(None, notes, problems)
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
