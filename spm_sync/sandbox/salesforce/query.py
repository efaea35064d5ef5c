"""Evaluate a parsed SOQL query against a Table: validation, numpy masks, ordering, limit.

Why vectorised: `WHERE SystemModstamp > 2025-01-01T00:00:00Z` over a million opportunities is a
single datetime64 comparison (milliseconds), and the resulting row array is what a query cursor
pages through. Semantics follow SOQL, not SQL: text `=`/`LIKE`/`IN` are case-insensitive, `!=` and
`NOT IN` match nulls, ORDER BY puts nulls first ascending and last descending unless told otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import cast

import numpy as np

from .schema import FieldSpec, ObjectSpec
from .soql import BoolOp, Compare, Expr, FieldRef, Literal, Not, OrderKey, Query, SoqlError, caret_message
from .store import NO_MATCH_REF, Table, id_to_ref, lowered, parse_datetime, ref_code

_FIELD_HINT = (
    "If you are attempting to use a custom field, be sure to append the '__c' after the custom field "
    "name. Please reference your WSDL or the describe call for the appropriate names."
)
_OBJECT_HINT = (
    "If you are attempting to use a custom object, be sure to append the '__c' after the entity name. "
    "Please reference your WSDL or the describe call for the appropriate names."
)
_REL_HINT = (
    "If you are attempting to use a custom relationship, be sure to append the '__r' after the custom "
    "relationship name. Please reference your WSDL or the describe call for the appropriate names."
)
_TYPE_WORDS = {"date": "date", "datetime": "dateTime", "bool": "boolean", "int": "int", "float": "double"}


@dataclass
class Result:
    """Rows matched by a query, in order, plus what to render for each."""

    spec: ObjectSpec
    fields: list[FieldSpec]
    rows: np.ndarray
    count_only: bool = False
    aggregate: int | None = None  # COUNT(field): one AggregateResult row with expr0

    @property
    def total_size(self) -> int:
        if self.count_only:
            return int(len(self.rows))
        if self.aggregate is not None:
            return 1
        return int(len(self.rows))


def resolve_object(query: Query, find: Callable[[str], ObjectSpec | None]) -> ObjectSpec:
    """The queried object, looked up by `find` (the org's own lookup: created objects included)."""
    spec = find(query.object.name)
    if spec is None:
        detail = f"sObject type '{query.object.name}' is not supported. {_OBJECT_HINT}"
        raise SoqlError("INVALID_TYPE", caret_message(query.text, query.object.pos, detail))
    return spec


def resolve_field(query: Query, spec: ObjectSpec, ref: FieldRef) -> FieldSpec:
    if "." in ref.name:
        head = ref.name.split(".")[0]
        if head.lower() == spec.name.lower():  # SELECT Account.Name FROM Account is legal
            ref = FieldRef(ref.name.split(".", 1)[1], ref.pos)
        else:
            detail = f"Didn't understand relationship '{head}' in field path. {_REL_HINT}"
            raise SoqlError("INVALID_FIELD", caret_message(query.text, ref.pos, detail))
    found = spec.field(ref.name)
    if found is None:
        detail = f"No such column '{ref.name}' on entity '{spec.name}'. {_FIELD_HINT}"
        raise SoqlError("INVALID_FIELD", caret_message(query.text, ref.pos, detail))
    return found


def today_range(word: str, n: int, today: date) -> tuple[date, date]:
    """[start, end) of a SOQL date literal such as LAST_N_DAYS:30 (UTC)."""
    if word == "today":
        return today, today + timedelta(days=1)
    if word == "yesterday":
        return today - timedelta(days=1), today
    if word == "tomorrow":
        return today + timedelta(days=1), today + timedelta(days=2)
    if word == "last_n_days":
        return today - timedelta(days=n), today + timedelta(days=1)
    if word == "next_n_days":
        return today + timedelta(days=1), today + timedelta(days=n + 1)
    if word in ("this_week", "last_week"):
        start = today - timedelta(days=(today.weekday() + 1) % 7)  # weeks start on Sunday
        if word == "last_week":
            start -= timedelta(days=7)
        return start, start + timedelta(days=7)
    if word in ("this_month", "last_month"):
        start = today.replace(day=1)
        if word == "last_month":
            start = (start - timedelta(days=1)).replace(day=1)
        end = (start + timedelta(days=32)).replace(day=1)
        return start, end
    year = today.year - (1 if word == "last_year" else 0)
    return date(year, 1, 1), date(year + 1, 1, 1)


class _Compiler:
    def __init__(self, query: Query, spec: ObjectSpec, table: Table, today: date) -> None:
        self.query = query
        self.spec = spec
        self.table = table
        self.today = today

    def error(self, code: str, pos: int, detail: str) -> SoqlError:
        return SoqlError(code, caret_message(self.query.text, pos, detail))

    def mask(self, expr: Expr) -> np.ndarray:
        if isinstance(expr, BoolOp):
            masks = [self.mask(item) for item in expr.items]
            out = masks[0].copy()
            for m in masks[1:]:
                if expr.op == "and":
                    out &= m
                else:
                    out |= m
            return out
        if isinstance(expr, Not):
            return ~self.mask(expr.item)
        return self.compare(expr)

    def values_of(self, spec: FieldSpec) -> np.ndarray:
        """Comparable values of a non-text field, one per row."""
        if spec.storage == "id":
            return ref_code(self.spec.name, np.arange(self.table.n, dtype=np.int64))
        return self.table.column(spec.name)

    def domain(self, spec: FieldSpec) -> tuple[np.ndarray, np.ndarray | None]:
        """What a condition is evaluated on, and the codes that spread a per-value result over rows.

        Why: text is compared once per distinct (lower-cased) pool value, then gathered by code.
        """
        if spec.storage == "str":
            return lowered(self.table.pools[spec.name]), self.table.codes(spec.name)
        return self.values_of(spec), None

    def literal_value(self, spec: FieldSpec, lit: Literal) -> object:
        """Convert a literal to the column's storage form, refusing the type mismatches SOQL refuses."""
        kind = spec.storage
        type_word = _TYPE_WORDS.get(kind, "string")
        if kind == "str":
            if lit.kind != "string":
                raise self.error("INVALID_FIELD", lit.pos,
                                 f"value of filter criterion for field '{spec.name}' must be of type string "
                                 "and should be enclosed in quotes")
            return str(lit.value).lower()
        if kind in ("id", "ref"):
            if lit.kind != "string":
                raise self.error("INVALID_FIELD", lit.pos,
                                 f"value of filter criterion for field '{spec.name}' must be of type id "
                                 "and should be enclosed in quotes")
            code = id_to_ref(str(lit.value))
            if code is None:
                raise self.error("INVALID_QUERY_FILTER_OPERATOR", lit.pos, f"invalid ID field: {lit.value}")
            return code
        wanted = {"float": "number", "int": "number", "bool": "bool", "date": "date", "datetime": "datetime"}
        ok = lit.kind == wanted[kind] or (lit.kind == "range" and kind in ("date", "datetime"))
        if not ok:
            raise self.error("INVALID_FIELD", lit.pos,
                             f"value of filter criterion for field '{spec.name}' must be of type {type_word} "
                             "and should not be enclosed in quotes")
        if lit.kind == "range":
            word, n = cast("tuple[str, int]", lit.value)  # the parser's (LAST_N_DAYS, 30) form
            start, end = today_range(word, n, self.today)
            if kind == "date":
                return (np.datetime64(start, "D"), np.datetime64(end, "D"))
            return (np.datetime64(start, "ms"), np.datetime64(end, "ms"))
        if kind == "date":
            return np.datetime64(str(lit.value), "D")
        if kind == "datetime":
            return parse_datetime(str(lit.value))
        return lit.value

    def compare(self, cmp: Compare) -> np.ndarray:
        spec = resolve_field(self.query, self.spec, cmp.field)
        if not spec.filterable:
            raise self.error("INVALID_FIELD", cmp.field.pos,
                             f"field '{spec.name}' can not be filtered in a query call")
        values, codes = self.domain(spec)
        hit = self.match(spec, cmp, values)
        return hit if codes is None else hit[codes]

    def match(self, spec: FieldSpec, cmp: Compare, values: np.ndarray) -> np.ndarray:
        op = cmp.op
        if cmp.values[0].kind == "null" and op in ("=", "!="):
            isnull = self.null_mask(spec, values)
            return isnull if op == "=" else ~isnull
        if op == "like":
            return self.like(spec, values, cmp.values[0])
        lits = [self.literal_value(spec, lit) for lit in cmp.values if lit.kind != "null"]
        has_null = any(lit.kind == "null" for lit in cmp.values)
        if op in ("in", "notin"):
            hit = np.zeros(len(values), dtype=bool)
            for lit in lits:
                hit |= self.eq(values, lit)
            if has_null:
                hit |= self.null_mask(spec, values)
            return hit if op == "in" else ~hit
        if spec.storage == "bool" and op not in ("=", "!="):
            raise self.error("INVALID_QUERY_FILTER_OPERATOR", cmp.field.pos,
                             f"invalid operator on boolean field: {spec.name}")
        return self.ordered(spec, values, op, lits[0])

    def null_mask(self, spec: FieldSpec, values: np.ndarray) -> np.ndarray:
        kind = spec.storage
        if kind == "str":
            return np.equal(values, np.array(None))
        if kind in ("float", "int"):
            return np.isnan(values)
        if kind in ("date", "datetime"):
            return np.isnat(values)
        if kind in ("ref", "id"):
            return values < 0
        return np.zeros(len(values), dtype=bool)

    def eq(self, values: np.ndarray, lit: object) -> np.ndarray:
        if isinstance(lit, tuple):
            return (values >= lit[0]) & (values < lit[1])
        if isinstance(lit, int) and lit == NO_MATCH_REF:
            return np.zeros(len(values), dtype=bool)
        return np.asarray(values == lit, dtype=bool)

    def ordered(self, spec: FieldSpec, values: np.ndarray, op: str, lit: object) -> np.ndarray:
        if op == "=":
            return self.eq(values, lit)
        if op == "!=":
            return ~self.eq(values, lit)
        if isinstance(lit, tuple):  # date literal ranges
            start, end = lit
            bounds = {"<": ("<", start), "<=": ("<", end), ">": (">=", end), ">=": (">=", start)}
            op, lit = bounds[op]
        notnull = ~self.null_mask(spec, values)
        out = np.zeros(len(values), dtype=bool)
        sub = values[notnull]
        if op == "<":
            out[notnull] = sub < lit
        elif op == "<=":
            out[notnull] = sub <= lit
        elif op == ">":
            out[notnull] = sub > lit
        else:
            out[notnull] = sub >= lit
        return out

    def like(self, spec: FieldSpec, values: np.ndarray, lit: Literal) -> np.ndarray:
        if spec.storage != "str":
            raise self.error("INVALID_QUERY_FILTER_OPERATOR", lit.pos,
                             f"invalid operator on {spec.type} field: {spec.name}")
        regex = re.compile(like_to_regex(lit.raw), re.IGNORECASE | re.DOTALL)
        return np.array([v is not None and regex.fullmatch(v) is not None for v in values.tolist()],
                        dtype=bool)


def like_to_regex(raw: str) -> str:
    """SOQL LIKE pattern (as written, with backslash escapes) -> Python regex."""
    out: list[str] = []
    i = 0
    while i < len(raw):
        ch = raw[i]
        if ch == "\\" and i + 1 < len(raw):
            nxt = raw[i + 1]
            out.append(re.escape({"n": "\n", "t": "\t", "r": "\r"}.get(nxt, nxt)))
            i += 2
            continue
        out.append(".*" if ch == "%" else "." if ch == "_" else re.escape(ch))
        i += 1
    return "".join(out)


def order_rows(compiler: _Compiler, rows: np.ndarray, keys: list[OrderKey]) -> np.ndarray:
    """Sort `rows` by ORDER BY keys; ties keep row (= Id) order, like a real org's stable output."""
    if not keys:
        return rows
    if len(keys) == 1:
        fast = _single_key_order(compiler, rows, keys[0])
        if fast is not None:
            return fast
    sort_keys: list[np.ndarray] = [rows]  # last tie-breaker: row order
    for key in reversed(keys):
        spec = resolve_field(compiler.query, compiler.spec, key.field)
        if not spec.filterable:
            raise compiler.error("INVALID_FIELD", key.field.pos,
                                 f"field '{spec.name}' can not be sorted in a query call")
        rank, null, size = _ranks(compiler, spec, rows)
        if key.descending:
            rank = size - 1 - rank
        rank[null] = size if key.nulls_last else -1
        sort_keys.append(rank)
    order = np.lexsort(sort_keys)
    return rows[order]


def _ranks(compiler: _Compiler, spec: FieldSpec, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """(rank per row, null per row, number of distinct non-null ranks) of one ORDER BY field."""
    if spec.storage == "id":
        size = int(rows.max()) + 1 if len(rows) else 0
        return rows.copy(), np.zeros(len(rows), dtype=bool), size
    values, codes = compiler.domain(spec)
    picked: slice | np.ndarray
    if codes is None:
        values, picked = values[rows], slice(None)
    else:  # text: rank only the pool values these rows use, then spread by code
        used, picked = np.unique(codes[rows], return_inverse=True)
        values = values[used]
    null = compiler.null_mask(spec, values)
    uniq, inverse = np.unique(values[~null], return_inverse=True)
    rank = np.zeros(len(values), dtype=np.int64)
    rank[~null] = inverse
    return rank[picked], null[picked], len(uniq)


def _single_key_order(compiler: _Compiler, rows: np.ndarray, key: OrderKey) -> np.ndarray | None:
    """One non-text key without nulls (ORDER BY SystemModstamp): a stable argsort, no ranking pass."""
    spec = resolve_field(compiler.query, compiler.spec, key.field)
    if spec.storage in ("str", "compound") or not spec.filterable:
        return None
    values = compiler.values_of(spec)[rows]
    if compiler.null_mask(spec, values).any():
        return None
    numbers = values.view(np.int64) if spec.storage in ("date", "datetime") else values.astype(np.float64)
    return rows[np.argsort(-numbers if key.descending else numbers, kind="stable")]


def ordered_rows(compiler: _Compiler, live: np.ndarray, keys: list[OrderKey]) -> np.ndarray:
    """The rows where `live` is set, in ORDER BY order.

    Why the shortcuts: rows are in Id order already, so a trailing `Id ASC` changes nothing, and
    `ORDER BY SystemModstamp[, Id]` (every incremental sync) reads the table's cached sort order
    instead of sorting again.
    """
    keys = list(keys)
    while keys and not keys[-1].descending and \
            resolve_field(compiler.query, compiler.spec, keys[-1].field).storage == "id":
        keys.pop()
    if len(keys) == 1 and not keys[0].descending and not keys[0].nulls_last:
        spec = resolve_field(compiler.query, compiler.spec, keys[0].field)
        if spec.storage in ("date", "datetime"):
            order = compiler.table.sorted_rows(spec.name)
            return order[live[order]]
    return order_rows(compiler, np.flatnonzero(live), keys)


def evaluate(query: Query, table: Table, *, include_deleted: bool, today: date) -> Result:
    """Run `query` over `table` (already resolved from query.object)."""
    spec = table.spec
    compiler = _Compiler(query, spec, table, today)
    fields: list[FieldSpec] = []
    seen: set[str] = set()
    for ref in query.fields:
        found = resolve_field(query, spec, ref)
        if found.name in seen:
            raise compiler.error("INVALID_FIELD", ref.pos, f"duplicate field selected: {found.name}")
        seen.add(found.name)
        fields.append(found)
    if query.count_field is not None:
        resolve_field(query, spec, query.count_field)
    live = ~table.purged
    if spec.has_is_deleted and not include_deleted:
        live &= ~table.column("IsDeleted")
    if query.where is not None:
        live &= compiler.mask(query.where)
    rows = ordered_rows(compiler, live, query.order_by)
    if query.offset:
        rows = rows[query.offset :]
    if query.limit is not None:
        rows = rows[: query.limit]
    if query.count_field is not None:
        return Result(spec, [], rows, aggregate=int(len(rows)))
    return Result(spec, fields, rows, count_only=query.count)
