"""Shared fixtures: temp stores (DuckDB, PostgreSQL) and a quiet environment."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")

PG_ADMIN_DSN = os.environ.get("SPM_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")


@pytest.fixture
def duckdb_path(tmp_path: Path) -> Path:
    return tmp_path / "state" / "spm_sync.duckdb"


@contextmanager
def fresh_pg_database() -> Iterator[str]:
    """A new PostgreSQL database, dropped afterwards; skipped when no server answers (a failure under CI=true)."""
    psycopg = pytest.importorskip("psycopg")
    try:
        admin = psycopg.connect(PG_ADMIN_DSN, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        reason = f"no PostgreSQL server at {PG_ADMIN_DSN}: {str(exc).strip().splitlines()[0]}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    name = f"spm_test_{uuid.uuid4().hex[:12]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield PG_ADMIN_DSN.rsplit("/", 1)[0] + f"/{name}"
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture
def pg_dsn() -> Iterator[str]:
    """A fresh PostgreSQL database for the test."""
    with fresh_pg_database() as dsn:
        yield dsn


@pytest.fixture
def second_pg_dsn() -> Iterator[str]:
    """Another fresh database, for tests that compare two stores."""
    with fresh_pg_database() as dsn:
        yield dsn
