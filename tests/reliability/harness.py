"""Shared parts of the reliability suite: a config pointing at the sandbox, and the real CLI as a subprocess."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from spm_sync.demo import demo_config_document

ROOT = Path(__file__).resolve().parents[2]


def write_config(folder: Path, sandbox: Any, **changes: Any) -> Path:
    """The demo's config (both CRMs, write-back to both) in `folder`; `changes` replace top-level keys
    or, as `sf={...}` / `hs={...}`, keys of one source."""
    document = demo_config_document(sandbox, folder)
    for source in document["sources"]:
        source.update(changes.pop(source["name"], {}))
    document.update(changes)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def cli_env(**extra: str) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "RUNTIME__DLTHUB_TELEMETRY": "false",
        "COLUMNS": "200",
        **extra,
    }


def spm(config: Path, *args: str, timeout: float = 180, **env: str) -> subprocess.CompletedProcess[str]:
    """`spm-sync --config CONFIG ARGS` in a fresh process, from the config's folder."""
    return subprocess.run(
        [sys.executable, "-m", "spm_sync.cli", "--config", str(config), *args],
        capture_output=True,
        text=True,
        cwd=config.parent,
        env=cli_env(**env),
        timeout=timeout,
    )


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def error_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("error: ")]
