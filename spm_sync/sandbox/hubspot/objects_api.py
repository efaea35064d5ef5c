"""CRM object endpoints: list, get, create/update/archive, search and the batch family.

Why one module: all of them share the object-type resolution, scope check, property selection
and record shape; v3 (`/crm/v3/objects/...`) and dated (`/crm/objects/2026-03/...`) paths route here.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import numpy as np

from spm_sync.sandbox.hubspot import errors
from spm_sync.sandbox.hubspot.portal import FieldError, NotFound, Portal, UnknownProperty
from spm_sync.sandbox.hubspot.query import (
    SEARCH_RESULT_CAP,
    SearchCache,
    SearchError,
    list_rows,
    match_rows,
    parse_filters,
    sort_rows,
)
from spm_sync.sandbox.hubspot.render import property_names, record, split_names
from spm_sync.sandbox.hubspot.schema import OBJECT_TYPES, resolve_object_type
from spm_sync.sandbox.hubspot.values import format_datetime
from spm_sync.sandbox.server import Request, Response

LIST_LIMIT_MAX = 100
HISTORY_LIMIT_MAX = 50
SEARCH_LIMIT_MAX = 200
BATCH_MAX = 100
BATCH_HISTORY_MAX = 50
_SEARCH_TEXT = ("name", "domain", "email", "firstname", "lastname", "dealname", "hs_call_title",
                "hs_email_subject", "hs_meeting_title", "hs_task_subject")


def now_iso() -> str:
    """Now as HubSpot stamps batch `startedAt`/`completedAt` (one clock read, milliseconds, Z)."""
    return format_datetime(time.time_ns() // 1_000_000)


def int_arg(request: Request, name: str, default: int) -> int:
    raw = request.arg(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise errors.validation(f"Invalid input: {name} must be an integer, got '{raw}'") from exc


def object_type_of(portal: Portal, raw: str, write: bool = False) -> str:
    """Resolve the path's object type and check the token's scope for it."""
    object_type = resolve_object_type(raw)
    if object_type is None:
        raise errors.fail(400, f"Unable to infer object type from: {raw}", "VALIDATION_ERROR")
    if not portal.has_scope(object_type):
        scope = OBJECT_TYPES[object_type].scope
        raise errors.HttpError(errors.missing_scopes([f"{scope}.{'write' if write else 'read'}"]))
    return object_type


def _field_errors_message(field_errors: list[FieldError]) -> str:
    return errors.property_errors_message(
        errors.property_result(e.name, e.message, e.error) for e in field_errors
    )


def _invalid(key: str, field_errors: list[FieldError]) -> dict[str, Any]:
    """A 207 entry for one input whose values HubSpot rejects."""
    return errors.batch_error("VALIDATION_ERROR", _field_errors_message(field_errors), {"ids": [key]})


def _body(request: Request) -> dict[str, Any]:
    body = request.json()
    if not isinstance(body, dict):
        raise errors.validation("Invalid input JSON: expected an object")
    return body


class ObjectsApi:
    """Handlers bound to one portal; `base_url` builds `paging.next.link`."""

    def __init__(self, portal: Portal, base_url: Callable[[], str]) -> None:
        self.portal = portal
        self.base_url = base_url
        self.cache = SearchCache()

    # -- reads --------------------------------------------------------------------------------
    def list_page(self, request: Request) -> Response:
        """One page in id order from `after`; without `after`, the legacy `offset` (records to skip) is
        honoured as portals do for clients still paging that way (Airbyte's goals stream)."""
        object_type = object_type_of(self.portal, request.params["object_type"])
        history = split_names(request.args("propertiesWithHistory"))
        limit = max(1, min(int_arg(request, "limit", 10), HISTORY_LIMIT_MAX if history else LIST_LIMIT_MAX))
        after = request.arg("after")
        try:
            after_id = int(after) if after else None
        except ValueError as exc:
            raise errors.validation(f"Invalid after: '{after}'") from exc
        archived = (request.arg("archived") or "false").lower() == "true"
        offset = int_arg(request, "offset", 0) if after_id is None else 0
        with self.portal.lock:
            rows, next_after = list_rows(self.portal.table(object_type), after_id, offset + limit, archived)
            rows = rows[offset:]
            names = property_names(self.portal, object_type, split_names(request.args("properties")))
            associations = split_names(request.args("associations"))
            results = [record(self.portal, object_type, int(r), names, history, associations, self.base_url())
                       for r in rows]
        payload: dict[str, Any] = {"results": results}
        if next_after is not None:
            query = {**request.query, "limit": [str(limit)], "after": [str(next_after)]}
            link = f"{self.base_url()}{request.path}?{urlencode(query, doseq=True)}"
            payload["paging"] = {"next": {"after": str(next_after), "link": link}}
        return Response.json(payload)

    def _find_row(self, object_type: str, key: str, id_property: str | None, archived: bool) -> int | None:
        table = self.portal.table(object_type)
        if id_property and id_property != "hs_object_id":
            prop = self.portal.property(object_type, id_property)
            column = table.column(id_property)
            if prop is None or column is None:
                return None
            code = column.code_of(key) if hasattr(column, "code_of") else -2
            if code < 0:
                return None
            hits = np.flatnonzero(column.codes[: table.n] == code)  # type: ignore[union-attr]
            rows = [int(r) for r in hits if not table.gone[r] and bool(table.archived[r]) == archived]
            return rows[0] if rows else None
        try:
            row = table.row_of(int(key))
        except ValueError:
            return None
        if row is None or bool(table.archived[row]) != archived:
            return None
        return row

    def get(self, request: Request) -> Response:
        object_type = object_type_of(self.portal, request.params["object_type"])
        archived = (request.arg("archived") or "false").lower() == "true"
        with self.portal.lock:
            row = self._find_row(object_type, request.params["record_id"], request.arg("idProperty"), archived)
            if row is None:
                raise errors.not_found()
            names = property_names(self.portal, object_type, split_names(request.args("properties")))
            history = split_names(request.args("propertiesWithHistory"))
            associations = split_names(request.args("associations"))
            return Response.json(record(self.portal, object_type, row, names, history, associations, self.base_url()))

    def search(self, request: Request) -> Response:
        object_type = object_type_of(self.portal, request.params["object_type"])
        body = _body(request)
        limit = int(body.get("limit") or 10)
        if limit > SEARCH_LIMIT_MAX or limit < 1:
            raise errors.validation(f"limit must be between 1 and {SEARCH_LIMIT_MAX}, got {limit}")
        try:
            offset = int(body.get("after") or 0)
        except (TypeError, ValueError) as exc:
            raise errors.validation(f"Invalid after: '{body.get('after')}'") from exc
        if offset + limit > SEARCH_RESULT_CAP:
            raise errors.validation(
                f"The maximum number of results for a search is {SEARCH_RESULT_CAP}. "
                f"Requested results from {offset} to {offset + limit}.",
            )
        with self.portal.lock:
            rows = self._search_rows(object_type, body)
            page = rows[offset : offset + limit]
            names = property_names(self.portal, object_type, body.get("properties") or [])
            results = [record(self.portal, object_type, int(r), names) for r in page]
        payload: dict[str, Any] = {"total": int(len(rows)), "results": results}
        if offset + limit < len(rows):
            payload["paging"] = {"next": {"after": str(offset + limit)}}
        return Response.json(payload)

    def _search_rows(self, object_type: str, body: dict[str, Any]) -> np.ndarray:
        table = self.portal.table(object_type)
        key = SearchCache.key(object_type, table.version, body)
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        defs = self.portal.properties[object_type]
        try:
            groups = parse_filters(defs, body.get("filterGroups"))
        except SearchError as exc:
            raise errors.validation(str(exc)) from exc
        sorts = body.get("sorts") or []
        if len(sorts) > 1:
            raise errors.validation("Only one sort is supported per search request")
        prop, descending = None, False
        if sorts:
            sort = sorts[0]
            if isinstance(sort, str):
                name, descending = sort.lstrip("-"), sort.startswith("-")
            else:
                name = sort.get("propertyName", "")
                descending = str(sort.get("direction", "ASCENDING")).upper() == "DESCENDING"
            prop = defs.get(name)
            if prop is None:
                raise errors.validation(f"Cannot sort by unknown property {name}")
        rows = sort_rows(table, match_rows(table, groups, body.get("query"), _SEARCH_TEXT), prop, descending)
        self.cache.put(key, rows)
        return rows

    def batch_read(self, request: Request) -> Response:
        object_type = object_type_of(self.portal, request.params["object_type"])
        body = _body(request)
        inputs = body.get("inputs") or []
        history = body.get("propertiesWithHistory") or []
        cap = BATCH_HISTORY_MAX if history else BATCH_MAX
        if len(inputs) > cap:
            raise errors.validation(f"Batch input size must be no more than {cap}, got {len(inputs)}",
                                    context={"inputs": [str(len(inputs))]})
        archived = (request.arg("archived") or "false").lower() == "true"
        id_property = body.get("idProperty")
        started = now_iso()
        with self.portal.lock:
            names = property_names(self.portal, object_type, body.get("properties") or [])
            results, missing = [], []
            for item in inputs:
                key = str(item.get("id"))
                row = self._find_row(object_type, key, id_property, archived)
                if row is None:
                    missing.append(key)
                else:
                    results.append(record(self.portal, object_type, row, names, history))
        failures = [errors.batch_error(
            "OBJECT_NOT_FOUND", "Could not get some " + object_type + " objects, they may be deleted or "
            "not exist. Check that ids are valid.", {"ids": missing})] if missing else []
        return self._batch_response(results, failures, started)

    # -- writes -------------------------------------------------------------------------------
    def _inputs(self, request: Request) -> tuple[str, list[dict[str, Any]], dict[str, Any]]:
        object_type = object_type_of(self.portal, request.params["object_type"], write=True)
        body = _body(request)
        inputs = body.get("inputs")
        if not isinstance(inputs, list):
            raise errors.validation("Invalid input JSON: inputs is required")
        if len(inputs) > BATCH_MAX:
            raise errors.validation(f"Batch input size must be no more than {BATCH_MAX}, got {len(inputs)}",
                                    context={"inputs": [str(len(inputs))]})
        return object_type, inputs, body

    def _parse_all(self, object_type: str, inputs: list[dict[str, Any]]
                   ) -> list[tuple[dict[str, Any], list[FieldError]]]:
        """Parse every input first: an unknown property anywhere fails the whole batch (400)."""
        parsed = []
        unknown: list[str] = []
        for item in inputs:
            try:
                parsed.append(self.portal.parse_values(object_type, item.get("properties") or {}))
            except UnknownProperty as exc:
                unknown.extend(n for n in exc.names if n not in unknown)
        if unknown:
            raise errors.unknown_properties(unknown)
        return parsed

    def _write(self, object_type: str, row: int, values: dict[str, Any], now: int,
               extra: tuple[str, ...] = ()) -> dict[str, Any]:
        """Apply parsed values and return the record with the written properties."""
        self.portal.apply(object_type, row, values, now, "API")
        return record(self.portal, object_type, row, property_names(self.portal, object_type, [*values, *extra]))

    def _parse_one(self, object_type: str, body: dict[str, Any]) -> dict[str, Any]:
        """Values of a single-record write; any problem is a 400."""
        try:
            values, field_errors = self.portal.parse_values(object_type, body.get("properties") or {})
        except UnknownProperty as exc:
            raise errors.unknown_properties(exc.names) from exc
        if field_errors:
            raise errors.validation(_field_errors_message(field_errors))
        return values

    def _batch_response(self, results: list[dict[str, Any]], failures: list[dict[str, Any]],
                        started: str, created: bool = False) -> Response:
        payload: dict[str, Any] = {"status": "COMPLETE", "results": results}
        if failures:
            payload["numErrors"] = len(failures)
            payload["errors"] = failures
        payload.update(startedAt=started, completedAt=now_iso())
        status = 207 if failures else (201 if created else 200)
        return Response.json(payload, status=status)

    def batch_update(self, request: Request) -> Response:
        object_type, inputs, body = self._inputs(request)
        started = now_iso()
        id_property = body.get("idProperty")
        with self.portal.lock:
            parsed = self._parse_all(object_type, inputs)
            now = self.portal.now_ms()
            results, failures = [], []
            for item, (values, field_errors) in zip(inputs, parsed, strict=True):
                key = str(item.get("id"))
                row = self._find_row(object_type, key, id_property or item.get("idProperty"), False)
                if row is None:
                    failures.append(errors.batch_error("OBJECT_NOT_FOUND", f"Object {key} not found",
                                                       {"ids": [key]}))
                    continue
                if field_errors:
                    failures.append(_invalid(key, field_errors))
                    continue
                results.append(self._write(object_type, row, values, now))
        return self._batch_response(results, failures, started)

    def batch_create(self, request: Request) -> Response:
        object_type, inputs, _body_ = self._inputs(request)
        started = now_iso()
        with self.portal.lock:
            parsed = self._parse_all(object_type, inputs)
            bad = [e for _values, errs in parsed for e in errs]
            if bad:
                raise errors.validation(_field_errors_message(bad))
            now = self.portal.now_ms()
            results = []
            for values, _errs in parsed:
                results.append(self._write(object_type, self.portal.table(object_type).append(now), values, now))
        return self._batch_response(results, [], started, created=True)

    def batch_upsert(self, request: Request) -> Response:
        object_type, inputs, body = self._inputs(request)
        id_property = body.get("idProperty") or (inputs[0].get("idProperty") if inputs else None)
        prop = self.portal.property(object_type, id_property or "")
        unique = prop is not None and (prop.unique or (object_type == "contacts" and prop.name == "email"))
        if not unique or id_property is None:
            raise errors.validation(
                f"Unable to perform update/upsert by non-unique {OBJECT_TYPES[object_type].type_id} property "
                f"{id_property} in portal ID {self.portal.portal_id}")
        started = now_iso()
        with self.portal.lock:
            parsed = self._parse_all(object_type, inputs)
            now = self.portal.now_ms()
            results, failures = [], []
            for item, (values, field_errors) in zip(inputs, parsed, strict=True):
                key = str(item.get("id"))
                if field_errors:
                    failures.append(_invalid(key, field_errors))
                    continue
                row = self._find_row(object_type, key, id_property, False)
                new = row is None
                if new:
                    row = self.portal.table(object_type).append(now)
                    key_values, _ = self.portal.parse_values(object_type, {id_property: key})
                    self.portal.apply(object_type, row, key_values, now, "API")
                assert row is not None
                results.append({**self._write(object_type, row, values, now, (id_property,)), "new": new})
        return self._batch_response(results, failures, started)

    def batch_archive(self, request: Request) -> Response:
        object_type, inputs, _body_ = self._inputs(request)
        with self.portal.lock:
            for item in inputs:
                # HubSpot answers 204 even for ids that do not exist.
                with contextlib.suppress(NotFound):
                    self.portal.archive(object_type, str(item.get("id")))
        return Response.empty(204)

    def create(self, request: Request) -> Response:
        object_type = object_type_of(self.portal, request.params["object_type"], write=True)
        body = _body(request)
        with self.portal.lock:
            values = self._parse_one(object_type, body)
            now = self.portal.now_ms()
            row = self.portal.table(object_type).append(now)
            return Response.json(self._write(object_type, row, values, now), status=201)

    def update(self, request: Request) -> Response:
        object_type = object_type_of(self.portal, request.params["object_type"], write=True)
        body = _body(request)
        with self.portal.lock:
            row = self._find_row(object_type, request.params["record_id"], request.arg("idProperty"), False)
            if row is None:
                raise errors.not_found()
            values = self._parse_one(object_type, body)
            return Response.json(self._write(object_type, row, values, self.portal.now_ms()))

    def archive(self, request: Request) -> Response:
        object_type = object_type_of(self.portal, request.params["object_type"], write=True)
        # Deleting an unknown or already archived record is a 204 too.
        with self.portal.lock, contextlib.suppress(NotFound):
            self.portal.archive(object_type, request.params["record_id"])
        return Response.empty(204)
