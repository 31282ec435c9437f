"""The quiet-path memo: a forming bar's revision that changes no verdict costs O(1).

Between two closes a forming bar is revised many times (every trade can move its high, low
or close), and almost every revision crosses no level the pattern watches: no pivot is
confirmed, nothing breaks, no zone or level is reached. The verdict of such a revision
depends only on the closed bars and on which side of each watched level the bar's prices
lie. So after a forming evaluation a pattern describes the box of (high, low, close) in
which its answer is the one it just gave, and a later revision of the same bar inside that
box returns the same Signal without any pattern work. A pure function's memo, not state:
the answer is the same with or without it (tests/unit/test_smc_quiet_paths.py).
"""

from __future__ import annotations

import math

from cryptoai_tui.market.series import OHLCV
from cryptoai_tui.strategies.signal import Action, Signal

HIGH, LOW, CLOSE = 0, 1, 2  # the prices of the forming bar a box bounds
_INF = math.inf
_QUIET_ACTIONS = (Action.HOLD, Action.WARMUP)  # volume cannot change these (see _emit)

Bounds = tuple[float, float, float, float, float, float]  # (lo, hi) of high, low, close


class QuietBox:
    """Inclusive bounds on a forming bar's high, low and close, narrowed one rule at a time.

    A strict rule (x > t) is kept as the inclusive one it equals on floats (x >= the next
    float above t), so a check is two chained comparisons per price. A NaN level makes the
    box empty: no comparison with it is known, so nothing may be reused.
    """

    __slots__ = ("lo", "hi")

    def __init__(self) -> None:
        self.lo = [-_INF, -_INF, -_INF]
        self.hi = [_INF, _INF, _INF]

    def above(self, price: int, level: float) -> None:
        """Only bars with `price` > level."""
        self.at_least(price, math.nextafter(level, _INF))

    def at_least(self, price: int, level: float) -> None:
        """Only bars with `price` >= level."""
        if level != level:
            self._empty()
        elif level > self.lo[price]:
            self.lo[price] = level

    def below(self, price: int, level: float) -> None:
        """Only bars with `price` < level."""
        self.at_most(price, math.nextafter(level, -_INF))

    def at_most(self, price: int, level: float) -> None:
        """Only bars with `price` <= level."""
        if level != level:
            self._empty()
        elif level < self.hi[price]:
            self.hi[price] = level

    def _empty(self) -> None:
        self.lo = [_INF, _INF, _INF]
        self.hi = [-_INF, -_INF, -_INF]

    def bounds(self) -> Bounds:
        lo, hi = self.lo, self.hi
        return (lo[0], hi[0], lo[1], hi[1], lo[2], hi[2])


def inside(bounds: Bounds, high: float, low: float, close: float) -> bool:
    """Whether a bar with these prices lies in the box (never, for a NaN price)."""
    return (bounds[0] <= high <= bounds[1] and bounds[2] <= low <= bounds[3]
            and bounds[4] <= close <= bounds[5])


class QuietMemo:
    """The last forming verdict of one strategy instance and the box it holds in.

    Valid for one forming bar (its open time) on one closed history: the strategy's bar
    sequence number, the window length (warm-up reads it) and the last closed bar's open
    time, which together say that no closed bar arrived and none must be caught up on.
    """

    __slots__ = ("seq", "n", "last_time", "forming_time", "bounds", "signal")

    def __init__(self) -> None:
        self.seq: int | None = None  # None: nothing remembered
        self.n = 0
        self.last_time = 0
        self.forming_time = 0
        self.bounds: Bounds = (_INF, -_INF, _INF, -_INF, _INF, -_INF)
        self.signal: Signal | None = None

    def recall(self, data: OHLCV, n: int, seq: int, last_time: int | None) -> Signal | None:
        """The remembered signal if `data`'s forming bar is the same bar, on the same closed
        history, with prices inside the box; else None (evaluate it)."""
        if self.seq != seq or self.n != n or last_time != self.last_time:
            return None
        times = data.open_time
        j = n - 1
        if times[j] != self.forming_time or times[j - 1] != last_time:
            return None
        if not inside(self.bounds, data.high[j], data.low[j], data.close[j]):
            return None
        return self.signal

    def remember(
        self, data: OHLCV, n: int, seq: int, last_time: int | None, box: QuietBox | None,
        signal: Signal,
    ) -> None:
        """Keep `signal` for the forming bar n-1 if the bar lies in `box`, the bars the
        pattern's quiet path answers (so this bar took it, and so would any in the box)."""
        j = n - 1
        if (box is None or last_time is None or j < 1 or signal.action not in _QUIET_ACTIONS
                or int(data.open_time[j - 1]) != last_time):
            self.seq = None
            return
        bounds = box.bounds()
        if not inside(bounds, float(data.high[j]), float(data.low[j]), float(data.close[j])):
            self.seq = None
            return
        self.seq, self.n, self.last_time = seq, n, last_time
        self.forming_time = int(data.open_time[j])
        self.bounds, self.signal = bounds, signal
