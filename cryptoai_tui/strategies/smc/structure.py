"""Causal swing points and market structure (strategies.md §3.5 a, b).

A pivot at bar p is only *known* at bar p+R, when its right side has closed; nothing here
ever writes a label on an older bar or revises one. `MarketStructure.step` is called once per
closed bar with `commit=True` and may be called for the forming bar with `commit=False`,
which reports what that bar would do without changing the tracker.

Bars are identified by a sequence number that counts closed bars since the owner's last
reset, so a pivot stays addressable while the window slides: its index in the current
window is `j - (seq_j - pivot.seq)`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from cryptoai_tui.market.series import OHLCV
from cryptoai_tui.strategies.signal import Stance


class Direction(Enum):
    BULLISH = "bullish"
    BEARISH = "bearish"


def stance_of(direction: Direction | None) -> Stance:
    """The stance a direction (a trend, a zone's side) gives; no direction is neutral."""
    if direction is Direction.BULLISH:
        return Stance.BULLISH
    if direction is Direction.BEARISH:
        return Stance.BEARISH
    return Stance.NEUTRAL


class PivotKind(Enum):
    HIGH = "high"
    LOW = "low"


class BreakKind(Enum):
    """BOS continues the trend, CHoCH reverses it, INITIAL is the first break (no trend yet)."""

    BOS = "BOS"
    CHOCH = "CHoCH"
    INITIAL = "initial"


@dataclass(frozen=True, slots=True)
class Pivot:
    kind: PivotKind
    level: float
    seq: int  # the pivot bar p
    open_time: int
    confirmed_seq: int  # p + R: the first bar that may use it


@dataclass(frozen=True, slots=True)
class StructureBreak:
    direction: Direction
    kind: BreakKind
    pivot: Pivot
    seq: int  # the breaking bar
    close: float


@dataclass(frozen=True, slots=True)
class StructureState:
    """What the tracker looks like after a bar (or would look like, for a provisional bar)."""

    trend: Direction | None
    high: Pivot | None
    high_broken: bool
    low: Pivot | None
    low_broken: bool
    new_high: Pivot | None
    new_low: Pivot | None
    breaks: tuple[StructureBreak, ...]


def pivots_confirmed_at(
    data: OHLCV, j: int, seq: int, left: int, right: int
) -> tuple[Pivot | None, Pivot | None]:
    """The pivot high and low whose right side completes at window index j (bar p = j-right).

    Strict on the left, non-strict on the right, so a flat top yields exactly one pivot,
    on its first bar.
    """
    p = j - right
    if p - left < 0:
        return None, None
    highs = data.high[p - left : j + 1].tolist()
    lows = data.low[p - left : j + 1].tolist()
    top, bottom = highs[left], lows[left]
    p_seq, p_time = seq - right, int(data.open_time[p])
    high = low = None
    if max(highs[:left]) < top and max(highs[left + 1 :]) <= top:
        high = Pivot(PivotKind.HIGH, top, p_seq, p_time, seq)
    if min(lows[:left]) > bottom and min(lows[left + 1 :]) >= bottom:
        low = Pivot(PivotKind.LOW, bottom, p_seq, p_time, seq)
    return high, low


class MarketStructure:
    """Trend plus the latest confirmed pivot high and low, each breakable once.

    A close beyond the latest pivot high is a bullish break: CHoCH if the trend was bearish,
    BOS if it was already bullish, INITIAL if there was no trend yet. Lows mirror.
    """

    def __init__(self, left: int, right: int, wick_breaks: bool = False) -> None:
        self.left = left
        self.right = right
        self.wick_breaks = wick_breaks
        self.trend: Direction | None = None
        self.high: Pivot | None = None
        self.high_broken = False
        self.low: Pivot | None = None
        self.low_broken = False

    def step(self, data: OHLCV, j: int, seq: int, *, commit: bool) -> StructureState:
        new_high, new_low = pivots_confirmed_at(data, j, seq, self.left, self.right)
        high, high_broken = (new_high, False) if new_high else (self.high, self.high_broken)
        low, low_broken = (new_low, False) if new_low else (self.low, self.low_broken)
        trend = self.trend
        close = float(data.close[j])
        up_probe = float(data.high[j]) if self.wick_breaks else close
        down_probe = float(data.low[j]) if self.wick_breaks else close
        breaks: list[StructureBreak] = []
        if high is not None and not high_broken and up_probe > high.level:
            high_broken = True
            kind = _kind(trend, Direction.BULLISH)
            trend = Direction.BULLISH
            breaks.append(StructureBreak(Direction.BULLISH, kind, high, seq, close))
        if low is not None and not low_broken and down_probe < low.level:
            low_broken = True
            kind = _kind(trend, Direction.BEARISH)
            trend = Direction.BEARISH
            breaks.append(StructureBreak(Direction.BEARISH, kind, low, seq, close))
        if commit:
            self.trend = trend
            self.high, self.high_broken = high, high_broken
            self.low, self.low_broken = low, low_broken
        return StructureState(
            trend, high, high_broken, low, low_broken, new_high, new_low, tuple(breaks)
        )


def _kind(trend: Direction | None, direction: Direction) -> BreakKind:
    if trend is None:
        return BreakKind.INITIAL
    return BreakKind.BOS if trend is direction else BreakKind.CHOCH
