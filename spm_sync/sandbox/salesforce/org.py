"""The in-memory org: tables, record writes with Salesforce's validation, sessions and API budget.

Why writes live here and not in the HTTP layer: tests mutate the org directly (`org.update`,
`org.delete`, `org.hard_delete`) to stage incremental-sync scenarios, and those changes must bump
SystemModstamp and append OpportunityHistory exactly like writes that came through the API.
Real timestamps have whole-second precision, so two writes in one second share a SystemModstamp.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np

from . import ids
from .schema import (
    OBJECTS,
    PREINSTALLED_KPI_FIELDS,
    PREINSTALLED_KPI_OBJECTS,
    STAGE_INFO,
    FieldSpec,
    ObjectSpec,
    with_field,
    without_fields,
)
from .store import (
    BY_PREFIX,
    NO_MATCH_REF,
    REF_SHIFT,
    ROW_MASK,
    BadValue,
    Table,
    column_to_wire,
    id_to_ref,
    lowered,
    ref_code,
    register_object,
    wire_to_storage,
)

_HISTORY_TRIGGERS = ("StageName", "Amount", "CloseDate", "Probability")
_CREATED_BY_SYSTEM = ("CreatedDate", "CreatedById", "LastModifiedDate", "LastModifiedById", "SystemModstamp")


@dataclass(frozen=True)
class SaveError:
    """One entry of a SaveResult's `errors`."""

    status_code: str
    message: str
    fields: tuple[str, ...] = ()

    def wire(self) -> dict[str, object]:
        return {"statusCode": self.status_code, "message": self.message, "fields": list(self.fields)}


class RecordError(Exception):
    """A record-level failure (the request itself is fine)."""

    def __init__(self, *errors: SaveError) -> None:
        super().__init__(errors[0].message)
        self.errors = errors


class RequestError(Exception):
    """A request-level failure: HTTP status + the `[{"message", "errorCode"}]` body."""

    def __init__(self, status: int, code: str, message: str, fields: list[str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields

    def body(self) -> list[dict[str, object]]:
        entry: dict[str, object] = {"message": self.message, "errorCode": self.code}
        if self.fields is not None:
            entry["fields"] = self.fields
        return [entry]


@dataclass
class Cursor:
    """A server-side query locator (real orgs keep at most 10 open per user)."""

    object_name: str
    fields: list[FieldSpec]
    rows: np.ndarray
    query_all: bool
    batch: int = 2000


@dataclass
class Hooks:
    """Test hooks: per-record validation failures and whole-request lock failures."""

    failing_ids: dict[str, str] = field(default_factory=dict)
    lock_failures: int = 0


class Org:
    """One Salesforce org held in memory; every public method is thread-safe."""

    def __init__(
        self,
        *,
        daily_api_limit: int = 100_000,
        clock: Callable[[], datetime] | None = None,
        max_cursors: int = 10,
        bulk_delay_s: float = 0.2,
        timer: Callable[[], float] = time.monotonic,
        kpi_fields: bool = True,
    ) -> None:
        self.lock = threading.RLock()
        self.tables: dict[str, Table] = {
            name: Table(spec if kpi_fields else without_fields(spec, PREINSTALLED_KPI_FIELDS.get(name, ())))
            for name, spec in OBJECTS.items()
            if kpi_fields or name not in PREINSTALLED_KPI_OBJECTS
        }
        self.denied: set[str] = set()  # user permissions the API user lacks (e.g. "CustomizeApplication")
        self.clock: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        self.daily_api_limit = daily_api_limit
        self.api_used = 0
        self.max_cursors = max_cursors
        self.bulk_delay_s = bulk_delay_s
        self.timer = timer  # seconds for Bulk job progress; tests step it instead of sleeping
        self.hooks = Hooks()
        self.org_id = ids.make_id("00D", secrets.randbelow(62**6))  # a new org per start (rest.userinfo)
        self.password = "sandbox-password"
        self.refresh_token = "sandbox-refresh-token"  # a connected app's, issued to the API user
        self._tokens: set[str] = set()
        self.session_id = self.issue_token()
        self._cursors: OrderedDict[str, Cursor] = OrderedDict()
        self._cursor_seq = 0
        self.metadata_changed = datetime(2024, 1, 1, tzinfo=UTC)
        self.actor_row = 0  # the API user: the first User (row 0)
        self.bulk_jobs_created = 0

    # ---- clock -----------------------------------------------------------------------------
    def now(self) -> np.datetime64:
        """Current time at whole-second precision, as Salesforce stamps records."""
        stamp = self.clock().astimezone(UTC).replace(microsecond=0, tzinfo=None)
        return np.datetime64(stamp, "ms")

    def today(self) -> date:
        return self.clock().astimezone(UTC).date()

    # ---- sessions and limits ----------------------------------------------------------------
    def issue_token(self) -> str:
        token = f"{self.org_id[:15]}!{secrets.token_urlsafe(40)}"
        with self.lock:
            self._tokens.add(token)
        return token

    def accept_session(self, token: str) -> None:
        """Honour an access token issued by an earlier run of the emulator; it becomes `session_id`."""
        with self.lock:
            self._tokens.add(token)
            self.session_id = token

    def token_valid(self, token: str) -> bool:
        with self.lock:
            return token in self._tokens

    def expire_session(self) -> None:
        """Invalidate every issued access token (the next API call gets 401 INVALID_SESSION_ID)."""
        with self.lock:
            self._tokens.clear()

    def consume_api(self) -> bool:
        """Count one API request against the daily budget; False once the budget is spent."""
        with self.lock:
            if self.api_used >= self.daily_api_limit:
                return False
            self.api_used += 1
            return True

    # ---- test hooks --------------------------------------------------------------------------
    def fail_records(self, record_ids: list[str], message: str = "Record failed a validation rule.") -> None:
        """Make writes to these records fail with FIELD_CUSTOM_VALIDATION_EXCEPTION."""
        with self.lock:
            for record_id in record_ids:
                self.hooks.failing_ids[record_id[:15]] = message

    def fail_requests(self, count: int) -> None:
        """Make the next `count` write requests fail entirely with UNABLE_TO_LOCK_ROW."""
        with self.lock:
            self.hooks.lock_failures = count

    def clear_failures(self) -> None:
        with self.lock:
            self.hooks = Hooks()

    def take_lock_failure(self) -> bool:
        with self.lock:
            if self.hooks.lock_failures > 0:
                self.hooks.lock_failures -= 1
                return True
            return False

    # ---- cursors -----------------------------------------------------------------------------
    def open_cursor(self, cursor: Cursor) -> str:
        with self.lock:
            self._cursor_seq += 1
            locator = ids.make_id("01g", self._cursor_seq)
            self._cursors[locator] = cursor
            while len(self._cursors) > self.max_cursors:
                self._cursors.popitem(last=False)
            return locator

    def cursor(self, locator: str) -> Cursor | None:
        with self.lock:
            found = self._cursors.get(locator)
            if found is not None:
                self._cursors.move_to_end(locator)
            return found

    def close_cursor(self, locator: str) -> None:
        with self.lock:
            self._cursors.pop(locator, None)

    def load(self, shaped: dict[str, Any]) -> None:
        """Bulk-load shaped columns (see shaping.shape) into the tables."""
        claimed: set[int] = set()  # an array shaped for two objects must not be shared by their tables
        with self.lock:
            for name, part in shaped.items():
                self.tables[name].append(part.columns, part.count, claimed)

    # ---- lookup ------------------------------------------------------------------------------
    def find_object(self, name: str) -> ObjectSpec | None:
        """Case-insensitive lookup of this org's objects, the ones created through the Tooling API included."""
        with self.lock:
            for table_name, table in self.tables.items():
                if table_name.lower() == name.lower():
                    return table.spec
        return None

    def table(self, object_name: str) -> Table:
        spec = self.find_object(object_name)
        if spec is None:
            raise RequestError(404, "NOT_FOUND", "The requested resource does not exist")
        return self.tables[spec.name]

    def specs(self) -> list[ObjectSpec]:
        with self.lock:
            return [t.spec for t in self.tables.values()]

    # ---- metadata (Tooling API) ----------------------------------------------------------------
    def add_object(self, spec: ObjectSpec) -> None:
        """Create a custom object (CustomObject); an existing name is a DUPLICATE_DEVELOPER_NAME."""
        with self.lock:
            if self.find_object(spec.name) is not None:
                raise RequestError(400, "DUPLICATE_DEVELOPER_NAME", f"There is already an object named {spec.name}.")
            register_object(spec)
            self.tables[spec.name] = Table(spec)
            self._metadata_touched()

    def add_field(self, object_name: str, new: FieldSpec) -> None:
        """Create a custom field (CustomField) on an existing object; the table gets an all-null column."""
        with self.lock:
            table = self.table(object_name)
            if table.spec.field(new.name) is not None:
                raise RequestError(400, "DUPLICATE_DEVELOPER_NAME",
                                   f"There is already a field named {new.name} on {table.spec.name}.")
            table.add_field(with_field(table.spec, new), new.name)
            self._metadata_touched()

    def _metadata_touched(self) -> None:
        """Describe answers change: If-Modified-Since revalidation must see a newer Last-Modified."""
        self.metadata_changed = max(self.clock().astimezone(UTC).replace(microsecond=0),
                                    self.metadata_changed + timedelta(seconds=1))

    def record(
        self, table: Table, row: int, fields: list[FieldSpec] | None = None, url_base: str = ""
    ) -> dict[str, object]:
        """One record in REST wire format (all fields unless `fields` given)."""
        chosen = fields or list(table.spec.fields)
        rows = np.array([row])
        url = f"{url_base}/sobjects/{table.spec.name}/{table.ids(rows)[0]}"
        out: dict[str, object] = {"attributes": {"type": table.spec.name, "url": url}}
        for spec in chosen:
            out[spec.name] = wire_value(table, spec, rows)[0]
        return out

    def get(self, object_name: str, record_id: str) -> dict[str, object]:
        """A record by Id, soft-deleted ones included (IsDeleted tells); KeyError when unknown."""
        with self.lock:
            table = self.table(object_name)
            row = table.row_of(record_id)
            if row is None:
                raise KeyError(record_id)
            return self.record(table, row)

    def ids(self, object_name: str, *, include_deleted: bool = False) -> list[str]:
        """Ids of the live records of an object, in row order (test convenience)."""
        with self.lock:
            table = self.table(object_name)
            live = ~table.purged
            if table.spec.has_is_deleted and not include_deleted:
                live &= ~table.column("IsDeleted")
            return table.ids(np.flatnonzero(live))

    # ---- writes ------------------------------------------------------------------------------
    def create(self, object_name: str, values: dict[str, object], *, api: bool = False) -> str:
        """Insert a record; `api=True` applies the REST API's field-level checks."""
        with self.lock:
            table = self.table(object_name)
            if api and not table.spec.createable:
                raise RequestError(
                    400, "INVALID_TYPE_FOR_OPERATION", f"entity type {table.spec.name} does not support insert"
                )
            converted = self._convert(table, values, api=api, creating=True)
            row = int(table.append({}, 1)[0])
            now = self.now()
            actor = ref_code("User", self.actor_row)
            defaults: dict[str, object] = {
                "CreatedDate": now, "LastModifiedDate": now, "SystemModstamp": now,
                "CreatedById": actor, "LastModifiedById": actor, "OwnerId": actor,
                "CurrencyIsoCode": "USD", "IsActive": True, "Status": _default_status(table.spec),
                "Priority": "Normal", "OpportunityAccessForAccountOwner": "None", "IsAmount": True,
            }
            for name, value in defaults.items():
                if name in table.kinds and name not in converted:
                    table.set(row, name, value)
            for name, value in converted.items():
                table.set(row, name, value)
            self._derive(table, row, set(converted), now)
            return table.ids(np.array([row]))[0]

    def update(self, object_name: str, record_id: str, values: dict[str, object], *, api: bool = False) -> None:
        """Update fields of a record; bumps LastModifiedDate/SystemModstamp."""
        with self.lock:
            table = self.table(object_name)
            row = self._live_row(table, record_id)
            converted = self._convert(table, values, api=api, creating=False)
            self._check_hooks(record_id)
            now = self.now()
            changed = {name for name, value in converted.items() if not _same(table.get(row, name), value)}
            old_owner = int(table.get(row, "OwnerId")) if "OwnerId" in changed else -1
            for name, value in converted.items():
                table.set(row, name, value)
            self._touch(table, row, now)
            self._derive(table, row, changed, now)
            if table.spec.name == "Opportunity" and old_owner >= 0:
                self._owner_changed(row, old_owner, int(table.get(row, "OwnerId")), now)

    def upsert(
        self, object_name: str, ext_field: str, ext_value: str, values: dict[str, object], *, api: bool = False
    ) -> tuple[str, bool]:
        """Upsert by external id: (id, created)."""
        with self.lock:
            table = self.table(object_name)
            spec = table.spec.field(ext_field)
            if spec is None or not (spec.external_id or spec.name == "Id"):
                raise RequestError(
                    404, "NOT_FOUND", "Provided external ID field does not exist or is not accessible: " + ext_field
                )
            matches = self.find_by_external_id(table, spec.name, ext_value)
            if len(matches) > 1:
                raise RequestError(
                    300, "MULTIPLE_RECORDS", f"Multiple records found with {spec.name} = {ext_value}"
                )
            body = {k: v for k, v in values.items() if k.lower() != spec.name.lower()}
            if matches:
                record_id = matches[0]
                self.update(table.spec.name, record_id, body, api=api)
                return record_id, False
            if spec.name != "Id":
                body[spec.name] = ext_value
            return self.create(table.spec.name, body, api=api), True

    def delete(self, object_name: str, record_id: str) -> None:
        """Soft delete: IsDeleted=true, still visible to queryAll (the recycle bin)."""
        with self.lock:
            table = self.table(object_name)
            row = self._live_row(table, record_id)
            if not table.spec.has_is_deleted:
                table.purge(row)
                return
            self._check_hooks(record_id)
            table.set(row, "IsDeleted", True)
            self._touch(table, row, self.now())

    def undelete(self, object_name: str, record_id: str) -> None:
        with self.lock:
            table = self.table(object_name)
            row = table.row_of(record_id)
            if row is None or not table.spec.has_is_deleted:
                raise KeyError(record_id)
            table.set(row, "IsDeleted", False)
            self._touch(table, row, self.now())

    def hard_delete(self, object_name: str, record_id: str) -> None:
        """Purge a record: gone even from queryAll."""
        with self.lock:
            table = self.table(object_name)
            row = table.row_of(record_id)
            if row is None:
                raise KeyError(record_id)
            table.purge(row)

    # ---- dry runs (sObject Collections validate every record before writing any) -------------
    def check_create(self, object_name: str, values: dict[str, object]) -> None:
        """Raise RecordError/RequestError exactly as `create(api=True)` would, writing nothing."""
        with self.lock:
            table = self.table(object_name)
            if not table.spec.createable:
                raise RecordError(SaveError("INVALID_TYPE_FOR_OPERATION",
                                            f"entity type {table.spec.name} does not support insert"))
            self._convert(table, values, api=True, creating=True)

    def check_update(self, object_name: str, record_id: str, values: dict[str, object]) -> None:
        """Raise as `update(api=True)` would, writing nothing."""
        with self.lock:
            table = self.table(object_name)
            self._live_row(table, record_id)
            self._convert(table, values, api=True, creating=False)
            self._check_hooks(record_id)

    def check_upsert(self, object_name: str, ext_field: str, ext_value: str, values: dict[str, object]) -> None:
        """Raise as `upsert(api=True)` would, writing nothing."""
        with self.lock:
            table = self.table(object_name)
            existing = self.find_by_external_id(table, ext_field, ext_value)
            body = {k: v for k, v in values.items() if k.lower() != ext_field.lower()}
            if existing:
                self.check_update(object_name, existing[0], body)
            else:
                self.check_create(object_name, {**body, ext_field: ext_value})

    def check_delete(self, object_name: str, record_id: str) -> None:
        with self.lock:
            table = self.table(object_name)
            self._live_row(table, record_id)
            self._check_hooks(record_id)

    def find_by_external_id(self, table: Table, ext_field: str, ext_value: str) -> list[str]:
        """Ids of live records whose external id equals `ext_value` (case-insensitive, as Salesforce)."""
        spec = table.spec.field(ext_field)
        if spec is None:
            return []
        if spec.name == "Id":
            row = table.row_of(ext_value)
            return table.ids(np.array([row])) if row is not None else []
        live = ~table.purged
        if table.spec.has_is_deleted:
            live &= ~table.column("IsDeleted")
        wanted = ext_value.lower()
        if spec.storage == "str":
            # every upsert lands here: compare once per distinct value, then spread over rows by code
            match = (lowered(table.pools[spec.name]) == wanted)[table.codes(spec.name)]
        else:
            match = np.array([str(v or "").lower() == wanted for v in table.column(spec.name)], dtype=bool)
        return table.ids(np.flatnonzero(live & match))

    # ---- internals ---------------------------------------------------------------------------
    def _live_row(self, table: Table, record_id: str) -> int:
        """Row of a writable record; else the error a real org gives for that kind of Id."""
        parsed = ids.parse_id(record_id)
        if parsed is None or parsed[0] != table.spec.key_prefix:
            raise RecordError(SaveError(
                "MALFORMED_ID", f"{table.spec.label} ID: id value of incorrect type: {record_id}", ("Id",)
            ))
        row = parsed[1]
        if row < 0 or row >= table.n:
            raise RecordError(SaveError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id"))
        if table.purged[row] or (table.spec.has_is_deleted and table.get(row, "IsDeleted")):
            raise RecordError(SaveError("ENTITY_IS_DELETED", "entity is deleted"))
        return row

    def _check_hooks(self, record_id: str) -> None:
        message = self.hooks.failing_ids.get(record_id[:15])
        if message is not None:
            raise RecordError(SaveError("FIELD_CUSTOM_VALIDATION_EXCEPTION", message))

    def _touch(self, table: Table, row: int, now: np.datetime64) -> None:
        for name in ("LastModifiedDate", "SystemModstamp"):
            if name in table.kinds:
                table.set(row, name, now)
        if "LastModifiedById" in table.kinds:
            table.set(row, "LastModifiedById", ref_code("User", self.actor_row))

    def _convert(self, table: Table, values: dict[str, object], *, api: bool, creating: bool) -> dict[str, object]:
        """Client values -> storage values, with the API's checks when `api`."""
        out: dict[str, object] = {}
        not_writable: list[str] = []
        errors: list[SaveError] = []
        for name, value in values.items():
            if name == "attributes":
                continue
            if value == "":
                value = None  # Salesforce stores empty text as null
            spec = table.spec.field(name)
            if spec is None:
                raise RecordError(SaveError(
                    "INVALID_FIELD", f"No such column '{name}' on sobject of type {table.spec.name}"))
            if spec.name == "Id" and not creating:
                continue
            if api and not (spec.createable if creating else spec.updateable):
                not_writable.append(spec.name)
                continue
            if spec.storage in ("id", "compound"):
                not_writable.append(spec.name)
                continue
            try:
                stored = wire_to_storage(spec, value)
            except BadValue as exc:
                raise RequestError(400, "JSON_PARSER_ERROR", str(exc)) from exc
            if spec.storage == "ref" and value is not None:
                stored = self._resolve_ref(spec, str(value), errors)
            if api:
                _check_range(spec, value, stored, errors)
            out[spec.name] = stored
        if not_writable:
            errors.insert(0, SaveError(
                "INVALID_FIELD_FOR_INSERT_UPDATE",
                f"Unable to create/update fields: {', '.join(not_writable)}. Please check the security settings "
                "of this field and verify that it is read/write for your profile or permission set.",
                tuple(not_writable),
            ))
        if api and creating:
            missing = [
                f.name for f in table.spec.fields
                if not f.nillable and f.createable and not f.defaulted_on_create
                and f.type != "boolean" and _is_null(out.get(f.name))
            ]
            if missing:
                errors.append(SaveError(
                    "REQUIRED_FIELD_MISSING", f"Required fields are missing: [{', '.join(missing)}]", tuple(missing)
                ))
        if errors:
            raise RecordError(*errors)
        return out

    def _resolve_ref(self, spec: FieldSpec, value: str, errors: list[SaveError]) -> int:
        code = id_to_ref(value)
        parsed = ids.parse_id(value)
        target = BY_PREFIX.get(parsed[0]) if parsed else None
        if code is None or (target is not None and target.name not in spec.reference_to):
            if spec.storage_override == "str":
                return value  # type: ignore[return-value]
            errors.append(SaveError("FIELD_INTEGRITY_EXCEPTION",
                                    f"{spec.label}: id value of incorrect type: {value}", (spec.name,)))
            return -1
        if spec.storage_override == "str":
            return value  # type: ignore[return-value]
        if code == NO_MATCH_REF or target is None:
            errors.append(SaveError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", (spec.name,)))
            return -1
        table = self.tables[target.name]
        row = code & ROW_MASK
        if row >= table.n or table.purged[row]:
            errors.append(SaveError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", (spec.name,)))
        return code

    def _derive(self, table: Table, row: int, changed: set[str], now: np.datetime64) -> None:
        """Fields Salesforce computes: stage flags, names, activity account, stage history."""
        name = table.spec.name
        if name == "Opportunity" and "StageName" in changed:
            stage = STAGE_INFO.get(str(table.get(row, "StageName")))
            if stage is not None:
                _, probability, category, closed, won = stage
                table.set(row, "IsClosed", closed)
                table.set(row, "IsWon", won)
                table.set(row, "Probability", probability)
                table.set(row, "ForecastCategoryName", category)
        if name == "Opportunity" and changed & set(_HISTORY_TRIGGERS):
            self._append_history(table, row, now)
        if name in ("User", "Lead") and changed & {"FirstName", "LastName"}:
            first, last = table.get(row, "FirstName"), table.get(row, "LastName")
            table.set(row, "Name", " ".join(p for p in (first, last) if p))
        if name == "Task" and "Status" in changed:
            table.set(row, "IsClosed", table.get(row, "Status") in ("Completed", "Deferred"))
        if name in ("Task", "Event") and "WhatId" in changed:
            table.set(row, "AccountId", self._account_of(int(table.get(row, "WhatId"))))

    def _account_of(self, what: int) -> int:
        if what < 0:
            return -1
        obj = what >> REF_SHIFT
        if obj == ref_code("Account", 0) >> REF_SHIFT:
            return what
        if obj == ref_code("Opportunity", 0) >> REF_SHIFT:
            return int(self.tables["Opportunity"].get(what & ROW_MASK, "AccountId"))
        return -1

    def _owner_changed(self, opp_row: int, old: int, new: int, now: np.datetime64) -> None:
        """Owner history (ids row, then names row) and the old owner's splits moved to the new owner."""
        users = self.tables["User"]
        id_of = {code: users.ids(np.array([code & ROW_MASK]))[0] for code in (old, new)}
        name_of = {code: users.get(code & ROW_MASK, "Name") for code in (old, new)}
        history = self.tables["OpportunityFieldHistory"]
        for data_type, values in (("EntityId", id_of), ("Text", name_of)):
            history.append({
                "OpportunityId": ref_code("Opportunity", opp_row), "Field": "Owner", "DataType": data_type,
                "OldValue": values[old], "NewValue": values[new], "CreatedDate": now,
                "CreatedById": ref_code("User", self.actor_row), "IsDeleted": False,
            }, 1)
        splits = self.tables["OpportunitySplit"]
        if splits.n:
            mine = (splits.column("OpportunityId") == ref_code("Opportunity", opp_row)) & (
                splits.column("SplitOwnerId") == old) & ~splits.purged
            for split_row in np.flatnonzero(mine):
                splits.set(int(split_row), "SplitOwnerId", new)
                self._touch(splits, int(split_row), now)

    def _append_history(self, opps: Table, row: int, now: np.datetime64) -> None:
        history = self.tables["OpportunityHistory"]
        amount = opps.get(row, "Amount")
        probability = opps.get(row, "Probability")
        history.append({
            "OpportunityId": ref_code("Opportunity", row),
            "CreatedById": ref_code("User", self.actor_row),
            "CreatedDate": now,
            "SystemModstamp": now,
            "StageName": opps.get(row, "StageName"),
            "Amount": amount,
            "ExpectedRevenue": amount * probability / 100.0,
            "CloseDate": opps.get(row, "CloseDate"),
            "Probability": probability,
            "ForecastCategory": opps.get(row, "ForecastCategoryName"),
            "IsDeleted": False,
            "CurrencyIsoCode": opps.get(row, "CurrencyIsoCode"),
        }, 1)


def wire_value(table: Table, spec: FieldSpec, rows: np.ndarray) -> list[Any]:
    """REST wire values of one field for some rows (ids, compound addresses included)."""
    if spec.storage == "id":
        return table.ids(rows)
    if spec.storage == "compound":
        parts = {p: table.take(p, rows).tolist() for p in spec.components}
        keys = ("street", "city", "state", "postalCode", "country")
        out: list[object] = []
        for i in range(len(rows)):
            values = [parts[p][i] for p in spec.components]
            if all(v is None for v in values):
                out.append(None)
                continue
            address: dict[str, object] = dict(zip(keys, values, strict=True))
            address.update({"geocodeAccuracy": None, "latitude": None, "longitude": None})
            out.append(dict(sorted(address.items())))
        return out
    return column_to_wire(spec.storage, table.take(spec.name, rows))


def _default_status(spec: ObjectSpec) -> str | None:
    return {"Lead": "Open - Not Contacted", "Task": "Not Started"}.get(spec.name)


def _is_null(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, float | np.floating):
        return bool(np.isnan(value))
    if isinstance(value, np.datetime64):
        return bool(np.isnat(value))
    return isinstance(value, int | np.integer) and bool(value < 0)


def _same(old: object, new: object) -> bool:
    if _is_null(old) and _is_null(new):
        return True
    try:
        return bool(old == new)
    except (TypeError, ValueError):
        return False


def _check_range(spec: FieldSpec, raw: object, stored: object, errors: list[SaveError]) -> None:
    if spec.storage == "str" and isinstance(stored, str) and spec.length and len(stored) > spec.length:
        errors.append(SaveError(
            "STRING_TOO_LONG",
            f"{spec.label}: data value too large: {stored[:40]} (max length={spec.length})",
            (spec.name,),
        ))
    if spec.storage in ("float", "int") and spec.precision and not _is_null(stored):
        limit = 10 ** (spec.precision - spec.scale)
        if abs(float(stored)) >= limit:  # type: ignore[arg-type]
            errors.append(SaveError(
                "NUMBER_OUTSIDE_VALID_RANGE",
                f"{spec.label}: value outside of valid range on numeric field: {raw}",
                (spec.name,),
            ))
