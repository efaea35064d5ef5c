"""`files_source`: CSV / Parquet exports (quotas, activity targets, teams, ERP opportunities and
accounts) loaded whole into `raw_<source>` (replace disposition), checked and typed on the way.

Why check here: a cell that cannot be read (`quotas.csv: line 7: amount: not a number 'abc'`) stops
the load with its file, line and column before anything already stored is replaced. A row that reads
but cannot be right (an amount of `inf` or below zero, an unknown currency, two rows contradicting each
other) is rejected on its own: it lands in `rejected_<kind>` with the rule, cell and line, so normalize
reports it and write-back holds back the numbers it would have moved, while the other rows load.
Only an empty cell is null: `NA` and `NULL` are text (a team named "NA" exists). A header-only file
would replace every stored row with nothing, so it is refused unless allowed (`allow_empty`).
Columns are converted set-at-a-time with Arrow; values are looked at one by one only to name bad ones.
"""

from __future__ import annotations

import csv
import hashlib
import json
import zipfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import dlt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pycountry
from dlt.extract.source import DltSource

from spm_sync.config import FilesSource
from spm_sync.connectors.context import ExtractContext
from spm_sync.connectors.files.settings import (
    BOOL,
    DATE,
    EMAIL,
    EXPORTS,
    NUMBER,
    REJECTED_COLUMNS,
    SOURCE_FILE,
    SOURCE_LINE,
    TIMESTAMP,
    Column,
    ExportKind,
    rejected_table,
)
from spm_sync.errors import ConfigError

_TRUE, _FALSE = ("true", "1", "yes", "y", "t"), ("false", "0", "no", "n", "f")
CURRENCIES = frozenset(currency.alpha_3 for currency in pycountry.currencies)
MAX_LISTED = 20  # rejected rows named one by one in the sync's warnings
_ARROW_TYPES = {NUMBER: pa.float64(), DATE: pa.date32(), BOOL: pa.bool_(), TIMESTAMP: pa.timestamp("us", tz="UTC")}


def column_key(name: str) -> str:
    return name.strip().lower().replace(" ", "_").replace("-", "_")


def _read_xlsx(path: Path) -> pa.Table:
    """The first sheet of a workbook as strings (dates as ISO text), its first row the header."""
    from openpyxl import load_workbook

    sheet = load_workbook(path, read_only=True, data_only=True).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    header = [column_key(str(h)) for h in (rows[0] if rows else ()) if h is not None]

    def text(value: Any) -> str | None:
        if value is None:
            return None
        return value.isoformat() if isinstance(value, date | datetime) else str(value)

    return pa.table({name: pa.array([text(r[i]) for r in rows[1:]], pa.string()) for i, name in enumerate(header)})


def _read_strings(path: Path) -> tuple[pa.Table, int]:
    """The file as a table of trimmed strings (empty -> null), and the line of its first data row."""
    if path.suffix.lower() in (".parquet", ".pq"):
        table = pq.read_table(path)
        table = pa.table({column_key(n): pc.cast(table[n], pa.string()) for n in table.column_names})
        first_line = 1  # Parquet has no lines: "line N" is the N-th row
    elif path.suffix.lower() == ".xlsx":
        table, first_line = _read_xlsx(path), 2  # the sheet's row numbers
    else:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            header = next(csv.reader(handle), [])
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(encoding="utf8", column_names=[column_key(h) for h in header],
                                           skip_rows=1),
            convert_options=pacsv.ConvertOptions(
                column_types={column_key(h): pa.string() for h in header}, null_values=[""],
                strings_can_be_null=True, quoted_strings_can_be_null=True,
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
        columns[kind.currency_column] = pc.fill_null(pc.utf8_upper(given), currency)  # `usd` is USD
    for column in kind.columns:  # the export's format is its schema: a column the file leaves out is empty
        if column.name not in columns:
            columns[column.name] = pa.nulls(table.num_rows, _ARROW_TYPES.get(column.type, pa.string()))
    return pa.table(columns)


@dataclass(frozen=True)
class Rejection:
    """One row refused by a row rule: which rule, which cell, why (the message names file and line)."""

    index: int
    check: str
    column: str
    value: str | None
    reason: str


def _rule_rejections(strings: pa.Table, typed: pa.Table, kind: ExportKind) -> dict[int, Rejection]:
    """Rows whose values read but cannot be right; the first broken rule (in column order) per row,
    with the cell as the file wrote it (`1e400`, not `inf`)."""
    found: dict[int, Rejection] = {}

    def refuse(mask: pa.ChunkedArray, check: str, column: str, reason: str) -> None:
        for index in pc.indices_nonzero(pc.fill_null(mask, False)).to_pylist():
            if index not in found:
                found[index] = Rejection(index, check, column, strings[column][index].as_py(), reason)

    for column in kind.columns:
        if column.name not in typed.column_names:
            continue
        values = typed[column.name]
        if column.type == NUMBER:
            refuse(pc.invert(pc.is_finite(values)), "not_finite", column.name, "not a finite number")
            if column.non_negative:
                refuse(pc.less(values, 0), "negative", column.name, "negative")
        if column.name == kind.currency_column:
            known = pc.is_in(values, pa.array(sorted(CURRENCIES)))
            refuse(pc.invert(known), "unknown_currency", column.name, "unknown currency (not an ISO 4217 code)")
    return found


def _comparable(typed: pa.Table, kind: ExportKind, names: tuple[str, ...]) -> pa.Table:
    """The columns that decide "same row" / "same key": emails and text compared case-insensitively."""
    folded = {c.name for c in kind.columns if c.type == EMAIL or c.fold_case}
    return pa.table({name: pc.utf8_lower(typed[name]) if name in folded else typed[name] for name in names})


def _repeated_groups(table: pa.Table, rows: list[int], columns: tuple[str, ...]) -> list[list[int]]:
    """Among `rows`, the groups of more than one row with equal `columns`, each in row order. One
    group-by for the counts, then a join on just the repeated groups: a big export with few repeats
    never leaves Arrow."""
    keyed = table.select(list(columns)).take(pa.array(rows, pa.int64())).append_column(
        "__row", pa.array(rows, pa.int64())
    )
    groups = keyed.group_by(list(columns), use_threads=False).aggregate([("__row", "min"), ("__row", "count")])
    repeated = groups.filter(pc.greater(groups["__row_count"], 1))
    if not repeated.num_rows:
        return []

    def joinable(source: pa.Table, extra: str, values: pa.ChunkedArray) -> pa.Table:
        # a null never joins: compare a null-free text copy of the key (null -> a marker no cell holds)
        key = {f"k{i}": pc.fill_null(pc.cast(source[n], pa.string()), "\x00null") for i, n in enumerate(columns)}
        return pa.table({**key, extra: values})

    members = joinable(keyed, "__row", keyed["__row"]).join(
        joinable(repeated, "__first", repeated["__row_min"]), [f"k{i}" for i in range(len(columns))],
        join_type="inner", use_threads=False,
    )
    found: dict[int, list[int]] = {}
    for row, first in zip(members["__row"].to_pylist(), members["__first"].to_pylist(), strict=True):
        found.setdefault(first, []).append(row)
    return [sorted(group) for _, group in sorted(found.items())]


def _duplicate_rejections(
    strings: pa.Table, typed: pa.Table, kind: ExportKind, candidates: list[int], where: _Where
) -> tuple[list[int], dict[int, Rejection], int]:
    """Exact copies count once; rows with the same key but different values are all rejected. Every
    copy shares its key, so only rows whose key repeats are compared value by value."""
    values = tuple(c.name for c in kind.columns if c.name in typed.column_names)
    key = tuple(name for name in kind.key if name in values) or values
    if not candidates or not values:
        return candidates, {}, 0
    comparable = _comparable(typed, kind, values)
    copies: set[int] = set()
    rejected: dict[int, Rejection] = {}
    groups = _repeated_groups(comparable, candidates, key)
    involved = [index for members in groups for index in members]
    taken = pa.array(involved, pa.int64())
    row_of = dict(zip(involved, comparable.take(taken).to_pylist(), strict=True))
    given = [name for name in values if name in strings.column_names]  # as the file wrote them
    cells_of = dict(zip(involved, strings.select(given).take(taken).to_pylist(), strict=True))
    for members in groups:
        distinct: dict[tuple[str, ...], int] = {}  # the values of a row -> its first line
        rows = [row_of[index] for index in members]
        for index, row in zip(members, rows, strict=True):
            signature = tuple(str(row[name]) for name in values)
            if signature in distinct:
                copies.add(index)
            else:
                distinct[signature] = index
        if len(distinct) == 1:
            continue
        unique = sorted(distinct.values())
        differing = [name for name in values if name not in key and len({str(row_of[i][name]) for i in unique}) > 1]
        subject = " x ".join(name for name in key if any(row_of[i][name] is not None for i in unique))
        column = "/".join(differing)
        for index in unique:
            others = ", ".join(str(i + where.first_line) for i in unique if i != index)
            shown = "/".join(str(cells_of[index].get(name)) for name in differing)
            reason = f"conflicts with line {others} (same {subject}, different {column})"
            rejected[index] = Rejection(index, "conflicting_duplicate", column, shown, reason)
    kept = [i for i in candidates if i not in copies and i not in rejected]
    return kept, rejected, len(copies)


@dataclass(frozen=True)
class Screened:
    """One export after the row rules: rows to load, rows refused, exact copies dropped."""

    path: Path
    kind: ExportKind
    first_line: int
    rows: pa.Table  # typed, plus source_line
    rejected: pa.Table  # every cell as the file gave it, plus source_line and rejected_*
    rejections: tuple[Rejection, ...]
    duplicates: int

    def messages(self) -> list[str]:
        """One line per rejected row (the first MAX_LISTED), then the counts."""
        out = [
            f"{self.path}: line {r.index + self.first_line}: {r.column}: {r.reason} {r.value!r} (row rejected)"
            for r in self.rejections[:MAX_LISTED]
        ]
        if len(self.rejections) > MAX_LISTED:
            out.append(f"{self.path}: {len(self.rejections) - MAX_LISTED} more rejected rows (see spm_state.quality)")
        if self.duplicates:
            out.append(f"{self.path}: {self.duplicates} exact duplicate row(s) counted once")
        return out


def screen_export(strings: pa.Table, kind: ExportKind, where: _Where, currency: str) -> Screened:
    """Type one export, then apply the row rules (pure: no file access)."""
    typed = typed_export(strings, kind, where, currency)
    lines = pa.array(range(where.first_line, where.first_line + typed.num_rows), pa.int64())
    found = _rule_rejections(strings, typed, kind)
    candidates = [i for i in range(typed.num_rows) if i not in found]
    kept, conflicts, duplicates = _duplicate_rejections(strings, typed, kind, candidates, where)
    found.update(conflicts)
    rejections = tuple(found[i] for i in sorted(found))
    refused = pa.array([r.index for r in rejections], pa.int64())
    complete = strings
    for column in kind.columns:
        if column.name not in complete.column_names:
            complete = complete.append_column(column.name, pa.nulls(complete.num_rows, pa.string()))
    rejected = complete.take(refused).append_column(SOURCE_LINE, lines.take(refused))
    for name in REJECTED_COLUMNS:
        attribute = name.removeprefix("rejected_")
        rejected = rejected.append_column(name, pa.array([getattr(r, attribute) for r in rejections], pa.string()))
    rows = typed.append_column(SOURCE_LINE, lines).take(pa.array(kept, pa.int64()))
    return Screened(where.path, kind, where.first_line, rows, rejected, rejections, duplicates)


def _misshapen_row(path: Path) -> ConfigError | None:
    """The first CSV row whose number of values differs from the header's (Arrow's error has no line)."""
    if path.suffix.lower() in (".parquet", ".pq", ".xlsx"):
        return None
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            width = len(next(reader, []))
            for row in reader:
                if row and len(row) != width:
                    return ConfigError(
                        f"{len(row)} values but the header names {width} columns (quote a value that holds a comma)",
                        file=str(path), key=f"line {reader.line_num}",
                    )
    except (UnicodeDecodeError, csv.Error):
        return None
    return None


def read_export(
    path: Path, kind: ExportKind, currency: str = "USD", renames: Mapping[str, str] | None = None
) -> Screened:
    """Read, check, type and screen one export file; `renames` maps our column names to the file's headers."""
    if not path.exists():
        raise ConfigError("no such file", file=str(path), key=kind.name)
    try:
        strings, first_line = _read_strings(path)
    except (pa.ArrowInvalid, UnicodeDecodeError, csv.Error, ValueError, zipfile.BadZipFile) as exc:
        raise _misshapen_row(path) or ConfigError(f"cannot read ({str(exc).splitlines()[0]})", file=str(path)) from None
    if renames:
        ours = {column_key(theirs): column_key(name) for name, theirs in renames.items()}
        strings = strings.rename_columns([ours.get(n, n) for n in strings.column_names])
    return screen_export(strings, kind, _Where(path, first_line), currency)


def export_digest(path: Path, kind: ExportKind, currency: str, renames: Mapping[str, str] | None) -> str:
    """What decides the loaded rows: the file's bytes, how it is read (columns, currency) and this reader."""
    digest = hashlib.sha256(json.dumps([str(path), kind.name, currency, dict(renames or {})]).encode())
    for part in (path, Path(__file__), Path(__file__).with_name("settings.py")):
        digest.update(part.read_bytes())
    return digest.hexdigest()


def _with_file(table: pa.Table, path: Path) -> pa.Table:
    return table.append_column(SOURCE_FILE, pa.array([str(path)] * table.num_rows, pa.string()))


def object_names(config: FilesSource) -> list[str]:
    return [kind.name for kind in EXPORTS]


def raw_tables(config: FilesSource) -> set[str]:
    """The raw tables this source can produce: per export (configured or not), its rows and its rejected rows."""
    return {kind.name for kind in EXPORTS} | {rejected_table(kind) for kind in EXPORTS}


def files_source(config: FilesSource, context: ExtractContext) -> DltSource:
    """Per configured export, its rows and its rejected rows; every file is read and checked before
    anything loads, and a header-only file is refused unless allowed (it would delete stored rows)."""
    screened: list[Screened] = []
    for kind in EXPORTS:
        path = getattr(config, kind.name)
        if path is None or not context.wants(kind.name):
            continue
        renames = config.columns.get(kind.name)
        export = read_export(path, kind, config.currency, renames)
        context.digests[kind.name] = export_digest(path, kind, config.currency, renames)
        allowed = context.allow_empty or kind.name in config.allow_empty
        if export.rows.num_rows == 0 and not export.rejections and not allowed:
            raise ConfigError(
                f"no data rows (header only): loading it would delete the stored {kind.name}; if that is meant, "
                f"run `spm-sync sync --allow-empty` or add {kind.name} to allow_empty of source {config.name}",
                file=str(path), key=f"line {export.first_line}",
            )
        screened.append(export)

    for export in screened:
        for message in export.messages():
            context.warn(message)

    def rows(name: str, table: pa.Table) -> Iterator[pa.Table]:
        context.progress(name, table.num_rows, 1)
        yield table

    @dlt.source(name="files", max_table_nesting=0)
    def source() -> list[Any]:
        resources = []
        for export in screened:
            for name, table in ((export.kind.name, export.rows), (rejected_table(export.kind), export.rejected)):
                resources.append(dlt.resource(rows(name, _with_file(table, export.path)), name=name,
                                              table_name=name, write_disposition="replace"))
        return resources

    return source()
