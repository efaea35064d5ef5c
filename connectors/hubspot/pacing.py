"""Client-side pacing to HubSpot's rolling-window rate limits, so a 429 stays the exception.

Why reservations and not a token bucket: HubSpot counts "N requests in any rolling 10 s" (and
search "5 per second"); a caller reserves the earliest instant at which one more request keeps every
window under its limit, then sleeps outside the lock, so several threads share one pace.

Why a request's slot moves to its completion time (`done`): the portal stamps a request when it
arrives, at some unknown moment between our send and the answer. Counting it from the answer's
arrival is provably late enough whatever the network or server latency (a GC pause on the far side
once cost us 429s with send-time stamps); it costs one round trip per window, ~0.3%.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from bisect import insort
from collections.abc import Callable
from dataclasses import dataclass

from spm_sync.config import HubSpotRateLimit

# Clocks of two machines tick at slightly different rates, and the portal's window edge is its own.
WINDOW_MARGIN_S = 0.05
SEARCH_MARGIN_S = 0.02
TEN_SECONDS = 10.0


class RollingWindow:
    """At most `limit` stamps in any `window_s` seconds (not locked: `Pacer` locks)."""

    def __init__(self, limit: int, window_s: float) -> None:
        self.limit = max(1, limit)
        self.window_s = window_s
        self._stamps: list[float] = []  # ascending; only the latest `limit` matter

    def earliest(self, not_before: float) -> float:
        """The first instant >= not_before at which one more request fits the window."""
        if len(self._stamps) < self.limit:
            return not_before
        return max(not_before, self._stamps[-self.limit] + self.window_s)

    def take(self, at: float) -> None:
        insort(self._stamps, at)
        del self._stamps[: -self.limit]

    def move(self, old: float, new: float) -> None:
        """Re-stamp one request (its reservation -> its completion), if still tracked."""
        try:
            self._stamps.remove(old)
        except ValueError:
            return
        insort(self._stamps, new)


@dataclass(frozen=True)
class Ticket:
    """One paced request: its reserved instant and whether the search window holds it too."""

    at: float
    search: bool


class Pacer:
    """Shared pace of one portal: the 10-second window, the search window and 429 pauses."""

    def __init__(
        self,
        limits: HubSpotRateLimit,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.general = RollingWindow(limits.requests_per_10s, TEN_SECONDS + WINDOW_MARGIN_S)
        per_window = max(1, math.floor(limits.search_per_second))
        self.search = RollingWindow(per_window, per_window / limits.search_per_second + SEARCH_MARGIN_S)
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._paused_until = 0.0
        self.waited_s = 0.0

    def reserve(self, *, search: bool = False) -> tuple[Ticket, float]:
        """Book the next slot; return it and how long the caller must wait before sending."""
        with self._lock:
            now = self._clock()
            at = max(now, self._paused_until)
            if search:
                at = self.search.earliest(at)
            at = self.general.earliest(at)
            if search:
                self.search.take(at)
            self.general.take(at)
            return Ticket(at, search), at - now

    def wait(self, *, search: bool = False) -> Ticket:
        """Block until one more request (a search one if `search`) keeps within the limits."""
        ticket, delay = self.reserve(search=search)
        if delay > 0:
            self.waited_s += delay
            self._sleep(delay)
        return ticket

    def done(self, ticket: Ticket) -> None:
        """The answer arrived: count the request from now on (see the module docstring)."""
        with self._lock:
            now = self._clock()
            if now > ticket.at:
                self.general.move(ticket.at, now)
                if ticket.search:
                    self.search.move(ticket.at, now)

    def pause(self, seconds: float) -> None:
        """After a 429: nobody sends before `seconds` from now (Retry-After or the policy window)."""
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + seconds)


_PORTAL_PACERS: dict[tuple[str, str, int, float], Pacer] = {}
_PORTAL_PACERS_LOCK = threading.Lock()


def portal_pacer(base_url: str, access_token: str, limits: HubSpotRateLimit) -> Pacer:
    """The one pace of a portal in this process: a sync started right after another (a `run` cycle,
    the scheduler, a write-back) counts the searches the portal has just seen, not a fresh window."""
    token = hashlib.sha256(access_token.encode()).hexdigest()
    key = (base_url, token, limits.requests_per_10s, limits.search_per_second)
    with _PORTAL_PACERS_LOCK:
        return _PORTAL_PACERS.setdefault(key, Pacer(limits))
