"""Write-back fixtures: a fresh sandbox per test (one shared data set), a temp store seeded with reps
and KPI values, and one adapter per CRM so every scenario runs against both with the real SDKs."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from spm_sync.config import Config, parse_config
from spm_sync.runs import Run
from spm_sync.sandbox import Sandbox
from spm_sync.sandbox.dataset import Dataset, generate
from spm_sync.store import Store, open_store
from spm_sync.writeback import WritebackResult, write_back

AS_OF = date(2026, 3, 15)
PERIOD = "2026-03"


@pytest.fixture(scope="session")
def dataset() -> Dataset:
    return generate(seed=7, scale="small", as_of=AS_OF)


@pytest.fixture
def sandbox(dataset: Dataset) -> Iterator[Sandbox]:
    with Sandbox(dataset=dataset) as sb:
        yield sb


@dataclass
class Crm:
    """One CRM as the scenarios see it: config, field names, and 'UI' access to its records."""

    name: str
    source: dict[str, Any]
    user_object: str
    user_fields: dict[str, str]
    upsert_object: str
    upsert_key: str
    upsert_fields: dict[str, str]
    write_endpoints: dict[str, str]  # mode -> sandbox endpoint name
    user_ids: list[str]  # CRM record id of rep<n>'s user
    identities: list[tuple[str, str | None, str | None]]  # (rep_id, crm_id, crm_user_id)
    get: Callable[[str, str], Any]  # (record id, field) -> stored value
    edit: Callable[[str, str, Any], None]  # a person changes a field in the CRM's UI
    find: Callable[[str], str | None]  # upsert key -> record id
    team_key_field: str  # a field of `upsert_object` that can hold a team id (record_id_field)
    create_team_record: Callable[[str], str]  # team id -> id of a new record holding it

    def stats(self, sb: Sandbox) -> dict[str, Any]:
        return (sb.salesforce if self.name == "salesforce" else sb.hubspot).stats()

    def writes(self, sb: Sandbox) -> int:
        by_endpoint = self.stats(sb)["by_endpoint"]
        return sum(by_endpoint.get(e, 0) for e in set(self.write_endpoints.values()))


def salesforce_crm(sb: Sandbox) -> Crm:
    org = sb.salesforce.org
    ids = org.ids("User")

    def find(key: str) -> str | None:
        hits = [i for i in org.ids("Rep_KPI__c") if org.get("Rep_KPI__c", i)["Rep_Period_Key__c"] == key]
        return hits[0] if hits else None

    def get(record_id: str, field: str) -> Any:
        return org.get("Rep_KPI__c" if record_id.startswith("a0Y") else "User", record_id)[field]

    return Crm(
        name="salesforce",
        source={"name": "sf", "type": "salesforce", "instance_url": sb.salesforce.instance_url,
                "session_id": sb.salesforce.session_id, "ca_bundle": sb.salesforce.ca_bundle, "max_retries": 2},
        user_object="User",
        user_fields={"quota_attainment": "Quota_Attainment__c", "revenue_won": "Revenue_Won__c",
                     "calls": "Calls_This_Month__c"},
        upsert_object="Rep_KPI__c",
        upsert_key="Rep_Period_Key__c",
        upsert_fields={"quota_attainment": "Quota_Attainment__c", "revenue_won": "Revenue_Won__c",
                       "calls": "Calls__c"},
        write_endpoints={"update": "composite_sobjects", "upsert": "composite_sobjects"},
        user_ids=ids,
        identities=[(f"rep{n}", user_id, None) for n, user_id in enumerate(ids)],
        get=get,
        edit=lambda record_id, field, value: org.update("User", record_id, {field: value}),
        find=find,
        team_key_field="Name",
        create_team_record=lambda team: org.create("Rep_KPI__c", {"Name": team}),
    )


def hubspot_crm(sb: Sandbox) -> Crm:
    portal = sb.hubspot.portal
    ids = portal.ids("users")

    def find(key: str) -> str | None:
        hits = [i for i in portal.ids("users") if portal.get("users", i).get("spm_rep_key") == key]
        return hits[0] if hits else None

    return Crm(
        name="hubspot",
        source={"name": "hs", "type": "hubspot", "base_url": sb.hubspot.base_url,
                "access_token": sb.hubspot.access_token, "max_retries": 2},
        user_object="users",
        user_fields={"quota_attainment": "spm_quota_attainment", "revenue_won": "spm_revenue_won",
                     "calls": "spm_calls_this_month"},
        upsert_object="users",
        upsert_key="spm_rep_key",
        upsert_fields={"quota_attainment": "spm_quota_attainment", "revenue_won": "spm_revenue_won",
                       "calls": "spm_calls_this_month"},
        write_endpoints={"update": "batch_update", "upsert": "batch_upsert"},
        user_ids=ids,
        identities=[(f"rep{n}", f"owner{n}", portal.get("users", i)["hs_internal_user_id"])
                    for n, i in enumerate(ids)],
        get=lambda record_id, field: portal.get("users", record_id).get(field),
        edit=lambda record_id, field, value: portal.update("users", record_id, {field: value}),
        find=find,
        team_key_field="spm_rep_key",
        create_team_record=lambda team: portal.create("users", {"spm_rep_key": team}),
    )


@pytest.fixture(params=["salesforce", "hubspot"])
def crm(request: pytest.FixtureRequest, sandbox: Sandbox) -> Crm:
    return salesforce_crm(sandbox) if request.param == "salesforce" else hubspot_crm(sandbox)


def make_config(tmp_path: Path, crm: Crm, targets: list[dict[str, Any]]) -> Config:
    return parse_config(
        {"store": {"path": str(tmp_path / "state" / "spm_sync.duckdb")}, "as_of": AS_OF.isoformat(),
         "sources": [crm.source], "writeback": targets},
        env={},
    )


def user_target(crm: Crm, **extra: Any) -> dict[str, Any]:
    return {"name": "users", "source": crm.source["name"], "object": crm.user_object, "entity": "rep",
            "period": "current_month", "fields": crm.user_fields, **extra}


def upsert_target(crm: Crm, **extra: Any) -> dict[str, Any]:
    return {"name": "history", "source": crm.source["name"], "object": crm.upsert_object, "entity": "rep",
            "period": PERIOD, "mode": "upsert", "external_id_field": crm.upsert_key, "fields": crm.upsert_fields,
            **extra}


def seed_reps(store: Store, crm: Crm) -> None:
    store.executemany(
        "INSERT INTO spm.rep_identities (rep_id, source, crm_id, crm_user_id) VALUES (?, ?, ?, ?)",
        [(rep, crm.source["name"], crm_id, user_id) for rep, crm_id, user_id in crm.identities],
    )


def seed_kpis(
    store: Store, values: dict[str, dict[str, float | None]], run_id: str = "kpi-1", entity_type: str = "rep"
) -> None:
    """Replace spm.kpi_values with {entity_id: {metric: value}} for PERIOD (as the metrics stage does)."""
    store.execute("DELETE FROM spm.kpi_values")
    store.executemany(
        "INSERT INTO spm.kpi_values (entity_type, entity_id, period, metric, value, run_id) VALUES (?, ?, ?, ?, ?, ?)",
        [(entity_type, entity, PERIOD, metric, value, run_id)
         for entity, metrics in values.items() for metric, value in metrics.items()],
    )


def kpis(n_reps: int, attainment: float = 0.8125, revenue: float = 12345.678, calls: float = 41.6
         ) -> dict[str, dict[str, float | None]]:
    """Distinct values per rep: rep<n> gets attainment + n/100, revenue x (n+1), calls + n."""
    return {
        f"rep{n}": {"quota_attainment": attainment + n / 100, "revenue_won": revenue * (n + 1), "calls": calls + n}
        for n in range(n_reps)
    }


@dataclass
class Harness:
    """Run write-back against the sandbox with a temp store."""

    cfg: Config
    store: Store
    tmp_path: Path
    crm: Crm

    def reconfigure(self, *targets: dict[str, Any]) -> None:
        """Same store and ledger, other target settings (e.g. overwrite: true)."""
        self.cfg = make_config(self.tmp_path, self.crm, list(targets))

    def run(self, dry_run: bool = False, targets: list[str] | None = None) -> WritebackResult:
        return write_back(self.cfg, self.store, Run(job="writeback"), targets=targets, dry_run=dry_run)

    def ledger(self) -> list[tuple[Any, ...]]:
        return self.store.fetchall(
            "SELECT entity_id, field, value_sent, outcome, error_code FROM spm_state.writeback_ledger "
            "ORDER BY sent_at, entity_id, field"
        )


@pytest.fixture
def harness(tmp_path: Path, crm: Crm) -> Callable[..., Harness]:
    stores: list[Store] = []

    def build(*targets: dict[str, Any]) -> Harness:
        cfg = make_config(tmp_path, crm, list(targets))
        store = open_store(cfg)
        stores.append(store)
        seed_reps(store, crm)
        return Harness(cfg, store, tmp_path, crm)

    yield build  # type: ignore[misc]
    for store in stores:
        store.close()
