"""Owners, properties, pipelines, v4 associations and account-info endpoints.

Why together: none of them page through object tables; they describe the portal (who owns what,
which properties and stages exist, how records link) and are read once per sync.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from spm_sync.sandbox.hubspot import errors
from spm_sync.sandbox.hubspot.objects_api import int_arg, now_iso, object_type_of
from spm_sync.sandbox.hubspot.portal import Owner, Portal
from spm_sync.sandbox.hubspot.schema import (
    BOOL,
    DATE,
    DATETIME,
    DEAL_STAGES,
    ENUMERATION,
    NUMBER,
    STRING,
    PropertyDef,
    association_types,
    pair_types,
)
from spm_sync.sandbox.hubspot.values import format_datetime
from spm_sync.sandbox.server import Request, Response

OWNERS_LIMIT_MAX = 500
ASSOC_BATCH_MAX = 1000
ASSOC_PAGE = 500
_PIPELINE_STAMP_MS = 1_577_836_800_000  # 2020-01-01: when the default pipeline "was created"
_PROPERTY_TYPES = {STRING, NUMBER, DATE, DATETIME, ENUMERATION, BOOL}
NUMBER_DISPLAY_HINTS = {None, "unformatted", "formatted", "currency", "percentage", "duration", "probability"}


def owner_json(owner: Owner) -> dict[str, Any]:
    return {
        "id": str(owner.id),
        "email": owner.email,
        "type": "PERSON",
        "firstName": owner.first_name,
        "lastName": owner.last_name,
        "userId": owner.user_id,
        "userIdIncludingInactive": owner.user_id,
        "createdAt": format_datetime(owner.created_ms),
        "updatedAt": format_datetime(owner.updated_ms),
        "archived": owner.archived,
        "teams": [{"id": t.id, "name": t.name, "primary": t.primary} for t in owner.teams],
    }


def property_json(object_type: str, prop: PropertyDef) -> dict[str, Any]:
    out: dict[str, Any] = {
        "updatedAt": format_datetime(_PIPELINE_STAMP_MS),
        "createdAt": format_datetime(_PIPELINE_STAMP_MS),
        "name": prop.name,
        "label": prop.label,
        "type": prop.type,
        "fieldType": prop.effective_field_type,
        "description": "",
        "groupName": prop.group,
        "options": [{"label": o, "value": o, "displayOrder": i, "hidden": False}
                    for i, o in enumerate(prop.options)],
        "displayOrder": -1,
        "calculated": prop.calculated,
        "externalOptions": prop.name == "hubspot_owner_id",
        "hasUniqueValue": prop.unique,
        "hidden": False,
        "hubspotDefined": prop.hubspot_defined,
        "modificationMetadata": {"archivable": not prop.hubspot_defined, "readOnlyDefinition": prop.hubspot_defined,
                                 "readOnlyValue": prop.read_only},
        "formField": not prop.read_only,
        "dataSensitivity": "non_sensitive",
    }
    if prop.type == NUMBER:
        out["numberDisplayHint"] = prop.number_display_hint or "formatted"
        out["showCurrencySymbol"] = prop.show_currency_symbol
    if prop.hubspot_defined:
        out.pop("createdAt")
    return out


def legacy_property_json(object_type: str, prop: PropertyDef) -> dict[str, Any]:
    """The v2 shape of a property: v3's fields, `deleted` instead of `archived`, stamps as epoch ms."""
    out = property_json(object_type, prop)
    out.pop("modificationMetadata")
    out.update(deleted=False, createdAt=_PIPELINE_STAMP_MS, updatedAt=_PIPELINE_STAMP_MS,
               readOnlyValue=prop.read_only, readOnlyDefinition=prop.hubspot_defined)
    return out


def group_json(name: str, label: str, display_order: int) -> dict[str, Any]:
    return {"name": name, "label": label, "displayOrder": display_order, "archived": False}


def stage_json(index: int, stage: tuple[str, str, str, bool]) -> dict[str, Any]:
    stage_id, label, probability, closed = stage
    stamp = format_datetime(_PIPELINE_STAMP_MS)
    return {
        "label": label, "displayOrder": index,
        "metadata": {"isClosed": "true" if closed else "false", "probability": probability},
        "id": stage_id, "createdAt": stamp, "updatedAt": stamp, "archived": False,
        "writePermissions": "CRM_PERMISSIONS_ENFORCEMENT",
    }


def pipeline_json() -> dict[str, Any]:
    stamp = format_datetime(_PIPELINE_STAMP_MS)
    return {
        "label": "Sales Pipeline", "displayOrder": 0, "id": "default",
        "stages": [stage_json(i, s) for i, s in enumerate(DEAL_STAGES)],
        "createdAt": stamp, "updatedAt": stamp, "archived": False,
    }


class MetaApi:
    """Handlers for the portal-describing endpoints."""

    def __init__(self, portal: Portal, base_url: Callable[[], str], daily_limit: int,
                 daily_used: Callable[[], int]) -> None:
        self.portal = portal
        self.base_url = base_url
        self.daily_limit = daily_limit
        self.daily_used = daily_used

    def _owners_scope(self) -> None:
        if not self.portal.has_scope("owners"):
            raise errors.HttpError(errors.missing_scopes(["crm.objects.owners.read"]))

    def owners(self, request: Request) -> Response:
        self._owners_scope()
        limit = max(1, min(int_arg(request, "limit", 100), OWNERS_LIMIT_MAX))
        archived = (request.arg("archived") or "false").lower() == "true"
        email = (request.arg("email") or "").lower()
        after = int_arg(request, "after", 0)
        with self.portal.lock:
            matching = [o for o in sorted(self.portal.owners, key=lambda o: o.id)
                        if o.archived == archived and (not email or o.email.lower() == email) and o.id >= after]
        page = matching[:limit]
        payload: dict[str, Any] = {"results": [owner_json(o) for o in page]}
        if len(matching) > limit:
            next_after = str(matching[limit].id)
            payload["paging"] = {"next": {"after": next_after,
                                          "link": f"{self.base_url()}/crm/v3/owners/?after={next_after}"}}
        return Response.json(payload)

    def owner(self, request: Request) -> Response:
        self._owners_scope()
        key = request.params["owner_id"]
        by_user = (request.arg("idProperty") or "id") == "userId"
        archived = (request.arg("archived") or "false").lower() == "true"
        with self.portal.lock:
            for owner in self.portal.owners:
                if str(owner.user_id if by_user else owner.id) == key and owner.archived == archived:
                    return Response.json(owner_json(owner))
        raise errors.not_found()

    def properties(self, request: Request) -> Response:
        object_type = object_type_of(self.portal, request.params["object_type"])
        with self.portal.lock:
            props = list(self.portal.properties[object_type].values())
        return Response.json({"results": [property_json(object_type, p) for p in props]})

    def properties_v2(self, request: Request) -> Response:
        """Legacy `GET /properties/v2/{objectType}/properties`: a bare JSON array, stamps in epoch ms."""
        object_type = object_type_of(self.portal, request.params["object_type"])
        with self.portal.lock:
            props = list(self.portal.properties[object_type].values())
        return Response.json([legacy_property_json(object_type, p) for p in props])

    def schemas(self, request: Request) -> Response:
        """`GET /crm/v3/schemas`: the portal's custom object schemas (the sandbox defines none)."""
        return Response.json({"results": []})

    def property(self, request: Request) -> Response:
        object_type = object_type_of(self.portal, request.params["object_type"])
        prop = self.portal.property(object_type, request.params["name"])
        if prop is None:
            raise errors.not_found(f"Unable to find property {request.params['name']}")
        return Response.json(property_json(object_type, prop))

    def _schema_object_type(self, request: Request) -> str:
        """The object type of a property-definition write, if the token may define its properties."""
        object_type = object_type_of(self.portal, request.params["object_type"], write=True)
        if not self.portal.can_write_schema(object_type):
            raise errors.HttpError(errors.missing_scopes([f"crm.schemas.{object_type}.write"]))
        return object_type

    def groups(self, request: Request) -> Response:
        object_type = object_type_of(self.portal, request.params["object_type"])
        with self.portal.lock:
            found = list(self.portal.groups[object_type].items())
        return Response.json({"results": [group_json(n, label, i) for i, (n, label) in enumerate(found)]})

    def group(self, request: Request) -> Response:
        object_type = object_type_of(self.portal, request.params["object_type"])
        name = request.params["group_name"]
        with self.portal.lock:
            names = list(self.portal.groups[object_type])
        if name not in names:
            raise errors.not_found(f"Unable to find property group {name}")
        return Response.json(group_json(name, self.portal.groups[object_type][name], names.index(name)))

    def create_group(self, request: Request) -> Response:
        object_type = self._schema_object_type(request)
        body = request.json() or {}
        missing = [k for k in ("name", "label") if not body.get(k)]
        if missing:
            raise errors.validation(f"Missing required fields: {missing}")
        try:
            self.portal.add_group(object_type, body["name"], body["label"])
        except ValueError as exc:
            raise errors.fail(409, str(exc), "OBJECT_ALREADY_EXISTS") from exc
        order = int(body.get("displayOrder", -1))
        return Response.json(group_json(body["name"], body["label"], order), status=201)

    def create_property(self, request: Request) -> Response:
        object_type = self._schema_object_type(request)
        body = request.json() or {}
        missing = [k for k in ("name", "label", "type", "fieldType", "groupName") if not body.get(k)]
        if missing:
            raise errors.validation(f"Missing required fields: {missing}")
        if body["type"] not in _PROPERTY_TYPES:
            raise errors.validation(f"Unknown property type {body['type']}")
        prop = PropertyDef(
            name=body["name"], label=body["label"], type=body["type"], field_type=body["fieldType"],
            group=body["groupName"], hubspot_defined=False, unique=bool(body.get("hasUniqueValue")),
            options=tuple(o.get("value") for o in body.get("options") or ()),
            number_display_hint=body.get("numberDisplayHint") if body["type"] == NUMBER else None,
            show_currency_symbol=bool(body.get("showCurrencySymbol")),
        )
        if prop.number_display_hint not in NUMBER_DISPLAY_HINTS:
            raise errors.validation(f"Unknown numberDisplayHint {prop.number_display_hint}")
        try:
            self.portal.add_property(object_type, prop)
        except ValueError as exc:
            raise errors.fail(409, str(exc), "OBJECT_ALREADY_EXISTS") from exc
        except KeyError as exc:
            raise errors.validation(f"Property group {prop.group} does not exist") from exc
        return Response.json(property_json(object_type, prop), status=201)

    def pipelines(self, request: Request) -> Response:
        object_type = object_type_of(self.portal, request.params["object_type"])
        if object_type != "deals":
            return Response.json({"results": []})
        return Response.json({"results": [pipeline_json()]})

    def pipeline(self, request: Request) -> Response:
        object_type = object_type_of(self.portal, request.params["object_type"])
        if object_type != "deals" or request.params["pipeline_id"] != "default":
            raise errors.not_found()
        return Response.json(pipeline_json())

    # -- association types ----------------------------------------------------------------------
    def association_type_names(self, request: Request) -> Response:
        """v3 `GET /crm/v3/associations/{from}/{to}/types`: the `{id, name}` of each type (the inline `type`)."""
        from_type = object_type_of(self.portal, request.params["from_type"])
        to_type = object_type_of(self.portal, request.params["to_type"])
        return Response.json({"results": [{"id": str(t.type_id), "name": t.name}
                                          for t in pair_types(from_type, to_type)]})

    def association_labels(self, request: Request) -> Response:
        """v4 `GET /crm/v4/associations/{from}/{to}/labels`: `{category, typeId, label}` of each type."""
        from_type = object_type_of(self.portal, request.params["from_type"])
        to_type = object_type_of(self.portal, request.params["to_type"])
        return Response.json({"results": [{"category": "HUBSPOT_DEFINED", "typeId": t.type_id, "label": t.label}
                                          for t in pair_types(from_type, to_type)]})

    # -- associations v4 ----------------------------------------------------------------------
    def _targets(self, from_type: str, from_id: int, to_type: str, after: int
                 ) -> tuple[list[dict[str, Any]], int | None]:
        ids, primary = self.portal.associations.targets(from_type, from_id, to_type)
        start = int(sum(1 for i in ids if i < after)) if after else 0
        chunk = list(zip(ids[start : start + ASSOC_PAGE], primary[start : start + ASSOC_PAGE], strict=True))
        items = [
            {"toObjectId": int(to_id),
             "associationTypes": [{"category": "HUBSPOT_DEFINED", "typeId": t.type_id, "label": t.label}
                                  for t in association_types(from_type, to_type, bool(is_primary))]}
            for to_id, is_primary in chunk
        ]
        more = start + ASSOC_PAGE < len(ids)
        return items, int(ids[start + ASSOC_PAGE]) if more else None

    def associations_batch_read(self, request: Request) -> Response:
        from_type = object_type_of(self.portal, request.params["from_type"])
        to_type = object_type_of(self.portal, request.params["to_type"])
        body = request.json() or {}
        inputs = body.get("inputs") or []
        if len(inputs) > ASSOC_BATCH_MAX:
            raise errors.validation(f"Batch input size must be no more than {ASSOC_BATCH_MAX}, got {len(inputs)}")
        started = now_iso()
        results, missing = [], []
        with self.portal.lock:
            table = self.portal.table(from_type)
            for item in inputs:
                key = str(item.get("id"))
                row = table.row_of(int(key)) if key.isdigit() else None
                after = int(item["after"]) if str(item.get("after") or "").isdigit() else 0
                items, next_after = ([], None) if row is None else self._targets(from_type, int(key), to_type, after)
                if not items:
                    missing.append(key)
                    continue
                result: dict[str, Any] = {"from": {"id": key}, "to": items}
                if next_after is not None:
                    result["paging"] = {"next": {"after": str(next_after), "link": None}}
                results.append(result)
        payload: dict[str, Any] = {"status": "COMPLETE", "results": results}
        if missing:
            payload["numErrors"] = len(missing)
            payload["errors"] = [
                errors.batch_error("OBJECT_NOT_FOUND", f"No {to_type} is associated with {from_type} {key}.",
                                   {"fromObjectId": [key]}, subCategory="crm.associations.NO_ASSOCIATIONS_FOUND")
                for key in missing
            ]
        payload.update(startedAt=started, completedAt=now_iso())
        return Response.json(payload, status=207 if missing else 200)

    def associations_list(self, request: Request) -> Response:
        from_type = object_type_of(self.portal, request.params["from_type"])
        to_type = object_type_of(self.portal, request.params["to_type"])
        key = request.params["record_id"]
        limit = max(1, min(int_arg(request, "limit", ASSOC_PAGE), ASSOC_PAGE))
        after = int_arg(request, "after", 0)
        with self.portal.lock:
            if not key.isdigit() or self.portal.table(from_type).row_of(int(key)) is None:
                raise errors.not_found()
            items, _ = self._targets(from_type, int(key), to_type, after)
        page = items[:limit]
        payload: dict[str, Any] = {"results": page}
        if len(items) > limit:
            next_after = str(items[limit]["toObjectId"])
            payload["paging"] = {"next": {"after": next_after, "link": None}}
        return Response.json(payload)

    # -- account info -------------------------------------------------------------------------
    def account_details(self, request: Request) -> Response:
        return Response.json({
            "portalId": self.portal.portal_id, "accountType": "STANDARD", "timeZone": "US/Eastern",
            "companyCurrency": self.portal.currency, "additionalCurrencies": sorted(
                c for c in self.portal.currency_rates if c != self.portal.currency),
            "utcOffset": "-05:00", "utcOffsetMilliseconds": -18_000_000, "uiDomain": "app.hubspot.com",
            "dataHostingLocation": "na1",
        })

    def api_usage(self, request: Request) -> Response:
        return Response.json({"results": [{
            "name": "private-apps-api-calls-daily", "usageLimit": self.daily_limit,
            "currentUsage": self.daily_used(), "collectedAt": now_iso(), "fetchStatus": "SUCCESS",
            "resetsAt": None,
        }]})
