"""PostgreSQL data locks: normalize waits for a running sync of a source it reads and never reads the
half-loaded dataset; it holds nothing while it waits, so syncs of other sources go on; a sync calls its
CRM while a normalize reads its source and waits for it only to load."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import pytest

from spm_sync import jobs
from spm_sync.config import parse_config
from spm_sync.errors import LockBusy
from spm_sync.ops.locks import SPM_DATA, data_locks, raw_data, syncing
from spm_sync.sandbox import Sandbox
from spm_sync.store import Store, open_store
from tests.sandbox_sources import sandbox_sources

pytestmark = pytest.mark.postgres

WAITING = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"


def wait_until_blocked(store: Store, who: str = "normalize") -> None:
    """Return once a session waits on an advisory lock (a condition, polled; not a timed guess)."""
    deadline = time.monotonic() + 120
    while store.fetchone(WAITING)[0] == 0:
        assert time.monotonic() < deadline, f"{who} never waited for the data lock"
        time.sleep(0.05)


def last_run_details(store: Store, job: str) -> dict[str, float]:
    row = store.fetchone("SELECT details FROM spm_state.runs WHERE job = ? ORDER BY started_at DESC", [job])
    details: dict[str, float] = row[0]
    return details


def test_normalize_waits_for_the_running_sync_of_its_source(pg_dsn: str, tmp_path: Path) -> None:
    with Sandbox(seed=5, scale=1, as_of=date(2026, 3, 15), kpi_fields=False) as sb:
        sources = sandbox_sources(sb)
        cfg = parse_config({"store": {"backend": "postgres", "dsn": pg_dsn, "state_dir": str(tmp_path)},
                            "as_of": "2026-03-15", "sources": [sources["sf"], sources["hs"]]})
        jobs.sync(cfg, ["sf"])  # hs stays unsynced: normalize reads what is there
    expected = jobs.normalize(cfg).tables
    assert expected["opportunities"] > 0
    with open_store(cfg) as loader, open_store(cfg) as other, ThreadPoolExecutor(1) as pool:
        with data_locks(loader, [raw_data("sf")], shared=False, wait_s=5):  # a sync of sf is loading ...
            loader.execute("CREATE TABLE public.held AS SELECT * FROM raw_sf.opportunity")
            loader.execute("DELETE FROM raw_sf.opportunity")  # ... and is half-way: committed, visible
            normalized = pool.submit(jobs.normalize, cfg)
            wait_until_blocked(other)
            assert not normalized.done()
            with data_locks(other, [raw_data("hs")], shared=False, wait_s=0):  # a sync of hs goes on
                pass
            with data_locks(other, [SPM_DATA], shared=True, wait_s=0):  # kpis read the last complete spm
                pass
            loader.execute("INSERT INTO raw_sf.opportunity SELECT * FROM public.held")
        assert normalized.result(timeout=300).tables == expected
        waited = loader.fetchone("SELECT details FROM spm_state.runs WHERE job = 'normalize' ORDER BY started_at DESC")
        impatient = cfg.model_copy(update={"runs": cfg.runs.model_copy(update={"data_wait_s": 0.2})})
        with (
            data_locks(loader, [raw_data("sf")], shared=False, wait_s=5),
            pytest.raises(LockBusy, match="raw:sf data is still being written"),
        ):
            jobs.normalize(impatient)  # a reader gives up after its wait, one clear line
    assert waited[0]["lock_wait_s"] > 0


def test_a_sync_calls_its_crm_while_a_normalize_reads_its_source(pg_dsn: str, tmp_path: Path) -> None:
    """Only the load waits for the reader: every API call is made before the sync blocks, nothing of
    this run is in the raw tables while the reader holds them, and all of it is once the reader is done."""
    with Sandbox(seed=6, scale=1, as_of=date(2026, 3, 15), kpi_fields=False) as sb:
        cfg = parse_config({"store": {"backend": "postgres", "dsn": pg_dsn, "state_dir": str(tmp_path)},
                            "as_of": "2026-03-15", "sources": [sandbox_sources(sb)["hs"]]})
        with open_store(cfg) as reader, open_store(cfg) as other, ThreadPoolExecutor(1) as pool:
            with data_locks(reader, [raw_data("hs")], shared=True, wait_s=5):  # a normalize reads hs ...
                synced = pool.submit(jobs.sync, cfg, ["hs"])
                wait_until_blocked(other, "the sync")
                calls_before_load = sb.stats()["hubspot"]["total"]
                assert calls_before_load > 0
                assert other.fetchone("SELECT count(*) FROM information_schema.tables "
                                      "WHERE table_schema = 'raw_hs' AND table_name = 'deals'")[0] == 0
                assert not synced.done()
            records = synced.result(timeout=300)[0].records
            assert sb.stats()["hubspot"]["total"] == calls_before_load  # the load made no call
            assert other.fetchone("SELECT count(*) FROM raw_hs.deals")[0] == records["deals"] > 0
            assert last_run_details(other, "sync")["lock_wait_s"] > 0


def test_normalize_waits_for_a_sync_still_calling_its_crm_holding_nothing(pg_dsn: str, tmp_path: Path) -> None:
    """A normalize started while a sync of its source runs waits for that sync (barrier on
    `syncing:<source>`); meanwhile it holds no lock: the sync it waits for can load, others run."""
    with Sandbox(seed=7, scale=1, as_of=date(2026, 3, 15), kpi_fields=False) as sb:
        sources = sandbox_sources(sb)
        cfg = parse_config({"store": {"backend": "postgres", "dsn": pg_dsn, "state_dir": str(tmp_path)},
                            "as_of": "2026-03-15", "sources": [sources["sf"], sources["hs"]]})
        jobs.sync(cfg, ["hs"])
    with open_store(cfg) as syncer, open_store(cfg) as other, ThreadPoolExecutor(1) as pool:
        with data_locks(syncer, [syncing("sf")], shared=False, wait_s=5):  # a sync of sf is calling its CRM
            normalized = pool.submit(jobs.normalize, cfg)
            wait_until_blocked(other)
            with data_locks(other, [syncing("hs"), raw_data("hs")], shared=False, wait_s=0):  # hs syncs on
                pass
            with data_locks(syncer, [raw_data("sf")], shared=False, wait_s=0):  # sf's own load goes on
                pass
            with data_locks(other, [SPM_DATA], shared=True, wait_s=0):  # kpis read the last complete spm
                pass
            assert not normalized.done()
        assert normalized.result(timeout=300).tables["opportunities"] > 0
        assert last_run_details(other, "normalize")["lock_wait_s"] > 0
