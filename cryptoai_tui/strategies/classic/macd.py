"""MACD: BUY when the MACD line crosses above its signal line (histogram turns positive).

Stance: bullish while the MACD line is above its signal line (histogram > 0), bearish while
below, neutral when exactly on it.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any, ClassVar, Mapping

from cryptoai_tui.market.series import OHLCV
from cryptoai_tui.strategies.classic.base import TIE, StreamedStrategy, WithAtr, atr_on, decide
from cryptoai_tui.strategies.classic.ema_cross import ema_trigger
from cryptoai_tui.strategies.indicators import confidence, macd
from cryptoai_tui.strategies.streaming import MacdState, MacdValue
from cryptoai_tui.strategies.signal import BUY, HOLD, Action, Reason, Signal, Stance, make_signal, stance_of
from cryptoai_tui.strategies.wording import price_text


class MacdStrategy(StreamedStrategy[tuple[float, float, float]]):
    name: ClassVar[str] = "macd"
    title: ClassVar[str] = "MACD signal cross"
    description: ClassVar[str] = "MACD line crosses its signal line (12/26/9)"
    defaults: ClassVar[Mapping[str, Any]] = {"fast": 12, "slow": 26, "signal": 9, "atr_period": 14}

    def validate(self) -> None:
        p = self.params
        if p["fast"] < 2 or p["signal"] < 1 or p["atr_period"] < 1:
            raise ValueError(
                f"macd needs fast >= 2, signal >= 1 and atr_period >= 1, got fast={p['fast']}, "
                f"signal={p['signal']}, atr_period={p['atr_period']}."
            )
        if p["fast"] >= p["slow"]:
            raise ValueError(f"macd fast ({p['fast']}) must be shorter than slow ({p['slow']}).")

    @property
    def lookback(self) -> int:
        # Outputs start at (slow-1)+(signal-1); the cross needs the bar after that one too.
        p = self.params
        return max(p["slow"] + p["signal"], p["atr_period"] + 1)

    def _new_state(self) -> WithAtr:
        p = self.params
        return WithAtr(MacdState(p["fast"], p["slow"], p["signal"]), p["atr_period"])

    def _window(self, data: OHLCV) -> tuple[MacdValue, MacdValue]:
        p = self.params
        line, signal, hist = macd(data.close, p["fast"], p["slow"], p["signal"])
        return (MacdValue(float(line[-2]), float(signal[-2]), float(hist[-2])),
                MacdValue(float(line[-1]), float(signal[-1]), float(hist[-1])))

    def _tied(self, prev: tuple[float, float, float], now: tuple[float, float, float],
              data: OHLCV) -> bool:
        # the histogram's sign decides; its scale is the lines' (a price difference)
        # (`near(hist, 0, ...)` written out: a call each otherwise)
        return (abs(now[2]) <= TIE * (abs(now[1]) + abs(now[0]))
                or abs(prev[2]) <= TIE * (abs(prev[1]) + abs(prev[0])))

    def _decide(self, data: OHLCV, prev: tuple[float, float, float],
                now: tuple[float, float, float], step: int) -> Signal:
        # Values: the histogram (MACD line - signal line) on this bar and the one before.
        h_now, h_prev = now[2], prev[2]
        # Decision: the histogram changing sign, exactly as an EMA cross of the two lines.
        buy, sell = ema_trigger(h_prev, h_now)
        stance = stance_of(h_now)
        values = {"macd": now[0], "signal": now[1], "hist": h_now}
        if not (buy or sell):  # most bars: no closure, no volume read, the reason deferred
            return make_signal(HOLD, 0.0, (_hold_reason, h_now), MappingProxyType(values),
                               stance)
        return self._fire(data, buy, sell, values, h_prev, h_now, step, stance)

    def _fire(self, data: OHLCV, buy: bool, sell: bool, values: dict[str, float],
              h_prev: float, h_now: float, step: int, stance: Stance) -> Signal:
        """A cross (rare): the shared rules, and the ATR the confidence reads."""
        period = self.params["atr_period"]

        def explain(action: Action) -> tuple[float, Reason]:
            range_ = atr_on(self, data, step, period)
            return (confidence(abs(h_now - h_prev), 0.1 * range_),
                    (_fired_reason, action is BUY, h_now))

        return decide(buy=buy, sell=sell, volume=data.volume.item(-1), values=values,
                      hold_reason=(_hold_reason, h_now), explain=explain, stance=stance)


def _fired_reason(up: bool, hist: float) -> str:
    side = "above" if up else "below"
    return f"MACD crossed {side} its signal line (hist {price_text(hist)})"


def _hold_reason(hist: float) -> str:
    side = "above" if hist > 0 else "below" if hist < 0 else "on"
    return f"MACD {side} its signal line; no cross"
