"""Typed, growable columns holding one property for every record of an object type.

Why columns and not one dict per record: a large portal holds ~1M records; per-record dicts of
strings cost kilobytes each, while numpy columns cost 4-8 bytes per value and let search filters
run vectorised. Values are rendered to HubSpot's wire strings only when a page is sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from spm_sync.sandbox.hubspot.values import NULL_MS, format_datetime, format_number

_MIN_CAPACITY = 16


def _grown(array: np.ndarray, needed: int, fill: Any) -> np.ndarray:
    """Return `array` with room for `needed` rows (amortised doubling), new slots set to `fill`."""
    if needed <= len(array):
        return array
    capacity = max(needed, _MIN_CAPACITY, 2 * len(array))
    grown = np.full(capacity, fill, dtype=array.dtype)
    grown[: len(array)] = array
    return grown


class NumberColumn:
    """float64 values; NaN is null."""

    kind = "number"

    def __init__(self, values: np.ndarray | None = None) -> None:
        self.data = np.asarray(values, dtype=np.float64) if values is not None else np.empty(0)

    def reserve(self, rows: int) -> None:
        self.data = _grown(self.data, rows, np.nan)

    def set(self, row: int, value: float | None) -> None:
        self.data[row] = np.nan if value is None else value

    def get(self, row: int) -> float | None:
        value = self.data[row]
        return None if np.isnan(value) else float(value)

    def render(self, row: int) -> str | None:
        value = self.data[row]
        return None if np.isnan(value) else format_number(float(value))

    def keys(self, n: int) -> np.ndarray:
        """Sortable/comparable values for rows [0, n)."""
        return self.data[:n]

    def present(self, n: int) -> np.ndarray:
        return ~np.isnan(self.data[:n])


class TimeColumn:
    """int64 epoch milliseconds; NULL_MS is null. `date_only` renders as YYYY-MM-DD."""

    kind = "time"

    def __init__(self, values: np.ndarray | None = None, date_only: bool = False) -> None:
        self.data = np.asarray(values, dtype=np.int64) if values is not None else np.empty(0, np.int64)
        self.date_only = date_only

    def reserve(self, rows: int) -> None:
        self.data = _grown(self.data, rows, NULL_MS)

    def set(self, row: int, value: int | None) -> None:
        self.data[row] = NULL_MS if value is None else value

    def get(self, row: int) -> int | None:
        value = int(self.data[row])
        return None if value == NULL_MS else value

    def render(self, row: int) -> str | None:
        value = int(self.data[row])
        if value == NULL_MS:
            return None
        text = format_datetime(value)
        return text[:10] if self.date_only else text

    def keys(self, n: int) -> np.ndarray:
        return self.data[:n]

    def present(self, n: int) -> np.ndarray:
        return self.data[:n] != NULL_MS


class TextColumn:
    """Dictionary-encoded strings: int32 codes into `categories`; -1 is null.

    Why: most HubSpot string values repeat (stages, statuses, owner ids), and codes make EQ/IN
    filters integer comparisons.
    """

    kind = "text"

    def __init__(self) -> None:
        self.codes = np.empty(0, dtype=np.int32)
        self.categories: list[str] = []
        self._index: dict[str, int] = {}
        self._lower: dict[str, list[int]] | None = None

    @classmethod
    def from_values(cls, values: Sequence[str | None] | np.ndarray) -> TextColumn:
        """Encode many values at once (vectorised for seeding)."""
        column = cls()
        array = np.asarray(values, dtype=object)
        present = np.array([v is not None for v in array], dtype=bool) if len(array) else np.zeros(0, bool)
        codes = np.full(len(array), -1, dtype=np.int32)
        if present.any():
            uniques, inverse = np.unique(array[present].astype(str), return_inverse=True)
            codes[present] = inverse.astype(np.int32)
            column.categories = [str(u) for u in uniques]
            column._index = {value: i for i, value in enumerate(column.categories)}
        column.codes = codes
        return column

    @classmethod
    def from_arrow(cls, values: pa.Array | pa.ChunkedArray) -> TextColumn:
        """Encode an Arrow string column via Arrow's own dictionary encoding (fast at 1M rows)."""
        array = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
        encoded = pc.dictionary_encode(array.cast(pa.string()))
        column = cls()
        column.codes = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False).astype(np.int32)
        column.categories = encoded.dictionary.to_pylist()
        column._index = {value: i for i, value in enumerate(column.categories)}
        return column

    def code_of(self, value: str, create: bool = False) -> int:
        """The code for `value` (-2 when unknown and not created)."""
        code = self._index.get(value)
        if code is None:
            if not create:
                return -2
            code = len(self.categories)
            self.categories.append(value)
            self._index[value] = code
            if self._lower is not None:
                self._lower.setdefault(value.lower(), []).append(code)
        return code

    def reserve(self, rows: int) -> None:
        self.codes = _grown(self.codes, rows, -1)

    def set(self, row: int, value: str | None) -> None:
        self.codes[row] = -1 if value is None else self.code_of(value, create=True)

    def get(self, row: int) -> str | None:
        code = int(self.codes[row])
        return None if code < 0 else self.categories[code]

    render = get

    def keys(self, n: int) -> np.ndarray:
        """Codes remapped to the lexical rank of their category (null -> -1)."""
        order = np.argsort(np.asarray(self.categories, dtype=object)) if self.categories else np.empty(0, int)
        rank = np.empty(len(self.categories) + 1, dtype=np.int64)
        rank[order] = np.arange(len(self.categories))
        rank[-1] = -1
        return rank[self.codes[:n]]

    def codes_equal_ci(self, value: str) -> np.ndarray:
        """Codes of the categories equal to `value` ignoring case (HubSpot EQ on strings)."""
        if self._lower is None:
            lower: dict[str, list[int]] = {}
            for code, category in enumerate(self.categories):
                lower.setdefault(category.lower(), []).append(code)
            self._lower = lower
        return np.array(self._lower.get(value.lower(), []), dtype=np.int32)

    def codes_matching(self, predicate: Any) -> np.ndarray:
        """Codes whose category satisfies `predicate(str) -> bool`."""
        return np.array([i for i, value in enumerate(self.categories) if predicate(value)], dtype=np.int32)

    def present(self, n: int) -> np.ndarray:
        return self.codes[:n] >= 0


Column = NumberColumn | TimeColumn | TextColumn
