"""Alerts: a Slack-compatible JSON message POSTed to each configured webhook, with retries.

An alert must never turn a failed run into a crash of the alerting itself: delivery problems are
logged and swallowed.
"""

from __future__ import annotations

import logging
from typing import Any

import requests
from tenacity import retry, retry_if_exception, stop_after_attempt, wait_exponential

from spm_sync.config import Config
from spm_sync.errors import root_cause
from spm_sync.logs import log_event


def _retriable(exc: BaseException) -> bool:
    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        return exc.response.status_code == 429 or exc.response.status_code >= 500
    return isinstance(exc, requests.ConnectionError | requests.Timeout)


@retry(
    retry=retry_if_exception(_retriable),
    stop=stop_after_attempt(4),
    wait=wait_exponential(multiplier=0.2, max=5),
    reraise=True,
)
def _post(url: str, payload: dict[str, Any], timeout_s: float) -> None:
    session = requests.Session()
    session.trust_env = False
    response = session.post(url, json=payload, timeout=timeout_s)
    response.raise_for_status()


def slack_payload(title: str, lines: list[str], fields: dict[str, Any]) -> dict[str, Any]:
    """`text` for plain receivers, `blocks` for Slack; `spm_sync` carries the machine-readable facts."""
    body = "\n".join(lines)
    return {
        "text": f"{title}\n{body}" if body else title,
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": title[:150]}},
            {"type": "section", "text": {"type": "mrkdwn", "text": body or "-"}},
        ],
        "spm_sync": fields,
    }


def send_alert(cfg: Config, payload: dict[str, Any]) -> int:
    """Deliver to every webhook; returns how many accepted it."""
    delivered = 0
    for url in cfg.alerts.webhooks:
        try:
            _post(str(url), payload, cfg.alerts.timeout_s)
            delivered += 1
        except Exception as exc:  # noqa: BLE001 - alerting never raises
            log_event(f"alert not delivered: {type(exc).__name__}", level=logging.WARNING, stage="alert")
    return delivered


def send_failure_alert(cfg: Config, *, job: str, subject: str | None, error: BaseException) -> int:
    what = f"{job} {subject}" if subject else job
    payload = slack_payload(
        f":rotating_light: spm-sync {what} failed",
        [f"*{type(root_cause(error)).__name__}*: {' '.join(str(root_cause(error)).split())}"],
        {"event": "run_failed", "job": job, "subject": subject, "error_class": type(root_cause(error)).__name__,
         "error_message": " ".join(str(root_cause(error)).split())},
    )
    return send_alert(cfg, payload)


def send_stale_alert(cfg: Config, stale: list[dict[str, Any]]) -> int:
    lines = [f"*{s['source']}*: last successful sync {s['age']}" for s in stale]
    payload = slack_payload(":hourglass: spm-sync data is stale", lines, {"event": "stale_data", "sources": stale})
    return send_alert(cfg, payload)
