"""The bar-by-bar machinery every SMC strategy shares.

SMC patterns carry state from bar to bar (pivots, trend, open zones), so rescanning the
window on every update would cost O(window) Python work per message. Instead each closed
bar is processed exactly once, in order, and a forming bar is judged against that state
without changing it. The owner is told nothing about bootstraps or gaps: the window's
open times say which bars are new.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import ClassVar

import numpy as np

from cryptoai_tui.market.series import OHLCV
from cryptoai_tui.strategies.base import Strategy
from cryptoai_tui.strategies.indicators import atr
from cryptoai_tui.strategies.signal import Action, Signal
from cryptoai_tui.strategies.smc.quiet import QuietBox, QuietMemo
from cryptoai_tui.strategies.smc.structure import PivotTracker, share_pivots

_BUY, _SELL = Action.BUY, Action.SELL
NO_VOLUME = "no volume on this bar (exchange maintenance?); no signal"


class LastSignal:
    """A memo of the signal a pattern gave for one (immutable) state object.

    While nothing structural changes, a pattern's state after a bar is the very same
    object (MarketStructure's quiet state), so its signal is the same too and a forming
    bar's revision returns it without rebuilding values, reason or Signal. A pure
    function's memo, not state: the answer is the same with or without it.
    """

    __slots__ = ("key", "signal")

    def __init__(self) -> None:
        self.key: object = None
        self.signal: Signal | None = None


class WindowAtr:
    """TA-Lib ATR over the window, computed on first use and at most once per call.

    Most bars need no ATR (nothing happened), so quiet updates skip the TA-Lib call.
    ATR at bar j depends only on bars <= j, so a value read while catching up equals the
    one the bar-by-bar run would have read with the same window start.
    """

    __slots__ = ("_data", "_period", "_values")

    def __init__(self, data: OHLCV, period: int) -> None:
        self._data = data
        self._period = period
        self._values: np.ndarray | None = None

    def at(self, j: int) -> float:
        if self._values is None:
            d = self._data
            self._values = atr(d.high, d.low, d.close, self._period)
        return float(self._values[j])


class IncrementalStrategy(Strategy):
    """A stateful strategy that advances once per closed bar.

    Subclasses implement `_reset_state` and `_step`. `evaluate(confirmed=True)` processes
    every closed bar of the window newer than the last one processed (one bar normally,
    the whole window after a bootstrap) and returns the last bar's signal; calling it again
    with the same window returns the same signal. `evaluate(confirmed=False)` first catches
    up on the closed bars, then judges the forming bar with `commit=False`.

    The caller must `reset()` when the window starts showing a different market: bar open
    times alone cannot tell BTCUSDT 1h from ETHUSDT 1h. A window that no longer contains the
    last processed bar (a jump in time) resets the state by itself.
    """

    group: ClassVar[str] = "Smart Money"
    # Off only to prove the memo invisible (tests, benchmarks/smc_step.py's baseline).
    memoise: bool = True

    def __init__(self, **params: object) -> None:
        super().__init__(**params)
        self.reset()

    def reset(self) -> None:
        self._need = self.lookback  # read on every bar: computed once, not per call
        self._atr_period = self.atr_period
        self._last_time: int | None = None
        self._seq = -1
        self._last_signal: Signal | None = None
        self._memo = QuietMemo()
        self._reset_state()

    @abstractmethod
    def _reset_state(self) -> None:
        """Create the pattern state for a fresh start."""

    def share(self, pivots: dict[tuple[int, int], PivotTracker]) -> None:
        """Read pivots from the tracker in `pivots` for this strategy's (left, right), which
        the other patterns on the same series read too (see `PivotTracker`); the runner
        calls this once, with one dict per series. Patterns without pivots ignore it."""

    @abstractmethod
    def _step(self, data: OHLCV, j: int, seq: int, ranges: WindowAtr, commit: bool) -> Signal:
        """The signal of window bar j (sequence number `seq`), advancing state iff commit.

        Must read only bars <= j. With commit=False it must leave every attribute as it was.
        """

    def _quiet_box(self, data: OHLCV, j: int, seq: int, ranges: WindowAtr) -> QuietBox | None:
        """The forming bars j that `_step(commit=False)` answers from its quiet path, whose
        verdict depends on the closed bars alone: called after that step, with the state
        it read. None (the default): no memo, every revision is evaluated."""
        return None

    @property
    def atr_period(self) -> int:
        return int(self.params["atr_period"])

    def evaluate(self, data: OHLCV, *, confirmed: bool) -> Signal:
        n = data.open_time.shape[0]
        if not confirmed:
            recalled = self._memo.recall(data, n, self._seq, self._last_time)
            if recalled is not None:
                return recalled
        closed = n if confirmed else n - 1
        ranges = WindowAtr(data, self._atr_period)
        start = self._first_new_bar(data.open_time, closed)
        times = data.open_time
        for j in range(start, closed):
            self._seq += 1
            self._last_signal = self._emit(data, j, self._seq, ranges, commit=True)
            self._last_time = int(times[j])
        if confirmed:
            return self._last_signal or Signal.warmup(0, self.lookback)
        if n == 0 or (self._last_time is not None and int(times[n - 1]) <= self._last_time):
            # No forming bar in the window: the newest bar is one already confirmed.
            return self._last_signal or Signal.warmup(n, self.lookback)
        return self._forming(data, n, ranges)

    def _forming(self, data: OHLCV, n: int, ranges: WindowAtr) -> Signal:
        """The forming bar's signal, remembered while its revisions stay quiet."""
        j, seq = n - 1, self._seq + 1
        signal = self._emit(data, j, seq, ranges, commit=False)
        if self.memoise:
            box = self._quiet_box(data, j, seq, ranges)
            self._memo.remember(data, n, self._seq, self._last_time, box, signal)
        return signal

    def _first_new_bar(self, times: np.ndarray, closed: int) -> int:
        """Index of the first closed bar not processed yet; resets on a discontinuity."""
        last = self._last_time
        if last is None or closed <= 0:
            return 0
        if int(times[closed - 1]) == last:
            return closed  # nothing new: the same closed window again
        if closed >= 2 and int(times[closed - 2]) == last:
            return closed - 1  # the usual case: one bar closed since the last call
        k = int(np.searchsorted(times[:closed], last, side="right"))
        if k == 0 or int(times[k - 1]) != last:
            self.reset()
            return 0
        return k

    def _emit(self, data: OHLCV, j: int, seq: int, ranges: WindowAtr, commit: bool) -> Signal:
        signal = self._step(data, j, seq, ranges, commit)
        have = j + 1
        if have < self._need:
            return Signal.warmup(have, self._need)
        action = signal.action
        if (action is _BUY or action is _SELL) and float(data.volume[j]) <= 0.0:
            return Signal(Action.HOLD, 0.0, NO_VOLUME, signal.values, signal.stance)
        return signal


class PivotStrategy(IncrementalStrategy):
    """An SMC pattern that reads confirmed pivots (params `left` and `right`): its own
    tracker until the runner `share`s one with the other patterns of the series."""

    _pivots: PivotTracker | None = None

    @property
    def pivots(self) -> PivotTracker:
        if self._pivots is None:
            self._pivots = PivotTracker(self.params["left"], self.params["right"])
        return self._pivots

    def share(self, pivots: dict[tuple[int, int], PivotTracker]) -> None:
        self._pivots = share_pivots(pivots, self.params["left"], self.params["right"])
        self.reset()
