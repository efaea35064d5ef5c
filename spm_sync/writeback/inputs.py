"""What write-back reads from the store: KPI values of one entity type and period, rep identities."""

from __future__ import annotations

from collections.abc import Sequence

from spm_sync.store import Store
from spm_sync.writeback.model import KpiValue

IDENTITY_COLUMNS = ("crm_id", "crm_user_id")


def load_kpis(store: Store, entity_type: str, period: str, metrics: Sequence[str]) -> list[KpiValue]:
    """Current KPI values for the target (the metrics stage replaces spm.kpi_values on each run)."""
    if not metrics:
        return []
    marks = ", ".join("?" for _ in metrics)
    rows = store.fetchall(
        "SELECT entity_id, metric, value, run_id, computed_at FROM spm.kpi_values "
        f"WHERE entity_type = ? AND period = ? AND metric IN ({marks}) AND dimension IS NULL "
        "ORDER BY entity_id, metric",
        [entity_type, period, *metrics],
    )
    return [KpiValue(str(r[0]), str(r[1]), None if r[2] is None else float(r[2]), r[3], r[4]) for r in rows]


def load_entity_names(store: Store, entity_type: str) -> dict[str, str]:
    """entity_id -> the name a person knows it by (rep or team name); the company is "Company"."""
    if entity_type == "rep":
        rows = store.fetchall("SELECT rep_id, name FROM spm.reps WHERE name IS NOT NULL")
    elif entity_type == "team":
        rows = store.fetchall("SELECT team_id, name FROM spm.teams WHERE name IS NOT NULL")
    else:
        rows = [("company", "Company")]
    return {str(entity_id): str(name) for entity_id, name in rows}


def load_identities(store: Store, source: str, column: str) -> dict[str, str]:
    """rep_id -> the rep's id in `source` (`crm_id`: Salesforce User Id; `crm_user_id`: HubSpot userId).

    spm.rep_identities is the cross-CRM map; spm.reps' own (source, crm_id) fills gaps for crm_id.
    """
    if column not in IDENTITY_COLUMNS:
        raise ValueError(f"unknown identity column {column!r}")
    found: dict[str, str] = {}
    if column == "crm_id":
        for rep_id, crm_id in store.fetchall(
            "SELECT rep_id, crm_id FROM spm.reps WHERE source = ? AND crm_id IS NOT NULL", [source]
        ):
            found[str(rep_id)] = str(crm_id)
    for rep_id, key in store.fetchall(
        f"SELECT rep_id, {column} FROM spm.rep_identities WHERE source = ? AND {column} IS NOT NULL", [source]
    ):
        found[str(rep_id)] = str(key)
    return found


def load_flags(store: Store, entity_type: str, period: str) -> dict[tuple[str, str], str]:
    """(entity_id, metric) -> why its value lacks inputs (`2 rejected quotas rows`), from spm.kpi_flags."""
    found: dict[tuple[str, str], list[str]] = {}
    for entity_id, metric, table, count in store.fetchall(
        "SELECT entity_id, metric, input, rejected_rows FROM spm.kpi_flags WHERE entity_type = ? AND period = ? "
        "ORDER BY entity_id, metric, input",
        [entity_type, period],
    ):
        found.setdefault((str(entity_id), str(metric)), []).append(f"{count} rejected {table} row(s)")
    return {key: ", ".join(parts) for key, parts in found.items()}
