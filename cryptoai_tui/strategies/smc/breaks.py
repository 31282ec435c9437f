"""`bos` and `choch`: trade the close that breaks the latest confirmed swing (§3.5 b).

BOS (break of structure) continues the trend; CHoCH (change of character) is the first
break against it. Both read the same tracker; each strategy instance keeps its own.

Stance (both): the structure's trend after this bar: bullish after a bullish break (BOS,
CHoCH or the first break), bearish after a bearish one, neutral before any break.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any, ClassVar, Mapping

from cryptoai_tui.market.series import OHLCV
from cryptoai_tui.strategies.indicators import confidence
from cryptoai_tui.strategies.signal import Action, Signal
from cryptoai_tui.strategies.smc.incremental import LastSignal, PivotStrategy, WindowAtr
from cryptoai_tui.strategies.smc.quiet import QuietBox
from cryptoai_tui.strategies.smc.parameters import (
    check_break_on,
    check_pivot_params,
    pivot_lookback,
)
from cryptoai_tui.strategies.smc.structure import (
    BreakKind,
    Direction,
    MarketStructure,
    StructureState,
    stance_of,
)
from cryptoai_tui.strategies.wording import price_text

_TREND_WORDS = {None: "no trend yet", Direction.BULLISH: "uptrend", Direction.BEARISH: "downtrend"}


class StructureBreakStrategy(PivotStrategy):
    trades: ClassVar[BreakKind]
    defaults: ClassVar[Mapping[str, Any]] = {
        "left": 5, "right": 5, "break_on": "close", "atr_period": 14,
    }

    def validate(self) -> None:
        check_pivot_params(self.name, self.params)
        check_break_on(self.name, self.params)

    @property
    def lookback(self) -> int:
        return pivot_lookback(self.params)

    def _reset_state(self) -> None:
        p = self.params
        self.structure = MarketStructure(
            p["left"], p["right"], p["break_on"] == "wick", pivots=self.pivots
        )
        self._last = LastSignal()

    def _quiet_box(self, data: OHLCV, j: int, seq: int, ranges: WindowAtr) -> QuietBox:
        """A bar that confirms no pivot and breaks nothing gets the quiet state's HOLD."""
        return _structure_box(self.structure, data, j)

    def _step(self, data: OHLCV, j: int, seq: int, ranges: WindowAtr, commit: bool) -> Signal:
        state = self.structure.step(data, j, seq, commit=commit)
        last = self._last
        if last.key is state:
            return last.signal  # type: ignore[return-value]  # nothing structural changed
        values = _levels(state)
        label = self.trades.value
        stance = stance_of(state.trend)
        fired = [b for b in state.breaks if b.kind is self.trades]
        if len(fired) > 1:
            return Signal.hold(f"bullish and bearish {label} on one bar; no signal", values, stance)
        if not fired:
            signal = Signal.hold((_watching, state), values, stance)
            last.key, last.signal = state, signal
            return signal
        brk = fired[0]
        level = brk.pivot.level
        values["level"] = level
        bullish = brk.direction is Direction.BULLISH
        conf = confidence(abs(brk.close - level), ranges.at(j))
        side = "high" if bullish else "low"
        reason = (
            f"{brk.direction.value} {label}: close {price_text(brk.close)} broke the "
            f"swing {side} {price_text(level)}"
        )
        action = Action.BUY if bullish else Action.SELL
        return Signal(action, conf, reason, MappingProxyType(values), stance)


class BosStrategy(StructureBreakStrategy):
    name: ClassVar[str] = "bos"
    title: ClassVar[str] = "Break of structure"
    description: ClassVar[str] = "Close breaks the last swing high/low in the trend's direction"
    trades: ClassVar[BreakKind] = BreakKind.BOS


class ChochStrategy(StructureBreakStrategy):
    name: ClassVar[str] = "choch"
    title: ClassVar[str] = "Change of character"
    description: ClassVar[str] = "Close breaks the last swing against the trend (reversal)"
    trades: ClassVar[BreakKind] = BreakKind.CHOCH


def _structure_box(structure: MarketStructure, data: OHLCV, j: int) -> QuietBox:
    box = QuietBox()
    structure.quiet_box(data, j, box)
    return box


def _levels(state: StructureState) -> dict[str, float]:
    values: dict[str, float] = {}
    if state.high is not None and not state.high_broken:
        values["high"] = state.high.level
    if state.low is not None and not state.low_broken:
        values["low"] = state.low.level
    return values


def _watching(state: StructureState) -> str:
    parts = []
    if state.high is not None and not state.high_broken:
        parts.append(f"high {price_text(state.high.level)}")
    if state.low is not None and not state.low_broken:
        parts.append(f"low {price_text(state.low.level)}")
    watching = f"; watching {' and '.join(parts)}" if parts else "; no unbroken swing"
    return _TREND_WORDS[state.trend] + watching
