"""`spm-sync report`: the page opened in a real headless chromium (network blocked) shows the stored KPIs,
by name, with definitions on hover and every chart drawn."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from spm_sync.config import Config, parse_config
from spm_sync.report import build_report
from spm_sync.report.data import LossReason
from spm_sync.store import Store, open_store
from tests.metrics.conftest import insert, kpis
from tests.metrics.dataset import TABLES

CHROMIUM = "/usr/bin/chromium"
CHARTS = ("team_attainment", "rep_attainment", "team_over_time", "rep_over_time", "funnel", "new_vs_existing",
          "satisfaction", "loss_reasons")


@pytest.fixture(scope="module")
def cfg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Config]:
    """tests/metrics/dataset.py with KPIs computed and one successful sync; the vega bundle cached once."""
    folder = tmp_path_factory.mktemp("report")
    data = {"store": {"path": str(folder / "spm_sync.duckdb"), "state_dir": str(folder / "state")},
            "as_of": "2026-03-15", "reporting": {"currency": "USD"}}
    config = parse_config(data)
    with open_store(config) as store:
        for table, rows in TABLES.items():
            insert(store, table, rows)
        store.execute("UPDATE spm.opportunities SET loss_reason = 'Price' WHERE opportunity_id = 'o3'")
        kpis(config, store)
        store.execute("INSERT INTO spm_state.runs (run_id, job, subject, started_at, ended_at, status) VALUES "
                      "('s1', 'sync', 'sf', '2026-03-15 06:29:00', '2026-03-15 06:30:00', 'succeeded')")
    yield config


def stored(cfg: Config, entity_type: str, name: str, metric: str) -> float | None:
    with open_store(cfg) as store:
        return _stored(store, entity_type, name, metric)


def _stored(store: Store, entity_type: str, name: str, metric: str) -> float | None:
    table, key = ("spm.reps", "rep_id") if entity_type == "rep" else ("spm.teams", "team_id")
    row = store.fetchone(
        f"SELECT v.value FROM spm.kpi_values AS v JOIN {table} AS e ON e.{key} = v.entity_id "
        "WHERE v.entity_type = ? AND e.name = ? AND v.period = 'FY2026-Q1' AND v.metric = ? AND v.dimension IS NULL",
        [entity_type, name, metric],
    )
    assert row is not None
    return row[0]


def same(text: str, value: float | None) -> bool:
    """The page's rounding of `value`: "48.7%" shows 0.48667, "$7,300" 7300.0, "0.6×" 0.649, "–" None."""
    text = text.strip()
    if text == "–" or value is None:
        return text == "–" and value is None
    digits = re.sub(r"[^0-9.\-]", "", text)
    decimals = len(digits.partition(".")[2])
    shown = float(digits) / (100 if text.endswith("%") else 1)
    half_step = 0.5 * 10 ** -decimals / (100 if text.endswith("%") else 1)
    return abs(shown - value) <= half_step + 1e-12


def test_counts_show_whole_deals_despite_split_residue() -> None:
    from spm_sync.report.page import format_value

    assert [format_value("deals_lost", v, "USD") for v in (25.000000001, 24.999999999, 2.4, None)] == [
        "25", "25", "2.4", "–"]


def test_team_filter_keeps_the_team_its_sub_teams_and_their_reps(cfg: Config, tmp_path: Path) -> None:
    data = build_report(cfg, "FY2026-Q1", "east", tmp_path / "east.html")
    assert (data.scope.name, [t.name for t in data.teams], [r.name for r in data.reps]) == (
        "East", ["East SMB"], ["Ed", "Ann", "Bo"])
    assert data.scope.value("revenue_won") == 7300.0
    assert data.loss_reasons == [LossReason("Price", 1.0, 2000.0)]  # o3, Ann's (r1, East)
    west = build_report(cfg, "FY2026-Q1", "west", tmp_path / "west.html")
    assert west.loss_reasons == [] and "No deals lost in this period." in (tmp_path / "west.html").read_text()


def test_report_in_a_real_browser_shows_the_stored_kpis(cfg: Config, tmp_path: Path) -> None:
    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is missing: .ci/run installs it (apt-get install chromium)")
        pytest.skip("no /usr/bin/chromium here (apt-get install chromium); CI installs it")
    from playwright.sync_api import sync_playwright

    output = tmp_path / "report.html"
    build_report(cfg, None, None, output)  # default: the current fiscal quarter (as_of 2026-03-15)
    text = output.read_text()
    assert not re.search(r"""(src|href)\s*=\s*["']?https?:""", text), "the page must not load anything remote"
    assert output.stat().st_size < 3_000_000
    blocked: list[str] = []
    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1300, "height": 900})
        page.route(re.compile(r"^(?!file:).*"), lambda route: (blocked.append(route.request.url), route.abort()))
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(output.as_uri())
        for chart in CHARTS:
            page.wait_for_selector(f"#{chart} svg", timeout=30_000)
        page.screenshot(path=str(tmp_path / "report.png"), full_page=True)

        assert page.inner_text("h1") == "Sales performance · FY2026-Q1"
        tiles = {m: page.inner_text(f'.tile[data-metric="{m}"] .value') for m in ("quota_attainment", "revenue_won")}
        assert tiles == {"quota_attainment": "60.0%", "revenue_won": "$9,000"}
        practices = ("enps", "rep_feedback_count", "activities_per_win", "avg_days_to_first_activity",
                     "pipeline_stale_share", "pipeline_past_due_share", "pipeline_missing_amount_share",
                     "stage_skip_share")
        with open_store(cfg) as store:
            company = dict(store.fetchall(
                "SELECT metric, value FROM spm.kpi_values WHERE entity_type = 'company' AND period = 'FY2026-Q1' "
                f"AND dimension IS NULL AND metric IN {practices}"))
            lost = store.fetchall(
                "SELECT dimension_value, metric, value FROM spm.kpi_values WHERE entity_type = 'company' "
                "AND period = 'FY2026-Q1' AND dimension = 'loss_reason' ORDER BY metric")
        shown = {m: page.inner_text(f'.tile[data-metric="{m}"] .value') for m in practices}
        assert set(company) == set(practices)
        assert {m: same(text, company[m]) for m, text in shown.items()} == dict.fromkeys(practices, True)
        # o3, the quarter's one lost deal (2,000), lost on price: the loss-reason breakdown, table and chart
        assert lost == [("Price", "deals_lost", 1.0), ("Price", "revenue_lost", 2000.0)]
        losses = page.locator("table.losses tbody tr").evaluate_all(
            "rows => rows.map(r => [...r.cells].map(c => c.innerText))")
        assert losses == [["Price", "1", "$2,000", "100.0%"]]
        assert page.locator("#loss_reasons svg").get_by_text("Price").count() >= 1

        def board(title: str) -> dict[str, list[str]]:
            table = page.locator("table.gt_table", has=page.get_by_text(title))
            cells = table.locator("tbody tr").evaluate_all("rows => rows.map(r => [...r.cells].map(c => c.innerText))")
            return {row[0]: row for row in cells}

        teams, reps = board("Team leaderboard"), board("Rep leaderboard")
        columns = {"quota_attainment": 1, "revenue_won": 2, "quota": 3, "win_rate": 4, "pipeline_coverage": 5}
        for name in ("East", "East SMB", "West"):
            for metric, column in columns.items():
                assert same(teams[name][column], stored(cfg, "team", name, metric)), (name, metric, teams[name])
        for name in ("Ann", "Bo", "Ed", "Cy"):
            for metric, column in columns.items():
                shown = reps[name][column + 1]  # after the Team column
                assert same(shown, stored(cfg, "rep", name, metric)), (name, metric, reps[name])
        assert [reps[n][1] for n in ("Ann", "Bo", "Cy")] == ["East", "East SMB", "West"]
        assert "r1" not in page.inner_text("main") and "east_smb" not in page.inner_text("main")

        header = page.locator("table.gt_table th span[title]").first
        assert header.inner_text() == "Attainment"
        assert header.get_attribute("title") == "revenue_won / quota (empty when the quota is 0 or missing)."
        assert re.fullmatch(r"Jan 1, 2026 – Mar 31, 2026 · All teams · data last synced 2026-03-15 06:30 UTC · "
                            r"KPIs computed \d{4}-\d\d-\d\d \d\d:\d\d UTC", page.inner_text("header .sub"))
        browser.close()
    assert blocked == [] and errors == []
