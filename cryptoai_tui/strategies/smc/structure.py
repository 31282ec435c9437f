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
from cryptoai_tui.strategies.smc.quiet import CLOSE, HIGH, LOW, QuietBox


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


_NO_PIVOTS: tuple[None, None] = (None, None)
_MISSING = object()


class PivotTracker:
    """The pivots each bar confirms, worked out once per closed bar for every pattern.

    A pivot confirmed at bar j has its bar p = j - right; everything its test reads but
    bar j's own high and low lies in closed bars (p-left .. j-1), which never change. So on
    the first call for a bar j the tracker checks those closed bars once and keeps the
    candidate levels (the bar-p high that beats its left side and is not beaten by the
    closed part of its right side, and the low likewise); bar j then confirms a candidate
    with one comparison. A forming bar, however often it is revised, costs that comparison,
    and the four structure patterns sharing one tracker (`share_pivots`) do the scan of
    the closed bars once between them instead of once each.

    Exactly `pivots_confirmed_at`: strict on the left, non-strict on the right.
    """

    __slots__ = ("left", "right", "_key", "_top", "_bottom", "_p_time")

    def __init__(self, left: int, right: int) -> None:
        self.left = left
        self.right = right
        self.clear()

    def clear(self) -> None:
        """Forget the candidates (another market, or a reset)."""
        self._key: object = _MISSING  # (open time of bar j-1, open time of bar p-left)
        self._top: float | None = None
        self._bottom: float | None = None
        self._p_time = 0

    def levels_at(self, data: OHLCV, j: int) -> tuple[float | None, float | None, int]:
        """(high level or None, low level or None, the pivot bar's open time) bar j confirms."""
        left, right = self.left, self.right
        p = j - right
        if p - left < 0:
            return None, None, 0
        top, bottom = self._candidates_for(data, p, j)
        if top is not None and not data.high[j] <= top:
            top = None
        if bottom is not None and not data.low[j] >= bottom:
            bottom = None
        return top, bottom, self._p_time

    def candidates_at(self, data: OHLCV, j: int) -> tuple[float | None, float | None]:
        """The levels bar j confirms as a pivot high and low unless its own high rises above
        the first or its low falls below the second (None: no candidate on that side).

        What a forming bar's quiet-path memo needs: the prices that would change its verdict.
        """
        p = j - self.right
        if p - self.left < 0:
            return None, None
        return self._candidates_for(data, p, j)

    def _candidates_for(self, data: OHLCV, p: int, j: int) -> tuple[float | None, float | None]:
        times = data.open_time
        key = (times[j - 1], times[p - self.left])
        if key != self._key:
            self._candidates(data, p, j)
            self._key = key
        return self._top, self._bottom

    def pivots_at(self, data: OHLCV, j: int, seq: int) -> tuple[Pivot | None, Pivot | None]:
        """`pivots_confirmed_at(data, j, seq, left, right)`, from the candidates."""
        top, bottom, p_time = self.levels_at(data, j)
        if top is None and bottom is None:
            return _NO_PIVOTS
        p_seq = seq - self.right
        high = Pivot(PivotKind.HIGH, top, p_seq, p_time, seq) if top is not None else None
        low = Pivot(PivotKind.LOW, bottom, p_seq, p_time, seq) if bottom is not None else None
        return high, low

    def _candidates(self, data: OHLCV, p: int, j: int) -> None:
        left = self.left
        highs = data.high[p - left : j].tolist()
        lows = data.low[p - left : j].tolist()
        top, bottom = highs[left], lows[left]
        right_highs, right_lows = highs[left + 1 :], lows[left + 1 :]
        self._top = top if max(highs[:left]) < top and (
            not right_highs or max(right_highs) <= top) else None
        self._bottom = bottom if min(lows[:left]) > bottom and (
            not right_lows or min(right_lows) >= bottom) else None
        self._p_time = int(data.open_time[p])


def share_pivots(trackers: dict[tuple[int, int], PivotTracker], left: int, right: int) -> PivotTracker:
    """The tracker for (left, right) in `trackers`, created on first request."""
    tracker = trackers.get((left, right))
    if tracker is None:
        tracker = trackers[(left, right)] = PivotTracker(left, right)
    return tracker


class MarketStructure:
    """Trend plus the latest confirmed pivot high and low, each breakable once.

    A close beyond the latest pivot high is a bullish break: CHoCH if the trend was bearish,
    BOS if it was already bullish, INITIAL if there was no trend yet. Lows mirror.
    """

    def __init__(
        self, left: int, right: int, wick_breaks: bool = False,
        pivots: PivotTracker | None = None,
    ) -> None:
        self.left = left
        self.right = right
        self.wick_breaks = wick_breaks
        self.pivots = pivots if pivots is not None else PivotTracker(left, right)
        self.trend: Direction | None = None
        self.high: Pivot | None = None
        self.high_broken = False
        self.low: Pivot | None = None
        self.low_broken = False
        # The state a bar that changes nothing leaves: rebuilt by a commit that changes it,
        # never by a provisional step (which must leave every attribute as it was).
        self._quiet = StructureState(None, None, False, None, False, None, None, ())

    def step(self, data: OHLCV, j: int, seq: int, *, commit: bool) -> StructureState:
        """The state after bar j; advances the tracker iff `commit`.

        A bar that confirms no pivot and breaks nothing (most bars, and most revisions of
        a forming bar) leaves the state as it was: that case is a few comparisons and
        returns the same StructureState object each time.
        """
        pivots = self.pivots.pivots_at(data, j, seq)
        if pivots is _NO_PIVOTS:
            high, low = self.high, self.low
            if self.wick_breaks:
                up_probe, down_probe = data.high[j], data.low[j]
            else:
                up_probe = down_probe = data.close[j]
            if not ((high is not None and not self.high_broken and up_probe > high.level)
                    or (low is not None and not self.low_broken and down_probe < low.level)):
                return self._quiet
        new_high, new_low = pivots
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
            self._quiet = StructureState(trend, high, high_broken, low, low_broken, None, None, ())
        return StructureState(
            trend, high, high_broken, low, low_broken, new_high, new_low, tuple(breaks)
        )


    def quiet_box(self, data: OHLCV, j: int, box: QuietBox) -> None:
        """Narrow `box` to the forming bars j that confirm no pivot and break nothing: those
        `step` answers with the quiet state, whatever their exact prices."""
        top, bottom = self.pivots.candidates_at(data, j)
        if top is not None:
            box.above(HIGH, top)  # a high above the candidate: the pivot is not confirmed
        if bottom is not None:
            box.below(LOW, bottom)
        up, down = (HIGH, LOW) if self.wick_breaks else (CLOSE, CLOSE)
        if self.high is not None and not self.high_broken:
            box.at_most(up, self.high.level)
        if self.low is not None and not self.low_broken:
            box.at_least(down, self.low.level)


def _kind(trend: Direction | None, direction: Direction) -> BreakKind:
    if trend is None:
        return BreakKind.INITIAL
    return BreakKind.BOS if trend is direction else BreakKind.CHOCH
