"""Fixtures: a migrated temp DuckDB store and configs naming the sources under test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from spm_sync.config import Config
from spm_sync.normalize import NormalizeResult, normalize
from spm_sync.runs import Run
from spm_sync.store import Store, open_store

SF = {"name": "sf", "type": "salesforce", "instance_url": "https://example.my.salesforce.com", "session_id": "x"}
HS = {"name": "hs", "type": "hubspot", "access_token": "x"}
FILES = {"name": "erp", "type": "files"}


def make_config(path: Path, *sources: dict[str, Any], currency: str = "USD") -> Config:
    return Config.model_validate(
        {"store": {"path": str(path)}, "reporting": {"currency": currency}, "sources": list(sources)}
    )


@pytest.fixture
def store(duckdb_path: Path) -> Iterator[Store]:
    with open_store(make_config(duckdb_path)) as opened:
        yield opened


@pytest.fixture
def config(duckdb_path: Path) -> Callable[..., Config]:
    def build(*sources: dict[str, Any], currency: str = "USD") -> Config:
        return make_config(duckdb_path, *sources, currency=currency)

    return build


def rows(store: Store, table: str, columns: str = "*", order: str = "ALL") -> list[tuple[Any, ...]]:
    return store.fetchall(f"SELECT {columns} FROM spm.{table} ORDER BY {order}")


def new_run() -> Run:
    return Run(job="normalize")


def normalize_raw(store: Store, cfg: Config, *builders: Callable[[Store], None]) -> tuple[Store, NormalizeResult]:
    """Build raw tables with each builder, then normalize them."""
    for builder in builders:
        builder(store)
    return store, normalize(cfg, store, new_run())
