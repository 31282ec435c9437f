"""When to try connecting again: jittered exponential backoff and the exchange's attempt budget.

Both are pure over a `now` the caller passes in, so the schedule is tested without sleeping
and the same seed always gives the same delays.
"""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class BackoffPolicy:
    """Exponential backoff with full jitter (AWS architecture blog's "full jitter").

    Full jitter spreads many clients that lost the same exchange across the whole window,
    so they do not reconnect in lock-step (the reconnect storms of exchanges.md §6).
    """

    base_s: float = 1.0
    cap_s: float = 60.0
    factor: float = 2.0
    #: a connection that delivered valid data and stayed up this long was healthy: the
    #: failure count resets and the next attempt is immediate (nautilus resets after 10 s
    #: up, cryptofeed after every connect; 1 s keeps a link that drops every second or two
    #: connected > 90% of the time while a server that accepts and says nothing still
    #: backs off)
    reset_after_s: float = 1.0

    def __post_init__(self) -> None:
        if self.base_s <= 0 or self.cap_s < self.base_s or self.factor < 1:
            raise ValueError(
                f"Backoff needs 0 < base ({self.base_s}) <= cap ({self.cap_s}) and factor >= 1 "
                f"({self.factor})."
            )

    def ceiling(self, failures: int) -> float:
        """Upper bound of the delay after `failures` consecutive failed attempts (0-based)."""
        # Bounding the exponent keeps factor**failures from overflowing a float.
        exponent = min(failures, 64)
        return min(self.cap_s, self.base_s * self.factor**exponent)


class Backoff:
    """The delay schedule of one connection: grows with each failure; after a healthy
    connection the failures are forgiven and the first retry is immediate."""

    def __init__(self, policy: BackoffPolicy, rng: random.Random | None = None) -> None:
        self.policy = policy
        self._rng = rng or random.Random()
        self.failures = 0
        self._connected_at: float | None = None
        self._immediate = False

    def next_delay(self) -> float:
        """Seconds to wait before the next attempt; each call counts one more failure.

        Right after a healthy connection the answer is 0 once (and counts nothing): the link
        worked a moment ago, so waiting would only lose candles.
        """
        if self._immediate:
            self._immediate = False
            return 0.0
        delay = self._rng.uniform(0.0, self.policy.ceiling(self.failures))
        self.failures += 1
        return delay

    def connected(self, now: float) -> None:
        self._connected_at = now
        self._immediate = False

    def healthy_if_up(self, now: float) -> bool:
        """The connection delivered valid data; if it has been up for `reset_after_s` it was
        healthy: forgive the failures and make the next attempt immediate."""
        if self._connected_at is not None and now - self._connected_at >= self.policy.reset_after_s:
            self.failures = 0
            self._immediate = True
            return True
        return False

    def disconnected(self, now: float) -> None:
        """A connection ended (failures are forgiven only by `healthy_if_up`)."""
        self._connected_at = None

    def reset(self) -> None:
        self.failures = 0


class ConnectionAttemptBudget:
    """A sliding window of connection attempts, so we never exceed what the exchange allows
    (Binance: 300 per 5 min per IP; going over gets the IP banned)."""

    def __init__(self, max_attempts: int, window_s: float) -> None:
        if max_attempts < 1 or window_s <= 0:
            raise ValueError(
                f"An attempt budget needs at least one attempt ({max_attempts}) in a positive "
                f"window ({window_s} s)."
            )
        self.max_attempts = max_attempts
        self.window_s = window_s
        self._attempts: deque[float] = deque()

    def wait_time(self, now: float) -> float:
        """Seconds until one more attempt fits in the window (0 when it fits now)."""
        self._forget(now)
        if len(self._attempts) < self.max_attempts:
            return 0.0
        return self._attempts[0] + self.window_s - now

    def record(self, now: float) -> None:
        self._forget(now)
        self._attempts.append(now)

    def _forget(self, now: float) -> None:
        horizon = now - self.window_s
        while self._attempts and self._attempts[0] <= horizon:
            self._attempts.popleft()


_SHARED_BUDGETS: dict[str, ConnectionAttemptBudget] = {}


def shared_attempt_budget(endpoint: str, max_attempts: int, window_s: float) -> ConnectionAttemptBudget:
    """One budget per WebSocket endpoint for the whole process: the exchange counts attempts
    per IP, so every feed in this process that talks to it must draw from the same window."""
    budget = _SHARED_BUDGETS.get(endpoint)
    if budget is None or budget.max_attempts != max_attempts or budget.window_s != window_s:
        budget = ConnectionAttemptBudget(max_attempts, window_s)
        _SHARED_BUDGETS[endpoint] = budget
    return budget
