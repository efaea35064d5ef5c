"""`spm-sync explain` on the crediting data set (tests/metrics/crediting_dataset.py): the value of the
stored row, every record behind it with its share and rule, and the records left out with the reason."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from spm_sync.config import parse_config
from spm_sync.metrics.explain import explain, ledger_rows
from spm_sync.store import open_store
from tests.metrics.conftest import insert, kpis
from tests.metrics.crediting_dataset import TABLES
from tests.test_cli import spm

CREDITING = {"overlay_split_types": ["Overlay"]}


@pytest.fixture
def credited(make_store):
    cfg, store = make_store(TABLES, crediting=CREDITING)
    kpis(cfg, store)
    return cfg, store


def _opp(record_id: str, day: str, amount: float, share: float, rule: str, source: str = "sf") -> dict:
    return {"source": source, "object": "opportunity", "record_id": record_id, "name": None, "date": day,
            "amount_rc": amount, "credit_share": share, "rule": rule}


def _out(record_id: str, reason: str, source: str = "sf") -> dict:
    return {"source": source, "object": "opportunity", "record_id": record_id, "reason": reason}


def test_a_rep_value_lists_its_credits_and_what_went_elsewhere(credited):
    cfg, store = credited
    got = explain(cfg, store, "r2@x.test", "revenue_won", "2026-02", cfg.as_of).as_json()
    assert got == {
        "value": 1500.0,
        "numerator": 1500.0,
        "denominator": None,
        "contributions": [_opp("o4", "2026-02-10", 3000.0, 0.5, "split:Revenue")],
        "excluded": [
            _out("o1", "closed outside the period (2026-01-10)"),  # r2 owns it now; it closed in January
        ],
    }
    january = explain(cfg, store, "R2", "revenue_won", "2026-01", cfg.as_of).as_json()
    assert january["value"] == 0.0
    assert january["contributions"] == []
    assert january["excluded"] == [_out("o1", "credited to r1 (owner_at_close)")]


def test_a_team_value_counts_each_deal_once_and_names_the_copies(credited):
    cfg, store = credited
    got = explain(cfg, store, "East", "revenue_won", "2026-01", cfg.as_of).as_json()
    contributions = got.pop("contributions")
    assert got == {
        "value": 3500.0, "numerator": 3500.0, "denominator": None,
        "excluded": [
            _out("o10", "deleted"), _out("o7", "mirrored copy of o2", "hs"),
            _out("o8", "not in team or company totals (overlay:Overlay credit counts for the rep only)"),  # r1's
        ],
    }
    assert contributions == [
        _opp("o1", "2026-01-10", 1000.0, 1.0, "owner_at_close"),
        _opp("o2", "2026-01-15", 2000.0, 0.6, "split:Revenue"),
        _opp("o3", "2026-01-20", 500.0, 1.0, "owner_at_close"),
        _opp("o5", "2026-01-25", 800.0, 1.0, "owner_at_close"),
    ]
    assert sum(c["amount_rc"] * c["credit_share"] for c in contributions) == pytest.approx(got["numerator"])
    q1 = explain(cfg, store, "east", "deals_won", "FY2026-Q1", cfg.as_of).as_json()
    o4 = [c for c in q1["contributions"] if c["record_id"] == "o4"]
    assert o4 == [_opp("o4", "2026-02-10", 3000.0, 1.0, "split:Revenue")]  # both split owners in east: once
    assert q1["value"] == pytest.approx(sum(c["credit_share"] for c in q1["contributions"]))


def test_a_ratio_lists_both_sides_and_a_target_its_prorated_rows(credited):
    cfg, store = credited
    got = explain(cfg, store, "r4", "quota_attainment", "FY2026-Q1", cfg.as_of).as_json()
    assert (got["value"], got["numerator"], got["denominator"]) == (pytest.approx(1500 / 5900), 1500.0, 5900.0)
    assert got["contributions"] == [
        {"source": None, "object": "quota", "record_id": "r4 2026-01-01", "name": "revenue", "date": "2026-01-01",
         "amount_rc": 5900.0, "credit_share": 1.0, "rule": "target"},
        _opp("o5", "2026-01-25", 800.0, 1.0, "owner_at_close"),
        _opp("o6", "2026-02-25", 700.0, 1.0, "owner_at_close"),
    ]
    west = explain(cfg, store, "west", "quota", "FY2026-Q1", cfg.as_of).as_json()
    assert west["value"] == 2800.0
    assert [(c["record_id"], c["credit_share"], c["rule"]) for c in west["contributions"]] == [
        ("r4 2026-01-01", round(28 / 59, 9), "member of west"),  # February, after r4 moved
    ]


def test_unknown_entity_metric_or_period_is_a_usage_error_naming_close_matches(credited, tmp_path):
    cfg, store = credited
    store.close()
    config = _config_file(tmp_path, cfg.store.path)
    base = ["--config", str(config), "explain", "--period", "FY2026-Q1"]
    result = spm(*base, "--entity", "r1@x.tset", "--metric", "revenue_won")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "error: unknown entity 'r1@x.tset' (a rep email, name or id, a team name or id, or company); "
        "did you mean r1@x.test, r4@x.test, r3@x.test?"
    )
    result = spm(*base, "--entity", "r1", "--metric", "revenue_wn")
    assert (result.returncode, result.stderr.strip()) == (
        2, "error: unknown metric 'revenue_wn'; did you mean revenue_won, revenue_lost?"
    )
    result = spm("--config", str(config), "explain", "--entity", "r1", "--metric", "deals_won", "--period", "FY2026-Q9")
    assert result.returncode == 2 and "unknown period 'FY2026-Q9'; did you mean FY2026-Q" in result.stderr


def test_cli_json_equals_the_stored_row(credited, tmp_path):
    cfg, store = credited
    stored = store.fetchone(
        "SELECT value, numerator, denominator FROM spm.kpi_values WHERE entity_type = 'company' "
        "AND period = 'FY2026-Q1' AND metric = 'win_rate'"
    )
    store.close()
    config = _config_file(tmp_path, cfg.store.path)
    result = spm("--config", str(config), "explain", "--entity", "company", "--metric", "win_rate",
                 "--period", "FY2026-Q1", "--format", "json")
    assert result.returncode == 0, result.stderr
    got = json.loads(result.stdout)
    assert list(got) == ["value", "numerator", "denominator", "contributions", "excluded"]
    assert (got["value"], got["numerator"], got["denominator"]) == tuple(stored) == (1.0, 9.0, 9.0)
    assert sum(c["credit_share"] for c in got["contributions"]) == 9.0
    assert got["excluded"] == [_out("o10", "deleted"), _out("o7", "mirrored copy of o2", "hs")]
    table = spm("--config", str(config), "explain", "--entity", "company", "--metric", "win_rate",
                "--period", "FY2026-Q1")
    assert table.returncode == 0, table.stderr
    assert "win_rate for company company in FY2026-Q1" in table.stdout and "mirrored copy of o2" in table.stdout


def test_run_traces_a_written_crm_value_to_its_records(credited):
    cfg, store = credited
    kpi_run = store.fetchone("SELECT DISTINCT run_id FROM spm.kpi_values")[0]
    store.execute(
        "INSERT INTO spm_state.writeback_ledger (target, record_id, field, entity_id, period, metric, value_sent, "
        "kpi_run_id, run_id, sent_at, outcome) VALUES ('sf_reps', '005R2', 'Revenue_Won__c', 'r2', '2026-02', "
        "'revenue_won', '1500.0', ?, 'wb1', TIMESTAMP '2026-03-15 10:00:00', 'ok')",
        [kpi_run],
    )
    assert ledger_rows(store, "wb1") == [{
        "target": "sf_reps", "record_id": "005R2", "field": "Revenue_Won__c", "entity_id": "r2",
        "period": "2026-02", "metric": "revenue_won", "value_sent": "1500.0", "kpi_run_id": kpi_run, "outcome": "ok",
    }]
    traced = explain(cfg, store, "r2", "revenue_won", "2026-02", cfg.as_of, run_id="wb1")
    assert (traced.run_id, traced.value, traced.stale) == (kpi_run, 1500.0, False)
    assert [c["record_id"] for c in traced.contributions] == ["o4"]
    kpis(cfg, store)  # a newer KPI run: the older one is still explained, from its kept value
    older = explain(cfg, store, "r2", "revenue_won", "2026-02", cfg.as_of, run_id=kpi_run)
    assert (older.value, older.stale) == (1500.0, True)


@pytest.mark.postgres
def test_explain_on_postgres_equals_duckdb(pg_dsn, credited):
    cfg_duck, duck = credited
    expected = explain(cfg_duck, duck, "east", "quota_attainment", "FY2026-Q1", cfg_duck.as_of).as_json()
    cfg = parse_config({"store": {"backend": "postgres", "dsn": pg_dsn}, "as_of": "2026-03-15", "crediting": CREDITING})
    with open_store(cfg) as store:
        for table, rows in TABLES.items():
            insert(store, table, rows)
        kpis(cfg, store)
        got = explain(cfg, store, "east", "quota_attainment", "FY2026-Q1", cfg.as_of).as_json()
    assert got == expected
    assert expected["numerator"] == 6500.0 and expected["denominator"] == 3100.0


def _config_file(tmp_path: Path, store_path: Path) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({"store": {"path": str(store_path)}, "as_of": "2026-03-15",
                                    "crediting": CREDITING}))
    return path


# East has its own quota row for Q1 (100 a day over Jan 1 - Apr 1: 9000); r1 (50 a day: 4500) and r3 (20 a day:
# 1800) have rows for the quarter, r4 its 5900 over Jan-Feb (3100 in January in east, 2800 in February in west).
TEAM_QUOTAS = {**TABLES, "quotas": [
    *TABLES["quotas"],
    {"owner": "east", "period_start": "2026-01-01", "period_end": "2026-04-01", "measure": "revenue",
     "amount_rc": 9000},
    {"owner": "r1", "period_start": "2026-01-01", "period_end": "2026-04-01", "measure": "revenue",
     "amount_rc": 4500},
    {"owner": "r3", "period_start": "2026-01-01", "period_end": "2026-04-01", "measure": "revenue",
     "amount_rc": 1800},
]}


def _quota(owner: str, amount: float, share: float, rule: str) -> dict:
    return {"source": None, "object": "quota", "record_id": f"{owner} 2026-01-01", "name": "revenue",
            "date": "2026-01-01", "amount_rc": amount, "credit_share": share, "rule": rule}


def _replaced(owner: str, team: str) -> dict:
    return {"source": None, "object": "quota", "record_id": f"{owner} 2026-01-01",
            "reason": f"replaced by team {team}'s own quota row"}


def _prorated(got: dict, object_: str) -> float:
    return sum(c["amount_rc"] * c["credit_share"] for c in got["contributions"] if c["object"] == object_)


@pytest.fixture
def team_quotas(make_store):
    cfg, store = make_store(TEAM_QUOTAS, crediting=CREDITING)
    kpis(cfg, store)
    return cfg, store


def test_a_team_own_quota_row_replaces_its_members_rows(team_quotas):
    cfg, store = team_quotas
    east = explain(cfg, store, "east", "quota", "FY2026-Q1", cfg.as_of).as_json()
    assert east == {
        "value": 9000.0, "numerator": 9000.0, "denominator": None,
        "contributions": [_quota("east", 9000.0, 1.0, "team target")],
        "excluded": [_replaced("r1", "east"), _replaced("r4", "east")],
    }
    attainment = explain(cfg, store, "east", "quota_attainment", "FY2026-Q1", cfg.as_of).as_json()
    # o1 1000 + o2 60 % of 2000 + o3 500 + o4 3000 (both split credits in east: once) + o5 800
    assert (attainment["numerator"], attainment["denominator"]) == (6500.0, 9000.0)
    assert _prorated(attainment, "quota") == attainment["denominator"]
    assert _prorated(attainment, "opportunity") == attainment["numerator"]


def test_a_team_without_its_own_row_sums_its_members_while_members(team_quotas):
    cfg, store = team_quotas
    west = explain(cfg, store, "west", "quota", "FY2026-Q1", cfg.as_of).as_json()
    assert west == {
        "value": 4600.0, "numerator": 4600.0, "denominator": None,
        "contributions": [_quota("r3", 1800.0, 1.0, "member of west"),
                          _quota("r4", 5900.0, round(28 / 59, 9), "member of west")],
        "excluded": [],
    }
    assert _prorated(west, "quota") == pytest.approx(west["numerator"])


def test_the_company_counts_team_rows_instead_of_the_members_they_replace(team_quotas):
    cfg, store = team_quotas
    company = explain(cfg, store, "company", "quota", "FY2026-Q1", cfg.as_of).as_json()
    assert company == {
        "value": 13600.0, "numerator": 13600.0, "denominator": None,  # east 9000 + r3 1800 + r4 in west 2800
        "contributions": [_quota("east", 9000.0, 1.0, "team target"), _quota("r3", 1800.0, 1.0, "target"),
                          _quota("r4", 5900.0, round(28 / 59, 9), "target")],
        "excluded": [_replaced("r1", "east"), _replaced("r4", "east")],  # r4: its January, in east
    }
    assert _prorated(company, "quota") == pytest.approx(company["numerator"])
    r1 = explain(cfg, store, "r1", "quota", "FY2026-Q1", cfg.as_of).as_json()
    assert (r1["value"], r1["contributions"], r1["excluded"]) == (4500.0, [_quota("r1", 4500.0, 1.0, "target")], [])


def test_team_and_company_opportunities_add_up_at_the_credited_team(credited):
    cfg, store = credited
    west = explain(cfg, store, "west", "revenue_won", "2026-01", cfg.as_of).as_json()
    assert west == {
        "value": 1200.0, "numerator": 1200.0, "denominator": None,
        "contributions": [_opp("o8", "2026-01-05", 400.0, 1.0, "owner_at_close"),
                          _opp("o2", "2026-01-15", 2000.0, 0.4, "split:Revenue")],
        "excluded": [_out("o5", "credited to r4 in east (owner_at_close)")],  # r4 is in west now, was in east
    }
    company = explain(cfg, store, "company", "revenue_won", "2026-01", cfg.as_of).as_json()
    # o8 400 (r3's, r1's overlay not again) + o1 1000 + o2 2000 + o3 500 + o5 800
    assert company["numerator"] == 4700.0
    assert [(c["record_id"], c["credit_share"]) for c in company["contributions"]] == [
        ("o8", 1.0), ("o1", 1.0), ("o2", 1.0), ("o3", 1.0), ("o5", 1.0)]
    assert _prorated(company, "opportunity") == company["numerator"]
