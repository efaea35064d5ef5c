"""`spm-sync sandbox serve`: start both emulators, print their JSON line, block until a signal.

Why a function of its own: the CLI stays thin, and the contract (the FIRST stdout line is the
description JSON, flushed before anything else; everything else goes to stderr) is kept here.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import TextIO

from spm_sync.sandbox.facade import Sandbox

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def _signals_set(stop: threading.Event) -> Iterator[None]:
    """SIGINT/SIGTERM set `stop` (installed before anything is printed, so no signal is lost).

    Signal handlers can only be installed from the main thread; elsewhere only `stop` ends serving.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def serve(seed: int = 7, scale: str | int = "small", faults: float = 0.0, split: bool = False,
          rate_limit: int = 100, *, fiscal_start_month: int | None = 1, mirror: bool = False,
          kpi_fields: bool = True, salesforce_port: int = 0, hubspot_port: int = 0, state_dir: Path | None = None,
          out: TextIO | None = None, stop: threading.Event | None = None) -> None:
    """Serve until SIGINT/SIGTERM; `out`/`stop` let tests capture the line and end the loop."""
    out = out if out is not None else sys.stdout
    stop = stop if stop is not None else threading.Event()
    sandbox = Sandbox(seed=seed, scale=scale, faults=faults, split=split, rate_limit=rate_limit,
                      salesforce_fiscal_start_month=fiscal_start_month, mirror=mirror, kpi_fields=kpi_fields,
                      salesforce_port=salesforce_port, hubspot_port=hubspot_port, state_dir=state_dir)
    with _signals_set(stop), sandbox:
        out.write(json.dumps(sandbox.description()) + "\n")
        out.flush()
        print(f"sandbox serving (seed={seed}, scale={scale}, faults={faults}, split={split}, mirror={mirror}); "
              "Ctrl-C to stop", file=sys.stderr, flush=True)
        while not stop.wait(0.5):
            pass
