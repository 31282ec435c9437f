"""ADX/DMI: BUY when +DI crosses above -DI in a trending market (ADX at or above 25)."""

from __future__ import annotations

from typing import Any, ClassVar, Mapping

from cryptoai_tui.market.series import OHLCV
from cryptoai_tui.strategies.classic.base import ClassicStrategy, decide
from cryptoai_tui.strategies.indicators import clip01, directional
from cryptoai_tui.strategies.signal import Action, Signal


class AdxStrategy(ClassicStrategy):
    name: ClassVar[str] = "adx"
    title: ClassVar[str] = "ADX directional cross"
    description: ClassVar[str] = "+DI crosses -DI while ADX shows a trend (ADX >= 25)"
    defaults: ClassVar[Mapping[str, Any]] = {"period": 14, "threshold": 25.0, "floor": 20.0}

    def validate(self) -> None:
        p = self.params
        if p["period"] < 2:
            raise ValueError(f"adx period must be at least 2, got {p['period']}.")
        if not 0.0 <= p["floor"] <= p["threshold"] < 100.0:
            raise ValueError(
                f"adx needs 0 <= floor <= threshold < 100, got floor={p['floor']:g}, "
                f"threshold={p['threshold']:g}."
            )

    @property
    def lookback(self) -> int:
        # ADX is seeded at bar 2*period-1; +DI/-DI exist from `period`, well before that.
        return 2 * self.params["period"]

    def judge(self, data: OHLCV) -> Signal:
        p = self.params
        adx, plus_di, minus_di = directional(data.high, data.low, data.close, p["period"])
        a_now = float(adx[-1])
        plus_now, plus_prev = float(plus_di[-1]), float(plus_di[-2])
        minus_now, minus_prev = float(minus_di[-1]), float(minus_di[-2])
        values = {"adx": a_now, "plus_di": plus_now, "minus_di": minus_now}
        up = plus_now > minus_now and plus_prev <= minus_prev
        down = plus_now < minus_now and plus_prev >= minus_prev
        threshold = p["threshold"]
        if a_now < p["floor"]:
            return Signal.hold(f"ADX {a_now:.1f} < {p['floor']:g}: no trend", values)
        if (up or down) and a_now < threshold:
            crossed = "above" if up else "below"
            return Signal.hold(
                f"+DI crossed {crossed} -DI but ADX {a_now:.1f} < {threshold:g}", values
            )

        def explain(action: Action) -> tuple[float, str]:
            total = plus_now + minus_now
            spread = 2.0 * abs(plus_now - minus_now) / total if total > 0 else 0.0
            strength = (clip01((a_now - threshold) / threshold) + clip01(spread)) / 2.0
            crossed = "above" if action is Action.BUY else "below"
            return (
                0.5 + 0.5 * strength,
                f"+DI crossed {crossed} -DI with ADX {a_now:.1f}",
            )

        leader = "+DI" if plus_now > minus_now else "-DI"
        return decide(
            buy=up,
            sell=down,
            volume=float(data.volume[-1]),
            values=values,
            hold_reason=f"ADX {a_now:.1f}, {leader} leads; no DI cross",
            explain=explain,
        )
