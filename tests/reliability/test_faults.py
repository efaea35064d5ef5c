"""Faults at 20 % and 40 % on both emulators give the same store and the same CRM as no faults.

Every kind is drawn: 429 with Retry-After, 5xx, resets, timeouts, cut-off bodies, and answers lost
after a write was applied. A write whose answer was lost is read back before anything is sent again,
so no CRM record is written more often than in the run without faults.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from spm_sync import jobs
from spm_sync.config import load_config
from spm_sync.sandbox import Sandbox
from spm_sync.sandbox.faults import FaultConfig, FaultKind
from tests.reliability.harness import compare, count_applied_writes, snapshot, write_config

CLIENT = {"timeout_s": 1.0, "max_retries": 12}  # 0.4 ** 13: no request runs out of retries
SEED_OFFSET = int(os.environ.get("SPM_RELIABILITY_SEED_OFFSET", "0"))  # the soak benchmark varies it


def _cycle(config: Path) -> None:
    cfg = load_config(config)
    jobs.sync(cfg)
    jobs.normalize(cfg)
    jobs.kpis(cfg)
    jobs.writeback(cfg)


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict, Counter[str]]]:
    folder = tmp_path_factory.mktemp("no-faults")
    with Sandbox(seed=7, scale="small", split=True) as crm:
        writes = count_applied_writes(crm)
        config = write_config(folder, crm, sf=CLIENT, hs=CLIENT)
        _cycle(config)
        yield snapshot(config), writes


@pytest.mark.parametrize("rate", [0.2, 0.4])
def test_faults_change_nothing_stored_and_write_nothing_twice(
    rate: float, baseline: tuple[dict, Counter[str]], tmp_path: Path, tally
) -> None:
    expected, expected_writes = baseline
    seed = int(rate * 100) + SEED_OFFSET
    faults = FaultConfig(rate=rate, seed=seed, kinds=tuple(FaultKind), timeout_s=1.0, retry_after_s=1)
    with Sandbox(seed=7, scale="small", split=True, faults=faults) as crm:
        writes = count_applied_writes(crm)
        config = write_config(tmp_path, crm, sf=CLIENT, hs=CLIENT)
        _cycle(config)
        injected = Counter(crm.salesforce.faults.injected()) + Counter(crm.hubspot.faults.injected())
    lost, extra, differing = compare(expected, snapshot(config))
    double = sum(max(0, writes[k] - expected_writes[k]) for k in writes)
    tally.add("faults", injected.total())
    tally.add("rows_lost", lost)
    tally.add("double_writes", double)
    assert set(injected) == {kind.value for kind in FaultKind}, injected  # every kind was exercised
    assert differing == {}
    assert (lost, extra) == (0, 0)
    assert double == 0 and writes == expected_writes
