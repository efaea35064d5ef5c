"""Records as HubSpot sends them: `{id, properties, createdAt, updatedAt, archived, ...}`.

Why separate from the store: the same record shape is returned by list, get, search and every
batch endpoint, and all property values must leave as strings or null.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from spm_sync.sandbox.hubspot.portal import Portal
from spm_sync.sandbox.hubspot.schema import association_types, resolve_object_type
from spm_sync.sandbox.hubspot.table import ObjectTable
from spm_sync.sandbox.hubspot.values import NULL_MS, format_datetime

INLINE_ASSOCIATIONS_MAX = 100


def split_names(values: Iterable[str]) -> list[str]:
    """`properties=a,b&properties=c` -> [a, b, c] (both styles appear in the wild)."""
    names: list[str] = []
    for value in values:
        names.extend(part.strip() for part in value.split(",") if part.strip())
    return names


def property_names(portal: Portal, object_type: str, requested: Sequence[str]) -> list[str]:
    """What a response carries: the requested known properties (unknown ones silently dropped),
    or the object's defaults; id and the create/modify stamps always ride along."""
    spec = portal.table(object_type).spec
    if not requested:
        return list(spec.default_props)
    defs = portal.properties[object_type]
    names = [name for name in dict.fromkeys(requested) if name in defs]
    for always in ("hs_object_id", spec.created_prop, spec.modified_prop):
        if always not in names:
            names.append(always)
    return names


def _history(table: ObjectTable, row: int, name: str) -> list[dict[str, Any]]:
    return [{"value": "" if e.value is None else e.value, "timestamp": format_datetime(e.timestamp_ms),
             "sourceType": e.source_type} for e in table.history_of(row, name)]


def inline_associations(portal: Portal, object_type: str, record_id: int, to_types: Sequence[str],
                        base_url: str = "") -> dict[str, Any]:
    """The v3 `associations` block: `{companies: {results: [{id, type}], paging?}}`, empty types omitted.

    At most 100 results per type (HubSpot's inline limit since 2021); a longer list ends with
    `paging.next` pointing at the record's association list from the first target left out.
    """
    block: dict[str, Any] = {}
    for raw in to_types:
        to_type = resolve_object_type(raw)
        if to_type is None:
            continue
        ids, primary = portal.associations.targets(object_type, record_id, to_type)
        results: list[dict[str, str]] = []
        entry: dict[str, Any] = {"results": results}
        for to_id, is_primary in zip(ids, primary, strict=True):
            kinds = association_types(object_type, to_type, bool(is_primary))
            if len(results) + len(kinds) > INLINE_ASSOCIATIONS_MAX:
                after = str(int(to_id))
                link = f"{base_url}/crm/v4/objects/{object_type}/{record_id}/associations/{to_type}?after={after}"
                entry["paging"] = {"next": {"after": after, "link": link}}
                break
            results.extend({"id": str(int(to_id)), "type": kind.name} for kind in kinds)
        if results:
            block[to_type] = entry
    return block


def record(portal: Portal, object_type: str, row: int, names: Sequence[str],
           history: Sequence[str] = (), associations: Sequence[str] = (), base_url: str = "") -> dict[str, Any]:
    """One record in HubSpot's SimplePublicObject shape."""
    table = portal.table(object_type)
    record_id = int(table.ids[row])
    out: dict[str, Any] = {
        "id": str(record_id),
        "properties": {name: table.render(row, name) for name in names},
    }
    if history:
        defs = portal.properties[object_type]
        out["propertiesWithHistory"] = {name: _history(table, row, name) for name in history if name in defs}
    out["createdAt"] = format_datetime(int(table.created[row]))
    out["updatedAt"] = format_datetime(int(table.updated[row]))
    archived = bool(table.archived[row])
    out["archived"] = archived
    if archived and int(table.archived_at[row]) != NULL_MS:
        out["archivedAt"] = format_datetime(int(table.archived_at[row]))
    if associations:
        block = inline_associations(portal, object_type, record_id, associations, base_url)
        if block:
            out["associations"] = block
    return out
