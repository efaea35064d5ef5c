"""Many sources at once on one PostgreSQL store: 8 sources synced by 4 concurrent Dagster worker processes
leave exactly the store a serial run leaves (raw tables, spm.*, KPI values)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

dg = pytest.importorskip("dagster", reason="needs the extra: pip install 'spm-sync[dagster]'")

from spm_sync import jobs  # noqa: E402
from spm_sync.config import load_config  # noqa: E402
from spm_sync.integrations.dagster import definitions  # noqa: E402
from spm_sync.sandbox import Sandbox  # noqa: E402
from spm_sync.store import Store, open_store  # noqa: E402
from tests.sandbox_sources import sandbox_sources  # noqa: E402

pytestmark = pytest.mark.postgres

AS_OF = date(2026, 3, 15)
CONFIG_ENV = "SPM_TEST_DAGSTER_CONFIG"
# Six HubSpot portals (three objects each) and two Salesforce orgs keep 16 syncs quick; every object
# type is covered by the connector tests.
PORTALS = {seed: "hs" for seed in range(11, 17)} | {17: "sf", 18: "sf"}
HUBSPOT_OBJECTS = ["deals", "companies", "users"]
RUN_DEPENDENT = {"computed_at", "run_id", "_dlt_load_id", "_dlt_id", "_dlt_parent_id"}


def all_assets_job() -> dg.JobDefinition:
    """Loaded again in each worker process (Dagster reconstructs the job from this function)."""
    return definitions(os.environ[CONFIG_ENV]).resolve_job_def("spm_sync_all")


@pytest.fixture(scope="module")
def portals() -> Iterator[list[dict[str, Any]]]:
    """Eight sandboxes seeded differently, one source each."""
    with ExitStack() as stack:
        sources: list[dict[str, Any]] = []
        for seed, kind in PORTALS.items():
            sb = stack.enter_context(Sandbox(seed=seed, scale=1, as_of=AS_OF, kpi_fields=False))
            entry = {**sandbox_sources(sb)[kind], "name": f"{kind}{seed}"}
            sources.append(entry | {"objects": HUBSPOT_OBJECTS} if kind == "hs" else entry)
        yield sources


def write_config(folder: Path, dsn: str, sources: list[dict[str, Any]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    document = {"store": {"backend": "postgres", "dsn": dsn, "state_dir": "state"},
                "as_of": AS_OF.isoformat(), "sources": sources}
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def store_contents(store: Store) -> dict[str, list[str]]:
    """Every row of every raw and spm table, run-dependent columns left out, sorted."""
    tables = store.fetchall(
        "SELECT table_schema, table_name FROM information_schema.tables WHERE (table_schema = 'spm' "
        "OR table_schema LIKE 'raw\\_%') AND table_name NOT LIKE '\\_dlt\\_%' AND table_type = 'BASE TABLE'"
    )
    contents = {}
    for schema, table in tables:
        columns = [c for c in store.columns(schema, table) if c not in RUN_DEPENDENT]
        quoted = ", ".join(f'"{c}"' for c in columns)
        rows = store.fetchall(f'SELECT {quoted} FROM "{schema}"."{table}"')
        contents[f"{schema}.{table}"] = sorted(repr(row) for row in rows)
    return contents


@pytest.mark.timeout(900)  # ~45 s on an idle 2-core machine; far more when it is shared
def test_eight_sources_on_four_workers_equal_the_serial_run(
    portals: list[dict[str, Any]], pg_dsn: str, second_pg_dsn: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    serial = load_config(write_config(tmp_path / "serial", second_pg_dsn, portals))
    jobs.run_all(serial)
    with open_store(serial) as store:
        expected = store_contents(store)

    path = write_config(tmp_path / "parallel", pg_dsn, portals)
    monkeypatch.setenv(CONFIG_ENV, str(path))
    execution = {"multiprocess": {"max_concurrent": 4, "start_method": {"forkserver": {
        "preload_modules": ["spm_sync.integrations.dagster", "dlt", "spm_sync.extract"]}}}}
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        result = dg.execute_job(dg.reconstructable(all_assets_job), instance=instance,
                                run_config={"execution": {"config": execution}})
        failures = [e.event_specific_data for e in result.all_events if e.is_failure]
        assert result.success, failures
        starts = {e.step_key: e.pid for e in result.all_events if e.event_type_value == "STEP_START"}
    assert {f"raw_{s['name']}" for s in portals} | {"spm", "kpi_values"} <= set(starts)
    assert len(set(starts.values())) >= 4  # each step in a worker process of its own
    with open_store(load_config(path)) as store:
        actual = store_contents(store)
        runs = store.fetchall("SELECT job, subject, status FROM spm_state.runs ORDER BY job, subject")
    assert [tuple(r) for r in runs] == [("kpis", None, "succeeded"), ("normalize", None, "succeeded")] + sorted(
        ("sync", s["name"], "succeeded") for s in portals)
    assert sum(len(rows) for rows in expected.values()) > 1000
    assert sorted(actual) == sorted(expected)
    different = [table for table in expected if actual[table] != expected[table]]
    assert different == []
