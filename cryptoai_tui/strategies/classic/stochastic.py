"""Stochastic: %K crosses %D on the way out of oversold (BUY) or overbought (SELL).

Stance (mean reversion, like its trigger and like RSI): bullish while slow %K is below
`lower` (oversold), bearish while above `upper`, neutral between. %K against %D was the
other candidate; it flips every few bars, which is noise for a standing view, while the zone
is what the trigger waits on.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any, ClassVar, Mapping

from cryptoai_tui.market.series import OHLCV
from cryptoai_tui.strategies.classic.base import TIE, StreamedStrategy, decide
from cryptoai_tui.strategies.streaming import StochasticState, StochasticValue
from cryptoai_tui.strategies.classic.rsi import rsi_stance
from cryptoai_tui.strategies.indicators import confidence, stochastic, stochastic_bars
from cryptoai_tui.strategies.signal import BUY, HOLD, Action, Reason, Signal, Stance, make_signal

_TIE = TIE * 100.0  # these readings live on a 0-100 scale


class StochasticStrategy(StreamedStrategy[tuple[float, float]]):
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

    def _new_state(self) -> StochasticState:
        p = self.params
        return StochasticState(p["fastk"], p["slowk"], p["slowd"])

    def reset(self) -> None:
        super().reset()
        self._bounds = (self.params["lower"], self.params["upper"])  # read once, not per update

    def _window(self, data: OHLCV) -> tuple[StochasticValue, StochasticValue]:
        p = self.params
        tail = self.lookback  # SMA-smoothed: a fixed window, no need to read more
        k, d = stochastic(
            data.high[-tail:], data.low[-tail:], data.close[-tail:],
            p["fastk"], p["slowk"], p["slowd"],
        )
        return (StochasticValue(float(k[-2]), float(d[-2])),
                StochasticValue(float(k[-1]), float(d[-1])))

    def _tied(self, prev: tuple[float, float], now: tuple[float, float], data: OHLCV) -> bool:
        lower, upper = self._bounds
        k_now, d_now = now
        k_prev, d_prev = prev
        return (abs(k_now - d_now) <= _TIE or abs(k_prev - d_prev) <= _TIE
                or abs(k_now - lower) <= _TIE or abs(k_now - upper) <= _TIE
                or abs(min(k_prev, d_prev) - lower) <= _TIE
                or abs(max(k_prev, d_prev) - upper) <= _TIE)

    def _decide(self, data: OHLCV, prev: tuple[float, float], now: tuple[float, float], step: int) -> Signal:
        k_now, d_now = now
        k_prev, d_prev = prev
        lower, upper = self._bounds
        # Decision: from the four readings and the bounds alone.
        buy, sell = stochastic_trigger(k_prev, k_now, d_prev, d_now, lower, upper)
        stance = rsi_stance(k_now, lower, upper)
        values = {"k": k_now, "d": d_now}
        if not (buy or sell):  # most bars: no closure, no volume read, the reason deferred
            return make_signal(HOLD, 0.0, (_hold_reason, k_now, d_now, lower, upper),
                               MappingProxyType(values), stance)
        return self._fire(data, buy, sell, values, prev, stance)

    def _fire(self, data: OHLCV, buy: bool, sell: bool, values: dict[str, float],
              prev: tuple[float, float], stance: Stance) -> Signal:
        """A cross (rare): the shared rules, and how deep in the zone it started."""
        lower, upper = self._bounds
        floor, ceiling = min(prev), max(prev)

        def explain(action: Action) -> tuple[float, Reason]:
            if action is BUY:
                return confidence(lower - floor, lower), (_fired_reason, True, floor, lower)
            return (confidence(ceiling - upper, 100.0 - upper),
                    (_fired_reason, False, ceiling, upper))

        k_now, d_now = values["k"], values["d"]
        return decide(buy=buy, sell=sell, volume=data.volume.item(-1), values=values,
                      hold_reason=(_hold_reason, k_now, d_now, lower, upper), explain=explain,
                      stance=stance)


def _fired_reason(up: bool, line: float, bound: float) -> str:
    if up:
        return f"%K crossed above %D out of oversold ({line:.1f} < {bound:g})"
    return f"%K crossed below %D out of overbought ({line:.1f} > {bound:g})"


def _hold_reason(k: float, d: float, lower: float, upper: float) -> str:
    return f"%K {k:.1f}, %D {d:.1f}; no cross out of {lower:g}/{upper:g}"


def stochastic_trigger(
    k_prev: float, k_now: float, d_prev: float, d_now: float, lower: float, upper: float
) -> tuple[bool, bool]:
    """(buy, sell): %K crossing %D with the previous bar's lower (higher) line beyond the
    oversold (overbought) bound."""
    buy = k_now > d_now and k_prev <= d_prev and min(k_prev, d_prev) < lower
    sell = k_now < d_now and k_prev >= d_prev and max(k_prev, d_prev) > upper
    return buy, sell
