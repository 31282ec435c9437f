"""Bollinger breakout: BUY when the close crosses above the upper band, SELL below the lower.

This is the trend-breakout reading of the bands (strategies.md §2.2); buying *below* the
lower band is mean reversion, a different strategy.
"""

from __future__ import annotations

from typing import Any, ClassVar, Mapping

from cryptoai_tui.market.series import OHLCV
from cryptoai_tui.strategies.classic.base import ClassicStrategy, decide
from cryptoai_tui.strategies.indicators import bollinger, bollinger_bars, confidence
from cryptoai_tui.strategies.signal import Action, Signal
from cryptoai_tui.strategies.wording import price_text


class BollingerStrategy(ClassicStrategy):
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

    def judge(self, data: OHLCV) -> Signal:
        p = self.params
        # SMA and sigma read a fixed window: the last period+1 bars give both needed outputs.
        tail = bollinger_bars(p["period"])
        upper, middle, lower = bollinger(data.close[-tail:], p["period"], p["nbdev"])
        close = data.close
        c_now, c_prev = float(close[-1]), float(close[-2])
        up_now, up_prev = float(upper[-1]), float(upper[-2])
        lo_now, lo_prev = float(lower[-1]), float(lower[-2])
        width = up_now - lo_now
        values = {"upper": up_now, "middle": float(middle[-1]), "lower": lo_now}
        if width <= 0.0:
            return Signal.hold("bands are flat (no price movement); no signal", values)
        pct_b = (c_now - lo_now) / width
        values["pct_b"] = pct_b

        def explain(action: Action) -> tuple[float, str]:
            if action is Action.BUY:
                return (
                    confidence(pct_b - 1.0, 0.5),
                    f"close {price_text(c_now)} broke above the upper band {price_text(up_now)}",
                )
            return (
                confidence(-pct_b, 0.5),
                f"close {price_text(c_now)} broke below the lower band {price_text(lo_now)}",
            )

        return decide(
            buy=c_now > up_now and c_prev <= up_prev,
            sell=c_now < lo_now and c_prev >= lo_prev,
            volume=float(data.volume[-1]),
            values=values,
            hold_reason=f"close at {pct_b:.0%} of the band width; no breakout",
            explain=explain,
        )
