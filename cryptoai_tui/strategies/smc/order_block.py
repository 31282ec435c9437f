"""`order_block`: buy the first retest of the zone an impulse started from (§3.5 d).

A structure break creates the block: for a bullish break of pivot high p at bar t, the
candle with the lowest low strictly between p and t. The block is known at t and can only
signal from t+1, once, when price dips into it and closes back above its bottom.

Stance: the side of the newest block still open (not retested, not closed through, not
expired): price trading above an unmitigated bullish block is bullish (zones.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Mapping

import numpy as np

from cryptoai_tui.market.series import OHLCV
from cryptoai_tui.strategies.indicators import confidence
from cryptoai_tui.strategies.signal import Signal
from cryptoai_tui.strategies.smc.incremental import PivotStrategy, WindowAtr
from cryptoai_tui.strategies.smc.parameters import (
    check_break_on,
    check_pivot_params,
    check_positive,
    pivot_lookback,
)
from cryptoai_tui.strategies.smc.quiet import QuietBox
from cryptoai_tui.strategies.smc.structure import Direction, MarketStructure, StructureBreak
from cryptoai_tui.strategies.smc.zones import Retests, sort_retests, zone_signal
from cryptoai_tui.strategies.wording import price_text


@dataclass(frozen=True, slots=True)
class OrderBlock:
    direction: Direction
    top: float
    bottom: float
    created_seq: int  # the breaking bar; the block is live from the next bar
    confidence: float


class OrderBlockStrategy(PivotStrategy):
    name: ClassVar[str] = "order_block"
    title: ClassVar[str] = "Order block retest"
    description: ClassVar[str] = "Price returns to the candle a structure break started from"
    defaults: ClassVar[Mapping[str, Any]] = {
        "left": 5, "right": 5, "break_on": "close", "expiry": 100, "atr_period": 14,
    }

    def validate(self) -> None:
        check_pivot_params(self.name, self.params)
        check_break_on(self.name, self.params)
        check_positive(self.name, self.params, "expiry")

    @property
    def lookback(self) -> int:
        return pivot_lookback(self.params)

    def _reset_state(self) -> None:
        p = self.params
        self.structure = MarketStructure(
            p["left"], p["right"], p["break_on"] == "wick", pivots=self.pivots
        )
        self.blocks: list[OrderBlock] = []
        self._retests: Retests[OrderBlock] = Retests()

    def _quiet_box(self, data: OHLCV, j: int, seq: int, ranges: WindowAtr) -> QuietBox:
        """A bar that touches no block and breaks no structure shows the open blocks."""
        box = QuietBox()
        self._retests.quiet_box(self.blocks, seq, self.params["expiry"], box)
        self.structure.quiet_box(data, j, box)
        return box

    def _step(self, data: OHLCV, j: int, seq: int, ranges: WindowAtr, commit: bool) -> Signal:
        high, low, close = float(data.high[j]), float(data.low[j]), float(data.close[j])
        # A closed bar comes once: the memo (for a forming bar's many revisions) would only cost.
        sort = sort_retests if commit else self._retests.sort
        hits, live = sort(self.blocks, seq, self.params["expiry"], high, low, close)
        # Blocks created now cannot signal on this bar, but the forming bar's HOLD shows them.
        for brk in self.structure.step(data, j, seq, commit=commit).breaks:
            live.append(self._block_for(brk, data, j, seq, ranges))
        if commit:
            self.blocks = live
        return _signal(hits, live)

    def _block_for(
        self, brk: StructureBreak, data: OHLCV, j: int, seq: int, ranges: WindowAtr
    ) -> OrderBlock:
        first = max(j - (seq - brk.pivot.seq) + 1, 0)
        if first >= j:
            k = j - 1
        elif brk.direction is Direction.BULLISH:
            k = j - 1 - int(np.argmin(data.low[first:j][::-1]))  # lowest low, latest on ties
        else:
            k = j - 1 - int(np.argmax(data.high[first:j][::-1]))
        top, bottom = float(data.high[k]), float(data.low[k])
        displacement = brk.close - top if brk.direction is Direction.BULLISH else bottom - brk.close
        return OrderBlock(
            brk.direction, top, bottom, seq, confidence(displacement, ranges.at(j))
        )


def _signal(hits: list[OrderBlock], live: list[OrderBlock]) -> Signal:
    return zone_signal(
        hits, live,
        mixed="bullish and bearish blocks retested on one bar; no signal",
        idle="no open order block",
        waiting=lambda block: (
            f"waiting for a retest of the {block.direction.value} block "
            f"{price_text(block.bottom)}-{price_text(block.top)}"
        ),
        retested=lambda block: (
            f"retest of the {block.direction.value} order block "
            f"{price_text(block.bottom)}-{price_text(block.top)} held"
        ),
    )
