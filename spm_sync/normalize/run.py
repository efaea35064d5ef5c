"""The normalize stage: raw_<source> tables -> spm.* through the mappings, rebuilt in full and swapped in.

Why stage then swap: the staging is connection-private TEMP views (mapping parts, final rows) and a
few small TEMP tables (identities, rates); the swap (DELETE + INSERT of every spm table, plus the
quality report) is one transaction, so readers see the old tables until the new ones are complete
and a failure leaves them untouched. Views, not tables: a million-row table then streams from raw to
spm once instead of being copied twice in memory.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from spm_sync.config import Config, FilesSource
from spm_sync.connectors.registry import raw_tables
from spm_sync.crediting import credits
from spm_sync.normalize import build, quality
from spm_sync.normalize.compile import Catalog, Describe, SourceRef, compile_part
from spm_sync.normalize.mapping import Problem, load_mapping, mapping_error
from spm_sync.normalize.model import Mapping
from spm_sync.normalize.notes import Note, summary_lines
from spm_sync.normalize.targets import TARGETS
from spm_sync.runs import Run, utcnow
from spm_sync.store import Store

QUALITY_OBJECTS = ("opportunity", "activity", "fiscal_period", *build.INPUT_OBJECTS.values())
_QUALITY_MARKS = ", ".join(f"'{o}'" for o in QUALITY_OBJECTS)  # SQL list of the objects above
# Rows whose owner did not resolve are reported (quality), not stored: an ownerless quota counts nowhere;
# likewise a fiscal period outside every year period (no fiscal year, so no period id).
# Quotas and activity targets keep only rows that pass the row rules (build._owned), one of exact copies.
SWAP_FILTERS = {
    "quotas": " WHERE rejected_check IS NULL AND copy_no = 1",
    "activity_targets": " WHERE rejected_check IS NULL AND copy_no = 1",
    "fiscal_periods_imported": " WHERE period IS NOT NULL",
}


@dataclass
class NormalizeResult:
    tables: dict[str, int] = field(default_factory=dict)
    quality: dict[str, int] = field(default_factory=dict)  # "check_name object" -> count
    credits: dict[str, int] = field(default_factory=dict)  # crediting rule -> credit rows
    owner_rule: str = "at_close"
    notes: list[Note] = field(default_factory=list)
    seconds: float = 0.0
    kept_from: str | None = None  # the normalize run whose spm.* were kept (inputs unchanged since)

    def summary(self) -> str:
        if self.kept_from:
            lines = [f"inputs unchanged since normalize run {self.kept_from}: spm.* kept (--rebuild rebuilds)"]
        else:
            lines = [f"normalized in {self.seconds:.1f}s"]
        lines += [f"  spm.{name}: {count:,} rows" for name, count in self.tables.items()]
        if self.credits:
            rules = ", ".join(f"{rule} {count:,}" for rule, count in self.credits.items())
            lines.append(f"credits (spm.opportunity_credits, crediting.owner = {self.owner_rule}): {rules}")
        if self.quality:
            lines.append("data quality (spm_state.quality):")
            lines += [f"  {check}: {count:,}" for check, count in sorted(self.quality.items())]
        else:
            lines.append("data quality: no problems found")
        lines += summary_lines(self.notes)
        return "\n".join(lines)


def raw_catalog(store: Store, dataset: str) -> Catalog:
    """{table: {column: type}} of one raw dataset (empty when the source never synced)."""
    rows = store.fetchall(
        "SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = ?",
        [dataset],
    )
    catalog: dict[str, dict[str, str]] = defaultdict(dict)
    for table, column, data_type in rows:
        catalog[table][column.lower()] = str(data_type).upper()
    return catalog


def describer(store: Store) -> Describe:
    """Bind a SELECT without running it; PostgreSQL has no DESCRIBE, so types stay unknown (CAST)."""

    def describe(sql: str) -> list[tuple[str, str]]:
        if store.backend != "duckdb":
            return []
        return [(row[0], str(row[1])) for row in store.fetchall(f"DESCRIBE {sql}")]

    return describe


TEMP_TABLES = (
    "_sources", "_stage_map", "_fx", "_identities", "_email_reps", "_team_override", "_team_canon",
    *(f"_mirror_{target}" for target in build.MIRRORED),
)


def _drop_temp(store: Store) -> None:
    """Views first (each before the views it reads: reverse build order), then the tables they read."""
    for name in [f"_out_{table}" for table in reversed(build.OUTPUT_COLUMNS)] + [f"_in_{t}" for t in TARGETS]:
        store.execute(f"DROP VIEW IF EXISTS {name}")
    for name in TEMP_TABLES:
        store.execute(f"DROP TABLE IF EXISTS {name}")


def compile_sources(
    cfg: Config, store: Store, mappings: dict[str, Mapping], result: NormalizeResult
) -> tuple[dict[str, list[str]], list[Problem]]:
    """Every source's mapping parts compiled against its raw tables: the SELECTs per target (config
    order), and the problems (a table or column the source's recorded schema lacks; compile.py)."""
    selects: dict[str, list[str]] = {target: [] for target in TARGETS}
    problems: list[Problem] = []
    describe = describer(store)
    for order, source in enumerate(cfg.sources):
        mapping = mappings[source.name]
        ref = SourceRef(source.name, order, f"raw_{source.name}", store.backend)
        catalog = raw_catalog(store, ref.dataset)
        known = raw_tables(source)
        if not catalog:
            result.notes.append(Note("no_raw_tables", source.name))
            continue
        for target in TARGETS:
            parts = mapping.parts(target)
            for index, part in enumerate(parts):
                where = f"{source.name} {target}" + (f"[{index}]" if len(parts) > 1 else "")
                compiled = compile_part(mapping, target, part, ref, catalog, describe, where, index, known)
                result.notes += compiled.notes
                problems += compiled.problems
                if compiled.sql is not None:
                    selects[target].append(compiled.sql)
    return selects, problems


def stage_inputs(cfg: Config, store: Store, mappings: dict[str, Mapping], result: NormalizeResult) -> None:
    """Define `_in_<target>` over every source's raw tables, in config order; a mapping naming a table or
    column the source's recorded schema lacks raises (every such problem in one MappingError, exit 2)."""
    selects, problems = compile_sources(cfg, store, mappings, result)
    if problems:
        raise mapping_error(problems[0].file, problems)
    store.execute(build.CREATE_SOURCES)
    store.execute(build.CREATE_STAGE_MAP)
    for order, source in enumerate(cfg.sources):
        mapping = mappings[source.name]
        home = source.currency if isinstance(source, FilesSource) else mapping.currency.home
        store.execute(
            "INSERT INTO _sources VALUES (?, ?, ?, ?)",
            [source.name, order, source.type, home or cfg.reporting.currency],
        )
        store.executemany(
            "INSERT INTO _stage_map VALUES (?, ?, ?)",
            [(source.name, stage, category) for stage, category in mapping.stages.items()],
        )
    for target, parts in selects.items():
        store.execute(build.input_view(target, parts))


def build_outputs(cfg: Config, store: Store, as_of: date) -> None:
    store.execute(build.home_currencies())
    store.execute(build.fx(cfg.reporting.currency))
    store.execute(build.IDENTITIES)
    store.execute(build.EMAIL_REPS)
    store.execute(build.team_canon(cfg.crediting.teams))
    store.execute(build.team_override(as_of))
    for target in build.MIRRORED:
        store.execute(build.mirror_links(target, cfg.system_of_record))
    for _table, statement in build.BUILD_ORDER:
        store.execute(statement)
    store.execute(build.rejected_inputs(cfg.reporting.currency))


def _layout(store: Store, table: str) -> list[tuple[str, str]]:
    rows = store.fetchall(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'spm' "
        "AND table_name = ? ORDER BY ordinal_position",
        [table],
    )
    return [(str(name), str(data_type)) for name, data_type in rows]


def swap_in(cfg: Config, store: Store, run: Run, as_of: date) -> None:
    """One transaction: team changes observed, every spm table replaced, credits rebuilt, and this
    run's quality report replacing the last."""
    now = utcnow()
    layouts = {table: _layout(store, table) for table in build.OUTPUT_COLUMNS}
    with store.transaction():
        for statement in build.observe_teams(as_of):
            store.execute(statement)
        for table, layout in layouts.items():
            recreate = store.backend == "duckdb"
            for statement in build.swap(table, layout, SWAP_FILTERS.get(table, ""), recreate=recreate):
                store.execute(statement)
        store.execute(f"DELETE FROM spm_state.quality WHERE object IN ({_QUALITY_MARKS})")
        for statement in credits.statements(cfg, as_of):
            store.execute(statement)
        checks = (
            *quality.checks(cfg.reporting.currency), *quality.credit_checks(cfg.crediting.split_types),
            quality.rejected(build.INPUT_OBJECTS),
        )
        for check in checks:
            store.execute(quality.insert(check, run.run_id), [now])


def _set_utc(store: Store) -> str | None:
    """Text timestamps without an offset are UTC; returns the session setting to restore."""
    if store.backend != "duckdb":
        store.execute("SET TIME ZONE 'UTC'")
        return None
    row = store.fetchone("SELECT current_setting('TimeZone')")
    store.execute("SET TimeZone = 'UTC'")
    return str(row[0]) if row else None


def normalize(cfg: Config, store: Store, run: Run) -> NormalizeResult:
    """Rebuild spm.* from every configured source's raw tables; see the module docstring."""
    started = time.monotonic()
    mappings = {source.name: load_mapping(source.type, source.mapping) for source in cfg.sources}
    result = NormalizeResult()
    as_of = cfg.as_of or utcnow().date()
    previous_tz = _set_utc(store)
    _drop_temp(store)
    try:
        stage_inputs(cfg, store, mappings, result)
        build_outputs(cfg, store, as_of)
        swap_in(cfg, store, run, as_of)
    finally:
        _drop_temp(store)
        if previous_tz:
            store.execute(f"SET TimeZone = '{previous_tz}'")
    for table in build.OUTPUT_COLUMNS:
        row = store.fetchone(f"SELECT count(*) FROM spm.{table}")
        result.tables[table] = int(row[0]) if row else 0
    for check, obj, count in store.fetchall(
        f"SELECT check_name, object, count(*) FROM spm_state.quality WHERE run_id = ? AND object IN ({_QUALITY_MARKS}) "
        "GROUP BY 1, 2 ORDER BY 1, 2",
        [run.run_id],
    ):
        result.quality[f"{check} {obj}"] = int(count)
    result.owner_rule = cfg.crediting.owner
    result.credits = {
        str(rule): int(count)
        for rule, count in store.fetchall(
            "SELECT rule, count(*) FROM spm.opportunity_credits GROUP BY rule ORDER BY rule"
        )
    }
    for table, count in result.tables.items():
        run.count(table, count)
    result.seconds = time.monotonic() - started
    notes = [note.text() for note in result.notes[:200]]
    run.details.update({"quality": result.quality, "credits": result.credits, "notes": notes})
    return result


def kept(run: Run, previous: str, records: dict[str, int], details: dict[str, Any]) -> NormalizeResult:
    """A normalize whose inputs are those of run `previous` (fingerprint.py): its spm.* stay, and this run
    records the same table counts, quality and credits, and which run built them."""
    result = NormalizeResult(tables=records, quality=dict(details.get("quality") or {}),
                             credits=dict(details.get("credits") or {}), kept_from=previous)
    for table, count in records.items():
        run.count(table, count)
    run.details.update({"quality": result.quality, "credits": result.credits, "skipped": f"inputs unchanged "
                        f"since normalize run {previous}", "built_by": details.get("built_by") or previous})
    return result
