"""Columnar storage of one sObject type, and the conversions between storage and the wire.

Why columns of numpy arrays: a SOQL filter over a million opportunities is then one vectorised
comparison, and a 2,000-record page is a handful of fancy-index slices. Storage kinds:

| kind     | dtype            | null          |
| -------- | ---------------- | ------------- |
| str      | object           | None          |
| float    | float64          | NaN           |
| int      | float64          | NaN           |
| bool     | bool             | (never null)  |
| date     | datetime64[D]    | NaT           |
| datetime | datetime64[ms]   | NaT           |
| ref      | int64 ref code   | -1            |
| id       | (derived from the row number, not stored)  |

A ref code packs the target object's code and row: `code << 40 | row`, so polymorphic lookups
(WhatId -> Account or Opportunity) need no second column.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime

import numpy as np

from . import ids
from .schema import BY_PREFIX, FieldSpec, ObjectSpec

REF_SHIFT = 40
ROW_MASK = (1 << REF_SHIFT) - 1
NULL_REF = -1
NO_MATCH_REF = -2  # a well-formed Id of no record: compares equal to nothing

DTYPES: dict[str, object] = {
    "str": object,
    "float": np.float64,
    "int": np.float64,
    "bool": np.bool_,
    "date": "datetime64[D]",
    "datetime": "datetime64[ms]",
    "ref": np.int64,
}
OBJECT_CODES: dict[str, int] = {}  # filled by register_codes()
CODE_PREFIX: dict[int, str] = {}


def register_codes(specs: list[ObjectSpec]) -> None:
    """Give every object a small integer code for ref packing (stable: schema order)."""
    for i, spec in enumerate(specs, start=1):
        OBJECT_CODES[spec.name] = i
        CODE_PREFIX[i] = spec.key_prefix


def empty_column(kind: str, size: int) -> np.ndarray:
    """A column of `size` nulls."""
    dtype = DTYPES[kind]
    if kind == "str":
        return np.full(size, None, dtype=object)
    if kind in ("float", "int"):
        return np.full(size, np.nan)
    if kind == "bool":
        return np.zeros(size, dtype=bool)
    if kind in ("date", "datetime"):
        return np.full(size, np.datetime64("NaT"), dtype=dtype)
    return np.full(size, NULL_REF, dtype=np.int64)


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


def column_to_wire(kind: str, values: np.ndarray) -> list[object]:
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


def wire_to_storage(spec: FieldSpec, value: object) -> object:
    """JSON value from a client -> storage scalar; raises BadValue on a bad value."""
    kind = spec.storage
    if value is None:
        return empty_column(kind, 1)[0] if kind != "bool" else False
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


# ---- the table ---------------------------------------------------------------------------------

class Table:
    """Rows of one object type in growable column arrays; rows are never reused."""

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
        self._purged = np.zeros(self._cap, dtype=bool)
        self.version = 0  # bumped on every mutation (cache keys, 304 checks)

    def column(self, name: str) -> np.ndarray:
        """The live view of a stored column (length n)."""
        return self._data[name][: self.n]

    @property
    def purged(self) -> np.ndarray:
        return self._purged[: self.n]

    def _grow(self, need: int) -> None:
        if need <= self._cap:
            return
        cap = self._cap
        while cap < need:
            cap *= 2
        for name, kind in self.kinds.items():
            fresh = empty_column(kind, cap)
            fresh[: self.n] = self._data[name][: self.n]
            self._data[name] = fresh
        purged = np.zeros(cap, dtype=bool)
        purged[: self.n] = self._purged[: self.n]
        self._purged = purged
        self._cap = cap

    def append(self, columns: dict[str, np.ndarray | list[object]], count: int) -> np.ndarray:
        """Add `count` rows at once (vectorised load); missing columns stay null. Returns rows."""
        self._grow(self.n + count)
        start = self.n
        for name, values in columns.items():
            self._data[name][start : start + count] = values
        self.n += count
        self.version += 1
        return np.arange(start, start + count)

    def set(self, row: int, name: str, value: object) -> None:
        self._data[name][row] = value
        self.version += 1

    def get(self, row: int, name: str) -> object:
        return self._data[name][row]

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


def _register() -> None:
    from .schema import OBJECTS

    register_codes(list(OBJECTS.values()))


_register()
