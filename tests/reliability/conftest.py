"""Reliability suite: prints the tally line after the run when any reliability test ran."""

from __future__ import annotations

import pytest

from tests.reliability.tally import TALLY


@pytest.fixture
def tally():
    return TALLY


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if sum(TALLY.values()):
        terminalreporter.write_line(TALLY.line())
