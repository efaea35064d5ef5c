"""The Salesforce dlt source: one resource per object, generated from `settings.OBJECTS` + config.

Why generated: every object is pulled the same way (describe -> fields -> incremental REST/Bulk
pull -> typed Arrow pages, merge on Id, soft deletes via queryAll); adding one is a row in the table
or a name in `extra_objects`. Each object also gets a small sweep resource writing into the same
table that marks hard-deleted rows (see sweep.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import dlt
import pyarrow as pa
import pyarrow.compute as pc
from dlt.extract.resource import DltResource

from spm_sync.config import SalesforceSource
from spm_sync.connectors.context import ExtractContext
from spm_sync.connectors.salesforce import settings
from spm_sync.connectors.salesforce.client import SalesforceApiError, SalesforceClient
from spm_sync.connectors.salesforce.describe import DescribeCache, ObjectDescribe, select_fields
from spm_sync.connectors.salesforce.pull import ObjectPlan, Puller, later_boundary, table_boundary
from spm_sync.connectors.salesforce.records import column_name
from spm_sync.connectors.salesforce.soql import to_utc
from spm_sync.connectors.salesforce.sweep import StoredRows, mark_deleted, missing_ids, sweep_due
from spm_sync.errors import BudgetExhausted

CURSOR_FALLBACKS = (settings.MODSTAMP, "LastModifiedDate", settings.CREATED)
STALE_DESCRIBE_CODES = ("INVALID_FIELD", "INVALID_TYPE", "INVALID_FIELD_FOR_INSERT_UPDATE")


def object_specs(config: SalesforceSource) -> list[settings.ObjectSpec]:
    """The built-in table plus the feedback and rep survey objects and `extra_objects` (first mention wins)."""
    specs = list(settings.OBJECTS)
    if config.feedback_object:
        specs.append(settings.ObjectSpec(config.feedback_object))
    if config.rep_survey_object:
        specs.append(settings.ObjectSpec(config.rep_survey_object, table=settings.REP_SURVEY_TABLE))
    specs += [settings.ObjectSpec(name) for name in config.extra_objects]
    seen: set[str] = set()
    out = []
    for spec in specs:
        if spec.name.lower() not in seen:
            seen.add(spec.name.lower())
            out.append(spec)
    return out


def choose_cursor(spec: settings.ObjectSpec, describe: ObjectDescribe) -> str | None:
    for name in (spec.cursor, *CURSOR_FALLBACKS):
        if describe.has(name):
            return name
    return None


def plan_object(
    spec: settings.ObjectSpec, describe: ObjectDescribe, config: SalesforceSource, warn: Callable[[str], None]
) -> ObjectPlan | None:
    """Fields, cursor and delete handling of one described object; None (reported) when unusable."""
    if describe.missing:
        warn(f"{spec.name}: {describe.missing_reason}; skipped")
        return None
    if not describe.queryable or not describe.has("Id"):
        warn(f"{spec.name}: not queryable by this user; skipped")
        return None
    cursor = choose_cursor(spec, describe)
    if cursor is None:
        warn(f"{spec.name}: no modification stamp; pulled in full on every run")
    include_deleted = describe.has("IsDeleted")
    required = ["Id", *([cursor] if cursor else []), *(["IsDeleted"] if include_deleted else [])]
    fields = select_fields(describe, required=required, allow=config.fields.allow, deny=config.fields.deny, warn=warn)
    return ObjectPlan(describe.name, spec.table or column_name(describe.name), tuple(fields), cursor, include_deleted)


def object_names(config: SalesforceSource) -> list[str]:
    return [spec.name for spec in object_specs(config)]


def raw_tables(config: SalesforceSource) -> set[str]:
    """The raw tables this source can produce (one per object it may pull), loaded or not."""
    return {spec.table or column_name(spec.name) for spec in object_specs(config)}


def plan_objects(config: SalesforceSource, context: ExtractContext, describes: DescribeCache) -> list[ObjectPlan]:
    specs = object_specs(config)
    # config `objects:` restricts the source (its extra objects stay wanted), as for HubSpot
    wanted = None if config.objects is None else {n.lower() for n in (*config.objects, *config.extra_objects)}
    if context.objects:
        known = {s.name.lower() for s in specs}
        for name in context.objects:
            if name.lower() not in known:
                context.warn(f"{name}: not a configured object (add it to extra_objects); skipped")
            elif wanted is not None and name.lower() not in wanted:
                context.warn(f"{name}: not in the source's `objects:`; skipped")
    plans = []
    for spec in specs:
        if not context.wants(spec.name) or (wanted is not None and spec.name.lower() not in wanted):
            continue
        try:
            describe = describes.get(spec.name)
        except BudgetExhausted as exc:
            context.budget_stop("reading object metadata", exc)
            break
        plan = plan_object(spec, describe, config, context.warn)
        if plan is not None:
            plans.append(plan)
    return plans


def settled(mark: dict[str, str], start: datetime) -> bool:
    """The boundary saved last run is the cursor dlt resumes from, and old enough to gain no rows."""
    cursor = datetime.fromisoformat(mark["cursor"])
    observed = datetime.fromisoformat(mark["observed"])
    return to_utc(cursor) == to_utc(start) and (observed - cursor).total_seconds() >= settings.CURSOR_SETTLE_S


def _max_cursor(table: pa.Table, column: str) -> datetime | None:
    value = pc.max(table.column(column)).as_py() if table.num_rows else None
    return value if isinstance(value, datetime) else None


class ResourceFactory:
    """Builds the dlt resources of one source run (shared client, puller and describe cache)."""

    def __init__(self, config: SalesforceSource, context: ExtractContext, puller: Puller, describes: DescribeCache):
        self.config = config
        self.context = context
        self.puller = puller
        self.describes = describes

    def _guarded(self, plan: ObjectPlan, tables: Iterator[pa.Table]) -> Iterator[pa.Table]:
        """Budget stops end the object cleanly (what was yielded is loaded); stale describes are dropped."""
        try:
            yield from tables
        except BudgetExhausted as exc:
            self.context.budget_stop(plan.object, exc)
        except SalesforceApiError as exc:
            if exc.error_code not in STALE_DESCRIBE_CODES:
                raise
            self.describes.invalidate(plan.object)
            self.context.warn(f"{plan.object}: fields changed since the cached describe ({exc.message}); "
                              "skipped this run, described again next run")

    def object_resource(self, plan: ObjectPlan) -> DltResource:
        hints: dict[str, Any] = {
            "name": plan.table,
            "write_disposition": "merge",
            "primary_key": column_name("Id"),
            "parallelized": True,
        }
        if plan.cursor is None:
            return dlt.resource(self._full_pull(plan), **hints)
        window = self.context.window
        cursor = dlt.sources.incremental(
            column_name(plan.cursor),
            initial_value=to_utc(window[0]) if window else None,  # aware, like the rows: no tz warnings
            end_value=to_utc(window[1]) if window else None,
            range_end="open",
        )
        return dlt.resource(self._incremental_pull(plan, cursor), **hints)

    def _full_pull(self, plan: ObjectPlan) -> Callable[[], Iterator[pa.Table]]:
        def pull_all() -> Iterator[pa.Table]:
            yield from self._guarded(plan, self.puller.tables(plan))

        return pull_all

    def _incremental_pull(self, plan: ObjectPlan, cursor: Any) -> Callable[..., Iterator[pa.Table]]:
        window = self.context.window
        column = column_name(plan.cursor or "")

        def pull(updated: Any = cursor) -> Iterator[pa.Table]:
            if window is None:
                yield from self._since_last_run(plan, updated.start_value)
                return
            # Backfill: dlt keeps no cursor state with an end_value; resume from our own checkpoint.
            state = dlt.current.resource_state().setdefault("backfill", {})
            key = f"{window[0].isoformat()}/{window[1].isoformat()}"
            done = state.get(key)
            since = max(to_utc(window[0]), to_utc(datetime.fromisoformat(done))) if done else window[0]
            for table in self._guarded(plan, self.puller.tables(plan, since=since, until=window[1])):
                yield table
                reached = _max_cursor(table, column)
                if reached is not None and (state.get(key) is None or reached.isoformat() > state[key]):
                    state[key] = reached.isoformat()
            if not self.context.calls.exhausted:  # complete: a later `backfill --restart` pulls all of it again
                state.pop(key, None)

        return pull

    def _since_last_run(self, plan: ObjectPlan, start: datetime | None) -> Iterator[pa.Table]:
        """The incremental pull; remembers (cursor, Id) of the last row so a settled boundary is not re-read."""
        state = dlt.current.resource_state()
        mark = state.get("boundary")
        after_id = mark["id"] if start is not None and mark and settled(mark, start) else None
        column = column_name(plan.cursor or "")
        seen = None
        for table in self._guarded(plan, self.puller.tables(plan, since=start, after_id=after_id)):
            yield table
            seen = later_boundary(seen, table_boundary(table, column))
            if seen is not None:
                state["boundary"] = {"cursor": seen[0].isoformat(), "id": seen[1],
                                     "observed": self.context.now.isoformat()}

    def sweep_resource(self, plan: ObjectPlan) -> DltResource:
        """Marks rows the org no longer has (hard-deleted, purged) as deleted, every `delete_sweep_days`."""
        every = self.config.delete_sweep_days
        context = self.context

        def sweep() -> Iterator[pa.Table]:
            if context.window is not None:
                return
            state = dlt.current.resource_state()
            if not sweep_due(state.get("last_sweep"), context.now, every):
                return
            stored = StoredRows(dlt.current.pipeline(), plan.table)
            known = stored.live_ids()
            if len(known):
                chunks: list[pa.Array] = []
                ids_only = plan.only(("Id",))
                try:
                    for table in self.puller.tables(ids_only, label=f"{plan.object} (delete sweep)"):
                        chunks.extend(table.column(0).chunks)
                except BudgetExhausted as exc:
                    context.budget_stop(f"{plan.object} delete sweep", exc)
                    return
                live = pa.chunked_array(chunks, pa.string()).combine_chunks() if chunks else pa.array([], pa.string())
                gone = missing_ids(known, live)
                for rows in stored.rows(gone):
                    yield mark_deleted(rows)
            state["last_sweep"] = context.now.isoformat()

        return dlt.resource(
            sweep,
            name=f"{plan.table}_sweep",
            table_name=plan.table,
            write_disposition="merge",
            primary_key=column_name("Id"),
        )


def salesforce_source(config: SalesforceSource, context: ExtractContext) -> Any:
    """The dlt source of one Salesforce org (resources: one per available object, plus sweeps)."""
    client = SalesforceClient(config, context.calls)
    describes = DescribeCache(client, context.cache_dir)
    puller = Puller(
        client,
        bulk_threshold=config.bulk_threshold,
        stage_dir=context.cache_dir / "bulk",
        warn=context.warn,
        progress=context.progress,
    )
    factory = ResourceFactory(config, context, puller, describes)
    resources: list[DltResource] = []
    for plan in plan_objects(config, context, describes):
        resources.append(factory.object_resource(plan))
        if plan.include_deleted:
            resources.append(factory.sweep_resource(plan))

    @dlt.source(name="salesforce", max_table_nesting=0)
    def salesforce() -> list[DltResource]:
        return resources

    return salesforce()
