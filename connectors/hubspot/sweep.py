"""Hard-delete detection: ids we loaded before that HubSpot no longer lists, live or archived.

Why a local id file: connectors never read the store, and HubSpot keeps no tombstones for
GDPR/hard deletes; the ids loaded so far live in the source's cache dir (`ExtractContext.cache_dir`),
one sorted int64 array per object.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np


def as_ids(values: Iterable[str]) -> np.ndarray:
    """Numeric record ids (HubSpot ids are integers sent as strings); others are skipped."""
    return np.unique(np.array([int(v) for v in values if str(v).isdigit()], dtype=np.int64))


def hard_deleted(known: np.ndarray, live: np.ndarray, archived: np.ndarray, fresh: np.ndarray) -> np.ndarray:
    """Known ids neither live nor archived now; ids first seen this run are never candidates
    (the search index may not list a record created seconds ago)."""
    gone = np.setdiff1d(known, live, assume_unique=True)
    gone = np.setdiff1d(gone, archived, assume_unique=True)
    return np.setdiff1d(gone, fresh, assume_unique=True)


class KnownIds:
    """The ids of one object loaded so far, persisted as `<cache_dir>/<object>.ids.npy`."""

    def __init__(self, cache_dir: Path, object_name: str) -> None:
        self.path = cache_dir / f"hubspot_{object_name}.ids.npy"
        self.ids = np.load(self.path) if self.path.exists() else np.empty(0, np.int64)
        self.fresh: list[np.ndarray] = []

    def add(self, ids: Iterable[str]) -> None:
        self.fresh.append(as_ids(ids))

    def fresh_ids(self) -> np.ndarray:
        return np.unique(np.concatenate(self.fresh)) if self.fresh else np.empty(0, np.int64)

    def replace(self, ids: np.ndarray) -> None:
        """After a sweep: the live ids are the new known set."""
        self.ids = np.unique(ids)
        self.fresh = []

    def save(self) -> None:
        merged = np.union1d(self.ids, self.fresh_ids())
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp.npy")
        np.save(tmp, merged)
        os.replace(tmp, self.path)
        self.ids, self.fresh = merged, []
