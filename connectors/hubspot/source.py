"""`hubspot_source`: the dlt source of one HubSpot portal, one resource per object type.

Resources are generated from settings.STANDARD_OBJECTS (+ config.extra_objects); each yields Arrow
tables of strings into its own table (merge on `id`) and, marked by table name, its associations
and (deals) pipeline stages. Owners (with teams) come from the owners API. Resources run in parallel
(dlt's extract threads) sharing one client and pacer: searched objects then wait on the search limit
while the others' list pages fill the 10-second limit.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import dlt
from dlt.extract.resource import DltResource
from dlt.extract.source import DltSource

from spm_sync.config import HubSpotSource
from spm_sync.connectors.context import ExtractContext
from spm_sync.connectors.hubspot.client import HubSpotClient, Unavailable
from spm_sync.connectors.hubspot.objects import HOUR_MS, ObjectSync, check_due, to_ms
from spm_sync.connectors.hubspot.reader import Reader
from spm_sync.connectors.hubspot.records import content_digest, owner_row
from spm_sync.connectors.hubspot.settings import (
    ASSOCIATIONS_TABLE,
    DEAL_SPLITS_TABLE,
    OWNER_HISTORY_TABLE,
    OWNERS,
    OWNERS_TEAMS_TABLE,
    PIPELINE_STAGES_TABLE,
    ObjectDef,
    object_defs,
)
from spm_sync.errors import BudgetExhausted

ASSOCIATION_KEY = ["from_object", "from_id", "to_object", "to_id", "association_type_id"]
ASSOCIATION_MERGE_KEY = ["from_object", "from_id", "to_object"]  # a re-read replaces a record's links


def object_resource(obj: ObjectDef, reader: Reader, config: HubSpotSource, context: ExtractContext) -> DltResource:
    """The resource of one object type (its table, plus associations / stages variants)."""

    def pull() -> Iterator[Any]:
        yield from ObjectSync(obj, reader, config, context).run(dlt.current.resource_state())

    resource = dlt.resource(pull, name=obj.table, table_name=obj.table, primary_key="id", write_disposition="merge",
                            parallelized=True)
    if obj.associations:
        resource.apply_hints(
            table_name=ASSOCIATIONS_TABLE,
            primary_key=ASSOCIATION_KEY,
            merge_key=ASSOCIATION_MERGE_KEY,
            write_disposition={"disposition": "merge", "strategy": "delete-insert"},
            columns={"removed": {"data_type": "bool", "hard_delete": True}},  # records.unlinked_rows
            create_table_variant=True,
        )
    if obj.credit:
        # A re-read replaces a deal's owner history / splits as a whole (delete-insert on deal_id).
        resource.apply_hints(
            table_name=OWNER_HISTORY_TABLE, primary_key=["deal_id", "timestamp", "value"], merge_key="deal_id",
            write_disposition={"disposition": "merge", "strategy": "delete-insert"}, create_table_variant=True,
        )
        resource.apply_hints(
            table_name=DEAL_SPLITS_TABLE, primary_key="id", merge_key="deal_id",
            write_disposition={"disposition": "merge", "strategy": "delete-insert"},
            columns={"removed": {"data_type": "bool", "hard_delete": True}},  # credit.splits_table tombstones
            create_table_variant=True,
        )
    if obj.stage_properties:
        resource.apply_hints(
            table_name=PIPELINE_STAGES_TABLE,
            primary_key=["pipeline_id", "stage_id"],
            write_disposition="merge",
            create_table_variant=True,
        )
    return resource


def owners_resource(reader: Reader, config: HubSpotSource, context: ExtractContext) -> DltResource:
    """Owners with their teams: active ones read whole every run (a small list), archived ones on
    the objects' archive-check cadence (an owner who left stays stored, flagged archived then). Only
    owners that differ from what the last run loaded are yielded (state `loaded`: id -> digest of the
    owner as sent), so an unchanged list loads no rows."""

    def pull() -> Iterator[list[dict[str, Any]]]:
        state = dlt.current.resource_state()
        now_ms = to_ms(context.now)
        with_archived = context.full or check_due(state.get("archived_ms"), now_ms,
                                                  config.archive_check_hours * HOUR_MS)
        loaded: dict[str, str] = {} if context.full else state.setdefault("loaded", {})
        try:
            for archived in (False, True) if with_archived else (False,):
                for owners in reader.owners(archived=archived):
                    digests = {str(o.get("id")): content_digest(o) for o in owners}
                    changed = [o for o in owners if loaded.get(str(o.get("id"))) != digests[str(o.get("id"))]]
                    if changed:
                        context.progress(OWNERS, len(changed), 1)
                        yield [owner_row(o) for o in changed]
                    loaded.update(digests)
            state["loaded"] = loaded
            if with_archived:
                state["archived_ms"] = now_ms
        except Unavailable as exc:
            context.warn(f"hubspot object {OWNERS} skipped: {exc.message}")
        except BudgetExhausted as exc:
            context.budget_stop(f"hubspot object {OWNERS}", exc)

    return dlt.resource(pull, name=OWNERS, table_name=OWNERS, primary_key="id", write_disposition="merge",
                        parallelized=True)


def object_names(config: HubSpotSource) -> list[str]:
    return [*(obj.name for obj in object_defs(config.extra_objects)), OWNERS]


def raw_tables(config: HubSpotSource) -> set[str]:
    """The raw tables this source can produce, loaded or not."""
    objects = {obj.table for obj in object_defs(config.extra_objects)}
    extra = {OWNERS, OWNERS_TEAMS_TABLE, ASSOCIATIONS_TABLE, PIPELINE_STAGES_TABLE, OWNER_HISTORY_TABLE,
             DEAL_SPLITS_TABLE}
    return objects | extra


def hubspot_source(config: HubSpotSource, context: ExtractContext) -> DltSource:
    """The dlt source for one configured HubSpot portal (objects filtered by `context.objects`)."""
    reader = Reader(HubSpotClient(config, context.calls))
    wanted = None if config.objects is None else {*config.objects, *config.extra_objects}
    resources = [
        object_resource(obj, reader, config, context)
        for obj in object_defs(config.extra_objects)
        if context.wants(obj.name) and (wanted is None or obj.name in wanted or obj.table in wanted)
    ]
    if context.wants(OWNERS) and (wanted is None or OWNERS in wanted):
        resources.append(owners_resource(reader, config, context))

    @dlt.source(name="hubspot", max_table_nesting=1)
    def hubspot() -> list[DltResource]:
        return resources

    return hubspot()
