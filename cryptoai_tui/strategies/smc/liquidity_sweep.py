"""`liquidity_sweep`: price runs the stops beyond a swing and is rejected (§3.5 e).

Stops rest beyond confirmed swing highs and lows, more of them where several swings line up
("equal highs", a pool). A bar whose wick pierces such a level and whose close comes back
inside is a sweep: SELL above highs, BUY below lows. A close beyond the level is a break,
not a sweep, and uses the level up. Each level is swept at most once.

Stance: the side of the last sweep signalled (a sweep of lows is bullish: the sell stops
are gone and price was rejected upward), for at most `stance_bars` bars and only while no
close goes back beyond the sweeping wick (for a bullish sweep, a close below the sweep
bar's low: the rejection failed). An opposite sweep replaces it. Without a recent valid
sweep the stance is neutral: a level merely resting somewhere says nothing about direction.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any, ClassVar, Mapping, Sequence

from cryptoai_tui.market.series import OHLCV
from cryptoai_tui.strategies.indicators import clip01
from cryptoai_tui.strategies.signal import Action, Signal, Stance
from cryptoai_tui.strategies.smc.incremental import PivotStrategy, WindowAtr
from cryptoai_tui.strategies.smc.parameters import (
    check_pivot_params,
    check_positive,
    pivot_lookback,
)
from cryptoai_tui.strategies.smc.quiet import CLOSE, HIGH, LOW, QuietBox
from cryptoai_tui.strategies.smc.structure import Pivot, PivotKind
from cryptoai_tui.strategies.wording import price_text

_INF = float("inf")
POOL_BONUS = 0.1  # extra confidence when two or more swings share the level


@dataclass(frozen=True, slots=True)
class LiquidityLevel:
    kind: PivotKind  # HIGH: buy-side liquidity above equal highs; LOW: sell-side below
    level: float
    pivots: int  # swings pooled at this level
    created_seq: int  # confirmation bar of the newest pivot in the pool


@dataclass(frozen=True, slots=True)
class Sweep:
    level: LiquidityLevel
    seq: int
    confidence: float
    extreme: float  # the sweeping wick's end: high above highs, low below lows


@dataclass(frozen=True, slots=True)
class Bias:
    """The stance a traded sweep leaves behind (see the module docstring)."""

    stance: Stance
    extreme: float
    seq: int  # the bar the sweep traded on


class LiquiditySweepStrategy(PivotStrategy):
    name: ClassVar[str] = "liquidity_sweep"
    title: ClassVar[str] = "Liquidity sweep"
    description: ClassVar[str] = "A wick takes the stops beyond a swing, the close rejects it"
    defaults: ClassVar[Mapping[str, Any]] = {
        "left": 5,
        "right": 5,
        "tolerance_atr": 0.1,  # swings this close (in ATRs) form one pool
        "confirm_bar": False,  # wait for the next close to stay inside before signalling
        "expiry": 200,
        "atr_period": 14,
        "stance_bars": 24,  # bars a traded sweep keeps its side as the stance
    }

    def validate(self) -> None:
        p = self.params
        check_pivot_params(self.name, p)
        check_positive(self.name, p, "expiry")
        check_positive(self.name, p, "stance_bars")
        if p["tolerance_atr"] < 0:
            raise ValueError(
                f"liquidity_sweep tolerance_atr must be 0 or more, got {p['tolerance_atr']:g}."
            )

    @property
    def lookback(self) -> int:
        return pivot_lookback(self.params)

    def _reset_state(self) -> None:
        self.levels: list[LiquidityLevel] = []
        self.pending: list[Sweep] = []  # swept last bar, awaiting the confirmation close
        self.bias: Bias | None = None
        self._reach = _Reach()

    def _step(self, data: OHLCV, j: int, seq: int, ranges: WindowAtr, commit: bool) -> Signal:
        p = self.params
        o, h = float(data.open[j]), float(data.high[j])
        lo, c = float(data.low[j]), float(data.close[j])
        live: list[LiquidityLevel] = []
        swept: list[Sweep] = []
        expiry = p["expiry"]
        if commit:  # a closed bar comes once: the memo (for forming revisions) would only cost
            levels: Sequence[LiquidityLevel] = self.levels
        else:
            levels, min_high, max_low = self._unexpired(seq)
            if h <= min_high and lo >= max_low:
                live = list(levels)  # the bar reaches no level: none swept, none broken
                levels = ()
        for level in levels:
            if seq - level.created_seq > expiry:
                continue
            above = level.kind is PivotKind.HIGH
            if (h > level.level) if above else (lo < level.level):
                if (c < level.level) if above else (c > level.level):
                    confidence = self._confidence(level, o, h, lo, c, j, ranges)
                    swept.append(Sweep(level, seq, confidence, h if above else lo))
                continue  # swept or broken: the stops are gone either way
            live.append(level)
        if p["confirm_bar"]:
            fired = [s for s in self.pending if _still_inside(s.level, c)]
            verb = "swept last bar, confirmed by this close"
        else:
            fired, verb = swept, "swept"
        # A level confirmed now lies beyond this bar's range, so it cannot be swept yet.
        for pivot in self.pivots.pivots_at(data, j, seq):
            if pivot is not None:
                live = self._pool(live, pivot, seq, ranges.at(j) * p["tolerance_atr"])
        bias = self._bias_after(fired, seq, c)
        if commit:
            self.levels = live
            self.pending = swept
            self.bias = bias
        stance = bias.stance if bias is not None else Stance.NEUTRAL
        if swept and not fired and p["confirm_bar"]:
            price = swept[0].level.level
            return Signal.hold(
                f"swept {price_text(price)}; waiting for the next close to confirm",
                {"level": price},
                stance,
            )
        return _signal(fired, live, verb, stance)

    def _quiet_box(self, data: OHLCV, j: int, seq: int, ranges: WindowAtr) -> QuietBox:
        """A bar that reaches no level, confirms no pivot and fires no pending sweep keeps
        the levels and gets the HOLD they give, with the stance its close leaves."""
        box = QuietBox()
        _, min_high, max_low = self._unexpired(seq)
        box.at_most(HIGH, min_high)
        box.at_least(LOW, max_low)
        top, bottom = self.pivots.candidates_at(data, j)
        if top is not None:
            box.above(HIGH, top)
        if bottom is not None:
            box.below(LOW, bottom)
        if self.params["confirm_bar"]:
            for sweep in self.pending:  # a close back inside would confirm it
                if sweep.level.kind is PivotKind.HIGH:
                    box.at_least(CLOSE, sweep.level.level)
                else:
                    box.at_most(CLOSE, sweep.level.level)
        self._bias_box(seq, float(data.close[j]), box)
        return box

    def _bias_box(self, seq: int, close: float, box: QuietBox) -> None:
        """Keep the close on the side of the stance's failure test it is on now."""
        bias = self.bias
        if bias is None or seq - bias.seq >= self.params["stance_bars"]:
            return
        extreme = bias.extreme
        if bias.stance is Stance.BULLISH:  # failed: close < extreme
            (box.below if close < extreme else box.at_least)(CLOSE, extreme)
        else:  # failed: close > extreme
            (box.above if close > extreme else box.at_most)(CLOSE, extreme)

    def _unexpired(self, seq: int) -> tuple[list[LiquidityLevel], float, float]:
        """The levels bar `seq` can still sweep, the lowest high level and the highest low
        level (see `_Reach`)."""
        return self._reach.of(self.levels, seq, self.params["expiry"])

    def _bias_after(self, fired: list[Sweep], seq: int, close: float) -> Bias | None:
        """The stance left after this bar: a new one-sided sweep, else the old one while valid."""
        kinds = {sweep.level.kind for sweep in fired}
        if len(kinds) == 1:
            best = max(fired, key=lambda sweep: sweep.confidence)
            bullish = best.level.kind is PivotKind.LOW
            return Bias(Stance.BULLISH if bullish else Stance.BEARISH, best.extreme, seq)
        if len(kinds) > 1:
            return None  # both sides swept on one bar: no side left standing
        bias = self.bias
        if bias is None or seq - bias.seq >= self.params["stance_bars"]:
            return None
        failed = close < bias.extreme if bias.stance is Stance.BULLISH else close > bias.extreme
        return None if failed else bias

    def _pool(
        self, levels: list[LiquidityLevel], pivot: Pivot, seq: int, tolerance: float
    ) -> list[LiquidityLevel]:
        """Add a confirmed pivot as a level, or merge it into the nearest level within tolerance.

        A pool's level is its most extreme member: the stops rest beyond all of them.
        """
        nearest: int | None = None
        for i, level in enumerate(levels):
            distance = abs(level.level - pivot.level)
            if level.kind is pivot.kind and distance <= tolerance and (
                nearest is None or distance < abs(levels[nearest].level - pivot.level)
            ):
                nearest = i
        if nearest is None:
            return [*levels, LiquidityLevel(pivot.kind, pivot.level, 1, seq)]
        pool = levels[nearest]
        extreme = max if pivot.kind is PivotKind.HIGH else min
        merged = replace(
            pool, level=extreme(pool.level, pivot.level), pivots=pool.pivots + 1, created_seq=seq
        )
        return [*levels[:nearest], *levels[nearest + 1 :], merged]

    @staticmethod
    def _confidence(
        level: LiquidityLevel, o: float, h: float, lo: float, c: float, j: int, ranges: WindowAtr
    ) -> float:
        """0.5 + up to 0.25 for how far the wick ran + up to 0.25 for how long it is."""
        candle = h - lo
        if level.kind is PivotKind.HIGH:
            reach, wick = h - level.level, h - max(o, c)
        else:
            reach, wick = level.level - lo, min(o, c) - lo
        range_ = ranges.at(j)
        run = clip01(reach / (0.5 * range_)) if range_ > 0 else 0.0
        shape = clip01(wick / candle) if candle > 0 else 0.0
        bonus = POOL_BONUS if level.pivots >= 2 else 0.0
        return min(1.0, 0.5 + 0.25 * run + 0.25 * shape + bonus)


class _Reach:
    """A memo of the levels a bar can sweep and the two prices it must cross to reach any.

    Between two closes the levels and the bar's sequence number stay the same while a
    forming bar is revised many times, and most revisions reach no level; keyed on the
    level list's identity (each commit makes a new list) and the sequence number, the
    memo lets such a revision cost two comparisons. A pure function's memo, not state:
    the answer is the same with or without it.
    """

    __slots__ = ("_key", "_value")

    def __init__(self) -> None:
        self._key: tuple[object, int] | None = None
        self._value: tuple[list[LiquidityLevel], float, float] = ([], _INF, -_INF)

    def of(self, levels: list[LiquidityLevel], seq: int, expiry: int
           ) -> tuple[list[LiquidityLevel], float, float]:
        key = self._key
        if key is None or key[0] is not levels or key[1] != seq:
            unexpired = [level for level in levels if seq - level.created_seq <= expiry]
            highs = [level.level for level in unexpired if level.kind is PivotKind.HIGH]
            lows = [level.level for level in unexpired if level.kind is not PivotKind.HIGH]
            self._value = (unexpired, min(highs, default=_INF), max(lows, default=-_INF))
            self._key = (levels, seq)
        return self._value


def _still_inside(level: LiquidityLevel, close: float) -> bool:
    return close < level.level if level.kind is PivotKind.HIGH else close > level.level


def _signal(
    fired: list[Sweep], live: list[LiquidityLevel], verb: str, stance: Stance
) -> Signal:
    kinds = {sweep.level.kind for sweep in fired}
    if len(kinds) > 1:
        return Signal.hold("highs and lows swept on one bar; no signal", stance=stance)
    if not fired:
        values = _nearest_levels(live)
        return Signal(Action.HOLD, 0.0, (_resting, values), MappingProxyType(values), stance)
    best = max(fired, key=lambda sweep: sweep.confidence)
    level = best.level
    above = level.kind is PivotKind.HIGH
    pool = f"{level.pivots} equal {'highs' if above else 'lows'}" if level.pivots > 1 else (
        "swing high" if above else "swing low"
    )
    return Signal(
        Action.SELL if above else Action.BUY,
        best.confidence,
        f"{pool} at {price_text(level.level)} {verb}",
        MappingProxyType({"level": level.level}),
        stance,
    )


def _nearest_levels(live: list[LiquidityLevel]) -> dict[str, float]:
    """The most recent level on each side: where the next sweep would come from."""
    values: dict[str, float] = {}
    for level in reversed(live):
        key = "high" if level.kind is PivotKind.HIGH else "low"
        if key not in values:
            values[key] = level.level
            if len(values) == 2:
                break
    return values


def _resting(values: dict[str, float]) -> str:
    if not values:
        return "no open liquidity level"
    parts = [f"{key}s at {price_text(value)}" for key, value in values.items()]
    return "resting stops: " + ", ".join(parts)
