"""Loopback TLS for the sandbox: one throw-away CA per process.

Why: simple-salesforce always builds https:// URLs, so the Salesforce emulator must speak TLS,
and clients must verify it against a CA file (`ca_bundle`) rather than disable verification.
The CA and a server certificate for 127.0.0.1/localhost are made once per process with trustme
and written to a temporary folder removed at exit.
"""

from __future__ import annotations

import atexit
import shutil
import ssl
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import trustme

_lock = threading.Lock()
_material: TlsMaterial | None = None


@dataclass(frozen=True)
class TlsMaterial:
    """Paths of the PEM files and a ready server-side SSL context."""

    ca_bundle: str
    server_pem: str  # private key + certificate chain
    server_context: ssl.SSLContext


def _create() -> TlsMaterial:
    folder = Path(tempfile.mkdtemp(prefix="spm-sandbox-tls-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    ca = trustme.CA(organization_name="spm-sync sandbox")
    cert = ca.issue_cert("127.0.0.1", "localhost", "::1")
    ca_path = folder / "ca.pem"
    server_path = folder / "server.pem"
    ca.cert_pem.write_to_path(str(ca_path))
    cert.private_key_and_cert_chain_pem.write_to_path(str(server_path))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(server_path))
    return TlsMaterial(str(ca_path), str(server_path), context)


def material() -> TlsMaterial:
    """The process-wide CA and server certificate (created on first use)."""
    global _material
    with _lock:
        if _material is None:
            _material = _create()
        return _material


def ca_bundle() -> str:
    """Path of the CA certificate clients pass as `verify=` / `ssl_ca_cert=`."""
    return material().ca_bundle
