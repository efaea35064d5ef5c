"""The ledger trusts its writes only for the org / portal they went to: the emulators restarted from a kept
state (same ports, CA and session, as `demo --keep` then `sandbox serve --state DIR`) are a fresh org and
portal without our values, so the next write-back sends them all again; the same CRM gets nothing twice."""

from __future__ import annotations

from pathlib import Path

from spm_sync import jobs
from spm_sync.config import parse_config
from spm_sync.sandbox import Sandbox
from spm_sync.store import open_store
from spm_sync.writeback.result import WritebackResult
from tests.sandbox_sources import sandbox_sources

TARGETS = [
    {"name": "sf_reps", "source": "sf", "object": "User", "entity": "rep", "period": "current_quarter",
     "fields": {"revenue_won": "Revenue_Won__c"}},
    {"name": "hs_reps", "source": "hs", "object": "users", "entity": "rep", "period": "current_quarter",
     "fields": {"revenue_won": "spm_revenue_won"}},
]


def sent(result: WritebackResult) -> dict[str, int]:
    return {report.name: report.counts()["sent"] for report in result.reports}


def test_a_restarted_crm_gets_the_values_again_and_the_same_crm_does_not(tmp_path: Path) -> None:
    kept = tmp_path / "sandbox"
    with Sandbox(seed=4, scale="small", state_dir=kept) as sb:
        sources = sandbox_sources(sb)
        cfg = parse_config({
            "store": {"path": str(tmp_path / "spm_sync.duckdb"), "state_dir": str(tmp_path / "state")},
            "sources": [sources["sf"], sources["hs"]], "writeback": TARGETS,
        })
        first = sent(jobs.run_all(cfg)["writeback"])
        assert min(first.values()) > 0
        assert sent(jobs.writeback(cfg)) == {"sf_reps": 0, "hs_reps": 0}
    with Sandbox(seed=4, scale="small", state_dir=kept) as again:
        assert sandbox_sources(again) == sources  # the kept config reaches it unchanged
        assert sent(jobs.writeback(cfg)) == first
        users = again.salesforce.org.tables["User"]
        assert sum(v is not None for v in users.column("Revenue_Won__c").tolist()) == first["sf_reps"]
        assert sent(jobs.writeback(cfg)) == {"sf_reps": 0, "hs_reps": 0}
    with open_store(cfg.store) as store:
        identities = store.fetchall("SELECT DISTINCT split_part(crm_identity, ' ', 1) FROM "
                                    "spm_state.writeback_ledger ORDER BY 1")
    assert identities == [("hubspot",), ("salesforce",)]
