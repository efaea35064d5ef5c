"""Sandbox -> real connector sync -> normalize: the shipped mappings against what the connectors land.

Expected values come from the canonical data set the sandbox serves (CRM-neutral), so these tests
check the whole read path: emulator shaping, connector, dlt, mapping and build.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from spm_sync.config import Config, parse_config
from spm_sync.extract import sync_source
from spm_sync.normalize import normalize
from spm_sync.runs import Run
from spm_sync.sandbox import Sandbox
from spm_sync.sandbox.dataset import Dataset, generate
from spm_sync.store import Store, open_store
from tests.sandbox_sources import sandbox_sources

AS_OF = date(2026, 3, 15)


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    return generate(seed=7, scale="small", as_of=AS_OF)


@pytest.fixture
def sandbox(dataset: Dataset) -> Iterator[Sandbox]:
    with Sandbox(dataset=dataset, rate_limit=10_000, search_rate_limit=1_000) as sb:
        yield sb


def _config(tmp: Path, sb: Sandbox, *names: str) -> Config:
    sources = sandbox_sources(sb)
    return parse_config({"store": {"path": str(tmp / "s.duckdb"), "state_dir": str(tmp / "state")},
                         "sources": [sources[n] for n in names]})


def _sync_and_normalize(cfg: Config) -> tuple[Store, Any]:
    store = open_store(cfg)
    for source in cfg.sources:
        sync_source(cfg, store, source.name, run=Run(job="sync"))
    return store, normalize(cfg, store, Run(job="normalize"))


def _expected(ds: Dataset, salesforce: bool = False) -> dict[str, Any]:
    """What normalize must hold; Salesforce also serves the team's survey (Rep_Survey__c) and the calls and
    e-mails about leads (Tasks with a Lead WhoId)."""
    rate = dict(zip(ds.currencies["iso_code"].to_pylist(), ds.currencies["conversion_rate"].to_pylist(), strict=True))
    opps = ds.opportunities.to_pylist()
    live = {o["opportunity_id"] for o in opps if not o["is_deleted"]}
    won = [o for o in opps if o["stage"] == "closed_won" and not o["is_deleted"]]
    proposals = {e["opportunity_id"] for e in ds.stage_events.to_pylist() if e["stage"] == "proposal"} & live
    return {
        "opportunities": len(opps),
        "deleted": sum(o["is_deleted"] for o in opps),
        "won": len(won),
        "won_rc": sum(o["amount"] / rate[o["currency"]] for o in won),
        "proposals": len(proposals),
        "activities": Counter(a["kind"] for a in ds.activities.to_pylist())
        + Counter(a["kind"] for a in ds.lead_activities.to_pylist() if salesforce),
        "leads": ds.leads.num_rows,
        "converted": sum(1 for lead in ds.leads.to_pylist() if lead["is_converted"] and lead["converted_at"]),
        "quotas": ds.quotas.num_rows,
        "quota_sum": sum(ds.quotas["amount"].to_pylist()),
        "loss_reasons": Counter(o["loss_reason"] for o in opps if o["loss_reason"]),
        "feedback": Counter(f["kind"] for f in ds.feedback.to_pylist())
        + Counter({"rep": ds.rep_surveys.num_rows if salesforce else 0}),
    }


def _actual(store: Store) -> dict[str, Any]:
    one = lambda sql: store.fetchone(sql)[0]  # noqa: E731
    return {
        "opportunities": one("SELECT count(*) FROM spm.opportunities"),
        "deleted": one("SELECT count(*) FROM spm.opportunities WHERE is_deleted"),
        "won": one("SELECT count(*) FROM spm.opportunities WHERE is_won AND NOT is_deleted"),
        "won_rc": one("SELECT sum(amount_rc) FROM spm.opportunities WHERE is_won AND NOT is_deleted"),
        "proposals": one(
            "SELECT count(DISTINCT opportunity_id) FROM spm.stage_events WHERE stage_category = 'proposal'"
        ),
        "activities": Counter(dict(store.fetchall("SELECT kind, count(*) FROM spm.activities GROUP BY 1"))),
        "leads": one("SELECT count(*) FROM spm.leads"),
        "converted": one("SELECT count(*) FROM spm.leads WHERE is_converted"),
        "quotas": one("SELECT count(*) FROM spm.quotas"),
        "quota_sum": one("SELECT sum(amount_rc) FROM spm.quotas"),
        "loss_reasons": Counter(dict(store.fetchall(
            "SELECT loss_reason, count(*) FROM spm.opportunities WHERE loss_reason IS NOT NULL GROUP BY 1"))),
        "feedback": Counter(dict(store.fetchall("SELECT kind, count(*) FROM spm.feedback GROUP BY 1"))),
    }


def test_salesforce_sandbox_to_spm(tmp_path: Path, sandbox: Sandbox, dataset: Dataset) -> None:
    store, result = _sync_and_normalize(_config(tmp_path, sandbox, "sf"))
    with store:
        expected, actual = _expected(dataset, salesforce=True), _actual(store)
        assert actual.pop("won_rc") == pytest.approx(expected.pop("won_rc"), rel=1e-9)
        assert actual == expected
        # every survey answer (Rep_Survey__c) keeps its rep, topic and comment
        surveys = "SELECT count(*), count(rep_id), count(topic), count(comment) FROM spm.feedback WHERE kind = 'rep'"
        assert store.fetchall(surveys) == [(dataset.rep_surveys.num_rows,) * 4]
        assert result.tables["reps"] == dataset.reps.num_rows
        assert result.tables["teams"] == dataset.teams.num_rows
        # the org has an owner for everything (activities: the account's owner); owner history may be untracked
        assert set(result.quality) <= {"owner_history_missing opportunity"}
        monthly = "SELECT count(*) FROM spm.quotas WHERE period_end = period_start + INTERVAL 1 MONTH"
        assert store.fetchone(monthly)[0] == dataset.quotas.num_rows


def test_hubspot_sandbox_to_spm(tmp_path: Path, sandbox: Sandbox, dataset: Dataset) -> None:
    store, result = _sync_and_normalize(_config(tmp_path, sandbox, "hs"))
    with store:
        expected, actual = _expected(dataset), _actual(store)
        # amount_in_home_currency is rounded to cents by HubSpot.
        assert actual.pop("won_rc") == pytest.approx(expected.pop("won_rc"), abs=0.01 * expected["won"])
        assert actual == expected
        assert result.tables["reps"] == dataset.reps.num_rows
        ownerless = sum(1 for a in dataset.activities.to_pylist() if a["owner_rep_id"] is None)
        quality = {k: v for k, v in result.quality.items() if k != "owner_history_missing opportunity"}
        assert quality == ({"no_owner activity": ownerless} if ownerless else {})


def test_split_crms_make_one_rep_per_person(tmp_path: Path, dataset: Dataset) -> None:
    with Sandbox(dataset=dataset, split=True, rate_limit=10_000, search_rate_limit=1_000) as sb:
        store, _ = _sync_and_normalize(_config(tmp_path, sb, "sf", "hs"))
    with store:
        assert store.fetchone("SELECT count(*) FROM spm.reps")[0] == dataset.reps.num_rows
        assert store.fetchone("SELECT count(*) FROM spm.rep_identities")[0] == 2 * dataset.reps.num_rows
        assert store.fetchone("SELECT count(DISTINCT source) FROM spm.opportunities")[0] == 2
        assert store.fetchone("SELECT count(*) FROM spm.opportunities")[0] == dataset.opportunities.num_rows
        assert store.fetchone("SELECT count(*) FROM spm.opportunities WHERE owner_rep_id NOT LIKE 'sf:%'")[0] == 0
