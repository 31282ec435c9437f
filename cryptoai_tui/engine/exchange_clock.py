"""Exchange lag, and the check that decides whether it means anything.

Lag is "when we received a message" minus "when the exchange says it sent it", with the
exchange's clock mapped onto ours by the offset the feed measured from the exchange's time
endpoint. That is only meaningful when the exchange clock runs at the pace of ours: a
simulator running 60x fast, or a replay of last year's candles, stamps messages with times
that have nothing to do with now. Rather than trusting a flag, the check compares how far
the exchange clock advanced with how far ours did over a few seconds and reports lag only
while the two agree.
"""

from __future__ import annotations


class ExchangeLag:
    """Feeds on (received_at, event_time) pairs of live messages; `lag_ms` or None."""

    def __init__(self, min_span_ms: float = 5_000.0, tolerance: float = 0.2) -> None:
        self._min_span_ms = min_span_ms
        self._tolerance = tolerance
        self._anchor: tuple[float, int] | None = None
        self.real_time: bool | None = None  # None: not enough evidence yet
        self.rate: float | None = None  # exchange ms per local ms over the last span
        self.lag_ms: float | None = None

    def reset(self) -> None:
        """Forget the anchor (after a reconnect the next span must start afresh)."""
        self._anchor = None

    def observe(self, received_at_ms: float, event_time_ms: int, offset_ms: float | None) -> float | None:
        """Record one live message; returns the lag in ms, or None while unavailable.

        `offset_ms` is exchange clock minus local clock (None when the feed could not ask).
        """
        anchor = self._anchor
        if anchor is None:
            self._anchor = (received_at_ms, event_time_ms)
        else:
            local_span = received_at_ms - anchor[0]
            if local_span >= self._min_span_ms:
                self.rate = (event_time_ms - anchor[1]) / local_span
                self.real_time = abs(self.rate - 1.0) <= self._tolerance
                self._anchor = (received_at_ms, event_time_ms)
        if self.real_time:
            self.lag_ms = received_at_ms - (event_time_ms - (offset_ms or 0.0))
        else:
            self.lag_ms = None
        return self.lag_ms
