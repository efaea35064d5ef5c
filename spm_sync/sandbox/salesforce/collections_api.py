"""sObject Collections: POST/PATCH/DELETE composite/sobjects and PATCH upsert by external id.

Why validate before writing: with allOrNone=true a real org rolls the whole call back when any
record fails and reports the others as ALL_OR_NONE_OPERATION_ROLLED_BACK; checking every record
first (under the org lock) gives exactly that without an undo log. Without allOrNone each record
succeeds or fails on its own, results in request order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from spm_sync.sandbox.server import Request, Response

from .errors import fail, from_request_error
from .org import Org, RecordError, RequestError, SaveError
from .rest import check_version, json_body
from .schema import BY_PREFIX

MAX_RECORDS = 200
ROLLED_BACK = SaveError(
    "ALL_OR_NONE_OPERATION_ROLLED_BACK",
    "Record rolled back because not all records were valid and the request was using AllOrNone header",
)

Apply = Callable[[], tuple[str | None, bool | None]]  # -> (id, created)
Plan = tuple[str | None, Callable[[], None], Apply]  # (id for error results, check, apply)


def _result(record_id: str | None, created: bool | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"id": record_id, "success": True, "errors": []}
    if created is not None:
        out["created"] = created
    return out


def _failure(record_id: str | None, errors: tuple[SaveError, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {"success": False, "errors": [e.wire() for e in errors]}
    if record_id is not None:
        out = {"id": record_id, **out}
    return out


class CollectionsApi:
    """Handlers bound to one org."""

    def __init__(self, org: Org) -> None:
        self.org = org

    def _body(self, request: Request) -> tuple[list[dict[str, Any]], bool]:
        body = json_body(request)
        if not isinstance(body, dict) or not isinstance(body.get("records"), list):
            raise fail(400, "JSON_PARSER_ERROR", "Cannot deserialize instance of SObjectCollection: "
                       "the body needs a 'records' list")
        records = body["records"]
        if len(records) > MAX_RECORDS:
            raise fail(400, "EXCEEDED_ID_LIMIT",
                       "record limit reached. cannot submit more than 200 records into this call")
        for record in records:
            if not isinstance(record, dict) or not isinstance(record.get("attributes"), dict) \
                    or not record["attributes"].get("type"):
                raise fail(400, "INVALID_TYPE", "Must send a concrete entity type.")
        return records, bool(body.get("allOrNone", False))

    def _run(self, plans: Sequence[Plan], all_or_none: bool) -> Response:
        """plans: (id for error results, check, apply) per record, in request order."""
        if self.org.take_lock_failure():
            results = [
                _failure(rid, (SaveError("UNABLE_TO_LOCK_ROW",
                                         "unable to obtain exclusive access to this record or 200 records"),))
                for rid, _, _ in plans
            ]
            return Response.json(results)
        try:
            with self.org.lock:
                errors: list[tuple[SaveError, ...] | None] = []
                for _, check, _ in plans:
                    try:
                        check()
                        errors.append(None)
                    except RecordError as exc:
                        errors.append(exc.errors)
                if all_or_none and any(e is not None for e in errors):
                    return Response.json([
                        _failure(rid, err if err is not None else (ROLLED_BACK,))
                        for (rid, _, _), err in zip(plans, errors, strict=True)
                    ])
                results = []
                for (rid, _, apply), err in zip(plans, errors, strict=True):
                    if err is not None:
                        results.append(_failure(rid, err))
                        continue
                    try:
                        new_id, created = apply()
                        results.append(_result(new_id, created))
                    except RecordError as exc:
                        results.append(_failure(rid, exc.errors))
                return Response.json(results)
        except RequestError as exc:
            raise from_request_error(exc) from exc

    def create(self, request: Request) -> Response:
        check_version(request)
        records, all_or_none = self._body(request)
        plans: list[Plan] = []
        for record in records:
            obj = record["attributes"]["type"]
            values = {k: v for k, v in record.items() if k != "attributes"}
            if any(k.lower() == "id" for k in values):
                plans.append((None, _refuse(SaveError(
                    "INVALID_FIELD", "Can't specify an ID on create", ("Id",))), _never))
                continue
            plans.append((None, self._check_create(obj, values), self._apply_create(obj, values)))
        return self._run(plans, all_or_none)

    def update(self, request: Request) -> Response:
        check_version(request)
        records, all_or_none = self._body(request)
        plans: list[Plan] = []
        for record in records:
            obj = record["attributes"]["type"]
            values = {k: v for k, v in record.items() if k not in ("attributes",) and k.lower() != "id"}
            record_id = next((str(v) for k, v in record.items() if k.lower() == "id"), None)
            if not record_id:
                plans.append((None, _refuse(SaveError("MISSING_ARGUMENT", "Id not specified in an update call")),
                              _never))
                continue
            plans.append((record_id, self._check_update(obj, record_id, values),
                          self._apply_update(obj, record_id, values)))
        return self._run(plans, all_or_none)

    def upsert(self, request: Request) -> Response:
        check_version(request)
        obj, ext_field = request.params["obj"], request.params["field"]
        records, all_or_none = self._body(request)
        table = self._table(obj)
        spec = table.spec.field(ext_field)
        if spec is None or not spec.external_id:
            raise fail(400, "INVALID_FIELD", f"Field name provided, {ext_field} is not an External ID or "
                       f"indexed field for {table.spec.name}")
        plans: list[Plan] = []
        for record in records:
            values = {k: v for k, v in record.items() if k != "attributes"}
            key = next((v for k, v in values.items() if k.lower() == spec.name.lower()), None)
            if record["attributes"]["type"].lower() != table.spec.name.lower():
                raise fail(400, "INVALID_TYPE", "Must send a single entity type.")
            if key in (None, ""):
                plans.append((None, _refuse(SaveError(
                    "MISSING_ARGUMENT", f"{spec.name} not specified", (spec.name,))), _never))
                continue
            plans.append((None, self._check_upsert(table.spec.name, spec.name, str(key), values),
                          self._apply_upsert(table.spec.name, spec.name, str(key), values)))
        return self._run(plans, all_or_none)

    def delete(self, request: Request) -> Response:
        check_version(request)
        record_ids = [i for i in (request.arg("ids") or "").split(",") if i]
        if len(record_ids) > MAX_RECORDS:
            raise fail(400, "EXCEEDED_ID_LIMIT",
                       "record limit reached. cannot submit more than 200 records into this call")
        all_or_none = (request.arg("allOrNone") or "false").lower() == "true"
        plans = [(rid, self._check_delete(rid), self._apply_delete(rid)) for rid in record_ids]
        return self._run(plans, all_or_none)

    # ---- per-record steps --------------------------------------------------------------------
    def _table(self, obj: str) -> Any:
        try:
            return self.org.table(obj)
        except RequestError as exc:
            raise fail(400, "INVALID_TYPE", f"sObject type '{obj}' is not supported.") from exc

    def _check_create(self, obj: str, values: dict[str, Any]) -> Callable[[], None]:
        self._table(obj)
        return lambda: self.org.check_create(obj, values)

    def _apply_create(self, obj: str, values: dict[str, Any]) -> Apply:
        return lambda: (self.org.create(obj, values, api=True), None)

    def _check_update(self, obj: str, record_id: str, values: dict[str, Any]) -> Callable[[], None]:
        self._table(obj)
        return lambda: self.org.check_update(obj, record_id, values)

    def _apply_update(self, obj: str, record_id: str, values: dict[str, Any]) -> Apply:
        def apply() -> tuple[str | None, bool | None]:
            self.org.update(obj, record_id, values, api=True)
            return record_id, None
        return apply

    def _check_upsert(self, obj: str, ext_field: str, key: str, values: dict[str, Any]) -> Callable[[], None]:
        return lambda: self.org.check_upsert(obj, ext_field, key, values)

    def _apply_upsert(self, obj: str, ext_field: str, key: str, values: dict[str, Any]) -> Apply:
        def apply() -> tuple[str | None, bool | None]:
            try:
                return self.org.upsert(obj, ext_field, key, values, api=True)
            except RequestError as exc:
                raise RecordError(SaveError(exc.code, exc.message)) from exc
        return apply

    def _check_delete(self, record_id: str) -> Callable[[], None]:
        return lambda: self.org.check_delete(self._table_of_id(record_id).spec.name, record_id)

    def _apply_delete(self, record_id: str) -> Apply:
        def apply() -> tuple[str | None, bool | None]:
            self.org.delete(self._table_of_id(record_id).spec.name, record_id)
            return record_id, None
        return apply

    def _table_of_id(self, record_id: str) -> Any:
        spec = BY_PREFIX.get(record_id[:3])
        if spec is None:
            raise RecordError(SaveError("MALFORMED_ID", f"malformed id {record_id}"))
        return self.org.tables[spec.name]


def _refuse(error: SaveError) -> Callable[[], None]:
    def check() -> None:
        raise RecordError(error)
    return check


def _never() -> tuple[str | None, bool | None]:
    raise AssertionError("a refused record is never applied")
