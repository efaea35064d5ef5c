"""A write the CRM applied but whose answer was lost is read back, recorded as sent, and not sent again."""

from __future__ import annotations

from pathlib import Path

from spm_sync import jobs
from spm_sync.config import load_config
from spm_sync.sandbox import Sandbox
from spm_sync.store import open_store
from tests.reliability.harness import count_applied_writes, write_config


def test_lost_answers_to_applied_writes_are_not_written_twice(tmp_path: Path, sandbox: Sandbox, tally) -> None:
    cfg = load_config(write_config(tmp_path, sandbox))
    jobs.sync(cfg)
    jobs.normalize(cfg)
    jobs.kpis(cfg)
    writes = count_applied_writes(sandbox)
    for emulator, route in ((sandbox.hubspot, "batch_update"), (sandbox.salesforce, "composite_sobjects")):
        emulator.faults.endpoints = frozenset({route})
        emulator.faults.inject("lost_response", 1)  # the first write is applied, then the connection reset
    try:
        result = jobs.writeback(cfg)
    finally:
        for emulator in (sandbox.hubspot, sandbox.salesforce):
            emulator.faults.endpoints = None
    tally.add("faults", 2)
    assert sandbox.hubspot.faults.injected() == {"lost_response": 1}
    assert sandbox.salesforce.faults.injected() == {"lost_response": 1}
    users = {k: n for k, n in writes.items() if k.startswith(("sf:User:", "hs:users:"))}
    assert len(users) == 20 and set(users.values()) == {1}  # 10 reps in each CRM, each written once
    tally.add("double_writes", sum(n - 1 for n in users.values()))
    with open_store(cfg) as store:
        outcomes = store.fetchall(
            "SELECT target, outcome, count(DISTINCT record_id) FROM spm_state.writeback_ledger GROUP BY 1, 2 ORDER BY 1"
        )
    assert [row for row in outcomes if row[1] == "sent"] == [("hs_reps", "sent", 10), ("sf_reps", "sent", 10)]
    assert {row[1] for row in outcomes} <= {"sent", "in_sync"}  # nothing rejected, nothing failed
    assert sum(report.sent for report in result.reports) > 0
