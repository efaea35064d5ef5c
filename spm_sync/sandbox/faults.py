"""Fault injection and rate limiting for the sandbox servers.

Why: connectors must survive what real CRMs do under load (429s, 5xx, hung and reset connections,
cut-off bodies). The decisions are drawn from a seeded RNG, one draw per eligible request, so a
single-threaded client sees the same faults on every run; `FaultConfig.inject` queues exact faults
for tests that need one specific failure on the next request.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum


class FaultKind(StrEnum):
    """What an injected fault does to the request."""

    THROTTLE = "throttle"  # 429 + Retry-After, vendor body from the emulator's on_throttle hook
    SERVER_ERROR = "server_error"  # 500, 502 or 503
    TIMEOUT = "timeout"  # no answer for longer than the client timeout, then close
    RESET = "reset"  # close with SO_LINGER 0 (TCP RST) without answering
    TRUNCATE = "truncate"  # the real response with its body cut in half
    LOST_RESPONSE = "lost_response"  # the request is carried out (a write applied), then RST, no answer


# Drawn from unless a config names its kinds: LOST_RESPONSE is opt-in, since on a write it is the one
# fault where retrying blindly applies the write twice (tests of that ask for it explicitly).
DEFAULT_KINDS: tuple[FaultKind, ...] = tuple(k for k in FaultKind if k is not FaultKind.LOST_RESPONSE)


SERVER_ERROR_STATUSES: tuple[int, ...] = (500, 502, 503)


@dataclass(frozen=True)
class Fault:
    """One decided fault; `status` is set for SERVER_ERROR."""

    kind: FaultKind
    status: int = 0


@dataclass
class FaultConfig:
    """Per-server fault settings; every field may be changed while the server runs.

    Attributes:
        rate: share of eligible requests that get a fault (0 disables random faults).
        seed: seed of the decision RNG (call `reseed` to restart the sequence).
        kinds: the fault kinds drawn from, uniformly (LOST_RESPONSE only when listed).
        timeout_s: the client timeout a TIMEOUT fault must outlast (the server waits timeout_s + 0.5).
        retry_after_s: Retry-After seconds sent with an injected 429.
        endpoints: endpoint (route) names eligible for faults; None means every endpoint.
    """

    rate: float = 0.0
    seed: int = 0
    kinds: tuple[FaultKind, ...] = DEFAULT_KINDS
    timeout_s: float = 2.0
    retry_after_s: int = 1
    endpoints: frozenset[str] | None = None
    _rng: random.Random = field(init=False, repr=False, compare=False)
    _lock: threading.Lock = field(init=False, repr=False, compare=False, default_factory=threading.Lock)
    _queue: deque[Fault] = field(init=False, repr=False, compare=False, default_factory=deque)
    _counts: Counter[str] = field(init=False, repr=False, compare=False, default_factory=Counter)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    @property
    def hang_s(self) -> float:
        """How long a TIMEOUT fault keeps the client waiting."""
        return self.timeout_s + 0.5

    def reseed(self, seed: int | None = None) -> None:
        """Restart the decision sequence (same seed -> same faults for the same request order)."""
        with self._lock:
            if seed is not None:
                self.seed = seed
            self._rng = random.Random(self.seed)

    def inject(self, kind: FaultKind | str, count: int = 1, status: int = 503) -> None:
        """Force `kind` on the next `count` eligible requests, before any random draw."""
        fault_kind = FaultKind(kind)
        fault = Fault(fault_kind, status if fault_kind is FaultKind.SERVER_ERROR else 0)
        with self._lock:
            self._queue.extend([fault] * count)

    def decide(self, endpoint: str) -> Fault | None:
        """Return the fault for this request, or None; thread-safe."""
        if self.endpoints is not None and endpoint not in self.endpoints:
            return None
        with self._lock:
            if self._queue:
                fault = self._queue.popleft()
            else:
                # Always draw, so request i is faulted iff u_i < rate whatever the rate is.
                draw = self._rng.random()
                pick = self._rng.randrange(len(self.kinds) * len(SERVER_ERROR_STATUSES))
                if draw >= self.rate or not self.kinds:
                    return None
                kind = self.kinds[pick % len(self.kinds)]
                status = SERVER_ERROR_STATUSES[pick // len(self.kinds)]
                fault = Fault(kind, status if kind is FaultKind.SERVER_ERROR else 0)
            self._counts[fault.kind.value] += 1
            return fault

    def injected(self) -> dict[str, int]:
        """Faults injected so far, by kind."""
        with self._lock:
            return dict(self._counts)


class RateLimiter:
    """Rolling-window limiter: at most `limit` acquisitions in any `window_s` seconds.

    Why a log of timestamps and not a token bucket: HubSpot and Salesforce both describe their
    limits as "N requests per rolling window", and tests assert exactly that boundary.
    """

    def __init__(
        self, limit: int, window_s: float, name: str = "rate_limit", clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window_s = window_s
        self.name = name
        self.clock = clock  # seconds; tests pass a clock they step instead of sleeping past a window
        self._stamps: deque[float] = deque()
        self._lock = threading.Lock()

    def _expire(self, now: float) -> None:
        horizon = now - self.window_s
        while self._stamps and self._stamps[0] <= horizon:
            self._stamps.popleft()

    def acquire(self) -> int | None:
        """Take a slot: None if allowed, else whole seconds until one frees (for Retry-After)."""
        now = self.clock()
        with self._lock:
            self._expire(now)
            if len(self._stamps) < self.limit:
                self._stamps.append(now)
                return None
            wait = self._stamps[0] + self.window_s - now
        return max(1, math.ceil(wait))

    def remaining(self) -> int:
        """Slots left in the current window (for X-RateLimit-Remaining style headers)."""
        with self._lock:
            self._expire(self.clock())
            return max(0, self.limit - len(self._stamps))

    def reset(self) -> None:
        """Forget every past acquisition."""
        with self._lock:
            self._stamps.clear()
