"""Alerts to ops: a failed run, stale data. Delivered through apprise (spm_sync/ops/notify.py) to
`alerts.webhooks` (Slack-compatible) and `alerts.urls` (any apprise URL).

An alert must never turn a failed run into a crash of the alerting itself: delivery problems are
logged and swallowed.
"""

from __future__ import annotations

from typing import Any

from spm_sync.config import Config
from spm_sync.errors import root_cause
from spm_sync.ops.notify import Message, deliver


def send_alert(cfg: Config, message: Message) -> int:
    """Deliver to every configured target; returns how many accepted it."""
    return deliver(cfg.alerts.targets, message, cfg.alerts.timeout_s)


def send_failure_alert(cfg: Config, *, job: str, subject: str | None, error: BaseException) -> int:
    what = f"{job} {subject}" if subject else job
    cause = root_cause(error)
    message = Message(
        f":rotating_light: spm-sync {what} failed",
        (f"*{type(cause).__name__}*: {' '.join(str(cause).split())}",),
        "run_failed",
        (("job", job), ("subject", subject or ""), ("error_class", type(cause).__name__),
         ("error_message", " ".join(str(cause).split()))),
    )
    return send_alert(cfg, message)


def send_stale_alert(cfg: Config, stale: list[dict[str, Any]]) -> int:
    lines = tuple(f"*{s['source']}*: last successful sync {s['age']}" for s in stale)
    sources = ",".join(str(s["source"]) for s in stale)
    return send_alert(cfg, Message(":hourglass: spm-sync data is stale", lines, "stale_data", (("sources", sources),)))
