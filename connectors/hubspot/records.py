"""Pure transforms: HubSpot JSON -> Arrow tables of strings, request bodies, property selection.

Why strings: HubSpot sends every property value as a string (numbers, dates, booleans alike) and the
raw layer keeps what the CRM sent (docs/CONTRACTS.md); normalization parses. Values a fake or a
future API sends typed (numbers, booleans) are turned into the same strings HubSpot would send.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

import orjson
import pyarrow as pa

from spm_sync.connectors.hubspot.settings import MAX_QUERY_CHARS, OBJECT_ID_PROPERTY, STAGE_ENTRY_PREFIXES

BOOKKEEPING = ("id", "archived", "created_at", "updated_at", "archived_at")
ASSOCIATION_SCHEMA = pa.schema(
    [
        pa.field("from_object", pa.string(), nullable=False),
        pa.field("from_id", pa.string(), nullable=False),
        pa.field("to_object", pa.string(), nullable=False),
        pa.field("to_id", pa.string(), nullable=False),
        pa.field("association_type_id", pa.int64(), nullable=False),
        ("association_category", pa.string()),
        ("association_label", pa.string()),
        ("removed", pa.bool_()),  # hard-delete hint: a tombstone that clears a record's stored links
    ]
)


def as_text(value: Any) -> str | None:
    """A property value as HubSpot's wire text (None stays None)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value) if isinstance(value, float) and not value.is_integer() else str(int(value))
    return orjson.dumps(value).decode()


def _flag(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def records_table(records: Sequence[Mapping[str, Any]], properties: Sequence[str]) -> pa.Table:
    """Object records -> one row each: bookkeeping columns + one string column per property.

    Every page gets the same columns (the requested properties), so a property missing from one
    page does not reshape the table; properties the API sent but we did not ask for are kept too.
    """
    extra = sorted({k for r in records for k in (r.get("properties") or {})} - set(properties) - set(BOOKKEEPING))
    columns: dict[str, pa.Array] = {
        "id": pa.array([str(r.get("id")) for r in records], pa.string()),
        "archived": pa.array([_flag(r.get("archived")) for r in records], pa.bool_()),
        "created_at": pa.array([as_text(r.get("createdAt")) for r in records], pa.string()),
        "updated_at": pa.array([as_text(r.get("updatedAt")) for r in records], pa.string()),
        "archived_at": pa.array([as_text(r.get("archivedAt")) for r in records], pa.string()),
    }
    for name in (*properties, *extra):
        if name in columns:
            continue
        columns[name] = pa.array([as_text((r.get("properties") or {}).get(name)) for r in records], pa.string())
    return _with_required_id(pa.table(columns))


def _with_required_id(table: pa.Table) -> pa.Table:
    """`id` is the merge key: declare it non-null as dlt's schema does (no hint-mismatch warnings)."""
    index = table.schema.get_field_index("id")
    return table.cast(table.schema.set(index, pa.field("id", pa.string(), nullable=False)))


def deleted_table(ids: Sequence[str], deleted_at: str) -> pa.Table:
    """Rows for hard-deleted records: only the id survives, marked archived."""
    n = len(ids)
    return _with_required_id(pa.table(
        {
            "id": pa.array(list(ids), pa.string()),
            "archived": pa.array([True] * n, pa.bool_()),
            "archived_at": pa.array([deleted_at] * n, pa.string()),
            "hard_deleted": pa.array([True] * n, pa.bool_()),
        }
    ))


def association_rows(from_object: str, to_object: str, results: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """v4 batch-read results -> one row per (from, to, association type)."""
    rows = []
    for result in results:
        from_id = as_text((result.get("from") or {}).get("id"))
        for target in result.get("to") or []:
            to_id = as_text(target.get("toObjectId"))
            for kind in target.get("associationTypes") or [{}]:
                type_id = kind.get("typeId")
                rows.append(
                    {
                        "from_object": from_object,
                        "from_id": from_id,
                        "to_object": to_object,
                        "to_id": to_id,
                        "association_type_id": int(type_id) if type_id is not None else None,
                        "association_category": kind.get("category"),
                        "association_label": kind.get("label"),
                    }
                )
    return rows


def association_kinds(types: Iterable[Mapping[str, Any]], labels: Iterable[Mapping[str, Any]]
                      ) -> dict[str, dict[str, Any]]:
    """v3 type names (`deal_to_company`) -> the v4 fields a row stores, from the v3 types list
    (`{id, name}`) and the v4 labels list (`{category, typeId, label}`) of one object pair."""
    by_id = {int(label["typeId"]): label for label in labels if label.get("typeId") is not None}
    kinds: dict[str, dict[str, Any]] = {}
    for kind in types:
        if kind.get("id") is None or not kind.get("name"):
            continue
        type_id = int(kind["id"])
        label = by_id.get(type_id) or {}
        kinds[str(kind["name"])] = {"association_type_id": type_id, "association_category": label.get("category"),
                                    "association_label": label.get("label")}
    return kinds


def _inline_block(record: Mapping[str, Any], to_object: str) -> Mapping[str, Any] | None:
    blocks = record.get("associations") or {}
    return blocks.get(to_object) or next((b for k, b in blocks.items() if str(k).lower() == to_object.lower()), None)


def inline_association_rows(from_object: str, to_object: str, records: Iterable[Mapping[str, Any]],
                            kinds: Mapping[str, Mapping[str, Any]]) -> tuple[list[dict[str, Any]], list[str]]:
    """A list page's inline `associations` -> (rows as `association_rows` makes them, ids to read again).

    A record's inline list is complete unless it pages on (more than 100 links) or names a type
    the pair's definitions lack: those records' links are left to a v4 batch read, none kept here.
    A record without a block for `to_object` gets its tombstone (see `unlinked_rows`).
    """
    rows: list[dict[str, Any]] = []
    again: list[str] = []
    for record in records:
        from_id = str(record["id"])
        block = _inline_block(record, to_object)
        if not block:
            rows.extend(unlinked_rows(from_object, to_object, [from_id]))
            continue
        results = block.get("results") or []
        if (block.get("paging") or {}).get("next") or any(str(r.get("type")) not in kinds for r in results):
            again.append(from_id)
            continue
        rows.extend({"from_object": from_object, "from_id": from_id, "to_object": to_object,
                     "to_id": as_text(r.get("id")), **kinds[str(r.get("type"))]} for r in results)
    return rows, again


def unlinked_rows(from_object: str, to_object: str, ids: Iterable[str]) -> list[dict[str, Any]]:
    """Tombstones for records read with no `to_object` link (v4 answers those as errors of a 207).

    Why: a re-read replaces a record's links (delete-insert on from_object, from_id, to_object), but a
    record without links yields no row to replace them with; the tombstone deletes them and, marked
    `removed` (dlt's hard-delete hint), is not stored itself.
    """
    return [{"from_object": from_object, "from_id": i, "to_object": to_object, "to_id": "",
             "association_type_id": 0, "removed": True} for i in ids]


def association_table(rows: Sequence[Mapping[str, Any]]) -> pa.Table:
    return pa.Table.from_pylist(list(rows), schema=ASSOCIATION_SCHEMA)


def pipeline_stage_rows(pipelines: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """GET /crm/v3/pipelines/deals results -> one row per stage (metadata values as strings)."""
    rows = []
    for pipeline in pipelines:
        for stage in pipeline.get("stages") or []:
            metadata = stage.get("metadata") or {}
            rows.append(
                {
                    "pipeline_id": as_text(pipeline.get("id")),
                    "pipeline_label": pipeline.get("label"),
                    "stage_id": as_text(stage.get("id")),
                    "label": stage.get("label"),
                    "display_order": stage.get("displayOrder"),
                    "is_closed": as_text(metadata.get("isClosed")),
                    "probability": as_text(metadata.get("probability")),
                    "archived": _flag(stage.get("archived")),
                }
            )
    return rows


def stage_entry_properties(stage_ids: Iterable[str]) -> list[str]:
    """`hs_v2_date_entered_<id>` and `hs_date_entered_<id>` for every stage."""
    return [f"{prefix}{stage}" for stage in stage_ids for prefix in STAGE_ENTRY_PREFIXES]


def content_digest(item: Mapping[str, Any]) -> str:
    """A short digest of an API object as sent (key order ignored): equal digests, same content."""
    return hashlib.sha1(orjson.dumps(item, option=orjson.OPT_SORT_KEYS, default=str), usedforsecurity=False).hexdigest()


def owner_row(owner: Mapping[str, Any]) -> dict[str, Any]:
    """An owner as the API sent it, plus its primary team flattened for joins."""
    teams = [dict(t) for t in owner.get("teams") or []]
    primary = next((t for t in teams if t.get("primary")), teams[0] if teams else {})
    row = {k: v for k, v in owner.items() if k != "teams"}
    row["id"] = as_text(owner.get("id"))
    row["archived"] = _flag(owner.get("archived"))
    row["primary_team_id"] = as_text(primary.get("id"))
    row["primary_team_name"] = primary.get("name")
    row["teams"] = [{"id": as_text(t.get("id")), "name": t.get("name"), "primary": _flag(t.get("primary"))}
                    for t in teams]
    return row


def select_properties(
    available: Iterable[str],
    *,
    allow: Sequence[str] | None,
    deny: Sequence[str] | None,
    required: Sequence[str],
) -> list[str]:
    """The properties to read: allow-list or everything minus the deny-list; `required` always.

    Sorted so the column order is stable across runs.
    """
    names = set(allow) if allow else set(available)
    names -= set(deny or ())
    names |= {OBJECT_ID_PROPERTY, *required}
    return sorted(names)


def split_for_query(
    properties: Sequence[str], fixed_chars: int, budget: int | None = None
) -> tuple[list[str], list[str]]:
    """The head of `properties` that fits a GET query string, and the rest (read by POST batch)."""
    budget = MAX_QUERY_CHARS if budget is None else budget
    head: list[str] = []
    used = fixed_chars
    for index, name in enumerate(properties):
        cost = len(urlencode({"properties": name})) + 1
        if used + cost > budget and head:
            return head, list(properties[index:])
        head.append(name)
        used += cost
    return head, []


def search_body(
    modified_property: str,
    window: tuple[int, int] | None,
    after_id: str | None,
    properties: Sequence[str],
    limit: int,
) -> dict[str, Any]:
    """A search for records modified in `window` [start, end) ms (None: every live record) with
    id > after_id, in id order.

    Why by id and not by `after` offsets: a search never pages past 10,000 results, and more than
    10,000 records can share one modification instant; restarting after the last id is exact.
    """
    filters: list[dict[str, Any]] = []
    if window is not None:
        filters += [{"propertyName": modified_property, "operator": "GTE", "value": str(window[0])},
                    {"propertyName": modified_property, "operator": "LT", "value": str(window[1])}]
    if after_id is not None or window is None:
        filters.append({"propertyName": OBJECT_ID_PROPERTY, "operator": "GT", "value": str(after_id or 0)})
    return {
        "filterGroups": [{"filters": filters}],
        "sorts": [{"propertyName": OBJECT_ID_PROPERTY, "direction": "ASCENDING"}],
        "properties": list(properties),
        "limit": limit,
    }


def merge_by_id(base: Sequence[dict[str, Any]], extra: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Add the properties of `extra` records (a split property list's other half) to `base` by id."""
    by_id = {str(r.get("id")): r for r in extra}
    merged = []
    for record in base:
        other = by_id.get(str(record.get("id")))
        if other is not None:
            record = {**record, "properties": {**(record.get("properties") or {}), **(other.get("properties") or {})}}
        merged.append(record)
    return merged
