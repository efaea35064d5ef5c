"""Pure transforms from Salesforce payloads (REST JSON records, Bulk API 2.0 CSV) to typed Arrow tables.

Why one typing function for both paths: the raw table must not depend on how a record travelled
(REST and Bulk give identical tables), so both go through `typed_column` with the describe type.
Column names follow dlt's snake_case convention (`SystemModstamp` -> `system_modstamp`).
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from dlt.common.normalizers.naming.snake_case import NamingConvention

from spm_sync.errors import ConnectorError

_NAMING = NamingConvention()
TIMESTAMP = pa.timestamp("us", tz="UTC")
ARROW_TYPES: dict[str, pa.DataType] = {
    "boolean": pa.bool_(),
    "int": pa.int64(),
    "long": pa.int64(),
    "double": pa.float64(),
    "currency": pa.float64(),
    "percent": pa.float64(),
    "date": pa.date32(),
    "datetime": TIMESTAMP,
}


@lru_cache(maxsize=4096)
def column_name(api_name: str) -> str:
    """The raw table's column (or table) name for an API name, as dlt names it."""
    return _NAMING.normalize_identifier(api_name)


def arrow_type(sf_type: str) -> pa.DataType:
    """Arrow type for a describe field type; text-like and unknown types stay strings."""
    return ARROW_TYPES.get(sf_type, pa.string())


@dataclass(frozen=True)
class Field:
    """A field to pull: API name and describe type."""

    name: str
    type: str


def arrow_schema(fields: Sequence[Field]) -> pa.Schema:
    return pa.schema(
        [pa.field(column_name(f.name), arrow_type(f.type), nullable=f.name != "Id") for f in fields]
    )


def _as_text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def typed_column(values: Sequence[Any] | pa.Array, sf_type: str) -> pa.Array:
    """Values as Salesforce sent them (JSON values or CSV text) -> an Arrow array of the describe type.

    Tolerant: numbers sent as strings, booleans as "true"/"false", empty strings as null.
    """
    target = arrow_type(sf_type)
    if isinstance(values, pa.Array):
        text = values
    elif target in (pa.bool_(), pa.int64(), pa.float64()):
        try:
            return pa.array(values, type=target)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            text = pa.array([_as_text(v) or None for v in values], type=pa.string())
    else:
        text = pa.array([_as_text(v) for v in values], type=pa.string())
    if target == pa.string():
        return text
    text = pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)  # empty text is no value
    try:
        if target == pa.int64():
            return text.cast(pa.float64()).cast(pa.int64())
        return text.cast(target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise ConnectorError(f"value not a valid {sf_type}: {str(exc)[:200]}") from None


def records_table(records: Sequence[Mapping[str, Any]], fields: Sequence[Field], schema: pa.Schema) -> pa.Table:
    """REST query records (dicts with an `attributes` key) -> typed table in `fields` order."""
    columns = [typed_column([r.get(f.name) for r in records], f.type) for f in fields]
    return pa.Table.from_arrays(columns, schema=schema)


def csv_table(data: bytes, fields: Sequence[Field], schema: pa.Schema, *, object_name: str) -> pa.Table:
    """One Bulk API 2.0 results chunk (CSV, header row of API names) -> typed table in `fields` order."""
    if not data.strip():
        return schema.empty_table()
    try:
        raw = pacsv.read_csv(
            io.BytesIO(data),
            read_options=pacsv.ReadOptions(block_size=16 << 20),
            parse_options=pacsv.ParseOptions(newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types={name: pa.string() for name in _header(data)},
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
                null_values=[""],
            ),
        )
    except pa.ArrowInvalid as exc:
        raise ConnectorError(f"Bulk API result is not valid CSV: {str(exc)[:200]}", object=object_name) from None
    by_lower = {name.lower(): name for name in raw.column_names}
    columns = []
    for f in fields:
        source = by_lower.get(f.name.lower())
        if source is None:
            columns.append(pa.nulls(raw.num_rows, arrow_type(f.type)))
            continue
        columns.append(typed_column(raw.column(source).combine_chunks(), f.type))
    return pa.Table.from_arrays(columns, schema=schema)


def _header(data: bytes) -> list[str]:
    first = data.split(b"\n", 1)[0].decode("utf-8-sig").strip()
    return [name.strip().strip('"') for name in first.split(",")]

