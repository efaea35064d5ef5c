"""HubSpot emulator at volume: 25,000 records modified in the same instant, the 10,000-result
search cap, and the id-keyset way around it; plus the wire-format value helpers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import requests

from spm_sync.sandbox.hubspot import HubSpotSandbox
from spm_sync.sandbox.hubspot.columns import NumberColumn, TextColumn
from spm_sync.sandbox.hubspot.values import InvalidValue, format_datetime, format_number, parse_time

N = 25_000
INSTANT_MS = 1_748_779_200_000  # 2025-06-01T12:00:00Z
FIRST_ID = 7_000_000_001


@pytest.fixture(scope="module")
def crowded() -> Iterator[HubSpotSandbox]:
    """25,000 deals, every one last modified at the same millisecond."""
    sandbox = HubSpotSandbox(None, rate_limit=10**6, search_rate_limit=10**6)
    ids = np.arange(FIRST_ID, FIRST_ID + N, dtype=np.int64)
    stamps = np.full(N, INSTANT_MS, dtype=np.int64)
    sandbox.portal.table("deals").load(ids, stamps - 86_400_000, stamps, {
        "dealname": TextColumn.from_values([f"Deal {i}" for i in range(N)]),
        "amount": NumberColumn(np.arange(N, dtype=np.float64)),
    })
    with sandbox:
        yield sandbox


def search(sandbox: HubSpotSandbox, body: dict[str, Any]) -> requests.Response:
    return requests.post(f"{sandbox.base_url}/crm/v3/objects/deals/search", json=body, timeout=30,
                         headers={"Authorization": f"Bearer {sandbox.access_token}"})


def modified_since(extra: list[dict[str, Any]] | None = None, **body: Any) -> dict[str, Any]:
    filters = [{"propertyName": "hs_lastmodifieddate", "operator": "GTE", "value": str(INSTANT_MS)}, *(extra or [])]
    return {"filterGroups": [{"filters": filters}],
            "sorts": [{"propertyName": "hs_lastmodifieddate", "direction": "ASCENDING"}], "limit": 200, **body}


def test_the_last_page_below_the_cap_still_offers_a_next_page_that_fails(crowded: HubSpotSandbox) -> None:
    page = search(crowded, modified_since(after="9800")).json()
    assert page["total"] == N
    assert page["paging"]["next"]["after"] == "10000"
    assert [r["id"] for r in page["results"]][:2] == [str(FIRST_ID + 9800), str(FIRST_ID + 9801)]
    beyond = search(crowded, modified_since(after="10000"))
    assert beyond.status_code == 400
    assert beyond.json()["category"] == "VALIDATION_ERROR"


def test_keyset_on_hs_object_id_reaches_every_record(crowded: HubSpotSandbox) -> None:
    seen: list[str] = []
    last_id = 0
    while True:
        body = modified_since([{"propertyName": "hs_object_id", "operator": "GT", "value": str(last_id)}],
                              sorts=[{"propertyName": "hs_object_id", "direction": "ASCENDING"}])
        page = search(crowded, body).json()
        if not page["results"]:
            break
        seen += [r["id"] for r in page["results"]]
        last_id = int(seen[-1])
    assert seen == [str(i) for i in range(FIRST_ID, FIRST_ID + N)]


def test_list_endpoint_walks_all_25000(crowded: HubSpotSandbox) -> None:
    rows, after = 0, None
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {crowded.access_token}"
    while True:
        params = {"limit": 100, **({"after": after} if after else {})}
        body = session.get(f"{crowded.base_url}/crm/v3/objects/deals", params=params, timeout=30).json()
        rows += len(body["results"])
        if "paging" not in body:
            break
        after = body["paging"]["next"]["after"]
    assert rows == N


@pytest.mark.parametrize(("value", "text"), [
    (1234.5, "1234.5"), (1000.0, "1000"), (0.1 + 0.2, "0.30000000000000004"), (-3.0, "-3"),
])
def test_numbers_render_like_hubspot(value: float, text: str) -> None:
    assert format_number(value) == text


@pytest.mark.parametrize(("raw", "ms"), [
    ("1748779200000", INSTANT_MS), ("2025-06-01T12:00:00Z", INSTANT_MS),
    ("2025-06-01T12:00:00.000+00:00", INSTANT_MS), ("2025-06-01", INSTANT_MS - 12 * 3_600_000),
])
def test_time_values_accept_epoch_ms_iso_and_dates(raw: str, ms: int) -> None:
    assert parse_time(raw, "closedate") == ms
    assert format_datetime(ms)[:10] == "2025-06-01"


def test_date_properties_reject_times_that_are_not_midnight() -> None:
    with pytest.raises(InvalidValue) as caught:
        parse_time("2025-06-01T12:00:00Z", "renewal_date", date_only=True)
    assert caught.value.error == "INVALID_DATE"
