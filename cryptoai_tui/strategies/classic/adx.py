"""ADX/DMI: BUY when +DI crosses above -DI in a trending market (ADX at or above 25).

One threshold (`threshold`, default 25) decides both what counts as a trend and when a DI
cross trades, and every text (description, reasons, docs) names that same number.

Stance: bullish while ADX >= threshold and +DI is above -DI, bearish while ADX >= threshold
and -DI is above +DI, neutral in a market without a trend (ADX below the threshold) or when
the two DIs are equal.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any, ClassVar, Mapping

from cryptoai_tui.market.series import OHLCV
from cryptoai_tui.strategies.classic.base import TIE, StreamedStrategy, decide
from cryptoai_tui.strategies.streaming import DirectionalState, DirectionalValue
from cryptoai_tui.strategies.indicators import clip01, directional
from cryptoai_tui.strategies.signal import BUY, HOLD, NEUTRAL, Action, Reason, Signal, Stance, make_signal, stance_of

THRESHOLD = 25.0

_TIE = TIE * 100.0  # these readings live on a 0-100 scale


class AdxStrategy(StreamedStrategy[tuple[float, float, float]]):
    name: ClassVar[str] = "adx"
    title: ClassVar[str] = "ADX directional cross"
    description: ClassVar[str] = (
        f"+DI crosses -DI while ADX shows a trend (ADX >= {THRESHOLD:g})"
    )
    defaults: ClassVar[Mapping[str, Any]] = {"period": 14, "threshold": THRESHOLD}

    def validate(self) -> None:
        p = self.params
        if p["period"] < 2:
            raise ValueError(f"adx period must be at least 2, got {p['period']}.")
        if not 0.0 <= p["threshold"] < 100.0:
            raise ValueError(
                f"adx needs 0 <= threshold < 100, got threshold={p['threshold']:g}."
            )

    @property
    def lookback(self) -> int:
        # ADX is seeded at bar 2*period-1; +DI/-DI exist from `period`, well before that.
        return 2 * self.params["period"]

    def _new_state(self) -> DirectionalState:
        return DirectionalState(self.params["period"])

    def reset(self) -> None:
        super().reset()
        self._threshold = self.params["threshold"]  # read once, not per update

    def _window(self, data: OHLCV) -> tuple[DirectionalValue, DirectionalValue]:
        adx, plus_di, minus_di = directional(data.high, data.low, data.close, self.params["period"])
        return (DirectionalValue(float(adx[-2]), float(plus_di[-2]), float(minus_di[-2])),
                DirectionalValue(float(adx[-1]), float(plus_di[-1]), float(minus_di[-1])))

    def _tied(self, prev: tuple[float, float, float], now: tuple[float, float, float], data: OHLCV) -> bool:
        return (abs(now[0] - self._threshold) <= _TIE or abs(now[1] - now[2]) <= _TIE
                or abs(prev[1] - prev[2]) <= _TIE)

    def _decide(self, data: OHLCV, prev: tuple[float, float, float], now: tuple[float, float, float], step: int) -> Signal:
        # Values: ADX, +DI and -DI on this bar and the one before.
        a_now, plus_now, minus_now = now
        plus_prev, minus_prev = prev[1], prev[2]
        values = {"adx": a_now, "plus_di": plus_now, "minus_di": minus_now}
        threshold = self._threshold
        # Decision: from those numbers and the threshold alone.
        up, down = adx_cross(plus_prev, plus_now, minus_prev, minus_now)
        stance = adx_stance(a_now, plus_now, minus_now, threshold)
        if a_now < threshold:
            reason: Reason = (_crossed_no_trend, up, a_now, threshold) if up or down else (
                _no_trend, a_now, threshold)
            return make_signal(HOLD, 0.0, reason, MappingProxyType(values), stance)
        hold_reason = (_leading, a_now, threshold, plus_now > minus_now)
        if not (up or down):  # most bars: no closure, no volume read, the reason deferred
            return make_signal(HOLD, 0.0, hold_reason, MappingProxyType(values), stance)

        def explain(action: Action) -> tuple[float, Reason]:
            total = plus_now + minus_now
            spread = 2.0 * abs(plus_now - minus_now) / total if total > 0 else 0.0
            strength = (clip01((a_now - threshold) / threshold) + clip01(spread)) / 2.0
            return 0.5 + 0.5 * strength, (_fired_reason, action is BUY, a_now, threshold)

        return decide(buy=up, sell=down, volume=data.volume.item(-1), values=values,
                      hold_reason=hold_reason, explain=explain, stance=stance)


def _fired_reason(up: bool, adx: float, threshold: float) -> str:
    crossed = "above" if up else "below"
    return f"+DI crossed {crossed} -DI with ADX {adx:.1f} >= {threshold:g}"


def _crossed_no_trend(up: bool, adx: float, threshold: float) -> str:
    crossed = "above" if up else "below"
    return f"+DI crossed {crossed} -DI but ADX {adx:.1f} < {threshold:g}: no trend"


def _no_trend(adx: float, threshold: float) -> str:
    return f"ADX {adx:.1f} < {threshold:g}: no trend"


def _leading(adx: float, threshold: float, plus_leads: bool) -> str:
    leader = "+DI" if plus_leads else "-DI"
    return f"ADX {adx:.1f} >= {threshold:g}, {leader} leads; no DI cross"


def adx_cross(
    plus_prev: float, plus_now: float, minus_prev: float, minus_now: float
) -> tuple[bool, bool]:
    """(up, down): +DI crossing above -DI, or below it (ADX not considered)."""
    up = plus_now > minus_now and plus_prev <= minus_prev
    down = plus_now < minus_now and plus_prev >= minus_prev
    return up, down


def adx_stance(adx: float, plus_di: float, minus_di: float, threshold: float) -> Stance:
    if not adx >= threshold:  # NaN never trends
        return NEUTRAL
    return stance_of(plus_di - minus_di)
