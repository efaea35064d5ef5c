"""Snapshots of the SQL the mappings compile to (tests/normalize/snapshots/*.sql).

Regenerate after an intended change: SPM_UPDATE_SNAPSHOTS=1 pytest tests/normalize/test_sql_snapshots.py
and review the diff.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest

from spm_sync.normalize import build, load_mapping, quality
from spm_sync.normalize.compile import SourceRef, compile_part
from spm_sync.normalize.run import describer, raw_catalog
from tests.normalize.rawdata import files_raw, hubspot_raw, salesforce_raw

SNAPSHOTS = Path(__file__).parent / "snapshots"
CASES = [
    # (snapshot name, source type, source name, target, part index)
    ("salesforce_opportunities", "salesforce", "sf", "opportunities", 0),
    ("salesforce_activities_task", "salesforce", "sf", "activities", 0),
    ("hubspot_opportunities", "hubspot", "hs", "opportunities", 0),
    ("hubspot_stage_events", "hubspot", "hs", "stage_events", 0),
    ("files_quotas", "files", "erp", "quotas", 0),
]


def _check(name: str, text: str) -> None:
    path = SNAPSHOTS / f"{name}.sql"
    if os.environ.get("SPM_UPDATE_SNAPSHOTS") == "1":
        path.write_text(text)
    assert path.exists(), f"no snapshot {path.name}: run with SPM_UPDATE_SNAPSHOTS=1 and review it"
    assert text == path.read_text()


@pytest.fixture
def raw_store(store):
    salesforce_raw(store)
    hubspot_raw(store)
    files_raw(store)
    store.execute("SET TimeZone = 'UTC'")
    return store


@pytest.mark.parametrize(("name", "source_type", "source", "target", "index"), CASES)
def test_compiled_part(raw_store, name, source_type, source, target, index):
    mapping = load_mapping(source_type)
    ref = SourceRef(source, 0, f"raw_{source}")
    compiled = compile_part(
        mapping, target, mapping.parts(target)[index], ref, raw_catalog(raw_store, ref.dataset),
        describer(raw_store), f"{source} {target}",
    )
    assert compiled.sql is not None
    _check(name, compiled.sql + "\n")


def test_build_statements():
    statements = [
        build.fx("USD"), build.IDENTITIES, build.team_canon({"Boston": "Boston Sales"}),
        build.team_override(date(2026, 3, 15)), build.mirror_links("opportunities", "sf"),
        *(sql for _, sql in build.BUILD_ORDER), *build.observe_teams(date(2026, 3, 15)),
    ]
    checks = [*quality.checks("USD"), *quality.credit_checks(["Revenue"])]
    statements += [quality.insert(check, "RUN") for check in checks]
    _check("build", ";\n\n".join(statements) + ";\n")
