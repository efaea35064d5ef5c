"""Pull one object's rows as typed Arrow tables, choosing REST or Bulk API 2.0 per pull.

Why REST first: the first REST page (ordered by cursor, Id) carries `totalSize`, which is the
COUNT() estimate for free. Small pulls continue on REST (the minimum ceil(n/2000) calls, and a
cut-off pull keeps an ordered, resumable prefix); pulls above `bulk_threshold` switch to a Bulk job
(fewer, larger calls) when the API budget can pay for the whole job, and fall back to REST when
Bulk refuses the object or the job fails.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from spm_sync.connectors.salesforce import settings
from spm_sync.connectors.salesforce.bulk import BulkUnavailable, bulk_query, staged
from spm_sync.connectors.salesforce.client import SalesforceClient
from spm_sync.connectors.salesforce.records import Field, arrow_schema, records_table
from spm_sync.connectors.salesforce.rest import QueryPage, split_query_pages
from spm_sync.connectors.salesforce.soql import (
    all_of,
    any_of,
    ceil_second,
    condition,
    floor_second,
    select,
    split_fields,
    to_utc,
)


@dataclass(frozen=True)
class ObjectPlan:
    """What to pull of one object: fields (Id first), cursor field (None: no incremental), deletes."""

    object: str
    table: str
    fields: tuple[Field, ...]
    cursor: str | None
    include_deleted: bool

    @property
    def schema(self) -> pa.Schema:
        return arrow_schema(self.fields)

    def only(self, names: tuple[str, ...]) -> ObjectPlan:
        """The same object restricted to some fields (e.g. the Id-only delete sweep)."""
        keep = tuple(f for f in self.fields if f.name in names)
        return ObjectPlan(self.object, self.table, keep, self.cursor if self.cursor in names else None,
                          self.include_deleted)


class Puller:
    """Runs the queries of one source; `progress(object, records, pages)` is told about every page."""

    def __init__(
        self,
        client: SalesforceClient,
        *,
        bulk_threshold: int,
        stage_dir: Path,
        warn: Callable[[str], None],
        progress: Callable[[str, int, int], None],
    ) -> None:
        self.client = client
        self.bulk_threshold = bulk_threshold
        self.stage_dir = stage_dir
        self.warn = warn
        self.progress = progress

    def where(
        self, plan: ObjectPlan, since: datetime | None, until: datetime | None, after_id: str | None = None
    ) -> list[str]:
        """Cursor bounds widened to whole seconds (the documented literal form); dlt trims exactly.

        `after_id`: the rows at exactly `since` up to this Id are already loaded and settled, so only
        later Ids at that value are asked for (an unchanged object then returns no row at all).
        """
        out: list[str] = []
        if plan.cursor and since is not None:
            if after_id is not None and floor_second(since) == to_utc(since):
                out.append(any_of(
                    condition(plan.cursor, ">", since),
                    all_of(condition(plan.cursor, "=", since), condition("Id", ">", after_id)),
                ))
            else:
                out.append(condition(plan.cursor, ">=", floor_second(since)))
        if plan.cursor and until is not None:
            out.append(condition(plan.cursor, "<", ceil_second(until)))
        return out

    def rest_pages(self, plan: ObjectPlan, where: list[str]) -> Iterator[QueryPage]:
        order = [plan.cursor, "Id"] if plan.cursor else ["Id"]
        keys = ["Id", plan.cursor] if plan.cursor else ["Id"]
        groups = split_fields(
            plan.object,
            [f.name for f in plan.fields],
            keys=keys,
            where=where,
            order_by=order,
            base_url=self.client.sf.base_url,
            max_length=settings.MAX_URL_LENGTH,
        )
        soqls = [select(plan.object, g, where=where, order_by=order) for g in groups]
        return split_query_pages(
            self.client, plan.object, soqls, order_field=plan.cursor or "Id", include_deleted=plan.include_deleted
        )

    def bulk_affordable(self, total: int) -> bool:
        left = self.client.calls.remaining()
        needed = math.ceil(total / settings.BULK_MAX_RECORDS) + settings.BULK_OVERHEAD_CALLS
        return left is None or left >= needed

    def tables(
        self,
        plan: ObjectPlan,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        after_id: str | None = None,
        label: str | None = None,
    ) -> Iterator[pa.Table]:
        """Typed tables of every matching row: REST pages in cursor order, or a whole Bulk job."""
        label = label or plan.object
        where = self.where(plan, since, until, after_id)
        pages = self.rest_pages(plan, where)
        first = next(pages, None)
        if first is None:
            return
        total = first.total_size or 0
        if total > self.bulk_threshold:
            if self.bulk_affordable(total):
                try:
                    yield from self._bulk_tables(plan, where, label)
                    return
                except BulkUnavailable as exc:
                    self.warn(f"{plan.object}: {exc.message}; pulling with the REST API instead")
            else:
                self.warn(f"{plan.object}: API budget too small for a Bulk job of {total} rows; using REST")
        schema = plan.schema
        for page in itertools.chain([first], pages):
            if page.records:
                self.progress(label, len(page.records), 1)
                yield records_table(page.records, plan.fields, schema)

    def _bulk_tables(self, plan: ObjectPlan, where: list[str], label: str) -> Iterator[pa.Table]:
        soql = select(plan.object, [f.name for f in plan.fields], where=where)
        chunks = bulk_query(
            self.client, plan.object, soql, plan.fields, plan.schema, include_deleted=plan.include_deleted
        )
        for table in staged(chunks, self.stage_dir):
            self.progress(label, table.num_rows, 1)
            yield table


def table_boundary(table: pa.Table, cursor_column: str) -> tuple[datetime, str] | None:
    """(max cursor, max Id among the rows at that cursor) of a page: where the next pull starts (pure)."""
    if table.num_rows == 0:
        return None
    top = pc.max(table.column(cursor_column)).as_py()
    if top is None:
        return None
    at_top = table.filter(pc.equal(table.column(cursor_column), pa.scalar(top, table.schema.field(cursor_column).type)))
    return top, pc.max(at_top.column("id")).as_py()


def later_boundary(a: tuple[datetime, str] | None, b: tuple[datetime, str] | None) -> tuple[datetime, str] | None:
    if a is None or b is None:
        return a or b
    return max(a, b)
