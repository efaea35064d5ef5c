"""Input fingerprints: normalize and kpis skip a rebuild whose inputs are the same as the last one's.

Why: a no-change `run` cycle would otherwise rebuild every spm table and every KPI from unchanged rows,
which at scale is most of the cycle. What each stage reads is hashed, and the digest is kept in the
run's details (`inputs`); a stage whose digest equals that of the last successful run of its job
keeps that run's output (recorded as `skipped`) instead of rebuilding it.

- normalize reads the raw tables: per source, the last sync or backfill that may have changed them
  (`raw_changed` in its details: rows loaded, unless a files reload identical to the previous one, a
  `--full` refresh, a recovered package; any run that did not succeed counts as a change, as it may
  have loaded part), and each raw table's row count; the config (mappings included, by content), the
  day (team history and crediting use it) and its own code;
- kpis read spm.* (named by the normalize run that built them, `built_by`), the config (KPI
  definitions included), the day (current periods) and their own code.

Raw tables are written by syncs only: a row changed there by hand is seen by the next normalize that
runs for another reason (a sync that loads rows, a new day, a config change) or with `--rebuild`.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from spm_sync.config import Config
from spm_sync.store import Store, json_column

PACKAGE = Path(__file__).resolve().parent
CODE = {"normalize": ("normalize", "crediting", "mappings", "store"), "kpis": ("metrics", "store")}


@lru_cache(maxsize=4)
def code_digest(job: str) -> str:
    """The stage's own code and shipped definitions (an upgrade rebuilds once)."""
    digest = hashlib.sha256()
    for folder in CODE[job]:
        for path in sorted((PACKAGE / folder).rglob("*")):
            if path.suffix in (".py", ".yaml", ".sql") and path.is_file():
                digest.update(str(path.relative_to(PACKAGE)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _config_part(cfg: Config) -> str:
    """The whole config (secrets masked), plus the content of every own mapping file it names."""
    mappings = {s.name: s.mapping.read_text() for s in cfg.sources if s.mapping is not None}
    return json.dumps([cfg.model_dump(mode="json"), mappings], sort_keys=True, default=str)


def raw_state(store: Store, cfg: Config) -> list[list[Any]]:
    """Per configured source, the last sync or backfill that may have changed its raw tables, and every
    raw table's row count (a table dropped or filled outside a run changes those)."""
    names = [source.name for source in cfg.sources]
    marks = ", ".join("?" for _ in names)
    changed: dict[str, str] = {}
    for subject, run_id, status, details in store.fetchall(
        f"SELECT subject, run_id, status, details FROM spm_state.runs WHERE job IN ('sync', 'backfill') "
        f"AND subject IN ({marks}) ORDER BY started_at DESC",
        names,
    ):
        if str(subject) not in changed and (status != "succeeded" or _details(details).get("raw_changed", True)):
            changed[str(subject)] = f"{run_id} {status}"  # a running sync that loads later changes it
        if len(changed) == len(names):
            break
    tables = store.fetchall(
        f"SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema IN ({marks}) "
        "ORDER BY 1, 2",
        [f"raw_{name}" for name in names],
    )
    data = [(schema, table) for schema, table in tables if not str(table).startswith("_dlt_")]  # dlt's own
    counts = store.fetchall(" UNION ALL ".join(
        f"SELECT '{schema}', '{table}', count(*) FROM \"{schema}\".\"{table}\"" for schema, table in data
    )) if data else []
    return [[name, changed.get(name)] for name in names] + [[str(v) for v in row] for row in counts]


def _digest(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def normalize_inputs(cfg: Config, store: Store, as_of: date) -> str:
    return _digest(code_digest("normalize"), _config_part(cfg), raw_state(store, cfg), as_of.isoformat())


def kpis_inputs(cfg: Config, store: Store, as_of: date) -> str:
    row = store.fetchone(
        "SELECT run_id, details FROM spm_state.runs WHERE job = 'normalize' AND status = 'succeeded' "
        "ORDER BY started_at DESC LIMIT 1"
    )
    built_by = (_details(row[1]).get("built_by") or row[0]) if row else None
    return _digest(code_digest("kpis"), _config_part(cfg), built_by, as_of.isoformat())


def _details(value: Any) -> dict[str, Any]:
    return json_column(value) or {}


def reusable(store: Store, job: str, digest: str) -> tuple[str, dict[str, int], dict[str, Any]] | None:
    """(run id, records, details) of the last successful run of `job` when its inputs were `digest`."""
    row = store.fetchone(
        "SELECT run_id, records, details FROM spm_state.runs WHERE job = ? AND subject IS NULL "
        "AND status = 'succeeded' ORDER BY started_at DESC LIMIT 1",
        [job],
    )
    if row is None:
        return None
    details = _details(row[2])
    if details.get("inputs") != digest:
        return None
    return str(row[0]), {str(k): int(v) for k, v in _details(row[1]).items()}, details
