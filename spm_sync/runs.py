"""Run records: every stage execution is a row in `spm_state.runs` (who, what, counts, calls, outcome)."""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from spm_sync.errors import one_line, root_cause
from spm_sync.logs import bind_run, log_event, unbind_run
from spm_sync.store import Store


def utcnow() -> datetime:
    """Naive UTC, the store's timestamp convention."""
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass
class Run:
    """One execution of one job; stages add counts to it as they go."""

    job: str
    subject: str | None = None
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    started_at: datetime = field(default_factory=utcnow)
    records: Counter[str] = field(default_factory=Counter)
    api_calls: dict[str, int] = field(default_factory=dict)
    api_budget: dict[str, Any] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)

    def count(self, object_name: str, n: int) -> None:
        self.records[object_name] += n


def process_started(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (Linux /proc), so a reused pid is not taken
    for the process that recorded the run; None where /proc is not available."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def process_alive(pid: int, started: str | None) -> bool:
    """Is the process that recorded a run still running (same pid and, where known, same start)?"""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by another user
    return started is None or process_started(pid) in (None, started)


def insert_run(store: Store, run: Run) -> None:
    pid = os.getpid()
    store.execute(
        "INSERT INTO spm_state.runs (run_id, job, subject, started_at, status, host, pid, process_started) "
        "VALUES (?, ?, ?, ?, 'running', ?, ?, ?)",
        [run.run_id, run.job, run.subject, run.started_at, socket.gethostname(), pid, process_started(pid)],
    )


def mark_interrupted(store: Store) -> list[str]:
    """Runs recorded as running by a process of this host that no longer exists become `interrupted`
    (killed, out of memory, machine restarted). Runs of other hosts are left alone: their process
    cannot be checked from here. Returns the run ids marked."""
    rows = store.fetchall(
        "SELECT run_id, pid, process_started FROM spm_state.runs WHERE status = 'running' AND host = ? AND pid <> ?",
        [socket.gethostname(), os.getpid()],
    )
    gone = [run_id for run_id, pid, started in rows if not process_alive(int(pid), started)]
    for run_id in gone:
        store.execute(
            "UPDATE spm_state.runs SET status = 'interrupted', error_class = 'ProcessGone', error_message = ? "
            "WHERE run_id = ? AND status = 'running'",
            ["the process running it ended without recording an outcome (killed or crashed)", run_id],
        )
    if gone:
        log_event(f"{len(gone)} run(s) whose process is gone marked interrupted", level=30, runs=gone)
    return gone


def finish_run(
    store: Store, run: Run, status: str, error: BaseException | None = None, line: str | None = None
) -> None:
    """Record the outcome; a failure as its root cause's class and one line (`line`, else derived)."""
    root = root_cause(error) if error is not None else None
    store.execute(
        "UPDATE spm_state.runs SET ended_at = ?, status = ?, records = ?, api_calls = ?, api_budget = ?, "
        "error_class = ?, error_message = ?, details = ? WHERE run_id = ?",
        [
            utcnow(),
            status,
            json.dumps(dict(run.records)),
            json.dumps(run.api_calls),
            json.dumps(run.api_budget, default=str),
            type(root).__name__ if root else None,
            (line or one_line(root))[:2000] if root else None,
            json.dumps(run.details, default=str),
            run.run_id,
        ],
    )


@contextmanager
def recorded_run(
    store: Store, job: str, subject: str | None = None, describe: Callable[[BaseException], str] = one_line
) -> Iterator[Run]:
    """Record a run from start to end; a failure is stored as `describe(exc)` (one line), then re-raised."""
    run = Run(job=job, subject=subject)
    mark_interrupted(store)
    insert_run(store, run)
    token = bind_run(run_id=run.run_id, job=job, subject=subject)
    started = time.monotonic()
    log_event(f"{job} started", stage=job)
    try:
        yield run
    except BaseException as exc:
        status = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
        line = describe(exc)
        finish_run(store, run, status, exc, line)
        log_event(f"{job} {status}: {line}", level=40, stage=job, duration_s=round(time.monotonic() - started, 3))
        raise
    else:
        finish_run(store, run, "succeeded")
        log_event(
            f"{job} succeeded",
            stage=job,
            records=dict(run.records) or None,
            api_calls=sum(run.api_calls.values()) or None,
            duration_s=round(time.monotonic() - started, 3),
        )
    finally:
        unbind_run(token)


def prune_runs(store: Store, retention_days: int) -> None:
    store.execute("DELETE FROM spm_state.runs WHERE started_at < ?", [utcnow() - timedelta(days=retention_days)])
