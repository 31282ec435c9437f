"""The gap and duplicate judge of one (symbol, interval) stream.

It decides, from the exchange's own open times and closed flags only, whether a kline is
the next one, a repeat, a straggler, or proof that closed candles are missing. It never
looks at the local clock: the simulator's clock runs many times faster than ours, and a
real exchange's clock is not ours either.
"""

from __future__ import annotations

from enum import Enum

from cryptoai_tui.market import Candle, Interval


class Verdict(Enum):
    ACCEPT = "accept"  # the next closed candle, or a newer update of the forming one
    DUPLICATE = "duplicate"  # the same closed candle again, or a repeated forming update
    STALE = "stale"  # older than what was already emitted (reordered or late)
    GAP = "gap"  # closed candles between the last one and this kline are missing


def next_open_time(interval: Interval, open_time: int) -> int:
    """Open time of the candle after the one opening at `open_time` (months by the calendar)."""
    return interval.next_open(open_time)


class KlineSequencer:
    """Tracks the last closed candle and the forming one of a stream; `offer` judges a kline.

    Accepted klines update the state; anything else leaves it untouched, so the caller can
    repair a GAP (fetch the missing candles over REST, offer them) and then offer the kline
    that revealed the gap again.
    """

    __slots__ = ("interval", "last_closed", "expected_next", "_forming_open", "_forming_event")

    def __init__(self, interval: Interval) -> None:
        self.interval = interval
        #: open time of the newest closed candle accepted, None before the first
        self.last_closed: int | None = None
        #: open time the next closed candle must have, None while nothing is known
        self.expected_next: int | None = None
        self._forming_open: int | None = None
        self._forming_event = -1

    def offer(self, candle: Candle, event_time: int) -> Verdict:
        open_time = candle.open_time
        expected = self.expected_next
        if candle.closed:
            if expected is None or open_time == expected:
                self.last_closed = open_time
                self.expected_next = next_open_time(self.interval, open_time)
                if self._forming_open is not None and self._forming_open <= open_time:
                    self._forming_open = None
                    self._forming_event = -1
                return Verdict.ACCEPT
            if open_time > expected:
                return Verdict.GAP
            return Verdict.DUPLICATE if open_time == self.last_closed else Verdict.STALE
        # A forming update.
        if expected is not None:
            if open_time < expected:
                return Verdict.STALE
            if open_time > expected:
                # A later candle is forming, so the candle at `expected` has closed unseen.
                return Verdict.GAP
        else:
            # No closed candle yet: the first forming candle fixes where closed ones start.
            self.expected_next = open_time
        if open_time == self._forming_open:
            if event_time == self._forming_event:
                return Verdict.DUPLICATE
            if event_time < self._forming_event:
                return Verdict.STALE
        self._forming_open = open_time
        self._forming_event = event_time
        return Verdict.ACCEPT

    def accept_hole(self, open_time: int) -> None:
        """The exchange has no candles before `open_time` since the last one: continue from it.

        Real exchanges have such holes after maintenance (ccxt#8068); refusing them would
        stall the stream forever.
        """
        if self.expected_next is None or open_time > self.expected_next:
            self.expected_next = open_time

    def restore(self, last_open: int) -> None:
        """History that arrived late ends at the closed candle opening at `last_open`, and
        nothing closed was delivered live yet: the next closed candle follows it.

        Only moves forward: a forming candle already seen keeps where closed ones start.
        """
        if self.last_closed is None or last_open > self.last_closed:
            self.last_closed = last_open
            following = next_open_time(self.interval, last_open)
            if self.expected_next is None or following > self.expected_next:
                self.expected_next = following
