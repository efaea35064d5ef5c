"""describeGlobal and sObject describe bodies, built from schema.py.

Why complete field metadata: connectors pick fields, types and write-back conversions from
describe (a `percent` field takes 81.25 for 0.8125; `updateable` decides what may be written;
compound `address` fields must be skipped in Bulk queries), so every flag a real describe carries
for these types is present.
"""

from __future__ import annotations

from typing import Any

from .schema import SOAP_TYPES, FieldSpec, ObjectSpec


def _urls(spec: ObjectSpec, base: str) -> dict[str, str]:
    root = f"{base}/sobjects/{spec.name}"
    return {
        "compactLayouts": f"{root}/describe/compactLayouts",
        "rowTemplate": f"{root}/{{ID}}",
        "approvalLayouts": f"{root}/describe/approvalLayouts",
        "defaultValues": f"{root}/defaultValues?recordTypeId&fields",
        "listviews": f"{root}/listviews",
        "describe": f"{root}/describe",
        "quickActions": f"{root}/quickActions",
        "layouts": f"{root}/describe/layouts",
        "sobject": root,
    }


def _object_flags(spec: ObjectSpec) -> dict[str, Any]:
    return {
        "activateable": False,
        "associateEntityType": None,
        "associateParentEntity": None,
        "createable": spec.createable,
        "custom": spec.custom,
        "customSetting": False,
        "deepCloneable": False,
        "deletable": spec.deletable,
        "deprecatedAndHidden": False,
        "feedEnabled": False,
        "hasSubtypes": False,
        "isInterface": False,
        "isSubtype": False,
        "keyPrefix": spec.key_prefix,
        "label": spec.label,
        "labelPlural": spec.label_plural,
        "layoutable": spec.createable,
        "mergeable": spec.name in ("Account", "Lead"),
        "mruEnabled": spec.createable,
        "name": spec.name,
        "queryable": True,
        "replicateable": True,
        "retrieveable": True,
        "searchable": spec.createable,
        "triggerable": spec.createable,
        "undeletable": spec.deletable,
        "updateable": spec.updateable,
    }


def global_describe(base: str, specs: list[ObjectSpec]) -> dict[str, Any]:
    """GET /services/data/vXX.X/sobjects."""
    return {
        "encoding": "UTF-8",
        "maxBatchSize": 200,
        "sobjects": [{**_object_flags(spec), "urls": {
            k: v for k, v in _urls(spec, base).items() if k in ("rowTemplate", "describe", "sobject")
        }} for spec in specs],
    }


def field_describe(spec: FieldSpec, obj: ObjectSpec) -> dict[str, Any]:
    """One entry of describe's `fields` (every key a real describe sends for these types)."""
    numeric = spec.type in ("double", "currency", "percent")
    text = spec.storage == "str"
    return {
        "aggregatable": spec.type not in ("textarea", "address") or spec.length <= 255,
        "aiPredictionField": False,
        "autoNumber": False,
        "byteLength": spec.length * 3 if text or spec.type in ("id", "reference") else 0,
        "calculated": spec.calculated,
        "calculatedFormula": None,
        "cascadeDelete": False,
        "caseSensitive": False,
        "compoundFieldName": _compound_of(spec, obj),
        "controllerName": None,
        "createable": spec.createable,
        "custom": spec.custom,
        "defaultValue": None,
        "defaultValueFormula": None,
        "defaultedOnCreate": spec.defaulted_on_create,
        "dependentPicklist": False,
        "deprecatedAndHidden": False,
        "digits": spec.precision if spec.type == "int" else 0,
        "displayLocationInDecimal": False,
        "encrypted": False,
        "externalId": spec.external_id,
        "extraTypeInfo": "plaintextarea" if spec.type == "textarea" else None,
        "filterable": spec.filterable,
        "filteredLookupInfo": None,
        "formulaTreatNullNumberAsZero": False,
        "groupable": spec.filterable and not numeric and spec.type != "datetime",
        "highScaleNumber": False,
        "htmlFormatted": False,
        "idLookup": spec.type == "id" or spec.external_id or spec.name in ("Email", "Username"),
        "inlineHelpText": None,
        "label": spec.label,
        "length": spec.length if text or spec.type in ("id", "reference") else 0,
        "mask": None,
        "maskType": None,
        "name": spec.name,
        "nameField": spec.name == "Name",
        "namePointing": len(spec.reference_to) > 1,
        "nillable": spec.nillable,
        "permissionable": spec.nillable and spec.createable,
        "picklistValues": [
            {"active": True, "defaultValue": False, "label": v, "validFor": None, "value": v}
            for v in spec.picklist
        ],
        "polymorphicForeignKey": len(spec.reference_to) > 1,
        "precision": spec.precision if numeric else 0,
        "queryByDistance": False,
        "referenceTargetField": None,
        "referenceTo": list(spec.reference_to),
        "relationshipName": spec.relationship_name,
        "relationshipOrder": None,
        "restrictedDelete": False,
        "restrictedPicklist": spec.name in ("CurrencyIsoCode", "IsoCode"),
        "scale": spec.scale if numeric else 0,
        "searchPrefilterable": spec.type == "reference",
        "soapType": SOAP_TYPES.get(spec.type, "xsd:string"),
        "sortable": spec.filterable,
        "type": spec.type,
        "unique": spec.unique,
        "updateable": spec.updateable,
        "writeRequiresMasterRead": False,
    }


def _compound_of(spec: FieldSpec, obj: ObjectSpec) -> str | None:
    for other in obj.fields:
        if spec.name in other.components:
            return other.name
    return None


def object_describe(spec: ObjectSpec, base: str) -> dict[str, Any]:
    """GET /services/data/vXX.X/sobjects/<Object>/describe."""
    return {
        **_object_flags(spec),
        "actionOverrides": [],
        "childRelationships": [],
        "compactLayoutable": spec.createable,
        "defaultImplementation": None,
        "extendedBy": None,
        "extendsInterfaces": None,
        "fields": [field_describe(f, spec) for f in spec.fields],
        "implementedBy": None,
        "implementsInterfaces": None,
        "listviewable": None,
        "lookupLayoutable": None,
        "namedLayoutInfos": [],
        "networkScopeFieldName": None,
        "recordTypeInfos": [],
        "searchLayoutable": spec.createable,
        "supportedScopes": [{"label": "All " + spec.label_plural.lower(), "name": "everything"}],
        "urls": _urls(spec, base),
    }


def object_info(spec: ObjectSpec, base: str) -> dict[str, Any]:
    """GET /services/data/vXX.X/sobjects/<Object> (basic info)."""
    return {"objectDescribe": {**_object_flags(spec), "urls": _urls(spec, base)}, "recentItems": []}
