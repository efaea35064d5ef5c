"""`spm-sync writeback setup` against both emulators started without the KPI fields, over real sockets.

The fields setup creates are then described by simple-salesforce and hubspot-api-client, written by
the write-back stage and read back through the SDKs; call counts come from the emulators' stats.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import hubspot
import pytest
import requests
import yaml
from simple_salesforce import Salesforce

from spm_sync.cli import main
from spm_sync.config import Config, parse_config
from spm_sync.errors import ConnectorError
from spm_sync.runs import Run
from spm_sync.sandbox import Sandbox
from spm_sync.sandbox.dataset import Dataset
from spm_sync.sandbox.salesforce.schema import custom_field
from spm_sync.store import open_store
from spm_sync.writeback import write_back
from spm_sync.writeback.setup import SetupConflict, setup

PERIOD = "2026-03"
SF_WRITES = ("tooling_sobjects", "composite_sobjects", "sobject")
HS_WRITES = ("property_create", "property_group_create")


@pytest.fixture
def bare(dataset: Dataset) -> Iterator[Sandbox]:
    with Sandbox(dataset=dataset, kpi_fields=False) as sb:
        yield sb


def usernames(sb: Sandbox) -> list[str]:
    org = sb.salesforce.org
    return [str(org.get("User", i)["Username"]) for i in org.ids("User")]


def document(sb: Sandbox, tmp_path: Path) -> dict[str, Any]:
    names = usernames(sb)
    return {
        "store": {"path": str(tmp_path / "state" / "spm_sync.duckdb")},
        "as_of": "2026-03-15",
        "sources": [
            {"name": "sf", "type": "salesforce", "instance_url": sb.salesforce.instance_url,
             "session_id": sb.salesforce.session_id, "ca_bundle": sb.salesforce.ca_bundle, "max_retries": 0,
             "kpi_access": {"users": [names[1]], "profiles": ["Standard User"], "editors": [names[0]]}},
            {"name": "hs", "type": "hubspot", "base_url": sb.hubspot.base_url,
             "access_token": sb.hubspot.access_token, "max_retries": 0},
        ],
        "writeback": [
            {"name": "sf_reps", "source": "sf", "object": "User", "period": PERIOD,
             "fields": {"quota_attainment": "Quota_Attainment__c", "revenue_won": "Revenue_Won__c",
                        "calls": "Calls__c"},
             "period_field": "KPI_Period__c", "computed_at_field": "KPI_Computed_At__c"},
            {"name": "sf_history", "source": "sf", "object": "Rep_KPI__c", "period": PERIOD, "mode": "upsert",
             "external_id_field": "Rep_Period_Key__c", "name_field": "Name", "lookup_field": "Rep__c",
             "period_field": "Period__c", "fields": {"quota_attainment": "Quota_Attainment__c",
                                                     "win_rate": "Win_Rate__c"}},
            {"name": "hs_reps", "source": "hs", "object": "users", "period": PERIOD,
             "fields": {"quota_attainment": "spm_quota_attainment", "revenue_won": "spm_revenue_won"},
             "period_field": "spm_kpi_period"},
        ],
    }


def config(sb: Sandbox, tmp_path: Path) -> Config:
    return parse_config(document(sb, tmp_path), env={})


def writes(sb: Sandbox) -> dict[str, int]:
    sf, hs = sb.salesforce.stats()["by_endpoint"], sb.hubspot.stats()["by_endpoint"]
    return {**{e: sf.get(e, 0) for e in SF_WRITES}, **{e: hs.get(e, 0) for e in HS_WRITES}}


def salesforce_sdk(sb: Sandbox) -> Salesforce:
    session = requests.Session()
    session.trust_env = False
    session.verify = str(sb.salesforce.ca_bundle)
    return Salesforce(instance_url=sb.salesforce.instance_url, session_id=sb.salesforce.session_id,
                      session=session, version="62.0")


def test_setup_from_nothing_then_the_sdks_describe_write_and_read_the_fields(bare: Sandbox, tmp_path: Path) -> None:
    cfg = config(bare, tmp_path)
    result = setup(cfg)
    sf_plan, hs_plan = result.plans
    assert (sf_plan.count("create"), sf_plan.count("exists"), sf_plan.count("conflict")) == (44, 0, 0)
    assert (hs_plan.count("create"), hs_plan.count("exists"), hs_plan.count("conflict")) == (4, 0, 0)
    # 2 describes, 4 queries (permission sets, users, profiles, profile users), 1 CustomObject + 10
    # CustomField calls, 2 permission sets, 1 batch each of 2 object permissions, 20 field permissions
    # and 9 assignments
    assert dict(sf_plan.calls) == {"describe": 2, "query": 4, "tooling": 11, "sobjects": 2, "composite": 3}
    # properties list, group read, group create, 3 property creates
    assert sum(hs_plan.calls.values()) == 6
    assert writes(bare) == {"tooling_sobjects": 11, "composite_sobjects": 3, "sobject": 2,
                            "property_create": 3, "property_group_create": 1}

    sf = salesforce_sdk(bare)
    user = {f["name"]: f for f in sf.User.describe()["fields"]}
    assert [(user[n]["type"], user[n]["precision"], user[n]["scale"]) for n in
            ("Quota_Attainment__c", "Revenue_Won__c", "Calls__c")] == [
        ("percent", 18, 2), ("currency", 18, 2), ("double", 18, 0)]
    assert (user["KPI_Period__c"]["type"], user["KPI_Period__c"]["length"]) == ("string", 20)
    assert user["KPI_Computed_At__c"]["type"] == "datetime"
    kpi = {f["name"]: f for f in sf.Rep_KPI__c.describe()["fields"]}
    key = kpi["Rep_Period_Key__c"]
    assert (key["type"], key["length"], key["externalId"], key["unique"]) == ("string", 80, True, True)
    assert (kpi["Rep__c"]["referenceTo"], kpi["Rep__c"]["relationshipName"]) == (["User"], "Rep__r")
    assert kpi["Name"]["label"] == "Rep KPI Name"
    grants = sf.query("SELECT Field, PermissionsRead, PermissionsEdit FROM FieldPermissions")["records"]
    assert len(grants) == 20 and sum(g["PermissionsEdit"] for g in grants) == 10
    assert sf.query("SELECT Id FROM PermissionSetAssignment")["totalSize"] == 9
    objects = sf.query("SELECT SobjectType, PermissionsRead, PermissionsCreate, PermissionsEdit FROM ObjectPermissions "
                       "ORDER BY PermissionsEdit")["records"]
    assert [(o["SobjectType"], o["PermissionsRead"], o["PermissionsCreate"], o["PermissionsEdit"])
            for o in objects] == [("Rep_KPI__c", True, False, False), ("Rep_KPI__c", True, True, True)]

    hs = hubspot.Client.create(access_token=bare.hubspot.access_token, host=bare.hubspot.base_url)
    # the SDK's model drops numberDisplayHint (hubspot-api-client 12 does not know it): read the raw body
    attainment, revenue = (
        json.loads(hs.crm.properties.core_api.get_by_name("users", name, _preload_content=False).data)
        for name in ("spm_quota_attainment", "spm_revenue_won")
    )
    assert (attainment["type"], attainment["numberDisplayHint"], attainment["groupName"]) == (
        "number", "percentage", "spm_sync")
    assert (revenue["numberDisplayHint"], revenue["showCurrencySymbol"]) == ("currency", True)
    assert hs.crm.properties.groups_api.get_by_name("users", "spm_sync").label == "SPM Sync KPIs"

    # the write-back stage now writes these fields, names and periods included
    org, portal = bare.salesforce.org, bare.hubspot.portal
    user_ids, hs_users = org.ids("User")[:2], portal.ids("users")[:2]
    computed = datetime(2026, 3, 15, 6, 0, 0)
    with open_store(cfg) as store:
        store.executemany("INSERT INTO spm.reps (rep_id, source, crm_id, name) VALUES (?, ?, ?, ?)",
                          [("rep0", "sf", user_ids[0], "Jane Doe"), ("rep1", "sf", user_ids[1], "Sam Roe")])
        store.executemany("INSERT INTO spm.rep_identities (rep_id, source, crm_id, crm_user_id) VALUES (?, ?, ?, ?)",
                          [(f"rep{n}", "hs", None, portal.get("users", u)["hs_internal_user_id"])
                           for n, u in enumerate(hs_users)])
        store.executemany(
            "INSERT INTO spm.kpi_values (entity_type, entity_id, period, metric, value, computed_at, run_id) "
            "VALUES ('rep', ?, ?, ?, ?, ?, 'kpi-1')",
            [(rep, PERIOD, metric, value, computed) for rep, values in
             (("rep0", (0.402174, 125000.456, 41.6, 0.5)), ("rep1", (0.8125, 10.0, 3.0, 0.25)))
             for metric, value in zip(("quota_attainment", "revenue_won", "calls", "win_rate"), values, strict=True)])
        write_back(cfg, store, Run(job="writeback"))
    jane = sf.User.get(user_ids[0])
    assert (jane["Quota_Attainment__c"], jane["Revenue_Won__c"], jane["Calls__c"]) == (40.22, 125000.46, 42.0)
    assert (jane["KPI_Period__c"], jane["KPI_Computed_At__c"]) == (PERIOD, "2026-03-15T06:00:00.000+0000")
    rows = sf.query("SELECT Name, Rep__c, Period__c, Rep_Period_Key__c, Quota_Attainment__c, Win_Rate__c "
                    "FROM Rep_KPI__c ORDER BY Rep_Period_Key__c")["records"]
    assert [(r["Name"], r["Rep__c"], r["Period__c"], r["Rep_Period_Key__c"], r["Quota_Attainment__c"],
             r["Win_Rate__c"]) for r in rows] == [
        ("Jane Doe — 2026-03", user_ids[0], PERIOD, "rep0|2026-03", 40.22, 50.0),
        ("Sam Roe — 2026-03", user_ids[1], PERIOD, "rep1|2026-03", 81.25, 25.0),
    ]
    first = hs.crm.objects.basic_api.get_by_id(
        "users", hs_users[0], properties=["spm_quota_attainment", "spm_revenue_won", "spm_kpi_period"]).properties
    assert (first["spm_quota_attainment"], first["spm_revenue_won"], first["spm_kpi_period"]) == (
        "40.22", "125000.46", PERIOD)


def test_setup_again_changes_nothing(bare: Sandbox, tmp_path: Path) -> None:
    cfg = config(bare, tmp_path)
    setup(cfg)
    before = writes(bare)
    again = setup(cfg)
    sf_plan, hs_plan = again.plans
    assert (sf_plan.count("create"), sf_plan.count("exists"), hs_plan.count("create"), hs_plan.count("exists")) == (
        0, 44, 0, 4)
    assert writes(bare) == before
    # 2 describes; permission sets, object and field permissions, users, profiles, profile users, assignments
    assert dict(sf_plan.calls) == {"describe": 2, "query": 7}
    assert sum(hs_plan.calls.values()) == 2


def test_dry_run_plans_and_sends_nothing_that_changes_state(bare: Sandbox, tmp_path: Path) -> None:
    result = setup(config(bare, tmp_path), dry_run=True)
    assert {c.status for p in result.plans for c in p.changes} == {"create"}
    created = [(c.what, c.subject, c.detail) for c in result.plans[0].changes[:6]]
    assert created == [
        ("field", "User.Quota_Attainment__c", "Percent(18, 2)"),
        ("field", "User.Revenue_Won__c", "Currency(18, 2)"),
        ("field", "User.Calls__c", "Number(18, 0)"),
        ("field", "User.KPI_Period__c", "Text(20)"),
        ("field", "User.KPI_Computed_At__c", "DateTime"),
        ("object", "Rep_KPI__c", "custom object 'Rep KPI', Name: Text (Rep KPI Name)"),
    ]
    assert [(c.subject, c.detail) for c in result.plans[1].changes] == [
        ("users.spm_sync", "SPM Sync KPIs"),
        ("users.spm_quota_attainment", "number, shown as a percentage"),
        ("users.spm_revenue_won", "number, shown as currency"),
        ("users.spm_kpi_period", "string"),
    ]
    assert writes(bare) == dict.fromkeys((*SF_WRITES, *HS_WRITES), 0)
    assert bare.salesforce.org.find_object("Rep_KPI__c") is None
    assert "spm_quota_attainment" not in bare.hubspot.portal.properties["users"]


def test_a_field_of_another_type_is_a_conflict_and_nothing_is_created(
    bare: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bare.salesforce.org.add_field("User", custom_field("Quota_Attainment__c", "double", "Attainment",
                                                       precision=18, scale=4))
    cfg = config(bare, tmp_path)
    with pytest.raises(SetupConflict) as raised:
        setup(cfg)
    assert str(raised.value) == (
        "1 conflict(s), nothing was created: sf: User.Quota_Attainment__c exists as double; setup needs percent "
        "(double field Quota_Attainment__c)"
    )
    assert writes(bare) == dict.fromkeys((*SF_WRITES, *HS_WRITES), 0)

    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(document(bare, tmp_path), sort_keys=False))
    with pytest.raises(SystemExit) as exited:
        main(["--config", str(path), "writeback", "setup"])
    assert exited.value.code == 1
    out, err = capsys.readouterr()
    assert "sf: 43 to create, 0 already there, 1 conflicts" in " ".join(out.split())  # the plan is shown first
    assert err.strip().splitlines() == [f"error: {raised.value}"]


def test_a_missing_permission_is_one_clear_line(bare: Sandbox, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    bare.salesforce.org.denied.add("CustomizeApplication")
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(document(bare, tmp_path), sort_keys=False))
    with pytest.raises(SystemExit) as exited:
        main(["--config", str(path), "writeback", "setup", "--target", "sf_reps"])
    assert exited.value.code == 1
    assert capsys.readouterr().err.strip().splitlines() == [
        "error: source=sf object=User field=Quota_Attainment__c: creating field User.Quota_Attainment__c: the "
        "integration user lacks the Customize Application permission (403 INSUFFICIENT_ACCESS)"
    ]

    bare.hubspot.portal.revoked_schema_writes.add("users")
    with pytest.raises(ConnectorError) as raised:
        setup(config(bare, tmp_path), ["hs_reps"])
    assert str(raised.value) == (
        "source=hs object=users: creating property group users.spm_sync: HubSpot refused (403 MISSING_SCOPES): the "
        "private app lacks the scope to define properties (crm.schemas.<object>.write): grant it"
    )


def test_a_new_period_reaches_the_record_even_when_no_value_changed(bare: Sandbox, tmp_path: Path) -> None:
    document_ = document(bare, tmp_path)
    cfg = parse_config(document_, env={})
    setup(cfg, ["sf_reps"])
    user = bare.salesforce.org.ids("User")[0]
    with open_store(cfg) as store:
        store.execute("INSERT INTO spm.reps (rep_id, source, crm_id, name) VALUES ('rep0', 'sf', ?, 'Jane Doe')",
                      [user])
        store.executemany(
            "INSERT INTO spm.kpi_values (entity_type, entity_id, period, metric, value, run_id) "
            "VALUES ('rep', 'rep0', ?, ?, 0, 'kpi-1')",
            [(p, m) for p in (PERIOD, "2026-04") for m in ("quota_attainment", "revenue_won", "calls")])
        first = write_back(cfg, store, Run(job="writeback"), targets=["sf_reps"])
        document_["writeback"][0]["period"] = "2026-04"  # the 1st of April: every value is 0 again
        later = write_back(parse_config(document_, env={}), store, Run(job="writeback"), targets=["sf_reps"])
    assert (first.reports[0].sent, later.reports[0].sent) == (4, 1)  # 3 metrics + period; then the period only
    assert later.reports[0].counts()["unchanged"] == 3
    assert bare.salesforce.org.get("User", user)["KPI_Period__c"] == "2026-04"
