"""Typed parsing helpers usable in mapping expressions, and coercion of a raw type to a target type.

Why SQL templates: values are parsed inside the store, set-at-a-time (no per-row Python). HubSpot
sends every value as text ("1234.5", "true", ISO timestamps with or without millis, epoch millis);
Salesforce sends typed JSON that dlt stores as BOOLEAN / DOUBLE / TIMESTAMPTZ / DATE.
"""

from __future__ import annotations

from functools import cache

import sqlglot
from sqlglot import exp

_ARG = "__arg__"
_TEXT = f"NULLIF(TRIM(CAST({_ARG} AS VARCHAR)), '')"

_TS = (
    f"CASE WHEN REGEXP_MATCHES({_TEXT}, '^-{{0,1}}[0-9]+$') THEN EPOCH_MS(CAST({_TEXT} AS BIGINT)) "
    f"WHEN REGEXP_MATCHES({_TEXT}, '^[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}') "
    f"THEN TIMEZONE('UTC', TRY_CAST({_TEXT} AS TIMESTAMPTZ)) END"
)

# name -> (SQL template over __arg__, result type)
HELPERS: dict[str, tuple[str, str]] = {
    "parse_number": (f"TRY_CAST({_TEXT} AS DOUBLE)", "DOUBLE"),
    "parse_bool": (
        f"CASE LOWER({_TEXT}) WHEN 'true' THEN TRUE WHEN '1' THEN TRUE WHEN 'yes' THEN TRUE "
        "WHEN 'false' THEN FALSE WHEN '0' THEN FALSE WHEN 'no' THEN FALSE END",
        "BOOLEAN",
    ),
    # Epoch milliseconds, ISO-8601 with or without millis / offset, or a plain date; result naive UTC.
    # Both branches are guarded so that PostgreSQL (no TRY_CAST) never sees a value it cannot cast.
    "parse_ts": (_TS, "TIMESTAMP"),
    "parse_date": (f"CAST({_TS} AS DATE)", "DATE"),
}

# (type the store reports, target type) -> helper or template; anything else is a plain CAST.
_COERCIONS: dict[tuple[str, str], str] = {
    ("VARCHAR", "DOUBLE"): "parse_number",
    ("VARCHAR", "BOOLEAN"): "parse_bool",
    ("VARCHAR", "TIMESTAMP"): "parse_ts",
    ("VARCHAR", "DATE"): "parse_date",
    ("TIMESTAMP WITH TIME ZONE", "TIMESTAMP"): f"TIMEZONE('UTC', {_ARG})",
    ("TIMESTAMP WITH TIME ZONE", "DATE"): f"CAST(TIMEZONE('UTC', {_ARG}) AS DATE)",
}

# A TIMESTAMPTZ raw column read as naive UTC. DuckDB: the stored microseconds reinterpreted, ~25x
# cheaper than TIMEZONE('UTC', x) (which goes through ICU per row); elsewhere the portable form.
UTC_NAIVE = {"duckdb": f"MAKE_TIMESTAMP(EPOCH_US({_ARG}))"}
UTC_NAIVE_DEFAULT = f"TIMEZONE('UTC', {_ARG})"


def utc_naive(column: exp.Expr, backend: str) -> exp.Expr:
    return _fill(UTC_NAIVE.get(backend, UTC_NAIVE_DEFAULT), column)


def sql_literal(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


@cache
def _template(sql: str) -> exp.Expr:
    return sqlglot.parse_one(sql, read="duckdb")


def _fill(template: str, arg: exp.Expr) -> exp.Expr:
    def substitute(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Column) and node.name == _ARG and not node.table:
            return arg.copy()
        return node

    return _template(template).copy().transform(substitute)


def expand_helpers(expression: exp.Expr) -> exp.Expr:
    """Replace helper calls (`parse_ts(x)`) by their SQL, innermost first."""

    def expand(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Anonymous) and node.name.lower() in HELPERS and len(node.expressions) == 1:
            return _fill(HELPERS[node.name.lower()][0], node.expressions[0])
        return node

    return expression.transform(expand)


def unknown_helper_arity(expression: exp.Expr) -> list[str]:
    """Helper calls with the wrong number of arguments (each helper takes exactly one)."""
    return [
        f"{node.name}() takes exactly one argument"
        for node in expression.find_all(exp.Anonymous)
        if node.name.lower() in HELPERS and len(node.expressions) != 1
    ]


def coerce(expression: exp.Expr, actual: str, target: str) -> exp.Expr:
    """Wrap `expression` (of store type `actual`) so it yields `target`; no-op when they match."""
    actual = actual.upper()
    if actual == target:
        return expression
    rule = _COERCIONS.get((actual, target))
    if rule is None and actual.startswith(("VARCHAR", "TEXT")):
        rule = _COERCIONS.get(("VARCHAR", target))
    if rule is None:
        return exp.Cast(this=expression, to=exp.DataType.build(target))
    template = HELPERS[rule][0] if rule in HELPERS else rule
    return _fill(template, expression)
