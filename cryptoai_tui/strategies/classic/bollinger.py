"""Bollinger breakout: BUY when the close crosses above the upper band, SELL below the lower.

This is the trend-breakout reading of the bands (strategies.md §2.2); buying *below* the
lower band is mean reversion, a different strategy.

Stance: bullish while the close is above the middle band (the SMA the bands are drawn
around), bearish below it, neutral exactly on it or when the bands are flat. The middle band
is where a band breakout is classically given up (the exit of a breakout trade), so "above
the middle" is the side a breakout stays valid on; it reads the same window as the trigger.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any, ClassVar, Mapping

from cryptoai_tui.market.series import OHLCV
from cryptoai_tui.strategies.classic.base import TIE, StreamedStrategy, decide
from cryptoai_tui.strategies.streaming import BollingerState, BollingerValue
from cryptoai_tui.strategies.indicators import bollinger, bollinger_bars, confidence
from cryptoai_tui.strategies.signal import BUY, HOLD, NEUTRAL, Action, Reason, Signal, Stance, make_signal, stance_of
from cryptoai_tui.strategies.wording import price_text

FLAT_BANDS = "bands are flat (no price movement); no signal"


class BollingerStrategy(StreamedStrategy[tuple[float, float, float]]):
    name: ClassVar[str] = "bollinger"
    title: ClassVar[str] = "Bollinger breakout"
    description: ClassVar[str] = "Close breaks out above the upper band or below the lower band"
    defaults: ClassVar[Mapping[str, Any]] = {"period": 20, "nbdev": 2.0}

    def validate(self) -> None:
        p = self.params
        if p["period"] < 2 or p["nbdev"] <= 0:
            raise ValueError(
                f"bollinger needs period >= 2 and nbdev > 0, got period={p['period']}, "
                f"nbdev={p['nbdev']:g}."
            )

    @property
    def lookback(self) -> int:
        return self.params["period"] + 1

    def _new_state(self) -> BollingerState:
        return BollingerState(self.params["period"], self.params["nbdev"])

    def _window(self, data: OHLCV) -> tuple[BollingerValue, BollingerValue]:
        p = self.params
        # SMA and sigma read a fixed window: the last period+1 bars give both needed outputs.
        tail = bollinger_bars(p["period"])
        upper, middle, lower = bollinger(data.close[-tail:], p["period"], p["nbdev"])
        return (BollingerValue(float(upper[-2]), float(middle[-2]), float(lower[-2])),
                BollingerValue(float(upper[-1]), float(middle[-1]), float(lower[-1])))

    def _tied(self, prev: tuple[float, float, float], now: tuple[float, float, float], data: OHLCV) -> bool:
        # The closes are exact; the bands carry the state's rounding. Compared: the close
        # with the bands and the middle (now), with the outer bands (before); flat bands.
        # `near` written out: six calls of it cost more than the rest of this check.
        close = data.close
        c_now, c_prev = close.item(-1), close.item(-2)
        upper, middle, lower = now
        tol = TIE * abs(middle)
        return (abs(upper - lower) <= tol or abs(c_now - upper) <= tol
                or abs(c_now - middle) <= tol or abs(c_now - lower) <= tol
                or abs(c_prev - prev[0]) <= tol or abs(c_prev - prev[2]) <= tol)

    def _decide(self, data: OHLCV, prev: tuple[float, float, float], now: tuple[float, float, float], step: int) -> Signal:
        close = data.close
        c_now, c_prev = close.item(-1), close.item(-2)
        up_now, mid_now, lo_now = now
        up_prev, lo_prev = prev[0], prev[2]
        width = up_now - lo_now
        values = {"upper": up_now, "middle": mid_now, "lower": lo_now}
        if width <= 0.0:
            return make_signal(HOLD, 0.0, FLAT_BANDS, MappingProxyType(values), NEUTRAL)
        pct_b = (c_now - lo_now) / width
        values["pct_b"] = pct_b
        # Decision: from those numbers alone.
        buy, sell = bollinger_trigger(c_prev, c_now, up_prev, up_now, lo_prev, lo_now)
        stance = stance_of(c_now - mid_now)
        hold_reason = (_hold_reason, c_now, up_now, lo_now, pct_b)
        if not (buy or sell):  # most bars: no closure, no volume read, the reason deferred
            return make_signal(HOLD, 0.0, hold_reason, MappingProxyType(values), stance)

        def explain(action: Action) -> tuple[float, Reason]:
            if action is BUY:
                return confidence(pct_b - 1.0, 0.5), (_fired_reason, True, c_now, up_now)
            return confidence(-pct_b, 0.5), (_fired_reason, False, c_now, lo_now)

        return decide(buy=buy, sell=sell, volume=data.volume.item(-1), values=values,
                      hold_reason=hold_reason, explain=explain, stance=stance)


def bollinger_trigger(
    c_prev: float, c_now: float, up_prev: float, up_now: float, lo_prev: float, lo_now: float
) -> tuple[bool, bool]:
    """(buy, sell): the close crossing above the upper band, or below the lower one."""
    return c_now > up_now and c_prev <= up_prev, c_now < lo_now and c_prev >= lo_prev


def _fired_reason(up: bool, close: float, band: float) -> str:
    if up:
        return f"close {price_text(close)} broke above the upper band {price_text(band)}"
    return f"close {price_text(close)} broke below the lower band {price_text(band)}"


def _hold_reason(close: float, upper: float, lower: float, pct_b: float) -> str:
    """Where the close is, never "no breakout" while it is outside the bands."""
    if close > upper:
        return (
            f"close {price_text(close)} still above the upper band {price_text(upper)} "
            "(broke out on an earlier bar); no new breakout"
        )
    if close < lower:
        return (
            f"close {price_text(close)} still below the lower band {price_text(lower)} "
            "(broke out on an earlier bar); no new breakout"
        )
    return f"close inside the bands, at {pct_b:.0%} of their width; no breakout"
