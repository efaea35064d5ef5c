"""Delivering a message to people, through apprise: Slack, Teams, email, ... from one URL each.

A plain http(s) URL that apprise does not know natively (a Slack-compatible incoming webhook of a
self-hosted chat, or a test receiver) is sent as apprise's `json://` POST reshaped to Slack's
`{"text": ...}` plus flat machine-readable keys (`event`, ...); `https://hooks.slack.com/...` and
other URLs apprise recognises go to their own service. Each URL is tried a few times (apprise itself
does not retry); delivery problems are logged and swallowed: a message never breaks the run sending it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from urllib.parse import quote, urlencode, urlsplit

import apprise
from tenacity import RetryError, retry, retry_if_result, stop_after_attempt, wait_exponential

from spm_sync.logs import log_event

ATTEMPTS = 4
# apprise json payload keys -> Slack's: the text carries title and body, the rest is dropped
SLACK_SHAPE = {":message": "text", ":title": "", ":version": "", ":attachments": "", ":type": ""}


@dataclass(frozen=True)
class Message:
    title: str
    lines: tuple[str, ...]
    event: str  # machine-readable kind: run_failed, stale_data, quota_reached, weekly_digest
    facts: tuple[tuple[str, str], ...] = ()  # more machine-readable keys for webhook receivers

    @property
    def body(self) -> str:
        return "\n".join(self.lines)


@dataclass(frozen=True)
class Target:
    url: str  # what apprise is given
    slack_shape: bool  # a converted webhook: title goes into the text


def target(url: str, timeout_s: float) -> Target:
    """An apprise URL for `url`, with connect/read timeouts; plain webhooks become Slack-shaped json://."""
    timeouts = {"cto": f"{timeout_s:g}", "rto": f"{timeout_s:g}"}
    if url.startswith(("http://", "https://")) and apprise.Apprise.instantiate(url) is None:
        parts = urlsplit(url)
        scheme = "jsons" if parts.scheme == "https" else "json"
        query = urlencode({**SLACK_SHAPE, **timeouts}, quote_via=quote)
        extra = f"&{parts.query}" if parts.query else ""
        return Target(f"{scheme}://{parts.netloc}{parts.path or '/'}?{query}{extra}", slack_shape=True)
    joiner = "&" if "?" in url else "?"
    return Target(f"{url}{joiner}{urlencode(timeouts, quote_via=quote)}", slack_shape=False)


def _send_once(one: Target, message: Message) -> bool:
    sender = apprise.Apprise()
    facts = {f":{key}": value for key, value in (("event", message.event), *message.facts)}
    url = one.url + (f"&{urlencode(facts, quote_via=quote)}" if one.slack_shape else "")
    if not sender.add(url):
        return False
    if one.slack_shape:
        return bool(sender.notify(body=f"{message.title}\n{message.body}" if message.body else message.title,
                                  title=""))
    return bool(sender.notify(body=message.body or message.title, title=message.title))


_send = retry(
    retry=retry_if_result(lambda delivered: not delivered),
    stop=stop_after_attempt(ATTEMPTS),
    wait=wait_exponential(multiplier=0.2, max=5),
)(_send_once)


def deliver(urls: list[str], message: Message, timeout_s: float) -> int:
    """Send to every URL; returns how many accepted it. Never raises."""
    delivered = 0
    for url in urls:
        try:
            _send(target(url, timeout_s), message)
            delivered += 1
        except RetryError:
            log_event(f"{message.event} message not delivered to {_host(url)}", level=logging.WARNING, stage="notify")
        except Exception as exc:  # noqa: BLE001 - a message never breaks the run
            log_event(f"{message.event} message not delivered: {type(exc).__name__}", level=logging.WARNING,
                      stage="notify")
    return delivered


def _host(url: str) -> str:
    """Where a message went, without the secret parts of its URL."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}"
