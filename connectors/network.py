"""Network failures that no retry can fix: an untrusted TLS certificate, a closed port, an unknown host.

Why one place: both connectors (requests for Salesforce, urllib3 for HubSpot) wrap the socket error
several layers deep; retrying it only delays a message the user needs at once, naming the host,
the port and the config key to change.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from urllib.parse import urlsplit

from spm_sync.errors import Unreachable


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception, its causes and contexts, and urllib3's `reason` (MaxRetryError wraps the socket error)."""
    seen: set[int] = set()
    pending: list[BaseException] = [exc]
    while pending:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        for linked in (current.__cause__, current.__context__, getattr(current, "reason", None), *current.args):
            if isinstance(linked, BaseException):
                pending.append(linked)


def _endpoint(url: str) -> str:
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{parts.hostname}:{port}"


def fatal_network_error(exc: BaseException, *, url: str, url_key: str, source: str) -> Unreachable | None:
    """An `Unreachable` naming host:port and the config key to fix, or None when a retry may help."""
    where = _endpoint(url)
    for cause in _chain(exc):
        if isinstance(cause, ssl.SSLCertVerificationError):
            reason = cause.verify_message or cause.reason or "verification failed"
            return Unreachable(
                f"TLS certificate of {where} is not trusted ({reason}); set ca_bundle to the CA file that signed it",
                source=source,
            )
        if isinstance(cause, ssl.SSLError):
            return Unreachable(f"TLS handshake with {where} failed ({cause.reason or cause}); check {url_key} "
                               "and ca_bundle", source=source)
        if isinstance(cause, ConnectionRefusedError):
            return Unreachable(f"connection refused by {where} (nothing listening there); check {url_key}",
                               source=source)
        if isinstance(cause, socket.gaierror):
            return Unreachable(f"cannot resolve host of {where}; check {url_key}", source=source)
    return None
