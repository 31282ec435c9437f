"""RSI: BUY when RSI leaves oversold, SELL when it leaves overbought (strategies.md §2.2).

Stance (mean reversion, as the trigger): bullish while RSI is below `lower` (oversold, a
bounce is due), bearish while above `upper`, neutral between.
"""

from __future__ import annotations

import math
from collections import deque
from types import MappingProxyType
from typing import Any, Callable, ClassVar, Mapping

from cryptoai_tui.market.series import OHLCV
from cryptoai_tui.strategies.classic.base import CLOSED, FROM_WINDOW, TIE, StreamedStrategy, decide
from cryptoai_tui.strategies.indicators import confidence, rsi
from cryptoai_tui.strategies.streaming import RsiState
from cryptoai_tui.strategies.signal import (
    BEARISH,
    BULLISH,
    BUY,
    HOLD,
    NEUTRAL,
    Action,
    Reason,
    Signal,
    Stance,
    make_signal,
)

MODES = ("cross", "level")

_TIE = TIE * 100.0  # these readings live on a 0-100 scale


class RsiStrategy(StreamedStrategy[float]):
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

    def reset(self) -> None:
        super().reset()
        # Read once here, not from the params mapping on every update.
        self._bounds = (self.params["lower"], self.params["upper"])
        self._level = self.params["mode"] == "level"

    def _new_state(self) -> _RsiTrack:
        return _RsiTrack(self.params["period"], self.params["episode"])

    def _window(self, data: OHLCV) -> tuple[float, float]:
        series = rsi(data.close, self.params["period"])
        return float(series[-2]), float(series[-1])

    def _tied(self, prev: float, now: float, data: OHLCV) -> bool:
        lower, upper = self._bounds
        return (abs(now - lower) <= _TIE or abs(now - upper) <= _TIE
                or abs(prev - lower) <= _TIE or abs(prev - upper) <= _TIE)

    def _decide(self, data: OHLCV, prev: float, now: float, step: int) -> Signal:
        lower, upper = self._bounds
        # Decision: from the two readings and the bounds alone.
        buy, sell = rsi_trigger(prev, now, lower, upper, level=self._level)
        stance = rsi_stance(now, lower, upper)
        if not (buy or sell):  # most bars: no closure, no volume read, the reason deferred
            return make_signal(HOLD, 0.0, (_hold_reason, now, lower, upper),
                               MappingProxyType({"rsi": now}), stance)
        return self._fire(data, buy, sell, now, step, stance)

    def _fire(self, data: OHLCV, buy: bool, sell: bool, now: float, step: int,
              stance: Stance) -> Signal:
        """A rule fired (rare): the shared rules, and the episode's extreme for confidence.

        The extreme reads the RSI of the bars before this one, the closed bars' values the
        state keeps (the window's own when re-read on a tie)."""
        p = self.params
        lower, upper = self._bounds
        volume = data.volume.item(-1)
        if step != FROM_WINDOW:
            track = self._state
            assert isinstance(track, _RsiTrack)  # the state _new_state made
            before = track.recent(step == CLOSED)
        else:  # the state stands in for no window here: read the window's own RSI
            before = rsi(data.close, p["period"])[:-1].tolist()

        def explain(action: Action) -> tuple[float, Reason]:
            verb_mode = p["mode"] == "cross"
            if action is BUY:
                low = self._extreme(before, now, lower, below=True)
                return confidence(lower - low, lower), (_fired_reason, True, verb_mode, lower, low)
            high = self._extreme(before, now, upper, below=False)
            return (confidence(high - upper, 100.0 - upper),
                    (_fired_reason, False, verb_mode, upper, high))

        return decide(buy=buy, sell=sell, volume=volume, values={"rsi": now},
                      hold_reason="", explain=explain, stance=stance)

    def _extreme(self, before: list[float], now: float, bound: float, *, below: bool) -> float:
        """The RSI extreme of the episode that just ended (cross) or of this bar (level).

        The episode is the run of bars beyond `bound` right before this one, at most
        `episode` bars long, so an old dip does not inflate today's confidence.
        """
        if self.params["mode"] == "level":
            return now
        extreme = bound
        for value in reversed(before[-self.params["episode"]:]):
            inside = value <= bound if below else value >= bound
            if not inside or math.isnan(value):
                break
            extreme = min(extreme, value) if below else max(extreme, value)
        return extreme


class _RsiTrack:
    """RSI stream state plus the last `episode` closed values (the episode's extreme)."""

    __slots__ = ("_rsi", "_recent")

    def __init__(self, period: int, episode: int) -> None:
        self._rsi = RsiState(period)
        self._recent: deque[float] = deque(maxlen=episode + 1)

    def exact_for(self, window: int) -> bool:
        return self._rsi.exact_for(window)

    def update_prices(self, high: float, low: float, close: float) -> float:
        value = self._rsi.update_prices(high, low, close)
        self._recent.append(value)
        return value

    def peek_prices(self, high: float, low: float, close: float) -> float:
        return self._rsi.peek_prices(high, low, close)

    CLOSE_ONLY = RsiState.CLOSE_ONLY

    def peeker(self) -> Callable[..., Any]:
        return self._rsi.peeker()

    def recent(self, confirmed: bool) -> list[float]:
        """RSI of the closed bars before the bar judged, oldest first (at most `episode`
        of them, fewer while the state has seen fewer)."""
        values = list(self._recent)
        if confirmed:
            values = values[:-1]  # the newest closed bar is the one judged
        return values


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
        return BULLISH
    if now > upper:
        return BEARISH
    return NEUTRAL


def _fired_reason(up: bool, cross: bool, bound: float, extreme: float) -> str:
    if up:
        verb = "crossed above" if cross else "is below"
        return f"RSI {verb} {bound:g} (low {extreme:.1f})"
    verb = "crossed below" if cross else "is above"
    return f"RSI {verb} {bound:g} (high {extreme:.1f})"


def _hold_reason(now: float, lower: float, upper: float) -> str:
    if now < lower:
        return f"RSI {now:.1f}: oversold; BUY when it crosses back above {lower:g}"
    if now > upper:
        return f"RSI {now:.1f}: overbought; SELL when it crosses back below {upper:g}"
    return f"RSI {now:.1f}: between {lower:g} and {upper:g}"
