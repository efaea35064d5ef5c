"""The write-back stage's data: KPI inputs, planned slots, per-slot decisions and per-target reports."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

Action = Literal["send", "unchanged", "in_sync", "conflict", "invalid"]
SUCCESS_OUTCOMES: tuple[str, ...] = ("sent", "in_sync")


@dataclass(frozen=True)
class KpiValue:
    """One row of spm.kpi_values for the target's entity type and period."""

    entity_id: str
    metric: str
    value: float | None
    kpi_run_id: str | None = None
    computed_at: datetime | None = None


@dataclass(frozen=True)
class Matching:
    """How an entity finds its CRM record: `field` holds `record_key` (None: the record id itself).

    `identity` names the spm.rep_identities column that gives the key (None: the key is the entity id,
    or `<entity id>|<period>` when `upsert`).
    """

    field: str | None
    identity: str | None = None
    upsert: bool = False


@dataclass(frozen=True)
class Slot:
    """One CRM field of one record that a target manages, for one entity and period."""

    entity_id: str
    period: str
    metric: str
    field: str
    record_key: str
    value: Any  # already in the field's CRM type (values.wire_value)
    kpi_run_id: str | None = None

    def ledger_key(self, upsert: bool) -> tuple[str, str, str]:
        """Update mode owns the field across periods; upsert mode has one record per period."""
        return (self.entity_id, self.period if upsert else "", self.field)


@dataclass(frozen=True)
class Invalid:
    """A KPI row that cannot be written (no CRM record for the entity, null for a required field)."""

    entity_id: str
    reason: str
    metric: str | None = None
    field: str | None = None


@dataclass(frozen=True)
class LedgerEntry:
    """The last successful write of one slot."""

    record_id: str | None
    value: str | None  # canonical form (values.canonical)


@dataclass(frozen=True)
class Step:
    """What the run does with one slot, and why."""

    slot: Slot
    action: Action
    record_id: str | None = None
    current: Any = None
    last_written: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class Rejection:
    """A record (and its fields) the CRM refused, with the CRM's own code and message."""

    record: str
    fields: tuple[str, ...]
    code: str | None
    message: str | None


@dataclass
class TargetReport:
    """Everything one target did (or, in a dry run, would do)."""

    name: str
    source: str
    object: str
    mode: str
    period: str
    steps: list[Step] = field(default_factory=list)
    invalid: list[Invalid] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    held_back: list[Invalid] = field(default_factory=list)  # values computed without rejected inputs, not sent
    sent_flagged: int = 0  # such values sent anyway (on_rejected_inputs: send)
    sent: int = 0
    calls: Counter[str] = field(default_factory=Counter)

    def count(self, action: Action) -> int:
        return sum(1 for s in self.steps if s.action == action)

    def counts(self) -> dict[str, int]:
        """Field values per outcome (the numbers `status` and the run record show)."""
        return {
            "planned": self.count("send"),
            "sent": self.sent,
            "unchanged": self.count("unchanged") + self.count("in_sync"),
            "conflicts": self.count("conflict"),
            "rejected": sum(len(r.fields) for r in self.rejections),
            "invalid": len(self.invalid),
            "held_back": len(self.held_back),
        }
