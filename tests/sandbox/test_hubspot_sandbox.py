"""HubSpot emulator, read side: the real hubspot-api-client (and plain requests where the SDK has no
endpoint) against the sandbox over loopback HTTP. Expected values are computed independently from
the canonical data set, so a shaping or paging bug shows up as a wrong count or value."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import hubspot
import pyarrow.compute as pc
import pytest
import requests

from spm_sync.sandbox.dataset import generate
from spm_sync.sandbox.dataset.model import Dataset
from spm_sync.sandbox.hubspot import HubSpotSandbox
from spm_sync.sandbox.hubspot.schema import CANONICAL_STAGE
from spm_sync.sandbox.hubspot.shaping import COMPANY_BASE, DEAL_BASE, OWNER_BASE

AS_OF = date(2025, 6, 15)


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    return generate(7, "small", as_of=AS_OF)


@pytest.fixture(scope="module")
def sandbox(dataset: Dataset) -> Iterator[HubSpotSandbox]:
    with HubSpotSandbox(dataset, rate_limit=10_000, search_rate_limit=10_000) as sb:
        yield sb


@pytest.fixture(scope="module")
def client(sandbox: HubSpotSandbox) -> hubspot.Client:
    return hubspot.Client.create(access_token=sandbox.access_token, host=sandbox.base_url)


def get(sandbox: HubSpotSandbox, path: str, **params: Any) -> requests.Response:
    return requests.get(sandbox.base_url + path, params=params,
                        headers={"Authorization": f"Bearer {sandbox.access_token}"}, timeout=10)


def post(sandbox: HubSpotSandbox, path: str, body: dict[str, Any]) -> requests.Response:
    return requests.post(sandbox.base_url + path, json=body,
                         headers={"Authorization": f"Bearer {sandbox.access_token}"}, timeout=10)


def live_deal_ids(ds: Dataset, deleted: bool = False) -> list[str]:
    opps = ds.opportunities.filter(pc.equal(ds.opportunities["is_deleted"], deleted))
    return sorted(str(DEAL_BASE + i) for i in opps["opportunity_id"].to_pylist())


def test_list_pages_through_every_live_deal_to_the_last_page(client: hubspot.Client, dataset: Dataset) -> None:
    seen, pages, after = [], 0, None
    while True:
        page = client.crm.deals.basic_api.get_page(limit=100, after=after)
        pages += 1
        seen += [d.id for d in page.results]
        if page.paging is None:
            break
        after = page.paging.next.after
    expected = live_deal_ids(dataset)
    assert seen == expected
    assert pages == -(-len(expected) // 100)


def test_list_caps_limit_at_100_and_sends_the_next_link(sandbox: HubSpotSandbox) -> None:
    body = get(sandbox, "/crm/v3/objects/deals", limit=250).json()
    assert len(body["results"]) == 100
    after = body["paging"]["next"]["after"]
    assert body["paging"]["next"]["link"] == f"{sandbox.base_url}/crm/v3/objects/deals?limit=100&after={after}"
    assert after == str(int(body["results"][-1]["id"]) + 1)


def iso_ms(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def test_every_property_value_is_a_string_or_null(sandbox: HubSpotSandbox, dataset: Dataset) -> None:
    won = dataset.opportunities.filter(pc.equal(dataset.opportunities["stage"], "closed_won"))
    opp = won.filter(pc.invert(won["is_deleted"])).slice(0, 1).to_pylist()[0]
    body = get(sandbox, f"/crm/v3/objects/deals/{DEAL_BASE + opp['opportunity_id']}",
               properties="amount,closedate,hs_is_closed,hs_is_closed_won,dealstage,no_such_prop").json()
    amount = opp["amount"]
    assert body["properties"] == {
        "amount": str(int(amount)) if amount == int(amount) else repr(amount),
        "closedate": f"{opp['close_date'].isoformat()}T00:00:00.000Z",
        "createdate": iso_ms(opp["created_at"]),
        "dealstage": "closedwon",
        "hs_is_closed": "true",
        "hs_is_closed_won": "true",
        "hs_lastmodifieddate": iso_ms(opp["updated_at"]),
        "hs_object_id": str(DEAL_BASE + opp["opportunity_id"]),
    }
    assert body["createdAt"] == iso_ms(opp["created_at"])
    assert body["updatedAt"] == iso_ms(opp["updated_at"])
    assert body["archived"] is False
    page = get(sandbox, "/crm/v3/objects/deals", limit=100,
               properties="amount,amount_in_home_currency,arr,closedate,hs_v2_date_entered_closedwon").json()
    values = [v for r in page["results"] for v in r["properties"].values()]
    assert all(v is None or isinstance(v, str) for v in values)


def test_contacts_use_lastmodifieddate_and_engagements_hs_createdate(sandbox: HubSpotSandbox) -> None:
    contact = get(sandbox, "/crm/v3/objects/contacts", limit=1).json()["results"][0]
    assert sorted(contact["properties"]) == ["createdate", "email", "firstname", "hs_object_id",
                                             "lastmodifieddate", "lastname"]
    call = get(sandbox, "/crm/v3/objects/calls", limit=1).json()["results"][0]
    assert sorted(call["properties"]) == ["hs_createdate", "hs_lastmodifieddate", "hs_object_id"]


def test_archived_records_show_only_with_archived_true(sandbox: HubSpotSandbox, dataset: Dataset) -> None:
    archived = get(sandbox, "/crm/v3/objects/deals", limit=100, archived="true").json()
    assert [r["id"] for r in archived["results"]] == live_deal_ids(dataset, deleted=True)
    assert all(r["archived"] is True and "archivedAt" in r for r in archived["results"])
    one = archived["results"][0]["id"]
    assert get(sandbox, f"/crm/v3/objects/deals/{one}").status_code == 404
    assert get(sandbox, f"/crm/v3/objects/deals/{one}", archived="true").json()["id"] == one


def search(client: hubspot.Client, body: dict[str, Any], object_type: str = "deals") -> Any:
    return client.crm.objects.search_api.do_search(object_type, body)


def test_search_filters_sorts_and_pages(client: hubspot.Client, dataset: Dataset) -> None:
    opps = dataset.opportunities.filter(pc.invert(dataset.opportunities["is_deleted"])).to_pylist()
    won = sorted((o for o in opps if o["stage"] == "closed_won"), key=lambda o: (o["amount"], o["opportunity_id"]))
    body = {"filterGroups": [{"filters": [{"propertyName": "dealstage", "operator": "EQ", "value": "closedwon"}]}],
            "sorts": [{"propertyName": "amount", "direction": "DESCENDING"}], "limit": 7,
            "properties": ["amount"]}
    first = search(client, body)
    assert first.total == len(won)
    assert [r.id for r in first.results] == [str(DEAL_BASE + o["opportunity_id"]) for o in won[::-1][:7]]
    assert first.paging.next.after == "7"
    second = search(client, {**body, "after": "7"})
    assert [r.id for r in second.results] == [str(DEAL_BASE + o["opportunity_id"]) for o in won[::-1][7:14]]


@pytest.mark.parametrize(("filters", "expected"), [
    ([{"propertyName": "amount", "operator": "BETWEEN", "value": "10000", "highValue": "20000"}],
     lambda o: o["amount"] is not None and 10000 <= o["amount"] <= 20000),  # a deal without amount: no match
    ([{"propertyName": "dealstage", "operator": "IN", "values": ["closedwon", "closedlost"]}],
     lambda o: o["stage"] in ("closed_won", "closed_lost")),
    ([{"propertyName": "dealstage", "operator": "IN", "values": ["CLOSEDWON"]}], lambda o: False),
    ([{"propertyName": "dealstage", "operator": "NEQ", "value": "closedwon"},
      {"propertyName": "amount", "operator": "LT", "value": "5000"}],
     lambda o: o["stage"] != "closed_won" and o["amount"] is not None and o["amount"] < 5000),
    ([{"propertyName": "closedate", "operator": "GTE", "value": "2025-01-01T00:00:00Z"}],
     lambda o: o["close_date"] >= date(2025, 1, 1)),
    ([{"propertyName": "closedate", "operator": "LT", "value": "1704067200000"}],
     lambda o: o["close_date"] < date(2024, 1, 1)),
    ([{"propertyName": "hs_v2_date_entered_contractsent", "operator": "NOT_HAS_PROPERTY"}],
     lambda o: o["opportunity_id"] % 10 == 0 or not o["_proposal"]),
])
def test_search_operators_match_the_canonical_data(client: hubspot.Client, dataset: Dataset,
                                                   filters: list[dict[str, Any]], expected: Any) -> None:
    proposal = set(dataset.stage_events.filter(pc.equal(dataset.stage_events["stage"], "proposal"))
                   ["opportunity_id"].to_pylist())
    opps = [{**o, "_proposal": o["opportunity_id"] in proposal}
            for o in dataset.opportunities.to_pylist() if not o["is_deleted"]]
    want = sorted(str(DEAL_BASE + o["opportunity_id"]) for o in opps if expected(o))
    got, after = [], None
    while True:
        page = search(client, {"filterGroups": [{"filters": filters}], "limit": 200, "after": after})
        got += [r.id for r in page.results]
        if page.paging is None:
            break
        after = page.paging.next.after
    assert got == want
    assert page.total == len(want)


def test_search_groups_are_ored(client: hubspot.Client, dataset: Dataset) -> None:
    groups = [{"filters": [{"propertyName": "dealstage", "operator": "EQ", "value": "closedwon"}]},
              {"filters": [{"propertyName": "dealstage", "operator": "EQ", "value": "closedlost"}]}]
    closed = [o for o in dataset.opportunities.to_pylist()
              if not o["is_deleted"] and o["stage"] in ("closed_won", "closed_lost")]
    assert search(client, {"filterGroups": groups, "limit": 1}).total == len(closed)


def test_search_past_10000_results_is_the_real_400(sandbox: HubSpotSandbox) -> None:
    response = post(sandbox, "/crm/v3/objects/deals/search", {"limit": 100, "after": "9950"})
    assert response.status_code == 400
    body = response.json()
    assert body["category"] == "VALIDATION_ERROR"
    assert body["status"] == "error"
    assert "10000" in body["message"]
    assert post(sandbox, "/crm/v3/objects/deals/search", {"limit": 201}).status_code == 400


def test_search_rejects_more_than_six_filters_in_a_group(sandbox: HubSpotSandbox) -> None:
    filters = [{"propertyName": "amount", "operator": "GT", "value": str(i)} for i in range(7)]
    response = post(sandbox, "/crm/v3/objects/deals/search", {"filterGroups": [{"filters": filters}]})
    assert response.status_code == 400
    assert response.json()["category"] == "VALIDATION_ERROR"


def test_batch_read_reports_missing_ids_in_a_207(sandbox: HubSpotSandbox, dataset: Dataset) -> None:
    ids = live_deal_ids(dataset)[:3]
    response = post(sandbox, "/crm/v3/objects/deals/batch/read",
                    {"inputs": [{"id": i} for i in [*ids, "1", "2"]], "properties": ["dealname"]})
    assert response.status_code == 207
    body = response.json()
    assert sorted(r["id"] for r in body["results"]) == ids
    assert body["numErrors"] == 1
    assert body["errors"][0]["category"] == "OBJECT_NOT_FOUND"
    assert body["errors"][0]["context"] == {"ids": ["1", "2"]}
    assert body["status"] == "COMPLETE"
    too_many = post(sandbox, "/crm/v3/objects/deals/batch/read", {"inputs": [{"id": i} for i in range(101)]})
    assert too_many.status_code == 400


def test_batch_read_by_id_property_with_the_sdk(client: hubspot.Client, dataset: Dataset) -> None:
    email = dataset.reps["email"][0].as_py()
    result = client.crm.objects.batch_api.read("users", {
        "idProperty": "spm_rep_key", "inputs": [{"id": email.lower()}],
        "properties": ["hs_internal_user_id", "hs_email"]})
    assert [r.properties["hs_internal_user_id"] for r in result.results] == ["9000001"]
    assert result.results[0].properties["hs_email"] == email


def test_owners_page_and_archived_owners(client: hubspot.Client, dataset: Dataset) -> None:
    reps = dataset.reps.to_pylist()
    active, seen, after = [], [], None
    while True:
        page = client.crm.owners.owners_api.get_page(limit=3, after=after)
        seen += [o.id for o in page.results]
        if page.paging is None:
            break
        after = page.paging.next.after
    active = [str(OWNER_BASE + r["rep_id"]) for r in reps if r["is_active"]]
    archived = client.crm.owners.owners_api.get_page(archived=True, limit=100)
    assert seen == active
    assert [o.id for o in archived.results] == [str(OWNER_BASE + r["rep_id"]) for r in reps if not r["is_active"]]
    first = client.crm.owners.owners_api.get_by_id(owner_id=int(active[0]))
    assert (first.email, first.user_id, first.teams[0].primary) == (reps[0]["email"], 9000001, True)


def test_pipelines_list_the_default_deal_stages(client: hubspot.Client) -> None:
    pipelines = client.crm.pipelines.pipelines_api.get_all("deals").results
    assert [p.id for p in pipelines] == ["default"]
    stages = [(s.id, s.display_order, s.metadata["isClosed"], s.metadata["probability"]) for s in pipelines[0].stages]
    assert stages == [
        ("appointmentscheduled", 0, "false", "0.2"), ("qualifiedtobuy", 1, "false", "0.4"),
        ("presentationscheduled", 2, "false", "0.6"), ("decisionmakerboughtin", 3, "false", "0.8"),
        ("contractsent", 4, "false", "0.9"), ("closedwon", 5, "true", "1.0"), ("closedlost", 6, "true", "0.0"),
    ]


def test_properties_describe_types_and_read_only_values(client: hubspot.Client) -> None:
    props = {p.name: p for p in client.crm.properties.core_api.get_all("deals").results}
    assert (props["amount"].type, props["amount"].field_type) == ("number", "number")
    assert (props["closedate"].type, props["hs_is_closed"].type) == ("datetime", "bool")
    assert props["hs_is_closed"].modification_metadata.read_only_value is True
    assert props["dealname"].modification_metadata.read_only_value is False
    assert props["arr"].hubspot_defined is False
    users = {p.name: p for p in client.crm.properties.core_api.get_all("users").results}
    assert users["spm_rep_key"].has_unique_value is True
    assert users["spm_quota_attainment"].type == "number"


def test_deals_carry_their_reasons_and_original_source(client: hubspot.Client, dataset: Dataset) -> None:
    """closed_lost_reason / closed_won_reason (free text) and hs_analytics_source as the properties API
    describes them, with the data set's values on the deals."""
    props = {p.name: p for p in client.crm.properties.core_api.get_all("deals").results}
    assert [(props[n].type, props[n].field_type, props[n].hubspot_defined)
            for n in ("closed_lost_reason", "closed_won_reason")] == [("string", "textarea", True)] * 2
    source = props["hs_analytics_source"]
    assert (source.type, source.modification_metadata.read_only_value) == ("enumeration", True)
    assert {"ORGANIC_SEARCH", "REFERRALS", "OFFLINE"} <= {o.value for o in source.options}
    lost = [o for o in dataset.opportunities.to_pylist() if o["loss_reason"] and not o["is_deleted"]][:5]
    read = client.crm.deals.batch_api.read(batch_read_input_simple_public_object_id={
        "inputs": [{"id": str(DEAL_BASE + o["opportunity_id"])} for o in lost],
        "properties": ["closed_lost_reason", "closed_won_reason", "hs_analytics_source"]})
    by_id = {r.id: r.properties for r in read.results}
    mapped = {"Web": "ORGANIC_SEARCH", "Referral": "REFERRALS", "Partner": "OTHER_CAMPAIGNS", "Outbound": "OFFLINE",
              "Event": "DIRECT_TRAFFIC"}
    assert [(by_id[str(DEAL_BASE + o["opportunity_id"])]["closed_lost_reason"],
             by_id[str(DEAL_BASE + o["opportunity_id"])]["closed_won_reason"],
             by_id[str(DEAL_BASE + o["opportunity_id"])]["hs_analytics_source"]) for o in lost] == [
        (o["loss_reason"], None, mapped[o["lead_source"]]) for o in lost]


def test_v4_association_batch_read_is_complete(sandbox: HubSpotSandbox, dataset: Dataset) -> None:
    opps = [o for o in dataset.opportunities.to_pylist() if not o["is_deleted"]]
    response = post(sandbox, "/crm/v4/associations/deals/companies/batch/read",
                    {"inputs": [{"id": str(DEAL_BASE + o["opportunity_id"])} for o in opps]})
    assert response.status_code == 207
    body = response.json()
    got = {r["from"]["id"]: [t["toObjectId"] for t in r["to"]] for r in body["results"]}
    want = {str(DEAL_BASE + o["opportunity_id"]): [COMPANY_BASE + o["account_id"]]
            for o in opps if o["account_id"] is not None}
    assert got == want
    without = sorted(str(DEAL_BASE + o["opportunity_id"]) for o in opps if o["account_id"] is None)
    assert sorted(e["context"]["fromObjectId"][0] for e in body["errors"]) == without
    first = body["results"][0]["to"][0]["associationTypes"]
    assert first == [{"category": "HUBSPOT_DEFINED", "typeId": 5, "label": "Primary"},
                     {"category": "HUBSPOT_DEFINED", "typeId": 341, "label": None}]
    too_many = post(sandbox, "/crm/v4/associations/deals/companies/batch/read",
                    {"inputs": [{"id": str(i)} for i in range(1001)]})
    assert too_many.status_code == 400


def test_v4_association_list_and_inline_v3_associations(client: hubspot.Client, dataset: Dataset) -> None:
    opps = dataset.opportunities.filter(pc.is_valid(dataset.opportunities["account_id"]))
    opp = opps.filter(pc.invert(opps["is_deleted"])).slice(0, 1).to_pylist()[0]
    deal_id = str(DEAL_BASE + opp["opportunity_id"])
    listed = client.crm.associations.v4.basic_api.get_page("deals", deal_id, "companies")
    assert [r.to_object_id for r in listed.results] == [str(COMPANY_BASE + opp["account_id"])]
    deal = client.crm.deals.basic_api.get_by_id(deal_id, associations=["companies"])
    assert [(r.id, r.type) for r in deal.associations["companies"].results] == [
        (str(COMPANY_BASE + opp["account_id"]), "deal_to_company"),
        (str(COMPANY_BASE + opp["account_id"]), "deal_to_company_unlabeled"),
    ]


def test_dealstage_history_follows_the_stage_events(sandbox: HubSpotSandbox, dataset: Dataset) -> None:
    opp_id = dataset.opportunities["opportunity_id"][1].as_py()
    events = [e for e in dataset.stage_events.to_pylist() if e["opportunity_id"] == opp_id]
    body = get(sandbox, f"/crm/v3/objects/deals/{DEAL_BASE + opp_id}", propertiesWithHistory="dealstage").json()
    history = body["propertiesWithHistory"]["dealstage"]
    newest_first = sorted(events, key=lambda e: e["entered_at"], reverse=True)
    assert [(h["value"], h["timestamp"]) for h in history] == [
        (CANONICAL_STAGE[e["stage"]], iso_ms(e["entered_at"])) for e in newest_first]


def test_dated_paths_serve_the_same_data(sandbox: HubSpotSandbox) -> None:
    v3 = get(sandbox, "/crm/v3/objects/deals", limit=5, properties="amount").json()
    dated = get(sandbox, "/crm/objects/2026-03/deals", limit=5, properties="amount").json()
    assert [r["properties"] for r in dated["results"]] == [r["properties"] for r in v3["results"]]
    stages = get(sandbox, "/crm/pipelines/2026-03/deals").json()["results"][0]["stages"]
    assert len(stages) == 7
    deal_id = v3["results"][1]["id"]
    assoc = post(sandbox, "/crm/associations/2026-03/deals/companies/batch/read", {"inputs": [{"id": deal_id}]})
    assert assoc.status_code in (200, 207)


def test_account_info_and_stats(sandbox: HubSpotSandbox) -> None:
    details = get(sandbox, "/account-info/v3/details").json()
    assert (details["portalId"], details["companyCurrency"]) == (sandbox.portal.portal_id, "USD")
    usage = get(sandbox, "/account-info/v3/api-usage/daily/private-apps").json()["results"][0]
    assert usage["usageLimit"] == 250_000
    before = sandbox.stats()["by_endpoint"].get("pipelines", 0)
    get(sandbox, "/crm/v3/pipelines/deals")
    stats = requests.get(sandbox.base_url + "/__sandbox/stats", timeout=10).json()
    assert stats["by_endpoint"]["pipelines"] == before + 1
