"""hubspot_source end to end: real hubspot-api-client over loopback HTTP into a temp DuckDB store."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from spm_sync.config import Config, parse_config
from spm_sync.connectors.hubspot.credit import reassigned_after_close
from spm_sync.connectors.hubspot.settings import HISTORY_BATCH_SIZE, SPLITS_BATCH_SIZE, STANDARD_OBJECTS
from spm_sync.extract import SyncResult, sync_source
from spm_sync.runs import Run
from spm_sync.sandbox import Sandbox
from spm_sync.sandbox.dataset import generate
from spm_sync.sandbox.faults import FaultConfig, FaultKind
from spm_sync.sandbox.hubspot import HubSpotSandbox
from spm_sync.sandbox.hubspot.portal import Portal
from spm_sync.store import Store, open_store
from tests.clock import next_millisecond

STANDARD = ["deals", "contacts", "companies", "calls", "emails", "meetings", "tasks", "users", "goal_targets",
            "feedback_submissions"]


@dataclass
class Harness:
    """One sandbox portal, one store, one source config; `sync()` runs the real extract stage."""

    hubspot: HubSpotSandbox
    tmp: Path
    source: dict[str, Any]
    store: Store | None = None

    def config(self, **overrides: Any) -> Config:
        source = {"name": "hs", "type": "hubspot", "base_url": self.hubspot.base_url,
                  "access_token": self.hubspot.access_token, "lookback_minutes": 0,
                  "rate_limit": {"requests_per_10s": 1000, "search_per_second": 50}, **self.source, **overrides}
        return parse_config({"store": {"path": str(self.tmp / "s.duckdb"), "state_dir": str(self.tmp / "state")},
                             "sources": [source]})

    def sync(self, *, objects: list[str] | None = None, window: tuple[datetime, datetime] | None = None,
             full: bool = False, **overrides: Any) -> SyncResult:
        cfg = self.config(**overrides)
        if self.store is None:
            self.store = open_store(cfg)
        return sync_source(cfg, self.store, "hs", run=Run(job="sync"), objects=objects, window=window, full=full)

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        assert self.store is not None
        return self.store.fetchall(sql)

    def count(self, table: str) -> int:
        return self.rows(f"SELECT count(*) FROM raw_hs.{table}")[0][0]

    def columns(self, table: str) -> set[str]:
        return {r[0] for r in self.rows("SELECT column_name FROM information_schema.columns "
                                        f"WHERE table_schema = 'raw_hs' AND table_name = '{table}'")}


@pytest.fixture
def dataset() -> Any:
    return generate(seed=7, scale="small")


@pytest.fixture
def harness(tmp_path: Path, dataset: Any) -> Iterator[Harness]:
    with Sandbox(seed=7, scale="small", rate_limit=1000, search_rate_limit=50, dataset=dataset) as sb:
        yield Harness(sb.hubspot, tmp_path, {})


def portal_count(hs: HubSpotSandbox, object_type: str) -> int:
    return len(hs.portal.ids(object_type)) + len(hs.portal.ids(object_type, archived=True))


def pages(n: int, size: int) -> int:
    """Calls to page through n records, size a call (an empty listing is one call)."""
    return max(1, math.ceil(n / size))


def full_load_calls(portal: Portal) -> Counter[str]:
    """What a first load of every object costs, by endpoint family, from the portal's data: searched
    objects 200 a call with v4 link reads of 1,000 ids, the others list pages of 100 with links inline
    (v4 reads only for records with more than 100 links), archived listings, definitions, credit reads."""
    calls: Counter[str] = Counter()
    for obj in STANDARD_OBJECTS:
        live, archived = portal.ids(obj.name), portal.ids(obj.name, archived=True)
        calls[f"properties.{obj.name}"] += 1
        calls[f"pipelines.{obj.name}"] += obj.stage_properties
        calls[f"objects.{obj.name}.list"] += pages(len(archived), 100)
        if obj.search_first_load:
            calls[f"objects.{obj.name}.search"] += pages(len(live), 200)
        else:
            calls[f"objects.{obj.name}.list"] += pages(len(live), 100)
        for to_object in obj.associations:
            if obj.search_first_load:
                reread = len(live)
            else:
                calls[f"associations.{obj.name}.{to_object}.types"] += 2  # v3 type names + v4 labels
                reread = sum(len(portal.associations.targets(obj.name, int(i), to_object)[0]) > 100 for i in live)
            calls[f"associations.{obj.name}.{to_object}.batch.read"] += math.ceil(reread / 1000)
        if obj.credit:
            deals = [portal.get(obj.name, i) for i in live]
            calls[f"objects.{obj.name}.batch.read.history"] += math.ceil(
                sum(reassigned_after_close(d) for d in deals) / HISTORY_BATCH_SIZE)
            calls["deals.splits.batch.read"] += math.ceil(
                sum(d.get("hs_is_closed_won") == "true" for d in deals) / SPLITS_BATCH_SIZE)
    calls["owners"] = pages(sum(not o.archived for o in portal.owners), 100) + pages(
        sum(o.archived for o in portal.owners), 100)
    return +calls  # families with no call dropped


def test_full_sync_lands_every_object(harness: Harness) -> None:
    result = harness.sync()
    hs = harness.hubspot
    assert result.warnings == []
    for name in STANDARD:
        assert harness.count(name) == portal_count(hs, name), name
    assert harness.count("owners") == len(hs.portal.owners)
    assert harness.rows("SELECT stage_id, label, display_order, is_closed, probability "
                        "FROM raw_hs.deal_pipeline_stages "
                        "WHERE stage_id IN ('contractsent', 'closedwon') ORDER BY stage_id") == [
        ("closedwon", "Closed Won", 5, "true", "1.0"),
        ("contractsent", "Contract Sent", 4, "false", "0.9"),
    ]
    deal_id = hs.portal.ids("deals")[0]
    wire = hs.portal.get("deals", deal_id)
    got = harness.rows(f"SELECT amount, dealstage, hs_v2_date_entered_contractsent, hs_date_entered_closedwon, "
                       f"archived FROM raw_hs.deals WHERE id = '{deal_id}'")
    assert got == [(wire["amount"], wire["dealstage"], wire.get("hs_v2_date_entered_contractsent"),
                    wire.get("hs_date_entered_closedwon"), False)]
    columns = harness.columns("deals")
    assert {"id", "archived", "created_at", "updated_at", "amount", "hs_object_id"} <= columns
    assert {f"hs_v2_date_entered_{s}" for s in ("appointmentscheduled", "contractsent", "closedlost")} <= columns
    assert result.api_calls["by_family"] == full_load_calls(hs.portal)
    assert hs.server.stats()["total"] == result.api_calls["total"] == sum(full_load_calls(hs.portal).values())


def test_associations_complete(harness: Harness) -> None:
    harness.sync(objects=["deals", "calls"])
    store = harness.hubspot.portal.associations
    for from_type, to_type in (("deals", "companies"), ("calls", "deals"), ("calls", "companies")):
        expected = {
            (str(f), str(t))
            for f in harness.hubspot.portal.ids(from_type)
            for t in store.targets(from_type, int(f), to_type)[0].tolist()
        }
        got = set(harness.rows(f"SELECT DISTINCT from_id, to_id FROM raw_hs.associations "
                               f"WHERE from_object = '{from_type}' AND to_object = '{to_type}'"))
        assert got == expected and expected, (from_type, to_type)
    primary = harness.rows("SELECT DISTINCT association_type_id FROM raw_hs.associations "
                           "WHERE from_object = 'deals' ORDER BY 1")
    assert (5,) in primary


def test_incremental_picks_up_changes_archives_and_hard_deletes(harness: Harness) -> None:
    portal = harness.hubspot.portal
    harness.sync(delete_sweep_days=0)
    changed, archived, deleted = portal.ids("deals")[:3]
    next_millisecond()
    portal.update("deals", changed, {"amount": "12345.5", "dealname": "Changed deal"})
    created = portal.create("deals", {"dealname": "Brand new", "amount": "10", "dealstage": "qualifiedtobuy",
                                      "pipeline": "default"})
    portal.archive("deals", archived)
    portal.hard_delete("deals", deleted)
    next_millisecond()  # the change and the next sync's start fall in different milliseconds

    result = harness.sync(delete_sweep_days=0)

    assert result.warnings == []
    assert harness.rows(f"SELECT amount, dealname, archived FROM raw_hs.deals WHERE id = '{changed}'") == [
        ("12345.5", "Changed deal", False)]
    assert harness.rows(f"SELECT dealname, amount, dealstage FROM raw_hs.deals WHERE id = '{created}'") == [
        ("Brand new", "10", "qualifiedtobuy")]
    assert harness.rows(f"SELECT archived, dealname IS NOT NULL FROM raw_hs.deals WHERE id = '{archived}'") == [
        (True, True)]
    assert harness.rows(f"SELECT archived, hard_deleted FROM raw_hs.deals WHERE id = '{deleted}'") == [(True, True)]
    assert harness.count("deals") == portal_count(harness.hubspot, "deals") + 1  # + the hard-deleted tombstone
    calls = result.api_calls["by_family"]
    assert calls["objects.deals.search"] == 1 + 2  # the window, then the id sweep (2 pages of 200 ids)


def test_no_change_incremental_is_one_search_per_object(harness: Harness) -> None:
    harness.sync()
    result = harness.sync()
    # property and pipeline definitions come from the cache, archives are not due: searches + active owners
    assert result.api_calls["by_family"] == {**{f"objects.{name}.search": 1 for name in STANDARD}, "owners": 1}
    assert result.api_calls["total"] == 11 <= 1.2 * len(STANDARD)
    assert result.records.get("deals", 0) == 0 and result.records.get("calls", 0) == 0


def test_full_sync_reads_definitions_again(harness: Harness) -> None:
    harness.sync(objects=["deals"])
    stages = harness.count("deal_pipeline_stages")
    result = harness.sync(objects=["deals"], full=True)
    calls = result.api_calls["by_family"]
    assert (calls["properties.deals"], calls["pipelines.deals"]) == (1, 1)
    assert harness.count("deal_pipeline_stages") == stages > 0


def test_archives_are_caught_on_the_configured_cadence(harness: Harness) -> None:
    portal = harness.hubspot.portal
    harness.sync(objects=["deals", "owners"])
    archived = portal.ids("deals")[0]
    portal.archive("deals", archived)

    not_due = harness.sync(objects=["deals", "owners"], archive_check_hours=24)
    assert harness.rows(f"SELECT archived FROM raw_hs.deals WHERE id = '{archived}'") == [(False,)]
    assert "objects.deals.list" not in not_due.api_calls["by_family"]
    assert not_due.api_calls["by_family"]["owners"] == 1

    due = harness.sync(objects=["deals", "owners"], archive_check_hours=0)
    # listed since the last check, not since this window (which starts after the archive)
    assert harness.rows(f"SELECT archived FROM raw_hs.deals WHERE id = '{archived}'") == [(True,)]
    assert due.records["deals"] == 1
    assert due.api_calls["by_family"]["owners"] == 2  # active and archived owners


def test_search_cap_25000_records_in_one_instant(harness: Harness) -> None:
    portal = harness.hubspot.portal
    harness.sync(objects=["deals"])
    new_ids = [portal.create("deals", {"dealname": f"bulk {i}", "amount": "1"}) for i in range(25_000)]
    instant = portal.now_ms() - 1
    assert portal.set_modified("deals", instant, new_ids) == 25_000

    result = harness.sync(objects=["deals"])

    assert result.records["deals"] == 25_000
    assert harness.count("deals") == portal_count(harness.hubspot, "deals")
    assert harness.rows("SELECT count(*) FROM raw_hs.deals WHERE dealname LIKE 'bulk %'") == [(25_000,)]
    assert result.api_calls["by_family"]["objects.deals.search"] == 125  # ceil(25,000 / 200), no cap error


def test_missing_scope_is_reported_once_and_skipped(harness: Harness) -> None:
    harness.hubspot.portal.revoke_scope("feedback_submissions")
    result = harness.sync(objects=["deals", "feedback_submissions"])
    assert len(result.warnings) == 1
    assert result.warnings[0].startswith("hubspot object feedback_submissions skipped:")
    assert "MISSING_SCOPES" in result.warnings[0] or "scope" in result.warnings[0].lower()
    assert harness.count("deals") == portal_count(harness.hubspot, "deals")
    assert "feedback_submissions" not in result.records


def test_dated_api_version_paths(harness: Harness) -> None:
    paths: list[str] = []
    server = harness.hubspot.server
    original = server.after

    def record(request: Any, response: Any) -> Any:
        paths.append(request.path)
        return original(request, response) if original else response

    server.after = record
    harness.sync(objects=["deals"], api_version="2026-03")
    assert harness.count("deals") == portal_count(harness.hubspot, "deals")
    assert paths and all("/2026-03/" in p and "/v3/" not in p and "/v4/" not in p for p in paths)
    assert {p.split("/2026-03/")[0] for p in paths} == {"/crm/objects", "/crm/properties", "/crm/pipelines",
                                                       "/crm/associations", "/deal-splits"}


def test_allow_list_and_long_property_lists(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("spm_sync.connectors.hubspot.records.MAX_QUERY_CHARS", 200)  # force the batch-read split
    result = harness.sync(objects=["calls", "companies"], fields={"allow": {"companies": ["name"]}})
    calls = harness.hubspot.portal.ids("calls")
    wire = harness.hubspot.portal.get("calls", calls[5])
    assert harness.rows(f"SELECT hs_timestamp, hubspot_owner_id FROM raw_hs.calls WHERE id = '{calls[5]}'") == [
        (wire["hs_timestamp"], wire["hubspot_owner_id"])]
    assert result.api_calls["by_family"]["objects.calls.batch.read"] == math.ceil(len(calls) / 100)  # one per page
    company_columns = harness.columns("companies")
    assert {"name", "hs_object_id", "hs_lastmodifieddate"} <= company_columns
    assert "domain" not in company_columns and "industry" not in company_columns


def test_backfill_window_leaves_the_cursor_alone(harness: Harness) -> None:
    portal = harness.hubspot.portal
    harness.sync(objects=["deals"])
    stamps = {i: portal.get("deals", i)["hs_lastmodifieddate"] for i in portal.ids("deals")}
    ordered = sorted(stamps.values())
    start = datetime.fromisoformat(ordered[len(ordered) // 4].replace("Z", "+00:00"))
    end = datetime.fromisoformat(ordered[len(ordered) // 2].replace("Z", "+00:00"))
    expected = sum(1 for s in stamps.values() if start <= datetime.fromisoformat(s.replace("Z", "+00:00")) < end)

    result = harness.sync(objects=["deals"], window=(start, end))

    assert result.records["deals"] == expected > 0
    after = harness.sync(objects=["deals"])  # the main pipeline's cursor did not move: nothing new
    assert after.records.get("deals", 0) == 0


def _snapshot(harness: Harness) -> dict[str, list[tuple[Any, ...]]]:
    return {
        "deals": harness.rows("SELECT id, archived, amount, dealstage, hs_lastmodifieddate "
                              "FROM raw_hs.deals ORDER BY id"),
        "companies": harness.rows("SELECT id, name FROM raw_hs.companies ORDER BY id"),
        "associations": harness.rows("SELECT from_object, from_id, to_object, to_id, association_type_id "
                                     "FROM raw_hs.associations ORDER BY ALL"),
    }


def test_429_storm_and_faults_end_with_the_same_store(tmp_path: Path, dataset: Any) -> None:
    part = dataset.for_crm(False)[1]
    with HubSpotSandbox(part, rate_limit=1000) as clean_hs:
        clean = Harness(clean_hs, tmp_path / "clean", {})
        clean.sync(objects=["deals", "companies"])
        expected = _snapshot(clean)
    faults = FaultConfig(rate=0.15, seed=3, timeout_s=0.5, retry_after_s=1,
                         kinds=(FaultKind.THROTTLE, FaultKind.SERVER_ERROR, FaultKind.RESET, FaultKind.TRUNCATE,
                                FaultKind.TIMEOUT))
    # the server allows 4 requests per second while the client believes 100 per 10 s: a 429 storm
    with HubSpotSandbox(part, faults=faults, rate_limit=4, rate_window_s=1.0) as stormy_hs:
        stormy = Harness(stormy_hs, tmp_path / "stormy", {})
        result = stormy.sync(objects=["deals", "companies"], timeout_s=0.4, max_retries=8,
                             rate_limit={"requests_per_10s": 100, "search_per_second": 5})
        assert result.warnings == []
        assert sum(faults.injected().values()) > 0
        assert _snapshot(stormy) == expected
        assert stormy_hs.stats()["total"] > clean_hs.stats()["total"]


def test_window_end_is_exclusive_and_utc() -> None:
    from spm_sync.connectors.hubspot.objects import iso_ms, to_ms

    moment = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    assert iso_ms(to_ms(moment)) == "2026-03-01T12:00:00.000Z"
    assert to_ms(moment + timedelta(milliseconds=1)) - to_ms(moment) == 1


@pytest.mark.parametrize("object_name", ["deals", "contacts", "calls"])  # searched, searched, listed
def test_first_load_lands_every_property_as_the_portal_holds_it(harness: Harness, object_name: str) -> None:
    harness.sync(objects=[object_name])
    portal = harness.hubspot.portal
    ids = portal.ids(object_name)
    wire = [portal.get(object_name, i) for i in ids]
    names = sorted(set(wire[0]) & harness.columns(object_name))
    assert len(names) == len(wire[0])  # a column for every stored property
    quoted = ", ".join(f'"{name}"' for name in names)
    got = harness.rows(f"SELECT {quoted} FROM raw_hs.{object_name} WHERE NOT archived ORDER BY CAST(id AS BIGINT)")
    assert got == [tuple(record[name] for name in names) for record in wire]
