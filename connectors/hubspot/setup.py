"""`writeback setup` on HubSpot: the `spm_sync` property group and typed KPI properties.

Why the display hints: a number property shows a value as it is stored, so a ratio is stored as a
percent figure (81.25) in a property with `numberDisplayHint: percentage` (shown "81.25 %", the same
figure a Salesforce Percent field shows), and money in one with `numberDisplayHint: currency`.
Reads are one properties list and one group read per object; writes are one call per created thing
(the properties API has no batch create for groups, and batch property create answers per input
with the same cost in the rate limit).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from spm_sync.config import HubSpotSource
from spm_sync.connectors.hubspot.client import Refused
from spm_sync.connectors.hubspot.writer import HubSpotWriter
from spm_sync.connectors.writing import Change, NewField, NewObject, field_conflict
from spm_sync.errors import ConfigError, ConnectorError

GROUP = "spm_sync"
GROUP_LABEL = "SPM Sync KPIs"
# wanted type -> (property type, fieldType, numberDisplayHint, what the plan says)
PROPERTY_TYPES: dict[str, tuple[str, str, str | None, str]] = {
    "percent": ("number", "number", "percentage", "number, shown as a percentage"),
    "currency": ("number", "number", "currency", "number, shown as currency"),
    "number": ("number", "number", "formatted", "number"),
    "integer": ("number", "number", "formatted", "number"),
    "text": ("string", "text", None, "string"),
    "datetime": ("datetime", "date", None, "datetime"),
}


def property_body(wanted: NewField) -> dict[str, Any]:
    """The POST /crm/v3/properties/{objectType} body for one wanted field."""
    kind, field_type, hint, _ = PROPERTY_TYPES[wanted.type]
    body: dict[str, Any] = {
        "name": wanted.name, "label": wanted.label, "type": kind, "fieldType": field_type, "groupName": GROUP,
        "description": "Written by spm-sync write-back",
    }
    if hint:
        body["numberDisplayHint"] = hint
        body["showCurrencySymbol"] = hint == "currency"
    if wanted.external_id:
        body["hasUniqueValue"] = True
    return body


class HubSpotInstaller:
    """Plans and creates the property group and properties of the targets on one portal."""

    creates_objects = False  # custom objects come from HubSpot's schemas API, outside write-back setup

    def __init__(self, writer: HubSpotWriter, config: HubSpotSource) -> None:
        self.writer = writer
        self.client = writer.client

    def plan(self, object_name: str, new_object: NewObject | None, fields: Sequence[NewField]) -> list[Change]:
        """What exists, what will be created (with its type), what conflicts, on one object type."""
        existing = self.writer.fields(object_name)  # ConfigError when the object type does not exist
        unsupported = [f.name for f in fields if f.type not in PROPERTY_TYPES]
        if unsupported:
            raise ConfigError(f"source {self.writer.config.name}: HubSpot has no lookup properties "
                              f"({', '.join(unsupported)} on {object_name}): remove lookup_field from the target")
        changes = [self._group(object_name)]
        lowered = {name.lower(): info for name, info in existing.items()}
        for wanted in fields:
            subject = f"{object_name}.{wanted.name}"
            detail = PROPERTY_TYPES[wanted.type][3] + (", unique" if wanted.external_id else "")
            found = lowered.get(wanted.name.lower())
            if found is None:
                changes.append(Change("property", subject, detail, "create", (object_name, property_body(wanted))))
                continue
            conflict = field_conflict(wanted, found)
            changes.append(Change("property", subject, conflict or detail, "conflict" if conflict else "exists"))
        return changes

    def _group(self, object_name: str) -> Change:
        subject = f"{object_name}.{GROUP}"
        try:
            self.client.request("GET", self.client.path("properties", object_name, "groups", GROUP),
                                object_name=object_name)
        except Refused as exc:
            if exc.status != 404:
                raise self._explained(exc, f"reading property group {subject}") from None
            body = {"name": GROUP, "label": GROUP_LABEL, "displayOrder": -1}
            return Change("property group", subject, GROUP_LABEL, "create", (object_name, body))
        return Change("property group", subject, GROUP_LABEL, "exists")

    def plan_access(self, fields: Sequence[tuple[str, NewField]]) -> list[Change]:
        """HubSpot has no field-level security to grant: properties are visible to every user."""
        return []

    def apply(self, changes: Sequence[Change]) -> None:
        """Create the group(s) first, then the properties, one call each."""
        ordered = sorted((c for c in changes if c.status == "create"), key=lambda c: c.what != "property group")
        for change in ordered:
            object_name, body = change.payload
            parts = ("groups",) if change.what == "property group" else ()
            try:
                self.client.request("POST", self.client.path("properties", object_name, *parts), json=body,
                                    object_name=object_name)
            except Refused as exc:
                raise self._explained(exc, f"creating {change.what} {change.subject}") from None
            self.writer.forget_fields(object_name)

    def _explained(self, exc: Refused, doing: str) -> ConnectorError:
        if exc.category == "MISSING_SCOPES":
            why = "the private app lacks the scope to define properties (crm.schemas.<object>.write): grant it"
        else:
            why = exc.detail or str(exc.status)
        return ConnectorError(f"{doing}: HubSpot refused ({exc.status} {exc.category or ''}): {why}".replace(" )", ")"),
                              source=self.writer.config.name, object=exc.object)
