"""Connections to the store and its migrations.

DuckDB is the default: one file under `state/`. PostgreSQL is the second backend; the layout's
DuckDB DDL is transpiled with sqlglot so both stay defined in one place (`layout.py`).
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import duckdb

from spm_sync.config import Config, StoreConfig
from spm_sync.errors import ConfigError, StoreBusy, StoreError
from spm_sync.store.layout import BOOTSTRAP, MIGRATIONS, MIGRATIONS_TABLE, Migration

PASSTHROUGH = re.compile(r"\s*SET\s", re.IGNORECASE)  # session settings mean the same in both dialects


@lru_cache(maxsize=1024)
def _to_postgres(statement: str) -> str:
    """DuckDB SQL transpiled once per distinct statement (run-time statements repeat: ledger, runs)."""
    import sqlglot

    return sqlglot.transpile(statement, read="duckdb", write="postgres")[0]


def to_pyformat(statement: str) -> str:
    """`?` placeholders to psycopg's `%s` outside string literals; `%` inside literals escaped as `%%`."""
    parts = re.split(r"('(?:[^']|'')*')", statement)
    return "".join(part.replace("%", "%%") if i % 2 else part.replace("?", "%s") for i, part in enumerate(parts))


MIGRATION_LOCK_KEY = 0x73706D5F6D696772  # PostgreSQL advisory lock key of `migrate` ("spm_migr")


class Store:
    """One open store. Thread-safe for our use: statements are serialised by a lock."""

    def __init__(self, config: StoreConfig, connection: Any) -> None:
        self.config = config
        self.backend = config.backend
        self.connection = connection
        self._lock = threading.RLock()

    # --- statements -------------------------------------------------------------------------
    def sql(self, statement: str) -> str:
        """The statement in this backend's dialect (statements are written for DuckDB)."""
        if self.backend == "duckdb" or PASSTHROUGH.match(statement):
            return statement
        return _to_postgres(statement)

    def _pg(self, statement: str, params: Sequence[Any] | None) -> tuple[str, Sequence[Any] | None]:
        """PostgreSQL text and params: placeholders converted only when there are params to bind."""
        text = self.sql(statement)
        return (to_pyformat(text), params) if params else (text, None)

    def _query(self, statement: str, params: Sequence[Any] | None) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Column names and rows of one statement, on either backend."""
        with self._lock:
            if self.backend == "duckdb":
                result = self.connection.execute(statement, params or [])
                return [d[0] for d in result.description or ()], result.fetchall()
            with self.connection.cursor() as cursor:
                cursor.execute(*self._pg(statement, params))
                names = [d[0] for d in cursor.description or ()]
                return names, cursor.fetchall() if cursor.description else []

    def execute(self, statement: str, params: Sequence[Any] | None = None) -> None:
        with self._lock:
            if self.backend == "duckdb":
                self.connection.execute(statement, params or [])
            else:
                with self.connection.cursor() as cursor:
                    cursor.execute(*self._pg(statement, params))

    def fetchall(self, statement: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        return self._query(statement, params)[1]

    def fetchone(self, statement: str, params: Sequence[Any] | None = None) -> tuple[Any, ...] | None:
        rows = self.fetchall(statement, params)
        return rows[0] if rows else None

    def scalar(self, statement: str, params: Sequence[Any] | None = None) -> Any:
        """The first column of the first row, for queries that always return one (count, lock calls)."""
        row = self.fetchone(statement, params)
        if row is None:
            raise StoreError(f"query returned no row: {statement}")
        return row[0]

    def fetch_dicts(self, statement: str, params: Sequence[Any] | None = None) -> list[dict[str, Any]]:
        names, rows = self._query(statement, params)
        return [dict(zip(names, row, strict=True)) for row in rows]

    def executemany(self, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        with self._lock:
            if self.backend == "duckdb":
                self.connection.executemany(statement, rows)
            else:
                with self.connection.cursor() as cursor:
                    cursor.executemany(to_pyformat(self.sql(statement)), rows)

    @contextmanager
    def transaction(self) -> Iterator[Store]:
        """All or nothing: readers keep seeing the old tables until commit."""
        with self._lock:
            if self.backend == "duckdb":
                self.connection.execute("BEGIN TRANSACTION")
                try:
                    yield self
                except BaseException:
                    self.connection.execute("ROLLBACK")
                    raise
                self.connection.execute("COMMIT")
            else:
                with self.connection.transaction():
                    yield self

    def table_exists(self, schema: str, table: str) -> bool:
        row = self.fetchone(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
            [schema, table],
        )
        return bool(row and row[0])

    def columns(self, schema: str, table: str) -> list[str]:
        rows = self.fetchall(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ? "
            "ORDER BY ordinal_position",
            [schema, table],
        )
        return [r[0] for r in rows]

    # --- migrations -------------------------------------------------------------------------
    def applied_versions(self) -> set[int]:
        if not self.table_exists("spm_state", "schema_migrations"):
            return set()
        return {int(r[0]) for r in self.fetchall(f"SELECT version FROM {MIGRATIONS_TABLE}")}

    def version(self) -> int:
        if not self.table_exists("spm_state", "schema_migrations"):
            return 0
        row = self.fetchone(f"SELECT max(version) FROM {MIGRATIONS_TABLE}")
        return int(row[0]) if row and row[0] is not None else 0

    def migrate(self, migrations: Sequence[Migration] = MIGRATIONS) -> list[int]:
        """Apply every migration not yet recorded, in version order; returns those applied (idempotent).

        Checked by set, not by the highest version, so a migration numbered below one already
        applied (several modules own version ranges) is still applied.
        """
        with self._one_migrator():
            for statement in BOOTSTRAP:
                self.execute(statement)
            done = self.applied_versions()
            applied = []
            for migration in sorted(migrations, key=lambda m: m.version):
                if migration.version in done:
                    continue
                with self.transaction():
                    for statement in migration.statements:
                        self.execute(statement)
                    self.execute(
                        f"INSERT INTO {MIGRATIONS_TABLE} (version, name, applied_at) VALUES (?, ?, ?)",
                        [migration.version, migration.name, datetime.now(UTC).replace(tzinfo=None)],
                    )
                applied.append(migration.version)
        return applied

    @contextmanager
    def _one_migrator(self) -> Iterator[None]:
        """PostgreSQL: one session migrates at a time; processes starting together on a new database
        would otherwise race on `CREATE SCHEMA/TABLE IF NOT EXISTS` (unique violations in the catalog).
        DuckDB needs nothing: one process at a time holds the file."""
        if self.backend != "postgres":
            yield
            return
        self.execute("SELECT pg_advisory_lock(?)", [MIGRATION_LOCK_KEY])
        try:
            yield
        finally:
            self.execute("SELECT pg_advisory_unlock(?)", [MIGRATION_LOCK_KEY])

    # --- dlt ----------------------------------------------------------------------------------
    @contextmanager
    def extract_memory(self) -> Iterator[None]:
        """DuckDB's memory capped at `extract_memory_limit` for dlt's loads and merges (they spill to
        disk instead of growing RSS), then set back, so normalize and metrics keep the whole allowance.
        A smaller `memory_limit` of the store wins; PostgreSQL is left alone."""
        cap = extract_memory_cap(self.config.extract_memory_limit, machine_memory_bytes())
        if self.backend != "duckdb" or cap is None:
            yield
            return
        configured = self.config.memory_limit
        own = extract_memory_cap(configured, 0) if configured else None
        if own is not None and own <= cap:
            yield
            return
        self.execute(f"SET memory_limit = '{cap // (1 << 20)}MiB'")
        try:
            yield
        finally:
            self.execute(f"SET memory_limit = '{configured}'" if configured else "RESET memory_limit")

    def dlt_destination(self) -> Any:
        """The dlt destination that loads raw tables into this same store."""
        import dlt

        if self.backend == "duckdb":
            return dlt.destinations.duckdb(credentials=self.connection)
        from dlt.destinations.impl.postgres.configuration import PostgresCredentials

        credentials = PostgresCredentials(self.config.postgres_dsn())
        if credentials.password is None:  # dlt requires one; a DSN for trust/peer/.pgpass auth has none
            credentials.password = ""
        return dlt.destinations.postgres(credentials=credentials)

    def close(self) -> None:
        with self._lock:
            self.connection.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def json_column(value: Any) -> Any:
    """A JSON column's value as Python: DuckDB hands back its text, PostgreSQL's jsonb a parsed value."""
    return json.loads(value) if isinstance(value, str) else value


def ensure_folder(path: Path, key: str) -> Path:
    """Create `path` (and parents) or fail as a config error naming the config key that points there."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create folder {path}: {exc.strerror or exc}", key=key) from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise ConfigError(f"folder {path} is not writable", key=key)
    return path


AUTO_EXTRACT_CAP_BYTES = 1 << 30
AUTO_EXTRACT_SHARE = 0.25
_UNITS = {"KB": 1000, "MB": 1000**2, "GB": 1000**3, "TB": 1000**4,
          "KIB": 1 << 10, "MIB": 1 << 20, "GIB": 1 << 30, "TIB": 1 << 40}


def machine_memory_bytes() -> int:
    """Physical memory, or the cgroup's limit when the process runs under a smaller one."""
    total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
    except OSError:
        return total
    return min(total, int(limit)) if limit.isdigit() else total


def extract_memory_cap(setting: str, machine_bytes: int) -> int | None:
    """Bytes DuckDB may use while dlt merges raw tables (`store.extract_memory_limit`); None: no cap."""
    text = setting.strip().upper()
    if text == "OFF":
        return None
    if text == "AUTO":
        return min(AUTO_EXTRACT_CAP_BYTES, int(machine_bytes * AUTO_EXTRACT_SHARE))
    if text.endswith("%"):
        return int(machine_bytes * float(text[:-1]) / 100)
    number = text.rstrip("KMGTIB ")
    return int(float(number) * _UNITS[text[len(number):].strip()])


def _connect_duckdb(path: Path, wait_s: float, memory_limit: str | None = None) -> Any:
    """Open the file; another process holding it (DuckDB allows one writer process) is waited for."""
    ensure_folder(path.parent, "store.path")
    deadline = time.monotonic() + wait_s
    while True:
        try:
            return duckdb.connect(str(path), config={"memory_limit": memory_limit} if memory_limit else {})
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise StoreError(f"cannot open DuckDB store {path}: {exc}") from None
            if time.monotonic() >= deadline:
                raise StoreBusy(
                    f"DuckDB store {path} is in use by another spm-sync process; retry when it finishes"
                ) from None
            time.sleep(0.25)


def _connect_postgres(dsn: str) -> Any:
    try:
        import psycopg
    except ImportError:
        raise StoreError("backend postgres needs the extra: pip install 'spm-sync[postgres]'") from None
    try:
        return psycopg.connect(dsn, autocommit=True)
    except psycopg.OperationalError as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else "connection failed"
        raise StoreError(f"cannot reach PostgreSQL store: {first_line}") from None


def open_store(config: Config | StoreConfig, *, migrate: bool = True, wait_s: float = 30.0) -> Store:
    store_config = config.store if isinstance(config, Config) else config
    if store_config.backend == "duckdb":
        connection = _connect_duckdb(store_config.path, wait_s, store_config.memory_limit)
    else:
        connection = _connect_postgres(store_config.postgres_dsn())
    store = Store(store_config, connection)
    if migrate:
        store.migrate()
    return store
