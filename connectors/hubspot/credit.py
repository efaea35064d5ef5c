"""What crediting needs beyond the deal records: owner history and deal splits, read only where needed.

Why selective: both are extra calls per deal. HubSpot stamps `hubspot_owner_assigneddate` whenever a
deal's owner changes, so a closed deal whose owner was assigned on or before its close day is still
with the rep who closed it; only deals reassigned after their close day need the owner's history
(batch read with `propertiesWithHistory=hubspot_owner_id`, documented at 50 inputs per call). HubSpot
documents no cheap way to tell which deals have splits, so splits are read for the closed-won deals
pulled in this run (only won revenue is split), 100 per call (the CRM batch limit; the splits endpoint
documents none). Assumption, not documented: a change of a deal's splits bumps its modification stamp,
so an incremental run re-reads the splits of exactly the deals that changed.

Ids wait in per-kind buffers and are read in full batches; the ids still waiting when the page loop
commits its resume point are saved with it (`pending`), so a budget stop never loses one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, MutableMapping, Sequence
from datetime import UTC, datetime
from typing import Any

import dlt
import pyarrow as pa

from spm_sync.connectors.hubspot.client import Unavailable
from spm_sync.connectors.hubspot.reader import Reader, Record
from spm_sync.connectors.hubspot.records import as_text
from spm_sync.connectors.hubspot.settings import (
    DEAL_SPLITS_TABLE,
    HISTORY_BATCH_SIZE,
    OWNER_HISTORY_TABLE,
    SPLITS_BATCH_SIZE,
)

OWNER = "hubspot_owner_id"
ASSIGNED = "hubspot_owner_assigneddate"
CREDIT_PROPERTIES = (OWNER, ASSIGNED, "closedate", "hs_is_closed", "hs_is_closed_won")


def _day(text: Any) -> str | None:
    """The UTC day of a HubSpot datetime (ISO-8601 or epoch ms) as YYYY-MM-DD; None if unreadable."""
    if text in (None, ""):
        return None
    raw = str(text).strip()
    try:
        if raw.lstrip("-").isdigit():
            return datetime.fromtimestamp(int(raw) / 1000, tz=UTC).date().isoformat()
        return datetime.fromisoformat(raw.replace("Z", "+00:00")).astimezone(UTC).date().isoformat()
    except (ValueError, OverflowError):
        return None


def _true(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def reassigned_after_close(properties: Mapping[str, Any]) -> bool:
    """A closed deal whose current owner was assigned after its close day (or whose dates are unreadable:
    then only the history can tell)."""
    if not _true(properties.get("hs_is_closed")):
        return False
    assigned, closed = _day(properties.get(ASSIGNED)), _day(properties.get("closedate"))
    if assigned is None or closed is None:
        return properties.get(ASSIGNED) not in (None, "")
    return assigned > closed


def owner_history_table(records: Sequence[Record]) -> pa.Table:
    """One row per version of `hubspot_owner_id` (value as sent, "" for no owner) per deal."""
    rows = [
        (str(r.get("id")), as_text(version.get("value")) or "", as_text(version.get("timestamp")) or "",
         as_text(version.get("sourceType")), as_text(version.get("sourceId")))
        for r in records
        for version in ((r.get("propertiesWithHistory") or {}).get(OWNER) or [])
    ]
    key = ("deal_id", "value", "timestamp")  # the primary key: non-null, as dlt's schema declares it
    schema = pa.schema([pa.field(name, pa.string(), nullable=name not in key)
                        for name in (*key, "source_type", "source_id")])
    return pa.table([pa.array([row[i] for row in rows], pa.string()) for i in range(len(schema))], schema=schema)


def splits_table(requested: Sequence[str], results: Sequence[Record]) -> pa.Table:
    """One row per split as sent; a requested deal without splits (an empty list, or left out of the
    answer) gets a `removed` tombstone that clears splits stored earlier."""
    rows: list[dict[str, Any]] = []
    by_deal = {str(r.get("id")): r.get("splits") or [] for r in results}
    for deal in dict.fromkeys([*requested, *by_deal]):
        splits = by_deal.get(deal) or []
        for split in splits:
            props = split.get("properties") or {}
            rows.append({
                "id": str(split.get("id")), "deal_id": deal, OWNER: as_text(props.get(OWNER)),
                "hs_deal_split_percentage": as_text(props.get("hs_deal_split_percentage")),
                "created_at": as_text(split.get("createdAt")), "updated_at": as_text(split.get("updatedAt")),
                "archived": _true(split.get("archived")), "removed": False,
            })
        if not splits:
            rows.append({"id": f"{deal}:none", "deal_id": deal, OWNER: None, "hs_deal_split_percentage": None,
                         "created_at": None, "updated_at": None, "archived": False, "removed": True})
    schema = pa.schema([
        pa.field("id", pa.string(), nullable=False), pa.field("deal_id", pa.string(), nullable=False),
        (OWNER, pa.string()),
        ("hs_deal_split_percentage", pa.string()), ("created_at", pa.string()), ("updated_at", pa.string()),
        ("archived", pa.bool_()), ("removed", pa.bool_()),
    ])
    return pa.Table.from_pylist(rows, schema=schema)


class CreditReads:
    """Owner-history and split reads for the deals of one run (see the module docstring).

    `pending` is the dlt state dict the waiting ids are saved in at each commit and read back from.
    """

    def __init__(self, reader: Reader, pending: MutableMapping[str, Any], warn: Callable[[str], None]) -> None:
        self.reader = reader
        self.pending = pending
        self.warn = warn
        self.history: list[str] = list(pending.get("history") or [])
        self.splits: list[str] = list(pending.get("splits") or [])
        self.splits_unavailable = False

    def save(self) -> None:
        """Record the waiting ids with the resume point being committed."""
        self.pending["history"] = list(self.history)
        self.pending["splits"] = list(self.splits)

    def add(self, records: Sequence[Record]) -> Iterator[Any]:
        """Queue the deals of a page that need a read; read every batch that is full."""
        for record in records:
            if _true(record.get("archived")):
                continue
            props = record.get("properties") or {}
            if reassigned_after_close(props):
                self.history.append(str(record["id"]))
            if _true(props.get("hs_is_closed_won")) and not self.splits_unavailable:
                self.splits.append(str(record["id"]))
        while len(self.history) >= HISTORY_BATCH_SIZE:
            yield from self._read_history(HISTORY_BATCH_SIZE)
        while len(self.splits) >= SPLITS_BATCH_SIZE:
            yield from self._read_splits(SPLITS_BATCH_SIZE)

    def flush(self) -> Iterator[Any]:
        """Read whatever is waiting (the end of a pass), then forget it."""
        while self.history:
            yield from self._read_history(HISTORY_BATCH_SIZE)
        while self.splits:
            yield from self._read_splits(SPLITS_BATCH_SIZE)
        self.save()

    def _read_history(self, size: int) -> Iterator[Any]:
        ids = self.history[:size]
        records = self.reader.owner_history("deals", ids, OWNER)
        del self.history[:size]
        table = owner_history_table(records)
        if table.num_rows:
            yield dlt.mark.with_table_name(table, OWNER_HISTORY_TABLE)

    def _read_splits(self, size: int) -> Iterator[Any]:
        ids = self.splits[:size]
        try:
            results = self.reader.deal_splits(ids)
        except Unavailable as exc:
            self.splits_unavailable = True
            self.splits.clear()
            self.warn(f"hubspot deal splits skipped: {exc.message}")
            return
        del self.splits[:size]
        yield dlt.mark.with_table_name(splits_table(ids, results), DEAL_SPLITS_TABLE)
