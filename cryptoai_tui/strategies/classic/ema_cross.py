"""EMA cross: BUY when the fast EMA crosses above the slow one, SELL when below.

Stance: bullish while the fast EMA is above the slow one, bearish while below, neutral when
they are exactly equal (the trend the cross started).
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any, ClassVar, Mapping

from cryptoai_tui.market.series import OHLCV
from cryptoai_tui.strategies.classic.base import TIE, StreamedStrategy, WithAtr, atr_on, decide
from cryptoai_tui.strategies.indicators import confidence, ema
from cryptoai_tui.strategies.streaming import EmaPairState
from cryptoai_tui.strategies.signal import BUY, HOLD, Action, Reason, Signal, Stance, make_signal, stance_of
from cryptoai_tui.strategies.wording import price_text


class EmaCrossStrategy(StreamedStrategy[tuple[float, float]]):
    name: ClassVar[str] = "ema_cross"
    title: ClassVar[str] = "EMA crossover"
    description: ClassVar[str] = "Fast EMA crosses the slow EMA (9/21 by default)"
    defaults: ClassVar[Mapping[str, Any]] = {"fast": 9, "slow": 21, "atr_period": 14}

    def validate(self) -> None:
        p = self.params
        if p["fast"] < 2 or p["atr_period"] < 1:
            raise ValueError(
                f"ema_cross needs fast >= 2 and atr_period >= 1, got fast={p['fast']}, "
                f"atr_period={p['atr_period']}."
            )
        if p["fast"] >= p["slow"]:
            raise ValueError(
                f"ema_cross fast ({p['fast']}) must be shorter than slow ({p['slow']})."
            )

    @property
    def lookback(self) -> int:
        # Slow EMA first valid at slow-1, the cross needs one more bar; ATR first at atr_period.
        return max(self.params["slow"] + 1, self.params["atr_period"] + 1)

    def _new_state(self) -> WithAtr:
        p = self.params
        return WithAtr(EmaPairState(p["fast"], p["slow"]), p["atr_period"])

    def _window(self, data: OHLCV) -> tuple[tuple[float, float], tuple[float, float]]:
        p = self.params
        fast = ema(data.close, p["fast"])
        slow = ema(data.close, p["slow"])
        return (float(fast[-2]), float(slow[-2])), (float(fast[-1]), float(slow[-1]))

    def _tied(self, prev: tuple[float, float], now: tuple[float, float], data: OHLCV) -> bool:
        # `near(fast, slow, abs(slow))` written out for both bars (a call each otherwise).
        fast, slow = now
        fast_prev, slow_prev = prev
        return (abs(fast - slow) <= TIE * abs(slow)
                or abs(fast_prev - slow_prev) <= TIE * abs(slow_prev))

    def _decide(self, data: OHLCV, prev: tuple[float, float], now: tuple[float, float],
                step: int) -> Signal:
        fast_now, slow_now = now
        spread_now, spread_prev = fast_now - slow_now, prev[0] - prev[1]
        # Decision: from the spread alone.
        buy, sell = ema_trigger(spread_prev, spread_now)
        stance = stance_of(spread_now)
        values = {"fast": fast_now, "slow": slow_now}
        if not (buy or sell):  # most bars: no closure, no volume read, the reason deferred
            return make_signal(HOLD, 0.0, (_hold_reason, self._fast, self._slow, spread_now),
                               MappingProxyType(values), stance)
        return self._fire(data, buy, sell, values, spread_prev, spread_now, step, stance)

    def _fire(self, data: OHLCV, buy: bool, sell: bool, values: dict[str, float],
              spread_prev: float, spread_now: float, step: int, stance: Stance) -> Signal:
        """A cross (rare): the shared rules, and the ATR the confidence reads."""
        fast, slow = self._fast, self._slow

        def explain(action: Action) -> tuple[float, Reason]:
            range_ = self._range(data, step)
            opening = abs(spread_now - spread_prev)
            return (confidence(opening, 0.25 * range_),
                    (_fired_reason, fast, slow, action is BUY, spread_now))

        return decide(buy=buy, sell=sell, volume=data.volume.item(-1), values=values,
                      hold_reason=(_hold_reason, fast, slow, spread_now), explain=explain,
                      stance=stance)

    def reset(self) -> None:
        super().reset()
        self._fast, self._slow = self.params["fast"], self.params["slow"]

    def _range(self, data: OHLCV, step: int) -> float:
        """ATR on the judged bar, for a fired signal's confidence."""
        return atr_on(self, data, step, self.params["atr_period"])


def _fired_reason(fast: int, slow: int, up: bool, spread: float) -> str:
    side = "above" if up else "below"
    return f"EMA{fast} crossed {side} EMA{slow} (spread {price_text(spread)})"


def _hold_reason(fast: int, slow: int, spread: float) -> str:
    side = "above" if spread > 0 else "below" if spread < 0 else "at"
    return f"EMA{fast} {side} EMA{slow} by {price_text(abs(spread))}; no cross"


def ema_trigger(spread_prev: float, spread_now: float) -> tuple[bool, bool]:
    """(buy, sell) for spread = fast - slow: a cross needs the spread strictly past zero
    now and at or on the other side of zero before (a touch of zero then a move is a cross)."""
    return spread_now > 0 and spread_prev <= 0, spread_now < 0 and spread_prev >= 0
