"""The SMC quiet-path memo (smc/quiet.py) is invisible: memoised or not, every forming
revision of every real candle gets the same signal (trigger, stance, reason, values).

Each candle is revised many times along a path that wanders beyond its final range and
snaps exactly onto recent highs and lows (the levels the patterns watch), so revisions
cross pivots, breaks, zones and liquidity levels from both sides and sit on them exactly.
"""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from cryptoai_tui.market import Candle
from cryptoai_tui.market.series import CandleSeries
from cryptoai_tui.strategies import Signal, parse_strategy_spec
from cryptoai_tui.strategies.base import Strategy
from cryptoai_tui.strategies.smc.incremental import IncrementalStrategy
from cryptoai_tui.strategies.smc.quiet import CLOSE, HIGH, LOW, QuietBox, inside
from cryptoai_tui.strategies.smc.structure import PivotTracker
from tests.conftest import load_candles

SPECS = (
    "bos;choch;order_block;fvg;liquidity_sweep",
    "bos:break_on=wick;choch:break_on=wick;order_block:break_on=wick;"
    "fvg:mode=formation;liquidity_sweep:confirm_bar=true",
    "bos:left=2,right=3;order_block:left=2,right=3,expiry=20;fvg:middle_candle=false,"
    "min_size_atr=0;liquidity_sweep:left=2,right=3,tolerance_atr=0.5,stance_bars=5",
)
WINDOW = 300
CANDLES = 700
REVISIONS = 14


def revisions(candle: Candle, recent: list[Candle], rng: random.Random) -> list[Candle]:
    """Forming versions of `candle`: a walk from its open, a little beyond its final high
    and low, sometimes onto a recent bar's exact high or low, with growing volume (the
    first zero: a trigger on it is refused); the range mostly widens, sometimes narrows."""
    span = max(candle.high - candle.low, candle.open * 1e-4)
    price, high, low = candle.open, candle.open, candle.open
    steps = []
    for k in range(REVISIONS):
        if rng.random() < 0.3:
            bar = rng.choice(recent)
            price = rng.choice((bar.high, bar.low))
        else:
            price = min(max(price + rng.uniform(-0.4, 0.4) * span, candle.low - 0.2 * span),
                        candle.high + 0.2 * span)
        if rng.random() < 0.25:  # not a feed's path (its range only widens), but a pure
            high, low = max(candle.open, price), min(candle.open, price)  # verdict allows it
        else:
            high, low = max(high, price), min(low, price)
        steps.append(replace(candle, high=high, low=low, close=price,
                             volume=candle.volume * k / REVISIONS, closed=False))
    return steps


def same(left: Signal, right: Signal) -> bool:
    return (left.action, left.trigger, left.stance, left.reason, left.confidence,
            dict(left.values)) == (right.action, right.trigger, right.stance, right.reason,
                                   right.confidence, dict(right.values))


def memo_off(strategies: list[Strategy]) -> list[Strategy]:
    for strategy in strategies:
        strategy.memoise = False  # type: ignore[attr-defined]
    return strategies


@pytest.mark.parametrize("spec", SPECS)
@pytest.mark.parametrize("name", ["BTCUSDT-1h.csv", "ETHUSDT-1h.csv"])
def test_memoised_forming_signals_equal_fresh_evaluations(name: str, spec: str) -> None:
    candles = load_candles(name, limit=CANDLES)
    memoised = parse_strategy_spec(spec)
    trackers: dict[tuple[int, int], PivotTracker] = {}
    for strategy in memoised:
        assert isinstance(strategy, IncrementalStrategy)
        strategy.share(trackers)  # one tracker per series, as the runner does
    reference = memo_off(parse_strategy_spec(spec))
    series = CandleSeries(WINDOW)
    rng = random.Random(name + spec)
    recalled = compared = 0
    previous: dict[int, Signal] = {}
    for i, candle in enumerate(candles):
        recent = candles[max(0, i - 20):i] or [candle]
        for forming in revisions(candle, recent, rng):
            series.set_forming(forming)
            view = series.view(include_forming=True)
            for k, (fast, slow) in enumerate(zip(memoised, reference)):
                got, want = fast.evaluate(view, confirmed=False), slow.evaluate(view, confirmed=False)
                assert same(got, want), (fast.name, i, forming, got, want)
                recalled += got is previous.get(k)
                previous[k] = got
                compared += 1
        series.append(candle)
        view = series.view()
        for fast, slow in zip(memoised, reference):
            assert same(fast.evaluate(view, confirmed=True), slow.evaluate(view, confirmed=True))
        previous.clear()
    assert compared == CANDLES * REVISIONS * len(memoised)
    assert recalled > compared // 4  # the memo did answer: the comparison above means something


def test_a_box_keeps_strict_and_inclusive_bounds_exactly() -> None:
    box = QuietBox()
    box.above(HIGH, 10.0)
    box.at_most(HIGH, 12.0)
    box.below(LOW, 9.0)
    box.at_least(CLOSE, 9.5)
    bounds = box.bounds()
    assert not inside(bounds, 10.0, 8.0, 9.5)  # high must be strictly above 10
    assert inside(bounds, 10.000000000000002, 8.0, 9.5)
    assert inside(bounds, 12.0, 8.999999999999998, 9.5)
    assert not inside(bounds, 12.0, 9.0, 9.5)  # low must be strictly below 9
    assert not inside(bounds, 11.0, 8.0, 9.499999999999998)
    assert not inside(bounds, float("nan"), 8.0, 9.5)


def test_a_nan_level_empties_the_box() -> None:
    box = QuietBox()
    box.at_most(CLOSE, float("nan"))
    assert not inside(box.bounds(), 1.0, 1.0, 1.0)
