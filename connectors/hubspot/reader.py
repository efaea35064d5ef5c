"""Paging over HubSpot's read endpoints: list, search, batch read, v4 associations, owners, metadata.

Why separate from the resources: each function here is one documented API access pattern (page
size, paging token, stop condition), tested once, and reused by the initial load, incremental,
backfill and the delete sweep.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import urlencode

from spm_sync.connectors.hubspot.client import HubSpotClient, versioned_path
from spm_sync.connectors.hubspot.records import (
    association_kinds,
    merge_by_id,
    search_body,
    split_for_query,
)
from spm_sync.connectors.hubspot.settings import (
    ASSOCIATION_BATCH_SIZE,
    BATCH_READ_SIZE,
    HISTORY_BATCH_SIZE,
    LIST_PAGE_SIZE,
    OBJECT_ID_PROPERTY,
    OWNERS_PAGE_SIZE,
    SEARCH_PAGE_SIZE,
)

Record = dict[str, Any]


def _next_after(body: dict[str, Any]) -> str | None:
    after = ((body.get("paging") or {}).get("next") or {}).get("after")
    return str(after) if after not in (None, "") else None


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _max_id(records: Sequence[Record]) -> str:
    return max((str(r["id"]) for r in records), key=lambda i: (len(i), i))


class Reader:
    """Read access to one portal through one `HubSpotClient` (so every call is paced and counted)."""

    def __init__(self, client: HubSpotClient) -> None:
        self.client = client

    @property
    def inline_associations(self) -> bool:
        """Whether list pages can carry links: the v3 type names they use are listed under v3 paths only."""
        return not versioned_path(self.client.config.api_version, "objects").startswith("/crm/objects/")

    # -- metadata -----------------------------------------------------------------------------
    def property_names(self, object_name: str) -> list[str]:
        """Every property of the object type, custom ones included."""
        client = self.client
        body = client.request("GET", client.path("properties", object_name), params={"archived": "false"},
                              require="results", family=f"properties.{object_name}", object_name=object_name)
        return [str(p["name"]) for p in body["results"] if p.get("name")]

    def pipelines(self, object_name: str) -> list[Record]:
        client = self.client
        body = client.request("GET", client.path("pipelines", object_name), require="results",
                              family=f"pipelines.{object_name}", object_name=object_name)
        return list(body["results"])

    # -- records ------------------------------------------------------------------------------
    def list_pages(
        self, object_name: str, properties: Sequence[str], *, archived: bool = False, after: str | None = None,
        associations: Sequence[str] = (),
    ) -> Iterator[tuple[list[Record], str | None]]:
        """Every record (or every archived one), 100 per page, as (records, next `after`).

        `associations`: to-object types whose links each record carries inline (first 100 per type).
        Properties that would make the URL long are read by POST batch read for the page's ids
        and merged by id (never risk a 414).
        """
        client = self.client
        fixed_params: list[tuple[str, Any]] = [("limit", LIST_PAGE_SIZE), ("archived", str(archived).lower())]
        if associations:
            fixed_params.append(("associations", ",".join(associations)))
        fixed = len(urlencode([*fixed_params, ("after", "9" * 20)]))
        head, rest = split_for_query(properties, fixed)
        path = client.path("objects", object_name)
        family = f"objects.{object_name}.list"
        while True:
            params = list(fixed_params)
            params += [("properties", name) for name in head]
            if after:
                params.append(("after", after))
            body = client.request("GET", path, params=params, require="results", family=family,
                                  object_name=object_name)
            records = list(body["results"])
            if rest and records:
                records = merge_by_id(records, self.batch_read(object_name, [str(r["id"]) for r in records], rest,
                                                               archived=archived))
            after = _next_after(body)
            yield records, after
            if after is None:
                return

    def batch_read(self, object_name: str, ids: Sequence[str], properties: Sequence[str], *,
                   archived: bool = False) -> list[Record]:
        client = self.client
        out: list[Record] = []
        for chunk in _chunks(list(ids), BATCH_READ_SIZE):
            body = client.request(
                "POST", client.path("objects", object_name, "batch/read"),
                json={"inputs": [{"id": i} for i in chunk], "properties": list(properties)},
                params={"archived": str(archived).lower()}, require="results",
                family=f"objects.{object_name}.batch.read", object_name=object_name,
            )
            out.extend(body["results"])
        return out

    def owner_history(self, object_name: str, ids: Sequence[str], prop: str) -> list[Record]:
        """Every version of one property for these records: batch read with `propertiesWithHistory`,
        50 ids per call (the documented cap when history is asked for)."""
        client = self.client
        out: list[Record] = []
        for chunk in _chunks(list(ids), HISTORY_BATCH_SIZE):
            body = client.request(
                "POST", client.path("objects", object_name, "batch/read"),
                json={"inputs": [{"id": i} for i in chunk], "properties": [prop], "propertiesWithHistory": [prop]},
                params={"archived": "false"}, require="results",
                family=f"objects.{object_name}.batch.read.history", object_name=object_name,
            )
            out.extend(body["results"])
        return out

    def deal_splits(self, deal_ids: Sequence[str]) -> list[Record]:
        """`{id, splits: [...]}` per deal: `/crm/v3/objects/deals/splits/batch/read`, or the dated
        `/deal-splits/<version>/batch/read` when the source uses dated paths."""
        client = self.client
        version = client.config.api_version
        dated = versioned_path(version, "objects", "deals").startswith("/crm/objects/")
        path = f"/deal-splits/{version}/batch/read" if dated else client.path("objects", "deals", "splits/batch/read")
        body = client.request("POST", path, json={"inputs": [{"id": i} for i in deal_ids]}, require="results",
                              family="deals.splits.batch.read", object_name="deal_splits")
        return list(body["results"])

    def search_pages(
        self,
        object_name: str,
        modified_property: str,
        window: tuple[int, int] | None,
        properties: Sequence[str],
        *,
        after_id: str | None = None,
    ) -> Iterator[tuple[list[Record], str]]:
        """Records modified in `window` [start, end) ms (None: every live record), 200 per call in id
        order, as (records, last id).

        Each call restarts the search after the last id seen, so the 10,000-result cap never
        applies, however many records share one modification instant.
        """
        client = self.client
        path = client.path("objects", object_name, "search")
        while True:
            body = client.request(
                "POST", path, json=search_body(modified_property, window, after_id, properties, SEARCH_PAGE_SIZE),
                require="results", search=True, family=f"objects.{object_name}.search", object_name=object_name,
            )
            records = list(body["results"])
            if not records:
                return
            after_id = _max_id(records)
            yield records, after_id
            if _next_after(body) is None:
                return

    def live_ids(self, object_name: str) -> Iterator[list[str]]:
        """Every live record id, 200 per search call (the hard-delete sweep)."""
        for records, _last in self.search_pages(object_name, OBJECT_ID_PROPERTY, None, [OBJECT_ID_PROPERTY]):
            yield [str(r["id"]) for r in records]

    # -- associations ---------------------------------------------------------------------------
    def association_kinds(self, from_object: str, to_object: str) -> dict[str, dict[str, Any]]:
        """The pair's association types by v3 name (what inline blocks carry) -> v4 id, category, label."""
        client = self.client
        family = f"associations.{from_object}.{to_object}.types"
        types = client.request("GET", f"/crm/v3/associations/{from_object}/{to_object}/types", require="results",
                               family=family, object_name=from_object)
        labels = client.request("GET", client.path("associations", from_object, to_object, "labels"),
                                require="results", family=family, object_name=from_object)
        return association_kinds(types["results"], labels["results"])

    def associations(self, from_object: str, to_object: str, ids: Sequence[str]) -> Iterator[list[Record]]:
        """v4 batch read, 1,000 ids per call; follows each id's own paging for long association lists."""
        client = self.client
        path = client.path("associations", from_object, to_object, "batch/read")
        family = f"associations.{from_object}.{to_object}.batch.read"
        pending: list[dict[str, str]] = [{"id": str(i)} for i in ids]
        while pending:
            follow: list[dict[str, str]] = []
            for chunk in _chunks(pending, ASSOCIATION_BATCH_SIZE):
                body = client.request("POST", path, json={"inputs": list(chunk)}, require="results", family=family,
                                      object_name=from_object)
                results = list(body["results"])
                yield results
                for result in results:
                    after = _next_after(result)
                    if after is not None:
                        follow.append({"id": str((result.get("from") or {}).get("id")), "after": after})
            pending = follow

    # -- owners ---------------------------------------------------------------------------------
    def owners(self, *, archived: bool = False) -> Iterator[list[Record]]:
        client = self.client
        after: str | None = None
        while True:
            params: list[tuple[str, Any]] = [("limit", OWNERS_PAGE_SIZE), ("archived", str(archived).lower())]
            if after:
                params.append(("after", after))
            body = client.request("GET", client.path("owners"), params=params, require="results", family="owners",
                                  object_name="owners")
            yield list(body["results"])
            after = _next_after(body)
            if after is None:
                return
