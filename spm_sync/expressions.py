"""User SQL expressions (KPI `expr`/`filter`, mapping fields, `where`, `on`) parsed and checked once.

Why here: whatever a user writes in YAML ends up inside the statements the store runs. Each text must
parse to ONE scalar expression (no `;`, no statement or subquery) calling only functions of an allowed
set; the compilers then build SQL from the parsed tree, never from the text.
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokens import TokenType

DIALECT = "duckdb"

# Functions an expression may call: scalar logic, arithmetic, text, dates (sqlglot's typed nodes) ...
ALLOWED_FUNCTIONS: tuple[type[exp.Func], ...] = (
    exp.And, exp.Or, exp.Case, exp.If, exp.Cast, exp.TryCast, exp.Coalesce, exp.Nullif, exp.Greatest, exp.Least,
    exp.Abs, exp.Round, exp.Floor, exp.Ceil, exp.Sqrt, exp.Pow, exp.Ln, exp.Log, exp.Exp, exp.Sign,
    exp.Lower, exp.Upper, exp.Trim, exp.Length, exp.Substring, exp.Concat, exp.Replace, exp.StartsWith,
    exp.Contains, exp.StrPosition, exp.Left, exp.Right, exp.SplitPart, exp.Pad,
    exp.RegexpLike, exp.RegexpReplace, exp.RegexpExtract,
    exp.TimestampTrunc, exp.DateTrunc, exp.DateDiff, exp.DateAdd, exp.DateSub, exp.Extract,
    exp.Year, exp.Quarter, exp.Month, exp.Day, exp.DayOfWeek, exp.CurrentDate, exp.CurrentTimestamp,
    exp.UnixToTime, exp.TimeToUnix, exp.TimeToStr, exp.StrToTime, exp.DateFromParts,
)
# Mapping fields are SELECT items: they may look at neighbouring rows (LAG ... OVER), KPI expressions may not.
WINDOW_FUNCTIONS: tuple[type[exp.Func], ...] = (
    exp.Lag, exp.Lead, exp.FirstValue, exp.LastValue, exp.RowNumber, exp.Min, exp.Max, exp.Sum, exp.Count,
)
# ... and these by name (functions sqlglot has no node for, and the mapping helpers of normalize/helpers.py).
ALLOWED_NAMES = frozenset({
    "now", "timezone", "date_part", "epoch_ms", "make_timestamp",
    "parse_number", "parse_bool", "parse_ts", "parse_date",
})


class ExpressionRefused(ValueError):
    """Why a text is not a usable expression (the caller adds file, line and key)."""


def function_name(node: exp.Func) -> str:
    return node.name.lower() if isinstance(node, exp.Anonymous) else node.sql_names()[0].lower()


def _allowed(node: exp.Func, windows: bool) -> bool:
    if isinstance(node, exp.Anonymous):
        return node.name.lower() in ALLOWED_NAMES
    if windows and isinstance(node, WINDOW_FUNCTIONS) and isinstance(node.parent, exp.Window):
        return True
    return isinstance(node, ALLOWED_FUNCTIONS)


def parse_user_expression(text: str, *, windows: bool = False) -> exp.Expr:
    """The one scalar expression `text` holds; `ExpressionRefused` saying why not. `windows`: window
    functions over neighbouring rows are allowed (mapping fields), else one value per row only."""
    try:
        tokens = sqlglot.tokenize(text, read=DIALECT)
    except TokenError as exc:
        raise ExpressionRefused(f"not a SQL expression ({str(exc).strip().splitlines()[0]})") from None
    if any(token.token_type == TokenType.SEMICOLON for token in tokens):
        raise ExpressionRefused("`;` is not allowed: one expression only, no statements")
    try:
        parsed = sqlglot.parse_one(text, read=DIALECT)
    except ParseError as exc:
        raise ExpressionRefused(f"not a SQL expression ({str(exc).strip().splitlines()[0]})") from None
    if parsed is None:
        raise ExpressionRefused("empty expression")
    scalar = isinstance(parsed, exp.Condition)  # columns, literals, operators, function calls
    if not scalar or parsed.find(exp.Query) is not None:
        raise ExpressionRefused("a statement or query is not allowed here, only an expression over columns")
    if not windows and parsed.find(exp.AggFunc, exp.Window) is not None:
        raise ExpressionRefused("aggregate and window functions are not allowed here (one value per row)")
    refused = sorted({function_name(node) for node in parsed.find_all(exp.Func) if not _allowed(node, windows)})
    if refused:
        raise ExpressionRefused(f"function(s) not allowed in an expression: {', '.join(refused)}")
    return parsed


def render(expression: exp.Expr) -> str:
    """The expression as the SQL the compilers put into statements (DuckDB dialect)."""
    return expression.sql(dialect=DIALECT)
