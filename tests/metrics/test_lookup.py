"""Names everywhere: `kpis` filters by rep email/name and team name, the default current-period view,
`spm-sync list`, and a filter that matches nothing as a usage error (exit 2)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from spm_sync.config import Config
from spm_sync.metrics.lookup import KpiAsk, NoMatch, kpi_rows, list_rows, overview
from spm_sync.store import Store, open_store
from tests.metrics.conftest import Values, config, insert, kpis
from tests.test_cli import spm


@pytest.fixture
def store(dataset_store: tuple[Store, Values]) -> Store:
    return dataset_store[0]


@pytest.fixture
def cfg(tmp_path: Path) -> Config:
    return config(tmp_path / "unused.duckdb")  # as_of 2026-03-15: FY2026-Q1 and 2026-03 are current


def _keys(rows: list[dict]) -> list[tuple]:
    return [(r["period"], r["entity_type"], r["entity_name"], r["value"]) for r in rows]


def test_default_is_current_quarter_and_month_by_team_then_attainment(cfg: Config, store: Store) -> None:
    rows = kpi_rows(cfg, store, KpiAsk(metrics=["quota_attainment"]))
    assert _keys(rows)[:9] == [
        ("FY2026-Q1", "company", "Company", 0.6),
        ("FY2026-Q1", "team", "East", pytest.approx(7300 / 15000)),
        ("FY2026-Q1", "rep", "Ed", 0.8),
        ("FY2026-Q1", "rep", "Ann", 0.5),
        ("FY2026-Q1", "team", "East SMB", pytest.approx(2500 / 6000)),
        ("FY2026-Q1", "rep", "Bo", pytest.approx(2500 / 5900)),
        ("FY2026-Q1", "team", "West", None),
        ("FY2026-Q1", "rep", "Cy", None),
        ("FY2026-Q1", "rep", "Di", None),
    ]
    assert {r["period"] for r in rows[9:]} == {"2026-03"} and len(rows) == 18


def test_entity_by_email_name_or_id_gives_the_same_rows(cfg: Config, store: Store) -> None:
    by = {text: kpi_rows(cfg, store, KpiAsk(entity=text, period="FY2026-Q1", metrics=["revenue_won"]))
          for text in ("bo@x.test", "BO@X.TEST", "Bo", "r2", "hs:77")}
    assert {json.dumps(rows) for rows in by.values()} == {json.dumps(by["r2"])}
    assert _keys(by["r2"]) == [("FY2026-Q1", "rep", "Bo", 2500.0)]


def test_team_by_name(cfg: Config, store: Store) -> None:
    rows = kpi_rows(cfg, store, KpiAsk(team="east smb", period="FY2026-Q1", metrics=["revenue_won"]))
    assert _keys(rows) == [("FY2026-Q1", "rep", "Bo", 2500.0), ("FY2026-Q1", "team", "East SMB", 2500.0)]


@pytest.mark.parametrize(
    ("ask", "message"),
    [
        (KpiAsk(team="Boston Sales"), "--team 'Boston Sales' matches no team"),
        (KpiAsk(entity="melissa.roberts@x.test"), "--entity: unknown entity 'melissa.roberts@x.test'"),
        (KpiAsk(entity="Bo", entity_type="team"), "--entity 'Bo' is a rep, not a team"),
        (KpiAsk(entity="Bo", period="2031-01"), "no KPI values match --period 2031-01 --entity Bo"),
    ],
)
def test_a_filter_that_matches_nothing_names_it(cfg: Config, store: Store, ask: KpiAsk, message: str) -> None:
    with pytest.raises(NoMatch, match=message.replace("(", "\\(")) as caught:
        kpi_rows(cfg, store, ask)
    assert caught.value.exit_code == 2


def test_ambiguous_name_lists_the_candidates(make_store) -> None:
    from tests.metrics.dataset import TABLES

    tables = dict(TABLES)
    tables["reps"] = [*TABLES["reps"], {"rep_id": "r9", "source": "hs", "name": "Bo", "email": "bo2@x.test",
                                         "team_id": "west", "is_active": True}]
    cfg, store = make_store(tables)
    with pytest.raises(NoMatch, match="--entity: entity 'Bo' is ambiguous: rep Bo \\(r2\\); rep Bo \\(r9\\)"):
        kpi_rows(cfg, store, KpiAsk(entity="Bo"))


def test_overview_has_a_row_per_entity_and_period_with_metric_columns(cfg: Config, store: Store) -> None:
    rows = kpi_rows(cfg, store, KpiAsk(entity="Ann"))
    table = overview(rows, {"quota_attainment": "attainment", "revenue_won": "revenue won"})
    assert table == [
        {"period": "FY2026-Q1", "entity_type": "rep", "entity_name": "Ann", "entity_id": "r1",
         "attainment": 0.5, "revenue won": 4000.0},
        {"period": "2026-03", "entity_type": "rep", "entity_name": "Ann", "entity_id": "r1",
         "attainment": None, "revenue won": 0.0},
    ]


def test_list_reps_teams_metrics_periods(cfg: Config, store: Store) -> None:
    assert [(r["name"], r["email"], r["team"]) for r in list_rows(cfg, store, "reps")] == [
        ("Ann", "ann@x.test", "East"), ("Ed", "ed@x.test", "East"), ("Bo", "bo@x.test", "East SMB"),
        ("Cy", "cy@x.test", "West"), ("Di", "di@x.test", "West"),
    ]
    assert [(r["name"], r["parent"], r["reps"]) for r in list_rows(cfg, store, "teams")] == [
        ("East", None, 2), ("East SMB", "East", 1), ("West", None, 2),
    ]
    metrics = {r["metric"]: r for r in list_rows(cfg, store, "metrics")}
    assert metrics["quota_attainment"]["unit"] == "ratio" and metrics["revenue_won"]["unit"] == "currency"
    assert metrics["revenue_won"]["definition"] == "Sum amount_rc of won opportunities with close_date in P."
    current = [r["period"] for r in list_rows(cfg, store, "periods") if r["current"]]
    assert current == ["FY2026", "FY2026-Q1", "2026-03"]


def test_cli_names_percentages_and_exit_codes(tmp_path: Path) -> None:
    from tests.metrics.dataset import TABLES

    cfg = config(tmp_path / "spm_sync.duckdb")
    with open_store(cfg) as store:
        for table, rows in TABLES.items():
            insert(store, table, rows)
        kpis(cfg, store)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({"store": {"path": str(tmp_path / "spm_sync.duckdb")}, "as_of": "2026-03-15"}))
    shown = spm("--config", str(path), "kpis", "--no-compute", "--team", "East SMB")
    assert shown.returncode == 0, shown.stderr
    lines = [line for line in shown.stdout.splitlines() if "FY2026-Q1" in line]
    assert [line.split("│")[3].strip() for line in lines] == ["East SMB", "Bo"]
    assert [line.split("│")[5].strip() for line in lines] == ["41.7%", "42.4%"]  # quota_attainment
    as_json = spm("--config", str(path), "kpis", "--no-compute", "--entity", "ann@x.test", "--period", "2026-01",
                  "--metric", "revenue_won", "--format", "json")
    assert json.loads(as_json.stdout) == [{
        "entity_type": "rep", "entity_id": "r1", "entity_name": "Ann", "period": "2026-01", "metric": "revenue_won",
        "value": 1000.0, "numerator": 1000.0, "denominator": None,
    }]
    missing = spm("--config", str(path), "kpis", "--no-compute", "--team", "Boston Sales")
    assert missing.returncode == 2
    assert missing.stderr.startswith("error: --team 'Boston Sales' matches no team")
    listed = spm("--config", str(path), "list", "teams", "--format", "json")
    assert [t["name"] for t in json.loads(listed.stdout)] == ["East", "East SMB", "West"]
