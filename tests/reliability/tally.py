"""What the reliability suite did, summed over the session and printed as one line at the end.

Tests add what they actually exercised (`TALLY.add("crash_points", 1)`) and what they found lost or
written twice; the summary is what a reader of CI output checks first.
"""

from __future__ import annotations

from collections import Counter

KEYS = ("crash_points", "faults", "bad_inputs", "rows_lost", "double_writes")


class Tally(Counter[str]):
    def add(self, key: str, n: int = 1) -> None:
        if key not in KEYS:
            raise KeyError(f"unknown tally key {key!r}; one of {KEYS}")
        self[key] += n

    def line(self) -> str:
        return (
            f"reliability: {self['crash_points']} crash points, {self['faults']} faults injected, "
            f"{self['bad_inputs']} bad inputs, {self['rows_lost']} rows lost, {self['double_writes']} double writes"
        )


TALLY = Tally()
