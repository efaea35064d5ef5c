"""Fast wire encoding: table rows -> REST query JSON records or Bulk API 2.0 CSV lines.

Why: a 2,000-record page of 20 fields holds 40,000 values, and making a Python object for each
(str, dict, then JSON) costs ~10 ms. Here each field of a page becomes a *band*: an (n, width)
byte matrix, one zero-padded row per record. A page is its bands side by side in one matrix with
the zero bytes squeezed out (no wire byte is ever 0: JSON escapes it, and CSV text holding a NUL
goes to the reference path), so the cost is a few numpy passes over the page's bytes. Text is
encoded once per distinct value (cached on the column's Pool), numbers by orjson's numpy
serialiser, dates and times from tables of formatted days and seconds.

The output is byte-identical to the reference path in render.py (records + orjson, csv_reference);
tests/sandbox/test_salesforce_wire.py holds the two together. Anything this module cannot encode
(compound fields, very long text) raises Unsupported and render.py uses the reference path.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import NamedTuple

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from .ids import id_chars, prefix_bytes
from .schema import FieldSpec
from .store import CODE_PREFIX, REF_SHIFT, ROW_MASK, Pool, Table

MS_PER_DAY = 86_400_000
FIRST_DAY, LAST_DAY = -25_567, 84_006  # 1900-01-01 .. 2199-12-31: the day table's range
WIDE_TEXT = 256  # widest encoded value kept in a pool's padded matrix
MAX_BAND_BYTES = 32 << 20  # a page band larger than this goes to the reference path
POOL_MATRIX_BYTES = 128 << 20  # largest padded matrix kept per text column and dialect
CSV_CHUNK_ROWS = 4096  # rows per CSV chunk: keeps the page matrix in cache


class Unsupported(Exception):
    """This page needs the reference encoder (compound fields, very long text)."""


class Band(NamedTuple):
    """One field of a page: record i's bytes are `data[i, :lengths[i]]`, zeros after (lengths None: full)."""

    data: np.ndarray
    lengths: np.ndarray | None


@dataclass(frozen=True)
class Dialect:
    """What differs between REST JSON and Bulk CSV values."""

    name: str
    null: bytes
    quote_scalars: bool  # CSV quotes numbers and booleans too
    stamp_suffix: bytes
    text: Callable[[str], bytes]
    exact_floats: bool  # CSV writes Python's repr; it differs from orjson's outside [1e-4, 1e16)


def _csv_text(value: str) -> bytes:
    return ('"' + value.replace('"', '""') + '"').encode()


JSON = Dialect("json", b"null", False, b"+0000", orjson.dumps, False)
CSV = Dialect("csv", b"", True, b"Z", _csv_text, True)


# ---- band helpers ------------------------------------------------------------------------------

def _fixed(tokens: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
    """Tokens as a zero-padded (k, width) matrix and their lengths."""
    width = max(1, max(len(t) for t in tokens))
    matrix = np.array(tokens, dtype=f"S{width}").view(np.uint8).reshape(len(tokens), width)
    return matrix, np.array([len(t) for t in tokens], dtype=np.int64)


def _quoted(band: Band) -> Band:
    n, width = band.data.shape
    data = np.zeros((n, width + 2), dtype=np.uint8)
    data[:, 0] = 34
    data[:, 1 : width + 1] = band.data
    if band.lengths is None:
        data[:, width + 1] = 34
        return Band(data, None)
    data[np.arange(n), band.lengths + 1] = 34
    return Band(data, band.lengths + 2)


def _replace(band: Band, rows: np.ndarray, tokens: list[bytes]) -> Band:
    """Records `rows` get `tokens` instead (one token for all, or one each): nulls, odd floats."""
    if not len(rows):
        return band
    matrix, lengths = _fixed(tokens)
    n, width = band.data.shape
    data = np.zeros((n, max(width, matrix.shape[1])), dtype=np.uint8)
    data[:, :width] = band.data
    data[rows] = 0
    data[rows, : matrix.shape[1]] = matrix
    out_lengths = np.full(n, width, dtype=np.int64) if band.lengths is None else band.lengths.astype(np.int64)
    out_lengths[rows] = lengths
    return Band(data, out_lengths)


def _nulls(band: Band, null: np.ndarray, dialect: Dialect) -> Band:
    return _replace(band, np.flatnonzero(null), [dialect.null])


def _items(array_json: bytes) -> Band:
    """Band of the items of a JSON array of numbers/nulls (no commas inside items)."""
    buf = np.frombuffer(array_json, dtype=np.uint8)
    commas = np.flatnonzero(buf == ord(","))
    starts = np.concatenate(([1], commas + 1))
    lengths = np.concatenate((commas, [len(buf) - 1])) - starts
    return Band(_gather(buf, starts, lengths, int(lengths.max())), lengths)


def assemble(consts: list[bytes], bands: list[np.ndarray], n: int) -> bytes:
    """n records laid out as consts[0] bands[0] consts[1] ... bands[-1] consts[-1], in record order."""
    parts = [np.frombuffer(consts[0], dtype=np.uint8)]
    for data, const in zip(bands, consts[1:], strict=True):
        parts += [data, np.frombuffer(const, dtype=np.uint8)]
    out = np.empty((n, sum(p.shape[-1] for p in parts)), dtype=np.uint8)
    at = 0
    for part in parts:
        width = part.shape[-1]
        if width:
            out[:, at : at + width] = part
            at += width
    return squeeze(out.reshape(-1))


def squeeze(flat: np.ndarray) -> bytes:
    """`flat` without its zero bytes. Arrow's filter copies the long runs of kept bytes in blocks
    (about 3x faster than numpy's boolean indexing on a page)."""
    keep = np.packbits(flat != 0, bitorder="little")
    mask = pa.Array.from_buffers(pa.bool_(), len(flat), [None, pa.py_buffer(keep)])
    kept = pc.filter(pa.array(flat), mask)
    return memoryview(kept.buffers()[1])[kept.offset : kept.offset + len(kept)].tobytes()


# ---- dates and times -----------------------------------------------------------------------------

def _two_digits() -> np.ndarray:
    return np.array([list(f"{i:02d}".encode()) for i in range(100)], dtype=np.uint8)


def _civil(days: np.ndarray) -> np.ndarray:
    """'YYYY-MM-DD' bytes of days since 1970-01-01 (H. Hinnant's civil_from_days)."""
    z = days.astype(np.int64) + 719_468
    era = z // 146_097
    doe = z - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = np.where(mp < 10, mp + 3, mp - 9)
    year = yoe + era * 400 + (month <= 2)
    two = _two_digits()
    out = np.empty((len(days), 10), dtype=np.uint8)
    out[:, 0:2], out[:, 2:4] = two[year // 100], two[year % 100]
    out[:, 5:7], out[:, 8:10] = two[month], two[day]
    out[:, 4] = out[:, 7] = ord("-")
    return out


@cache
def _day_table() -> np.ndarray:
    return _civil(np.arange(FIRST_DAY, LAST_DAY + 1))


@cache
def _second_table() -> np.ndarray:
    """'HH:MM:SS.' for every second of a day."""
    seconds = np.arange(86_400)
    two = _two_digits()
    out = np.empty((86_400, 9), dtype=np.uint8)
    out[:, 0:2], out[:, 3:5], out[:, 6:8] = two[seconds // 3600], two[seconds // 60 % 60], two[seconds % 60]
    out[:, 2] = out[:, 5] = ord(":")
    out[:, 8] = ord(".")
    return out


@cache
def _milli_table() -> np.ndarray:
    return np.array([list(f"{i:03d}".encode()) for i in range(1000)], dtype=np.uint8)


def _day_text(days: np.ndarray) -> np.ndarray:
    inside = (days >= FIRST_DAY) & (days <= LAST_DAY)
    if inside.all():
        return _day_table()[days - FIRST_DAY]
    out = np.empty((len(days), 10), dtype=np.uint8)
    out[inside] = _day_table()[days[inside] - FIRST_DAY]
    out[~inside] = _civil(days[~inside])
    return out


def _dates(values: np.ndarray, dialect: Dialect) -> Band:
    null = np.isnat(values)
    days = values.view(np.int64)
    data = np.empty((len(values), 12), dtype=np.uint8)
    data[:, 0] = data[:, 11] = 34
    data[:, 1:11] = _day_text(np.where(null, 0, days) if null.any() else days)
    return _nulls(Band(data, None), null, dialect)


def _datetimes(values: np.ndarray, dialect: Dialect) -> Band:
    null = np.isnat(values)
    stamps = values.view(np.int64)
    days, ms = np.divmod(np.where(null, 0, stamps) if null.any() else stamps, MS_PER_DAY)
    suffix = dialect.stamp_suffix
    data = np.empty((len(values), 25 + len(suffix)), dtype=np.uint8)
    data[:, 0] = data[:, -1] = 34
    data[:, 1:11] = _day_text(days)
    data[:, 11] = ord("T")
    data[:, 12:21] = _second_table()[ms // 1000]
    data[:, 21:24] = _milli_table()[ms % 1000]
    data[:, 24:-1] = np.frombuffer(suffix, dtype=np.uint8)
    return _nulls(Band(data, None), null, dialect)


# ---- other kinds ---------------------------------------------------------------------------------

@cache
def _prefix_table() -> np.ndarray:
    """Key prefix bytes by object code (row 0: placeholder for nulls)."""
    table = np.zeros((max(CODE_PREFIX) + 1, 3), dtype=np.uint8)
    for code, prefix in CODE_PREFIX.items():
        table[code] = prefix_bytes(prefix)
    return table


def _quoted_ids(chars: np.ndarray) -> Band:
    data = np.empty((len(chars), 20), dtype=np.uint8)
    data[:, 0] = data[:, 19] = 34
    data[:, 1:19] = chars
    return Band(data, None)


def _refs(codes: np.ndarray, dialect: Dialect) -> Band:
    null = codes < 0
    safe = np.where(null, 0, codes)
    chars = id_chars(_prefix_table()[safe >> REF_SHIFT], safe & ROW_MASK)
    return _nulls(_quoted_ids(chars), null, dialect)


@cache
def _bool_tokens(quote: bool) -> tuple[np.ndarray, np.ndarray]:
    return _fixed([b'"false"', b'"true"'] if quote else [b"false", b"true"])


def _bools(values: np.ndarray, dialect: Dialect) -> Band:
    matrix, lengths = _bool_tokens(dialect.quote_scalars)
    index = values.view(np.uint8)
    return Band(matrix[index], lengths[index])


def _numbers(values: np.ndarray, dialect: Dialect, as_int: bool) -> Band:
    null = np.isnan(values)
    if as_int:
        if (np.abs(values[~null]) >= 2**53).any():
            raise Unsupported("integer beyond float precision")
        band = _items(orjson.dumps(np.where(null, 0, values).astype(np.int64), option=orjson.OPT_SERIALIZE_NUMPY))
    else:
        band = _items(orjson.dumps(values, option=orjson.OPT_SERIALIZE_NUMPY))  # NaN, inf -> null as for floats
        magnitude = np.abs(values)
        odd = ~null & (np.isinf(values) | ((magnitude < 1e-4) & (magnitude > 0)) | (magnitude >= 1e16))
        if dialect.exact_floats and odd.any():
            rows = np.flatnonzero(odd)
            band = _replace(band, rows, [repr(v).encode() for v in values[rows].tolist()])
        if not dialect.quote_scalars:
            return band  # orjson already wrote null for NaN
    return _nulls(_quoted(band) if dialect.quote_scalars else band, null, dialect)


class _Encoded(NamedTuple):
    """A pool's values in one dialect: concatenated bytes, where each starts, and a padded matrix if narrow."""

    flat: np.ndarray  # uint8
    starts: np.ndarray
    lengths: np.ndarray
    nul: np.ndarray  # per value: holds a NUL byte (a page squeezes zeros out, so those pages can't use bands)
    matrix: np.ndarray | None


def _concat_tokens(values: list[str | None], dialect: Dialect) -> tuple[bytes, np.ndarray]:
    """Encoded values joined, and their lengths; in slices, because orjson returns each small result in
    an oversized buffer (~4 KB), which would cost gigabytes for a million distinct names held at once."""
    joined: list[bytes] = []
    lengths: list[int] = []
    for at in range(0, len(values), 8192):
        tokens = [dialect.null if v is None else dialect.text(v) for v in values[at : at + 8192]]
        lengths += map(len, tokens)
        joined.append(b"".join(tokens))
    return b"".join(joined), np.array(lengths, dtype=np.int64)


def _gather(flat: np.ndarray, starts: np.ndarray, lengths: np.ndarray, width: int) -> np.ndarray:
    """Zero-padded (len(starts), width) matrix of the byte runs flat[starts[i] : starts[i] + lengths[i]]."""
    if not len(flat):
        return np.zeros((len(starts), width), dtype=np.uint8)
    span = np.arange(width)
    picked = flat[np.minimum(starts[:, None] + span, len(flat) - 1)]
    return np.where(span < lengths[:, None], picked, 0).astype(np.uint8, copy=False)


def _encoded(pool: Pool, dialect: Dialect) -> _Encoded:
    def build(new: np.ndarray, previous: _Encoded | None) -> _Encoded:
        joined, new_lengths = _concat_tokens(new.tolist(), dialect)
        fresh = np.frombuffer(joined, dtype=np.uint8)
        flat = fresh if previous is None else np.concatenate([previous.flat, fresh])
        lengths = new_lengths if previous is None else np.concatenate([previous.lengths, new_lengths])
        starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
        nul = np.zeros(len(lengths), dtype=bool)
        nul[np.searchsorted(starts, np.flatnonzero(flat == 0), side="right") - 1] = True
        width = max(1, int(lengths.max(initial=0)))
        matrix = None
        if width <= WIDE_TEXT and width * len(lengths) <= POOL_MATRIX_BYTES:
            matrix = np.concatenate([_gather(flat, starts[at : at + 16384], lengths[at : at + 16384], width)
                                     for at in range(0, len(lengths), 16384)])
        return _Encoded(flat, starts, lengths, nul, matrix)

    return pool.derived(dialect.name, build)


def _text(pool: Pool, codes: np.ndarray, dialect: Dialect) -> Band:
    encoded = _encoded(pool, dialect)
    if encoded.nul[codes].any():
        raise Unsupported("text with NUL bytes")
    lengths = encoded.lengths[codes]
    if encoded.matrix is not None:
        return Band(encoded.matrix[codes], lengths)
    width = max(1, int(lengths.max()))
    if width * len(codes) > MAX_BAND_BYTES:
        raise Unsupported("text too long for a band")
    return Band(_gather(encoded.flat, encoded.starts[codes], lengths, width), lengths)


_BY_KIND: dict[str, Callable[[np.ndarray, Dialect], Band]] = {
    "date": _dates,
    "datetime": _datetimes,
    "ref": _refs,
    "bool": _bools,
    "float": lambda values, dialect: _numbers(values, dialect, as_int=False),
    "int": lambda values, dialect: _numbers(values, dialect, as_int=True),
}


def band(table: Table, spec: FieldSpec, rows: np.ndarray, dialect: Dialect, ids: np.ndarray,
         memo: dict[tuple[str, bytes], Band] | None = None) -> Band:
    """The band of one field for `rows`; `ids` are the rows' Id bytes (n, 18).

    `memo` (one per page) encodes identical columns once: audit fields usually repeat each other
    (CreatedById = LastModifiedById = OwnerId, LastModifiedDate = SystemModstamp).
    """
    kind = spec.storage
    if kind == "id":
        return _quoted_ids(ids)
    if kind == "str":
        return _text(table.pools[spec.name], table.codes(spec.name)[rows], dialect)
    if kind not in _BY_KIND:
        raise Unsupported(f"{kind} field {spec.name}")
    values = table.take(spec.name, rows)
    if memo is None:
        return _BY_KIND[kind](values, dialect)
    key = (kind, values.tobytes())
    if key not in memo:
        memo[key] = _BY_KIND[kind](values, dialect)
    return memo[key]


# ---- pages ---------------------------------------------------------------------------------------

def json_records(table: Table, fields: list[FieldSpec], rows: np.ndarray, url_base: str) -> bytes:
    """The `records` JSON array of a REST query page: attributes {type, url}, then fields in order."""
    n = len(rows)
    if n == 0:
        return b"[]"
    name = table.spec.name
    ids = id_chars(prefix_bytes(table.spec.key_prefix), rows)
    url = orjson.dumps(f"{url_base}/sobjects/{name}/")[:-1]
    consts = [b'{"attributes":{"type":' + orjson.dumps(name) + b',"url":' + url, b'"}']
    bands = [ids]
    memo: dict[tuple[str, bytes], Band] = {}
    for spec in fields:
        consts[-1] += b"," + orjson.dumps(spec.name) + b":"
        bands.append(band(table, spec, rows, JSON, ids, memo).data)
        consts.append(b"")
    consts[-1] += b"},"
    return b"[" + assemble(consts, bands, n)[:-1] + b"]"


def csv_lines(table: Table, fields: list[FieldSpec], rows: np.ndarray, sep: bytes, eol: bytes) -> bytes:
    """Bulk CSV lines of `rows` (no header), CSV_CHUNK_ROWS at a time."""
    prefix = prefix_bytes(table.spec.key_prefix)
    consts = [b"", *([sep] * (len(fields) - 1)), eol]
    chunks: list[bytes] = []
    for at in range(0, len(rows), CSV_CHUNK_ROWS):
        part = rows[at : at + CSV_CHUNK_ROWS]
        ids = id_chars(prefix, part)
        memo: dict[tuple[str, bytes], Band] = {}
        bands = [band(table, spec, part, CSV, ids, memo).data for spec in fields]
        chunks.append(assemble(consts, bands, len(part)))
    return b"".join(chunks)


