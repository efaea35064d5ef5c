"""Sandbox facade and `serve`: both emulators up over one data set, DESIGN's JSON line first."""

from __future__ import annotations

import importlib.util
import io
import json
import signal
import subprocess
import sys
import threading
import time
from datetime import date

import pytest
import requests

from spm_sync.sandbox.facade import fault_configs
from spm_sync.sandbox.faults import FaultConfig, FaultKind


def _emulators_ready() -> bool:
    """Both emulator packages export their classes (they are written alongside this facade)."""
    for module, name in (("spm_sync.sandbox.salesforce", "SalesforceSandbox"),
                         ("spm_sync.sandbox.hubspot", "HubSpotSandbox")):
        if importlib.util.find_spec(module) is None or not hasattr(importlib.import_module(module), name):
            return False
    return True


needs_emulators = pytest.mark.skipif(not _emulators_ready(), reason="an emulator class is not written yet")


def test_fault_configs_are_independent_and_seeded() -> None:
    sf, hs = fault_configs(0.25, seed=7)
    assert (sf.rate, sf.seed, hs.rate, hs.seed) == (0.25, 7, 0.25, 8)
    sf.rate = 1.0
    assert hs.rate == 0.25
    custom = FaultConfig(rate=0.5, seed=3, kinds=(FaultKind.RESET,), timeout_s=0.5)
    sf, hs = fault_configs(custom, seed=99)
    assert (sf.seed, hs.seed, sf.kinds, hs.timeout_s) == (3, 4, (FaultKind.RESET,), 0.5)
    assert sf is not custom


def _session(ca_bundle: str | None) -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    session.verify = ca_bundle if ca_bundle else True
    return session


@needs_emulators
def test_sandbox_description_and_stats() -> None:
    from spm_sync.sandbox import Sandbox

    with Sandbox(seed=7, scale="small", as_of=date(2026, 3, 15)) as sb:
        desc = sb.description()
        assert sorted(desc) == ["hubspot", "salesforce"]
        assert sorted(desc["salesforce"]) == ["ca_bundle", "instance_url", "session_id"]
        assert sorted(desc["hubspot"]) == ["access_token", "base_url"]
        assert desc["salesforce"]["instance_url"].startswith("https://127.0.0.1:")
        assert desc["hubspot"]["base_url"].startswith("http://127.0.0.1:")
        session = _session(desc["salesforce"]["ca_bundle"])
        sf_stats = session.get(desc["salesforce"]["instance_url"] + "/__sandbox/stats", timeout=5).json()
        hs_stats = session.get(desc["hubspot"]["base_url"] + "/__sandbox/stats", timeout=5).json()
        assert sf_stats == hs_stats == {"total": 0, "by_endpoint": {}}
        assert sb.salesforce.faults is not sb.hubspot.faults
        json.dumps(desc)  # serialisable as the serve line


@needs_emulators
def test_serve_prints_json_first_and_stops_on_event() -> None:
    from spm_sync.sandbox.serve import serve

    out, stop = io.StringIO(), threading.Event()
    worker = threading.Thread(target=serve, kwargs={"seed": 3, "scale": "small", "out": out, "stop": stop})
    worker.start()
    try:
        deadline = time.monotonic() + 60
        while "\n" not in out.getvalue() and time.monotonic() < deadline and worker.is_alive():
            time.sleep(0.05)
        first = json.loads(out.getvalue().splitlines()[0])
        stats = _session(None).get(first["hubspot"]["base_url"] + "/__sandbox/stats", timeout=5).json()
        assert stats == {"total": 0, "by_endpoint": {}}
    finally:
        stop.set()
        worker.join(timeout=10)
    assert not worker.is_alive()


@needs_emulators
def test_serve_process_exits_cleanly_on_sigterm() -> None:
    code = "from spm_sync.sandbox.serve import serve; serve(seed=1, scale='small', faults=0.1, split=True)"
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        assert proc.stdout is not None
        first = json.loads(proc.stdout.readline())
        assert first["salesforce"]["instance_url"].startswith("https://127.0.0.1:")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
