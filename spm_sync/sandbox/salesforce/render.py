"""Rows -> wire: REST query records and Bulk API 2.0 CSV pages.

Two paths with identical output. `records_json` and `csv_page` use the byte-level encoder in
wire.py (a 2,000-record page in ~2-3 ms); `records` and `csv_reference` build Python values
column at a time and are the readable reference: single records, compound fields and very long
text go through them, and the tests compare both paths byte for byte.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache

import numpy as np
import orjson

from . import wire
from .org import wire_value
from .schema import FieldSpec
from .store import Table, format_dates, format_datetimes, refs_to_ids

LINE_ENDINGS = {"LF": "\n", "CRLF": "\r\n"}
DELIMITERS = {"COMMA": ",", "TAB": "\t", "PIPE": "|", "SEMICOLON": ";", "CARET": "^", "BACKQUOTE": "`"}


@lru_cache(maxsize=256)
def _row_builder(keys: tuple[str, ...]) -> Callable[..., dict[str, object]]:
    """A function building one record dict from positional values (a dict display beats dict(zip))."""
    args = ", ".join(f"a{i}" for i in range(len(keys)))
    body = ", ".join(f"{key!r}: a{i}" for i, key in enumerate(keys))
    return eval(f"lambda {args}: {{{body}}}")  # noqa: S307 - keys are schema field names


def records(table: Table, fields: list[FieldSpec], rows: np.ndarray, url_base: str) -> list[dict[str, object]]:
    """REST query records with `attributes` {type, url}, fields in SELECT order."""
    name = table.spec.name
    ids = table.ids(rows)
    prefix = f"{url_base}/sobjects/{name}/"
    columns: list[Sequence[object]] = [[{"type": name, "url": prefix + i} for i in ids]]
    for spec in fields:
        columns.append(ids if spec.storage == "id" else wire_value(table, spec, rows))
    build = _row_builder(("attributes", *(spec.name for spec in fields)))
    return list(map(build, *columns))


def aggregate(count: int) -> dict[str, object]:
    """The AggregateResult row of SELECT COUNT(field)."""
    return {"attributes": {"type": "AggregateResult"}, "expr0": count}


def _quote(values: Sequence[object]) -> list[str]:
    return ["" if v is None else '"' + str(v).replace('"', '""') + '"' for v in values]


def csv_column(table: Table, spec: FieldSpec, rows: np.ndarray) -> list[str]:
    """One column of a Bulk CSV page: every value quoted, nulls empty, datetimes in Z form."""
    kind = spec.storage
    if kind == "id":
        return _quote(table.ids(rows))
    values = table.take(spec.name, rows)
    if kind == "datetime":
        return _quote(format_datetimes(values, "Z"))
    if kind == "date":
        return _quote(format_dates(values))
    if kind == "bool":
        return ['"true"' if v else '"false"' for v in values.tolist()]
    if kind == "ref":
        return _quote(refs_to_ids(values))
    if kind == "int":
        return ["" if v != v else f'"{int(v)}"' for v in values.tolist()]
    if kind == "float":
        return ["" if v != v else f'"{v!r}"' for v in values.tolist()]
    return _quote(values.tolist())


def csv_reference(table: Table, fields: list[FieldSpec], rows: np.ndarray, sep: str, eol: str) -> bytes:
    """The CSV lines of `rows` built from Python values (reference for wire.csv_lines)."""
    columns = [csv_column(table, f, rows) for f in fields]
    return "".join(sep.join(values) + eol for values in zip(*columns, strict=True)).encode()


def csv_page(
    table: Table, fields: list[FieldSpec], rows: np.ndarray, delimiter: str = "COMMA", line_ending: str = "LF"
) -> bytes:
    """A Bulk API 2.0 result page: quoted header row, then one line per record."""
    sep, eol = DELIMITERS[delimiter], LINE_ENDINGS[line_ending]
    header = (sep.join(f'"{f.name}"' for f in fields) + eol).encode()
    try:
        return header + wire.csv_lines(table, fields, rows, sep.encode(), eol.encode())
    except wire.Unsupported:
        return header + csv_reference(table, fields, rows, sep, eol)


def records_json(table: Table, fields: list[FieldSpec], rows: np.ndarray, url_base: str) -> bytes:
    """The `records` array of a query page as JSON bytes (fast path, reference path as fallback)."""
    try:
        return wire.json_records(table, fields, rows, url_base)
    except wire.Unsupported:
        return orjson.dumps(records(table, fields, rows, url_base))
