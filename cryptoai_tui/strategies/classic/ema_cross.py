"""EMA cross: BUY when the fast EMA crosses above the slow one, SELL when below.

Stance: bullish while the fast EMA is above the slow one, bearish while below, neutral when
they are exactly equal (the trend the cross started).
"""

from __future__ import annotations

from typing import Any, ClassVar, Mapping

from cryptoai_tui.market.series import OHLCV
from cryptoai_tui.strategies.classic.base import (
    Bar,
    StreamedStrategy,
    WithAtr,
    atr_on,
    decide,
    near,
)
from cryptoai_tui.strategies.indicators import confidence, ema
from cryptoai_tui.strategies.streaming import EmaPairState, EmaPairValue
from cryptoai_tui.strategies.signal import BUY, Action, Signal, stance_of
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

    def _reading(self, output: EmaPairValue) -> tuple[float, float]:
        return output

    def _window(self, data: OHLCV) -> tuple[tuple[float, float], tuple[float, float]]:
        p = self.params
        fast = ema(data.close, p["fast"])
        slow = ema(data.close, p["slow"])
        return (float(fast[-2]), float(slow[-2])), (float(fast[-1]), float(slow[-1]))

    def _tied(self, prev: tuple[float, float], now: tuple[float, float], data: OHLCV) -> bool:
        return near(now[0], now[1], abs(now[1])) or near(prev[0], prev[1], abs(prev[1]))

    def _decide(self, data: OHLCV, prev: tuple[float, float], now: tuple[float, float],
                bar: Bar | None) -> Signal:
        p = self.params
        fast_now, slow_now = now
        spread_now, spread_prev = fast_now - slow_now, prev[0] - prev[1]
        # Decision: from the spread alone.
        buy, sell = ema_trigger(spread_prev, spread_now)

        def explain(action: Action) -> tuple[float, str]:
            range_ = self._range(data, bar)
            opening = abs(spread_now - spread_prev)
            side = "above" if action is BUY else "below"
            return (
                confidence(opening, 0.25 * range_),
                f"EMA{p['fast']} crossed {side} EMA{p['slow']} "
                f"(spread {price_text(spread_now)})",
            )

        return decide(
            buy=buy,
            sell=sell,
            volume=float(data.volume[-1]),
            values={"fast": fast_now, "slow": slow_now},
            hold_reason=(_hold_reason, p["fast"], p["slow"], spread_now),
            explain=explain,
            stance=stance_of(spread_now),
        )

    def _range(self, data: OHLCV, bar: Bar | None) -> float:
        """ATR on the judged bar, for a fired signal's confidence."""
        return atr_on(self, data, bar, self.params["atr_period"])


def _hold_reason(fast: int, slow: int, spread: float) -> str:
    side = "above" if spread > 0 else "below" if spread < 0 else "at"
    return f"EMA{fast} {side} EMA{slow} by {price_text(abs(spread))}; no cross"


def ema_trigger(spread_prev: float, spread_now: float) -> tuple[bool, bool]:
    """(buy, sell) for spread = fast - slow: a cross needs the spread strictly past zero
    now and at or on the other side of zero before (a touch of zero then a move is a cross)."""
    return spread_now > 0 and spread_prev <= 0, spread_now < 0 and spread_prev >= 0
