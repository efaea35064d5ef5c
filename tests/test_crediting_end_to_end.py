"""Mirrored, split, reassigned sandbox -> real connectors -> normalize (crediting) -> KPIs.

Expected values are computed here from the data set's ground truth (spm_sync/sandbox/dataset/
crediting.py): a won deal counts for the rep who held it on its close day (the old owner of a change
after close), in its split shares, for the team that rep was in on that day (the teams file gives
the movers' dated membership), and once for the company. HubSpot holds integration copies of every
Salesforce deal: the mirrored store must give exactly the numbers of Salesforce alone.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from spm_sync.config import Config, parse_config
from spm_sync.extract import sync_source
from spm_sync.metrics import compute_kpis
from spm_sync.metrics.explain import explain
from spm_sync.normalize import normalize
from spm_sync.runs import Run
from spm_sync.sandbox import Sandbox
from spm_sync.sandbox.dataset import Dataset, generate
from spm_sync.store import Store, open_store
from tests.sandbox_sources import sandbox_sources

AS_OF = date(2026, 3, 15)
YEARS = ("FY2025", "FY2026")


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    return generate(seed=7, scale="small", as_of=AS_OF)


def _teams_csv(ds: Dataset, path: Path) -> Path:
    """The movers' dated membership (valid_to inclusive in the file)."""
    emails = {r["rep_id"]: r["email"] for r in ds.reps.to_pylist()}
    names = {t["team_id"]: t["name"] for t in ds.teams.to_pylist()}
    lines = ["team,rep_email,parent_team,valid_from,valid_to"]
    for h in ds.team_history.to_pylist():
        last = h["valid_to"] - timedelta(days=1) if h["valid_to"] else None
        lines.append(f"{names[h['team_id']]},{emails[h['rep_id']]},,{h['valid_from'] or ''},{last or ''}")
    path.write_text("\n".join(lines) + "\n")
    return path


def _config(tmp: Path, sb: Sandbox, teams: Path, *names: str) -> Config:
    sources = {**sandbox_sources(sb), "files": {"name": "files", "type": "files", "teams": str(teams)}}
    return parse_config({"store": {"path": str(tmp / "s.duckdb"), "state_dir": str(tmp / "state")},
                         "as_of": AS_OF.isoformat(), "sources": [sources[n] for n in names]})


def _run(cfg: Config) -> Store:
    store = open_store(cfg)
    for source in cfg.sources:
        sync_source(cfg, store, source.name, run=Run(job="sync"))
    normalize(cfg, store, Run(job="normalize"))
    compute_kpis(cfg, store, Run(job="kpis"))
    return store


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory, dataset: Dataset) -> Iterator[dict[str, Store]]:
    tmp = tmp_path_factory.mktemp("crediting_e2e")
    teams = _teams_csv(dataset, tmp / "teams.csv")
    with Sandbox(dataset=dataset, mirror=True, rate_limit=10_000, search_rate_limit=1_000) as sb:
        opened = {
            "sf": _run(_config(tmp / "sf", sb, teams, "sf", "files")),
            "mirrored": _run(_config(tmp / "mirrored", sb, teams, "sf", "hs", "files")),
        }
    yield opened
    for store in opened.values():
        store.close()


def _expected(ds: Dataset) -> dict[tuple[str, str, str], float]:
    """(entity_type, email | team name | company, fiscal year) -> revenue_won, from the ground truth."""
    rate = dict(zip(ds.currencies["iso_code"].to_pylist(), ds.currencies["conversion_rate"].to_pylist(), strict=True))
    email = {r["rep_id"]: r["email"].lower() for r in ds.reps.to_pylist()}
    current_team = {r["rep_id"]: r["team_id"] for r in ds.reps.to_pylist()}
    teams = {t["team_id"]: t for t in ds.teams.to_pylist()}
    history = defaultdict(list)
    for h in ds.team_history.to_pylist():
        history[h["rep_id"]].append(h)
    changes = defaultdict(list)
    for c in ds.owner_changes.to_pylist():
        changes[c["opportunity_id"]].append(c)
    splits = defaultdict(list)
    for s in ds.opportunity_splits.to_pylist():
        splits[s["opportunity_id"]].append(s)

    def team_on(rep: int, day: date) -> int:
        for h in history.get(rep, []):
            if (h["valid_from"] is None or h["valid_from"] <= day) and (h["valid_to"] is None or day < h["valid_to"]):
                return h["team_id"]
        return current_team[rep]

    out: dict[tuple[str, str, str], float] = defaultdict(float)
    for o in ds.opportunities.to_pylist():
        if o["stage"] != "closed_won" or o["is_deleted"]:
            continue
        day, amount = o["close_date"], o["amount"] / rate[o["currency"]]
        year = f"FY{day.year}"
        after = sorted((c for c in changes[o["opportunity_id"]] if c["changed_at"].date() > day),
                       key=lambda c: c["changed_at"])
        holder = after[0]["old_rep_id"] if after else o["owner_rep_id"]
        shares = [(s["rep_id"], s["percentage"] / 100) for s in splits[o["opportunity_id"]]] or [(holder, 1.0)]
        for rep, share in shares:
            out[("rep", email[rep], year)] += amount * share
            team: int | None = team_on(rep, day)
            while team is not None:
                out[("team", teams[team]["name"], year)] += amount * share
                team = teams[team]["parent_team_id"]
        out[("company", "company", year)] += amount
    return out


def _actual(store: Store) -> dict[tuple[str, str, str], float]:
    rows = store.fetchall(
        "SELECT v.entity_type, coalesce(lower(r.email), t.name, v.entity_id), v.period, v.value "
        "FROM spm.kpi_values AS v LEFT JOIN spm.reps AS r ON v.entity_type = 'rep' AND r.rep_id = v.entity_id "
        "LEFT JOIN spm.teams AS t ON v.entity_type = 'team' AND t.team_id = v.entity_id "
        f"WHERE v.metric = 'revenue_won' AND v.period IN {YEARS!r} AND v.value <> 0"
    )
    return {(kind, who, period): value for kind, who, period, value in rows}


def test_leaderboard_equals_the_ground_truth(stores: dict[str, Store], dataset: Dataset) -> None:
    expected = {k: pytest.approx(v, rel=1e-9) for k, v in _expected(dataset).items() if k[2] in YEARS and v}
    assert sum(1 for k in expected if k[0] == "team") >= 4
    assert _actual(stores["sf"]) == expected


def test_mirrored_crms_count_once(stores: dict[str, Store]) -> None:
    sf, mirrored = stores["sf"], stores["mirrored"]
    assert _actual(mirrored) == {k: pytest.approx(v, rel=1e-9) for k, v in _actual(sf).items()}
    assert mirrored.fetchone(
        "SELECT count(*), count(mirror_of) FROM spm.opportunities WHERE source = 'hs'"
    ) == sf.fetchone("SELECT count(*), count(*) FROM spm.opportunities WHERE source = 'sf'")
    quality = mirrored.fetchall("SELECT DISTINCT check_name FROM spm_state.quality WHERE object = 'opportunity'")
    assert quality == []


def test_explain_answers_for_a_rep_of_the_leaderboard(stores: dict[str, Store]) -> None:
    store = stores["mirrored"]
    rep, value = store.fetchone(
        "SELECT entity_id, value FROM spm.kpi_values WHERE entity_type = 'rep' AND metric = 'revenue_won' "
        "AND period = 'FY2025' ORDER BY value DESC LIMIT 1"
    )
    cfg = parse_config({"store": {"path": "unused.duckdb"}, "as_of": AS_OF.isoformat()})
    got: dict[str, Any] = explain(cfg, store, rep, "revenue_won", "FY2025", AS_OF).as_json()
    assert got["value"] == value
    assert sum(c["amount_rc"] * c["credit_share"] for c in got["contributions"]) == pytest.approx(value, rel=1e-12)
    assert {c["source"] for c in got["contributions"]} == {"sf"}
    # the rep's deals that count elsewhere: HubSpot's copies, deleted deals, deals reassigned to them after close
    kinds = {(e["source"], e["reason"].split(" sf:")[0]) for e in got["excluded"]}
    assert kinds == {("hs", "mirrored copy of"), ("hs", "deleted"), ("sf", "deleted"), ("sf", "credited to")}
