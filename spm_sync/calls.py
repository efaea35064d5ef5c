"""API call accounting shared by every connector: counts per endpoint family and the budget guard.

API calls are the scarce resource (Salesforce daily limits, HubSpot rate windows), so every call a
connector makes goes through `ApiCalls.record`, which also refuses to go past the run's budget.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field

from spm_sync.errors import BudgetExhausted


@dataclass
class ApiCalls:
    """Thread-safe counter of calls by endpoint family, with the CRM's reported daily budget."""

    source: str = ""
    per_run_budget: int | None = None
    reserve_fraction: float = 0.0
    by_family: Counter[str] = field(default_factory=Counter)
    daily_used: int | None = None
    daily_max: int | None = None
    exhausted: str | None = None  # why the budget stopped this run (connectors may stop cleanly on it)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def total(self) -> int:
        return sum(self.by_family.values())

    def _run_left(self) -> int | None:
        return None if self.per_run_budget is None else self.per_run_budget - self.total

    def _daily_left(self) -> int | None:
        """Calls left before the daily reserve (None until the CRM has reported its allowance)."""
        if not self.daily_max or self.daily_used is None:
            return None
        return int(self.daily_max * (1 - self.reserve_fraction)) - self.daily_used

    def remaining(self) -> int | None:
        """Calls left before the run budget or the daily reserve stops us (None: no known limit);
        lets a connector choose a cheaper path (e.g. REST over a Bulk job it could not finish)."""
        with self._lock:
            left = [n for n in (self._run_left(), self._daily_left()) if n is not None]
            return min(left) if left else None

    def check(self, family: str = "") -> None:
        """Raise `BudgetExhausted` if one more call would cross the run budget or the daily reserve."""
        with self._lock:
            run_left, daily_left = self._run_left(), self._daily_left()
            if run_left is not None and run_left <= 0:
                self.exhausted = f"per-run API budget of {self.per_run_budget} calls reached"
            elif daily_left is not None and daily_left <= 0:
                assert self.daily_max is not None and self.daily_used is not None  # else daily_left is None
                self.exhausted = (
                    f"daily API reserve reached ({self.daily_max - self.daily_used} of {self.daily_max} calls "
                    f"left, reserve {self.reserve_fraction:.0%})"
                )
            else:
                return
            raise BudgetExhausted(self.exhausted, source=self.source, object=family or None)

    def mark_exhausted(self, reason: str) -> None:
        """Remember why the run stopped early (the first reason wins); the extract stage reports it."""
        with self._lock:
            self.exhausted = self.exhausted or reason

    def record(self, family: str, count: int = 1) -> None:
        with self._lock:
            self.by_family[family] += count

    def report_daily(self, used: int, maximum: int) -> None:
        """What the CRM said (Sforce-Limit-Info, X-HubSpot-RateLimit-Daily*)."""
        with self._lock:
            self.daily_used, self.daily_max = used, maximum

    def snapshot(self) -> dict[str, object]:
        with self._lock:
            return {
                "total": sum(self.by_family.values()),
                "by_family": dict(sorted(self.by_family.items())),
                "daily_used": self.daily_used,
                "daily_max": self.daily_max,
            }
