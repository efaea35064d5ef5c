from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from spm_sync.config import parse_config
from spm_sync.ops.alerts import send_failure_alert, send_stale_alert


class Receiver:
    """A local webhook receiver that fails the first `fail_first` posts with 503."""

    def __init__(self, fail_first: int = 0) -> None:
        self.bodies: list[dict] = []
        self.attempts = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                receiver.attempts += 1
                body = self.rfile.read(int(self.headers["Content-Length"]))
                status = 503 if receiver.attempts <= fail_first else 200
                if status == 200:
                    receiver.bodies.append(json.loads(body))
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: object) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver(fail_first=2)
    yield r
    r.server.shutdown()


def test_failure_alert_is_retried_and_slack_compatible(receiver: Receiver) -> None:
    cfg = parse_config({"alerts": {"webhooks": [receiver.url]}})
    delivered = send_failure_alert(cfg, job="sync", subject="sf", error=RuntimeError("boom"))
    assert delivered == 1
    assert receiver.attempts == 3
    [body] = receiver.bodies
    assert body == {"text": ":rotating_light: spm-sync sync sf failed\n*RuntimeError*: boom", "event": "run_failed",
                    "job": "sync", "subject": "sf", "error_class": "RuntimeError", "error_message": "boom"}


def test_alert_to_an_apprise_url(receiver: Receiver) -> None:
    """`alerts.urls` take any apprise URL; json:// posts apprise's own JSON (title and message apart)."""
    cfg = parse_config({"alerts": {"urls": [receiver.url.replace("http://", "json://")]}})
    assert send_stale_alert(cfg, [{"source": "hs", "age": "3d ago"}]) == 1
    body = receiver.bodies[-1]
    assert body["title"] == ":hourglass: spm-sync data is stale"
    assert body["message"] == "*hs*: last successful sync 3d ago"


def test_stale_alert_and_unreachable_hook_never_raises(receiver: Receiver) -> None:
    cfg = parse_config({"alerts": {"webhooks": ["http://127.0.0.1:9/nothing", receiver.url], "timeout_s": 1}})
    assert send_stale_alert(cfg, [{"source": "hs", "age": "3d ago"}]) == 1
    assert receiver.bodies[-1]["event"] == "stale_data"
    assert "*hs*: last successful sync 3d ago" in receiver.bodies[-1]["text"]
