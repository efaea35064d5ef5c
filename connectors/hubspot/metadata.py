"""Property and pipeline definitions cached between runs, with an expiry.

Why: a no-change incremental sync should cost one search per object, and a portal's property and
pipeline definitions rarely change. HubSpot has no conditional GET for them, so a cached answer younger
than `settings.METADATA_MAX_AGE_S` is used as it is; an older one is read again. An initial load or
`sync --full` always reads them fresh (`refresh=True`). Like Salesforce describes, a property added in
HubSpot reaches the raw tables within that age (at once with `sync --full`).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from spm_sync.connectors.hubspot.settings import METADATA_MAX_AGE_S


class MetadataCache:
    """JSON answers under `<cache_dir>/hubspot_metadata/<key>.json`, each with its fetch time."""

    def __init__(self, cache_dir: Path, *, clock: Callable[[], float] = time.time,
                 max_age_s: float = METADATA_MAX_AGE_S) -> None:
        self.folder = cache_dir / "hubspot_metadata"
        self.clock = clock
        self.max_age_s = max_age_s

    def _path(self, key: str) -> Path:
        return self.folder / f"{key}.json"

    def _load(self, key: str) -> dict[str, Any] | None:
        try:
            entry = json.loads(self._path(key).read_text())
        except (OSError, ValueError):
            return None
        return entry if isinstance(entry, dict) and "value" in entry else None

    def get(self, key: str, fetch: Callable[[], Any], *, refresh: bool = False) -> tuple[Any, bool]:
        """(value, fetched): the cached value when fresh, else `fetch()`'s answer, stored."""
        now = self.clock()
        cached = None if refresh else self._load(key)
        if cached is not None and 0 <= now - float(cached.get("fetched_at", 0)) < self.max_age_s:
            return cached["value"], False
        value = fetch()
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self._path(key)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"fetched_at": now, "value": value}))
        tmp.replace(path)
        return value, True
