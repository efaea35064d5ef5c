from __future__ import annotations

from pathlib import Path

import pytest

from spm_sync.config import StoreConfig
from spm_sync.store import open_store
from spm_sync.store.layout import LATEST_VERSION, MIGRATIONS, Migration


def test_migrations_create_schemas_and_are_idempotent(duckdb_path: Path) -> None:
    with open_store(StoreConfig(path=duckdb_path)) as store:
        assert store.version() == LATEST_VERSION
        assert store.migrate() == []
        assert store.table_exists("spm", "opportunities")
        assert store.table_exists("spm_state", "runs")
        assert "amount_rc" in store.columns("spm", "opportunities")
    with open_store(StoreConfig(path=duckdb_path)) as again:
        assert again.migrate() == []
        rows = again.fetchall("SELECT version FROM spm_state.schema_migrations ORDER BY version")
        assert [r[0] for r in rows] == [m.version for m in MIGRATIONS]


def test_upgrade_from_an_older_version(duckdb_path: Path) -> None:
    with open_store(StoreConfig(path=duckdb_path), migrate=False) as store:
        assert store.migrate(MIGRATIONS[:1]) == [1]
        store.execute("INSERT INTO spm.teams VALUES ('t1', 'Team One', NULL)")
        newer = (*MIGRATIONS, Migration(999, "test column", ("ALTER TABLE spm.teams ADD COLUMN region TEXT",)))
        applied = store.migrate(newer)
        assert applied[-1] == 999
        assert store.version() == 999
        assert store.fetchall("SELECT team_id, region FROM spm.teams") == [("t1", None)]


def test_failed_migration_rolls_back(duckdb_path: Path) -> None:
    with open_store(StoreConfig(path=duckdb_path)) as store:
        broken = (*MIGRATIONS, Migration(998, "broken", ("CREATE TABLE spm.half (a INT)", "SELEKT 1")))
        with pytest.raises(Exception, match="syntax error"):
            store.migrate(broken)
        assert store.version() == LATEST_VERSION
        assert not store.table_exists("spm", "half")


def test_schema_named_file_is_rejected() -> None:
    with pytest.raises(ValueError, match="ambiguous reference to catalog or schema"):
        StoreConfig(path=Path("state/spm.duckdb"))


@pytest.mark.postgres
def test_postgres_backend_migrates(pg_dsn: str) -> None:
    with open_store(StoreConfig(backend="postgres", dsn=pg_dsn)) as store:
        assert store.version() == LATEST_VERSION
        assert store.table_exists("spm", "kpi_values")
        store.execute("INSERT INTO spm.teams VALUES (?, ?, ?)", ["t1", "Team", None])
        assert store.fetchall("SELECT team_id, name FROM spm.teams") == [("t1", "Team")]
        assert store.migrate() == []


def test_a_lower_numbered_migration_added_later_is_still_applied(duckdb_path: Path) -> None:
    with open_store(StoreConfig(path=duckdb_path)) as store:
        late = Migration(5, "late low number", ("CREATE TABLE spm.late (a INT)",))
        assert store.migrate((*MIGRATIONS, late)) == [5]
        assert store.table_exists("spm", "late")
        assert store.migrate((*MIGRATIONS, late)) == []


def test_postgres_placeholders_leave_literals_alone() -> None:
    from spm_sync.store.store import to_pyformat

    assert to_pyformat("SELECT '?', 'a%b' WHERE x = ? AND y LIKE 'z%'") == (
        "SELECT '?', 'a%%b' WHERE x = %s AND y LIKE 'z%%'"
    )


@pytest.mark.postgres
def test_postgres_literals_with_question_marks_and_percent(pg_dsn: str) -> None:
    with open_store(StoreConfig(backend="postgres", dsn=pg_dsn)) as store:
        assert store.fetchall("SELECT '?' || ?, 'a%' LIKE 'a%'", ["x"]) == [("?x", True)]
        assert store.fetchall("SELECT 'a%' LIKE 'a%'") == [(True,)]


GIB = 1 << 30


@pytest.mark.parametrize(
    ("setting", "machine", "cap"),
    [
        ("auto", 16 * GIB, GIB),  # 1 GiB on a large machine
        ("auto", 2 * GIB, GIB // 2),  # a quarter of a small one
        ("10%", 8 * GIB, int(0.8 * GIB)),
        ("2GB", 8 * GIB, 2_000_000_000),
        ("512 MiB", 8 * GIB, 512 << 20),
        ("off", 8 * GIB, None),
    ],
)
def test_extract_memory_cap(setting: str, machine: int, cap: int | None) -> None:
    from spm_sync.store.store import extract_memory_cap

    assert extract_memory_cap(setting, machine) == cap


def _memory_limit(store: object) -> str:
    return store.fetchone("SELECT current_setting('memory_limit')")[0]  # type: ignore[attr-defined]


def test_extract_memory_is_capped_then_set_back(duckdb_path: Path) -> None:
    with open_store(StoreConfig(path=duckdb_path, extract_memory_limit="300MiB")) as store:
        before = _memory_limit(store)
        with store.extract_memory():
            assert _memory_limit(store) == "300.0 MiB"
        assert _memory_limit(store) == before
    # a smaller cap of the store's own is kept during extract too
    capped = StoreConfig(path=duckdb_path, memory_limit="200MB", extract_memory_limit="300MiB")
    with open_store(capped) as store, store.extract_memory():
        assert _memory_limit(store) == "190.7 MiB"
