"""The time window a data set covers, in integer epoch milliseconds (UTC).

Why: every table draws timestamps from the same window, and every generated instant lies strictly
before `horizon_ms` (as_of 00:00 UTC), so an emulator that stamps edits with the wall clock never
produces a modification stamp older than generated data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import numpy as np

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS


def day_number(d: date) -> int:
    """Days since 1970-01-01."""
    return (d - date(1970, 1, 1)).days


def epoch_ms(d: date) -> int:
    """Milliseconds since the epoch at 00:00 UTC of `d`."""
    return int(datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp() * 1000)


@dataclass(frozen=True)
class Window:
    """1 Jan of as_of.year-1 .. 31 Dec of as_of.year; deals closing on/after as_of stay open."""

    as_of: date

    @property
    def start_ms(self) -> int:
        return epoch_ms(date(self.as_of.year - 1, 1, 1))

    @property
    def end_ms(self) -> int:
        """Exclusive end: 1 Jan of the year after as_of."""
        return epoch_ms(date(self.as_of.year + 1, 1, 1))

    @property
    def horizon_ms(self) -> int:
        """Nothing generated happens at or after this instant."""
        return epoch_ms(self.as_of)

    @property
    def as_of_day(self) -> int:
        return day_number(self.as_of)

    @property
    def end_day(self) -> int:
        """Last covered day (31 Dec of as_of.year)."""
        return day_number(date(self.as_of.year, 12, 31))

    @property
    def limit_ms(self) -> int:
        """Latest creation instant of a deal: leaves a 10-day minimum cycle and an hour before horizon."""
        return min(self.horizon_ms, self.end_ms - 10 * DAY_MS) - HOUR_MS


def uniform_ms(rng: np.random.Generator, lo: np.ndarray | int, hi: np.ndarray | int, size: int) -> np.ndarray:
    """Integer instants uniformly in [lo, hi) (arrays or scalars)."""
    lo_arr = np.asarray(lo, dtype=np.int64)
    span = np.asarray(hi, dtype=np.int64) - lo_arr
    return lo_arr + (rng.random(size) * span).astype(np.int64)
