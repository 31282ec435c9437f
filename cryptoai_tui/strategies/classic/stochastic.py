"""Stochastic: %K crosses %D on the way out of oversold (BUY) or overbought (SELL)."""

from __future__ import annotations

from typing import Any, ClassVar, Mapping

from cryptoai_tui.market.series import OHLCV
from cryptoai_tui.strategies.classic.base import ClassicStrategy, decide
from cryptoai_tui.strategies.indicators import confidence, stochastic, stochastic_bars
from cryptoai_tui.strategies.signal import Action, Signal


class StochasticStrategy(ClassicStrategy):
    name: ClassVar[str] = "stochastic"
    title: ClassVar[str] = "Stochastic cross"
    description: ClassVar[str] = "Slow %K crosses %D below 20 (BUY) or above 80 (SELL), 14/3/3"
    defaults: ClassVar[Mapping[str, Any]] = {
        "fastk": 14, "slowk": 3, "slowd": 3, "lower": 20.0, "upper": 80.0,
    }

    def validate(self) -> None:
        p = self.params
        if p["fastk"] < 1 or p["slowk"] < 1 or p["slowd"] < 1:
            raise ValueError(
                f"stochastic periods must be at least 1, got fastk={p['fastk']}, "
                f"slowk={p['slowk']}, slowd={p['slowd']}."
            )
        if not 0.0 < p["lower"] < p["upper"] < 100.0:
            raise ValueError(
                f"stochastic needs 0 < lower < upper < 100, got lower={p['lower']:g}, "
                f"upper={p['upper']:g}."
            )

    @property
    def lookback(self) -> int:
        p = self.params
        return stochastic_bars(p["fastk"], p["slowk"], p["slowd"])

    def judge(self, data: OHLCV) -> Signal:
        p = self.params
        tail = self.lookback  # SMA-smoothed: a fixed window, no need to read more
        k, d = stochastic(
            data.high[-tail:], data.low[-tail:], data.close[-tail:],
            p["fastk"], p["slowk"], p["slowd"],
        )
        k_now, k_prev, d_now, d_prev = float(k[-1]), float(k[-2]), float(d[-1]), float(d[-2])
        floor, ceiling = min(k_prev, d_prev), max(k_prev, d_prev)
        lower, upper = p["lower"], p["upper"]

        def explain(action: Action) -> tuple[float, str]:
            if action is Action.BUY:
                return (
                    confidence(lower - floor, lower),
                    f"%K crossed above %D out of oversold ({floor:.1f} < {lower:g})",
                )
            return (
                confidence(ceiling - upper, 100.0 - upper),
                f"%K crossed below %D out of overbought ({ceiling:.1f} > {upper:g})",
            )

        return decide(
            buy=k_now > d_now and k_prev <= d_prev and floor < lower,
            sell=k_now < d_now and k_prev >= d_prev and ceiling > upper,
            volume=float(data.volume[-1]),
            values={"k": k_now, "d": d_now},
            hold_reason=f"%K {k_now:.1f}, %D {d_now:.1f}; no cross out of {lower:g}/{upper:g}",
            explain=explain,
        )
