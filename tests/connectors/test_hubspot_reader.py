"""Reader paging against a deliberately awkward HubSpot-shaped server (not our sandbox).

Real APIs send fewer records per page than asked, extra fields, per-id association paging and
numbers where strings are documented; the reader must page on `paging.next`, never on counts.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from spm_sync.calls import ApiCalls
from spm_sync.config import HubSpotSource
from spm_sync.connectors.hubspot.client import HubSpotClient
from spm_sync.connectors.hubspot.pacing import Pacer
from spm_sync.connectors.hubspot.reader import Reader
from spm_sync.sandbox.server import Request, Response, Route, SandboxServer

IDS = list(range(101, 108))  # 7 records


class Awkward:
    """Pages of 2-3 records whatever the limit, extra keys everywhere, numeric ids in places."""

    def __init__(self) -> None:
        self.search_bodies: list[dict[str, Any]] = []
        self.server = SandboxServer([
            Route("GET", r"/crm/v3/objects/deals", self.list, "list"),
            Route("POST", r"/crm/v3/objects/deals/search", self.search, "search"),
            Route("POST", r"/crm/v4/associations/deals/companies/batch/read", self.links, "links"),
        ])

    @staticmethod
    def record(i: int) -> dict[str, Any]:
        return {"id": str(i), "properties": {"amount": i * 10, "hs_object_id": i}, "archived": False,
                "createdAt": "2026-01-01T00:00:00Z", "updatedAt": "2026-01-02T00:00:00Z", "url": "x"}

    def list(self, request: Request) -> Response:
        start = IDS.index(int(request.arg("after"))) if request.arg("after") else 0
        page = IDS[start : start + 2]
        body: dict[str, Any] = {"results": [self.record(i) for i in page], "unexpected": {"a": 1}}
        if start + 2 < len(IDS):
            body["paging"] = {"next": {"after": str(IDS[start + 2]), "link": "ignored"}}
        return Response.json(body)

    def search(self, request: Request) -> Response:
        body = request.json()
        self.search_bodies.append(body)
        after = next((int(f["value"]) for f in body["filterGroups"][0]["filters"]
                      if f["propertyName"] == "hs_object_id"), 0)
        rest = [i for i in IDS if i > after]
        page = rest[:3]  # fewer than the 200 asked for
        payload: dict[str, Any] = {"total": len(rest), "results": [self.record(i) for i in page]}
        if len(rest) > 3:
            payload["paging"] = {"next": {"after": "3"}}
        return Response.json(payload)

    def links(self, request: Request) -> Response:
        results = []
        for item in request.json()["inputs"]:
            first = item.get("after") is None
            to = [{"toObjectId": 900 if first else 901, "associationTypes": [{"category": "HUBSPOT_DEFINED",
                                                                              "typeId": 5}]}]
            result: dict[str, Any] = {"from": {"id": item["id"]}, "to": to}
            if first:
                result["paging"] = {"next": {"after": "page2"}}
            results.append(result)
        return Response.json({"status": "COMPLETE", "results": results, "startedAt": "x"})


@pytest.fixture
def awkward() -> Iterator[tuple[Awkward, Reader, ApiCalls]]:
    api = Awkward()
    with api.server:
        config = HubSpotSource(name="hs", type="hubspot", base_url=api.server.url, access_token="t")
        calls = ApiCalls(source="hs")
        client = HubSpotClient(config, calls, pacer=Pacer(config.rate_limit, sleep=lambda s: None))
        yield api, Reader(client), calls


def test_list_pages_follow_paging_not_counts(awkward: tuple[Awkward, Reader, ApiCalls]) -> None:
    _, reader, calls = awkward
    pages = list(reader.list_pages("deals", ["amount"]))
    assert [[r["id"] for r in records] for records, _ in pages] == [["101", "102"], ["103", "104"],
                                                                   ["105", "106"], ["107"]]
    assert calls.by_family["objects.deals.list"] == 4


def test_search_restarts_after_the_last_id(awkward: tuple[Awkward, Reader, ApiCalls]) -> None:
    api, reader, calls = awkward
    pages = list(reader.search_pages("deals", "hs_lastmodifieddate", (0, 10), ["amount"]))
    assert [last for _, last in pages] == ["103", "106", "107"]
    assert [next((f["value"] for f in b["filterGroups"][0]["filters"] if f["propertyName"] == "hs_object_id"), None)
            for b in api.search_bodies] == [None, "103", "106"]
    assert all("after" not in b for b in api.search_bodies)


def test_associations_follow_each_ids_paging(awkward: tuple[Awkward, Reader, ApiCalls]) -> None:
    _, reader, calls = awkward
    batches = list(reader.associations("deals", "companies", ["1", "2"]))
    targets = sorted((r["from"]["id"], t["toObjectId"]) for batch in batches for r in batch for t in r["to"])
    assert targets == [("1", 900), ("1", 901), ("2", 900), ("2", 901)]
    assert calls.by_family["associations.deals.companies.batch.read"] == 2
