"""Tooling API metadata writes: `tooling/sobjects/CustomObject` and `tooling/sobjects/CustomField`.

Why these two: they are how an integration creates a custom object and custom fields over REST (the
body is `{"FullName": "Object.Field__c", "Metadata": {...}}` with the Metadata API's type names:
Percent, Currency, Number, Text, DateTime, Date, Lookup, Checkbox). A created field is at once part
of the org's describe, SOQL and write validation, so the real SDK can describe, write and read it.
Permission sets, their field permissions and assignments are ordinary sObjects (schema.py), written
through the data API as the documentation recommends.

Error codes where the documentation gives none are best guesses: FIELD_INTEGRITY_EXCEPTION for bad
metadata, DUPLICATE_DEVELOPER_NAME for a name in use, 403 INSUFFICIENT_ACCESS without the
"Customize Application" permission.
"""

from __future__ import annotations

from typing import Any

from spm_sync.sandbox.server import Request, Response

from . import ids
from .errors import fail, from_request_error
from .org import Org, RequestError
from .rest import _json_object, check_version
from .schema import FieldSpec, custom_field, custom_object

CUSTOMIZE_APPLICATION = "CustomizeApplication"
# Metadata API field type -> describe type
FIELD_TYPES = {
    "Percent": "percent", "Currency": "currency", "Number": "double", "Text": "string", "DateTime": "datetime",
    "Date": "date", "Lookup": "reference", "Checkbox": "boolean",
}
NUMERIC = ("Percent", "Currency", "Number")
MAX_PRECISION = 18
MAX_TEXT = 255
ID_PREFIX = {"CustomField": "00N", "CustomObject": "01I"}


def _invalid(message: str) -> Exception:
    return fail(400, "FIELD_INTEGRITY_EXCEPTION", message)


def _int(meta: dict[str, Any], key: str, default: int) -> int:
    value = meta.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
        raise _invalid(f"{key}: not a whole number: {value!r}")
    return int(value)


def field_from_metadata(org: Org, object_name: str, name: str, meta: dict[str, Any]) -> FieldSpec:
    """The describe-level field a CustomField body asks for; bad metadata is a 400 naming the key."""
    kind = meta.get("type")
    if kind not in FIELD_TYPES:
        raise _invalid(f"type: expected one of {', '.join(FIELD_TYPES)}, got {kind!r}")
    label = meta.get("label")
    if not label:
        raise fail(400, "REQUIRED_FIELD_MISSING", "Required field is missing: label", ["label"])
    options: dict[str, Any] = {}
    if kind in NUMERIC:
        precision, scale = _int(meta, "precision", MAX_PRECISION), _int(meta, "scale", 0)
        if not 1 <= precision <= MAX_PRECISION or scale > precision:
            raise _invalid(f"precision {precision} / scale {scale}: precision 1..18, scale at most the precision")
        options.update(precision=precision, scale=scale)
    if kind == "Text":
        length = _int(meta, "length", 0)
        if not 1 <= length <= MAX_TEXT:
            raise _invalid(f"length: Text fields take 1..255 characters, got {length}")
        options["length"] = length
    if kind in ("Text", "Number"):
        options.update(external_id=bool(meta.get("externalId")), unique=bool(meta.get("unique")))
    if kind == "Lookup":
        target = org.find_object(str(meta.get("referenceTo") or ""))
        relationship = meta.get("relationshipName")
        if target is None or not relationship:
            raise _invalid("Lookup fields need referenceTo (an existing object) and relationshipName")
        options.update(reference_to=(target.name,), relationship_name=f"{relationship}__r", length=18)
    return custom_field(name, FIELD_TYPES[kind], str(label), **options)


class ToolingApi:
    """Handlers bound to one org."""

    def __init__(self, org: Org) -> None:
        self.org = org
        self._created = 0

    def create(self, request: Request) -> Response:
        """POST tooling/sobjects/{CustomObject|CustomField}: 201 {id, success, errors, warnings, infos}."""
        check_version(request)
        kind = request.params["type"]
        if CUSTOMIZE_APPLICATION in self.org.denied:
            raise fail(403, "INSUFFICIENT_ACCESS",
                       "insufficient access rights on object id: the user needs the Customize Application permission")
        body = _json_object(request)
        full_name = str(body.get("FullName") or "")
        meta = body.get("Metadata")
        if not isinstance(meta, dict):
            raise fail(400, "REQUIRED_FIELD_MISSING", "Required field is missing: Metadata", ["Metadata"])
        try:
            if kind == "CustomObject":
                self._object(full_name, meta)
            else:
                self._field(full_name, meta)
        except RequestError as exc:
            raise from_request_error(exc) from exc
        self._created += 1
        record_id = ids.make_id(ID_PREFIX[kind], self._created)
        return Response.json({"id": record_id, "success": True, "errors": [], "warnings": [], "infos": []},
                             status=201)

    def _object(self, name: str, meta: dict[str, Any]) -> None:
        if not name.endswith("__c"):
            raise _invalid(f"FullName: a custom object's name ends in __c: {name!r}")
        name_field = meta.get("nameField") or {}
        missing = [k for k in ("label", "pluralLabel", "deploymentStatus", "sharingModel") if not meta.get(k)]
        if not name_field.get("label") or name_field.get("type") not in ("Text", "AutoNumber"):
            missing.append("nameField")
        if missing:
            raise fail(400, "REQUIRED_FIELD_MISSING", f"Required fields are missing: [{', '.join(missing)}]", missing)
        self.org.add_object(custom_object(name, meta["label"], meta["pluralLabel"], name_field["label"]))

    def _field(self, full_name: str, meta: dict[str, Any]) -> None:
        object_name, _, field_name = full_name.partition(".")
        if not field_name.endswith("__c"):
            raise _invalid(f"FullName: expected Object.Field__c, got {full_name!r}")
        if self.org.find_object(object_name) is None:
            raise _invalid(f"FullName: no object named {object_name}")
        self.org.add_field(object_name, field_from_metadata(self.org, object_name, field_name, meta))
