"""The scheduler: `schedules:` from config as cron jobs, a thin caller of `spm_sync.jobs`.

The daemon (APScheduler) coalesces missed runs and never runs a job twice at once (max_instances=1
in-process; stage locks across processes). `--once` runs what is due and exits, for cron users.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from rich.console import Console

from spm_sync import jobs
from spm_sync.config import Config, Schedule
from spm_sync.errors import LockBusy, RunFailed, StoreBusy, one_line
from spm_sync.logs import log_event
from spm_sync.ops.locks import stage_lock
from spm_sync.runs import utcnow
from spm_sync.store import open_store

FRESHNESS_CHECK_MINUTES = 30
DEFERRED_RETRY_S = 60  # the daemon retries a job deferred by a busy lock this often


def trigger_for(schedule: Schedule) -> CronTrigger:
    return CronTrigger.from_crontab(schedule.cron, timezone=schedule.timezone)


def job_callable(cfg: Config, schedule: Schedule) -> Callable[[], Any]:
    """The stage function a schedule names, with its source/target bound."""
    calls: dict[str, Callable[[], Any]] = {
        "sync": lambda: jobs.sync(cfg, [schedule.source] if schedule.source else None),
        "normalize": lambda: jobs.normalize(cfg),
        "kpis": lambda: jobs.kpis(cfg),
        "writeback": lambda: jobs.writeback(cfg, [schedule.target] if schedule.target else None),
        "run": lambda: jobs.run_all(cfg),
    }
    return calls[schedule.job]


def _record(cfg: Config, schedule: str, due_at: datetime, started: datetime, status: str, error: str | None) -> None:
    with open_store(cfg) as store:
        store.execute(
            "INSERT INTO spm_state.schedule_runs VALUES (?, ?, ?, ?, ?, ?)",
            [schedule, due_at, started, utcnow(), status, error],
        )


def blocked_by(exc: BaseException) -> LockBusy | None:
    """The busy lock (stage or store) that kept a job or part of it from running, if that is why it failed."""
    if isinstance(exc, LockBusy):
        return exc
    if isinstance(exc, RunFailed):
        return next((e for e in exc.failures.values() if isinstance(e, LockBusy)), None)
    return None


def execute(cfg: Config, schedule: Schedule, due_at: datetime | None = None) -> str:
    """Run one schedule's job; returns succeeded | failed | `deferred: <why>`. Never raises.

    A job kept from running by a busy lock (a manual run of the same stage) is *deferred*: nothing is
    recorded, so the schedule stays due and the next `--once`, or the daemon's retry, runs it.
    """
    started = utcnow()
    error = None
    try:
        job_callable(cfg, schedule)()
        status = "succeeded"
    except Exception as exc:  # noqa: BLE001 - the daemon survives a failed job (already alerted)
        busy = blocked_by(exc)
        if busy is not None:
            log_event(f"schedule {schedule.name} deferred: {busy}; it stays due", level=logging.WARNING,
                      stage="schedule")
            return f"deferred: {busy.message}; stays due, runs when the lock frees"
        status, error = "failed", one_line(exc)
        log_event(f"schedule {schedule.name} failed: {error}", level=logging.ERROR, stage="schedule")
    _record(cfg, schedule.name, due_at or started, started, status, error)
    return status


def last_due(cfg: Config, wait_s: float = 30.0) -> dict[str, datetime]:
    """The latest recorded due time of every schedule that has run (one store read for all)."""
    with open_store(cfg, wait_s=wait_s) as store:
        return dict(store.fetchall("SELECT schedule, max(due_at) FROM spm_state.schedule_runs GROUP BY schedule"))


class Due(NamedTuple):
    schedule: Schedule
    due_at: datetime
    reason: str  # why it runs now, for the operator (a missed run caught up says so)


LATE_S = 300  # a fire older than this when run is reported as a missed run caught up
MAX_COUNTED = 1000


def why_due(schedule: Schedule, previous: datetime | None, now: datetime) -> str:
    """`due at 02:00 UTC`, or for a run started late, which fire it catches up and how many it folds in."""
    if previous is None:
        return "first run of this schedule (no earlier run recorded)"
    trigger, moment = trigger_for(schedule), now.replace(tzinfo=UTC)
    fires: list[datetime] = []
    fire = trigger.get_next_fire_time(None, previous.replace(tzinfo=UTC) + timedelta(seconds=1))
    while fire is not None and fire <= moment and len(fires) < MAX_COUNTED:
        fires.append(fire)
        fire = trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
    latest = fires[-1]
    late_s = (moment - latest).total_seconds()
    if late_s <= LATE_S and len(fires) == 1:
        return f"due at {latest:%Y-%m-%d %H:%M %Z}"
    when = f"due at {latest:%Y-%m-%d %H:%M %Z}, {_duration(late_s)} late"
    if len(fires) == 1:
        return f"catching up a missed run ({when})"
    count = f"{len(fires)}{'+' if len(fires) == MAX_COUNTED else ''}"
    return f"catching up {count} missed runs in one (the last {when})"


def _duration(seconds: float) -> str:
    minutes = int(seconds // 60)
    return f"{minutes // 60}h {minutes % 60:02d}m" if minutes >= 60 else f"{minutes}m"


def due_schedules(cfg: Config, now: datetime, wait_s: float = 30.0) -> list[Due]:
    """Schedules with a fire time in (last recorded due time, now]; missed fires coalesce into one."""
    previous_due = last_due(cfg, wait_s)
    due = []
    for schedule in cfg.schedules:
        previous = previous_due.get(schedule.name)
        if previous is not None:
            fire = trigger_for(schedule).get_next_fire_time(None, previous.replace(tzinfo=UTC) + timedelta(seconds=1))
            if fire is None or fire > now.replace(tzinfo=UTC):
                continue
        due.append(Due(schedule, now, why_due(schedule, previous, now)))
    return due


def run_once(
    cfg: Config, now: datetime | None = None, announce: Callable[[str], None] | None = None
) -> dict[str, str]:
    """Run what is due. Deciding and running is atomic across processes: two `--once` started by
    overlapping cron ticks never both run the same due schedule (the second finds nothing to do).
    A store held by another process (DuckDB) raises StoreBusy at once instead of blocking: what is
    due stays due."""
    now = now or utcnow()
    try:
        with stage_lock(cfg.store, "schedule-once", cfg.runs.lock_timeout_s):
            due = due_schedules(cfg, now, wait_s=cfg.runs.lock_timeout_s)
            outcomes = {}
            for schedule, due_at, reason in due:
                log_event(f"schedule {schedule.name} ({schedule.job}): {reason}", stage="schedule")
                if announce is not None:
                    announce(f"{schedule.name} ({schedule.job}, cron {schedule.cron!r}): {reason}")
                outcomes[schedule.name] = execute(cfg, schedule, due_at)
            check_freshness(cfg)
            return outcomes
    except StoreBusy:
        raise
    except LockBusy as exc:
        log_event(f"another scheduler is deciding what is due: {exc}", level=logging.WARNING, stage="schedule")
        return {}


def check_freshness(cfg: Config) -> list[str]:
    """Alert once per stale episode: a source is re-alerted only after a newer successful sync went
    stale again (the last alerted sync time is kept in `spm_state.stale_alerts`). Returns the sources
    alerted now."""
    from spm_sync.ops.alerts import send_stale_alert
    from spm_sync.ops.status import collect_status

    if not (cfg.alerts.targets and cfg.alerts.on_stale):
        return []
    stale = [s for s in collect_status(cfg)["sources"] if s["stale"]]
    with open_store(cfg) as store:
        alerted = set(store.fetchall("SELECT source, last_success FROM spm_state.stale_alerts"))
        new = [s for s in stale if (s["source"], s["last_success"]) not in alerted]
        if not new or not send_stale_alert(cfg, [{"source": s["source"], "age": s["age"] or "never"} for s in new]):
            return []
        store.executemany(
            "INSERT INTO spm_state.stale_alerts VALUES (?, ?, ?)",
            [[s["source"], s["last_success"], utcnow()] for s in new],
        )
    return [s["source"] for s in new]


def build_scheduler(cfg: Config, due_now: set[str] | None = None) -> BlockingScheduler:
    """One cron job per schedule; those in `due_now` (missed while the daemon was down) fire at once."""
    scheduler = BlockingScheduler(
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600}, timezone=UTC
    )

    def run(schedule: Schedule) -> str:
        status = execute(cfg, schedule)
        if status.startswith("deferred"):  # retried until the lock frees (the cron slot is not used up)
            scheduler.add_job(
                run, "date", run_date=datetime.now(UTC) + timedelta(seconds=DEFERRED_RETRY_S), args=[schedule],
                id=f"{schedule.name}:retry", name=f"retry {schedule.name}", replace_existing=True,
            )
        return status

    for schedule in cfg.schedules:
        first = {"next_run_time": datetime.now(UTC)} if schedule.name in (due_now or set()) else {}
        scheduler.add_job(
            run,
            trigger_for(schedule),
            args=[schedule],
            id=schedule.name,
            name=f"{schedule.job}:{schedule.name}",
            jitter=schedule.jitter_s or None,
            **first,
        )
    if cfg.alerts.targets and cfg.alerts.on_stale:
        scheduler.add_job(check_freshness, "interval", minutes=FRESHNESS_CHECK_MINUTES, args=[cfg], id="_freshness")
    return scheduler


def run_scheduler(cfg: Config, *, once: bool = False, console: Console | None = None) -> None:
    console = console or Console()
    if once:
        try:
            outcomes = run_once(cfg, announce=lambda line: console.print(line, highlight=False, soft_wrap=True))
        except StoreBusy as exc:
            console.print(f"deferred: {exc.message}; due schedules stay due for the next --once")
            return
        for name, status in outcomes.items():
            console.print(f"{name}: {status}")
        if not outcomes:
            console.print("nothing due")
        return
    if not cfg.schedules:
        console.print("no schedules in config; nothing to do")
        return
    due = due_schedules(cfg, utcnow())
    for schedule, _, reason in due:
        console.print(f"{schedule.name} ({schedule.job}): {reason}: runs at start", highlight=False, soft_wrap=True)
    scheduler = build_scheduler(cfg, {d.schedule.name for d in due})

    def stop(signum: int, _frame: object) -> None:
        log_event(f"signal {signal.Signals(signum).name}: finishing the running stage, then stopping", stage="schedule")
        threading.Thread(target=scheduler.shutdown, kwargs={"wait": True}, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for job in scheduler.get_jobs():
        console.print(f"scheduled {job.name} ({job.id})")
    scheduler.start()
    console.print("scheduler stopped")
