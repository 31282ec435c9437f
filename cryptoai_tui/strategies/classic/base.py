"""What the classic strategies share: they keep no state, so a signal is a pure function of
the window, and provisional and confirmed calls differ only in which bar is last.

Each strategy's `judge` has two halves kept apart on purpose: reading the indicator values
(TA-Lib over the window today; O(1) streaming state later) and deciding the trigger and the
stance from those values alone (pure functions of a few floats, named `*_trigger` /
`*_stance` in each module), so the indicator source can be swapped without touching a rule.
"""

from __future__ import annotations

from abc import abstractmethod
from types import MappingProxyType
from typing import Callable, ClassVar, Mapping

from cryptoai_tui.market.series import OHLCV
from cryptoai_tui.strategies.base import Strategy
from cryptoai_tui.strategies.signal import Action, Signal, Stance

NO_VOLUME = "no volume on this bar (exchange maintenance?); no signal"


class ClassicStrategy(Strategy):
    group: ClassVar[str] = "Classic"

    def evaluate(self, data: OHLCV, *, confirmed: bool) -> Signal:
        have, need = len(data), self.lookback
        if have < need:
            return Signal.warmup(have, need)
        return self.judge(data)

    @abstractmethod
    def judge(self, data: OHLCV) -> Signal:
        """The signal for the last bar; `data` holds at least `lookback` bars."""


def decide(
    *,
    buy: bool,
    sell: bool,
    volume: float,
    values: Mapping[str, float],
    hold_reason: str,
    explain: Callable[[Action], tuple[float, str]],
    stance: Stance = Stance.NEUTRAL,
) -> Signal:
    """Apply the rules every classic strategy shares (strategies.md §2.1): a zero-volume bar
    never signals, and BUY and SELL together cancel out to HOLD.

    `explain(action)` returns (confidence, reason); it is called only when a signal fires,
    so work needed only for the confidence (an ATR) is not paid on quiet bars. The stance
    is reported whatever the trigger: a zero-volume bar hides no indicator reading.
    """
    frozen = MappingProxyType(dict(values))
    if (buy or sell) and volume <= 0.0:
        return Signal(Action.HOLD, 0.0, NO_VOLUME, frozen, stance)
    if buy and sell:
        return Signal(Action.HOLD, 0.0, "BUY and SELL rules both fired; no signal", frozen, stance)
    if buy or sell:
        action = Action.BUY if buy else Action.SELL
        confidence, reason = explain(action)
        return Signal(action, confidence, reason, frozen, stance)
    return Signal(Action.HOLD, 0.0, hold_reason, frozen, stance)
