"""The in-memory HubSpot portal: records, owners, properties, associations, tokens and scopes.

Why one object: handlers and tests mutate the same state (a test edits a deal "in the UI" with
`portal.update`, the connector must then see it through the API), so every change goes through
these methods, which validate values, keep calculated properties right and bump modification stamps.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from spm_sync.sandbox.hubspot.associations import AssociationStore
from spm_sync.sandbox.hubspot.schema import (
    BOOL,
    DATE,
    DATETIME,
    DEAL_STAGES,
    ENUMERATION,
    NUMBER,
    OBJECT_TYPES,
    WRITEBACK_NUMBER_PROPS,
    PropertyDef,
)
from spm_sync.sandbox.hubspot.table import ObjectTable
from spm_sync.sandbox.hubspot.values import (
    InvalidValue,
    ms_from_datetime,
    parse_bool,
    parse_number,
    parse_time,
    wire_text,
)

_STAGE_PROBABILITY = {stage: prob for stage, _label, prob, _closed in DEAL_STAGES}
_LIFECYCLE_DATES = {
    "lead": "hs_lifecyclestage_lead_date",
    "opportunity": "hs_lifecyclestage_opportunity_date",
    "customer": "hs_lifecyclestage_customer_date",
}


class UnknownProperty(KeyError):
    """A write named a property the object type does not define (HubSpot: PROPERTY_DOESNT_EXIST)."""

    def __init__(self, names: list[str]) -> None:
        super().__init__(names)
        self.names = names


class NotFound(KeyError):
    """No live record with that id."""


@dataclass
class Team:
    """An owner's team membership as `/crm/v3/owners` shows it."""

    id: str
    name: str
    primary: bool


@dataclass
class Owner:
    """A HubSpot owner (a user who can own records)."""

    id: int
    email: str
    first_name: str
    last_name: str
    user_id: int
    teams: list[Team]
    archived: bool
    created_ms: int
    updated_ms: int


@dataclass
class FieldError:
    """One rejected property value (rendered into HubSpot's VALIDATION_ERROR message)."""

    name: str
    message: str
    error: str


@dataclass(frozen=True)
class DealSplit:
    """One deal split: an owner's share of the deal (a fraction; a deal's shares sum to 1)."""

    id: int
    owner_id: str
    share: float
    created_ms: int
    updated_ms: int


@dataclass
class Portal:
    """All state of one emulated HubSpot account."""

    # A new portal per start (its records are generated afresh): what the ledger keys write-backs on.
    portal_id: int = field(default_factory=lambda: 20_000_000 + secrets.randbelow(10_000_000))
    currency: str = "USD"
    clock: Callable[[], float] = time.time
    tables: dict[str, ObjectTable] = field(default_factory=dict)
    properties: dict[str, dict[str, PropertyDef]] = field(default_factory=dict)
    associations: AssociationStore = field(default_factory=AssociationStore)
    owners: list[Owner] = field(default_factory=list)
    currency_rates: dict[str, float] = field(default_factory=lambda: {"USD": 1.0})
    access_token: str = "pat-na1-sandbox-0000-0000-000000000000"
    revoked_objects: set[str] = field(default_factory=set)
    revoked_schema_writes: set[str] = field(default_factory=set)  # object types whose properties the token can't define
    groups: dict[str, dict[str, str]] = field(default_factory=dict)  # object type -> property group name -> label
    kpi_fields: bool = True  # False: the users object lacks the write-back properties (before `writeback setup`)
    deal_splits: dict[int, list[DealSplit]] = field(default_factory=dict)  # deal id -> its splits
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    def __post_init__(self) -> None:
        absent = set() if self.kpi_fields else {name for name, *_ in WRITEBACK_NUMBER_PROPS}
        for name, spec in OBJECT_TYPES.items():
            self.tables.setdefault(name, ObjectTable(spec))
            self.properties.setdefault(name, {p.name: p for p in spec.properties if p.name not in absent})
            self.groups.setdefault(name, {p.group: p.group.replace("_", " ").title() for p in spec.properties})

    def can_write_schema(self, object_type: str) -> bool:
        return object_type not in self.revoked_schema_writes

    def add_group(self, object_type: str, name: str, label: str) -> None:
        """Define a property group (POST /crm/v3/properties/{objectType}/groups)."""
        with self.lock:
            if name in self.groups[object_type]:
                raise ValueError(f"A property group named '{name}' already exists.")
            self.groups[object_type][name] = label

    # -- time and scopes ----------------------------------------------------------------------
    def now_ms(self) -> int:
        return int(self.clock() * 1000)

    def revoke_scope(self, object_type: str) -> None:
        """Take the token's read/write scope for one object type away (calls then get 403)."""
        self.revoked_objects.add(object_type)

    def grant_scope(self, object_type: str) -> None:
        self.revoked_objects.discard(object_type)

    def has_scope(self, object_type: str) -> bool:
        return object_type not in self.revoked_objects

    # -- properties ---------------------------------------------------------------------------
    def property(self, object_type: str, name: str) -> PropertyDef | None:
        return self.properties[object_type].get(name)

    def add_property(self, object_type: str, prop: PropertyDef) -> PropertyDef:
        """Define a custom property (POST /crm/v3/properties/{objectType})."""
        with self.lock:
            if prop.name in self.properties[object_type]:
                raise ValueError(f"A property named '{prop.name}' already exists.")
            if prop.group not in self.groups[object_type]:
                raise KeyError(f"property group {prop.group} does not exist")
            self.properties[object_type][prop.name] = prop
            return prop

    def owner_ids(self) -> set[str]:
        return {str(owner.id) for owner in self.owners}

    # -- value validation ---------------------------------------------------------------------
    def parse_values(self, object_type: str, values: Mapping[str, object]
                     ) -> tuple[dict[str, tuple[PropertyDef, object]], list[FieldError]]:
        """Typed values for a write; unknown names raise, bad values come back as FieldErrors."""
        defs = self.properties[object_type]
        unknown = [name for name in values if name not in defs]
        if unknown:
            raise UnknownProperty(unknown)
        parsed: dict[str, tuple[PropertyDef, object]] = {}
        errors: list[FieldError] = []
        for name, raw in values.items():
            prop = defs[name]
            try:
                parsed[name] = (prop, self._parse(prop, wire_text(raw)))
            except InvalidValue as exc:
                errors.append(FieldError(name, str(exc), exc.error))
        return parsed, errors

    def _parse(self, prop: PropertyDef, text: str | None) -> object:
        if prop.read_only:
            raise InvalidValue(f'"{prop.name}" is a read only property; its value cannot be set.',
                               "READ_ONLY_VALUE")
        if text is None or text == "":
            return None
        if prop.type == NUMBER:
            return parse_number(text)
        if prop.type in (DATE, DATETIME):
            return parse_time(text, prop.name, date_only=prop.type == DATE)
        if prop.type == BOOL:
            return parse_bool(text)
        if prop.type == ENUMERATION:
            allowed = self.owner_ids() if prop.name == "hubspot_owner_id" else set(prop.options)
            if allowed and text not in allowed:
                raise InvalidValue(f"{text} was not one of the allowed options: {sorted(allowed)}",
                                   "INVALID_OPTION")
        return text

    # -- mutations ----------------------------------------------------------------------------
    def table(self, object_type: str) -> ObjectTable:
        return self.tables[object_type]

    def _row(self, object_type: str, record_id: str | int, archived_ok: bool = False) -> int:
        table = self.tables[object_type]
        try:
            row = table.row_of(int(record_id))
        except (TypeError, ValueError):
            row = None
        if row is None or (table.archived[row] and not archived_ok):
            raise NotFound(record_id)
        return row

    def apply(self, object_type: str, row: int, parsed: Mapping[str, tuple[PropertyDef, object]],
              now_ms: int, source: str) -> None:
        """Write validated values, recompute calculated properties, bump the stamp."""
        table = self.tables[object_type]
        for prop, value in parsed.values():
            table.write(row, prop, value, now_ms, source)
        if object_type == "deals":
            self._recalc_deal(table, row, set(parsed), now_ms)
        elif object_type == "contacts" and "lifecyclestage" in parsed:
            self._stamp_lifecycle(table, row, now_ms)
        table.touch(row, now_ms)

    def _set_calc(self, table: ObjectTable, row: int, name: str, value: object, now_ms: int) -> None:
        prop = self.properties[table.spec.name][name]
        table.write(row, prop, value, now_ms, "CALCULATED")

    def _recalc_deal(self, table: ObjectTable, row: int, changed: set[str], now_ms: int) -> None:
        def text(name: str) -> str | None:
            column = table.column(name)
            return None if column is None else column.render(row)

        if changed & {"amount", "deal_currency_code"}:
            amount = text("amount")
            rate = self.currency_rates.get(text("deal_currency_code") or self.currency, 1.0)
            home = None if amount is None else float(amount) / rate
            self._set_calc(table, row, "amount_in_home_currency", home, now_ms)
        if "hubspot_owner_id" in changed:
            self._set_calc(table, row, "hubspot_owner_assigneddate", now_ms, now_ms)
        if "dealstage" in changed:
            stage = text("dealstage")
            closed = stage in ("closedwon", "closedlost")
            won = stage == "closedwon"
            self._set_calc(table, row, "hs_is_closed", "true" if closed else "false", now_ms)
            self._set_calc(table, row, "hs_is_closed_won", "true" if won else "false", now_ms)
            if stage in _STAGE_PROBABILITY:
                probability = float(_STAGE_PROBABILITY[stage])
                self._set_calc(table, row, "hs_deal_stage_probability", probability, now_ms)
                for prefix in ("hs_v2_date_entered_", "hs_date_entered_"):
                    if text(f"{prefix}{stage}") is None:
                        self._set_calc(table, row, f"{prefix}{stage}", now_ms, now_ms)

    def _stamp_lifecycle(self, table: ObjectTable, row: int, now_ms: int) -> None:
        column = table.column("lifecyclestage")
        stage = None if column is None else column.render(row)
        name = _LIFECYCLE_DATES.get(stage or "")
        existing = table.column(name) if name else None
        if name and (existing is None or existing.render(row) is None):
            self._set_calc(table, row, name, now_ms, now_ms)

    def create(self, object_type: str, values: Mapping[str, object], source: str = "CRM_UI",
               strict: bool = True) -> str:
        """Create a record (tests: a rep adds a deal in the UI); returns its id."""
        with self.lock:
            parsed, errors = self.parse_values(object_type, values)
            if errors and strict:
                raise InvalidValue("; ".join(e.message for e in errors), errors[0].error)
            now = self.now_ms()
            table = self.tables[object_type]
            row = table.append(now)
            self.apply(object_type, row, parsed, now, source)
            return str(table.ids[row])

    def update(self, object_type: str, record_id: str | int, values: Mapping[str, object],
               source: str = "CRM_UI") -> None:
        """Change properties of a live record; bumps its modification stamp."""
        with self.lock:
            row = self._row(object_type, record_id)
            parsed, errors = self.parse_values(object_type, values)
            if errors:
                raise InvalidValue("; ".join(e.message for e in errors), errors[0].error)
            self.apply(object_type, row, parsed, self.now_ms(), source)

    def archive(self, object_type: str, record_id: str | int) -> None:
        """Move a record to the recycle bin (only `archived=true` listings show it)."""
        with self.lock:
            row = self._row(object_type, record_id)
            self.tables[object_type].set_archived(row, True, self.now_ms())

    def restore(self, object_type: str, record_id: str | int) -> None:
        """Bring an archived record back."""
        with self.lock:
            row = self._row(object_type, record_id, archived_ok=True)
            self.tables[object_type].set_archived(row, False, self.now_ms())

    def hard_delete(self, object_type: str, record_id: str | int) -> None:
        """Delete permanently (GDPR delete): gone from every listing."""
        with self.lock:
            row = self._row(object_type, record_id, archived_ok=True)
            self.tables[object_type].hard_delete(row)

    def get(self, object_type: str, record_id: str | int) -> dict[str, str | None]:
        """Every stored property of a record, as the wire strings (for tests)."""
        with self.lock:
            table = self.tables[object_type]
            row = self._row(object_type, record_id, archived_ok=True)
            values = {name: column.render(row) for name, column in table.columns.items()}
            values["hs_object_id"] = str(table.ids[row])
            return values

    def ids(self, object_type: str, archived: bool = False) -> list[str]:
        """Ids of the live (or archived) records, ascending."""
        with self.lock:
            table = self.tables[object_type]
            return [str(i) for i in table.ids[: table.n][table.live_mask(archived)]]

    def set_modified(self, object_type: str, when: datetime | int,
                     record_ids: Iterable[str | int] | None = None) -> int:
        """Test hook: give many records one identical modification instant; returns how many."""
        ms = when if isinstance(when, int) else ms_from_datetime(when)
        with self.lock:
            table = self.tables[object_type]
            if record_ids is None:
                rows = np.flatnonzero(~table.gone[: table.n])
            else:
                rows = table.rows_of(np.array([int(i) for i in record_ids], dtype=np.int64))
                rows = rows[rows >= 0]
            table.columns[table.spec.modified_prop].data[rows] = ms  # type: ignore[union-attr]
            table.version += 1
            return len(rows)
