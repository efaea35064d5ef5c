"""The shipped mappings fill the crediting inputs (owner_changes, opportunity_splits, mirror_of_crm_id,
owner_assigned_at, dated team_members) from what the real connectors land from the mirrored sandbox.

Checked at the normalize inputs (`_in_<target>` views, the contract with the crediting layer), with
expected rows computed from the data set the sandbox serves."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date
from pathlib import Path
from typing import Any

import pytest

from spm_sync.config import Config, parse_config
from spm_sync.extract import sync_source
from spm_sync.normalize.mapping import load_mapping
from spm_sync.normalize.run import NormalizeResult, stage_inputs
from spm_sync.runs import Run
from spm_sync.sandbox import Sandbox
from spm_sync.sandbox.dataset import Dataset, generate
from spm_sync.sandbox.hubspot.shaping import COMPANY_BASE, CONTACT_BASE, DEAL_BASE, OWNER_BASE
from spm_sync.store import Store, open_store

AS_OF = date(2026, 3, 15)


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    return generate(seed=7, scale="small", as_of=AS_OF)


@pytest.fixture(scope="module")
def staged(tmp_path_factory: pytest.TempPathFactory, dataset: Dataset) -> Iterator[tuple[Store, Sandbox]]:
    tmp = tmp_path_factory.mktemp("crediting")
    teams = tmp / "teams.csv"
    teams.write_text("team,rep_email,parent_team,valid_from,valid_to\n"
                     "Boston Sales,ann@x.test,,2025-01-01,2025-06-30\n"
                     "Denver Sales,ann@x.test,,2025-07-01,\n"
                     "Denver Sales,bo@x.test,,,\n")
    with Sandbox(dataset=dataset, mirror=True, rate_limit=10_000, search_rate_limit=1_000) as sb:
        cfg = _config(tmp, sb, teams)
        store = open_store(cfg)
        for source in cfg.sources:
            sync_source(cfg, store, source.name, run=Run(job="sync"))
        stage_inputs(cfg, store, {s.name: load_mapping(s.type) for s in cfg.sources}, NormalizeResult())
        yield store, sb
        store.close()


def _config(tmp: Path, sb: Sandbox, teams: Path) -> Config:
    return parse_config({"store": {"path": str(tmp / "s.duckdb"), "state_dir": str(tmp / "state")}, "sources": [
        {"name": "sf", "type": "salesforce", "instance_url": sb.salesforce.instance_url,
         "session_id": sb.salesforce.session_id, "ca_bundle": sb.salesforce.ca_bundle},
        {"name": "hs", "type": "hubspot", "base_url": sb.hubspot.base_url, "access_token": sb.hubspot.access_token,
         "rate_limit": {"requests_per_10s": 10_000, "search_per_second": 1_000}},
        {"name": "files", "type": "files", "teams": str(teams)},
    ]})


def _fetch(store: Store, sql: str) -> list[tuple[Any, ...]]:
    return store.fetchall(sql)


def test_salesforce_owner_changes_keep_the_id_rows(staged: tuple[Store, Sandbox], dataset: Dataset) -> None:
    store, sb = staged
    opps, users = sb.salesforce.record_ids("Opportunity"), sb.salesforce.record_ids("User")
    expected = sorted(
        (opps[c["opportunity_id"] - 1], users[c["old_rep_id"] - 1], users[c["new_rep_id"] - 1],
         c["changed_at"].astimezone(UTC).replace(microsecond=0, tzinfo=None), False)
        for c in dataset.owner_changes.to_pylist())
    assert _fetch(store, "SELECT opportunity_crm_id, old_owner_crm_id, new_owner_crm_id, changed_at, is_deleted "
                         "FROM _in_owner_changes WHERE source = 'sf' ORDER BY ALL") == expected


def test_hubspot_owner_changes_from_the_versions_of_reassigned_deals(staged: tuple[Store, Sandbox],
                                                                     dataset: Dataset) -> None:
    store, _ = staged
    opps = {o["opportunity_id"]: o for o in dataset.opportunities.to_pylist()}
    expected = []
    for c in dataset.owner_changes.to_pylist():
        opp = opps[c["opportunity_id"]]
        if c["changed_at"].date() > opp["close_date"] and not opp["is_deleted"]:
            deal = str(DEAL_BASE + c["opportunity_id"])
            expected += [
                (deal, None, str(OWNER_BASE + c["old_rep_id"]), opp["created_at"].replace(tzinfo=None)),
                (deal, str(OWNER_BASE + c["old_rep_id"]), str(OWNER_BASE + c["new_rep_id"]),
                 c["changed_at"].replace(tzinfo=None)),
            ]
    assert len(expected) == 2 * 19
    got = _fetch(store, "SELECT opportunity_crm_id, old_owner_crm_id, new_owner_crm_id, changed_at "
                        "FROM _in_owner_changes WHERE source = 'hs'")
    assert sorted(got, key=str) == sorted(expected, key=str)


def test_salesforce_splits_with_type_names(staged: tuple[Store, Sandbox], dataset: Dataset) -> None:
    store, sb = staged
    opps, users = sb.salesforce.record_ids("Opportunity"), sb.salesforce.record_ids("User")
    split_opps = {s["opportunity_id"] for s in dataset.opportunity_splits.to_pylist()}
    expected = [(opps[s["opportunity_id"] - 1], users[s["rep_id"] - 1], s["percentage"], "Revenue", False)
                for s in dataset.opportunity_splits.to_pylist()]
    expected += [(opps[o["opportunity_id"] - 1], users[o["owner_rep_id"] - 1], 100.0, "Revenue", o["is_deleted"])
                 for o in dataset.opportunities.to_pylist() if o["opportunity_id"] not in split_opps]
    assert _fetch(store, "SELECT opportunity_crm_id, owner_crm_id, percentage, split_type, is_deleted "
                         "FROM _in_opportunity_splits WHERE source = 'sf' ORDER BY ALL") == sorted(expected)


def test_mirror_links_and_owner_assigned_at(staged: tuple[Store, Sandbox], dataset: Dataset) -> None:
    store, sb = staged
    opp_ids = sb.salesforce.record_ids("Opportunity")
    changes = {c["opportunity_id"]: c["changed_at"] for c in dataset.owner_changes.to_pylist()}
    expected = [(str(DEAL_BASE + o["opportunity_id"]), opp_ids[o["opportunity_id"] - 1],
                 changes.get(o["opportunity_id"], o["created_at"]).replace(tzinfo=None))
                for o in dataset.opportunities.to_pylist()]
    assert _fetch(store, "SELECT crm_id, mirror_of_crm_id, owner_assigned_at FROM _in_opportunities "
                         "WHERE source = 'hs' ORDER BY crm_id") == sorted(expected)
    assert _fetch(store, "SELECT count(*) FROM _in_opportunities WHERE source = 'sf' AND "
                         "(mirror_of_crm_id IS NOT NULL OR owner_assigned_at IS NOT NULL)") == [(0,)]
    accounts, leads = sb.salesforce.record_ids("Account"), sb.salesforce.record_ids("Lead")
    assert _fetch(store, "SELECT crm_id, mirror_of_crm_id FROM _in_accounts WHERE source = 'hs' ORDER BY crm_id") \
        == [(str(COMPANY_BASE + i + 1), a) for i, a in enumerate(accounts)]
    got_leads = _fetch(store, "SELECT crm_id, mirror_of_crm_id FROM _in_leads WHERE source = 'hs' ORDER BY crm_id")
    assert got_leads == sorted((str(CONTACT_BASE + i + 1), lead) for i, lead in enumerate(leads))


def test_team_members_dates_from_the_teams_file(staged: tuple[Store, Sandbox]) -> None:
    store, _ = staged
    assert _fetch(store, "SELECT team_crm_id, email, valid_from, valid_to FROM _in_team_members "
                         "WHERE source = 'files' ORDER BY ALL") == [
        ("Boston Sales", "ann@x.test", date(2025, 1, 1), date(2025, 7, 1)),
        ("Denver Sales", "ann@x.test", date(2025, 7, 1), None),
        ("Denver Sales", "bo@x.test", None, None),
    ]


def test_no_hubspot_splits_in_a_mirrored_portal_and_none_fabricated(staged: tuple[Store, Sandbox]) -> None:
    store, _ = staged
    assert _fetch(store, "SELECT count(*) FROM _in_opportunity_splits WHERE source = 'hs'") == [(0,)]


def test_hubspot_splits_of_won_deals_as_percentages(tmp_path: Path, dataset: Dataset) -> None:
    with Sandbox(dataset=dataset, rate_limit=10_000, search_rate_limit=1_000) as sb:
        cfg = parse_config({"store": {"path": str(tmp_path / "s.duckdb"), "state_dir": str(tmp_path / "state")},
                            "sources": [{"name": "hs", "type": "hubspot", "base_url": sb.hubspot.base_url,
                                         "access_token": sb.hubspot.access_token}]})
        with open_store(cfg) as store:
            sync_source(cfg, store, "hs", run=Run(job="sync"), objects=["deals"])
            stage_inputs(cfg, store, {"hs": load_mapping("hubspot")}, NormalizeResult())
            got = _fetch(store, "SELECT opportunity_crm_id, owner_crm_id, percentage, split_type, is_deleted "
                                "FROM _in_opportunity_splits ORDER BY ALL")
    won = {o["opportunity_id"] for o in dataset.opportunities.to_pylist() if o["stage"] == "closed_won"}
    expected = sorted((str(DEAL_BASE + s["opportunity_id"]), str(OWNER_BASE + s["rep_id"]), s["percentage"],
                       "Revenue", False)
                      for s in dataset.opportunity_splits.to_pylist() if s["opportunity_id"] in won)
    assert len(expected) == 22
    assert [(d, o, pytest.approx(p), t, x) for d, o, p, t, x in got] == expected
