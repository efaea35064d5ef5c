"""Sandbox org with a February fiscal year -> sync -> normalize -> kpis: the org's quarters win over config."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from pathlib import Path

import pytest

from spm_sync.config import parse_config
from spm_sync.extract import sync_source
from spm_sync.metrics import compute_kpis
from spm_sync.normalize import normalize
from spm_sync.runs import Run
from spm_sync.sandbox import Sandbox
from spm_sync.sandbox.dataset import Dataset, generate
from spm_sync.store import open_store

AS_OF = date(2026, 3, 15)


def _org_quarter(day: date) -> str:
    """The quarter id of a fiscal year starting in February, named by its ending year."""
    months_in = (day.month - 2) % 12
    year = day.year + 1 if day.month >= 2 else day.year
    return f"FY{year}-Q{months_in // 3 + 1}"


def _won_by_org_quarter(ds: Dataset) -> dict[str, float]:
    rate = dict(zip(ds.currencies["iso_code"].to_pylist(), ds.currencies["conversion_rate"].to_pylist(), strict=True))
    out: dict[str, float] = defaultdict(float)
    for o in ds.opportunities.to_pylist():
        if o["stage"] == "closed_won" and not o["is_deleted"]:
            out[_org_quarter(o["close_date"])] += o["amount"] / rate[o["currency"]]
    return out


def test_sandbox_fiscal_february_drives_kpi_quarters(tmp_path: Path) -> None:
    dataset = generate(seed=7, scale="small", as_of=AS_OF)
    with Sandbox(dataset=dataset, salesforce_fiscal_start_month=2) as sb:
        cfg = parse_config({
            "store": {"path": str(tmp_path / "s.duckdb"), "state_dir": str(tmp_path / "state")},
            "as_of": AS_OF.isoformat(),
            "sources": [{"name": "sf", "type": "salesforce", "instance_url": sb.salesforce.instance_url,
                         "session_id": sb.salesforce.session_id, "ca_bundle": sb.salesforce.ca_bundle}],
        })
        assert cfg.reporting.fiscal_year_start_month == 1
        with open_store(cfg) as store:
            synced = sync_source(cfg, store, "sf", run=Run(job="sync"))
            assert (synced.records["fiscal_year_settings"], synced.records["period"]) == (3, 51)
            normalized = normalize(cfg, store, Run(job="normalize"))
            assert normalized.tables["fiscal_periods_imported"] == 51
            assert store.fetchall(
                "SELECT period, grain, period_start, period_end, fiscal_year FROM spm.fiscal_periods_imported "
                "WHERE grain <> 'month' AND fiscal_year = 2026 ORDER BY period_start, period_end DESC"
            ) == [
                ("FY2026", "year", date(2025, 2, 1), date(2026, 2, 1), 2026),
                ("FY2026-Q1", "quarter", date(2025, 2, 1), date(2025, 5, 1), 2026),
                ("FY2026-Q2", "quarter", date(2025, 5, 1), date(2025, 8, 1), 2026),
                ("FY2026-Q3", "quarter", date(2025, 8, 1), date(2025, 11, 1), 2026),
                ("FY2026-Q4", "quarter", date(2025, 11, 1), date(2026, 2, 1), 2026),
            ]
            result = compute_kpis(cfg, store, Run(job="kpis"))
            company = dict(store.fetchall(
                "SELECT period, value FROM spm.kpi_values WHERE entity_type = 'company' AND metric = 'revenue_won'"
            ))
    revenue = {period: value for period, value in company.items() if "-Q" in period}
    assert result.fiscal_years == (2025, 2027)
    assert "warning: reporting.fiscal_year_start_month is 1 but the fiscal years of sf start in month 2" in (
        result.summary()
    )
    expected = _won_by_org_quarter(dataset)
    assert sorted(revenue) == [f"FY{y}-Q{q}" for y in (2025, 2026, 2027) for q in range(1, 5)]
    assert revenue == pytest.approx({period: expected.get(period, 0.0) for period in revenue}, rel=1e-9)
    # The org's FY2026-Q1 is February .. April 2025 (config alone would make it January .. March 2026).
    assert revenue["FY2026-Q1"] == pytest.approx(company["2025-02"] + company["2025-03"] + company["2025-04"])
    assert revenue["FY2026-Q1"] > 0
