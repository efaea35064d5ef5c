"""A clock tests step by hand, so time-dependent code is tested without sleeping."""

from __future__ import annotations


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
