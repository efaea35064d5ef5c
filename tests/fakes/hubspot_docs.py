"""A HubSpot portal as the CRM v3/v4 API documentation describes it (not as our sandbox does).

Documented behaviour this fake leans on, deliberately unlike `spm_sync.sandbox`:
- Objects list: pages shorter than `limit` (37 of 100); `paging` is absent on the last page; every
  property value is a string (numbers, booleans `"true"`, datetimes with or without millis, epoch-ms
  strings, `""` for a cleared value) or null; requested properties the record lacks come back null;
  records may carry keys nobody asked for (`propertiesWithHistory`); `archived=true` lists only archived.
- Batch read answers in its own order, and 207 Multi-Status with `errors` for ids it cannot find.
- Search: `total`, at most 37 results a call whatever `limit` says, paging by offset.
- Objects list `associations=`: each record's links inline in the v3 shape (`{id, type}` with the
  type's v3 name), at most 100 per type, then a per-type `paging.next`; the pair's types and labels
  from `/crm/v3/associations/{from}/{to}/types` (`{id, name}`) and the v4 `.../labels` endpoint.
- v4 associations batch read: 207 with an error per input that has no associations, `toObjectId` as a
  number, several association types per link (a label-less one among them), per-input `paging`.
- Owners: `teams` missing on some, `userId` a number; pipelines: stage `metadata` values as strings.
- Both path schemes: `/crm/v3/objects/deals` and the dated `/crm/objects/2026-03/deals` (v4 associations
  likewise: `/crm/associations/2026-03/...`; deal splits `/deal-splits/2026-03/batch/read`).
- Deal splits batch read (changelog example): results only for deals that have splits, in no particular
  order, percentages as fraction strings.
- Scopes the token lacks answer 403 MISSING_SCOPES; rate-limit headers on every response; throttling
  and 502s are scripted (`fail_next`) with the bodies the docs show (`rate_limited`, `html_reply`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tests.fakes.wire import Reply, Request, Scripted, json_reply

Record = dict[str, Any]
DAILY = 500_000
_DATED = re.compile(r"^\d{4}-\d{2}$")
INLINE_ASSOCIATIONS_MAX = 100
# v3 names of the HubSpot-defined association types the tests use (HubSpot's association type table).
V3_TYPE_NAMES = {5: "deal_to_company", 341: "deal_to_company_unlabeled", 206: "call_to_deal",
                 182: "call_to_company", 188: "meeting_to_company"}


def v3_type_name(kind: Record) -> str:
    """A type's v3 name: HubSpot's for its own types, the label's for user-defined ones."""
    return V3_TYPE_NAMES.get(int(kind["typeId"])) or str(kind.get("label") or kind["typeId"]).lower()


def error_body(message: str, category: str, **extra: Any) -> dict[str, Any]:
    return {"status": "error", "message": message, "correlationId": "0f5c7a0e-docs-fake", "category": category,
            **extra}


def rate_limited(policy: str, *, retry_after: str | None = None) -> Reply:
    """A documented 429: RATE_LIMIT body naming the policy; Retry-After only when given."""
    body = error_body(f"You have reached your {policy.lower()} limit.", "RATE_LIMITS", errorType="RATE_LIMIT",
                      policyName=policy)
    headers = {"X-HubSpot-RateLimit-Secondly": "10", "X-HubSpot-RateLimit-Secondly-Remaining": "0",
               "X-HubSpot-RateLimit-Remaining": "0"}
    if retry_after is not None:
        headers["Retry-After"] = retry_after
    return json_reply(429, body, **headers)


@dataclass
class HsObject:
    """One object type: its property definitions (name, type) and records in the API's JSON shape."""

    name: str
    properties: list[tuple[str, str]]
    records: list[Record] = field(default_factory=list)
    missing_scope: bool = False

    @property
    def types(self) -> dict[str, str]:
        return dict(self.properties)


def _epoch_ms(value: str) -> float | None:
    """A datetime property value (epoch ms, ISO with or without millis, or a date) as epoch ms."""
    if value.lstrip("-").isdigit():
        return float(value)
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000
    except ValueError:
        return None


class HubSpotDocsPortal(Scripted):
    """The request handler of one fake portal (see module docstring)."""

    def __init__(
        self,
        objects: list[HsObject],
        *,
        pipelines: list[Record],
        owners: list[Record],
        associations: dict[tuple[str, str], dict[str, list[tuple[str, list[Record]]]]],
        access_token: str = "pat-na1-docs-fake",
        page_size: int = 37,
        owners_page: int = 2,
        association_page: int = 2,
        splits: dict[str, list[Record]] | None = None,
    ) -> None:
        super().__init__()
        self.splits = splits or {}
        self.objects = {o.name: o for o in objects}
        self.pipelines = pipelines
        self.owners = owners
        self.associations = associations
        self.access_token = access_token
        self.page_size = page_size
        self.owners_page = owners_page
        self.association_page = association_page

    def __call__(self, request: Request) -> Reply:
        reply = self.scripted(request) or self._dispatch(request)
        used = len(self.calls)
        for name, value in {"X-HubSpot-RateLimit-Daily": str(DAILY),
                            "X-HubSpot-RateLimit-Daily-Remaining": str(DAILY - used),
                            "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
                            "X-HubSpot-RateLimit-Max": "190"}.items():
            reply.headers.setdefault(name, value)
        return reply

    def _dispatch(self, request: Request) -> Reply:
        if request.headers.get("authorization") != f"Bearer {self.access_token}":
            return json_reply(401, error_body("Authentication credentials not found.", "INVALID_AUTHENTICATION"))
        parts = request.path.strip("/").split("/")
        v3_splits = parts == ["crm", "v3", "objects", "deals", "splits", "batch", "read"]
        dated_splits = len(parts) == 4 and parts[0] == "deal-splits" and parts[2:] == ["batch", "read"]
        if request.method == "POST" and (v3_splits or dated_splits):
            return self._splits(request.json())
        if len(parts) > 2 and _DATED.match(parts[2]):  # `/crm/objects/2026-03/deals` = `/crm/v3/objects/deals`
            parts = ["crm", "v4" if parts[1] == "associations" else "v3", parts[1], *parts[3:]]
        method = request.method
        if parts[:2] == ["crm", "v3"] and len(parts) >= 4:
            kind, name, rest = parts[2], parts[3], parts[4:]
            obj = self.objects.get(name)
            if obj is None:
                return json_reply(400, error_body(f"Unable to infer object type from: {name}", "VALIDATION_ERROR"))
            if obj.missing_scope:
                return json_reply(403, error_body(
                    "This app hasn't been granted all required scopes to make this call.", "MISSING_SCOPES",
                    errors=[{"message": "One or more of the following scopes are required.",
                             "context": {"requiredGranularScopes": [f"crm.objects.{name}.read"]}}]))
            if kind == "associations" and method == "GET" and len(rest) == 2 and rest[1] == "types":
                return json_reply(200, {"results": [{"id": str(k["typeId"]), "name": v3_type_name(k)}
                                                    for k in self._pair_kinds(name, rest[0])]})
            if kind == "properties" and method == "GET" and not rest:
                return json_reply(200, {"results": [self._property(obj, p, t) for p, t in obj.properties]})
            if kind == "pipelines" and method == "GET" and not rest:
                return json_reply(200, {"results": self.pipelines})
            if kind == "objects" and method == "GET" and not rest:
                return self._list(obj, request)
            if kind == "objects" and method == "POST" and rest == ["batch", "read"]:
                return self._batch_read(obj, request)
            if kind == "objects" and method == "POST" and rest == ["search"]:
                return self._search(obj, request.json())
        if parts[:2] == ["crm", "v3"] and parts[2:] == ["owners"]:
            return self._owners(request)
        if parts[:3] == ["crm", "v4", "associations"] and len(parts) == 6 and parts[5] == "labels":
            return json_reply(200, {"results": self._pair_kinds(parts[3], parts[4])})
        if parts[:2] == ["crm", "v4"] and len(parts) == 7 and parts[2] == "associations" and parts[5:] == [
                "batch", "read"]:
            return self._associations(parts[3], parts[4], request.json())
        return json_reply(404, error_body("resource not found", "OBJECT_NOT_FOUND"))

    # ---- metadata ----------------------------------------------------------------------------------
    @staticmethod
    def _property(obj: HsObject, name: str, kind: str) -> Record:
        field_type = {"number": "number", "datetime": "date", "date": "date", "bool": "booleancheckbox",
                      "enumeration": "select"}.get(kind, "text")
        return {"name": name, "label": name.replace("_", " ").title(), "type": kind, "fieldType": field_type,
                "groupName": f"{obj.name}information", "description": "", "options": [], "displayOrder": -1,
                "calculated": False, "externalOptions": False, "hasUniqueValue": False, "hidden": False,
                "hubspotDefined": not name.startswith("custom_"), "formField": True,
                "modificationMetadata": {"archivable": True, "readOnlyDefinition": True, "readOnlyValue": False},
                "createdAt": "2019-08-06T02:41:08.029Z", "updatedAt": "2024-03-01T10:00:00Z", "archived": False}

    # ---- records -----------------------------------------------------------------------------------
    @staticmethod
    def _defaults(obj: HsObject) -> tuple[str, ...]:
        modified = "lastmodifieddate" if obj.name == "contacts" else "hs_lastmodifieddate"
        return ("createdate", modified, "hs_object_id")

    def _shape(self, obj: HsObject, record: Record, names: list[str]) -> Record:
        """The record as the API sends it: requested (and default) properties only, null when unset."""
        known = obj.types
        props = record["properties"]
        wanted = [n for n in dict.fromkeys([*names, *self._defaults(obj)]) if n in known or n in props]
        out = {"id": record["id"], "properties": {n: props.get(n) for n in wanted},
               "createdAt": record["createdAt"], "updatedAt": record["updatedAt"], "archived": record["archived"]}
        out.update({k: v for k, v in record.items() if k not in out and k != "properties"})
        return out

    @staticmethod
    def _requested(request: Request) -> list[str]:
        return [n for value in request.query.get("properties", []) for n in value.split(",") if n]

    def _pair_kinds(self, from_type: str, to_type: str) -> list[Record]:
        kinds = {k["typeId"]: k for targets in self.associations.get((from_type, to_type), {}).values()
                 for _to, ks in targets for k in ks}
        return [kinds[t] for t in sorted(kinds)]

    def _inline(self, obj: HsObject, record: Record, to_types: list[str]) -> Record:
        """A record's `associations` block: v3 `{id, type}` entries, 100 per type, then `paging.next`."""
        block: Record = {}
        for to_type in to_types:
            entries = [{"id": to_id, "type": v3_type_name(k)}
                       for to_id, kinds in self.associations.get((obj.name, to_type), {}).get(record["id"], [])
                       for k in kinds]
            if not entries:
                continue
            block[to_type] = {"results": entries[:INLINE_ASSOCIATIONS_MAX]}
            if len(entries) > INLINE_ASSOCIATIONS_MAX:
                block[to_type]["paging"] = {"next": {"after": str(INLINE_ASSOCIATIONS_MAX), "link": None}}
        return {**record, "associations": block} if block else record

    def _list(self, obj: HsObject, request: Request) -> Reply:
        limit = int(request.param("limit", "10") or 10)
        if limit > 100:
            return json_reply(400, error_body("limit must be at most 100", "VALIDATION_ERROR"))
        archived = request.param("archived", "false") == "true"
        rows = [r for r in obj.records if r["archived"] == archived]
        offset = int(request.param("after") or 0)
        chunk = rows[offset:offset + min(limit, self.page_size)]
        to_types = [n for value in request.query.get("associations", []) for n in value.split(",") if n]
        body: Record = {"results": [self._shape(obj, self._inline(obj, r, to_types), self._requested(request))
                                    for r in chunk]}
        end = offset + len(chunk)
        if end < len(rows):
            body["paging"] = {"next": {"after": str(end), "link": f"https://api.hubapi.com{request.path}?after={end}"}}
        return json_reply(200, body)

    def _batch_read(self, obj: HsObject, request: Request) -> Reply:
        body = request.json()
        archived = request.param("archived", "false") == "true"
        by_id = {r["id"]: r for r in obj.records if r["archived"] == archived}
        ids = [str(i["id"]) for i in body.get("inputs", [])]
        found = [self._shape(obj, by_id[i], body.get("properties", [])) for i in ids if i in by_id]
        missing = [i for i in ids if i not in by_id]
        out: Record = {"status": "COMPLETE", "results": list(reversed(found)),
                       "requestedAt": "2026-01-05T09:30:00.000Z", "startedAt": "2026-01-05T09:30:00.010Z",
                       "completedAt": "2026-01-05T09:30:00.050Z"}
        if not missing:
            return json_reply(200, out)
        out["numErrors"] = 1
        out["errors"] = [error_body(f"Could not get some {obj.name.upper()} objects, they may be deleted or not "
                                    "exist. Check that ids are valid.", "OBJECT_NOT_FOUND", context={"ids": missing})]
        return json_reply(207, out)

    def _search(self, obj: HsObject, body: Record) -> Reply:
        limit = int(body.get("limit") or 10)
        if limit > 200:
            return json_reply(400, error_body("limit must be at most 200", "VALIDATION_ERROR"))
        types = obj.types

        def value(record: Record, name: str) -> Any:
            raw = record["id"] if name == "hs_object_id" else record["properties"].get(name)
            if raw is None or raw == "":
                return None
            if types.get(name) in ("datetime", "date"):
                return _epoch_ms(str(raw))
            return float(raw) if types.get(name) == "number" or name == "hs_object_id" else str(raw)

        def passes(record: Record, flt: Record) -> bool:
            actual, op = value(record, flt["propertyName"]), flt["operator"]
            if op in ("HAS_PROPERTY", "NOT_HAS_PROPERTY"):
                return (actual is not None) == (op == "HAS_PROPERTY")
            if actual is None:
                return False
            wanted = value({"id": flt.get("value"), "properties": {flt["propertyName"]: flt.get("value")}},
                           flt["propertyName"])
            return {"EQ": actual == wanted, "NEQ": actual != wanted, "GT": actual > wanted, "GTE": actual >= wanted,
                    "LT": actual < wanted, "LTE": actual <= wanted}[op]

        groups = body.get("filterGroups") or [{"filters": []}]
        rows = [r for r in obj.records if not r["archived"]
                and any(all(passes(r, f) for f in g.get("filters", [])) for g in groups)]
        for sort in reversed(body.get("sorts") or []):
            rows.sort(key=lambda r, s=sort: (value(r, s["propertyName"]) is None, value(r, s["propertyName"]) or 0),
                      reverse=sort.get("direction") == "DESCENDING")
        offset = int(body.get("after") or 0)
        chunk = rows[offset:offset + min(limit, self.page_size)]
        out: Record = {"total": len(rows), "results": [self._shape(obj, r, body.get("properties", [])) for r in chunk]}
        if offset + len(chunk) < len(rows):
            out["paging"] = {"next": {"after": str(offset + len(chunk))}}
        return json_reply(200, out)

    def _splits(self, body: Record) -> Reply:
        ids = [str(i["id"]) for i in body.get("inputs", [])]
        results = [{"id": i, "splits": self.splits[i]} for i in reversed(ids) if self.splits.get(i)]
        return json_reply(200, {"status": "COMPLETE", "results": results, "startedAt": "2026-01-05T09:30:00.010Z",
                                "completedAt": "2026-01-05T09:30:00.050Z"})

    # ---- owners and associations -------------------------------------------------------------------
    def _owners(self, request: Request) -> Reply:
        limit = int(request.param("limit", "100") or 100)
        if limit > 500:
            return json_reply(400, error_body("limit must be at most 500", "VALIDATION_ERROR"))
        archived = request.param("archived", "false") == "true"
        rows = [o for o in self.owners if o.get("archived", False) == archived]
        offset = int(request.param("after") or 0)
        chunk = rows[offset:offset + min(limit, self.owners_page)]
        body: Record = {"results": chunk}
        if offset + len(chunk) < len(rows):
            body["paging"] = {"next": {"after": str(offset + len(chunk))}}
        return json_reply(200, body)

    def _associations(self, from_type: str, to_type: str, body: Record) -> Reply:
        links = self.associations.get((from_type, to_type), {})
        results, missing = [], []
        for item in body.get("inputs", []):
            from_id = str(item["id"])
            targets = links.get(from_id, [])
            if not targets:
                missing.append(from_id)
                continue
            offset = int(item.get("after") or 0)
            chunk = targets[offset:offset + self.association_page]
            result: Record = {"from": {"id": from_id},
                              "to": [{"toObjectId": int(to_id), "associationTypes": kinds} for to_id, kinds in chunk]}
            if offset + len(chunk) < len(targets):
                result["paging"] = {"next": {"after": str(offset + len(chunk)), "link": None}}
            results.append(result)
        out: Record = {"status": "COMPLETE", "results": results, "startedAt": "2026-01-05T09:30:00.010Z",
                       "completedAt": "2026-01-05T09:30:00.050Z"}
        if not missing:
            return json_reply(200, out)
        out["numErrors"] = len(missing)
        out["errors"] = [error_body(f"No {to_type} is associated with {from_type} {i}.", "OBJECT_NOT_FOUND",
                                    subCategory="crm.associations.NO_ASSOCIATIONS_FOUND",
                                    context={"fromObjectId": [i]}) for i in missing]
        return json_reply(207, out)
