"""Backfills: re-pull a window of history in chunks, without moving the incremental cursors.

The window is cut into chunks (a month by default); each chunk is one extract run whose completion
is checkpointed in `spm_state.backfills`, so re-running the same backfill continues after the last
completed chunk. Rows merge on the CRM id, so the result equals a full sync over the window.
"""

from __future__ import annotations

import hashlib
import json
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from spm_sync.config import Config
from spm_sync.extract import Loading, sync_source
from spm_sync.runs import Run, utcnow
from spm_sync.store import Store, json_column

DEFAULT_CHUNK = timedelta(days=31)


@dataclass
class BackfillResult:
    backfill_id: str
    chunks_total: int
    chunks_run: int = 0
    chunks_skipped: int = 0
    records: dict[str, int] = field(default_factory=dict)
    api_calls: int = 0

    def __str__(self) -> str:
        total = sum(self.records.values())
        again = " (all done by an earlier run: --restart pulls the window again)" if not self.chunks_run else ""
        return (
            f"{self.chunks_run} chunks pulled, {self.chunks_skipped} already done (resumed), "
            f"{total} records, {self.api_calls} API calls{again}"
        )


def chunk_window(start: datetime, end: datetime, size: timedelta = DEFAULT_CHUNK) -> list[tuple[datetime, datetime]]:
    if end <= start:
        raise ValueError(f"empty backfill window: {start} .. {end}")
    chunks = []
    cursor = start
    while cursor < end:
        chunks.append((cursor, min(cursor + size, end)))
        cursor += size
    return chunks


def backfill_id(source: str, start: datetime, end: datetime, objects: list[str] | None) -> str:
    key = json.dumps([source, start.isoformat(), end.isoformat(), sorted(objects or [])])
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def _completed(store: Store, bid: str) -> set[str]:
    row = store.fetchone("SELECT checkpoint FROM spm_state.backfills WHERE backfill_id = ?", [bid])
    if row is None or row[0] is None:
        return set()
    checkpoint = json_column(row[0])
    return set(checkpoint.get("done", []))


def _save(
    store: Store,
    bid: str,
    source: str,
    objects: list[str] | None,
    window: tuple[datetime, datetime],
    done: set[str],
    status: str,
) -> None:
    with store.transaction():
        store.execute("DELETE FROM spm_state.backfills WHERE backfill_id = ?", [bid])
        store.execute(
            "INSERT INTO spm_state.backfills VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                bid,
                source,
                ",".join(objects or []),
                window[0],
                window[1],
                json.dumps({"done": sorted(done)}),
                status,
                utcnow(),
            ],
        )


def run_backfill(
    cfg: Config,
    store: Store,
    source: str,
    start: datetime,
    end: datetime,
    *,
    run: Run,
    objects: list[str] | None = None,
    progress: Any = None,
    chunk: timedelta = DEFAULT_CHUNK,
    restart: bool = False,
    loading: Loading = nullcontext,
) -> BackfillResult:
    """Pull the chunks of [start, end) not done yet by an earlier run of the same backfill (`restart`:
    all of them again)."""
    bid = backfill_id(source, start, end, objects)
    chunks = chunk_window(start, end, chunk)
    done = set() if restart else _completed(store, bid)
    result = BackfillResult(backfill_id=bid, chunks_total=len(chunks))
    if hasattr(progress, "chunks"):
        progress.chunks(len(chunks), len(done & {c.isoformat() for c, _ in chunks}))
    for chunk_start, chunk_end in chunks:
        key = chunk_start.isoformat()
        if key in done:
            result.chunks_skipped += 1
            continue
        _save(store, bid, source, objects, (start, end), done, "running")
        synced = sync_source(
            cfg, store, source, run=run, objects=objects, window=(chunk_start, chunk_end), progress=progress,
            loading=loading,
        )
        if synced.stopped_by_budget:
            _save(store, bid, source, objects, (start, end), done, "paused")
            run.details["paused"] = synced.stopped_by_budget
            break
        for name, n in synced.records.items():
            result.records[name] = result.records.get(name, 0) + n
        result.api_calls += int(synced.api_calls.get("total", 0))
        done.add(key)
        result.chunks_run += 1
        if hasattr(progress, "chunk_done"):
            progress.chunk_done()
    else:
        _save(store, bid, source, objects, (start, end), done, "completed")
    run.details["backfill_id"] = bid
    return result
