"""Associations between records, stored per direction as parallel id arrays.

Why arrays plus a lazily sorted index: seeding writes millions of pairs at once, reads ask "the
associations of these 100 (or 1,000) ids", and writes are rare — so sort once, binary-search often.
"""

from __future__ import annotations

import numpy as np


class _Direction:
    """All (from_id, to_id, primary) triples of one (from type, to type) direction."""

    def __init__(self) -> None:
        self._from: list[np.ndarray] = []
        self._to: list[np.ndarray] = []
        self._primary: list[np.ndarray] = []
        self._sorted: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def add(self, from_ids: np.ndarray, to_ids: np.ndarray, primary: np.ndarray) -> None:
        self._from.append(np.asarray(from_ids, np.int64))
        self._to.append(np.asarray(to_ids, np.int64))
        self._primary.append(np.asarray(primary, bool))
        self._sorted = None

    def remove(self, from_id: int, to_id: int) -> None:
        from_ids, to_ids, primary = self._index()
        keep = ~((from_ids == from_id) & (to_ids == to_id))
        self._from, self._to, self._primary = [from_ids[keep]], [to_ids[keep]], [primary[keep]]
        self._sorted = None

    def _index(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if self._sorted is None:
            from_ids = np.concatenate(self._from) if self._from else np.empty(0, np.int64)
            to_ids = np.concatenate(self._to) if self._to else np.empty(0, np.int64)
            primary = np.concatenate(self._primary) if self._primary else np.empty(0, bool)
            order = np.lexsort((to_ids, from_ids))
            self._sorted = (from_ids[order], to_ids[order], primary[order])
            self._from, self._to, self._primary = [self._sorted[0]], [self._sorted[1]], [self._sorted[2]]
        return self._sorted

    def targets(self, from_id: int) -> tuple[np.ndarray, np.ndarray]:
        """(to_ids ascending, primary flags) of one record."""
        from_ids, to_ids, primary = self._index()
        lo, hi = np.searchsorted(from_ids, [from_id, from_id + 1])
        return to_ids[lo:hi], primary[lo:hi]


class AssociationStore:
    """Both directions of every association, so either side can be read cheaply."""

    def __init__(self) -> None:
        self._directions: dict[tuple[str, str], _Direction] = {}

    def _direction(self, from_type: str, to_type: str) -> _Direction:
        return self._directions.setdefault((from_type, to_type), _Direction())

    def add_many(self, from_type: str, from_ids: np.ndarray, to_type: str, to_ids: np.ndarray,
                 primary: bool | np.ndarray = False) -> None:
        """Associate pairs in both directions (`primary` marks the labelled Primary association)."""
        flags = np.broadcast_to(np.asarray(primary, bool), np.shape(from_ids)).copy()
        self._direction(from_type, to_type).add(from_ids, to_ids, flags)
        self._direction(to_type, from_type).add(to_ids, from_ids, flags)

    def remove(self, from_type: str, from_id: int, to_type: str, to_id: int) -> None:
        self._direction(from_type, to_type).remove(from_id, to_id)
        self._direction(to_type, from_type).remove(to_id, from_id)

    def targets(self, from_type: str, from_id: int, to_type: str) -> tuple[np.ndarray, np.ndarray]:
        """The ids (ascending) `from_id` is associated with in `to_type`, with primary flags."""
        direction = self._directions.get((from_type, to_type))
        if direction is None:
            return np.empty(0, np.int64), np.empty(0, bool)
        return direction.targets(from_id)
