"""Rolling latency percentiles that cost almost nothing per message.

The engine records one sample per published snapshot; sorting a thousand samples on every
publish would cost more than the strategies themselves, so percentiles are recomputed at
most every `refresh_s` seconds (always while there are few samples, so early screens and
tests see figures at once) and cached in between.
"""

from __future__ import annotations

import time
from collections import deque


class LatencyWindow:
    """The newest `size` latency samples (µs) and their p50/p99, refreshed lazily."""

    def __init__(self, size: int = 1000, refresh_s: float = 0.1, eager_below: int = 100) -> None:
        if size < 1:
            raise ValueError("A latency window needs room for at least one sample.")
        self._samples: deque[float] = deque(maxlen=size)
        self._refresh_s = refresh_s
        self._eager_below = eager_below
        self._dirty = False
        self._computed_at = float("-inf")
        self._p50: float | None = None
        self._p99: float | None = None

    def __len__(self) -> int:
        return len(self._samples)

    def add(self, micros: float) -> None:
        self._samples.append(micros)
        self._dirty = True

    def clear(self) -> None:
        self._samples.clear()
        self._dirty = False
        self._p50 = self._p99 = None

    def percentiles(self) -> tuple[float | None, float | None]:
        """(p50, p99) by nearest rank; None until there is a sample."""
        if self._dirty:
            now = time.monotonic()
            if len(self._samples) < self._eager_below or now - self._computed_at >= self._refresh_s:
                ordered = sorted(self._samples)
                n = len(ordered)
                self._p50 = ordered[min(n - 1, n // 2)]
                self._p99 = ordered[min(n - 1, int(n * 0.99))]
                self._computed_at = now
                self._dirty = False
        return self._p50, self._p99
