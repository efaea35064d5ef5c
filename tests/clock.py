"""A clock tests step by hand, so time-dependent code is tested without sleeping."""

from __future__ import annotations

import time


class ManualClock:
    """`() -> seconds` that moves only when a test calls `advance` or code under test calls `sleep`."""

    def __init__(self, now: float = 100.0) -> None:
        self.now = now
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 3))
        self.now += seconds


def next_millisecond() -> None:
    """Return once the wall clock's millisecond has moved on: HubSpot stamps changes in milliseconds, and a
    change stamped in the same millisecond as a sync's window edge belongs to either side."""
    start = int(time.time() * 1000)
    while int(time.time() * 1000) == start:
        pass
