"""A configured target checked against the CRM's own description of the object before anything is sent.

Why up front: a missing or read-only field is a configuration error, reported for every target and
field at once (`spm-sync check` prints the same list) instead of surfacing as rejected records.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field

from spm_sync.config import Config, WritebackTarget
from spm_sync.connectors.writing import FieldInfo
from spm_sync.errors import ConfigError, ConnectorError
from spm_sync.writeback.model import Matching
from spm_sync.writeback.writers import Writer, open_writer

METRIC_KINDS = ("percent", "number", "integer", "text")
RECORD_FIELD_KINDS: dict[str, tuple[str, ...]] = {
    "name": ("text",),
    "lookup": ("reference", "text"),
    "period": ("text",),
    "computed_at": ("datetime", "date", "text"),
}


@dataclass(frozen=True)
class PreparedTarget:
    """A target whose fields exist and are writable, with CRM field names as the CRM spells them."""

    target: WritebackTarget
    fields: dict[str, FieldInfo]  # CRM field name -> description (only the fields we write)
    field_map: dict[str, str]  # metric -> CRM field name
    matching: Matching
    record_fields: dict[str, FieldInfo] = field(default_factory=dict)  # role (name, lookup, ...) -> field


def _lookup(described: dict[str, FieldInfo], name: str) -> FieldInfo | None:
    if name in described:
        return described[name]
    lowered = {k.lower(): v for k, v in described.items()}
    return lowered.get(name.lower())


def _matching(
    target: WritebackTarget, writer: Writer, described: dict[str, FieldInfo], problems: list[str]
) -> Matching:
    def key_field(name: str, role: str) -> str:
        info = _lookup(described, name)
        if info is None:
            problems.append(f"{role} {name} does not exist on {target.object}")
            return name
        if target.mode == "upsert" and not info.unique:
            problems.append(f"{role} {info.name} is not an external id / unique property on {target.object}")
        return info.name

    if target.mode == "upsert":
        return Matching(key_field(str(target.external_id_field), "external_id_field"), upsert=True)
    if target.record_id_field:
        return Matching(key_field(target.record_id_field, "record_id_field"))
    if target.entity == "rep" and writer.is_user_object(target.object):
        return Matching(writer.user_match_field, identity=writer.identity_column)
    problems.append(
        f"entity {target.entity} on object {target.object} needs record_id_field (the field holding the "
        f"{target.entity} id), or mode upsert with external_id_field"
    )
    return Matching(None)


def target_problems(target: WritebackTarget, writer: Writer) -> tuple[list[str], PreparedTarget]:
    """Every problem of one target (empty when it can run), and the target prepared for the run."""
    problems: list[str] = []
    described = writer.fields(target.object)
    fields: dict[str, FieldInfo] = {}
    field_map: dict[str, str] = {}
    for metric, name in target.fields.items():
        info = _lookup(described, name)
        if info is None:
            problems.append(f"field {name} (for {metric}) does not exist on {target.object} "
                            f"(spm-sync writeback setup creates it)")
            continue
        if not info.updateable or (target.mode == "upsert" and not info.createable):
            problems.append(f"field {info.name} (for {metric}) on {target.object} is not updateable")
        if info.kind not in METRIC_KINDS:
            problems.append(f"field {info.name} (for {metric}) is of type {info.crm_type}, which cannot hold a KPI")
        fields[info.name] = info
        field_map[metric] = info.name
    matching = _matching(target, writer, described, problems)
    record_fields = _record_fields(target, described, problems)
    if "period" in record_fields:  # written as a slot of its own (plan.period_slots)
        fields[record_fields["period"].name] = record_fields["period"]
    return problems, PreparedTarget(target, fields, field_map, matching, record_fields)


def _record_fields(
    target: WritebackTarget, described: dict[str, FieldInfo], problems: list[str]
) -> dict[str, FieldInfo]:
    """`name_field`, `lookup_field`, `period_field`, `computed_at_field`: checked like metric fields."""
    found: dict[str, FieldInfo] = {}
    for role, name in target.record_fields().items():
        key = f"{role}_field"
        info = _lookup(described, name)
        if info is None:
            problems.append(f"{key} {name} does not exist on {target.object} (spm-sync writeback setup creates it)")
            continue
        if not info.updateable or (target.mode == "upsert" and not info.createable):
            problems.append(f"{key} {info.name} on {target.object} is not updateable")
        if info.kind not in RECORD_FIELD_KINDS[role]:
            wanted = " or ".join(RECORD_FIELD_KINDS[role])
            problems.append(f"{key} {info.name} on {target.object} is of type {info.crm_type}; it needs {wanted}")
        found[role] = info
    return found


def known_metrics(cfg: Config) -> list[str]:
    """Every metric a target may name: the built-in definitions plus `metrics:` from config."""
    from spm_sync.metrics.definitions import load_catalog

    return sorted(m.name for m in load_catalog(cfg).visible)


def metric_problems(cfg: Config, targets: Iterable[WritebackTarget]) -> list[str]:
    """A metric named in a target that no definition computes, with the closest known names.

    Why up front: a typo would otherwise pass every check and leave the CRM field silently stale.
    """
    known = known_metrics(cfg)
    problems: list[str] = []
    for target in targets:
        for metric in target.fields:
            if metric in known:
                continue
            close = difflib.get_close_matches(metric, known, n=3, cutoff=0.6)
            hint = f"; did you mean {', '.join(close)}?" if close else f"; known metrics: {', '.join(known)}"
            problems.append(f"writeback target {target.name}: unknown metric {metric!r}{hint}")
    return problems


def check_metrics(cfg: Config, targets: Iterable[WritebackTarget]) -> None:
    """Raise a ConfigError (exit 2) listing every unknown metric, before any CRM is called."""
    problems = metric_problems(cfg, targets)
    if problems:
        raise ConfigError("; ".join(problems))


def select(cfg: Config, names: list[str] | None) -> list[WritebackTarget]:
    """The targets to run (all by default); an unknown name is a usage error."""
    if not names:
        return list(cfg.writeback)
    known = {t.name: t for t in cfg.writeback}
    unknown = [n for n in names if n not in known]
    if unknown:
        listed = ", ".join(known) or "none configured"
        raise ConfigError(f"unknown writeback target(s) {', '.join(unknown)} (known: {listed})")
    return [known[n] for n in names]


def validate_targets(cfg: Config) -> list[str]:
    """One line per problem of every configured target (for `spm-sync check`); [] when all is well.

    Asks each CRM to describe the target objects, so it also proves the source is reachable.
    """
    problems = metric_problems(cfg, cfg.writeback)
    writers: dict[str, Writer] = {}
    for target in cfg.writeback:
        where = f"writeback target {target.name}"
        try:
            writer = writers.get(target.source) or open_writer(cfg, target.source)
            writers[target.source] = writer
            found, _prepared = target_problems(target, writer)
        except (ConfigError, ConnectorError) as exc:
            problems.append(f"{where}: {exc}")
            continue
        problems += [f"{where}: {p}" for p in found]
    return problems
