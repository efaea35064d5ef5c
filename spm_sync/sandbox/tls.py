"""Loopback TLS for the sandbox: one throw-away CA per process, or a kept one per state folder.

Why: simple-salesforce always builds https:// URLs, so the Salesforce emulator must speak TLS,
and clients must verify it against a CA file (`ca_bundle`) rather than disable verification.
The CA and a server certificate for 127.0.0.1/localhost are made once per process with trustme
and written to a temporary folder removed at exit. `material(folder)` keeps them in `folder`
instead and reuses them later (`sandbox serve --state DIR`), so a config naming that CA stays valid.
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
_kept: dict[Path, TlsMaterial] = {}


@dataclass(frozen=True)
class TlsMaterial:
    """Paths of the PEM files and a ready server-side SSL context."""

    ca_bundle: str
    server_pem: str  # private key + certificate chain
    server_context: ssl.SSLContext


def _load(folder: Path) -> TlsMaterial:
    """The CA and server certificate in `folder`, made there first if missing."""
    ca_path = folder / "ca.pem"
    server_path = folder / "server.pem"
    if not (ca_path.exists() and server_path.exists()):
        folder.mkdir(parents=True, exist_ok=True)
        ca = trustme.CA(organization_name="spm-sync sandbox")
        cert = ca.issue_cert("127.0.0.1", "localhost", "::1")
        ca.cert_pem.write_to_path(str(ca_path))
        cert.private_key_and_cert_chain_pem.write_to_path(str(server_path))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(server_path))
    return TlsMaterial(str(ca_path.resolve()), str(server_path.resolve()), context)


def material(folder: Path | None = None) -> TlsMaterial:
    """The CA and server certificate kept in `folder`, or the process-wide throw-away ones."""
    global _material
    with _lock:
        if folder is not None:
            key = folder.resolve()
            if key not in _kept:
                _kept[key] = _load(key)
            return _kept[key]
        if _material is None:
            temporary = Path(tempfile.mkdtemp(prefix="spm-sandbox-tls-"))
            atexit.register(shutil.rmtree, temporary, ignore_errors=True)
            _material = _load(temporary)
        return _material


def ca_bundle(folder: Path | None = None) -> str:
    """Path of the CA certificate clients pass as `verify=` / `ssl_ca_cert=`."""
    return material(folder).ca_bundle
