"""RSI: BUY when RSI leaves oversold, SELL when it leaves overbought (strategies.md §2.2).

Stance (mean reversion, as the trigger): bullish while RSI is below `lower` (oversold, a
bounce is due), bearish while above `upper`, neutral between.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar, Mapping

import numpy as np

from cryptoai_tui.market.series import OHLCV
from cryptoai_tui.strategies.classic.base import ClassicStrategy, decide
from cryptoai_tui.strategies.indicators import confidence, rsi
from cryptoai_tui.strategies.signal import Action, Signal, Stance

MODES = ("cross", "level")


class RsiStrategy(ClassicStrategy):
    name: ClassVar[str] = "rsi"
    title: ClassVar[str] = "RSI reversal"
    description: ClassVar[str] = "RSI crosses back above 30 (BUY) or below 70 (SELL)"
    defaults: ClassVar[Mapping[str, Any]] = {
        "period": 14,
        "lower": 30.0,
        "upper": 70.0,
        "mode": "cross",  # cross: the bar RSI leaves the zone; level: every bar inside it
        "episode": 20,  # most bars looked back for the oversold low that sets the confidence
    }

    def validate(self) -> None:
        p = self.params
        if p["period"] < 2:
            raise ValueError(f"rsi period must be at least 2, got {p['period']}.")
        if not 0.0 < p["lower"] < p["upper"] < 100.0:
            raise ValueError(
                f"rsi needs 0 < lower < upper < 100, got lower={p['lower']:g}, "
                f"upper={p['upper']:g}."
            )
        if p["mode"] not in MODES:
            raise ValueError(f"rsi mode must be one of {', '.join(MODES)}, got {p['mode']!r}.")
        if p["episode"] < 1:
            raise ValueError(f"rsi episode must be at least 1 bar, got {p['episode']}.")

    @property
    def lookback(self) -> int:
        # First RSI value at index `period`; a cross also needs the bar before.
        return self.params["period"] + 2

    def judge(self, data: OHLCV) -> Signal:
        p = self.params
        lower, upper = p["lower"], p["upper"]
        # Values: RSI on this bar and the one before.
        series = rsi(data.close, p["period"])
        now, prev = float(series[-1]), float(series[-2])
        # Decision: from the two readings and the bounds alone.
        buy, sell = rsi_trigger(prev, now, lower, upper, level=p["mode"] == "level")

        def explain(action: Action) -> tuple[float, str]:
            if action is Action.BUY:
                low = self._extreme(series, now, lower, below=True)
                verb = "crossed above" if p["mode"] == "cross" else "is below"
                return (
                    confidence(lower - low, lower),
                    f"RSI {verb} {lower:g} (low {low:.1f})",
                )
            high = self._extreme(series, now, upper, below=False)
            verb = "crossed below" if p["mode"] == "cross" else "is above"
            return (
                confidence(high - upper, 100.0 - upper),
                f"RSI {verb} {upper:g} (high {high:.1f})",
            )

        return decide(
            buy=buy,
            sell=sell,
            volume=float(data.volume[-1]),
            values={"rsi": now},
            hold_reason=_hold_reason(now, lower, upper),
            explain=explain,
            stance=rsi_stance(now, lower, upper),
        )

    def _extreme(self, series: np.ndarray, now: float, bound: float, *, below: bool) -> float:
        """The RSI extreme of the episode that just ended (cross) or of this bar (level).

        The episode is the run of bars beyond `bound` right before this one, at most
        `episode` bars long, so an old dip does not inflate today's confidence.
        """
        if self.params["mode"] == "level":
            return now
        extreme = bound
        start = max(0, len(series) - 1 - self.params["episode"])
        for value in reversed(series[start:-1].tolist()):
            inside = value <= bound if below else value >= bound
            if not inside or math.isnan(value):
                break
            extreme = min(extreme, value) if below else max(extreme, value)
        return extreme


def rsi_trigger(
    prev: float, now: float, lower: float, upper: float, *, level: bool = False
) -> tuple[bool, bool]:
    """(buy, sell). Cross mode: RSI strictly above `lower` now and at or below it before
    (leaving oversold), the mirror at `upper`; level mode: RSI beyond a bound now."""
    if level:
        return now < lower, now > upper
    return now > lower and prev <= lower, now < upper and prev >= upper


def rsi_stance(now: float, lower: float, upper: float) -> Stance:
    if now < lower:
        return Stance.BULLISH
    if now > upper:
        return Stance.BEARISH
    return Stance.NEUTRAL


def _hold_reason(now: float, lower: float, upper: float) -> str:
    if now < lower:
        return f"RSI {now:.1f}: oversold; BUY when it crosses back above {lower:g}"
    if now > upper:
        return f"RSI {now:.1f}: overbought; SELL when it crosses back below {upper:g}"
    return f"RSI {now:.1f}: between {lower:g} and {upper:g}"
