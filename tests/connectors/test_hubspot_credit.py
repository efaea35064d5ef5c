"""HubSpot owner history and deal splits: the connector reads them only where crediting needs them,
in full batches, incrementally, over real sockets with the real SDK against the sandbox portal."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from spm_sync.connectors.hubspot.credit import reassigned_after_close, splits_table
from spm_sync.sandbox.dataset import generate
from spm_sync.sandbox.facade import Sandbox
from spm_sync.sandbox.hubspot.shaping import DEAL_BASE, OWNER_BASE
from tests.clock import next_millisecond
from tests.connectors.test_hubspot_source import Harness

AS_OF = date(2026, 3, 15)
HISTORY, SPLITS = "objects.deals.batch.read.history", "deals.splits.batch.read"


@pytest.fixture(scope="module")
def dataset() -> Any:
    return generate(seed=7, scale=4, as_of=AS_OF)  # 4 reps, 2,000 deals


@pytest.fixture
def harness(tmp_path: Path, dataset: Any) -> Iterator[Harness]:
    with Sandbox(rate_limit=10_000, search_rate_limit=100, dataset=dataset) as sb:
        yield Harness(sb.hubspot, tmp_path, {})


def _truth(dataset: Any) -> tuple[dict[str, list[tuple[str, str]]], dict[str, list[tuple[str, str]]]]:
    """Expected raw rows: owner versions of the deals reassigned after close, splits of won deals."""
    opps = {o["opportunity_id"]: o for o in dataset.opportunities.to_pylist()}
    history: dict[str, list[tuple[str, str]]] = {}
    for change in dataset.owner_changes.to_pylist():
        opp = opps[change["opportunity_id"]]
        if change["changed_at"].date() > opp["close_date"] and not opp["is_deleted"]:
            history[str(DEAL_BASE + opp["opportunity_id"])] = sorted([
                (str(OWNER_BASE + change["new_rep_id"]), change["changed_at"].isoformat(timespec="milliseconds")),
                (str(OWNER_BASE + change["old_rep_id"]), opp["created_at"].isoformat(timespec="milliseconds")),
            ])
    splits: dict[str, list[tuple[str, str]]] = {}
    for split in dataset.opportunity_splits.to_pylist():
        opp = opps[split["opportunity_id"]]
        if opp["stage"] == "closed_won":
            splits.setdefault(str(DEAL_BASE + opp["opportunity_id"]), []).append(
                (str(OWNER_BASE + split["rep_id"]), repr(split["percentage"] / 100)))
    return history, splits


def _stored(harness: Harness) -> tuple[dict[str, list[tuple[str, str]]], dict[str, list[tuple[str, str]]]]:
    history: dict[str, list[tuple[str, str]]] = {}
    for deal, value, stamp in harness.rows("SELECT deal_id, value, timestamp FROM raw_hs.deal_owner_history"):
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone(UTC)
        history.setdefault(deal, []).append((value, moment.isoformat(timespec="milliseconds")))
    splits: dict[str, list[tuple[str, str]]] = {}
    for deal, owner, share in harness.rows("SELECT deal_id, hubspot_owner_id, hs_deal_split_percentage "
                                           "FROM raw_hs.deal_splits ORDER BY id"):
        splits.setdefault(deal, []).append((owner, share))
    return {k: sorted(v) for k, v in history.items()}, splits


def test_full_sync_reads_history_of_reassigned_deals_and_splits_of_won_deals(harness: Harness,
                                                                              dataset: Any) -> None:
    result = harness.sync(objects=["deals"])
    history, splits = _truth(dataset)
    assert len(history) == 62
    won = sum(1 for o in dataset.opportunities.to_pylist() if o["stage"] == "closed_won" and not o["is_deleted"])
    calls = result.api_calls["by_family"]
    assert (calls[HISTORY], calls[SPLITS]) == (math.ceil(len(history) / 50), math.ceil(won / 100))
    assert (calls[HISTORY], calls[SPLITS]) == (2, 5)
    assert _stored(harness) == (history, splits)


def test_incremental_reads_only_deals_changed_since_the_cursor(harness: Harness, dataset: Any) -> None:
    harness.sync(objects=["deals"])
    portal = harness.hubspot.portal
    won = next(o for o in dataset.opportunities.to_pylist()
               if o["stage"] == "closed_won" and not o["is_deleted"] and o["close_date"] < AS_OF)
    deal = str(DEAL_BASE + won["opportunity_id"])
    new_owner = str(OWNER_BASE + (won["owner_rep_id"] % 4) + 1)
    next_millisecond()
    portal.update("deals", deal, {"hubspot_owner_id": new_owner})  # reassigned today, long after close
    next_millisecond()  # the change and the next sync's start fall in different milliseconds
    result = harness.sync(objects=["deals"])
    calls = result.api_calls["by_family"]
    assert (calls[HISTORY], calls[SPLITS]) == (1, 1)
    versions = harness.rows(f"SELECT value FROM raw_hs.deal_owner_history WHERE deal_id = '{deal}' "
                            "ORDER BY timestamp DESC")
    assert versions[0] == (new_owner,) and len(versions) >= 2
    unchanged = harness.sync(objects=["deals"])
    assert HISTORY not in unchanged.api_calls["by_family"] and SPLITS not in unchanged.api_calls["by_family"]


def test_splits_unavailable_warns_once_and_keeps_the_deals(harness: Harness, dataset: Any) -> None:
    harness.hubspot.portal.revoke_scope("deal_splits")
    result = harness.sync(objects=["deals"])
    warnings = [w for w in result.warnings if "splits" in w]
    assert len(warnings) == 1 and warnings[0].startswith(
        "hubspot deal splits skipped: 403 MISSING_SCOPES on POST /crm/v3/objects/deals/splits/batch/read")
    assert result.api_calls["by_family"][SPLITS] == 1
    assert harness.count("deals") == dataset.opportunities.num_rows


@pytest.mark.parametrize(("properties", "expected"), [
    ({"hs_is_closed": "true", "closedate": "2026-01-10T00:00:00Z",
      "hubspot_owner_assigneddate": "2026-01-11T09:00:00.000Z"}, True),
    ({"hs_is_closed": "true", "closedate": "2026-01-10T00:00:00Z",
      "hubspot_owner_assigneddate": "2026-01-10T23:00:00Z"}, False),  # same day: held at close
    ({"hs_is_closed": "true", "closedate": "1768003200000", "hubspot_owner_assigneddate": "1768176000000"}, True),
    ({"hs_is_closed": "false", "closedate": "2026-01-10", "hubspot_owner_assigneddate": "2026-02-01"}, False),
    ({"hs_is_closed": "true", "closedate": None, "hubspot_owner_assigneddate": "2026-02-01"}, True),
    ({"hs_is_closed": "true", "closedate": "2026-01-10", "hubspot_owner_assigneddate": None}, False),
    ({"hs_is_closed": "true", "closedate": "2026-01-10", "hubspot_owner_assigneddate": ""}, False),
])
def test_reassigned_after_close(properties: dict[str, Any], expected: bool) -> None:
    assert reassigned_after_close(properties) is expected


def test_splits_table_tombstones_deals_answered_without_splits() -> None:
    results = [{"id": "7", "splits": [{"id": "70", "properties": {"hubspot_owner_id": 11,
                                                                  "hs_deal_split_percentage": 0.25}}]},
               {"id": "8", "splits": []}]
    rows = splits_table(["7", "8", "9"], results).to_pylist()
    assert [(r["id"], r["deal_id"], r["hubspot_owner_id"], r["hs_deal_split_percentage"], r["removed"])
            for r in rows] == [("70", "7", "11", "0.25", False), ("8:none", "8", None, None, True),
                               ("9:none", "9", None, None, True)]
