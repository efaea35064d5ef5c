"""`files_source`: CSV / Parquet exports (quotas, activity targets, teams, ERP opportunities and
accounts) loaded whole into `raw_<source>` (replace disposition), checked and typed on the way.

Why check here: a bad cell in a spreadsheet must stop the load with its file, line and column
(`quotas.csv: line 7: amount: not a number 'abc'`) before anything already stored is replaced.
Columns are converted set-at-a-time with Arrow; values are looked at one by one only to name the
first bad one.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import dlt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from dlt.extract.source import DltSource

from connectors.context import ExtractContext
from connectors.files.settings import BOOL, DATE, EMAIL, EXPORTS, NUMBER, TIMESTAMP, Column, ExportKind
from spm_sync.config import FilesSource
from spm_sync.errors import ConfigError

_TRUE, _FALSE = ("true", "1", "yes", "y", "t"), ("false", "0", "no", "n", "f")


def column_key(name: str) -> str:
    return name.strip().lower().replace(" ", "_").replace("-", "_")


def _read_strings(path: Path) -> tuple[pa.Table, int]:
    """The file as a table of trimmed strings (empty -> null), and the line of its first data row."""
    if path.suffix.lower() in (".parquet", ".pq"):
        table = pq.read_table(path)
        table = pa.table({column_key(n): pc.cast(table[n], pa.string()) for n in table.column_names})
        first_line = 1  # Parquet has no lines: "line N" is the N-th row
    else:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            header = next(csv.reader(handle), [])
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(encoding="utf8", column_names=[column_key(h) for h in header],
                                           skip_rows=1),
            convert_options=pacsv.ConvertOptions(
                column_types={column_key(h): pa.string() for h in header}, strings_can_be_null=True
            ),
        )
        first_line = 2
    trimmed = {n: pc.if_else(pc.equal(pc.utf8_trim_whitespace(c), ""), None, pc.utf8_trim_whitespace(c))
               for n, c in zip(table.column_names, table.columns, strict=True)}
    return pa.table(trimmed) if trimmed else table, first_line


def _bad_value(values: list[Any], check: Callable[[str], Any]) -> int | None:
    """Index of the first non-null value `check` rejects (only run once a bulk conversion failed)."""
    for index, value in enumerate(values):
        if value is None:
            continue
        try:
            check(value)
        except ValueError:
            return index
    return None


def _parse_bool(text: str) -> bool:
    lowered = text.lower()
    if lowered not in _TRUE + _FALSE:
        raise ValueError(text)
    return lowered in _TRUE


def _parse_timestamp(text: str) -> datetime:
    """ISO-8601 date or datetime; no offset means UTC."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _parse_email(text: str) -> str:
    if "@" not in text or text.startswith("@") or text.endswith("@"):
        raise ValueError(text)
    return text


_CHECKS: dict[str, tuple[Callable[[str], Any], str]] = {
    NUMBER: (float, "not a number"),
    DATE: (date.fromisoformat, "not a date (YYYY-MM-DD)"),
    TIMESTAMP: (_parse_timestamp, "not a timestamp (ISO-8601)"),
    BOOL: (_parse_bool, "not true/false"),
    EMAIL: (_parse_email, "not an email address"),
}


class _Where:
    """Names a file position: `quotas.csv: line 7: amount`."""

    def __init__(self, path: Path, first_line: int) -> None:
        self.path, self.first_line = path, first_line

    def error(self, index: int | None, column: str, message: str) -> ConfigError:
        key = f"line {index + self.first_line}: {column}" if index is not None else column
        return ConfigError(message, file=str(self.path), key=key)


def _convert(values: pa.Array | pa.ChunkedArray, column: Column, where: _Where) -> pa.Array | pa.ChunkedArray:
    """One column to its type; the first bad cell raises a ConfigError naming its line."""
    if column.type in (NUMBER, DATE, BOOL):
        try:
            if column.type == BOOL:
                lowered = pc.utf8_lower(values)
                ok = pc.or_kleene(pc.is_in(lowered, pa.array(_TRUE + _FALSE)), pc.is_null(lowered))
                if not pc.all(ok).as_py():
                    raise pa.ArrowInvalid("bad boolean")
                return pc.if_else(pc.is_null(lowered), None, pc.is_in(lowered, pa.array(_TRUE)))
            return pc.cast(values, pa.float64() if column.type == NUMBER else pa.date32())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
    check, message = _CHECKS.get(column.type, (None, ""))
    if check is None:
        return values
    items = values.to_pylist()
    bad = _bad_value(items, check)
    if bad is not None:
        raise where.error(bad, column.name, f"{message} {items[bad]!r}")
    if column.type == TIMESTAMP:
        return pa.array([None if v is None else _parse_timestamp(v) for v in items], pa.timestamp("us", tz="UTC"))
    return values


def typed_export(table: pa.Table, kind: ExportKind, where: _Where, currency: str) -> pa.Table:
    """Check and type one export's string table (pure: no file access)."""
    missing = [c.name for c in kind.columns if c.required and c.name not in table.column_names]
    if missing:
        raise ConfigError(f"missing column(s) {', '.join(missing)}", file=str(where.path), key="header")
    columns = dict(zip(table.column_names, table.columns, strict=True))
    for column in kind.columns:
        if column.name not in columns:
            continue
        values = columns[column.name]
        if column.required and values.null_count:
            index = pc.index(pc.is_null(values), True).as_py()
            raise where.error(index, column.name, "required")
        columns[column.name] = _convert(values, column, where)
    if kind.one_of:
        given = [pc.is_valid(columns[n]) for n in kind.one_of if n in columns]
        filled = given[0] if given else pa.array([False] * table.num_rows)
        for more in given[1:]:
            filled = pc.or_(filled, more)
        if not pc.all(filled).as_py() and table.num_rows:
            index = pc.index(filled, False).as_py()
            raise where.error(index, " / ".join(kind.one_of), "one of these is required")
    if kind.ordered and all(n in columns for n in kind.ordered):
        start, end = (columns[n] for n in kind.ordered)
        backwards = pc.fill_null(pc.less(end, start), False)
        if pc.any(backwards).as_py():
            index = pc.index(backwards, True).as_py()
            raise where.error(index, kind.ordered[1], f"before {kind.ordered[0]}")
    if kind.currency_column:
        given = columns.get(kind.currency_column, pa.nulls(table.num_rows, pa.string()))
        columns[kind.currency_column] = pc.fill_null(given, currency)
    return pa.table(columns)


def read_export(path: Path, kind: ExportKind, currency: str = "USD") -> pa.Table:
    """Read, check and type one export file."""
    if not path.exists():
        raise ConfigError("no such file", file=str(path), key=kind.name)
    try:
        strings, first_line = _read_strings(path)
    except (pa.ArrowInvalid, UnicodeDecodeError, csv.Error) as exc:
        raise ConfigError(f"cannot read ({str(exc).splitlines()[0]})", file=str(path)) from None
    return typed_export(strings, kind, _Where(path, first_line), currency)


def files_source(config: FilesSource, context: ExtractContext) -> DltSource:
    """One resource per configured export; every file is read and checked before anything loads."""
    tables = {
        kind.name: read_export(getattr(config, kind.name), kind, config.currency)
        for kind in EXPORTS
        if getattr(config, kind.name) is not None and context.wants(kind.name)
    }

    def rows(name: str, table: pa.Table) -> Iterator[pa.Table]:
        context.progress(name, table.num_rows, 1)
        yield table

    @dlt.source(name="files", max_table_nesting=0)
    def source() -> list[Any]:
        return [
            dlt.resource(rows(name, table), name=name, table_name=name, write_disposition="replace")
            for name, table in tables.items()
        ]

    return source()
