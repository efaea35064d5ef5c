"""Columnar storage: text pools, adopted arrays and copy-on-write sharing between columns.

Why: the bulk load keeps the shaped arrays themselves and lets columns with equal values share one
array; a write to one column must never show through another column or another table.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np

from spm_sync.sandbox.dataset import generate
from spm_sync.sandbox.salesforce import SalesforceSandbox
from spm_sync.sandbox.salesforce.org import Org
from spm_sync.sandbox.salesforce.schema import OBJECTS
from spm_sync.sandbox.salesforce.shaping import Shaped
from spm_sync.sandbox.salesforce.store import Strings, Table, lowered

NOW = datetime(2025, 6, 15, 12, 0, 0, tzinfo=UTC)


def test_strings_and_pools() -> None:
    strings = Strings.of(["b", None, "a", "b"], mapping={"a": "A"})
    assert strings.values().tolist() == ["b", None, "A", "b"]
    assert strings[np.array([3, 1])].values().tolist() == ["b", None]
    table = Table(OBJECTS["Account"])
    table.append({"Name": strings, "Industry": ["x", "y", None, "x"]}, 4)
    table.append({"Name": "Solo"}, 1)
    table.set(0, "Name", "Renamed")
    table.set(1, "Industry", None)
    assert table.column("Name").tolist() == ["Renamed", None, "A", "b", "Solo"]
    assert table.take("Industry", np.array([1, 3])).tolist() == [None, "x"]
    assert [table.get(r, "Name") for r in (0, 1)] == ["Renamed", None]
    pool = table.pools["Name"]
    assert set(lowered(pool)[table.codes("Name")].tolist()) == {"renamed", None, "a", "b", "solo"}


def test_bulk_load_adopts_arrays_and_shares_equal_columns_until_written() -> None:
    org = SalesforceSandbox(generate(7, "small", as_of=date(2025, 6, 15)), clock=lambda: NOW).org
    opps = org.tables["Opportunity"]
    assert {"LastModifiedDate", "SystemModstamp", "StageName", "ForecastCategoryName"} <= opps._shared
    created = opps.column("CreatedDate").copy()
    stamps = opps.column("SystemModstamp").copy()
    stages = opps.column("StageName").copy()
    owners = opps.column("OwnerId").copy()
    record_id = org.ids("Opportunity")[5]
    org.update("Opportunity", record_id, {"StageName": "Closed Lost", "OwnerId": org.ids("User")[3]})
    row = 5
    now = np.datetime64(NOW.replace(tzinfo=None), "ms")
    assert opps.get(row, "SystemModstamp") == opps.get(row, "LastModifiedDate") == now
    assert (opps.column("CreatedDate") == created).all()  # shared with the modstamp before the write
    others = np.arange(opps.n) != row
    assert (opps.column("SystemModstamp")[others] == stamps[others]).all()
    assert (opps.column("StageName")[others] == stages[others]).all()
    assert opps.get(row, "StageName") == "Closed Lost" and opps.get(row, "ForecastCategoryName") == "Omitted"
    assert (opps.column("CreatedById") == owners).all()  # only OwnerId was written
    assert opps.get(row, "OwnerId") != owners[row]


def test_an_array_shaped_for_two_objects_is_not_shared_between_their_tables() -> None:
    org = Org(clock=lambda: NOW)
    names = Strings.of([f"n{i}" for i in range(40)])
    stamps = np.full(40, np.datetime64("2024-01-01T00:00:00", "ms"))
    org.load({
        "Account": Shaped(40, {"Name": names, "CreatedDate": stamps, "SystemModstamp": stamps}),
        "Lead": Shaped(40, {"LastName": names, "Company": names, "CreatedDate": stamps, "SystemModstamp": stamps}),
    })
    org.update("Account", org.ids("Account")[0], {"Name": "changed"})
    leads = org.tables["Lead"]
    assert leads.get(0, "LastName") == "n0" and leads.get(0, "SystemModstamp") == stamps[0]
    assert org.tables["Account"].get(0, "CreatedDate") == stamps[0]
