"""Crediting data in the sandbox: the seeded truth (owner changes, splits, team moves), and how each
emulator serves it — Salesforce OpportunityFieldHistory / OpportunitySplit / OpportunitySplitType
through simple-salesforce, HubSpot hubspot_owner_assigneddate, propertiesWithHistory, the deal splits
endpoints and the mirror link properties over HTTP. Expected values come from the data set."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import hubspot
import pytest
import requests
from simple_salesforce import Salesforce

from spm_sync.sandbox.dataset import Dataset, generate
from spm_sync.sandbox.facade import Sandbox
from spm_sync.sandbox.hubspot import HubSpotSandbox
from spm_sync.sandbox.hubspot.shaping import DEAL_BASE, OWNER_BASE
from spm_sync.sandbox.salesforce import SalesforceSandbox

AS_OF = date(2026, 3, 15)
DATASET = generate(7, "small", as_of=AS_OF)


def _rows(table: Any) -> list[dict[str, Any]]:
    return table.to_pylist()


# ---- the seeded truth ------------------------------------------------------------------------------

def test_owner_changes_are_between_colleagues_and_current_owner_is_the_new_one() -> None:
    opps = {o["opportunity_id"]: o for o in _rows(DATASET.opportunities)}
    team = {r["rep_id"]: r["team_id"] for r in _rows(DATASET.reps)}
    moved = {h["rep_id"] for h in _rows(DATASET.team_history)}
    changes = _rows(DATASET.owner_changes)
    assert len(changes) == 36
    after_close = 0
    for change in changes:
        opp = opps[change["opportunity_id"]]
        assert opp["owner_rep_id"] == change["new_rep_id"] != change["old_rep_id"]
        if not moved & {change["old_rep_id"], change["new_rep_id"]}:
            assert team[change["old_rep_id"]] == team[change["new_rep_id"]]
        assert opp["created_at"] < change["changed_at"] < datetime(2026, 3, 15, tzinfo=UTC)
        assert opp["updated_at"] >= change["changed_at"]
        if change["changed_at"].date() > opp["close_date"]:
            after_close += 1
            assert opp["stage"] in ("closed_won", "closed_lost") and not opp["is_deleted"]
        else:
            assert change["changed_at"] < datetime.combine(opp["close_date"], datetime.min.time(), UTC)
    assert after_close == 19


def test_splits_sum_to_100_and_never_sit_on_reassigned_or_deleted_deals() -> None:
    opps = {o["opportunity_id"]: o for o in _rows(DATASET.opportunities)}
    by_opp: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for split in _rows(DATASET.opportunity_splits):
        by_opp[split["opportunity_id"]].append(split)
    assert len(by_opp) == 33
    reassigned = {c["opportunity_id"] for c in _rows(DATASET.owner_changes)}
    for opp_id, splits in by_opp.items():
        assert [s["split_type"] for s in splits] == ["Revenue", "Revenue"]
        assert sum(s["percentage"] for s in splits) == 100.0
        assert splits[0]["rep_id"] == opps[opp_id]["owner_rep_id"] != splits[1]["rep_id"]
        assert splits[0]["percentage"] in (50.0, 60.0, 70.0, 75.0)
        assert opp_id not in reassigned and not opps[opp_id]["is_deleted"]


def test_a_rep_moved_team_mid_year_with_contiguous_history() -> None:
    assert _rows(DATASET.team_history) == [
        {"rep_id": 7, "team_id": 3, "valid_from": date(2025, 1, 1), "valid_to": date(2025, 10, 5)},
        {"rep_id": 7, "team_id": 2, "valid_from": date(2025, 10, 5), "valid_to": None},
    ]
    rep = _rows(DATASET.reps)[6]
    assert (rep["team_id"], rep["manager_rep_id"]) == (2, 1)


def test_split_part_keeps_a_movers_records_in_the_crm_of_their_first_team() -> None:
    salesforce, hubspot_part = DATASET.for_crm(split=True)
    owners = {o["owner_rep_id"] for o in _rows(hubspot_part.opportunities)}
    assert 8 in owners and 8 not in {o["owner_rep_id"] for o in _rows(salesforce.opportunities)}
    assert salesforce.team_history.equals(DATASET.team_history)


# ---- Salesforce -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def salesforce() -> Iterator[SalesforceSandbox]:
    with SalesforceSandbox(DATASET, bulk_delay_s=0.0) as sb:
        yield sb


@pytest.fixture(scope="module")
def sf(salesforce: SalesforceSandbox) -> Salesforce:
    session = requests.Session()
    session.verify = salesforce.ca_bundle
    session.trust_env = False
    return Salesforce(instance_url=salesforce.instance_url, session_id=salesforce.session_id, session=session)


def test_owner_history_two_rows_per_change_ids_then_names(salesforce: SalesforceSandbox, sf: Salesforce) -> None:
    opp_ids, user_ids = salesforce.record_ids("Opportunity"), salesforce.record_ids("User")
    names = {r["rep_id"]: f"{r['first_name']} {r['last_name']}" for r in _rows(DATASET.reps)}
    records = sf.query_all("SELECT OpportunityId, Field, DataType, OldValue, NewValue, CreatedDate "
                           "FROM OpportunityFieldHistory WHERE Field = 'Owner' ORDER BY CreatedDate")["records"]
    expected = []
    for change in sorted(_rows(DATASET.owner_changes), key=lambda c: c["changed_at"]):
        stamp = change["changed_at"].replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%S.000+0000")
        opp = opp_ids[change["opportunity_id"] - 1]
        old, new = change["old_rep_id"], change["new_rep_id"]
        expected += [
            (opp, "Owner", "EntityId", user_ids[old - 1], user_ids[new - 1], stamp),
            (opp, "Owner", "Text", names[old], names[new], stamp),
        ]
    got = [(r["OpportunityId"], r["Field"], r["DataType"], r["OldValue"], r["NewValue"], r["CreatedDate"])
           for r in records]
    assert got == expected


def test_split_types_and_every_opportunity_split(salesforce: SalesforceSandbox, sf: Salesforce) -> None:
    types = sf.query("SELECT Id, DeveloperName, MasterLabel, IsTotalValidated FROM OpportunitySplitType "
                     "ORDER BY DeveloperName")["records"]
    assert [(t["DeveloperName"], t["MasterLabel"], t["IsTotalValidated"]) for t in types] == [
        ("Overlay", "Overlay", False), ("Revenue", "Revenue", True)]
    revenue = types[1]["Id"]
    describe = sf.OpportunitySplit.describe()
    fields = {f["name"]: f["type"] for f in describe["fields"]}
    assert (fields["SplitOwnerId"], fields["SplitPercentage"], fields["SplitTypeId"]) == (
        "reference", "percent", "reference")
    opp_ids, user_ids = salesforce.record_ids("Opportunity"), salesforce.record_ids("User")
    expected: dict[str, list[tuple[str, float, str]]] = {}
    splits = defaultdict(list)
    for s in _rows(DATASET.opportunity_splits):
        splits[s["opportunity_id"]].append((user_ids[s["rep_id"] - 1], s["percentage"], revenue))
    for opp in _rows(DATASET.opportunities):
        if not opp["is_deleted"]:
            lone = [(user_ids[opp["owner_rep_id"] - 1], 100.0, revenue)]
            expected[opp_ids[opp["opportunity_id"] - 1]] = splits.get(opp["opportunity_id"], lone)
    got: dict[str, list[tuple[str, float, str]]] = defaultdict(list)
    for r in sf.query_all("SELECT OpportunityId, SplitOwnerId, SplitPercentage, SplitTypeId FROM OpportunitySplit "
                          "ORDER BY Id")["records"]:
        got[r["OpportunityId"]].append((r["SplitOwnerId"], r["SplitPercentage"], r["SplitTypeId"]))
    assert dict(got) == expected


def test_owner_change_through_the_api_is_recorded_and_moves_the_owner_split(sf: Salesforce) -> None:
    with SalesforceSandbox(DATASET, bulk_delay_s=0.0) as sb:
        session = requests.Session()
        session.verify, session.trust_env = sb.ca_bundle, False
        api = Salesforce(instance_url=sb.instance_url, session_id=sb.session_id, session=session)
        split = {s["opportunity_id"] for s in _rows(DATASET.opportunity_splits)}
        first = next(i for i, o in enumerate(_rows(DATASET.opportunities))
                     if o["owner_rep_id"] == 1 and o["opportunity_id"] not in split)
        opp = sb.record_ids("Opportunity")[first]  # owned by rep 1, no split in the data set
        users = sb.record_ids("User")
        api.Opportunity.update(opp, {"OwnerId": users[1]})
        history = api.query(f"SELECT DataType, OldValue, NewValue FROM OpportunityFieldHistory "
                            f"WHERE OpportunityId = '{opp}' ORDER BY CreatedDate")["records"]
        reps = _rows(DATASET.reps)
        assert [(h["DataType"], h["OldValue"], h["NewValue"]) for h in history] == [
            ("EntityId", users[0], users[1]),
            ("Text", f"{reps[0]['first_name']} {reps[0]['last_name']}",
             f"{reps[1]['first_name']} {reps[1]['last_name']}"),
        ]
        split = api.query(f"SELECT SplitOwnerId, SplitPercentage FROM OpportunitySplit "
                          f"WHERE OpportunityId = '{opp}'")["records"]
        assert [(s["SplitOwnerId"], s["SplitPercentage"]) for s in split] == [(users[1], 100.0)]


# ---- HubSpot --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def portal() -> Iterator[HubSpotSandbox]:
    with HubSpotSandbox(DATASET, rate_limit=10_000) as sb:
        yield sb


def _post(sb: HubSpotSandbox, path: str, body: dict[str, Any]) -> requests.Response:
    return requests.post(sb.base_url + path, json=body, headers={"Authorization": f"Bearer {sb.access_token}"},
                         timeout=10)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def test_assigned_date_and_owner_history_through_the_sdk(portal: HubSpotSandbox) -> None:
    client = hubspot.Client.create(access_token=portal.access_token, host=portal.base_url)
    change = _rows(DATASET.owner_changes)[0]
    opp = _rows(DATASET.opportunities)[change["opportunity_id"] - 1]
    deal_id = str(DEAL_BASE + change["opportunity_id"])
    from hubspot.crm.deals import BatchReadInputSimplePublicObjectId

    body = BatchReadInputSimplePublicObjectId(
        inputs=[{"id": deal_id}, {"id": str(DEAL_BASE + 1)}], properties=["hubspot_owner_assigneddate"],
        properties_with_history=["hubspot_owner_id"])
    results = {r.id: r for r in client.crm.deals.batch_api.read(body).results}
    changed = results[deal_id]
    assert changed.properties["hubspot_owner_assigneddate"] == _iso(change["changed_at"])
    assert [(v.value, v.timestamp.isoformat()) for v in changed.properties_with_history["hubspot_owner_id"]] == [
        (str(OWNER_BASE + change["new_rep_id"]), change["changed_at"].isoformat()),
        (str(OWNER_BASE + change["old_rep_id"]), opp["created_at"].isoformat()),
    ]
    first = _rows(DATASET.opportunities)[0]
    unchanged = results[str(DEAL_BASE + 1)]
    assert unchanged.properties["hubspot_owner_assigneddate"] == _iso(first["created_at"])
    assert [v.value for v in unchanged.properties_with_history["hubspot_owner_id"]] == [
        str(OWNER_BASE + first["owner_rep_id"])]


def test_history_batch_read_is_capped_at_50_inputs(portal: HubSpotSandbox) -> None:
    inputs = [{"id": i} for i in portal.portal.ids("deals")[:51]]
    refused = _post(portal, "/crm/v3/objects/deals/batch/read",
                    {"inputs": inputs, "propertiesWithHistory": ["hubspot_owner_id"]})
    assert refused.status_code == 400 and "no more than 50" in refused.json()["message"]
    assert _post(portal, "/crm/v3/objects/deals/batch/read", {"inputs": inputs[:50],
                 "propertiesWithHistory": ["hubspot_owner_id"]}).status_code == 200


@pytest.mark.parametrize("path", ["/crm/v3/objects/deals/splits/batch/read", "/deal-splits/2026-03/batch/read"])
def test_deal_splits_batch_read_both_paths(portal: HubSpotSandbox, path: str) -> None:
    split = _rows(DATASET.opportunity_splits)[:2]
    deal = str(DEAL_BASE + split[0]["opportunity_id"])
    body = _post(portal, path, {"inputs": [{"id": deal}, {"id": str(DEAL_BASE + 1)}]}).json()
    assert body["status"] == "COMPLETE"
    assert [(r["id"], [(s["properties"]["hubspot_owner_id"], s["properties"]["hs_deal_split_percentage"])
                       for s in r["splits"]]) for r in body["results"]] == [
        (deal, [(str(OWNER_BASE + split[0]["rep_id"]), str(split[0]["percentage"] / 100)),
                (str(OWNER_BASE + split[1]["rep_id"]), str(split[1]["percentage"] / 100))]),
        (str(DEAL_BASE + 1), []),
    ]
    assert all(isinstance(v, str) for r in body["results"] for s in r["splits"] for v in s["properties"].values())


def test_deal_splits_unknown_ids_and_limits(portal: HubSpotSandbox) -> None:
    partial = _post(portal, "/crm/v3/objects/deals/splits/batch/read", {"inputs": [{"id": "1"}]})
    assert partial.status_code == 207 and partial.json()["errors"][0]["context"] == {"ids": ["1"]}
    too_many = _post(portal, "/crm/v3/objects/deals/splits/batch/read",
                     {"inputs": [{"id": str(DEAL_BASE + i)} for i in range(1, 102)]})
    assert too_many.status_code == 400
    portal.portal.revoke_scope("deal_splits")
    try:
        denied = _post(portal, "/crm/v3/objects/deals/splits/batch/read", {"inputs": [{"id": str(DEAL_BASE + 1)}]})
        assert denied.status_code == 403 and denied.json()["category"] == "MISSING_SCOPES"
    finally:
        portal.portal.grant_scope("deal_splits")


def test_owner_change_through_the_api_stamps_the_assigned_date(portal: HubSpotSandbox) -> None:
    deal = str(DEAL_BASE + 2)
    before = datetime.now(UTC) - timedelta(seconds=1)
    portal.portal.update("deals", deal, {"hubspot_owner_id": str(OWNER_BASE + 3)})
    values = portal.portal.get("deals", deal)
    assigned = datetime.fromisoformat(values["hubspot_owner_assigneddate"].replace("Z", "+00:00"))
    assert assigned >= before and values["hubspot_owner_id"] == str(OWNER_BASE + 3)


def test_mirror_portal_holds_linked_copies_of_the_salesforce_records() -> None:
    small: Dataset = generate(3, 4, as_of=AS_OF)
    with Sandbox(dataset=small, mirror=True) as sb:
        opp_ids = sb.salesforce.record_ids("Opportunity")
        account_ids, lead_ids = sb.salesforce.record_ids("Account"), sb.salesforce.record_ids("Lead")
        portal = sb.hubspot.portal
        deal = portal.get("deals", DEAL_BASE + 5)
        assert deal["hs_salesforceopportunityid"] == opp_ids[4]
        assert portal.get("companies", portal.ids("companies")[0])["salesforceaccountid"] == account_ids[0]
        assert portal.get("contacts", portal.ids("contacts")[0])["salesforceleadid"] == lead_ids[0]
        assert len(portal.ids("deals")) + len(portal.ids("deals", archived=True)) == small.opportunities.num_rows
        assert portal.ids("calls") == [] and portal.ids("goal_targets") == [] and portal.deal_splits == {}
    with pytest.raises(ValueError, match="exclude each other"):
        Sandbox(dataset=small, mirror=True, split=True)


def test_serve_mirror_line_points_at_a_portal_of_linked_copies() -> None:
    import io
    import threading
    import time

    from spm_sync.sandbox.serve import serve

    out, stop = io.StringIO(), threading.Event()
    worker = threading.Thread(target=serve, kwargs={"seed": 3, "scale": "small", "mirror": True, "out": out,
                                                    "stop": stop})
    worker.start()
    try:
        deadline = time.monotonic() + 60
        while "\n" not in out.getvalue() and time.monotonic() < deadline and worker.is_alive():
            time.sleep(0.05)
        hub = json.loads(out.getvalue().splitlines()[0])["hubspot"]
        deal = requests.post(hub["base_url"] + "/crm/v3/objects/deals/batch/read", timeout=10,
                             headers={"Authorization": f"Bearer {hub['access_token']}"},
                             json={"inputs": [{"id": str(DEAL_BASE + 1)}],
                                   "properties": ["hs_salesforceopportunityid"]}).json()
        assert deal["results"][0]["properties"]["hs_salesforceopportunityid"].startswith("006")
    finally:
        stop.set()
        worker.join(timeout=10)
    assert not worker.is_alive()
