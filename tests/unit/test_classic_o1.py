"""The classic strategies keep O(1) stream state and still report TA-Lib's full-window values.

On the real candles (tests/data/candles), bar by bar through a 1,000-candle series as the
engine feeds it: every value each classic strategy reports equals TA-Lib's Function API
over the same window to 1e-9 relative, during warm-up, after the window has slid for
thousands of closes, and on a forming candle revised many times before it closes. The
full-window path is taken only on near-ties (counted), never as the rule; and where prices
are flat (exact ties: EMA spread 0, %K = %D) the triggers and stances are the Function
API's exactly.
"""

from __future__ import annotations

import math
import random
from dataclasses import replace
from typing import Callable

import numpy as np
import pytest
import talib

from cryptoai_tui.market import Candle
from cryptoai_tui.market.series import OHLCV, CandleSeries
from cryptoai_tui.strategies import Signal, parse_strategy_spec
from cryptoai_tui.strategies.classic.base import StreamedStrategy
from tests.conftest import load_candles

WINDOW = 1000
CLASSIC = "rsi,ema_cross,bollinger,macd,stochastic,adx"


def reference(name: str, d: OHLCV) -> dict[str, float]:
    """What each strategy reports as values, from TA-Lib over the whole window."""
    h, lo, c = np.array(d.high), np.array(d.low), np.array(d.close)
    if name == "rsi":
        return {"rsi": talib.RSI(c, 14)[-1]}
    if name == "ema_cross":
        return {"fast": talib.EMA(c, 9)[-1], "slow": talib.EMA(c, 21)[-1]}
    if name == "bollinger":
        upper, middle, lower = talib.BBANDS(c, 20, 2.0, 2.0, 0)
        return {"upper": upper[-1], "middle": middle[-1], "lower": lower[-1]}
    if name == "macd":
        line, signal, hist = talib.MACD(c, 12, 26, 9)
        return {"macd": line[-1], "signal": signal[-1], "hist": hist[-1]}
    if name == "stochastic":
        k, d_ = talib.STOCH(h, lo, c, 14, 3, 0, 3, 0)
        return {"k": k[-1], "d": d_[-1]}
    if name == "adx":
        return {
            "adx": talib.ADX(h, lo, c, 14)[-1],
            "plus_di": talib.PLUS_DI(h, lo, c, 14)[-1],
            "minus_di": talib.MINUS_DI(h, lo, c, 14)[-1],
        }
    raise AssertionError(name)


def scale_of(name: str, d: OHLCV) -> float:
    """The indicator's own scale for the relative comparison: 100 for the oscillators, the
    price for price-valued lines (a MACD histogram near 0 is still measured in dollars)."""
    return 100.0 if name in ("rsi", "stochastic", "adx") else float(np.abs(d.close[-50:]).max())


class WindowCounter:
    """Counts the strategies' full-window reads (the near-tie path): a spy on the real method."""

    def __init__(self, strategies: list[StreamedStrategy]) -> None:
        self.calls = 0
        for strategy in strategies:
            strategy._window = self._counting(strategy._window)  # type: ignore[method-assign]

    def _counting(self, read: Callable) -> Callable:
        def counted(data: OHLCV):  # type: ignore[no-untyped-def]
            self.calls += 1
            return read(data)
        return counted


def check(strategies: list[StreamedStrategy], signals: dict[str, Signal], d: OHLCV,
          worst: dict[str, float]) -> int:
    checked = 0
    for strategy in strategies:
        signal = signals[strategy.name]
        if not signal.values:  # warm-up
            continue
        expected = reference(strategy.name, d)
        scale = scale_of(strategy.name, d)
        for key, want in expected.items():
            got = signal.values[key]
            if math.isnan(want):
                assert math.isnan(got), (strategy.name, key)
                continue
            error = abs(got - want) / max(abs(want), scale)
            worst[strategy.name] = max(worst.get(strategy.name, 0.0), error)
            assert error <= 1e-9, (strategy.name, key, got, want, len(d))
            checked += 1
    return checked


@pytest.mark.parametrize("file", ["BTCUSDT-1h.csv", "ETHUSDT-1h.csv"])
def test_every_value_equals_talib_on_the_window_through_warmup_slides_and_forming(file: str) -> None:
    candles = load_candles(file)
    assert len(candles) > 4 * WINDOW  # the window slides for thousands of closes
    strategies = [s for s in parse_strategy_spec(CLASSIC)]
    assert all(isinstance(s, StreamedStrategy) for s in strategies)
    counter = WindowCounter(strategies)  # type: ignore[arg-type]
    series = CandleSeries(WINDOW)
    rng = random.Random(3)
    worst: dict[str, float] = {}
    checked = evaluations = forming_checked = 0
    for i, candle in enumerate(candles):
        if i % 97 == 0 or i < 40:  # a forming candle revised many times before it closes
            for k in range(25):
                close = candle.open + (candle.close - candle.open) * rng.uniform(-1.5, 1.5)
                forming = replace(candle, close=close, high=max(candle.high, close, candle.open),
                                  low=min(candle.low, close, candle.open), closed=False)
                series.set_forming(forming)
                view = series.view(include_forming=True)
                row = {s.name: s.evaluate(view, confirmed=False) for s in strategies}
                evaluations += len(strategies)
                forming_checked += check(strategies, row, view, worst)  # type: ignore[arg-type]
        series.append(candle)
        view = series.view()
        row = {s.name: s.evaluate(view, confirmed=True) for s in strategies}
        evaluations += len(strategies)
        checked += check(strategies, row, view, worst)  # type: ignore[arg-type]
    assert checked > 5 * len(candles) and forming_checked > 10_000
    # The full window is read on near-ties only: a handful of evaluations, not the rule.
    assert counter.calls < evaluations // 200, (counter.calls, evaluations)
    assert set(worst) == {s.name for s in strategies}


def test_warm_up_values_equal_talib_from_the_first_bar() -> None:
    """While the series holds every candle since the first, each value is TA-Lib's on all of them."""
    candles = load_candles("BTCUSDT-1h.csv", limit=120)
    strategies = [s for s in parse_strategy_spec(CLASSIC)]
    series = CandleSeries(WINDOW)
    worst: dict[str, float] = {}
    reported = set()
    for candle in candles:
        series.append(candle)
        view = series.view()
        row = {s.name: s.evaluate(view, confirmed=True) for s in strategies}
        check(strategies, row, view, worst)  # type: ignore[arg-type]
        reported |= {name for name, signal in row.items() if signal.values}
    assert reported == {s.name for s in strategies}


def flat_then_moving(n: int) -> list[Candle]:
    """Candles that sit exactly still, then step: EMA spreads of exactly 0, %K equal to %D."""
    out = []
    price = 100.0
    for i in range(n):
        if i > n // 2 and i % 7 == 0:
            price += 1.0 if (i // 7) % 2 else -0.5
        out.append(Candle(i * 60_000, price, price, price, price, 1.0, i * 60_000 + 59_999, True))
    return out


def test_exact_ties_decide_as_the_function_api_does() -> None:
    """Crosses and stances at exact equality come out as with TA-Lib over the window: a
    fresh strategy judging each window from scratch with the Function API (its `judge`) is
    the reference for the streamed one."""
    candles = flat_then_moving(400)
    streamed = parse_strategy_spec(CLASSIC)
    series = CandleSeries(300)
    for candle in candles:
        series.append(candle)
        view = series.view()
        for strategy in streamed:
            got = strategy.evaluate(view, confirmed=True)
            if len(view) < strategy.lookback:
                continue
            want = parse_strategy_spec(strategy.name)[0].judge(view)  # type: ignore[attr-defined]
            assert (got.action, got.stance, got.reason) == (want.action, want.stance, want.reason), (
                strategy.name, len(view))


def test_a_reading_within_rounding_of_a_boundary_is_re_read_from_the_window() -> None:
    """The near-tie rule itself: a reading 1e-13 from a decision boundary (the size of the
    state's rounding) counts as tied, one clearly on a side does not."""
    candles = load_candles("BTCUSDT-1h.csv", limit=200)
    series = CandleSeries(WINDOW)
    series.extend(candles)
    view = series.view()
    by_name = {s.name: s for s in parse_strategy_spec(CLASSIC)}
    price = float(view.close[-1])
    ema, rsi, stoch = by_name["ema_cross"], by_name["rsi"], by_name["stochastic"]
    assert ema._tied((price, price * (1 + 1e-13)), (price, price * 1.01), view)
    assert not ema._tied((price, price * 1.001), (price, price * 1.01), view)
    assert rsi._tied(50.0, 30.0 + 1e-12, view)
    assert not rsi._tied(50.0, 31.0, view)
    assert stoch._tied((40.0, 40.0 + 1e-12), (45.0, 41.0), view)
    assert not stoch._tied((40.0, 42.0), (45.0, 41.0), view)
