"""Run records: every stage execution is a row in `spm_state.runs` (who, what, counts, calls, outcome)."""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

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


def insert_run(store: Store, run: Run) -> None:
    store.execute(
        "INSERT INTO spm_state.runs (run_id, job, subject, started_at, status) VALUES (?, ?, ?, ?, 'running')",
        [run.run_id, run.job, run.subject, run.started_at],
    )


def finish_run(store: Store, run: Run, status: str, error: BaseException | None = None) -> None:
    store.execute(
        "UPDATE spm_state.runs SET ended_at = ?, status = ?, records = ?, api_calls = ?, api_budget = ?, "
        "error_class = ?, error_message = ?, details = ? WHERE run_id = ?",
        [
            utcnow(),
            status,
            json.dumps(dict(run.records)),
            json.dumps(run.api_calls),
            json.dumps(run.api_budget, default=str),
            type(error).__name__ if error else None,
            str(error)[:2000] if error else None,
            json.dumps(run.details, default=str),
            run.run_id,
        ],
    )


@contextmanager
def recorded_run(store: Store, job: str, subject: str | None = None) -> Iterator[Run]:
    """Record a run from start to end; a failure is stored with its class and message, then re-raised."""
    run = Run(job=job, subject=subject)
    insert_run(store, run)
    token = bind_run(run_id=run.run_id, job=job, subject=subject)
    started = time.monotonic()
    log_event(f"{job} started", stage=job)
    try:
        yield run
    except BaseException as exc:
        status = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
        finish_run(store, run, status, exc)
        log_event(f"{job} {status}: {exc}", level=40, stage=job, duration_s=round(time.monotonic() - started, 3))
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
