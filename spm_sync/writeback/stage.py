"""The write-back stage: plan -> diff against the ledger -> read back -> batched apply -> ledger.

Only this module does I/O (store reads, CRM calls through the connectors' writers, ledger writes);
every decision is made by the pure functions of `plan.py`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from spm_sync.config import Config
from spm_sync.connectors.writing import RecordResult, RecordWrite, chunks
from spm_sync.errors import ConfigError, WriteUnconfirmed
from spm_sync.metrics import resolve_period
from spm_sync.runs import Run, utcnow
from spm_sync.store import Store
from spm_sync.writeback import ledger
from spm_sync.writeback.inputs import load_entity_names, load_flags, load_identities, load_kpis
from spm_sync.writeback.model import Invalid, KpiValue, Rejection, Step, TargetReport
from spm_sync.writeback.plan import (
    decide,
    diff_ledger,
    period_slots,
    plan_slots,
    record_values,
    record_writes,
    sends_by_record,
)
from spm_sync.writeback.result import WritebackResult
from spm_sync.writeback.targets import PreparedTarget, check_metrics, select, target_problems
from spm_sync.writeback.values import canonical, same
from spm_sync.writeback.writers import BulkWriter, Writer, open_writer

MAX_LISTED = 50  # rejected / invalid rows kept in the run record per target
UNCONFIRMED_ROUNDS = 4  # read back + send again after lost answers, per batch, before the run fails
Send = Callable[[Sequence[RecordWrite]], list[RecordResult]]


def today(cfg: Config) -> date:
    """`as_of` pins "today" (tests, reproducible reports); periods follow the metrics' fiscal calendar."""
    return cfg.as_of or datetime.now(UTC).date()


def write_back(
    cfg: Config, store: Store, run: Run, targets: list[str] | None = None, dry_run: bool = False
) -> WritebackResult:
    """Push changed KPI values into CRM fields; with `dry_run`, plan only (no write calls).

    Every target is checked against the CRM's describe before the first write of any of them.
    """
    chosen = select(cfg, targets)
    check_metrics(cfg, chosen)
    writers: dict[str, Writer] = {}
    for target in chosen:
        if target.source not in writers:
            writers[target.source] = open_writer(cfg, target.source)
    prepared = []
    problems: list[str] = []
    for target in chosen:
        writer = writers[target.source]
        before = Counter(writer.calls.by_family)
        found, item = target_problems(target, writer)
        problems += [f"writeback target {target.name}: {p}" for p in found]
        prepared.append((item, Counter(writer.calls.by_family) - before))
    if problems:
        raise ConfigError("; ".join(problems))
    day = today(cfg)
    result = WritebackResult([], dry_run)
    crms = {name: writer.identity() for name, writer in writers.items()}
    run.details["crm_identity"] = crms
    try:
        for item, describe_calls in prepared:
            writer = writers[item.target.source]
            before = Counter(writer.calls.by_family)
            period = resolve_period(cfg, item.target.period, day, store)  # the calendar the KPIs used
            report = run_target(store, run, item, writer, period, dry_run, crms[item.target.source])
            report.calls = Counter(writer.calls.by_family) - before + describe_calls
            result.reports.append(report)
    finally:
        _record_run(run, result, writers)  # a failed run still records what it finished
    return result


def run_target(
    store: Store, run: Run, item: PreparedTarget, writer: Writer, period: str, dry_run: bool, crm: str
) -> TargetReport:
    """One target: only slots that differ from the ledger's writes to this `crm` (the writer's identity)
    are read back, and only those are sent."""
    target, matching = item.target, item.matching
    report = TargetReport(target.name, target.source, target.object, target.mode, period)
    kpis = load_kpis(store, target.entity, period, list(item.field_map))
    flags = load_flags(store, target.entity, period)
    flagged = [k for k in kpis if (k.entity_id, k.metric) in flags]
    if target.on_rejected_inputs == "skip":
        report.held_back = [
            Invalid(k.entity_id, f"computed without {flags[(k.entity_id, k.metric)]}", k.metric,
                    item.field_map[k.metric])
            for k in flagged
        ]
        kpis = [k for k in kpis if (k.entity_id, k.metric) not in flags]
    else:
        report.sent_flagged = len(flagged)
    identities = load_identities(store, target.source, matching.identity) if matching.identity else {}
    slots, report.invalid = plan_slots(
        item.field_map, period, matching, kpis, identities, item.fields,
        no_identity=f"no CRM user for this rep in source {target.source}",
    )
    slots = sorted([*slots, *period_slots(slots, item.record_fields.get("period"), period)],
                   key=lambda s: (s.record_key, s.field))
    last = ledger.load_last_success(store, target.name, matching.upsert, crm)
    pending, unchanged = diff_ledger(slots, last, item.fields, matching.upsert)
    current = {}
    if pending:
        keys = sorted({s.record_key for s in pending})
        current = writer.read(target.object, matching.field, keys, sorted({s.field for s in pending}))
    decided = decide(pending, current, last, item.fields, matching, target.overwrite, target.object)
    steps = [s for s in decided if s.action != "invalid"]
    report.invalid += [Invalid(s.slot.entity_id, str(s.reason), s.slot.metric, s.slot.field)
                       for s in decided if s.action == "invalid"]
    report.steps = unchanged + steps
    if dry_run:
        return report
    skipped = [s for s in steps if s.action in ("in_sync", "conflict")]
    ledger.append(store, [_row(item, run, s, s.action, s.record_id, crm=crm) for s in skipped])
    _apply(store, run, item, writer, steps, report, _describing(store, item, kpis, steps, period), crm)
    return report


def _describing(
    store: Store, item: PreparedTarget, kpis: Sequence[KpiValue], steps: Sequence[Step], period: str
) -> dict[str, dict[str, Any]]:
    """Write key -> the record's name / lookup / period / computed-at values, for the records being sent."""
    roles = item.record_fields
    by_record = sends_by_record(steps, item.matching.upsert)
    if not roles or not by_record:
        return {}
    target = item.target
    names = load_entity_names(store, target.entity) if "name" in roles else {}
    lookups = load_identities(store, target.source, "crm_id") if "lookup" in roles else {}
    computed: dict[str, datetime] = {}
    for kpi in kpis:
        latest = computed.get(kpi.entity_id)
        if kpi.computed_at is not None and (latest is None or kpi.computed_at > latest):
            computed[kpi.entity_id] = kpi.computed_at
    out: dict[str, dict[str, Any]] = {}
    for key, group in by_record.items():
        entity = group[0].slot.entity_id
        out[key] = record_values(roles, period, names.get(entity, entity), lookups.get(entity), computed.get(entity))
    return out


def _apply(store: Store, run: Run, item: PreparedTarget, writer: Writer, steps: Sequence[Step],
           report: TargetReport, describing: dict[str, dict[str, Any]], crm: str) -> None:
    """Send in API-maximum batches; each batch's outcomes go to the ledger in one transaction."""
    by_record = sends_by_record(steps, item.matching.upsert)
    records = record_writes(by_record, describing)
    batch_size, send = _sender(item, writer, len(records))
    for batch in chunks(records, batch_size):
        results = _send_confirmed(item, writer, by_record, batch, send)
        rows = []
        for result in results:
            for step in by_record[result.key]:
                rows.append(_row(item, run, step, "sent" if result.ok else "rejected",
                                 result.record_id or step.record_id, result, crm))
            if result.ok:
                report.sent += len(by_record[result.key])
            else:
                fields = tuple(s.slot.field for s in by_record[result.key])
                report.rejections.append(Rejection(result.key, fields, result.error_code, result.error_message))
        ledger.append(store, rows)


def _send_confirmed(item: PreparedTarget, writer: Writer, by_record: dict[str, list[Step]],
                    batch: Sequence[RecordWrite], send: Send) -> list[RecordResult]:
    """Send a batch; when the CRM's answer is lost (`WriteUnconfirmed`: reset, timeout, 5xx after the
    request went out), read the records back first: those already holding the values were applied and
    are not sent twice; only the others are sent again (up to UNCONFIRMED_ROUNDS times)."""
    pending = list(batch)
    done: dict[str, RecordResult] = {}
    for _ in range(UNCONFIRMED_ROUNDS):
        try:
            done.update({r.key: r for r in send(pending)})
            return [done[r.key] for r in batch]
        except WriteUnconfirmed as exc:
            unconfirmed = exc
        done.update(_applied(item, writer, by_record, pending))
        pending = [r for r in pending if r.key not in done]
        if not pending:
            return [done[r.key] for r in batch]
    raise unconfirmed


def _applied(item: PreparedTarget, writer: Writer, by_record: dict[str, list[Step]],
             records: Sequence[RecordWrite]) -> dict[str, RecordResult]:
    """The records of `records` whose every field in the CRM now holds the value we sent."""
    steps = [s for r in records for s in by_record[r.key]]
    current = writer.read(item.target.object, item.matching.field, sorted({s.slot.record_key for s in steps}),
                          sorted({s.slot.field for s in steps}))
    out = {}
    for record in records:
        group = by_record[record.key]
        found = current.get(group[0].slot.record_key)
        if found is not None and all(
            same(found.values.get(s.slot.field), s.slot.value, item.fields[s.slot.field]) for s in group
        ):
            out[record.key] = RecordResult(record.key, True, found.record_id)
    return out


def _sender(item: PreparedTarget, writer: Writer, count: int) -> tuple[int, Send]:
    """Batch size and send function: bulk jobs when the run has more than the target's `bulk_threshold`
    records and the CRM has a bulk load API, else its batch API at the maximum batch size."""
    target = item.target
    external_id = str(item.matching.field) if item.matching.upsert else None
    if isinstance(writer, BulkWriter) and count > target.bulk_threshold:
        bulk = writer  # the narrowed type, for the closure
        return bulk.bulk_max, lambda batch: bulk.bulk_write(target.object, external_id, batch)
    if external_id is not None:
        return writer.batch_size, lambda batch: writer.upsert(target.object, external_id, batch)
    return writer.batch_size, lambda batch: writer.update(target.object, batch)


def _row(item: PreparedTarget, run: Run, step: Step, outcome: str, record_id: str | None,
         result: RecordResult | None = None, crm: str | None = None) -> ledger.LedgerRow:
    slot = step.slot
    message = None
    if outcome == "conflict":
        message = f"CRM holds {step.current!r}, last written {step.last_written!r}"
    elif result is not None and not result.ok:
        message = result.error_message
    return ledger.LedgerRow(
        target=item.target.name,
        record_id=record_id,
        field=slot.field,
        entity_id=slot.entity_id,
        period=slot.period,
        metric=slot.metric,
        value_sent=canonical(slot.value, item.fields[slot.field]),
        kpi_run_id=slot.kpi_run_id,
        run_id=run.run_id,
        sent_at=utcnow(),
        outcome=outcome,
        error_code=result.error_code if result is not None and not result.ok else None,
        error_message=message,
        crm_identity=crm,
    )


def _record_run(run: Run, result: WritebackResult, writers: dict[str, Writer]) -> None:
    """Counts per target into the run record (`spm-sync status` reads them back)."""
    details: dict[str, object] = {}
    for report in result.reports:
        counts = report.counts()
        details[report.name] = {
            **counts,
            "period": report.period,
            "dry_run": result.dry_run,
            "calls": dict(report.calls),
            "rejections": [vars(r) for r in report.rejections[:MAX_LISTED]],
            "invalid_rows": [vars(i) for i in report.invalid[:MAX_LISTED]],
            "held_back_rows": [vars(i) for i in report.held_back[:MAX_LISTED]],
            "sent_despite_rejected_inputs": report.sent_flagged,
        }
        if not result.dry_run:
            run.count(f"{report.name}.sent", counts["sent"])
            run.count(f"{report.name}.rejected", counts["rejected"])
            if counts["held_back"]:
                run.count(f"{report.name}.held_back", counts["held_back"])
    run.details["writeback"] = details
    run.details["dry_run"] = result.dry_run
    for name, writer in writers.items():
        for family, n in writer.calls.by_family.items():
            run.api_calls[f"{name}.{family}"] = n
