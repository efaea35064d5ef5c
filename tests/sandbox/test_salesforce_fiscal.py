"""The emulated org's fiscal calendar (FiscalYearSettings, Period) through the real simple-salesforce."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest

from spm_sync.sandbox.dataset import generate
from spm_sync.sandbox.salesforce import SalesforceSandbox

DATASET = generate(7, "small", as_of=date(2026, 3, 15))


def _client(sb: SalesforceSandbox) -> Salesforce:
    session = requests.Session()
    session.verify = sb.ca_bundle
    session.trust_env = False
    return Salesforce(instance_url=sb.instance_url, session_id=sb.session_id, session=session)


@pytest.fixture(scope="module")
def february() -> Iterator[Salesforce]:
    with SalesforceSandbox(DATASET, fiscal_start_month=2) as sb:
        yield _client(sb)


def test_describe_both_objects(february: Salesforce) -> None:
    names = {o["name"]: o for o in february.describe()["sobjects"]}
    assert (names["FiscalYearSettings"]["keyPrefix"], names["Period"]["keyPrefix"]) == ("022", "026")
    assert not names["Period"]["createable"] and not names["Period"]["updateable"]
    period = {f["name"]: f for f in february.Period.describe()["fields"]}
    assert set(period) == {
        "Id", "SystemModstamp", "FiscalYearSettingsId", "Type", "StartDate", "EndDate", "IsForecastPeriod",
        "QuarterLabel", "PeriodLabel", "Number", "FullyQualifiedLabel",
    }
    assert [v["value"] for v in period["Type"]["picklistValues"]] == ["Year", "Quarter", "Month", "Week"]
    assert (period["FiscalYearSettingsId"]["referenceTo"], period["Number"]["type"]) == (["FiscalYearSettings"], "int")
    settings = {f["name"]: f for f in february.FiscalYearSettings.describe()["fields"]}
    assert {"Name", "StartDate", "EndDate", "PeriodId", "IsStandardYear", "YearType", "QuarterLabelScheme",
            "PeriodLabelScheme", "WeekStartDay", "Description"} <= set(settings)
    assert all(not f["updateable"] and not f["createable"] for f in settings.values())


def test_fiscal_year_settings_named_by_starting_year(february: Salesforce) -> None:
    rows = february.query(
        "SELECT Name, StartDate, EndDate, IsStandardYear, YearType, PeriodId FROM FiscalYearSettings ORDER BY StartDate"
    )["records"]
    # The data set spans 2025-01-01 .. 2026-12-31: the fiscal years starting Feb 2024, 2025 and 2026.
    assert [(r["Name"], r["StartDate"], r["EndDate"], r["IsStandardYear"], r["YearType"]) for r in rows] == [
        ("2024", "2024-02-01", "2025-01-31", True, "Standard"),
        ("2025", "2025-02-01", "2026-01-31", True, "Standard"),
        ("2026", "2026-02-01", "2027-01-31", True, "Standard"),
    ]
    year = february.query(f"SELECT Type, StartDate FROM Period WHERE Id = '{rows[1]['PeriodId']}'")["records"]
    assert [(r["Type"], r["StartDate"]) for r in year] == [("Year", "2025-02-01")]


def test_periods_of_one_fiscal_year(february: Salesforce) -> None:
    settings = february.query("SELECT Id FROM FiscalYearSettings WHERE Name = '2025'")["records"][0]["Id"]
    rows = february.query(
        "SELECT Type, StartDate, EndDate, Number, PeriodLabel, FullyQualifiedLabel, IsForecastPeriod FROM Period "
        f"WHERE FiscalYearSettingsId = '{settings}' AND Type IN ('Year', 'Quarter') ORDER BY StartDate, EndDate DESC"
    )["records"]
    assert [(r["Type"], r["StartDate"], r["EndDate"], r["Number"], r["FullyQualifiedLabel"]) for r in rows] == [
        ("Year", "2025-02-01", "2026-01-31", None, "FY 2025"),
        ("Quarter", "2025-02-01", "2025-04-30", 1, "Q1 FY 2025"),
        ("Quarter", "2025-05-01", "2025-07-31", 2, "Q2 FY 2025"),
        ("Quarter", "2025-08-01", "2025-10-31", 3, "Q3 FY 2025"),
        ("Quarter", "2025-11-01", "2026-01-31", 4, "Q4 FY 2025"),
    ]
    months = february.query(
        "SELECT StartDate, EndDate, Number, PeriodLabel, IsForecastPeriod FROM Period "
        f"WHERE FiscalYearSettingsId = '{settings}' AND Type = 'Month' ORDER BY StartDate"
    )["records"]
    assert len(months) == 12
    picked = (months[0], months[1], months[-1])
    assert [(m["StartDate"], m["EndDate"], m["Number"], m["PeriodLabel"]) for m in picked] == [
        ("2025-02-01", "2025-02-28", 1, "February"),
        ("2025-03-01", "2025-03-31", 2, "March"),
        ("2026-01-01", "2026-01-31", 12, "January"),
    ]
    assert all(m["IsForecastPeriod"] for m in months)
    assert february.query("SELECT COUNT() FROM Period")["totalSize"] == 3 * 17


def test_default_calendar_year_and_an_org_without_periods() -> None:
    with SalesforceSandbox(DATASET) as sb:
        rows = _client(sb).query("SELECT Name, StartDate, EndDate FROM FiscalYearSettings ORDER BY StartDate")
        assert [tuple(r[k] for k in ("Name", "StartDate", "EndDate")) for r in rows["records"]] == [
            ("2025", "2025-01-01", "2025-12-31"), ("2026", "2026-01-01", "2026-12-31"),
        ]
    with SalesforceSandbox(DATASET, fiscal_start_month=None) as sb:
        assert _client(sb).query("SELECT Id FROM Period")["totalSize"] == 0
    with pytest.raises(ValueError, match="1..12"):
        SalesforceSandbox(DATASET, fiscal_start_month=13)


def test_the_calendar_is_read_only(february: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest):
        february.Period.create({"Type": "Month", "StartDate": "2030-01-01", "EndDate": "2030-01-31"})
