"""The raw-table contract every connector keeps, run against each one alike (as meltano-sdk's standard
tap tests are): Salesforce and HubSpot through their real SDKs against the sandbox emulators, files
from CSV exports on disk.

- every keyed raw table has unique, non-null ids;
- a record deleted at the source stays visible as deleted (a tombstone, or gone from a replaced table);
- a second run over an unchanged source changes no stored row (and loads none into incremental tables);
- a run stopped by the API budget keeps what it pulled, and the next run ends with the same tables as one
  uninterrupted run;
- every call the emulator answered is counted in the run's API calls.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from spm_sync.config import Config, parse_config
from spm_sync.connectors.salesforce import settings as salesforce_settings
from spm_sync.extract import SyncResult, sync_source
from spm_sync.runs import Run
from spm_sync.sandbox import Sandbox
from spm_sync.sandbox.dataset import Dataset, generate
from spm_sync.sandbox.server import SandboxServer
from spm_sync.store import Store, open_store
from tests.sandbox_sources import sandbox_sources

AS_OF = date(2026, 3, 15)

ACCOUNTS = "id,name,owner_email,created_at\nA1,Acme,ada@example.com,2026-01-05T10:00:00Z\nA2,Globex,,\n"
OPPORTUNITIES = (
    "id,account_id,owner_email,name,stage,amount,currency,recurring_amount,deal_type,created_at,close_date\n"
    "O1,A1,ada@example.com,First,won,1000,USD,,new,2026-01-06T09:00:00Z,2026-02-01\n"
    "O2,A1,ada@example.com,Second,open,250.5,EUR,,,2026-01-07T09:00:00Z,2026-03-01\n"
    "O3,A2,grace@example.com,Third,lost,99,USD,,,,2026-01-20\n"
)


@dataclass
class Connector:
    """One connector under the contract: its source entry and how its source deletes a record.

    `keyed`: raw table -> id column; `compared`: tables whose rows must match between runs (ORDER BY ALL);
    `delete`: deletes one record at the source, returns (table, id); `shows_deleted`: whether the stored
    rows show that id as deleted; `objects`: what a run pulls (None: all), `budget_objects` what a
    budget-stopped run pulls; `incremental`: the tables loaded incrementally (others are replaced);
    `sweep`: the source options that make every run look for hard deletes; `server`: the emulator
    answering its calls (None: no API).
    """

    name: str
    source: dict[str, Any]
    keyed: dict[str, str]
    compared: tuple[str, ...]
    delete: Callable[[], tuple[str, str]]
    shows_deleted: Callable[[Store, str, str], bool]
    objects: list[str] | None = None
    budget_objects: list[str] = field(default_factory=list)
    incremental: tuple[str, ...] = ()
    sweep: dict[str, Any] = field(default_factory=dict)
    server: SandboxServer | None = None

    def config(self, root: Path, **overrides: Any) -> Config:
        return parse_config({
            "store": {"path": str(root / "raw.duckdb"), "state_dir": str(root / "state")},
            "sources": [{**self.source, **overrides}],
        })


def sync(cfg: Config, connector: Connector, objects: list[str] | None = None) -> SyncResult:
    with open_store(cfg) as store:
        return sync_source(cfg, store, connector.name, run=Run(job="sync"), objects=objects or connector.objects)


def table_rows(cfg: Config, connector: Connector, tables: tuple[str, ...]) -> dict[str, list[tuple[Any, ...]]]:
    """Rows of raw tables without dlt's load bookkeeping columns."""
    with open_store(cfg) as store:
        rows = {}
        for table in tables:
            columns = [c for (c,) in store.fetchall(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ? "
                "AND column_name NOT LIKE '\\_dlt%' ESCAPE '\\' ORDER BY column_name", [f"raw_{connector.name}", table],
            )]
            quoted = ", ".join(f'"{c}"' for c in columns)
            rows[table] = store.fetchall(f"SELECT {quoted} FROM raw_{connector.name}.{table} ORDER BY ALL")
        return rows


def _flag(column: str) -> Callable[[Store, str, str], bool]:
    def shows_deleted(store: Store, dataset_table: str, record_id: str) -> bool:
        found = store.fetchall(f"SELECT {column} FROM {dataset_table} WHERE id = ?", [record_id])
        return found == [(True,)]
    return shows_deleted


def _absent(store: Store, dataset_table: str, record_id: str) -> bool:
    return store.fetchall(f"SELECT count(*) FROM {dataset_table} WHERE id = ?", [record_id]) == [(0,)]


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    return generate(seed=7, scale="small", as_of=AS_OF)


@pytest.fixture
def sandbox(dataset: Dataset) -> Iterator[Sandbox]:
    with Sandbox(dataset=dataset, rate_limit=1000, search_rate_limit=50) as sb:
        yield sb


@pytest.fixture(autouse=True)
def _fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(salesforce_settings, "RETRY_BASE_S", 0.01)
    monkeypatch.setattr(salesforce_settings, "QUERY_BATCH_SIZE", 200)  # several pages for a budget to cut


def salesforce(sb: Sandbox, _: Path) -> Connector:
    org = sb.salesforce.org

    def delete() -> tuple[str, str]:
        record_id = org.ids("Opportunity")[0]
        org.hard_delete("Opportunity", record_id)  # gone even from queryAll: only the id sweep sees it
        return "opportunity", record_id

    return Connector(
        "sf", sandbox_sources(sb)["sf"],
        keyed={"opportunity": "id", "opportunity_history": "id", "user": "id", "account": "id"},
        compared=("opportunity_history",), delete=delete, shows_deleted=_flag("is_deleted"),
        objects=["User", "Account", "Opportunity", "OpportunityHistory"], budget_objects=["OpportunityHistory"],
        incremental=("opportunity", "opportunity_history", "user", "account"), sweep={"delete_sweep_days": 0},
        server=sb.salesforce.server,
    )


def hubspot(sb: Sandbox, _: Path) -> Connector:
    portal = sb.hubspot.portal

    def delete() -> tuple[str, str]:
        record_id = portal.ids("deals")[0]
        portal.hard_delete("deals", record_id)  # not even in the archived listing: only the id sweep sees it
        return "deals", record_id

    return Connector(
        "hs", {**sandbox_sources(sb)["hs"], "lookback_minutes": 0},
        keyed={"deals": "id", "companies": "id", "contacts": "id"},
        compared=("deals", "associations"), delete=delete, shows_deleted=_flag("archived"),
        objects=["deals", "companies", "contacts"], budget_objects=["deals"],
        incremental=("deals", "companies", "contacts"), sweep={"delete_sweep_days": 0}, server=sb.hubspot.server,
    )


def files(_: Sandbox, root: Path) -> Connector:
    exports = root / "exports"
    exports.mkdir()
    (exports / "accounts.csv").write_text(ACCOUNTS)
    (exports / "opportunities.csv").write_text(OPPORTUNITIES)

    def delete() -> tuple[str, str]:
        (exports / "opportunities.csv").write_text("\n".join(OPPORTUNITIES.splitlines()[:-1]) + "\n")
        return "opportunities", "O3"

    return Connector(
        "erp", {"name": "erp", "type": "files", "accounts": str(exports / "accounts.csv"),
                "opportunities": str(exports / "opportunities.csv")},
        keyed={"accounts": "id", "opportunities": "id"}, compared=("accounts", "opportunities"),
        delete=delete, shows_deleted=_absent,
    )


CONNECTORS = {"salesforce": salesforce, "hubspot": hubspot, "files": files}
API_CONNECTORS = ("salesforce", "hubspot")


@pytest.fixture(params=list(CONNECTORS))
def connector(request: pytest.FixtureRequest, sandbox: Sandbox, tmp_path: Path) -> Connector:
    return CONNECTORS[request.param](sandbox, tmp_path)


@pytest.fixture(params=API_CONNECTORS)
def api_connector(request: pytest.FixtureRequest, sandbox: Sandbox, tmp_path: Path) -> Connector:
    return CONNECTORS[request.param](sandbox, tmp_path)


def test_ids_are_unique_and_not_null(connector: Connector, tmp_path: Path) -> None:
    cfg = connector.config(tmp_path / "store")
    sync(cfg, connector)
    with open_store(cfg) as store:
        for table, key in connector.keyed.items():
            rows, ids, distinct = store.fetchall(
                f"SELECT count(*), count({key}), count(DISTINCT {key}) FROM raw_{connector.name}.{table}"
            )[0]
            assert rows > 0 and ids == rows and distinct == rows, table


def test_a_deleted_record_stays_visible_as_deleted(connector: Connector, tmp_path: Path) -> None:
    cfg = connector.config(tmp_path / "store", **connector.sweep)
    sync(cfg, connector)
    table, record_id = connector.delete()
    with open_store(cfg) as store:
        assert not connector.shows_deleted(store, f"raw_{connector.name}.{table}", record_id)
    sync(cfg, connector)
    with open_store(cfg) as store:
        assert connector.shows_deleted(store, f"raw_{connector.name}.{table}", record_id)


def test_a_second_run_over_an_unchanged_source_changes_nothing(connector: Connector, tmp_path: Path) -> None:
    cfg = connector.config(tmp_path / "store")
    sync(cfg, connector)
    before = table_rows(cfg, connector, tuple(connector.keyed))
    second = sync(cfg, connector)
    assert table_rows(cfg, connector, tuple(connector.keyed)) == before
    assert {table: second.records.get(table, 0) for table in connector.incremental} == dict.fromkeys(
        connector.incremental, 0
    )


def test_budget_stop_then_resume_equals_one_uninterrupted_run(api_connector: Connector, tmp_path: Path) -> None:
    objects = api_connector.budget_objects
    reference = api_connector.config(tmp_path / "reference")
    sync(reference, api_connector, objects)
    stopped = sync(api_connector.config(tmp_path / "budget", api_budget={"per_run": 4}), api_connector, objects)
    assert stopped.stopped_by_budget == "per-run API budget of 4 calls reached"
    assert sum(stopped.records.values()) > 0  # what was pulled before the stop is kept
    cfg = api_connector.config(tmp_path / "budget")  # the same store, the budget lifted
    assert sync(cfg, api_connector, objects).stopped_by_budget is None
    assert table_rows(cfg, api_connector, api_connector.compared) == table_rows(
        reference, api_connector, api_connector.compared
    )


def test_every_call_answered_is_counted(api_connector: Connector, tmp_path: Path) -> None:
    assert api_connector.server is not None
    cfg = api_connector.config(tmp_path / "store")
    for _ in range(2):  # a full run, then an incremental one
        api_connector.server.reset_stats()
        result = sync(cfg, api_connector)
        assert result.api_calls["total"] == api_connector.server.stats()["total"] > 0
