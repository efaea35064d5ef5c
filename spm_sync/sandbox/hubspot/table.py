"""One object type's records, stored column-wise with ids in ascending order.

Why ids stay sorted: new records always get a larger id, so `id -> row` is a binary search and
`after` paging is a slice; hard deletes leave a tombstone row (`gone`) instead of shifting rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spm_sync.sandbox.hubspot.columns import Column, NumberColumn, TextColumn, TimeColumn, _grown
from spm_sync.sandbox.hubspot.schema import DATE, DATETIME, NUMBER, ObjectTypeDef, PropertyDef
from spm_sync.sandbox.hubspot.values import NULL_MS


@dataclass(frozen=True)
class HistoryEntry:
    """One `propertiesWithHistory` entry."""

    value: str | None
    timestamp_ms: int
    source_type: str


@dataclass(frozen=True)
class SeedHistory:
    """Seeded value changes of one property, sorted by (row, time): kept as arrays, not objects,
    so a million deals' stage histories cost a few bytes each."""

    rows: np.ndarray
    stamps: np.ndarray
    values: list[str]

    def entries(self, row: int) -> list[HistoryEntry]:
        lo, hi = np.searchsorted(self.rows, [row, row + 1])
        return [HistoryEntry(self.values[i], int(self.stamps[i]), "CRM_UI") for i in range(hi - 1, lo - 1, -1)]


def new_column(prop: PropertyDef) -> Column:
    """An empty column of the storage kind that fits the property's type."""
    if prop.type == NUMBER:
        return NumberColumn()
    if prop.type in (DATE, DATETIME):
        return TimeColumn(date_only=prop.type == DATE)
    return TextColumn()


class ObjectTable:
    """Records of one object type. Not thread-safe: the portal serialises access."""

    def __init__(self, spec: ObjectTypeDef) -> None:
        self.spec = spec
        self.n = 0
        self.ids = np.empty(0, dtype=np.int64)
        self.archived = np.empty(0, dtype=bool)
        self.gone = np.empty(0, dtype=bool)
        self.archived_at = np.empty(0, dtype=np.int64)
        self.columns: dict[str, Column] = {
            spec.created_prop: TimeColumn(),
            spec.modified_prop: TimeColumn(),
        }
        self.history: dict[tuple[int, str], list[HistoryEntry]] = {}
        self.seed_history: dict[str, SeedHistory] = {}
        self.version = 0

    # -- bulk seeding -------------------------------------------------------------------------
    def load(self, ids: np.ndarray, created_ms: np.ndarray, updated_ms: np.ndarray,
             columns: dict[str, Column], archived: np.ndarray | None = None) -> None:
        """Replace the table with `len(ids)` records (ids ascending, unique)."""
        order = np.argsort(ids, kind="stable")
        if not np.array_equal(order, np.arange(len(ids))):
            raise ValueError(f"{self.spec.name}: ids must be loaded in ascending order")
        n = len(ids)
        self.n = n
        self.ids = np.asarray(ids, dtype=np.int64).copy()
        self.archived = np.zeros(n, bool) if archived is None else np.asarray(archived, bool).copy()
        self.gone = np.zeros(n, dtype=bool)
        self.archived_at = np.where(self.archived, np.asarray(updated_ms, np.int64), NULL_MS)
        self.columns = dict(columns)
        self.columns[self.spec.created_prop] = TimeColumn(np.asarray(created_ms, np.int64).copy())
        self.columns[self.spec.modified_prop] = TimeColumn(np.asarray(updated_ms, np.int64).copy())
        self.version += 1

    # -- lookups ------------------------------------------------------------------------------
    @property
    def created(self) -> np.ndarray:
        return self.columns[self.spec.created_prop].data[: self.n]  # type: ignore[union-attr]

    @property
    def updated(self) -> np.ndarray:
        return self.columns[self.spec.modified_prop].data[: self.n]  # type: ignore[union-attr]

    def row_of(self, record_id: int) -> int | None:
        """The row of a record that exists (archived or not), else None."""
        ids = self.ids[: self.n]
        row = int(np.searchsorted(ids, record_id))
        if row < self.n and ids[row] == record_id and not self.gone[row]:
            return row
        return None

    def rows_of(self, record_ids: np.ndarray) -> np.ndarray:
        """Rows for many ids at once; -1 where the record does not exist."""
        ids = self.ids[: self.n]
        rows = np.searchsorted(ids, record_ids)
        rows = np.minimum(rows, max(self.n - 1, 0))
        found = (self.n > 0) & (ids[rows] == record_ids) if self.n else np.zeros(len(record_ids), bool)
        found = found & ~self.gone[rows] if self.n else found
        return np.where(found, rows, -1)

    def live_mask(self, archived: bool = False) -> np.ndarray:
        """Rows visible in a listing: archived ones only when `archived` is asked for."""
        n = self.n
        return ~self.gone[:n] & (self.archived[:n] if archived else ~self.archived[:n])

    def column(self, name: str) -> Column | None:
        """A property's column; `hs_object_id` is a fresh view of the ids (for filters/sorts)."""
        if name == "hs_object_id":
            return NumberColumn(self.ids[: self.n].astype(np.float64))
        return self.columns.get(name)

    def render(self, row: int, name: str) -> str | None:
        """One property of one record as HubSpot sends it."""
        if name == "hs_object_id":
            return str(self.ids[row])
        column = self.columns.get(name)
        return None if column is None else column.render(row)

    # -- mutations ----------------------------------------------------------------------------
    def _reserve(self, rows: int) -> None:
        self.ids = _grown(self.ids, rows, 0)
        self.archived = _grown(self.archived, rows, False)
        self.gone = _grown(self.gone, rows, False)
        self.archived_at = _grown(self.archived_at, rows, NULL_MS)
        for column in self.columns.values():
            column.reserve(rows)

    def ensure_column(self, prop: PropertyDef) -> Column:
        """The property's column, created (all null) on first write."""
        column = self.columns.get(prop.name)
        if column is None:
            column = new_column(prop)
            column.reserve(max(self.n, len(self.ids)))
            self.columns[prop.name] = column
        return column

    def append(self, now_ms: int, record_id: int | None = None) -> int:
        """Add an empty record stamped `now_ms`; returns its row."""
        next_id = int(self.ids[self.n - 1]) + 1 if self.n else 1
        new_id = next_id if record_id is None else record_id
        if new_id < next_id:
            raise ValueError(f"{self.spec.name}: id {new_id} would break id order")
        self._reserve(self.n + 1)
        row = self.n
        self.n += 1
        self.ids[row] = new_id
        self.columns[self.spec.created_prop].set(row, now_ms)  # type: ignore[arg-type]
        self.columns[self.spec.modified_prop].set(row, now_ms)  # type: ignore[arg-type]
        self.version += 1
        return row

    def write(self, row: int, prop: PropertyDef, value: object, now_ms: int, source: str) -> None:
        """Store an already-parsed value and keep its history."""
        column = self.ensure_column(prop)
        key = (row, prop.name)
        if key not in self.history:
            self.history[key] = self.history_of(row, prop.name)
        column.set(row, value)  # type: ignore[arg-type]
        self.history[key].insert(0, HistoryEntry(column.render(row), now_ms, source))

    def history_of(self, row: int, name: str) -> list[HistoryEntry]:
        """Changes of one property, newest first: API/UI writes, then seeded changes, else the
        current value as of the last modification."""
        recorded = self.history.get((row, name))
        if recorded is not None:
            return list(recorded)
        seeded = self.seed_history.get(name)
        if seeded is not None:
            entries = seeded.entries(row)
            if entries:
                return entries
        value = self.render(row, name)
        return [] if value is None else [HistoryEntry(value, int(self.updated[row]), "IMPORT")]

    def touch(self, row: int, now_ms: int) -> None:
        """Bump the modification stamp (any mutation does)."""
        self.columns[self.spec.modified_prop].set(row, now_ms)  # type: ignore[arg-type]
        self.version += 1

    def set_archived(self, row: int, archived: bool, now_ms: int) -> None:
        self.archived[row] = archived
        self.archived_at[row] = now_ms if archived else NULL_MS
        self.touch(row, now_ms)

    def hard_delete(self, row: int) -> None:
        """GDPR-style delete: the record disappears from every listing, archived ones included."""
        self.gone[row] = True
        self.version += 1
