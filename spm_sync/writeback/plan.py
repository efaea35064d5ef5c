"""Pure planning: KPI rows -> slots, slots vs ledger -> pending, pending vs CRM -> steps -> records.

Why pure: this is where every write-back decision is made (what is sent, what is a conflict, what is
invalid), so it is tested without a CRM or a store; the engine only feeds it data and ships its output.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from spm_sync.connectors.writing import CurrentRecord, FieldInfo, RecordWrite
from spm_sync.writeback.model import Invalid, KpiValue, LedgerEntry, Matching, Slot, Step
from spm_sync.writeback.values import canonical, same, wire_value

KEY_SEPARATOR = "|"
PERIOD_METRIC = "period"  # the ledger's `metric` of a target's period_field slot


def upsert_key(entity_id: str, period: str) -> str:
    """The deterministic external id of one entity x period record (`<entity_id>|<period>`)."""
    return f"{entity_id}{KEY_SEPARATOR}{period}"


def plan_slots(
    field_map: Mapping[str, str],
    period: str,
    matching: Matching,
    kpis: Iterable[KpiValue],
    identities: Mapping[str, str],
    fields: Mapping[str, FieldInfo],
    no_identity: str = "no CRM user for this rep",
) -> tuple[list[Slot], list[Invalid]]:
    """One slot per KPI row whose metric the target maps; rows that cannot be written are `Invalid`."""
    slots: list[Slot] = []
    invalid: list[Invalid] = []
    for kpi in kpis:
        crm_field = field_map.get(kpi.metric)
        if crm_field is None:
            continue
        info = fields[crm_field]
        if matching.upsert:
            key: str | None = upsert_key(kpi.entity_id, period)
        elif matching.identity:
            key = identities.get(kpi.entity_id)
        else:
            key = kpi.entity_id
        if not key:
            invalid.append(Invalid(kpi.entity_id, no_identity, kpi.metric, crm_field))
            continue
        if kpi.value is None and info.required:
            invalid.append(Invalid(kpi.entity_id, "null value for a required field", kpi.metric, crm_field))
            continue
        value = wire_value(kpi.value, info)
        slots.append(Slot(kpi.entity_id, period, kpi.metric, crm_field, key, value, kpi.kpi_run_id))
    slots.sort(key=lambda s: (s.record_key, s.field))
    return slots, invalid


def period_slots(slots: Sequence[Slot], info: FieldInfo | None, period: str) -> list[Slot]:
    """One `period_field` slot per record the metric slots write (none without a period_field).

    Why a slot and not a value sent along: it is diffed against the ledger like a metric, so a new
    period reaches the record even when every metric value stayed the same (0 % last month, 0 % now).
    """
    if info is None:
        return []
    first: dict[str, Slot] = {}
    for slot in slots:
        first.setdefault(slot.record_key, slot)
    return [Slot(s.entity_id, period, PERIOD_METRIC, info.name, s.record_key, period, s.kpi_run_id)
            for s in first.values()]


def diff_ledger(
    slots: Sequence[Slot],
    ledger: Mapping[tuple[str, str, str], LedgerEntry],
    fields: Mapping[str, FieldInfo],
    upsert: bool,
) -> tuple[list[Slot], list[Step]]:
    """Split slots into pending (differ from the last successful write) and unchanged steps."""
    pending: list[Slot] = []
    unchanged: list[Step] = []
    for slot in slots:
        entry = ledger.get(slot.ledger_key(upsert))
        if entry is not None and canonical(slot.value, fields[slot.field]) == entry.value:
            unchanged.append(Step(slot, "unchanged", entry.record_id, last_written=entry.value,
                                  reason="same as last write"))
        else:
            pending.append(slot)
    return pending, unchanged


def decide(
    pending: Sequence[Slot],
    current: Mapping[str, CurrentRecord],
    ledger: Mapping[tuple[str, str, str], LedgerEntry],
    fields: Mapping[str, FieldInfo],
    matching: Matching,
    overwrite: bool,
    object_name: str,
) -> list[Step]:
    """Compare pending slots with the CRM's current values: send, already in sync, conflict, or invalid.

    A conflict is a field whose CRM value differs from what we last wrote to that same record: a
    person edited it, and only `overwrite: true` lets us replace their value.
    """
    steps: list[Step] = []
    for slot in pending:
        info = fields[slot.field]
        record = current.get(slot.record_key)
        if record is None:
            if matching.upsert:
                steps.append(Step(slot, "send", reason="new record"))
            else:
                where = matching.field or "Id"
                steps.append(Step(slot, "invalid", reason=f"no {object_name} record with {where}={slot.record_key}"))
            continue
        now = record.values.get(slot.field)
        entry = ledger.get(slot.ledger_key(matching.upsert))
        owned = entry is not None and entry.record_id in (None, record.record_id)
        last = entry.value if owned and entry is not None else None
        if same(now, slot.value, info):
            steps.append(Step(slot, "in_sync", record.record_id, now, last, "CRM already holds the value"))
        elif owned and not same(now, last, info):
            if overwrite:
                steps.append(Step(slot, "send", record.record_id, now, last, "overwrites an edit in the CRM"))
            else:
                steps.append(Step(slot, "conflict", record.record_id, now, last, "edited in the CRM since our write"))
        else:
            steps.append(Step(slot, "send", record.record_id, now, last))
    return steps


def write_key(step: Step, upsert: bool) -> str:
    """The key a step's record is written under: the external id (upsert) or the CRM record id."""
    return step.slot.record_key if upsert else str(step.record_id)


def sends_by_record(steps: Sequence[Step], upsert: bool) -> dict[str, list[Step]]:
    """The `send` steps grouped by `write_key`, in step order."""
    grouped: dict[str, list[Step]] = {}
    for step in steps:
        if step.action == "send":
            grouped.setdefault(write_key(step, upsert), []).append(step)
    return grouped


def record_writes(
    by_record: Mapping[str, Sequence[Step]], extra: Mapping[str, Mapping[str, Any]] | None = None
) -> list[RecordWrite]:
    """One write per record, every changed field in it (`by_record` from `sends_by_record`), plus the
    record's describing fields (`extra`, from `record_values`)."""
    extra = extra or {}
    return [
        RecordWrite(key, {**extra.get(key, {}), **{s.slot.field: s.slot.value for s in group}})
        for key, group in by_record.items()
    ]


def record_name(entity_name: str, period: str, length: int | None) -> str:
    """"Jane Doe — FY2026-Q1": what a person sees as the record's name (cut to the field's length)."""
    text = f"{entity_name} — {period}"
    return text[:length] if length else text


def when_text(moment: datetime, info: FieldInfo) -> str:
    """A UTC timestamp in the field's type: a date field takes the day, others ISO 8601 with milliseconds."""
    utc = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    if info.kind == "date":
        return utc.date().isoformat()
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def record_values(
    roles: Mapping[str, FieldInfo],
    period: str,
    entity_name: str,
    lookup_id: str | None,
    computed_at: datetime | None,
) -> dict[str, Any]:
    """The describing fields of a record being written: name, lookup and when the values were computed (the
    period field is a slot of its own, see `period_slots`)."""
    values: dict[str, Any] = {}
    if "name" in roles:
        values[roles["name"].name] = record_name(entity_name, period, roles["name"].length)
    if "lookup" in roles and lookup_id:
        values[roles["lookup"].name] = lookup_id
    if "computed_at" in roles and computed_at is not None:
        values[roles["computed_at"].name] = when_text(computed_at, roles["computed_at"])
    return values
