"""Listing pages and CRM search over an object table (pure functions over numpy columns).

Why vectorised: search must answer over a million records in milliseconds, and the incremental
sync pattern (`hs_lastmodifieddate GTE x`, sorted ascending) is a mask plus one sort, which is
then cached per (query, table version) so paging through the result does not re-sort.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from spm_sync.sandbox.hubspot.columns import Column, NumberColumn, TextColumn, TimeColumn
from spm_sync.sandbox.hubspot.schema import BOOL, DATE, NUMBER, PropertyDef
from spm_sync.sandbox.hubspot.table import ObjectTable
from spm_sync.sandbox.hubspot.values import InvalidValue, parse_number, parse_time

MAX_FILTER_GROUPS = 5
MAX_FILTERS_PER_GROUP = 6
MAX_FILTERS_TOTAL = 18
SEARCH_RESULT_CAP = 10_000
OPERATORS = frozenset({
    "EQ", "NEQ", "LT", "LTE", "GT", "GTE", "BETWEEN", "IN", "NOT_IN", "HAS_PROPERTY", "NOT_HAS_PROPERTY",
    "CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN",
})


class SearchError(ValueError):
    """A search body HubSpot would answer with 400 VALIDATION_ERROR."""


def list_rows(
    table: ObjectTable, after: int | None, limit: int, archived: bool
) -> tuple[np.ndarray, int | None]:
    """Rows of one listing page (ids ascending, id >= after) and the next `after`, if any."""
    mask = table.live_mask(archived)
    start = int(np.searchsorted(table.ids[: table.n], after)) if after is not None else 0
    window = max(4 * (limit + 1), 1024)
    found = np.empty(0, dtype=np.int64)
    while start < table.n and len(found) <= limit:
        chunk = np.flatnonzero(mask[start : start + window]) + start
        found = np.concatenate([found, chunk])
        start += window
        window *= 2
    rows = found[:limit]
    next_after = int(table.ids[rows[-1]]) + 1 if len(found) > limit else None
    return rows, next_after


@dataclass(frozen=True)
class Filter:
    """One parsed filter of a filterGroup."""

    prop: PropertyDef
    operator: str
    value: Any = None
    high: Any = None
    values: tuple[Any, ...] = ()


def _coerce(prop: PropertyDef, raw: Any) -> Any:
    """A filter value in the property's storage type (numbers float, times epoch ms, text str)."""
    text = str(raw).lower() if isinstance(raw, bool) else str(raw)
    try:
        if prop.type == NUMBER:
            return parse_number(text)
        if prop.type in (DATE, "datetime"):
            return parse_time(text, prop.name)
    except InvalidValue as exc:
        raise SearchError(f"{raw} is not a valid value for property {prop.name}") from exc
    return text.lower() if prop.type == BOOL else text


def parse_filters(defs: dict[str, PropertyDef], groups: Any) -> list[list[Filter]]:
    """Validate `filterGroups` against HubSpot's limits and the object's properties."""
    if not groups:
        return []
    if not isinstance(groups, list) or len(groups) > MAX_FILTER_GROUPS:
        raise SearchError(f"There can be at most {MAX_FILTER_GROUPS} filterGroups")
    parsed: list[list[Filter]] = []
    total = 0
    for group in groups:
        filters = (group or {}).get("filters") or []
        if len(filters) > MAX_FILTERS_PER_GROUP:
            raise SearchError(f"There can be at most {MAX_FILTERS_PER_GROUP} filters in a filterGroup")
        total += len(filters)
        parsed.append([_parse_filter(defs, f) for f in filters])
    if total > MAX_FILTERS_TOTAL:
        raise SearchError(f"There can be at most {MAX_FILTERS_TOTAL} filters in a request")
    return parsed


def _parse_filter(defs: dict[str, PropertyDef], raw: dict[str, Any]) -> Filter:
    name = raw.get("propertyName")
    operator = raw.get("operator", "EQ")
    if operator not in OPERATORS:
        raise SearchError(f"Unknown operator {operator}")
    prop = defs.get(name or "")
    if prop is None:
        raise SearchError(f"Property {name} does not exist")
    if operator in ("IN", "NOT_IN"):
        # HubSpot compares IN values as given: string values must already be lowercase.
        return Filter(prop, operator, values=tuple(_coerce(prop, v) for v in raw.get("values") or ()))
    if operator in ("HAS_PROPERTY", "NOT_HAS_PROPERTY"):
        return Filter(prop, operator)
    if "value" not in raw:
        raise SearchError(f"Filter on {name} with operator {operator} needs a value")
    high = _coerce(prop, raw["highValue"]) if operator == "BETWEEN" and "highValue" in raw else None
    return Filter(prop, operator, _coerce(prop, raw["value"]), high)


def _text_mask(column: TextColumn, n: int, codes_for: Callable[[str], bool]) -> np.ndarray:
    wanted = column.codes_matching(codes_for)
    return np.isin(column.codes[:n], wanted)


def _compare(keys: np.ndarray, present: np.ndarray, flt: Filter) -> np.ndarray:
    op, value = flt.operator, flt.value
    if op == "EQ":
        return present & (keys == value)
    if op == "NEQ":
        return ~present | (keys != value)
    if op == "LT":
        return present & (keys < value)
    if op == "LTE":
        return present & (keys <= value)
    if op == "GT":
        return present & (keys > value)
    if op == "GTE":
        return present & (keys >= value)
    if op == "BETWEEN":
        return present & (keys >= value) & (keys <= (flt.high if flt.high is not None else value))
    if op == "IN":
        return present & np.isin(keys, np.array(flt.values))
    return ~present | ~np.isin(keys, np.array(flt.values))  # NOT_IN


def _text_filter(column: TextColumn, n: int, flt: Filter) -> np.ndarray:
    op, value = flt.operator, flt.value
    if op in ("EQ", "NEQ"):
        hit = np.isin(column.codes[:n], column.codes_equal_ci(str(value)))
        return hit if op == "EQ" else ~hit
    if op in ("IN", "NOT_IN"):
        wanted = [column.code_of(str(v)) for v in flt.values]
        hit = np.isin(column.codes[:n], np.array([c for c in wanted if c >= 0], dtype=np.int32))
        return hit if op == "IN" else ~hit
    if op in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
        token = str(value).lower().strip("*")
        hit = _text_mask(column, n, lambda s: token in s.lower())
        return hit if op == "CONTAINS_TOKEN" else ~hit
    low, high = str(value), str(flt.high if flt.high is not None else value)
    predicates: dict[str, Callable[[str], bool]] = {
        "LT": lambda s: s < low, "LTE": lambda s: s <= low, "GT": lambda s: s > low,
        "GTE": lambda s: s >= low, "BETWEEN": lambda s: low <= s <= high,
    }
    return _text_mask(column, n, predicates[op])


def filter_mask(table: ObjectTable, flt: Filter) -> np.ndarray:
    """Rows (of all n) matching one filter."""
    n = table.n
    column: Column | None = table.column(flt.prop.name)
    if column is None:
        present = np.zeros(n, dtype=bool)
        if flt.operator in ("NEQ", "NOT_IN", "NOT_HAS_PROPERTY", "NOT_CONTAINS_TOKEN"):
            return ~present
        return present
    if flt.operator in ("HAS_PROPERTY", "NOT_HAS_PROPERTY"):
        present = column.present(n)
        return present if flt.operator == "HAS_PROPERTY" else ~present
    if isinstance(column, TextColumn):
        return _text_filter(column, n, flt)
    assert isinstance(column, NumberColumn | TimeColumn)
    if flt.operator in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
        raise SearchError(f"{flt.operator} is not supported for property {flt.prop.name}")
    return _compare(column.keys(n), column.present(n), flt)


def match_rows(table: ObjectTable, groups: list[list[Filter]], query: str | None,
               text_props: Sequence[str]) -> np.ndarray:
    """Rows of live records matching (group1 OR group2 ...), each group an AND of its filters."""
    live = table.live_mask(False)
    if groups:
        any_group = np.zeros(table.n, dtype=bool)
        for group in groups:
            every = np.ones(table.n, dtype=bool)
            for flt in group:
                every &= filter_mask(table, flt)
            any_group |= every
        live &= any_group
    if query:
        needle = query.lower()
        hit = np.zeros(table.n, dtype=bool)
        for name in text_props:
            column = table.column(name)
            if isinstance(column, TextColumn):
                hit |= _text_mask(column, table.n, lambda s: needle in s.lower())
        live &= hit
    return np.flatnonzero(live)


def sort_rows(table: ObjectTable, rows: np.ndarray, prop: PropertyDef | None, descending: bool) -> np.ndarray:
    """Order rows by one property (nulls last ascending, first descending), ties by id ascending."""
    ids = table.ids[rows]
    if prop is None:
        return rows[np.argsort(ids, kind="stable")]
    column = table.column(prop.name)
    if column is None:
        return rows[np.argsort(ids, kind="stable")]
    keys = column.keys(table.n)[rows].astype(np.float64)
    keys[~column.present(table.n)[rows]] = np.inf
    if descending:
        keys = -keys
    return rows[np.lexsort((ids, keys))]


class SearchCache:
    """Sorted result rows per (object type, query, table version); small LRU."""

    def __init__(self, size: int = 16) -> None:
        self.size = size
        self._entries: OrderedDict[str, np.ndarray] = OrderedDict()

    @staticmethod
    def key(object_type: str, version: int, body: dict[str, Any]) -> str:
        wanted = {k: body.get(k) for k in ("filterGroups", "sorts", "query")}
        return f"{object_type}:{version}:{json.dumps(wanted, sort_keys=True, default=str)}"

    def get(self, key: str) -> np.ndarray | None:
        rows = self._entries.get(key)
        if rows is not None:
            self._entries.move_to_end(key)
        return rows

    def put(self, key: str, rows: np.ndarray) -> None:
        self._entries[key] = rows
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)
