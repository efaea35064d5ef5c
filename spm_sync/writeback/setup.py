"""`spm-sync writeback setup`: create what the write-back targets need in each CRM, plan first, idempotently.

What a target needs is derived from config and the KPI definitions (pure: `wanted_fields`); each
CRM's installer (connectors/<crm>/setup.py) reads what exists, plans, and creates the rest. A field
that exists with an incompatible type is a conflict: setup then creates nothing at all and the run
fails (exit 1) naming the exact field, because changing or deleting a field could lose data.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from spm_sync.config import Config, WritebackTarget
from spm_sync.connectors.registry import installer_class
from spm_sync.connectors.writing import Change, FieldType, NewField, NewObject
from spm_sync.errors import ConfigError, SpmError
from spm_sync.writeback.targets import check_metrics, select
from spm_sync.writeback.writers import Writer, open_writer

# metric unit (metrics/definitions.py) -> field type and decimals: the one scaling rule (docs/DESIGN.md)
UNIT_FIELDS: dict[str, tuple[FieldType, int]] = {
    "ratio": ("percent", 2),
    "currency": ("currency", 2),
    "count": ("integer", 0),
    "number": ("number", 2),
}
KEY_LENGTH = 80  # "<entity id>|<period>" and the Name field: 80 characters, as a custom object's Name
PERIOD_LENGTH = 20
STATUS_LABEL = {"exists": "[dim]exists[/]", "create": "[green]create[/]", "conflict": "[red]conflict[/]"}


class Installer(Protocol):
    """What `connectors/<crm>/setup.py` provides."""

    creates_objects: bool
    writer: Writer

    def plan(self, object_name: str, new_object: NewObject | None, fields: Sequence[NewField]) -> list[Change]: ...

    def plan_access(self, fields: Sequence[tuple[str, NewField]]) -> list[Change]: ...

    def apply(self, changes: Sequence[Change]) -> None: ...


class SetupConflict(SpmError):
    """A field exists with a type setup cannot use: nothing was created (exit 1); `result` holds the plan."""

    def __init__(self, result: SetupResult, message: str) -> None:
        super().__init__(message)
        self.result = result


def label_of(name: str) -> str:
    """`quota_attainment` / `Quota_Attainment__c` -> `Quota Attainment`."""
    words = name.removesuffix("__c").replace("_", " ").split()
    return " ".join(w if w.isupper() else w.capitalize() for w in words)


def new_object(target: WritebackTarget) -> NewObject:
    label = label_of(target.object)
    return NewObject(target.object, label, f"{label}s", f"{label} Name")


def wanted_fields(target: WritebackTarget, units: Mapping[str, str]) -> list[NewField]:
    """Every field a target writes, typed by the metric's unit; the record-describing fields after them."""
    out: list[NewField] = []
    for metric, name in target.fields.items():
        kind, scale = UNIT_FIELDS[units[metric]]
        out.append(NewField(name, label_of(metric), kind, scale=scale))
    if target.mode == "upsert" and target.external_id_field:
        out.append(NewField(target.external_id_field, label_of(target.external_id_field), "text",
                            length=KEY_LENGTH, external_id=True))
    if target.name_field and target.name_field.lower() != "name":  # a custom object has its Name already
        out.append(NewField(target.name_field, label_of(target.name_field), "text", length=KEY_LENGTH))
    if target.lookup_field:
        if target.entity != "rep":
            raise ConfigError(f"writeback target {target.name}: lookup_field needs entity rep (a lookup to the "
                              f"rep's user); {target.entity} values have no CRM record to point at")
        out.append(NewField(target.lookup_field, label_of(target.lookup_field), "reference", reference_to="User"))
    if target.period_field:
        out.append(NewField(target.period_field, label_of(target.period_field), "text", length=PERIOD_LENGTH))
    if target.computed_at_field:
        out.append(NewField(target.computed_at_field, label_of(target.computed_at_field), "datetime"))
    return out


def merge_fields(object_name: str, groups: Sequence[Sequence[NewField]]) -> list[NewField]:
    """The fields of several targets on one object, once each; one name wanted with two types is an error."""
    merged: dict[str, NewField] = {}
    for group in groups:
        for wanted in group:
            known = merged.setdefault(wanted.name.lower(), wanted)
            if (known.type, known.scale) != (wanted.type, wanted.scale):
                raise ConfigError(f"{object_name}.{wanted.name}: targets want it as {known.type} and as {wanted.type}")
    return list(merged.values())


@dataclass
class SourcePlan:
    """The plan for one CRM source, and the API calls reading and creating cost."""

    source: str
    changes: list[Change] = field(default_factory=list)
    calls: Counter[str] = field(default_factory=Counter)

    def count(self, status: str) -> int:
        return sum(1 for c in self.changes if c.status == status)


@dataclass
class SetupResult:
    plans: list[SourcePlan]
    dry_run: bool
    applied: bool = False

    def conflicts(self) -> list[tuple[str, Change]]:
        return [(p.source, c) for p in self.plans for c in p.changes if c.status == "conflict"]

    def render(self, console: Console) -> None:
        for plan in self.plans:
            table = Table(title=f"writeback setup: {plan.source}")
            for column in ("status", "what", "name", "type / detail"):
                table.add_column(column)
            for change in plan.changes:
                table.add_row(STATUS_LABEL[change.status], change.what, escape(change.subject), escape(change.detail))
            console.print(table)
        for plan in self.plans:
            verb = "to create" if not self.applied else "created"
            calls = ", ".join(f"{family} {n}" for family, n in sorted(plan.calls.items())) or "none"
            console.print(f"{plan.source}: {plan.count('create')} {verb}, {plan.count('exists')} already there, "
                          f"{plan.count('conflict')} conflicts; API calls: {sum(plan.calls.values())} ({calls})",
                          highlight=False)
        if self.dry_run:
            console.print("dry run: nothing was created")


def setup(cfg: Config, targets: list[str] | None = None, *, dry_run: bool = False) -> SetupResult:
    """Plan every chosen target's fields (and, on Salesforce, objects and access); create what is missing.

    Raises SetupConflict (after planning, before creating anything) when an existing field is in the way.
    """
    from spm_sync.metrics.definitions import load_catalog, metric_unit

    chosen = select(cfg, targets)
    check_metrics(cfg, chosen)
    units = {m.name: metric_unit(m) for m in load_catalog(cfg).visible}
    result = SetupResult([], dry_run)
    installers: list[tuple[Installer, SourcePlan]] = []
    for source in dict.fromkeys(t.source for t in chosen):
        writer = open_writer(cfg, source)
        installer = _installer(cfg, source, writer)
        plan = SourcePlan(source)
        before = Counter(writer.calls.by_family)
        by_object: dict[str, list[WritebackTarget]] = {}
        for target in (t for t in chosen if t.source == source):
            by_object.setdefault(target.object, []).append(target)
        secured: list[tuple[str, NewField]] = []
        for object_name, group in by_object.items():
            fields = merge_fields(object_name, [wanted_fields(t, units) for t in group])
            upsert = next((t for t in group if t.mode == "upsert"), None)
            creates = upsert is not None and installer.creates_objects and object_name.endswith("__c")
            plan.changes += installer.plan(object_name, new_object(upsert) if creates and upsert else None, fields)
            secured += [(object_name, f) for f in fields if f.name.endswith("__c")]
        plan.changes += installer.plan_access(secured)
        plan.calls = Counter(writer.calls.by_family) - before
        result.plans.append(plan)
        installers.append((installer, plan))
    conflicts = result.conflicts()
    if conflicts or dry_run:
        if conflicts:
            listed = "; ".join(f"{source}: {c.subject} {c.detail}" for source, c in conflicts)
            raise SetupConflict(result, f"{len(conflicts)} conflict(s), nothing was created: {listed}")
        return result
    for installer, plan in installers:
        before = Counter(installer.writer.calls.by_family)
        installer.apply(plan.changes)
        plan.calls += Counter(installer.writer.calls.by_family) - before
    result.applied = True
    return result


def _installer(cfg: Config, source: str, writer: Writer) -> Installer:
    return installer_class(cfg.source(source).type)(writer, cfg.source(source))
