"""Reliability suite: prints the tally line after the run when any reliability test ran."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from spm_sync.sandbox import Sandbox
from tests.ops.conftest import fake_cfg  # noqa: F401 - the in-memory source, for in-process kill tests
from tests.reliability.tally import TALLY


@pytest.fixture
def tally():
    return TALLY


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    """Both emulators on loopback, teams split between them (the demo's data set)."""
    with Sandbox(seed=7, scale="small", split=True) as sb:
        yield sb


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if sum(TALLY.values()):
        terminalreporter.write_line(TALLY.line())
