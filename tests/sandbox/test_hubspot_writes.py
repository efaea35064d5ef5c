"""HubSpot emulator, write side and limits: batch update/upsert/create, archive, the portal's test
hooks, auth, scopes, rate limits and injected faults — each test on a fresh portal."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import hubspot
import pytest
import requests
from hubspot.crm.objects.exceptions import ApiException

from spm_sync.sandbox.dataset import generate
from spm_sync.sandbox.dataset.model import Dataset
from spm_sync.sandbox.faults import FaultConfig
from spm_sync.sandbox.hubspot import HubSpotSandbox
from spm_sync.sandbox.hubspot.shaping import USER_RECORD_BASE
from tests.clock import ManualClock

AS_OF = date(2025, 6, 15)


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    return generate(7, "small", as_of=AS_OF)


@pytest.fixture
def sandbox(dataset: Dataset) -> Iterator[HubSpotSandbox]:
    with HubSpotSandbox(dataset, faults=FaultConfig(), rate_limit=10_000, search_rate_limit=10_000) as sb:
        yield sb


def call(sandbox: HubSpotSandbox, method: str, path: str, body: dict[str, Any] | None = None,
         token: str | None = None, **params: Any) -> requests.Response:
    headers = {"Authorization": f"Bearer {token or sandbox.access_token}"}
    return requests.request(method, sandbox.base_url + path, json=body, params=params, headers=headers,
                            timeout=10)


def sdk(sandbox: HubSpotSandbox, token: str | None = None) -> hubspot.Client:
    return hubspot.Client.create(access_token=token or sandbox.access_token, host=sandbox.base_url)


def first_user_ids(sandbox: HubSpotSandbox, n: int) -> list[str]:
    return sandbox.portal.ids("users")[:n]


def test_batch_update_writes_values_and_bumps_modification_stamps(sandbox: HubSpotSandbox) -> None:
    ids = first_user_ids(sandbox, 2)
    before = sandbox.portal.get("users", ids[0])["hs_lastmodifieddate"]
    result = sdk(sandbox).crm.objects.batch_api.update("users", {"inputs": [
        {"id": ids[0], "properties": {"spm_quota_attainment": "81.25", "spm_revenue_won": 125000}},
        {"id": ids[1], "properties": {"spm_quota_attainment": "0.5"}},
    ]})
    assert sorted((r.id, r.properties["spm_quota_attainment"]) for r in result.results) == [
        (ids[0], "81.25"), (ids[1], "0.5")]
    stored = sandbox.portal.get("users", ids[0])
    assert (stored["spm_quota_attainment"], stored["spm_revenue_won"]) == ("81.25", "125000")
    assert stored["hs_lastmodifieddate"] > before
    history = call(sandbox, "GET", f"/crm/v3/objects/users/{ids[0]}",
                   propertiesWithHistory="spm_quota_attainment").json()["propertiesWithHistory"]
    assert [(h["value"], h["sourceType"]) for h in history["spm_quota_attainment"]] == [("81.25", "API")]


def test_batch_update_partial_failure_is_a_207_per_input(sandbox: HubSpotSandbox) -> None:
    ids = first_user_ids(sandbox, 2)
    response = call(sandbox, "POST", "/crm/v3/objects/users/batch/update", {"inputs": [
        {"id": ids[0], "properties": {"spm_win_rate": "0.4"}},
        {"id": ids[1], "properties": {"spm_win_rate": "forty percent"}},
        {"id": "999", "properties": {"spm_win_rate": "0.1"}},
    ]})
    assert response.status_code == 207
    body = response.json()
    assert [r["id"] for r in body["results"]] == [ids[0]]
    assert body["numErrors"] == 2
    errors = {e["context"]["ids"][0]: e for e in body["errors"]}
    assert errors[ids[1]]["category"] == "VALIDATION_ERROR"
    assert '"error":"INVALID_FLOAT"' in errors[ids[1]]["message"]
    assert errors["999"]["category"] == "OBJECT_NOT_FOUND"
    assert sandbox.portal.get("users", ids[1])["spm_win_rate"] is None


def test_unknown_property_fails_the_whole_batch_with_400(sandbox: HubSpotSandbox) -> None:
    ids = first_user_ids(sandbox, 1)
    response = call(sandbox, "POST", "/crm/v3/objects/users/batch/update",
                    {"inputs": [{"id": ids[0], "properties": {"spm_not_defined": "1"}}]})
    assert response.status_code == 400
    body = response.json()
    assert body["category"] == "VALIDATION_ERROR"
    assert '"error":"PROPERTY_DOESNT_EXIST"' in body["message"]
    assert '"name":"spm_not_defined"' in body["message"]


def test_read_only_properties_are_rejected(sandbox: HubSpotSandbox) -> None:
    deal = sandbox.portal.ids("deals")[0]
    response = call(sandbox, "POST", "/crm/v3/objects/deals/batch/update",
                    {"inputs": [{"id": deal, "properties": {"hs_is_closed_won": "true"}}]})
    assert response.status_code == 207
    assert '"error":"READ_ONLY_VALUE"' in response.json()["errors"][0]["message"]


def test_upsert_by_unique_id_property_updates_and_creates(sandbox: HubSpotSandbox, dataset: Dataset) -> None:
    email = dataset.reps["email"][0].as_py().lower()
    result = sdk(sandbox).crm.objects.batch_api.upsert("users", {"inputs": [
        {"idProperty": "spm_rep_key", "id": email, "properties": {"spm_calls_this_month": "42"}},
        {"idProperty": "spm_rep_key", "id": "new.rep@example.com", "properties": {"spm_calls_this_month": "7"}},
    ]})
    by_key = {r.properties["spm_rep_key"]: r for r in result.results}
    assert (by_key[email].id, by_key[email].new) == (str(USER_RECORD_BASE + 1), False)
    assert by_key["new.rep@example.com"].new is True
    assert sandbox.portal.get("users", by_key["new.rep@example.com"].id)["spm_calls_this_month"] == "7"
    non_unique = call(sandbox, "POST", "/crm/v3/objects/users/batch/upsert", {
        "inputs": [{"idProperty": "hs_object_id", "id": "1", "properties": {"spm_nps": "1"}}]})
    assert non_unique.status_code == 400
    assert "non-unique" in non_unique.json()["message"]


def test_batch_create_and_custom_property(sandbox: HubSpotSandbox) -> None:
    created = call(sandbox, "POST", "/crm/v3/properties/deals", {
        "name": "spm_margin", "label": "Margin", "type": "number", "fieldType": "number",
        "groupName": "dealinformation"})
    assert created.status_code == 201
    assert created.json()["hubspotDefined"] is False
    result = call(sandbox, "POST", "/crm/v3/objects/deals/batch/create", {"inputs": [
        {"properties": {"dealname": "Sandbox deal", "amount": "1500.5", "dealstage": "closedwon",
                        "spm_margin": "0.25"}}]})
    assert result.status_code == 201
    record = result.json()["results"][0]
    stored = sandbox.portal.get("deals", record["id"])
    assert (stored["amount"], stored["spm_margin"], stored["hs_is_closed_won"]) == ("1500.5", "0.25", "true")
    assert stored["hs_v2_date_entered_closedwon"] == stored["createdate"]


def test_archive_and_hard_delete_visibility(sandbox: HubSpotSandbox) -> None:
    first, second = sandbox.portal.ids("deals")[:2]
    assert call(sandbox, "DELETE", f"/crm/v3/objects/deals/{first}").status_code == 204
    sandbox.portal.hard_delete("deals", second)
    live = sandbox.portal.ids("deals")
    archived = call(sandbox, "GET", "/crm/v3/objects/deals", archived="true", limit=100).json()["results"]
    assert first not in live and second not in live
    assert first in [r["id"] for r in archived]
    assert second not in [r["id"] for r in archived]
    assert call(sandbox, "GET", f"/crm/v3/objects/deals/{second}", archived="true").status_code == 404


def test_search_reflects_ui_changes_and_identical_modification_instants(sandbox: HubSpotSandbox) -> None:
    instant = datetime(2025, 6, 1, 12, 0, 0, tzinfo=UTC)
    changed = sandbox.portal.set_modified("deals", instant)
    stamp = str(int(instant.timestamp() * 1000))
    body = {"filterGroups": [{"filters": [
        {"propertyName": "hs_lastmodifieddate", "operator": "GTE", "value": stamp}]}],
        "sorts": [{"propertyName": "hs_lastmodifieddate", "direction": "ASCENDING"}], "limit": 200}
    live = sandbox.portal.ids("deals")
    first = call(sandbox, "POST", "/crm/v3/objects/deals/search", body).json()
    assert changed == len(live) + len(sandbox.portal.ids("deals", archived=True))
    assert first["total"] == len(live)
    assert [r["id"] for r in first["results"]] == live[:200]
    assert {r["properties"]["hs_lastmodifieddate"] for r in first["results"]} == {"2025-06-01T12:00:00.000Z"}
    sandbox.portal.update("deals", live[5], {"dealname": "Renamed in the UI"})
    later = call(sandbox, "POST", "/crm/v3/objects/deals/search", {**body, "filterGroups": [{"filters": [
        {"propertyName": "hs_lastmodifieddate", "operator": "GT", "value": stamp}]}], "properties": ["dealname"]})
    assert [(r["id"], r["properties"]["dealname"]) for r in later.json()["results"]] == [
        (live[5], "Renamed in the UI")]


def test_bad_token_is_401_with_hubspots_body(sandbox: HubSpotSandbox) -> None:
    with pytest.raises(ApiException) as caught:
        sdk(sandbox, token="pat-na1-wrong").crm.objects.basic_api.get_page("deals")
    assert caught.value.status == 401
    response = call(sandbox, "GET", "/crm/v3/objects/deals", token="pat-na1-wrong")
    body = response.json()
    assert (body["status"], body["category"]) == ("error", "INVALID_AUTHENTICATION")
    assert body["message"].startswith("Authentication credentials not found.")


def test_revoked_scope_is_403_missing_scopes(sandbox: HubSpotSandbox) -> None:
    sandbox.portal.revoke_scope("feedback_submissions")
    response = call(sandbox, "GET", "/crm/v3/objects/feedback_submissions")
    assert response.status_code == 403
    body = response.json()
    assert body["category"] == "MISSING_SCOPES"
    assert body["errors"][0]["context"] == {"requiredGranularScopes": ["crm.objects.feedback_submissions.read"]}
    assert call(sandbox, "GET", "/crm/v3/objects/deals").status_code == 200


def test_ten_second_window_429_then_success(dataset: Dataset) -> None:
    clock = ManualClock()
    with HubSpotSandbox(dataset, rate_limit=3, rate_window_s=1.0, rate_clock=clock) as sb:
        statuses = [call(sb, "GET", "/crm/v3/objects/deals", limit=1) for _ in range(4)]
        assert [r.status_code for r in statuses] == [200, 200, 200, 429]
        assert [r.headers["X-HubSpot-RateLimit-Remaining"] for r in statuses[:3]] == ["2", "1", "0"]
        assert statuses[0].headers["X-HubSpot-RateLimit-Max"] == "3"
        assert statuses[0].headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "1000"
        body = statuses[3].json()
        assert (body["errorType"], body["policyName"]) == ("RATE_LIMIT", "TEN_SECONDLY_ROLLING")
        assert body["message"] == "You have reached your ten_secondly_rolling limit."
        assert statuses[3].headers["Retry-After"] == "1"
        clock.advance(0.5)
        assert call(sb, "GET", "/crm/v3/objects/deals", limit=1).status_code == 429
        clock.advance(0.5)  # one window after the first three
        assert call(sb, "GET", "/crm/v3/objects/deals", limit=1).status_code == 200


def test_search_has_its_own_per_second_limit_and_no_rate_headers(dataset: Dataset) -> None:
    with HubSpotSandbox(dataset, search_rate_limit=2) as sb:
        statuses = [call(sb, "POST", "/crm/v3/objects/deals/search", {"limit": 1}) for _ in range(3)]
        assert [r.status_code for r in statuses] == [200, 200, 429]
        assert statuses[2].json()["policyName"] == "SECONDLY"
        assert "X-HubSpot-RateLimit-Max" not in statuses[0].headers
        assert call(sb, "GET", "/crm/v3/objects/deals", limit=1).status_code == 200


def test_injected_throttle_uses_hubspots_429_body(sandbox: HubSpotSandbox) -> None:
    sandbox.faults.inject("throttle")
    response = call(sandbox, "GET", "/crm/v3/objects/deals")
    assert response.status_code == 429
    assert response.json()["policyName"] == "TEN_SECONDLY_ROLLING"
    assert response.headers["Retry-After"] == "1"
    assert call(sandbox, "GET", "/crm/v3/objects/deals").status_code == 200
