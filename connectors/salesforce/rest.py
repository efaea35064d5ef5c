"""REST query paging (query / queryAll + nextRecordsUrl) and the merge of split-field queries.

Why the merge: a field list too long for one 16 KB query URL is pulled as several queries that all
select Id and the cursor and share one ORDER BY; their pages are joined on (Id, cursor). A record
changed between two of those queries shows different cursor values and is dropped: its newer
version is past this run's cursor, so the next incremental run picks it up whole.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from spm_sync.connectors.salesforce import settings
from spm_sync.connectors.salesforce.client import SalesforceClient
from spm_sync.errors import ConnectorError

Record = dict[str, Any]


@dataclass(frozen=True)
class QueryPage:
    records: list[Record]
    total_size: int | None


def query_pages(client: SalesforceClient, object_name: str, soql: str, *, include_deleted: bool) -> Iterator[QueryPage]:
    """Every page of one SOQL query, following `nextRecordsUrl` until `done`."""
    headers = {"Sforce-Query-Options": f"batchSize={settings.QUERY_BATCH_SIZE}"}
    endpoint = "queryAll" if include_deleted else "query"
    reply = client.request("GET", endpoint, params={"q": soql}, headers=headers, object=object_name)
    while True:
        body = reply.parsed()
        records = body.get("records") if isinstance(body, dict) else None
        if records is None:
            raise ConnectorError("query page without records (incomplete response)", object=object_name)
        yield QueryPage(records, body.get("totalSize"))
        next_url = body.get("nextRecordsUrl")
        if body.get("done", next_url is None):
            return
        if not next_url:
            raise ConnectorError("query page says not done but gives no nextRecordsUrl", object=object_name)
        reply = client.request("GET", next_url, headers=headers, object=object_name)


class SplitMerge:
    """Joins the pages of several field-group queries (same ORDER BY order_field, Id) into whole records."""

    def __init__(self, streams: Sequence[Iterator[QueryPage]], order_field: str) -> None:
        self.streams = list(streams)
        self.order_field = order_field
        self.buffers: list[dict[tuple[Any, Any], Record]] = [{} for _ in self.streams]
        self.watermarks: list[Any] = [None] * len(self.streams)
        self.exhausted = [False] * len(self.streams)
        self.total_size: int | None = None

    def _key(self, record: Record) -> tuple[Any, Any]:
        return record.get("Id"), record.get(self.order_field)

    def _pull(self, index: int) -> None:
        try:
            page = next(self.streams[index])
        except StopIteration:
            self.exhausted[index] = True
            return
        if index == 0 and self.total_size is None:
            self.total_size = page.total_size
        buffer = self.buffers[index]
        for record in page.records:
            buffer[self._key(record)] = record
        if page.records:
            self.watermarks[index] = page.records[-1].get(self.order_field)

    def _passed(self, index: int, order_value: Any) -> bool:
        """True when stream `index` can no longer deliver a record with this order value."""
        mark = self.watermarks[index]
        return self.exhausted[index] or (mark is not None and order_value is not None and mark > order_value)

    def _ready(self) -> list[Record]:
        out: list[Record] = []
        for key in list(self.buffers[0]):
            if all(key in b for b in self.buffers[1:]):
                merged: Record = {}
                for buffer in self.buffers:
                    merged.update(buffer.pop(key))
                out.append(merged)
            elif all(self._passed(i, key[1]) for i in range(1, len(self.streams)) if key not in self.buffers[i]):
                for buffer in self.buffers:
                    buffer.pop(key, None)
        head = self.buffers[0]
        for buffer in self.buffers[1:]:  # rows group 0 can no longer deliver (changed in between)
            for key in [k for k in buffer if k not in head and self._passed(0, k[1])]:
                del buffer[key]
        return out

    def pages(self) -> Iterator[QueryPage]:
        self._pull(0)
        while not all(self.exhausted):
            candidates = [i for i in range(len(self.streams)) if not self.exhausted[i]]
            index = min(candidates, key=lambda i: (self.watermarks[i] is not None, self.watermarks[i] or ""))
            self._pull(index)
            ready = self._ready()
            if ready:
                yield QueryPage(ready, self.total_size)


def split_query_pages(
    client: SalesforceClient,
    object_name: str,
    soqls: Sequence[str],
    *,
    order_field: str,
    include_deleted: bool,
) -> Iterator[QueryPage]:
    """Pages of one query, or of several field-group queries merged on (Id, order_field)."""
    streams = [query_pages(client, object_name, s, include_deleted=include_deleted) for s in soqls]
    if len(streams) == 1:
        return streams[0]
    return SplitMerge(streams, order_field).pages()
