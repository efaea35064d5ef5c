"""Columnar storage of one sObject type, and the conversions between storage and the wire.

Why columns of numpy arrays: a SOQL filter over a million opportunities is then one vectorised
comparison, and a 2,000-record page is a handful of fancy-index slices. Storage kinds:

| kind     | dtype            | null          |
| -------- | ---------------- | ------------- |
| str      | int32 pool code  | 0 (pool[0])   |
| float    | float64          | NaN           |
| int      | float64          | NaN           |
| bool     | bool             | (never null)  |
| date     | datetime64[D]    | NaT           |
| datetime | datetime64[ms]   | NaT           |
| ref      | int64 ref code   | -1            |
| id       | (derived from the row number, not stored)  |

Text is dictionary-encoded: each text column has a `Pool` of values and rows hold codes into it.
A ref code packs the target object's code and row: `code << 40 | row`, so polymorphic lookups
(WhatId -> Account or Opportunity) need no second column.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, overload

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import ids
from .schema import BY_PREFIX, FieldSpec, ObjectSpec

REF_SHIFT = 40
ROW_MASK = (1 << REF_SHIFT) - 1
NULL_REF = -1
NO_MATCH_REF = -2  # a well-formed Id of no record: compares equal to nothing

DTYPES: dict[str, np.dtype[Any]] = {
    "str": np.dtype(np.int32),
    "float": np.dtype(np.float64),
    "int": np.dtype(np.float64),
    "bool": np.dtype(np.bool_),
    "date": np.dtype("datetime64[D]"),
    "datetime": np.dtype("datetime64[ms]"),
    "ref": np.dtype(np.int64),
}
OBJECT_CODES: dict[str, int] = {}  # filled by register_codes()
CODE_PREFIX: dict[int, str] = {}


def register_codes(specs: list[ObjectSpec]) -> None:
    """Give every object a small integer code for ref packing (stable: schema order)."""
    for i, spec in enumerate(specs, start=1):
        OBJECT_CODES[spec.name] = i
        CODE_PREFIX[i] = spec.key_prefix


def register_object(spec: ObjectSpec) -> None:
    """A custom object created at run time: its code and key prefix, once per process (idempotent)."""
    if spec.name in OBJECT_CODES:
        return
    code = max(OBJECT_CODES.values(), default=0) + 1
    OBJECT_CODES[spec.name] = code
    CODE_PREFIX[code] = spec.key_prefix
    BY_PREFIX[spec.key_prefix] = spec


def empty_column(kind: str, size: int) -> np.ndarray:
    """A column of `size` nulls."""
    dtype = DTYPES[kind]
    if kind == "str":
        return np.zeros(size, dtype=np.int32)
    if kind in ("float", "int"):
        return np.full(size, np.nan)
    if kind == "bool":
        return np.zeros(size, dtype=bool)
    if kind in ("date", "datetime"):
        return np.full(size, np.datetime64("NaT"), dtype=dtype)
    return np.full(size, NULL_REF, dtype=np.int64)


@overload
def ref_code(object_name: str, rows: int) -> int: ...
@overload
def ref_code(object_name: str, rows: np.ndarray) -> np.ndarray: ...
def ref_code(object_name: str, rows: np.ndarray | int) -> np.ndarray | int:
    """Pack (object, row) into ref codes."""
    return (OBJECT_CODES[object_name] << REF_SHIFT) | rows


def id_to_ref(value: str) -> int | None:
    """Ref code of an Id string; NO_MATCH_REF for a well-formed Id we never issued; None if malformed."""
    parsed = ids.parse_id(value)
    if parsed is None:
        return NO_MATCH_REF if ids.looks_like_id(value) else None
    prefix, row = parsed
    spec = BY_PREFIX.get(prefix)
    if spec is None or row < 0:
        return NO_MATCH_REF
    return int(ref_code(spec.name, row))


def refs_to_ids(codes: np.ndarray) -> list[str | None]:
    """Id strings for an array of ref codes (None for null)."""
    out: list[str | None] = [None] * len(codes)
    if not len(codes):
        return out
    objs = codes >> REF_SHIFT
    result = np.full(len(codes), None, dtype=object)
    for code in np.unique(objs[codes >= 0]):
        sel = (objs == code) & (codes >= 0)
        result[sel] = ids.make_ids(CODE_PREFIX[int(code)], codes[sel] & ROW_MASK)
    return result.tolist()


# ---- wire formats ------------------------------------------------------------------------------

def format_datetimes(values: np.ndarray, suffix: str) -> list[str | None]:
    """'2025-03-04T10:11:12.000' + suffix ('+0000' for REST, 'Z' for Bulk CSV); NaT -> None."""
    text = np.datetime_as_string(values, unit="ms")
    return [None if t == "NaT" else t + suffix for t in text.tolist()]


def format_dates(values: np.ndarray) -> list[str | None]:
    text = np.datetime_as_string(values, unit="D")
    return [None if t == "NaT" else t for t in text.tolist()]


def floats_to_wire(values: np.ndarray, as_int: bool) -> list[float | int | None]:
    out = values.tolist()
    if as_int:
        return [None if v != v else int(v) for v in out]
    return [None if v != v else v for v in out]


def column_to_wire(kind: str, values: np.ndarray) -> list[Any]:
    """Storage slice -> JSON-ready Python values, as the REST API sends them."""
    if kind == "datetime":
        return format_datetimes(values, "+0000")
    if kind == "date":
        return format_dates(values)
    if kind in ("float", "int"):
        return floats_to_wire(values, kind == "int")
    if kind == "ref":
        return refs_to_ids(values)
    return values.tolist()


class BadValue(Exception):
    """A value the REST API would refuse to deserialise (JSON_PARSER_ERROR)."""

    def __init__(self, field: str, type_: str, value: object) -> None:
        super().__init__(
            f"Cannot deserialize instance of {type_} from VALUE_STRING value {value} "
            f"or request may be missing a required field"
        )
        self.field = field


_DT_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,3}))?(Z|[+-]\d{2}:?\d{2})?$"
)


def parse_datetime(text: str) -> np.datetime64:
    """Parse the datetime forms Salesforce accepts on input; raises ValueError."""
    m = _DT_RE.match(text.strip())
    if not m:
        raise ValueError(text)
    year, month, day, hh, mm, ss, frac, tz = m.groups()
    ms = int((frac or "0").ljust(3, "0"))
    base = datetime(int(year), int(month), int(day), int(hh), int(mm), int(ss), ms * 1000, tzinfo=UTC)
    offset_min = 0
    if tz and tz != "Z":
        sign = -1 if tz[0] == "-" else 1
        digits = tz[1:].replace(":", "")
        offset_min = sign * (int(digits[:2]) * 60 + int(digits[2:]))
    stamp = int(base.timestamp() * 1000) - offset_min * 60_000
    return np.datetime64(stamp, "ms")


def wire_to_storage(spec: FieldSpec, value: Any) -> object:
    """JSON value from a client -> storage scalar; raises BadValue on a bad value."""
    kind = spec.storage
    if value is None:
        return None if kind == "str" else empty_column(kind, 1)[0] if kind != "bool" else False
    try:
        if kind == "str":
            if isinstance(value, bool | dict | list):
                raise ValueError(value)
            return str(value)
        if kind in ("float", "int"):
            if isinstance(value, bool | dict | list):
                raise ValueError(value)
            number = float(value)  # Salesforce also accepts numbers sent as strings
            if math.isinf(number) or math.isnan(number):
                raise ValueError(value)
            return number
        if kind == "bool":
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.lower() in ("true", "false"):
                return value.lower() == "true"
            raise ValueError(value)
        if kind == "date":
            text = str(value)
            if len(text) != 10:
                raise ValueError(text)
            return np.datetime64(date.fromisoformat(text), "D")
        if kind == "datetime":
            return parse_datetime(str(value))
        if kind == "ref":
            if not isinstance(value, str):
                raise ValueError(value)
            return value  # resolved by the org (needs to know which records exist)
    except ValueError as exc:
        raise BadValue(spec.name, _java_type(spec.type), value) from exc
    raise BadValue(spec.name, spec.type, value)


def _java_type(type_: str) -> str:
    return {"datetime": "date", "date": "date", "boolean": "boolean", "int": "int"}.get(type_, "double")


# ---- text pools ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Strings:
    """Dictionary-encoded text as shaping hands it to `Table.append`: the values are `pool[codes]`.

    pool[0] is always None (code 0 = null), so a fresh all-zero code column is all nulls.
    """

    codes: np.ndarray  # int32
    pool: np.ndarray  # object: None, then str

    @classmethod
    def of(cls, values: Any, mapping: dict[str, str] | None = None) -> Strings:
        """Encode a pyarrow (chunked) array or any sequence of str/None, mapping values through `mapping`.

        pyarrow's dictionary_encode does the per-row work, so only distinct values touch Python.
        """
        if isinstance(values, pa.ChunkedArray):
            values = values.combine_chunks()
        elif not isinstance(values, pa.Array):
            values = pa.array(values, type=pa.string())
        encoded = pc.dictionary_encode(values)
        distinct = encoded.dictionary.to_pylist()
        pool = np.empty(len(distinct) + 1, dtype=object)
        pool[1:] = [mapping.get(v, v) for v in distinct] if mapping else distinct
        indices = pc.fill_null(pc.cast(encoded.indices, pa.int32()), -1).to_numpy(zero_copy_only=False)
        return cls(indices + np.int32(1), pool)  # a fresh array the table can adopt; null -> 0

    def __len__(self) -> int:
        return len(self.codes)

    def __getitem__(self, selection: Any) -> Strings:
        return Strings(self.codes[selection], self.pool)

    def values(self) -> np.ndarray:
        return self.pool[self.codes]


class Pool:
    """The text values of one column, append-only; rows hold int32 codes into it (0 = null).

    Why: most text columns have a handful of distinct values (stages, statuses, subjects), so 5M
    activities cost 4 bytes a row instead of a Python str each, and filters, sorts and wire encoding
    run once per distinct value. Writes append (a value may then appear twice; everything that reads
    a pool works on values, never on codes, so duplicates are harmless).
    """

    def __init__(self, values: np.ndarray | None = None) -> None:
        self._values = values if values is not None else np.array([None], dtype=object)
        self.size = len(self._values)
        self._derived: dict[str, tuple[int, Any]] = {}

    @property
    def values(self) -> np.ndarray:
        return self._values[: self.size]

    def extend(self, values: np.ndarray) -> int:
        """Append values; returns the code of the first."""
        first, need = self.size, self.size + len(values)
        if need > len(self._values):
            grown = np.empty(max(need, 2 * len(self._values)), dtype=object)
            grown[:first] = self._values[:first]
            self._values = grown
        self._values[first:need] = values
        self.size = need
        return first

    def code(self, value: str | None) -> int:
        if value is None:
            return 0
        single = np.empty(1, dtype=object)
        single[0] = value
        return self.extend(single)

    def derived(self, key: str, build: Callable[[np.ndarray, Any], Any]) -> Any:
        """A cached function of the values, e.g. lower-cased or wire-encoded.

        `build(new_values, previous)` gets the values added since the cached result was made (all of
        them the first time, with previous None) and returns the result for the whole pool.
        """
        done, previous = self._derived.get(key, (0, None))
        if done != self.size:
            previous = build(self._values[done : self.size], previous)
            self._derived[key] = (self.size, previous)
        return previous


def lowered(pool: Pool) -> np.ndarray:
    """Lower-cased pool values (SOQL text comparisons are case-insensitive)."""
    def build(new: np.ndarray, previous: np.ndarray | None) -> np.ndarray:
        low = np.array([v.lower() if v is not None else None for v in new.tolist()], dtype=object)
        return low if previous is None else np.concatenate([previous, low])

    return pool.derived("lower", build)


# ---- the table ---------------------------------------------------------------------------------

class Table:
    """Rows of one object type in growable column arrays; rows are never reused.

    A bulk load into an empty table adopts the shaped arrays without copying them (one copy of the
    data, not two), and columns handed the same array (CreatedDate = LastModifiedDate = SystemModstamp
    on loaded data) share it until one of them is written. Text columns store codes into a `Pool`.
    """

    def __init__(self, spec: ObjectSpec, capacity: int = 16) -> None:
        self.spec = spec
        self.n = 0
        self.kinds: dict[str, str] = {
            f.name: f.storage for f in spec.fields if f.storage not in ("id", "compound")
        }
        self._cap = max(capacity, 16)
        self._data: dict[str, np.ndarray] = {
            name: empty_column(kind, self._cap) for name, kind in self.kinds.items()
        }
        self.pools: dict[str, Pool] = {name: Pool() for name, kind in self.kinds.items() if kind == "str"}
        self._purged = np.zeros(self._cap, dtype=bool)
        self._shared: set[str] = set()  # columns whose array another column also holds (copy on write)
        self._sorted: dict[str, tuple[int, np.ndarray]] = {}
        self.version = 0  # bumped on every mutation (cache keys, 304 checks)

    def add_field(self, spec: ObjectSpec, name: str) -> None:
        """Take the object's new spec and give its new field `name` an all-null column."""
        self.spec = spec
        kind = spec.field(name).storage  # type: ignore[union-attr]
        if kind in ("id", "compound"):
            return
        self.kinds[name] = kind
        self._data[name] = empty_column(kind, self._cap)
        if kind == "str":
            self.pools[name] = Pool()
        self.version += 1

    def column(self, name: str) -> np.ndarray:
        """A stored column (length n): a live view, except text columns, whose values are decoded."""
        data = self._data[name][: self.n]
        if name in self.pools:
            return self.pools[name].values[data]
        return data

    def take(self, name: str, rows: np.ndarray) -> np.ndarray:
        """Stored values of some rows (text decoded), without decoding the whole column."""
        data = self._data[name][: self.n][rows]
        pool = self.pools.get(name)
        return data if pool is None else pool.values[data]

    def codes(self, name: str) -> np.ndarray:
        """The live code column of a text field (values: `pools[name].values[codes]`)."""
        return self._data[name][: self.n]

    @property
    def purged(self) -> np.ndarray:
        return self._purged[: self.n]

    def _grow(self, need: int) -> None:
        if need <= self._cap:
            return
        cap = max(need, 2 * self._cap if self._cap < 1 << 16 else self._cap + self._cap // 4)
        for name, kind in self.kinds.items():
            fresh = empty_column(kind, cap)
            fresh[: self.n] = self._data[name][: self.n]
            self._data[name] = fresh
        purged = np.zeros(cap, dtype=bool)
        purged[: self.n] = self._purged[: self.n]
        self._purged = purged
        self._cap = cap
        self._shared.clear()

    def append(self, columns: dict[str, Any], count: int, claimed: set[int] | None = None) -> np.ndarray:
        """Add `count` rows at once (vectorised load); missing columns stay null. Returns rows.

        `claimed`: ids of arrays other tables adopted already (copied, not shared); extended here.
        """
        start = self.n
        if start == 0 and count > self._cap:
            self._adopt(columns, count, claimed if claimed is not None else set())
        else:
            self._grow(start + count)
            for name, values in columns.items():
                self._data[name][start : start + count] = self._storable(name, values)
        self.n += count
        self.version += 1
        return np.arange(start, start + count)

    def _adopt(self, columns: dict[str, Any], count: int, claimed: set[int]) -> None:
        """First bulk load: keep the shaped arrays themselves when they fit (no second copy)."""
        holders: dict[int, str] = {}
        for name, kind in self.kinds.items():
            values = self._storable(name, columns[name]) if name in columns else None
            dtype = DTYPES[kind]
            if (isinstance(values, np.ndarray) and values.dtype == dtype and values.shape == (count,)
                    and values.base is None and values.flags.writeable and id(values) not in claimed):
                if id(values) in holders:
                    self._shared |= {name, holders[id(values)]}
                holders[id(values)] = name
                self._data[name] = values
                continue
            fresh = empty_column(kind, count)
            if values is not None:
                fresh[:] = values
            self._data[name] = fresh
        claimed.update(holders)
        self._purged = np.zeros(count, dtype=bool)
        self._cap = count

    def _storable(self, name: str, values: Any) -> Any:
        """Values as stored: text becomes codes into the column's pool."""
        pool = self.pools.get(name)
        if pool is None:
            return values
        if isinstance(values, str) or values is None:
            return pool.code(values)
        strings = values if isinstance(values, Strings) else Strings.of(values)
        if pool.size == 1 and strings.pool[0] is None:
            self.pools[name] = Pool(strings.pool)  # never written in place: full pools reallocate on extend
            return strings.codes
        first = pool.extend(strings.pool[1:])
        return np.where(strings.codes > 0, strings.codes + np.int32(first - 1), 0).astype(np.int32)

    def set(self, row: int, name: str, value: object) -> None:
        if name in self._shared:
            self._data[name] = self._data[name].copy()
            self._shared.discard(name)
        pool = self.pools.get(name)
        self._data[name][row] = value if pool is None else pool.code(value)  # type: ignore[arg-type]
        self.version += 1

    def get(self, row: int, name: str) -> Any:
        """One stored scalar (its pooled value for a string field): numpy or Python, per the field's kind."""
        value = self._data[name][row]
        pool = self.pools.get(name)
        return value if pool is None else pool.values[value]

    def purge(self, row: int) -> None:
        self._purged[row] = True
        self.version += 1

    def ids(self, rows: np.ndarray) -> list[str]:
        return ids.make_ids(self.spec.key_prefix, rows).tolist()

    def row_of(self, record_id: str) -> int | None:
        """Row of an Id of this object that exists and is not purged."""
        parsed = ids.parse_id(record_id)
        if parsed is None or parsed[0] != self.spec.key_prefix:
            return None
        row = parsed[1]
        if row < 0 or row >= self.n or self._purged[row]:
            return None
        return row

    def sorted_rows(self, name: str) -> np.ndarray:
        """Every row (purged too) by a date/datetime column ascending, ties in row order; cached per version.

        Why: incremental syncs ask `ORDER BY SystemModstamp, Id` again and again; one stable argsort
        serves every query until the next write.
        """
        cached = self._sorted.get(name)
        if cached is None or cached[0] != self.version:
            order = np.argsort(self.column(name).view(np.int64), kind="stable")
            cached = (self.version, order)
            self._sorted[name] = cached
        return cached[1]


def _register() -> None:
    from .schema import OBJECTS

    register_codes(list(OBJECTS.values()))


_register()
