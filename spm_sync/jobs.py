"""Jobs: one stage run under its lock, recorded in run history, alerting on failure.

The CLI and the scheduler both call these, so a scheduled run and a manual run behave the same.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from spm_sync.config import Config
from spm_sync.errors import ConfigError, RunFailed, SpmError, find_cause, one_line
from spm_sync.ops.locks import SPM_DATA, data_locks, locked_store, raw_data, syncing, wait_for_writers
from spm_sync.runs import Run, prune_runs, recorded_run, utcnow
from spm_sync.store import Store

if TYPE_CHECKING:  # each stage module is imported only when its job runs
    from spm_sync.extract import Loading, SyncResult
    from spm_sync.metrics.compute import KpiResult
    from spm_sync.normalize.run import NormalizeResult
    from spm_sync.ops.backfill import BackfillResult
    from spm_sync.writeback.result import WritebackResult


@contextmanager
def job(
    cfg: Config, name: str, subject: str | None = None, describe: Callable[[BaseException], str] = one_line
) -> Iterator[tuple[Store, Run]]:
    """Lock the stage and open the store (order per backend), record the run; alert when it fails."""
    stage = f"{name}:{subject}" if subject else name
    wait_s = max(cfg.runs.lock_timeout_s, 30.0)
    with locked_store(cfg.store, stage, cfg.runs.lock_timeout_s, wait_s) as store:
        try:
            with recorded_run(store, name, subject, describe) as run:
                yield store, run
        except Exception as exc:
            _alert_failure(cfg, name, subject, exc)
            raise
        prune_runs(store, cfg.runs.retention_days)


@contextmanager
def holding(cfg: Config, store: Store, run: Run, data: list[str], *, shared: bool) -> Iterator[None]:
    """Hold the data locks of what this job reads (shared) or writes (exclusive): a reader waits for
    running writers, a writer for running readers. The wait is recorded in the run's details."""
    with data_locks(store, data, shared=shared, wait_s=cfg.runs.data_wait_s) as waited:
        _add_lock_wait(run, waited)
        yield


def _add_lock_wait(run: Run, waited: float) -> None:
    run.details["lock_wait_s"] = round(run.details.get("lock_wait_s", 0.0) + waited, 3)


@contextmanager
def writing_source(cfg: Config, store: Store, run: Run, source: str) -> Iterator[Loading]:
    """A sync or backfill of `source`: its whole run holds `syncing:<source>` (one writer per source;
    normalize waits for it), and it gets the context its load runs under, which holds `raw:<source>`
    only while dlt writes the raw tables."""
    with holding(cfg, store, run, [syncing(source)], shared=False):
        yield partial(holding, cfg, store, run, [raw_data(source)], shared=False)


def source_failure_line(cfg: Config, source: str, exc: BaseException) -> str:
    """`hubspot 'hs': 401 Unauthorized: ... (check access_token)`: the root cause, not dlt's wrappers.
    A config or input error already names its file, line and key, and stays that one line."""
    if isinstance(find_cause(exc, SpmError), ConfigError):
        return one_line(exc)
    return f"{cfg.source(source).type} {source!r}: {one_line(exc, named_source=True)}"


def _alert_failure(cfg: Config, name: str, subject: str | None, exc: Exception) -> None:
    if not (cfg.alerts.targets and cfg.alerts.on_failure):
        return
    from spm_sync.ops.alerts import send_failure_alert

    send_failure_alert(cfg, job=name, subject=subject, error=exc)


def sync(
    cfg: Config,
    sources: list[str] | None = None,
    *,
    objects: list[str] | None = None,
    full: bool = False,
    progress: Any = None,
    allow_empty: bool = False,
) -> list[SyncResult]:
    from spm_sync.extract import sync_source

    names = sources_with_objects(cfg, sources or [s.name for s in cfg.sources], objects)
    results: list[SyncResult] = []
    failures: dict[str, BaseException] = {}
    for name in names:
        describe = partial(source_failure_line, cfg, name)
        try:
            with job(cfg, "sync", name, describe) as (store, run), writing_source(cfg, store, run, name) as loading:
                results.append(sync_source(
                    cfg, store, name, run=run, objects=objects, full=full, progress=progress,
                    allow_empty=allow_empty, loading=loading,
                ))
        except Exception as exc:  # noqa: BLE001 - each source runs and reports on its own
            failures[name] = exc
    if failures:
        lines = [source_failure_line(cfg, name, exc) for name, exc in failures.items()]
        raise RunFailed(failures, lines, results)
    return results


def sources_with_objects(cfg: Config, names: list[str], objects: list[str] | None) -> list[str]:
    """The named sources that have any of `objects` (all of them when None). A name no source has is
    a usage error, raised before any run is recorded; a source with none of the objects is not run
    (a sync that pulls nothing would still count as fresh)."""
    sources = [cfg.source(name) for name in names]
    if objects is None:
        return names
    if not objects:
        raise ConfigError("--objects names no object (give e.g. --objects Opportunity,User)")
    from spm_sync.connectors.registry import object_names

    known = {source.name: object_names(source) for source in sources}
    has = {name: {o.lower() for o in objs} for name, objs in known.items()}
    unknown = [o for o in objects if not any(o.lower() in objs for objs in has.values())]
    if unknown:
        listed = "; ".join(f"{name}: {', '.join(objs)}" for name, objs in known.items())
        raise ConfigError(f"--objects: unknown object(s) {', '.join(unknown)} (known: {listed})")
    return [name for name in names if any(o.lower() in has[name] for o in objects)]


def backfill(
    cfg: Config,
    source: str,
    start: datetime,
    end: datetime,
    *,
    objects: list[str] | None = None,
    progress: Any = None,
    restart: bool = False,
) -> BackfillResult:
    """Re-pull [start, end) of one source. A window that is empty or an unknown object is a usage
    error, refused before a run is recorded (no failed run, no alert)."""
    from spm_sync.ops.backfill import run_backfill

    sources_with_objects(cfg, [source], objects)
    if end <= start:
        last = end - timedelta(microseconds=1)
        raise ConfigError(
            f"empty backfill window: --from {start:%Y-%m-%d %H:%M} is after --to {last:%Y-%m-%d} (inclusive)"
        )
    with job(cfg, "backfill", source) as (store, run), writing_source(cfg, store, run, source) as loading:
        return run_backfill(
            cfg, store, source, start, end, run=run, objects=objects, progress=progress, restart=restart,
            loading=loading,
        )


def normalize(cfg: Config, *, rebuild: bool = False) -> NormalizeResult:
    """Rebuild spm.*, unless every input is as the last successful normalize had it (fingerprint.py)
    and not `rebuild` (raw rows edited by hand, outside any sync)."""
    from spm_sync import fingerprint
    from spm_sync.normalize import normalize as normalize_stage
    from spm_sync.normalize.run import kept

    names = [source.name for source in cfg.sources]
    with job(cfg, "normalize") as (store, run):
        # first the syncs running now finish (their data is wanted), then no load may start meanwhile
        _add_lock_wait(run, wait_for_writers(store, [syncing(n) for n in names], wait_s=cfg.runs.data_wait_s))
        with (
            holding(cfg, store, run, [raw_data(n) for n in names], shared=True),
            holding(cfg, store, run, [SPM_DATA], shared=False),
        ):
            inputs = fingerprint.normalize_inputs(cfg, store, cfg.as_of or utcnow().date())
            previous = None if rebuild else fingerprint.reusable(store, "normalize", inputs)
            if previous is not None:
                result = kept(run, *previous)
            else:
                result = normalize_stage(cfg, store, run)
                run.details["built_by"] = run.run_id
            run.details["inputs"] = inputs
            return result


def kpis(cfg: Config, *, rebuild: bool = False) -> KpiResult:
    """Compute every KPI, unless spm.*, config and day are as the last successful kpis run had them
    and not `rebuild`."""
    from spm_sync import fingerprint
    from spm_sync.metrics import compute_kpis
    from spm_sync.metrics.compute import kept_kpis
    from spm_sync.ops.celebrate import celebrate

    day = cfg.as_of or utcnow().date()
    with job(cfg, "kpis") as (store, run), holding(cfg, store, run, [SPM_DATA], shared=True):
        inputs = fingerprint.kpis_inputs(cfg, store, day)
        previous = None if rebuild else fingerprint.reusable(store, "kpis", inputs)
        result = (kept_kpis(run, *previous) if previous else None) or compute_kpis(cfg, store, run)
        run.details["inputs"] = inputs
        if sent := celebrate(cfg, store, day):
            run.details["notifications"] = sent
        return result


def writeback(cfg: Config, targets: list[str] | None = None, *, dry_run: bool = False) -> WritebackResult:
    from spm_sync.writeback import write_back
    from spm_sync.writeback.targets import select

    select(cfg, targets)  # an unknown target is a usage error: never a recorded run, never an alert
    with job(cfg, "writeback", ",".join(targets) if targets else None) as (store, run):
        return write_back(cfg, store, run, targets=targets, dry_run=dry_run)


def run_all(cfg: Config, progress: Any = None) -> dict[str, Any]:
    """Every stage in order. A failed source does not stop the others nor the later stages (they use
    the data already stored); a failed later stage stops the chain. Any failure fails the run, one
    line per failed part."""
    if cfg.writeback:  # a metric typo in a target fails now, not after an hour of syncing
        from spm_sync.writeback.targets import check_metrics

        check_metrics(cfg, cfg.writeback)
    results: dict[str, Any] = {}
    failed: RunFailed | None = None
    try:
        results["sync"] = sync(cfg, progress=progress)
    except RunFailed as exc:
        failed, results["sync"] = exc, exc.results
    stages: list[tuple[str, Callable[[], Any]]] = [("normalize", lambda: normalize(cfg)), ("kpis", lambda: kpis(cfg))]
    if cfg.writeback:
        stages.append(("writeback", lambda: writeback(cfg)))
    for name, stage in stages:
        try:
            results[name] = stage()
        except Exception as exc:
            if failed is None:
                raise
            failures = {**failed.failures, name: exc}
            raise RunFailed(failures, [str(failed), f"{name}: {one_line(exc)}"], results) from exc
    if failed is not None:
        raise RunFailed(failed.failures, [str(failed)], results)
    return results
