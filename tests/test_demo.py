"""The demo path end to end: sandbox CRMs -> sync -> normalize -> kpis -> write-back -> leaderboard.

The demo runs on a mirrored portal (HubSpot holds the Salesforce integration's copies), with deals
reassigned after close, revenue splits and a rep who moved team; its leaderboard is checked against
values computed here, independently, from the seeded data set (owner at close, split shares, each
deal counted once, the team on the close date)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import defaultdict
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from spm_sync import jobs
from spm_sync.config import load_config, parse_config
from spm_sync.ops.status import collect_status
from spm_sync.sandbox import Sandbox
from spm_sync.sandbox.dataset import Dataset, generate
from spm_sync.store import open_store


@pytest.mark.timeout(900)  # the demo, then its kept config run again: ~2 min alone on 2 cores, more when shared
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
    assert "Leaderboard FY" in out and "HubSpot copies of Salesforce deals counted once" in out
    assert "Salesforce User fields" in out and "HubSpot users properties" in out
    assert f"opens offline): {keep / 'report.html'}" in out and (keep / "report.html").stat().st_size > 100_000
    cfg = load_config(keep / "config.yaml")
    period = re.search(r"Leaderboard (FY\d{4})", out).group(1)
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
        month = re.search(r"Pipeline hygiene as of the end of (\d{4}-\d\d)", out).group(1)
        practices = dict(store.fetchall(
            "SELECT metric || ' ' || period, value FROM spm.kpi_values WHERE entity_type = 'company' "
            "AND dimension IS NULL AND ((period = ? AND metric IN ('enps', 'activities_per_win', "
            "'avg_days_to_first_activity', 'stage_skip_share')) "
            "OR (period = ? AND metric = 'pipeline_past_due_share'))",
            [period, month]))
        lost = store.fetchall("SELECT count(*), sum(value) FROM spm.kpi_values WHERE entity_type = 'company' "
                              "AND period = ? AND metric = 'deals_lost' AND dimension = 'loss_reason'", [period])
    # the practices tables: why deals were lost, process and the team's survey, hygiene as of last month's end
    assert f"Why deals were lost {period}" in out and f"Process and team feedback {period}" in out
    assert len(practices) == 5 and practices.pop(f"enps {period}") is not None, practices  # answered
    assert all(practices.values()), practices  # past due, activities per win, first lead touch, skips: above 0
    assert lost[0][0] >= 3 and lost[0][1] > 0
    assert [job for job, _ in runs] == ["sync", "sync", "sync", "normalize", "kpis", "writeback"]
    assert {status for _, status in runs} == {"succeeded"}
    assert sent > 0
    info = collect_status(cfg)
    assert [s["source"] for s in info["sources"]] == ["sf", "hs", "files"]
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
    names = re.findall(r"│ ([A-Z][a-z]+ [A-Z][a-z]+) — (FY\d{4}) +│ 005\w{15} +│ (FY\d{4}) +│", history)
    assert names and all(label == period == stored for _, label, stored in names)
    # Both CRMs show a person the same attainment figure (HubSpot's percentage property gets x 100 too).
    hubspot = dict(re.findall(r"│ ([a-z]+\.[a-z]+)@\S+ +│ ([0-9.]+) +│", out.split("HubSpot users properties")[1]))
    assert hubspot and all(float(v) == round(kpis[n.replace(".", " ").title()] * 100, 2) for n, v in hubspot.items())
    dataset = generate(seed=7, scale="small")
    exercised = check_leaderboard(cfg, period, dataset)
    assert exercised["reassigned_after_close"] >= 1 and exercised["split"] >= 1, exercised
    for quarter in range(1, 5):  # every quarter of the leaderboard's year, too
        check_leaderboard(cfg, f"{period}-Q{quarter}", dataset)
    # What is left out is said: the inactive rep, and how many records the read-back does not show.
    inactive = [f"{r['first_name']} {r['last_name']}" for r in dataset.reps.to_pylist() if not r["is_active"]]
    assert f"9 of 10 reps; left out as inactive: {inactive[0]}" in out and len(inactive) == 1
    assert "Salesforce User fields (5 of 9)" in out and "Salesforce Rep_KPI__c records (upsert) (5 of 10)" in out
    assert "HubSpot users properties (5 of 9)" in out
    assert not list(keep.glob("*.lock"))
    check_kept_config_runs_again(keep, out, tmp_path)


def check_kept_config_runs_again(keep: Path, out: str, home: Path) -> None:
    """The commands the demo prints bring the sandbox back on the kept ports and CA; the config runs."""
    serve = re.search(r"spm-sync (sandbox serve .*--state \S+)", out)
    assert serve, out
    env = {"PATH": "/usr/bin:/bin", "COLUMNS": "200", "HOME": str(home)}
    cli = [sys.executable, "-m", "spm_sync.cli"]
    server = subprocess.Popen([*cli, *serve.group(1).split()], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert server.stdout is not None
        line = json.loads(server.stdout.readline())
        cfg = load_config(keep / "config.yaml")
        sf, hs = cfg.source("sf"), cfg.source("hs")
        assert (line["salesforce"]["instance_url"], line["hubspot"]["base_url"]) == (
            str(sf.instance_url).rstrip("/"), str(hs.base_url).rstrip("/"))
        assert line["salesforce"]["ca_bundle"] == str(sf.ca_bundle)
        config = ["--config", str(keep / "config.yaml")]
        for command in (["writeback", "setup"], ["run"]):
            again = subprocess.run([*cli, *config, *command], capture_output=True, text=True, timeout=300, env=env)
            assert again.returncode == 0, (command, again.stdout[-2000:], again.stderr[-2000:])
    finally:
        server.terminate()
        server.wait(30)
    assert not list(keep.glob("*.lock"))


def period_bounds(period: str) -> tuple[date, date]:
    """FY2025 -> [2025-01-01, 2026-01-01); FY2025-Q4 -> [2025-10-01, 2026-01-01) (January fiscal start)."""
    found = re.fullmatch(r"FY(\d{4})(?:-Q([1-4]))?", period)
    assert found, period
    year, quarter = int(found.group(1)), int(found.group(2) or 0)
    if not quarter:
        return date(year, 1, 1), date(year + 1, 1, 1)
    return date(year, 3 * quarter - 2, 1), date(year + (quarter == 4), 1 if quarter == 4 else 3 * quarter + 1, 1)


def ground_truth(ds: Dataset, start: date, end: date) -> dict[str, Any]:
    """Revenue won in [start, end) per rep, per team and for the company, from the seeded truth alone:
    split deals by their shares, other deals to the owner at close (the rep before a change made after
    the close day), each deal once, in the team the credited rep was in on the close date."""
    rates = dict(zip(ds.currencies["iso_code"].to_pylist(), ds.currencies["conversion_rate"].to_pylist(),
                     strict=True))
    late_change = {c["opportunity_id"]: c for c in ds.owner_changes.to_pylist()}
    splits: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for split in ds.opportunity_splits.to_pylist():
        splits[split["opportunity_id"]].append(split)
    reps = {r["rep_id"]: r for r in ds.reps.to_pylist()}
    team_names = dict(zip(ds.teams["team_id"].to_pylist(), ds.teams["name"].to_pylist(), strict=True))
    history: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in ds.team_history.to_pylist():
        history[row["rep_id"]].append(row)

    def team_on(rep: int, day: date) -> str:
        for row in history.get(rep, []):
            if row["valid_from"] <= day and (row["valid_to"] is None or day < row["valid_to"]):
                return team_names[row["team_id"]]
        return team_names[reps[rep]["team_id"]]

    by_rep: dict[str, float] = defaultdict(float)
    by_team: dict[str, float] = defaultdict(float)
    company = 0.0
    exercised = {"reassigned_after_close": 0, "split": 0}
    for opp in ds.opportunities.to_pylist():
        if opp["stage"] != "closed_won" or opp["is_deleted"] or not start <= opp["close_date"] < end:
            continue
        amount = opp["amount"] / rates[opp["currency"]]
        company += amount
        change = late_change.get(opp["opportunity_id"])
        late = change is not None and change["changed_at"].date() > opp["close_date"]
        at_close = change["old_rep_id"] if late else opp["owner_rep_id"]  # type: ignore[index]
        exercised["reassigned_after_close"] += late
        exercised["split"] += bool(splits[opp["opportunity_id"]])
        shares = [(s["rep_id"], s["percentage"] / 100) for s in splits[opp["opportunity_id"]]] or [(at_close, 1.0)]
        teams_paid = set()
        for rep, share in shares:
            by_rep[f"{reps[rep]['first_name']} {reps[rep]['last_name']}"] += amount * share
            team = team_on(rep, opp["close_date"])
            if team not in teams_paid:  # a team counts a deal once, even when two of its reps share it
                by_team[team] += amount * sum(s for r, s in shares if team_on(r, opp["close_date"]) == team)
                teams_paid.add(team)
    return {"rep": dict(by_rep), "team": dict(by_team), "company": company, "exercised": exercised}


def kpi_values(cfg: Any, period: str, metric: str) -> dict[str, dict[str, float]]:
    """{entity_type: {name: value}} of one metric and period, reps and teams by name."""
    out: dict[str, dict[str, float]] = defaultdict(dict)
    with open_store(cfg) as store:
        for kind, name, value in store.fetchall(
            "SELECT k.entity_type, coalesce(r.name, t.name, k.entity_id), k.value FROM spm.kpi_values k "
            "LEFT JOIN spm.reps r ON k.entity_type = 'rep' AND r.rep_id = k.entity_id "
            "LEFT JOIN spm.teams t ON k.entity_type = 'team' AND t.team_id = k.entity_id "
            "WHERE k.metric = ? AND k.period = ?", [metric, period]):
            out[kind][name] = value
    return out


def check_leaderboard(cfg: Any, period: str, ds: Dataset) -> dict[str, int]:
    """The stored revenue_won of every rep, team and the company equals the ground truth; returns how
    many reassigned-after-close and split deals the period holds."""
    truth = ground_truth(ds, *period_bounds(period))
    got = kpi_values(cfg, period, "revenue_won")
    assert len(truth["rep"]) >= 3 and truth["company"] > 0
    for rep, value in truth["rep"].items():
        assert got["rep"][rep] == pytest.approx(value, rel=1e-9), rep
    assert {rep for rep, value in got["rep"].items() if value} == set(truth["rep"])
    for team, value in truth["team"].items():
        assert got["team"][team] == pytest.approx(value, rel=1e-9), team
    assert list(got["company"].values()) == [pytest.approx(truth["company"], rel=1e-9)]
    return truth["exercised"]


def test_ground_truth_credits_each_won_deal_exactly_once() -> None:
    """The independent computation itself: rep and team credit both add up to the company total."""
    ds = generate(seed=3, scale=4, as_of=date(2026, 3, 15))
    truth = ground_truth(ds, date(2025, 1, 1), date(2026, 1, 1))
    assert truth["exercised"] == {"reassigned_after_close": 10, "split": 47}
    assert sum(truth["rep"].values()) == pytest.approx(truth["company"])
    assert sum(truth["team"].values()) == pytest.approx(truth["company"])


AS_OF = date(2026, 3, 15)


def _company_revenue(tmp: Path, sb: Sandbox, names: tuple[str, ...]) -> dict[str, float]:
    sources = {
        "sf": {"name": "sf", "type": "salesforce", "instance_url": sb.salesforce.instance_url,
               "session_id": sb.salesforce.session_id, "ca_bundle": sb.salesforce.ca_bundle},
        "hs": {"name": "hs", "type": "hubspot", "base_url": sb.hubspot.base_url,
               "access_token": sb.hubspot.access_token},
    }
    folder = tmp / "-".join(names)
    cfg = parse_config({"store": {"path": str(folder / "s.duckdb"), "state_dir": str(folder / "state")},
                        "as_of": AS_OF.isoformat(), "sources": [sources[n] for n in names]})
    for name in names:
        jobs.sync(cfg, [name])
    jobs.normalize(cfg)
    jobs.kpis(cfg)
    with open_store(cfg) as store:
        return dict(store.fetchall("SELECT period, value FROM spm.kpi_values "
                                   "WHERE entity_type = 'company' AND metric = 'revenue_won'"))


def test_mirrored_hubspot_adds_nothing_to_company_revenue(tmp_path: Path) -> None:
    dataset = generate(seed=7, scale="small", as_of=AS_OF)
    with Sandbox(dataset=dataset, mirror=True, rate_limit=10_000, search_rate_limit=1_000) as sb:
        alone = _company_revenue(tmp_path, sb, ("sf",))
        mirrored = _company_revenue(tmp_path, sb, ("sf", "hs"))
    assert len(alone) == 34 and any(alone.values())
    assert mirrored.keys() == alone.keys()
    for period, value in alone.items():
        assert mirrored[period] == pytest.approx(value, rel=1e-12), period
    truth = ground_truth(dataset, date(2025, 1, 1), date(2026, 1, 1))
    assert alone["FY2025"] == pytest.approx(truth["company"], rel=1e-9)
