"""The write side's shared shapes: what a CRM says about a field, one record to write, one outcome.

Why here and not in `spm_sync/writeback/`: connectors may not import pipeline stages, yet both
writers must hand the write-back stage the same shapes; and the "split a batch the CRM refused as a
whole" rule is the same for both CRMs, so it lives once, next to the shapes it works on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

# How a value is formatted, whatever the CRM calls the type (Salesforce describe, HubSpot properties).
Kind = Literal["percent", "number", "integer", "text", "datetime", "date", "reference", "unsupported"]


@dataclass(frozen=True)
class FieldInfo:
    """One CRM field as its describe / properties API reports it, reduced to what formatting needs."""

    name: str
    kind: Kind
    crm_type: str
    scale: int | None = None  # decimal places kept (None: the CRM does not say)
    length: int | None = None  # text fields: the most characters
    updateable: bool = True
    createable: bool = True
    required: bool = False  # a null cannot be written
    unique: bool = False  # usable as an external id / idProperty
    reference_to: tuple[str, ...] = ()  # lookup fields: the object types the field may point at


@dataclass(frozen=True)
class RecordWrite:
    """One record to write: `key` is the CRM record id (update) or the external id value (upsert)."""

    key: str
    values: dict[str, Any]


@dataclass(frozen=True)
class RecordResult:
    """What the CRM did with one record; `record_id` is the CRM id when it told us."""

    key: str
    ok: bool
    record_id: str | None = None
    error_code: str | None = None
    error_message: str | None = None


@dataclass(frozen=True)
class CurrentRecord:
    """A record as read back from the CRM: its id and the current values of the fields we manage."""

    record_id: str
    values: dict[str, Any] = field(default_factory=dict)


class BatchRejected(Exception):
    """The CRM refused a whole batch without per-record results (HTTP 400, an all-or-none failure)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def chunks(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    """Consecutive slices of at most `size` items."""
    return [items[i : i + size] for i in range(0, len(items), size)]


def send_splitting(
    records: Sequence[RecordWrite], send: Callable[[Sequence[RecordWrite]], list[RecordResult]]
) -> list[RecordResult]:
    """Send one batch; when the CRM refuses it as a whole, send each half on its own, recursively.

    Why: one malformed record must not block the others. A single record the CRM still refuses is
    recorded as rejected with the CRM's code and message; it is never retried within the run.
    """
    if not records:
        return []
    try:
        return send(records)
    except BatchRejected as exc:
        if len(records) == 1:
            return [RecordResult(records[0].key, False, error_code=exc.code, error_message=exc.message)]
    middle = len(records) // 2
    return send_splitting(records[:middle], send) + send_splitting(records[middle:], send)


# ---- `writeback setup`: what must exist in the CRM, and the plan that gets it there ---------------

FieldType = Literal["percent", "currency", "number", "integer", "text", "datetime", "reference"]
Status = Literal["exists", "create", "conflict"]

# Field kinds (as describe / the properties API report them) that can serve as each wanted type.
ACCEPTS: dict[str, tuple[str, ...]] = {
    "percent": ("percent",),
    "currency": ("number",),
    "number": ("number", "integer"),
    "integer": ("integer", "number"),
    "text": ("text",),
    "datetime": ("datetime",),
    "reference": ("reference",),
}


@dataclass(frozen=True)
class NewField:
    """A field `writeback setup` makes sure exists: its type, scale or length, and what it is for."""

    name: str
    label: str
    type: FieldType
    scale: int = 0  # decimal places (percent, currency, number)
    length: int = 0  # text
    reference_to: str | None = None  # reference: the object it looks up
    external_id: bool = False  # unique external id (the upsert key)


@dataclass(frozen=True)
class NewObject:
    """A custom object an upsert target writes to, with the label of its Name field."""

    name: str
    label: str
    plural: str
    name_label: str


@dataclass(frozen=True)
class Change:
    """One line of the setup plan: something that exists, will be created, or is in the way."""

    what: str  # "object", "field", "property group", "permission set", "field permission", "assignment"
    subject: str  # e.g. "User.Quota_Attainment__c"
    detail: str  # e.g. "Percent(18, 2)"
    status: Status
    payload: Any = field(default=None, compare=False, repr=False)  # what the connector sends to create it


def field_conflict(wanted: NewField, found: FieldInfo) -> str | None:
    """Why an existing field cannot serve as `wanted` (None when it can); setup never changes it."""
    if found.kind not in ACCEPTS[wanted.type]:
        return f"exists as {found.crm_type}; setup needs {wanted.type}"
    if wanted.external_id and not found.unique:
        return "exists but is not an external id / unique"
    if wanted.reference_to and found.reference_to and wanted.reference_to not in found.reference_to:
        return f"looks up {', '.join(found.reference_to)}; setup needs {wanted.reference_to}"
    return None
