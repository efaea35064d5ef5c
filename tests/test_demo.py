"""The demo path end to end: sandbox CRMs -> sync -> normalize -> kpis -> write-back -> leaderboard."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from spm_sync.config import load_config
from spm_sync.ops.status import collect_status
from spm_sync.store import open_store


def test_demo_runs_the_whole_loop(tmp_path: Path) -> None:
    keep = tmp_path / "demo"
    result = subprocess.run(
        [sys.executable, "-m", "spm_sync.cli", "demo", "--keep", str(keep)],
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "200", "HOME": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert "Leaderboard FY" in out
    assert "Salesforce User fields" in out and "HubSpot users properties" in out
    cfg = load_config(keep / "config.yaml")
    period = re.search(r"Leaderboard (FY\d{4}-Q[1-4])", out).group(1)
    with open_store(cfg) as store:
        kpis = dict(
            store.fetchall(
                "SELECT r.name, k.value FROM spm.kpi_values k JOIN spm.reps r ON r.rep_id = k.entity_id "
                "WHERE k.entity_type = 'rep' AND k.metric = 'quota_attainment' AND k.period = ?",
                [period],
            )
        )
        sent = store.fetchone("SELECT count(*) FROM spm_state.writeback_ledger WHERE outcome = 'sent'")[0]
        sent_by_target = dict(
            store.fetchall("SELECT target, count(*) FROM spm_state.writeback_ledger WHERE outcome = 'sent' GROUP BY 1")
        )
        runs = store.fetchall("SELECT job, status FROM spm_state.runs ORDER BY started_at")
    assert [job for job, _ in runs] == ["sync", "sync", "normalize", "kpis", "writeback"]
    assert {status for _, status in runs} == {"succeeded"}
    assert sent > 0
    info = collect_status(cfg)
    assert [s["source"] for s in info["sources"]] == ["sf", "hs"]
    assert all(s["last_status"] == "succeeded" and not s["stale"] for s in info["sources"])
    assert info["sources"][0]["records"]["opportunity"] > 0 and info["sources"][1]["records"]["deals"] > 0
    assert {t["target"]: t["counts"]["sent"] for t in info["writeback"]} == sent_by_target
    assert set(info["writeback"][0]["counts"]) == {
        "planned", "sent", "unchanged", "conflicts", "rejected", "invalid", "held_back", "sent_despite_rejected_inputs",
    }
    assert info["stages"]["kpis"]["status"] == "succeeded"
    # The Salesforce table shows what the CRM now holds: the percent field is attainment x 100.
    shown = re.findall(r"│ ([A-Z][a-z]+ [A-Z][a-z]+) +│ ([0-9.]+) +│", out.split("Salesforce User fields")[1])
    assert shown, out
    for name, value in shown:
        assert float(value) == round(kpis[name] * 100, 2)
    # The CRMs started without KPI fields: setup created them, and the upserted records read as names.
    assert "the sandbox CRMs have no KPI fields yet" in out and "writeback setup: sf" in out
    history = out.split("Salesforce Rep_KPI__c records (upsert)")[1].split("HubSpot users properties")[0]
    names = re.findall(r"│ ([A-Z][a-z]+ [A-Z][a-z]+) — (FY\d{4}-Q[1-4]) +│ 005\w{15} +│ (FY\d{4}-Q[1-4]) +│", history)
    assert names and all(label == period == stored for _, label, stored in names)
    # Both CRMs show a person the same attainment figure (HubSpot's percentage property gets x 100 too).
    hubspot = dict(re.findall(r"│ ([a-z]+\.[a-z]+)@\S+ +│ ([0-9.]+) +│", out.split("HubSpot users properties")[1]))
    assert hubspot and all(float(v) == round(kpis[n.replace(".", " ").title()] * 100, 2) for n, v in hubspot.items())
