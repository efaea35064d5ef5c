"""Stage locks: two processes on the same store never run the same stage at once.

DuckDB stores use an OS file lock next to the database file; PostgreSQL stores use a session-level
advisory lock keyed by the stage name. Both sit behind `stage_lock`.

Data locks (`data_locks`, `wait_for_writers`; PostgreSQL only) let several processes share one store:
syncs of different sources run at once, normalize waits for the running syncs of the sources it reads
and kpis for a running normalize, so no stage reads a half-loaded dataset; a sync waits for a reader
only when it loads, never while it calls its CRM.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from spm_sync.config import StoreConfig
from spm_sync.errors import LockBusy
from spm_sync.logs import log_event
from spm_sync.store import Store, ensure_folder, open_store

POLL_S = 0.2


def _announce_wait(stage: str, holder: str, timeout_s: float) -> None:
    """Said once when a run starts waiting, so an operator (and a test) sees why nothing happens yet."""
    log_event(f"waiting up to {timeout_s:g} s for stage {stage!r} ({holder}) to finish", stage=stage)


def lock_path(config: StoreConfig, stage: str) -> Path:
    return config.path.parent / f"{config.path.name}.{stage}.lock"


def _same_file(handle: IO[str], path: Path) -> bool:
    """Whether `path` still names the file `handle` has open (a releasing holder may have removed it)."""
    try:
        return os.stat(path).st_ino == os.fstat(handle.fileno()).st_ino
    except FileNotFoundError:
        return False


@contextmanager
def _file_lock(path: Path, stage: str, timeout_s: float) -> Iterator[None]:
    """An flock on `path`, removed again on release so no lock file outlives its run.

    The holder deletes the file while still holding it; a waiter that then gets the lock on the deleted
    file sees that `path` names another file (or none) and opens it again.
    """
    ensure_folder(path.parent, "store.path")
    deadline = time.monotonic() + timeout_s
    waiting = False
    while True:
        handle = open(path, "a+")  # noqa: SIM115 - held for the lock's lifetime
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            if time.monotonic() >= deadline:
                raise LockBusy(f"stage {stage!r} is already running ({holder}); try again later") from None
            if not waiting:
                _announce_wait(stage, holder, timeout_s)
                waiting = True
            time.sleep(POLL_S)
            continue
        if _same_file(handle, path):
            break
        handle.close()
    try:
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        yield
    finally:
        path.unlink(missing_ok=True)
        handle.close()


def _advisory_key(stage: str) -> int:
    return int.from_bytes(hashlib.sha256(f"spm_sync:{stage}".encode()).digest()[:8], "big", signed=True)


@contextmanager
def _advisory_lock(store: Store, stage: str, timeout_s: float) -> Iterator[None]:
    key = _advisory_key(stage)
    deadline = time.monotonic() + timeout_s
    waiting = False
    while not store.scalar("SELECT pg_try_advisory_lock(?)", [key]):
        if time.monotonic() >= deadline:
            raise LockBusy(f"stage {stage!r} is already running in another process; try again later")
        if not waiting:
            _announce_wait(stage, "another process", timeout_s)
            waiting = True
        time.sleep(POLL_S)
    try:
        yield
    finally:
        store.execute("SELECT pg_advisory_unlock(?)", [key])


@contextmanager
def stage_lock(config: StoreConfig, stage: str, timeout_s: float = 0.0, store: Store | None = None) -> Iterator[None]:
    """Hold the lock of `stage` (e.g. `sync:sf`, `normalize`) or raise LockBusy after `timeout_s`.

    DuckDB: taken before the store is opened (a file lock needs no connection). PostgreSQL: an
    advisory lock on the given open `store`, or on a connection of its own when none is given
    (the lock lives as long as the session that took it).
    """
    if config.backend == "postgres":
        if store is None:
            with open_store(config, migrate=False) as own, _advisory_lock(own, stage, timeout_s):
                yield
            return
        with _advisory_lock(store, stage, timeout_s):
            yield
    else:
        with _file_lock(lock_path(config, stage.replace(":", "-")), stage, timeout_s):
            yield


@contextmanager
def locked_store(config: StoreConfig, stage: str, timeout_s: float, wait_s: float) -> Iterator[Store]:
    """The open store with `stage` locked: the order differs by backend.

    DuckDB locks first, so a busy stage is refused without waiting on DuckDB's one-writer file.
    PostgreSQL opens first: its advisory lock belongs to the store's own session.
    """
    if config.backend == "postgres":
        with open_store(config, wait_s=wait_s) as store, stage_lock(config, stage, timeout_s, store=store):
            yield store
    else:
        with stage_lock(config, stage, timeout_s), open_store(config, wait_s=wait_s) as store:
            yield store


# --- data locks: who may read a raw dataset or spm.* while someone writes it -------------------
# A sync (or backfill) holds `syncing:<source>` exclusively for the whole job, which keeps two writers of
# one source apart and lets normalize wait for the syncs running when it starts; it holds `raw:<source>`
# exclusively only while dlt loads. Normalize holds every `raw:<source>` shared (and `spm` exclusively),
# kpis hold `spm` shared. Keys are always taken syncing, then raw, then spm, so no cycle.


def raw_data(source: str) -> str:
    """Data-lock name of a source's raw dataset (held exclusively while a load writes it)."""
    return f"raw:{source}"


def syncing(source: str) -> str:
    """Data-lock name of a running sync or backfill of `source` (held exclusively for the whole job)."""
    return f"syncing:{source}"


SPM_DATA = "spm"


def _data_key(name: str) -> int:
    return _advisory_key(f"data:{name}")


def _try_data_lock(store: Store, key: int, shared: bool) -> bool:
    function = "pg_try_advisory_lock_shared" if shared else "pg_try_advisory_lock"
    row = store.fetchone(f"SELECT {function}(?)", [key])
    return bool(row and row[0])


def _release_data_lock(store: Store, key: int, shared: bool) -> None:
    store.execute(f"SELECT {'pg_advisory_unlock_shared' if shared else 'pg_advisory_unlock'}(?)", [key])


def _wait_for_data_lock(store: Store, key: int, name: str, shared: bool, deadline: float) -> None:
    """Block (a real lock wait, visible in pg_locks) until the holder is done, or raise LockBusy at `deadline`."""
    import psycopg

    left_ms = int((deadline - time.monotonic()) * 1000)
    busy = LockBusy(f"{name} data is still being written by another process after the wait; try again later")
    if left_ms <= 0:
        raise busy
    store.execute("SELECT set_config('lock_timeout', ?, false)", [f"{left_ms}ms"])
    try:
        store.execute(f"SELECT {'pg_advisory_lock_shared' if shared else 'pg_advisory_lock'}(?)", [key])
    except psycopg.errors.LockNotAvailable:
        raise busy from None
    finally:
        store.execute("SELECT set_config('lock_timeout', '0', false)")


@contextmanager
def data_locks(store: Store, names: list[str], *, shared: bool, wait_s: float) -> Iterator[float]:
    """Hold the data locks `names` (PostgreSQL; DuckDB allows one process per file anyway); yields the
    seconds waited. All or none: while one is held by a writer, none of the others is kept, so a
    waiting reader never holds up the syncs of other sources."""
    if store.backend != "postgres":
        yield 0.0
        return
    started = time.monotonic()
    deadline = started + wait_s
    keys = [(name, _data_key(name)) for name in names]
    held: list[int] = []
    try:
        while len(held) < len(keys):
            name, key = keys[len(held)]
            if _try_data_lock(store, key, shared):
                held.append(key)
                continue
            for taken in reversed(held):
                _release_data_lock(store, taken, shared)
            held.clear()
            _wait_for_data_lock(store, key, name, shared, deadline)
            _release_data_lock(store, key, shared)  # the writer is done: start over, taking all at once
        yield time.monotonic() - started
    finally:
        for taken in reversed(held):
            _release_data_lock(store, taken, shared)


def wait_for_writers(store: Store, names: list[str], *, wait_s: float) -> float:
    """Wait until the writers holding `names` now are done, one name after the other, keeping none of
    them (a barrier, not a hold); returns the seconds waited. Unlike `data_locks` it needs no moment
    when all are free at once, so a steady stream of syncs cannot starve it."""
    if store.backend != "postgres":
        return 0.0
    started = time.monotonic()
    deadline = started + wait_s
    for name in names:
        key = _data_key(name)
        if not _try_data_lock(store, key, shared=True):
            _wait_for_data_lock(store, key, name, shared=True, deadline=deadline)
        _release_data_lock(store, key, shared=True)
    return time.monotonic() - started
