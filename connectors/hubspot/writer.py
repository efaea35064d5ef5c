"""HubSpot write side: properties API -> field types, batch read-back, batch update / upsert.

Why the batch endpoints: 100 inputs per call (the API's maximum) and a 207 multi-status answer
that names the failed ids, so one bad record never costs the others their write. Property values
go out as strings, the way HubSpot stores them ("" clears a value).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from spm_sync.calls import ApiCalls
from spm_sync.config import HubSpotSource
from spm_sync.connectors.hubspot.client import HubSpotClient, Rejected
from spm_sync.connectors.writing import (
    BatchRejected,
    CurrentRecord,
    FieldInfo,
    Kind,
    RecordResult,
    RecordWrite,
    chunks,
    send_splitting,
)
from spm_sync.errors import ConfigError, ConnectorError

BATCH_MAX = 100  # batch read / update / upsert: at most 100 inputs per request
SEARCH_PAGE = 200
SEARCH_IN_MAX = 100  # values of one IN filter
USER_OBJECTS = frozenset({"users", "user", "0-115"})


def field_info(prop: dict[str, Any]) -> FieldInfo:
    """One properties-API definition reduced to what formatting and validation need."""
    crm_type = str(prop.get("type", ""))
    hint = str(prop.get("numberDisplayHint") or "")
    kind: Kind = "unsupported"
    scale: int | None = None
    if crm_type == "number":
        kind = "percent" if hint == "percentage" else "number"
        if hint == "currency" or prop.get("showCurrencySymbol"):
            scale = 2
    elif crm_type == "string":
        kind = "text"
    elif crm_type == "datetime":
        kind = "datetime"
    elif crm_type == "date":
        kind = "date"
    metadata = prop.get("modificationMetadata") or {}
    writable = not metadata.get("readOnlyValue", False) and not prop.get("calculated", False)
    return FieldInfo(
        name=str(prop["name"]), kind=kind, crm_type=crm_type, scale=scale, updateable=writable,
        createable=writable, required=False, unique=bool(prop.get("hasUniqueValue")),
    )


def property_text(value: Any) -> str:
    """HubSpot property values are strings; None clears the property."""
    if value is None:
        return ""
    return str(value)


def rejection(exc: ConnectorError) -> BatchRejected | None:
    """The whole-batch refusal inside a client error (a plain 4xx), or None for anything else."""
    if not isinstance(exc, Rejected) or not 400 <= exc.status < 500:
        return None  # auth, scopes, budget, or retries exhausted: not the batch's fault
    return BatchRejected(exc.category or str(exc.status), exc.detail)


class HubSpotWriter:
    """Property updates and upserts on one portal, through the connector's `HubSpotClient`."""

    batch_size = BATCH_MAX
    user_object = "users"
    user_match_field: str | None = "hs_internal_user_id"
    identity_column = "crm_user_id"

    def __init__(self, config: HubSpotSource, calls: ApiCalls, client: HubSpotClient | None = None) -> None:
        self.config = config
        self.calls = calls
        self.client = client or HubSpotClient(config, calls)
        self._fields: dict[str, dict[str, FieldInfo]] = {}

    def is_user_object(self, object_name: str) -> bool:
        return object_name.lower() in USER_OBJECTS

    # ---- reads ---------------------------------------------------------------------------------
    def identity(self) -> str:
        """The portal the token writes to (account-info `portalId`): the write-back ledger trusts only
        its own writes to this portal."""
        body = self.client.request("GET", "/account-info/v3/details", family="account_info")
        return f"hubspot portal {body['portalId']}"

    def forget_fields(self, object_name: str) -> None:
        """Describe the object again next time (after `writeback setup` created fields on it)."""
        self._fields.pop(object_name, None)

    def fields(self, object_name: str) -> dict[str, FieldInfo]:
        """The object type's property definitions (one call per object per run)."""
        if object_name not in self._fields:
            try:
                body = self.client.request("GET", self.client.path("properties", object_name), object_name=object_name)
            except ConnectorError as exc:
                if rejection(exc) is None and getattr(exc, "status", None) != 404:
                    raise
                raise ConfigError(f"source {self.config.name}: object type {object_name} does not exist") from None
            self._fields[object_name] = {p["name"]: field_info(p) for p in body.get("results", [])}
        return self._fields[object_name]

    def read(
        self, object_name: str, match_field: str | None, keys: Sequence[str], fields: Sequence[str]
    ) -> dict[str, CurrentRecord]:
        """Current values of `fields` on the records whose `match_field` (or record id) is in `keys`.

        Batch read by id or by a unique property (`idProperty`); a property that is not unique (the
        users object's `hs_internal_user_id`) cannot be an idProperty, so it is searched with `IN`.
        """
        found: dict[str, CurrentRecord] = {}
        names = list(dict.fromkeys([*fields, *([match_field] if match_field else [])]))
        wanted = sorted(set(keys))
        if match_field and not self._is_unique(object_name, match_field):
            for group in chunks(wanted, SEARCH_IN_MAX):
                for result in self._search_in(object_name, match_field, group, names):
                    self._collect(found, result, match_field, fields, group)
            return found
        path = self.client.path("objects", object_name, "batch", "read")
        for group in chunks(wanted, BATCH_MAX):
            body: dict[str, Any] = {"properties": names, "inputs": [{"id": k} for k in group]}
            if match_field:
                body["idProperty"] = match_field
            answer = self.client.request("POST", path, json=body, require="results", object_name=object_name)
            for result in answer["results"]:
                self._collect(found, result, match_field, fields, group)
        return found

    def _is_unique(self, object_name: str, name: str) -> bool:
        info = self.fields(object_name).get(name)
        return info is not None and info.unique

    def _search_in(
        self, object_name: str, match_field: str, values: Sequence[str], names: Sequence[str]
    ) -> list[dict[str, Any]]:
        path = self.client.path("objects", object_name, "search")
        body: dict[str, Any] = {
            "filterGroups": [{"filters": [{"propertyName": match_field, "operator": "IN", "values": list(values)}]}],
            "properties": list(names),
            "limit": SEARCH_PAGE,
        }
        results: list[dict[str, Any]] = []
        while True:
            answer = self.client.request(
                "POST", path, json=body, require="results", search=True, object_name=object_name
            )
            results += answer["results"]
            after = ((answer.get("paging") or {}).get("next") or {}).get("after")
            if not after:
                return results
            body["after"] = after

    @staticmethod
    def _collect(
        found: dict[str, CurrentRecord], result: dict[str, Any], match_field: str | None, fields: Sequence[str],
        wanted: Sequence[str],
    ) -> None:
        properties = result.get("properties") or {}
        key = str(properties.get(match_field) if match_field else result.get("id"))
        if key not in wanted and match_field:
            key = _integral(key)
        found[key] = CurrentRecord(str(result["id"]), {f: properties.get(f) for f in fields})

    # ---- writes --------------------------------------------------------------------------------
    def update(self, object_name: str, records: Sequence[RecordWrite]) -> list[RecordResult]:
        """POST batch/update by record id (207 names the ids that failed)."""
        def inputs(batch: Sequence[RecordWrite]) -> list[dict[str, Any]]:
            return [{"id": r.key, "properties": {f: property_text(v) for f, v in r.values.items()}} for r in batch]

        return self._write(object_name, "update", records, inputs, None)

    def upsert(self, object_name: str, external_id_field: str, records: Sequence[RecordWrite]) -> list[RecordResult]:
        """POST batch/upsert by a unique property (`idProperty`): creates what does not exist."""
        def inputs(batch: Sequence[RecordWrite]) -> list[dict[str, Any]]:
            return [
                {"idProperty": external_id_field, "id": r.key,
                 "properties": {f: property_text(v) for f, v in r.values.items()}}
                for r in batch
            ]

        return self._write(object_name, "upsert", records, inputs, external_id_field)

    def _write(self, object_name: str, verb: str, records: Sequence[RecordWrite], inputs: Any,
               key_property: str | None) -> list[RecordResult]:
        path = self.client.path("objects", object_name, "batch", verb)

        def send(batch: Sequence[RecordWrite]) -> list[RecordResult]:
            try:
                answer = self.client.request(
                    "POST", path, json={"inputs": inputs(batch)}, object_name=object_name, idempotent=False
                )
            except ConnectorError as exc:
                refused = rejection(exc)
                if refused is None:
                    raise
                raise refused from None
            return batch_results(batch, answer, key_property)

        results: list[RecordResult] = []
        for chunk in chunks(records, BATCH_MAX):
            results += send_splitting(chunk, send)
        return results


def batch_results(batch: Sequence[RecordWrite], answer: dict[str, Any], key_property: str | None) -> list[RecordResult]:
    """Per-input outcomes of a batch answer (200 or 207): results by id, errors by `context.ids`."""
    keys = [r.key for r in batch]
    failed: dict[str, RecordResult] = {}
    for error in answer.get("errors") or []:
        context = error.get("context") or {}
        for key in context.get("ids") or context.get("id") or []:
            failed[str(key)] = RecordResult(str(key), False, None, error.get("category"), error.get("message"))
    done: dict[str, str] = {}
    results = answer.get("results") or []
    for position, result in enumerate(results):
        properties = result.get("properties") or {}
        key = properties.get(key_property) if key_property else result.get("id")
        if key is None and len(results) == len(batch) and not failed:
            key = keys[position]  # upsert answers in input order when nothing failed
        done[str(key)] = str(result.get("id"))
    out = []
    for key in keys:
        if key in done:
            out.append(RecordResult(key, True, done[key]))
        elif key in failed:
            out.append(failed[key])
        else:
            out.append(RecordResult(key, False, None, "NO_RESULT", "HubSpot returned no result for this input"))
    return out


def _integral(text: str) -> str:
    """`"123.0"` -> `"123"`: number properties may come back formatted."""
    try:
        number = float(text)
    except ValueError:
        return text
    return str(int(number)) if number.is_integer() else text
