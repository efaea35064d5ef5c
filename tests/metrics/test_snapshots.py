"""The compiled SQL of the built-in KPI definitions, compared verbatim with tests/metrics/snapshots/.

A change to kpis.yaml or the compiler shows up here as a reviewable SQL diff. After an intended
change: SPM_UPDATE_SNAPSHOTS=1 .venv/bin/pytest tests/metrics/test_snapshots.py
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import sqlglot

from spm_sync.config import parse_config
from spm_sync.metrics.compiler import compile_plan
from spm_sync.metrics.definitions import load_catalog

SNAPSHOTS = Path(__file__).parent / "snapshots"
STEPS = compile_plan(load_catalog(parse_config({"as_of": "2026-03-15"}))).steps  # `:today` pinned


def _file(index: int, name: str) -> Path:
    return SNAPSHOTS / f"{index:02d}_{re.sub(r'[^a-z0-9_]+', '_', name.lower())}.sql"


@pytest.mark.parametrize("index", range(len(STEPS)), ids=[s.name for s in STEPS])
def test_compiled_sql_matches_snapshot(index: int) -> None:
    step = STEPS[index]
    path = _file(index, step.name)
    if os.environ.get("SPM_UPDATE_SNAPSHOTS") == "1":
        SNAPSHOTS.mkdir(exist_ok=True)
        path.write_text(step.sql + "\n")
    assert path.exists(), f"no snapshot {path.name}: run with SPM_UPDATE_SNAPSHOTS=1"
    assert step.sql + "\n" == path.read_text()


def test_no_stale_snapshot_files() -> None:
    expected = {_file(i, s.name).name for i, s in enumerate(STEPS)}
    assert {p.name for p in SNAPSHOTS.glob("*.sql")} == expected


@pytest.mark.parametrize("index", range(len(STEPS)), ids=[s.name for s in STEPS])
def test_compiled_sql_transpiles_to_postgres(index: int) -> None:
    """PostgreSQL is the second backend: Store.sql() must be able to translate every statement."""
    (postgres,) = sqlglot.transpile(STEPS[index].sql, read="duckdb", write="postgres")
    assert "MATERIALIZED" in postgres or "MATERIALIZED" not in STEPS[index].sql
