"""Named kill points inside the real CLI process, for the crash tests (test code: production has no hook).

`SPM_TEST_KILL=<point>:<n>` makes the process SIGKILL itself at the n-th hit of `point`: a real
`kill -9`, with no clean-up and no flush. `SPM_TEST_COUNT=<file>` instead records how often each
point was hit (the uninterrupted run's counts are what kill points are drawn from).

A point wraps one function of dlt, urllib3 (so both vendor SDKs) or our store; `after` points fire
once the call returned (e.g. the instant after the CRM answered a write), `before` points as it starts.
"""

from __future__ import annotations

import functools
import importlib
import json
import os
import signal
from collections import Counter
from pathlib import Path
from typing import Any

# point -> (module, class, method, when)
POINTS: dict[str, tuple[str, str, str, str]] = {
    "dlt.extract.write": ("dlt.common.storages.data_item_storage", "DataItemStorage", "write_data_item", "before"),
    "dlt.extract.commit": ("dlt.extract.storage", "ExtractStorage", "commit_new_load_package", "after"),
    "dlt.state.save": ("dlt.pipeline.pipeline", "Pipeline", "_save_state", "after"),
    "dlt.normalize.commit": ("dlt.common.storages.load_storage", "LoadStorage", "commit_new_load_package", "after"),
    "dlt.load.job": ("dlt.common.storages.load_package", "PackageStorage", "complete_job", "after"),
    "dlt.load.package": ("dlt.common.storages.load_storage", "LoadStorage", "complete_load_package", "before"),
    "http.read": ("urllib3.connectionpool", "HTTPConnectionPool", "urlopen", "after"),
    "http.write": ("urllib3.connectionpool", "HTTPConnectionPool", "urlopen", "after"),
    "store.statement": ("spm_sync.store.store", "Store", "execute", "after"),
    "store.batch": ("spm_sync.store.store", "Store", "executemany", "after"),
}
WRITE_METHODS = {"POST", "PATCH", "PUT", "DELETE"}


def _point_of(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    if name.startswith("http."):
        method = str(kwargs.get("method") or (args[1] if len(args) > 1 else "GET")).upper()
        return "http.write" if method in WRITE_METHODS else "http.read"
    return name


class Hits:
    def __init__(self, kill: tuple[str, int] | None, count_file: Path | None) -> None:
        self.kill = kill
        self.count_file = count_file
        self.counts: Counter[str] = Counter()

    def save(self) -> None:
        """Write the counts (the process calls this as it exits)."""
        if self.count_file is not None:
            self.count_file.write_text(json.dumps(self.counts))

    def hit(self, point: str) -> None:
        self.counts[point] += 1
        if self.kill is not None and self.kill == (point, self.counts[point]):
            os.kill(os.getpid(), signal.SIGKILL)


def install(environ: dict[str, str] | os._Environ[str] = os.environ) -> Hits | None:
    """Wrap every point when SPM_TEST_KILL or SPM_TEST_COUNT is set; otherwise do nothing."""
    spec, count_file = environ.get("SPM_TEST_KILL"), environ.get("SPM_TEST_COUNT")
    if not spec and not count_file:
        return None
    kill = None
    if spec:
        point, _, n = spec.rpartition(":")
        kill = (point, int(n))
    hits = Hits(kill, Path(count_file) if count_file else None)
    wrapped: set[tuple[str, str, str]] = set()
    for name, (module, cls, method, when) in POINTS.items():
        if (module, cls, method) in wrapped:
            continue
        wrapped.add((module, cls, method))
        owner = getattr(importlib.import_module(module), cls)
        setattr(owner, method, _wrap(getattr(owner, method), name, when, hits))
    return hits


def _wrap(function: Any, name: str, when: str, hits: Hits) -> Any:
    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        point = _point_of(name, args, kwargs)
        if when == "before":
            hits.hit(point)
        result = function(*args, **kwargs)
        if when == "after":
            hits.hit(point)
        return result

    return wrapper
