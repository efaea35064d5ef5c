"""`writeback setup` on Salesforce: custom objects and fields (Tooling API), then field-level security.

Why a permission set: a field created through the Tooling API is visible to nobody until field-level
security grants it, so setup creates `SPM_Sync_KPIs` (read on every KPI field, for the people who
read them) and `SPM_Sync_KPIs_Edit` (read and edit, for the integration user that writes them), adds
one ObjectPermissions row per custom object and set (a field grant needs its object readable) and one
FieldPermissions row per field and set, and assigns the sets to the users and profiles named in the
source's `kpi_access`. FieldPermissions and assignments are ordinary sObjects: they go out in
sObject Collections batches of 200, so the access part costs a handful of calls whatever the size.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from spm_sync.config import SalesforceSource
from spm_sync.connectors.salesforce.client import SalesforceApiError
from spm_sync.connectors.salesforce.rest import query_pages
from spm_sync.connectors.salesforce.soql import escape_string, select
from spm_sync.connectors.salesforce.writer import SalesforceWriter
from spm_sync.connectors.writing import Change, NewField, NewObject, Status, chunks, field_conflict
from spm_sync.errors import ConfigError, ConnectorError

PRECISION = 18
COLLECTION_MAX = 200
EDIT_SUFFIX = "_Edit"
NEEDED_PERMISSION = {  # what the running user must hold to create each kind of thing
    "object": "Customize Application",
    "field": "Customize Application",
    "PermissionSetAssignment": "Assign Permission Sets",
}


def field_metadata(wanted: NewField) -> dict[str, Any]:
    """The Metadata API description of one field (the `Metadata` of a Tooling CustomField body)."""
    meta: dict[str, Any] = {"label": wanted.label, "description": "Written by spm-sync write-back"}
    if wanted.type in ("percent", "currency", "number", "integer"):
        kind = {"percent": "Percent", "currency": "Currency"}.get(wanted.type, "Number")
        meta.update(type=kind, precision=PRECISION, scale=0 if wanted.type == "integer" else wanted.scale)
    elif wanted.type == "text":
        meta.update(type="Text", length=wanted.length)
        if wanted.external_id:
            meta.update(externalId=True, unique=True, caseSensitive=False)
    elif wanted.type == "datetime":
        meta["type"] = "DateTime"
    else:
        relationship = wanted.name.removesuffix("__c")
        meta.update(type="Lookup", referenceTo=wanted.reference_to, relationshipName=relationship,
                    relationshipLabel=wanted.label, deleteConstraint="SetNull")
    return meta


def describe_type(wanted: NewField) -> str:
    """How the plan shows a field's type: `Percent(18, 2)`, `Text(80), external id`, `Lookup(User)`."""
    meta = field_metadata(wanted)
    kind = meta["type"]
    if kind in ("Percent", "Currency", "Number"):
        return f"{kind}({meta['precision']}, {meta['scale']})"
    if kind == "Text":
        return f"Text({meta['length']})" + (", external id, unique" if wanted.external_id else "")
    if kind == "Lookup":
        return f"Lookup({wanted.reference_to})"
    return str(kind)


@dataclass(frozen=True)
class Grant:
    """One FieldPermissions row wanted: `field` is `Object.Field__c`."""

    permission_set: str
    object: str
    field: str
    edit: bool


class SalesforceInstaller:
    """Plans and creates custom objects, fields and their field-level security on one org."""

    creates_objects = True

    def __init__(self, writer: SalesforceWriter, config: SalesforceSource) -> None:
        self.writer = writer
        self.client = writer.client
        self.access = config.kpi_access
        self._set_ids: dict[str, str] = {}  # permission set name -> Id, as planned

    # ---- plan ----------------------------------------------------------------------------------
    def plan(self, object_name: str, new_object: NewObject | None, fields: Sequence[NewField]) -> list[Change]:
        """What exists, what will be created (with its type), what conflicts, on one object."""
        changes: list[Change] = []
        detail = f"custom object '{new_object.label}', Name: Text ({new_object.name_label})" if new_object else ""
        try:
            existing = self.writer.fields(object_name)
        except ConfigError:
            if new_object is None:
                raise
            changes.append(Change("object", object_name, detail, "create", new_object))
            existing = {}
        else:
            if new_object is not None:
                changes.append(Change("object", object_name, detail, "exists"))
        lowered = {name.lower(): info for name, info in existing.items()}
        for wanted in fields:
            subject = f"{object_name}.{wanted.name}"
            found = lowered.get(wanted.name.lower())
            if found is None:
                changes.append(Change("field", subject, describe_type(wanted), "create", (object_name, wanted)))
                continue
            conflict = field_conflict(wanted, found)
            detail = f"{conflict} ({found.crm_type} field {found.name})" if conflict else describe_type(wanted)
            changes.append(Change("field", subject, detail, "conflict" if conflict else "exists"))
        return changes

    def plan_access(self, fields: Sequence[tuple[str, NewField]]) -> list[Change]:
        """Permission sets, one FieldPermissions row per field and set, and the assignments."""
        read_set, edit_set = self.access.permission_set, self.access.permission_set + EDIT_SUFFIX
        sets = self._permission_sets([read_set, edit_set])
        self._set_ids = dict(sets)  # apply adds the ones it creates
        changes = [
            Change("permission set", name, "read" if name == read_set else "read and edit",
                   "exists" if name in sets else "create", name)
            for name in (read_set, edit_set)
        ]
        custom_objects = sorted({o for o, _ in fields if o.endswith("__c")})
        allowed = self._object_granted(list(sets.values()))
        for object_name in custom_objects:
            for name, edit in ((read_set, False), (edit_set, True)):
                known = sets.get(name)
                status: Status = "exists" if known and (known, object_name.lower()) in allowed else "create"
                changes.append(Change("object permission", f"{name}: {object_name}",
                                      "read, create and edit" if edit else "read", status,
                                      Grant(name, object_name, object_name, edit)))
        granted = self._granted(list(sets.values()))
        for object_name, wanted in fields:
            full = f"{object_name}.{wanted.name}"
            for name, edit in ((read_set, False), (edit_set, True)):
                known = sets.get(name)
                status = "exists" if known and (known, full.lower()) in granted else "create"
                changes.append(Change("field permission", f"{name}: {full}", "read and edit" if edit else "read",
                                      status, Grant(name, object_name, full, edit)))
        changes += self._assignments(sets, read_set, edit_set)
        return changes

    def _query(self, object_name: str, soql: str) -> list[dict[str, Any]]:
        return [row for page in query_pages(self.client, object_name, soql, include_deleted=False)
                for row in page.records]

    def _permission_sets(self, names: list[str]) -> dict[str, str]:
        """Name -> Id of the permission sets that exist."""
        where = f"Name IN ({', '.join(escape_string(n) for n in names)})"
        rows = self._query("PermissionSet", select("PermissionSet", ["Id", "Name"], where=[where]))
        return {str(r["Name"]): str(r["Id"]) for r in rows}

    def _object_granted(self, set_ids: list[str]) -> set[tuple[str, str]]:
        """(permission set Id, object lowercased) of the object permissions already there."""
        if not set_ids:
            return set()
        where = f"ParentId IN ({', '.join(escape_string(i) for i in set_ids)})"
        rows = self._query("ObjectPermissions", select("ObjectPermissions", ["ParentId", "SobjectType"], where=[where]))
        return {(str(r["ParentId"]), str(r["SobjectType"]).lower()) for r in rows}

    def _granted(self, set_ids: list[str]) -> set[tuple[str, str]]:
        """(permission set Id, `object.field` lowercased) of the field permissions already there."""
        if not set_ids:
            return set()
        where = f"ParentId IN ({', '.join(escape_string(i) for i in set_ids)})"
        rows = self._query("FieldPermissions", select("FieldPermissions", ["ParentId", "Field"], where=[where]))
        return {(str(r["ParentId"]), str(r["Field"]).lower()) for r in rows}

    def _assignments(self, sets: dict[str, str], read_set: str, edit_set: str) -> list[Change]:
        """Who gets which set: `users` and every active user of `profiles` read, `editors` edit."""
        wanted: list[tuple[str, str, str]] = []  # (set name, user id, who)
        usernames = sorted({*self.access.users, *self.access.editors})
        found: dict[str, str] = {}
        if usernames:
            where = f"Username IN ({', '.join(escape_string(u) for u in usernames)})"
            found = {str(r["Username"]).lower(): str(r["Id"])
                     for r in self._query("User", select("User", ["Id", "Username"], where=[where]))}
        changes: list[Change] = []
        for names, set_name in ((self.access.users, read_set), (self.access.editors, edit_set)):
            for username in names:
                user_id = found.get(username.lower())
                if user_id is None:
                    changes.append(Change("assignment", f"{set_name} -> {username}", "no user with this Username",
                                          "conflict"))
                else:
                    wanted.append((set_name, user_id, username))
        for profile, user_id, username in self._profile_users():
            wanted.append((read_set, user_id, f"{username} (profile {profile})"))
        existing = self._assigned([i for i in sets.values()])
        seen: set[tuple[str, str]] = set()
        for set_name, user_id, who in wanted:
            if (set_name, user_id) in seen:
                continue
            seen.add((set_name, user_id))
            known = sets.get(set_name)
            status: Status = "exists" if known and (known, user_id[:15]) in existing else "create"
            changes.append(Change("assignment", f"{set_name} -> {who}", "permission set assignment", status,
                                  (set_name, user_id)))
        return changes

    def _profile_users(self) -> list[tuple[str, str, str]]:
        """(profile, user Id, Username) of every active user of the profiles in `kpi_access.profiles`."""
        if not self.access.profiles:
            return []
        where = f"Name IN ({', '.join(escape_string(p) for p in self.access.profiles)})"
        profiles = {str(r["Id"]): str(r["Name"])
                    for r in self._query("Profile", select("Profile", ["Id", "Name"], where=[where]))}
        missing = sorted(set(self.access.profiles) - set(profiles.values()))
        if missing:
            raise ConfigError(f"source {self.writer.config.name}: kpi_access.profiles: no profile named "
                              f"{', '.join(missing)}")
        where = f"ProfileId IN ({', '.join(escape_string(i) for i in profiles)}) AND IsActive = true"
        rows = self._query("User", select("User", ["Id", "Username", "ProfileId"], where=[where], order_by=["Id"]))
        return [(profiles[str(r["ProfileId"])], str(r["Id"]), str(r["Username"])) for r in rows]

    def _assigned(self, set_ids: list[str]) -> set[tuple[str, str]]:
        if not set_ids:
            return set()
        where = f"PermissionSetId IN ({', '.join(escape_string(i) for i in set_ids)})"
        rows = self._query("PermissionSetAssignment",
                           select("PermissionSetAssignment", ["PermissionSetId", "AssigneeId"], where=[where]))
        return {(str(r["PermissionSetId"]), str(r["AssigneeId"])[:15]) for r in rows}

    # ---- apply ---------------------------------------------------------------------------------
    def apply(self, changes: Sequence[Change]) -> None:
        """Objects, then fields (one Tooling call each), then sets, grants and assignments in batches."""
        todo = [c for c in changes if c.status == "create"]
        for change in (c for c in todo if c.what == "object"):
            new: NewObject = change.payload
            meta = {"label": new.label, "pluralLabel": new.plural, "deploymentStatus": "Deployed",
                    "sharingModel": "ReadWrite", "nameField": {"label": new.name_label, "type": "Text"},
                    "description": "Written by spm-sync write-back"}
            self._tooling("CustomObject", new.name, meta, change)
            self.writer.forget_fields(new.name)
        for change in (c for c in todo if c.what == "field"):
            object_name, wanted = change.payload
            self._tooling("CustomField", f"{object_name}.{wanted.name}", field_metadata(wanted), change)
            self.writer.forget_fields(object_name)
        set_ids = self._set_ids
        for change in (c for c in todo if c.what == "permission set"):
            label = change.subject.replace("_", " ")
            body = {"Name": change.subject, "Label": label, "Description": "spm-sync KPI fields: " + change.detail}
            answer = self._send("POST", "sobjects/PermissionSet", body, change)
            set_ids[change.subject] = str(answer["id"])
        objects = [c.payload for c in todo if c.what == "object permission"]  # before their fields' grants
        self._create_many("ObjectPermissions", [
            {"ParentId": set_ids[g.permission_set], "SobjectType": g.object, "PermissionsRead": True,
             "PermissionsCreate": g.edit, "PermissionsEdit": g.edit, "PermissionsDelete": False} for g in objects])
        grants = [c.payload for c in todo if c.what == "field permission"]
        self._create_many("FieldPermissions", [
            {"ParentId": set_ids[g.permission_set], "SobjectType": g.object, "Field": g.field,
             "PermissionsRead": True, "PermissionsEdit": g.edit} for g in grants])
        self._create_many("PermissionSetAssignment", [
            {"PermissionSetId": set_ids[name], "AssigneeId": user_id}
            for name, user_id in (c.payload for c in todo if c.what == "assignment")])

    def _tooling(self, kind: str, full_name: str, meta: dict[str, Any], change: Change) -> None:
        self._send("POST", f"tooling/sobjects/{kind}", {"FullName": full_name, "Metadata": meta}, change)

    def _send(self, method: str, path: str, body: Any, change: Change) -> Any:
        object_name, _, field_name = change.subject.partition(".")
        try:
            reply = self.client.request(method, path, json=body, object=object_name)
        except SalesforceApiError as exc:
            why = exc.message
            if exc.status == 403:
                needed = NEEDED_PERMISSION.get(change.what, "Manage Profiles and Permission Sets")
                why = f"the integration user lacks the {needed} permission (403 {exc.error_code})"
            raise ConnectorError(f"creating {change.what} {change.subject}: {why}", source=self.writer.config.name,
                                 object=object_name, field=field_name or None) from None
        return reply.body

    def _create_many(self, object_name: str, records: list[dict[str, Any]]) -> None:
        """sObject Collections create, 200 a call, all or none: a refused grant names its record."""
        for batch in chunks(records, COLLECTION_MAX):
            payload = {"allOrNone": True, "records": [{"attributes": {"type": object_name}, **r} for r in batch]}
            change = Change(object_name, object_name, "", "create")
            answers = self._send("POST", "composite/sobjects", payload, change)
            for record, answer in zip(batch, answers, strict=True):
                if not answer.get("success"):
                    error = (answer.get("errors") or [{}])[0]
                    raise ConnectorError(
                        f"creating {object_name} {record}: {error.get('statusCode')} {error.get('message')}",
                        source=self.writer.config.name, object=object_name,
                    )
