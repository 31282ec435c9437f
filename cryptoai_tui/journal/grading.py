"""Self-grading: the return 1, 5 and 20 candles after each signal, from closes as they come.

Pure bookkeeping over (open time, close) pairs, so it runs the same live, on a replay and in
tests. Candles are counted by the interval's calendar (not by how many closes were seen), so
a restart that resumes from history grades a signal from before the restart correctly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cryptoai_tui.journal.entry import GRADE_HORIZONS
from cryptoai_tui.journal.store import Grade
from cryptoai_tui.market.interval import Interval


@dataclass(slots=True)
class _Pending:
    close: float
    horizons: list[int] = field(default_factory=lambda: list(GRADE_HORIZONS))


class StreamGrader:
    """Grades the signals of one exchange/symbol/interval."""

    def __init__(self, exchange: str, symbol: str, interval: Interval) -> None:
        self.exchange, self.symbol, self.interval = exchange, symbol, interval
        self._pending: dict[int, _Pending] = {}

    @property
    def pending(self) -> int:
        return len(self._pending)

    def add_signal(self, open_time: int, close: float) -> None:
        self._pending.setdefault(open_time, _Pending(close))

    def on_close(self, open_time: int, close: float) -> list[Grade]:
        """The grades that the candle opening at `open_time` (now closed at `close`) completes."""
        grades: list[Grade] = []
        for signal_time in list(self._pending):
            pending = self._pending[signal_time]
            if open_time <= signal_time:
                continue
            steps = self._steps(signal_time, open_time, pending.horizons[-1])
            while pending.horizons and pending.horizons[0] <= steps:
                horizon = pending.horizons.pop(0)
                if horizon == steps:
                    grades.append(Grade(
                        self.exchange, self.symbol, str(self.interval), signal_time, horizon,
                        close / pending.close - 1.0,
                    ))
                # a horizon passed over by a gap is dropped, never graded with a wrong candle
            if not pending.horizons:
                del self._pending[signal_time]
        return grades

    def _steps(self, start: int, end: int, limit: int) -> int:
        if not self.interval.is_calendar:
            return (end - start) // self.interval.ms
        steps, at = 0, start
        while at < end and steps <= limit:
            at = self.interval.next_open(at)
            steps += 1
        return steps
