"""`fvg`: fair value gaps, the price range three candles left untraded (§3.5 c).

A gap between candles a = t-2 and c = t is known at the close of c (the library labels the
middle candle, one bar early). By default the signal is the first later bar that dips into
the gap and closes back on its far side ("retest"); "formation" signals on bar c itself.

Stance (both modes): the side of the newest gap still open (not retested, not closed
through, not expired): price above an open bullish gap is bullish (zones.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Mapping

from cryptoai_tui.market.series import OHLCV
from cryptoai_tui.strategies.indicators import confidence
from cryptoai_tui.strategies.signal import Signal
from cryptoai_tui.strategies.smc.incremental import IncrementalStrategy, WindowAtr
from cryptoai_tui.strategies.smc.parameters import check_atr_period, check_positive
from cryptoai_tui.strategies.smc.quiet import HIGH, LOW, QuietBox
from cryptoai_tui.strategies.smc.structure import Direction
from cryptoai_tui.strategies.smc.zones import Retests, sort_retests, zone_signal
from cryptoai_tui.strategies.wording import price_text

MODES = ("retest", "formation")


@dataclass(frozen=True, slots=True)
class FairValueGap:
    direction: Direction
    top: float
    bottom: float
    created_seq: int  # candle c; the gap is live from the next bar
    confidence: float


class FairValueGapStrategy(IncrementalStrategy):
    name: ClassVar[str] = "fvg"
    title: ClassVar[str] = "Fair value gap"
    description: ClassVar[str] = "Price retests a three-candle gap and holds it"
    defaults: ClassVar[Mapping[str, Any]] = {
        "min_size_atr": 0.1,  # ignore gaps smaller than this many ATRs (0: every gap)
        "middle_candle": True,  # require candle b to move in the gap's direction
        "mode": "retest",
        "expiry": 100,
        "atr_period": 14,
    }

    def validate(self) -> None:
        p = self.params
        check_atr_period(self.name, p)
        check_positive(self.name, p, "expiry")
        if p["min_size_atr"] < 0:
            raise ValueError(f"fvg min_size_atr must be 0 or more, got {p['min_size_atr']:g}.")
        if p["mode"] not in MODES:
            raise ValueError(f"fvg mode must be one of {', '.join(MODES)}, got {p['mode']!r}.")

    @property
    def lookback(self) -> int:
        return self.atr_period + 1

    def _reset_state(self) -> None:
        self.gaps: list[FairValueGap] = []
        self._retests: Retests[FairValueGap] = Retests()

    def _step(self, data: OHLCV, j: int, seq: int, ranges: WindowAtr, commit: bool) -> Signal:
        high, low, close = float(data.high[j]), float(data.low[j]), float(data.close[j])
        # A closed bar comes once: the memo (for a forming bar's many revisions) would only cost.
        sort = sort_retests if commit else self._retests.sort
        hits, live = sort(self.gaps, seq, self.params["expiry"], high, low, close)
        formed = self._gap_formed_at(data, j, seq, ranges)
        if formed is not None:
            live.append(formed)
        if commit:
            self.gaps = live
        if self.params["mode"] == "formation":
            return _signal(
                [formed] if formed else [], [], "formed", "no gap formed on this bar", live
            )
        return _signal(hits, live, "retested and held", "no open fair value gap")

    def _quiet_box(self, data: OHLCV, j: int, seq: int, ranges: WindowAtr) -> QuietBox | None:
        """A bar that touches no gap and forms none with bar j-2 shows the open gaps."""
        box = QuietBox()
        self._retests.quiet_box(self.gaps, seq, self.params["expiry"], box)
        return box if j < 2 or self._no_gap_box(data, j, box) else None

    def _no_gap_box(self, data: OHLCV, j: int, box: QuietBox) -> bool:
        """Narrow `box` to bars j that form no gap as bar j does (False: bar j may form one).

        A bar past bar a's edge still forms none when bar b's body points the other way
        (closed bars: any such bar). Not so a gap under the minimum size: the ATR it is
        measured in reads bar j's own true range, so no price box keeps it too small.
        """
        a, b = j - 2, j - 1
        high_a, low_a = float(data.high[a]), float(data.low[a])
        low = float(data.low[j])
        body = float(data.close[b]) - float(data.open[b])
        middle = self.params["middle_candle"]
        if low > high_a:  # bullish by its edges (tested first, as `_gap_formed_at` does)
            box.above(LOW, high_a)
            return bool(middle and body <= 0)
        box.at_most(LOW, high_a)
        if not float(data.high[j]) < low_a:
            box.at_least(HIGH, low_a)
            return True
        box.below(HIGH, low_a)  # bearish by its edges
        return bool(middle and body >= 0)

    def _gap_formed_at(
        self, data: OHLCV, j: int, seq: int, ranges: WindowAtr
    ) -> FairValueGap | None:
        if j < 2:
            return None
        a, b = j - 2, j - 1
        if float(data.low[j]) > float(data.high[a]):
            direction, bottom, top = Direction.BULLISH, float(data.high[a]), float(data.low[j])
        elif float(data.high[j]) < float(data.low[a]):
            direction, bottom, top = Direction.BEARISH, float(data.high[j]), float(data.low[a])
        else:
            return None
        if self.params["middle_candle"]:
            body = float(data.close[b]) - float(data.open[b])
            if (body <= 0) if direction is Direction.BULLISH else (body >= 0):
                return None
        size = top - bottom
        range_ = ranges.at(j)
        minimum = self.params["min_size_atr"]
        if minimum > 0 and not size >= minimum * range_:  # NaN ATR (too early): no gap
            return None
        return FairValueGap(direction, top, bottom, seq, confidence(size, range_))


def _signal(
    hits: list[FairValueGap],
    live: list[FairValueGap],
    verb: str,
    idle: str,
    stance_zones: list[FairValueGap] | None = None,
) -> Signal:
    return zone_signal(
        hits, live,
        stance_zones=stance_zones,
        mixed="bullish and bearish gaps on one bar; no signal",
        idle=idle,
        waiting=lambda gap: (
            f"open {gap.direction.value} gap {price_text(gap.bottom)}-{price_text(gap.top)}"
        ),
        retested=lambda gap: (
            f"{gap.direction.value} fair value gap {price_text(gap.bottom)}-"
            f"{price_text(gap.top)} {verb}"
        ),
    )
