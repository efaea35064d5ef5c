"""One CRM object's extraction: initial load, incremental window, backfill, archives, hard deletes.

Every object in settings.STANDARD_OBJECTS (and config.extra_objects) goes through `ObjectSync`;
nothing here is specific to one object type. State lives in the dlt resource state:

- `cursor` (ms): everything modified before it is loaded; the next window starts at cursor - lookback.
- `initial` {after | after_id, started_ms}: an initial load in progress (list pages resume at `after`,
  search pages after `after_id`; see ObjectDef.search_first_load).
- `window` {start, end, after_id}: an incremental window in progress (resumes after `after_id`).
- `backfill` {start, end, after_id}: same for a backfill (a separate pipeline, so never the cursor).
- `tail` {id: modification stamp}: the records of the last window the next one re-reads (its lookback);
  a re-read with the same stamp is the version already loaded and is dropped, so a sync with nothing
  changed loads no rows (and normalize / kpis see unchanged raw tables, fingerprint.py).
- `swept_ms`: when the last hard-delete sweep ran.
- `archived_ms`: when archived records were last listed (every `archive_check_hours`; the next check
  lists those archived since then, so an archive is caught within that cadence).
- `credit_pending` {history, splits} (deals): owner-history / split reads still owed for committed pages.

State only advances once a page's associations are read too, so a budget stop resumes exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator, Mapping, MutableMapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any

import dlt
import numpy as np
import pyarrow as pa

from spm_sync.config import HubSpotSource
from spm_sync.connectors.context import ExtractContext
from spm_sync.connectors.hubspot.client import Unavailable
from spm_sync.connectors.hubspot.credit import CREDIT_PROPERTIES, CreditReads
from spm_sync.connectors.hubspot.metadata import MetadataCache
from spm_sync.connectors.hubspot.reader import Reader, Record
from spm_sync.connectors.hubspot.records import (
    association_rows,
    association_table,
    deleted_table,
    inline_association_rows,
    pipeline_stage_rows,
    records_table,
    select_properties,
    stage_entry_properties,
    unlinked_rows,
)
from spm_sync.connectors.hubspot.settings import (
    ASSOCIATION_BATCH_SIZE,
    ASSOCIATIONS_TABLE,
    PIPELINE_STAGES_TABLE,
    ObjectDef,
)
from spm_sync.connectors.hubspot.sweep import KnownIds, as_ids, hard_deleted
from spm_sync.errors import BudgetExhausted

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS


def to_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def archived_since(record: Record, since_ms: int) -> bool:
    """Whether a record's `archivedAt` is at or after `since_ms` (unknown: yes, to be safe)."""
    stamp = record.get("archivedAt")
    try:
        return to_ms(datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))) >= since_ms
    except ValueError:
        return True


def check_due(last_ms: Any, now_ms: int, every_ms: float) -> bool:
    """Whether a check last run at `last_ms` (None: never) is due again at `now_ms`."""
    return last_ms is None or now_ms - int(last_ms) >= every_ms


def iso_ms(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass
class AssociationBuffer:
    """Links of pulled pages: taken inline from list pages, otherwise read in v4 batches of 1,000 ids.

    Initial list pages carry each record's links (first 100 per type): only records with more wait
    for a v4 read, as do all records of search pages (search returns no associations).
    """

    obj: ObjectDef
    reader: Reader
    warn: Callable[[str], None]
    pending: dict[str, list[str]] = field(default_factory=dict)
    unavailable: set[str] = field(default_factory=set)
    kinds: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)

    @property
    def waiting(self) -> bool:
        return any(self.pending.values())

    def would_overflow(self, more: int) -> bool:
        return any(len(ids) + more > ASSOCIATION_BATCH_SIZE for ids in self.pending.values())

    def _readable(self) -> list[str]:
        return [to_object for to_object in self.obj.associations if to_object not in self.unavailable]

    def _skip(self, to_object: str, exc: Unavailable) -> None:
        self.unavailable.add(to_object)
        self.warn(f"hubspot {self.obj.name}->{to_object} associations skipped: {exc.message}")

    def add(self, records: list[Record]) -> None:
        for to_object in self._readable():
            self.pending.setdefault(to_object, []).extend(str(r["id"]) for r in records)

    def inline(self, records: list[Record]) -> Iterator[Any]:
        """The links list-page records carry; records whose inline list is cut wait for a v4 read."""
        for to_object in self._readable():
            try:
                if to_object not in self.kinds:
                    self.kinds[to_object] = self.reader.association_kinds(self.obj.name, to_object)
            except Unavailable as exc:
                self._skip(to_object, exc)
                continue
            rows, again = inline_association_rows(self.obj.table, to_object, records, self.kinds[to_object])
            if rows:
                yield dlt.mark.with_table_name(association_table(rows), ASSOCIATIONS_TABLE)
            if again:
                self.pending.setdefault(to_object, []).extend(again)

    def flush(self) -> Iterator[Any]:
        pending, self.pending = self.pending, {}
        for to_object, ids in pending.items():
            if not ids or to_object in self.unavailable:
                continue
            try:
                linked: set[str] = set()
                for results in self.reader.associations(self.obj.name, to_object, ids):
                    rows = association_rows(self.obj.table, to_object, results)
                    linked.update(row["from_id"] for row in rows)
                    if rows:
                        yield dlt.mark.with_table_name(association_table(rows), ASSOCIATIONS_TABLE)
                unlinked = unlinked_rows(self.obj.table, to_object, (i for i in ids if i not in linked))
                if unlinked:
                    yield dlt.mark.with_table_name(association_table(unlinked), ASSOCIATIONS_TABLE)
            except Unavailable as exc:
                self._skip(to_object, exc)


class ObjectSync:
    """Pulls one object type into its raw table (see the module docstring for the state)."""

    def __init__(self, obj: ObjectDef, reader: Reader, config: HubSpotSource, context: ExtractContext) -> None:
        self.obj = obj
        self.reader = reader
        self.config = config
        self.context = context
        self.now_ms = to_ms(context.now)
        self.credit: CreditReads | None = None

    # -- entry point ----------------------------------------------------------------------------
    def run(self, state: MutableMapping[str, Any]) -> Iterator[Any]:
        """All items for this object; an unreadable object is reported once and skipped."""
        try:
            refresh = self.context.full or "cursor" not in state
            properties = yield from self._properties(refresh=refresh)
            known = KnownIds(self.context.cache_dir, self.obj.table)
            try:
                if self.context.window is not None:
                    yield from self._backfill(state, properties, known)
                elif self.context.full or "cursor" not in state:
                    yield from self._initial(state, properties, known)
                else:
                    yield from self._incremental(state, properties, known)
            finally:
                known.save()
        except Unavailable as exc:
            self.context.warn(f"hubspot object {self.obj.name} skipped: {exc.message}")
        except BudgetExhausted as exc:
            self.context.budget_stop(f"hubspot object {self.obj.name}", exc)

    # -- properties -----------------------------------------------------------------------------
    def _properties(self, *, refresh: bool) -> Generator[Any, None, list[str]]:
        """Every property (or config's allow/deny), plus stage-entry stamps for every deal stage.

        Definitions come from the metadata cache unless `refresh`; pipeline stages are loaded when read.
        """
        name = self.obj.name
        cache = MetadataCache(self.context.cache_dir)
        required = [self.obj.modified_property, *(CREDIT_PROPERTIES if self.obj.credit else ())]
        if self.obj.stage_properties:
            pipelines, fetched = cache.get(f"{self.obj.table}.pipelines", lambda: self.reader.pipelines(name),
                                           refresh=refresh)
            rows = pipeline_stage_rows(pipelines)
            if rows and fetched:
                yield dlt.mark.with_table_name(rows, PIPELINE_STAGES_TABLE)
            required += stage_entry_properties(dict.fromkeys(r["stage_id"] for r in rows))
        fields = self.config.fields
        allow, deny = fields.allow.get(name) or fields.allow.get(self.obj.table), fields.deny.get(name)
        available: list[str] = [] if allow else cache.get(
            f"{self.obj.table}.properties", lambda: self.reader.property_names(name), refresh=refresh)[0]
        required = [p for p in required if p not in set(deny or ())]
        return select_properties(available, allow=allow, deny=deny, required=required)

    # -- the three modes ----------------------------------------------------------------------
    def _initial(self, state: MutableMapping[str, Any], properties: list[str], known: KnownIds) -> Iterator[Any]:
        if self.context.full:
            state.clear()
        progress = state.setdefault("initial", {"after": None, "started_ms": self.now_ms})
        self._start_credit(state)
        if self.obj.search_first_load:
            progress.setdefault("after_id", None)
            yield from self._window(progress, None, properties, known)
        else:
            yield from self._list(progress, properties, known)
        yield from self._archived(properties)
        state.clear()
        state.update(cursor=progress["started_ms"], swept_ms=self.now_ms, archived_ms=progress["started_ms"])

    def _incremental(self, state: MutableMapping[str, Any], properties: list[str], known: KnownIds) -> Iterator[Any]:
        lookback_ms = int(self.config.lookback_minutes * 60_000)
        window = state.setdefault(
            "window", {"start": int(state["cursor"]) - lookback_ms, "end": self.now_ms, "after_id": None}
        )
        self._start_credit(state)
        tail: dict[str, str] = {}
        yield from self._window(window, (window["start"], window["end"]), properties, known,
                                loaded=state.get("tail") or {}, tail=(int(window["end"]) - lookback_ms, tail))
        state["tail"] = tail
        sweep_due = check_due(state.get("swept_ms"), self.now_ms, self.config.delete_sweep_days * DAY_MS)
        if sweep_due or check_due(state.get("archived_ms"), self.now_ms, self.config.archive_check_hours * HOUR_MS):
            # since the last check (state before that key existed: every incremental checked its window)
            since = int(state["archived_ms"]) - lookback_ms if "archived_ms" in state else window["start"]
            archived = yield from self._archived(properties, since_ms=since)
            state["archived_ms"] = self.now_ms
            if sweep_due:
                yield from self._sweep(known, archived)
                state["swept_ms"] = self.now_ms
        state["cursor"] = window["end"]
        del state["window"]

    def _backfill(self, state: MutableMapping[str, Any], properties: list[str], known: KnownIds) -> Iterator[Any]:
        assert self.context.window is not None
        start, end = (to_ms(moment) for moment in self.context.window)
        window = state.get("backfill")
        if not window or (window["start"], window["end"]) != (start, end):
            window = state["backfill"] = {"start": start, "end": end, "after_id": None}
        self._start_credit(state)
        yield from self._window(window, (start, end), properties, known)
        del state["backfill"]

    # -- building blocks ----------------------------------------------------------------------
    def _buffer(self) -> AssociationBuffer:
        return AssociationBuffer(self.obj, self.reader, self.context.warn)

    def _start_credit(self, state: MutableMapping[str, Any]) -> None:
        if self.obj.credit:
            self.credit = CreditReads(self.reader, state.setdefault("credit_pending", {}), self.context.warn)

    def _flush(self, buffer: AssociationBuffer) -> Iterator[Any]:
        """Everything still waiting at the end of a pass: associations, then owner history and splits."""
        yield from buffer.flush()
        if self.credit is not None:
            yield from self.credit.flush()

    def _page(self, records: list[Record], properties: list[str], known: KnownIds, buffer: AssociationBuffer,
              commit: Callable[[], None], inline: bool = False) -> Iterator[Any]:
        """Yield one page (with its `inline` links if a list page); first read the waiting associations
        if this page would overflow them, and only then `commit` the resume point that precedes this page."""
        if buffer.would_overflow(len(records)):
            yield from buffer.flush()
        if not buffer.waiting:
            commit()
            if self.credit is not None:
                self.credit.save()
        if not records:
            return
        known.add(str(r["id"]) for r in records)
        self.context.progress(self.obj.table, len(records), 1)
        yield records_table(records, properties)
        if inline:
            yield from buffer.inline(records)
        else:
            buffer.add(records)
        if self.credit is not None:
            yield from self.credit.add(records)

    def _window(self, progress: MutableMapping[str, Any], span: tuple[int, int] | None, properties: list[str],
                known: KnownIds, loaded: Mapping[str, str] | None = None,
                tail: tuple[int, dict[str, str]] | None = None) -> Iterator[Any]:
        """Records modified in `span` [start, end) ms (None: every live record) by search, in id order;
        resumes after progress['after_id']. Records whose (id, stamp) is in `loaded` are skipped; those
        stamped at or after `tail[0]` go into `tail[1]`."""
        buffer = self._buffer()
        committed = progress["after_id"]
        pages = self.reader.search_pages(self.obj.name, self.obj.modified_property, span, properties,
                                         after_id=progress["after_id"])
        for records, last_id in pages:
            stamps = {str(r["id"]): self._stamp(r) for r in records}
            if tail is not None:
                tail[1].update((i, text) for i, (text, ms) in stamps.items() if ms is None or ms >= tail[0])
            if loaded:
                records = [r for r in records if loaded.get(str(r["id"])) != stamps[str(r["id"])][0]]
            yield from self._page(records, properties, known, buffer,
                                  commit=partial(progress.__setitem__, "after_id", committed))
            committed = last_id
        yield from self._flush(buffer)
        progress["after_id"] = committed

    def _list(self, progress: MutableMapping[str, Any], properties: list[str], known: KnownIds) -> Iterator[Any]:
        """Every live record by list pages, links inline where the path allows; resumes at progress['after']."""
        buffer = self._buffer()
        committed: str | None = progress["after"]
        inline = self.reader.inline_associations
        pages = self.reader.list_pages(self.obj.name, properties, after=progress["after"],
                                       associations=self.obj.associations if inline else ())
        for records, after in pages:
            yield from self._page(records, properties, known, buffer, inline=inline,
                                  commit=partial(progress.__setitem__, "after", committed))
            committed = after
        yield from self._flush(buffer)
        progress["after"] = committed

    def _stamp(self, record: Record) -> tuple[str, int | None]:
        """The record's modification stamp as sent, and in ms (None when it does not parse)."""
        text = str((record.get("properties") or {}).get(self.obj.modified_property) or record.get("updatedAt"))
        try:
            return text, to_ms(datetime.fromisoformat(text.replace("Z", "+00:00")))
        except ValueError:
            return text, None

    def _archived(self, properties: list[str], since_ms: int | None = None) -> Generator[Any, None, np.ndarray]:
        """Archived records (land with archived=true), those archived since `since_ms` if given;
        returns every archived id for the sweep."""
        ids: list[np.ndarray] = []
        for records, _after in self.reader.list_pages(self.obj.name, properties, archived=True):
            ids.append(as_ids(str(r["id"]) for r in records))
            recent = [r for r in records if since_ms is None or archived_since(r, since_ms)]
            if recent:
                self.context.progress(self.obj.table, len(recent), 1)
                yield records_table(recent, properties)
        return np.unique(np.concatenate(ids)) if ids else np.empty(0, np.int64)

    def _sweep(self, known: KnownIds, archived: np.ndarray) -> Iterator[Any]:
        """Mark known ids that are neither live nor archived any more as hard-deleted."""
        live = np.unique(np.concatenate([as_ids(ids) for ids in self.reader.live_ids(self.obj.name)] or
                                        [np.empty(0, np.int64)]))
        gone = hard_deleted(known.ids, live, archived, known.fresh_ids())
        if len(gone):
            yield pa_deleted(gone, iso_ms(self.now_ms))
        known.replace(np.union1d(live, known.fresh_ids()))


def pa_deleted(ids: np.ndarray, deleted_at: str) -> pa.Table:
    return deleted_table([str(i) for i in ids.tolist()], deleted_at)
