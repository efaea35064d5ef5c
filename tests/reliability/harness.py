"""Shared parts of the reliability suite: a config pointing at the sandbox, and the real CLI as a subprocess."""

from __future__ import annotations

import math
import os
import socket
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

from spm_sync.config import load_config
from spm_sync.demo import DEMO_PERIOD, HS_FIELDS, SF_FIELDS, demo_config_document
from spm_sync.sandbox import Sandbox
from spm_sync.store import open_store

ROOT = Path(__file__).resolve().parents[2]
# columns that differ between two correct runs: run ids and wall-clock stamps (compared without "_" and
# case); dlt's own `_dlt*` row and load ids are left out as well
VOLATILE = {"systemmodstamp", "lastmodifieddate", "updatedat", "hslastmodifieddate", "computedat", "runid", "sentat"}


def write_config(folder: Path, sandbox: Any, **changes: Any) -> Path:
    """The demo's config (both CRMs, write-back to both) in `folder`; `changes` replace top-level keys
    or, as `sf={...}` / `hs={...}`, keys of one source."""
    document = demo_config_document(sandbox, folder)
    document["writeback"] = [  # the demo's rep targets, on the KPI fields a default sandbox already has
        {"name": f"{source}_reps", "source": source, "object": obj, "entity": "rep", "period": DEMO_PERIOD,
         "fields": fields}
        for source, obj, fields in (("sf", "User", SF_FIELDS), ("hs", "users", HS_FIELDS))
    ]
    for source in document["sources"]:
        source.update(changes.pop(source["name"], {}))
    document.update(changes)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def cli_env(**extra: str) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "RUNTIME__DLTHUB_TELEMETRY": "false",
        "COLUMNS": "200",
        **extra,
    }


def spm(config: Path, *args: str, timeout: float = 180, **env: str) -> subprocess.CompletedProcess[str]:
    """`spm-sync --config CONFIG ARGS` in a fresh process, from the config's folder."""
    return subprocess.run(
        [sys.executable, "-m", "spm_sync.cli", "--config", str(config), *args],
        capture_output=True,
        text=True,
        cwd=config.parent,
        env=cli_env(**env),
        timeout=timeout,
    )


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def error_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("error: ")]


def count_applied_writes(sandbox: Sandbox) -> Counter[str]:
    """Count every write the CRM applies, per record (wraps the emulators' own write paths)."""
    applied: Counter[str] = Counter()
    org, portal = sandbox.salesforce.org, sandbox.hubspot.portal
    update, apply = org.update, portal.apply

    def org_update(object_name: str, record_id: str, values: dict[str, object], **kw: Any) -> None:
        applied[f"sf:{object_name}:{record_id}"] += 1
        update(object_name, record_id, values, **kw)

    def portal_apply(object_type: str, row: int, values: Any, now: int, source: str) -> Any:
        if source == "API":
            applied[f"hs:{object_type}:{portal.tables[object_type].ids[row]}"] += 1
        return apply(object_type, row, values, now, source)

    org.update = org_update
    portal.apply = portal_apply
    return applied


def edit_crms(sandbox: Sandbox) -> None:
    """The same CRM edits on both sides: amounts and stages of a few deals, so the incremental sync has work."""
    org, portal = sandbox.salesforce.org, sandbox.hubspot.portal
    for n, record_id in enumerate(org.ids("Opportunity")[:12]):
        org.update("Opportunity", record_id, {"Amount": 1000.0 * (n + 1)})
    for n, record_id in enumerate(portal.ids("deals")[:12]):
        portal.update("deals", record_id, {"amount": str(2000 * (n + 1))})


def snapshot(config: Path) -> dict[str, Counter[tuple[Any, ...]]]:
    """Every table of the raw and spm schemas, the KPIs and the last write-back outcome per field,
    as multisets of rows without the columns that carry run ids or wall-clock stamps."""
    tables: dict[str, Counter[tuple[Any, ...]]] = {}
    with open_store(load_config(config)) as store:
        names = store.fetchall(
            "SELECT table_schema, table_name FROM information_schema.tables WHERE (table_schema LIKE 'raw\\_%' "
            "ESCAPE '\\' OR table_schema = 'spm') AND table_name NOT LIKE '\\_dlt%' ESCAPE '\\' ORDER BY 1, 2"
        )
        for schema, table in names:
            columns = [
                c for c in store.columns(schema, table)
                if not c.startswith("_dlt") and c.replace("_", "").lower() not in VOLATILE
            ]
            select = ", ".join(f'"{c}"' for c in columns)
            rows = store.fetchall(f'SELECT {select} FROM {schema}."{table}"')
            tables[f"{schema}.{table}"] = Counter(tuple(map(comparable, row)) for row in rows)
        tables["writeback"] = Counter(store.fetchall(
            "SELECT target, record_id, field, arg_max(value_sent, sent_at) FROM spm_state.writeback_ledger "
            "WHERE outcome IN ('sent', 'in_sync') GROUP BY 1, 2, 3"
        ))
    return tables


def comparable(value: Any) -> Any:
    """Floats to 12 significant digits, and cancellation residue (|x| < 1e-9) to 0: sums over the same rows
    in another order differ in the last bits, and a difference of equal sums can come out as 2e-16."""
    if not isinstance(value, float):
        return value
    return 0.0 if abs(value) < 1e-9 else float(f"{value:.12g}")


def compare(
    a: dict[str, Counter[tuple[Any, ...]]], b: dict[str, Counter[tuple[Any, ...]]]
) -> tuple[int, int, dict[str, tuple[list[Any], list[Any]]]]:
    """(rows of A missing from B, rows of B not in A, a sample of both per differing table); rows whose
    floats differ by under 1e-9 relative (rounded apart at a boundary) pair up and count as equal."""
    lost = extra = 0
    differing: dict[str, tuple[list[Any], list[Any]]] = {}
    for t in sorted(set(a) | set(b)):
        missing, added = unpaired(a.get(t, Counter()) - b.get(t, Counter()), b.get(t, Counter()) - a.get(t, Counter()))
        lost, extra = lost + len(missing), extra + len(added)
        if missing or added:
            differing[t] = (missing[:3], added[:3])
    return lost, extra, differing


def unpaired(
    left: Counter[tuple[Any, ...]], right: Counter[tuple[Any, ...]]
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The rows of each side with no row of the other side equal to it up to float rounding."""
    rest = list(right.elements())
    alone = []
    for row in left.elements():
        match = next((i for i, other in enumerate(rest) if _close(row, other)), None)
        if match is None:
            alone.append(row)
        else:
            rest.pop(match)
    return alone, rest


def _close(x: tuple[Any, ...], y: tuple[Any, ...]) -> bool:
    return len(x) == len(y) and all(
        math.isclose(u, v, rel_tol=1e-9, abs_tol=1e-9) if isinstance(u, float) and isinstance(v, float) else u == v
        for u, v in zip(x, y, strict=True)
    )
