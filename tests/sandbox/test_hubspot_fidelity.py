"""HubSpot emulator answers other clients rely on, per HubSpot's docs: inline association limits,
`paging.next.link` keeping the query, association type listings, schemas, legacy v2 properties and
the standard object types every portal has (empty here)."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest
import requests

from spm_sync.sandbox.dataset import generate
from spm_sync.sandbox.hubspot import HubSpotSandbox


@pytest.fixture(scope="module")
def sandbox() -> Iterator[HubSpotSandbox]:
    with HubSpotSandbox(generate(7, "small"), rate_limit=10_000, search_rate_limit=10_000) as sb:
        yield sb


def get(sandbox: HubSpotSandbox, path: str, params: list[tuple[str, str]] | None = None) -> requests.Response:
    return requests.get(sandbox.base_url + path, params=params,
                        headers={"Authorization": f"Bearer {sandbox.access_token}"}, timeout=10)


def test_next_link_keeps_the_query_and_gives_the_same_page(sandbox: HubSpotSandbox) -> None:
    query = [("limit", "5"), ("properties", "amount"), ("properties", "dealname"), ("associations", "companies"),
             ("archived", "false")]
    first = get(sandbox, "/crm/v3/objects/deals", query).json()
    link = first["paging"]["next"]["link"]
    assert parse_qs(urlsplit(link).query) == {"limit": ["5"], "properties": ["amount", "dealname"],
                                              "associations": ["companies"], "archived": ["false"],
                                              "after": [first["paging"]["next"]["after"]]}
    second = requests.get(link, headers={"Authorization": f"Bearer {sandbox.access_token}"}, timeout=10).json()
    by_after = get(sandbox, "/crm/v3/objects/deals", [*query, ("after", first["paging"]["next"]["after"])]).json()
    assert second == by_after
    assert set(second["results"][0]["properties"]) >= {"amount", "dealname"}


def test_inline_associations_stop_at_100_per_type_and_page_on(sandbox: HubSpotSandbox) -> None:
    portal = sandbox.portal
    deal = int(portal.ids("deals")[1])
    companies = np.array(portal.ids("companies")[:120], np.int64)
    fresh = companies[~np.isin(companies, portal.associations.targets("deals", deal, "companies")[0])]
    portal.associations.add_many("deals", np.full(len(fresh), deal), "companies", fresh)
    linked, primary = portal.associations.targets("deals", deal, "companies")
    body = get(sandbox, f"/crm/v3/objects/deals/{deal}", [("associations", "companies")]).json()
    block = body["associations"]["companies"]
    sizes = [2 if is_primary else 1 for is_primary in primary]  # a primary link: Primary + unlabeled type
    shown, entries = 0, 0
    while entries + sizes[shown] <= 100:
        entries, shown = entries + sizes[shown], shown + 1
    assert len(block["results"]) == entries
    assert sorted({int(r["id"]) for r in block["results"]}) == linked[:shown].tolist()
    assert block["paging"]["next"]["after"] == str(linked[shown])
    rest = requests.get(block["paging"]["next"]["link"], headers={"Authorization": f"Bearer {sandbox.access_token}"},
                        timeout=10).json()
    assert [r["toObjectId"] for r in rest["results"]] == linked[shown:].tolist()


def test_association_types_and_labels_of_a_pair(sandbox: HubSpotSandbox) -> None:
    assert get(sandbox, "/crm/v3/associations/deals/companies/types").json() == {"results": [
        {"id": "5", "name": "deal_to_company"}, {"id": "341", "name": "deal_to_company_unlabeled"}]}
    assert get(sandbox, "/crm/v4/associations/deals/companies/labels").json() == {"results": [
        {"category": "HUBSPOT_DEFINED", "typeId": 5, "label": "Primary"},
        {"category": "HUBSPOT_DEFINED", "typeId": 341, "label": None}]}


def test_standard_types_the_portal_never_filled_answer_empty(sandbox: HubSpotSandbox) -> None:
    assert get(sandbox, "/crm/v3/schemas").json() == {"results": []}
    assert get(sandbox, "/crm/v3/objects/line_items", [("limit", "100")]).json() == {"results": []}
    names = {p["name"] for p in get(sandbox, "/crm/v3/properties/tickets").json()["results"]}
    assert names == {"hs_object_id", "hs_createdate", "hs_lastmodifieddate"}
    deal = sandbox.portal.ids("deals")[0]
    reply = requests.post(f"{sandbox.base_url}/crm/v4/associations/deals/line_items/batch/read",
                          json={"inputs": [{"id": deal}]}, timeout=10,
                          headers={"Authorization": f"Bearer {sandbox.access_token}"})
    assert reply.status_code == 207 and reply.json()["results"] == []
    assert get(sandbox, "/crm/v3/objects/widgetz").json()["message"] == "Unable to infer object type from: widgetz"


def test_legacy_v2_properties_are_a_bare_list(sandbox: HubSpotSandbox) -> None:
    v2 = get(sandbox, "/properties/v2/deals/properties").json()
    v3 = get(sandbox, "/crm/v3/properties/deals").json()["results"]
    assert [(p["name"], p["type"], p["deleted"]) for p in v2] == [(p["name"], p["type"], False) for p in v3]
    assert all(isinstance(p["createdAt"], int) for p in v2)


def test_list_pages_by_legacy_offset_when_no_after_is_sent(sandbox: HubSpotSandbox) -> None:
    ids = [r["id"] for r in get(sandbox, "/crm/v3/objects/deals", [("limit", "100")]).json()["results"]]
    page = get(sandbox, "/crm/v3/objects/deals", [("limit", "10"), ("offset", "30")]).json()["results"]
    assert [r["id"] for r in page] == ids[30:40]
    tail = get(sandbox, "/crm/v3/objects/goal_targets", [("limit", "100"), ("offset", "100000")]).json()
    assert tail == {"results": []}
