"""The O(1) indicator states equal TA-Lib's full-window values on real candles.

The reference is `strategies/indicators.py`, called the way the strategies call it: over the
whole input (the history so far, or the series' window), with the forming candle appended on
a forming update. Checked across warm-up (from an empty history and from short ones), runs of
thousands of closes, forming candles revised many times before they close, and a sliding
1,000-candle CandleSeries (what the live engine holds).
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any, Callable, Sequence

import numpy as np
import pytest

from cryptoai_tui.market import Candle, CandleSeries
from cryptoai_tui.market.series import OHLCV
from cryptoai_tui.strategies import indicators as ind
from cryptoai_tui.strategies.streaming import (
    AtrState,
    BollingerState,
    DirectionalState,
    EmaPairState,
    EmaState,
    MacdState,
    RsiState,
    StochasticState,
)
from tests.conftest import load_candles

REL = 1e-9
Arrays = tuple[np.ndarray, np.ndarray, np.ndarray]  # high, low, close
Reference = Callable[[np.ndarray, np.ndarray, np.ndarray], tuple[np.ndarray, ...]]


def _case(state: Callable[[], Any], reference: Reference) -> tuple[Callable[[], Any], Reference]:
    return state, reference


# (id, state factory, reference over (high, low, close) -> one array per output), defaults
# first, then custom parameters.
CASES: dict[str, tuple[Callable[[], Any], Reference]] = {
    "rsi-14": _case(lambda: RsiState(14), lambda h, l, c: (ind.rsi(c, 14),)),
    "rsi-7": _case(lambda: RsiState(7), lambda h, l, c: (ind.rsi(c, 7),)),
    "rsi-21": _case(lambda: RsiState(21), lambda h, l, c: (ind.rsi(c, 21),)),
    "ema-9-21": _case(lambda: EmaPairState(9, 21),
                      lambda h, l, c: (ind.ema(c, 9), ind.ema(c, 21))),
    "ema-5-50": _case(lambda: EmaPairState(5, 50),
                      lambda h, l, c: (ind.ema(c, 5), ind.ema(c, 50))),
    "macd-12-26-9": _case(lambda: MacdState(12, 26, 9), lambda h, l, c: ind.macd(c, 12, 26, 9)),
    "macd-5-35-5": _case(lambda: MacdState(5, 35, 5), lambda h, l, c: ind.macd(c, 5, 35, 5)),
    "bollinger-20-2": _case(lambda: BollingerState(20, 2.0),
                            lambda h, l, c: ind.bollinger(c, 20, 2.0)),
    "bollinger-10-1.5": _case(lambda: BollingerState(10, 1.5),
                              lambda h, l, c: ind.bollinger(c, 10, 1.5)),
    "stoch-14-3-3": _case(lambda: StochasticState(14, 3, 3),
                          lambda h, l, c: ind.stochastic(h, l, c, 14, 3, 3)),
    "stoch-5-2-4": _case(lambda: StochasticState(5, 2, 4),
                         lambda h, l, c: ind.stochastic(h, l, c, 5, 2, 4)),
    "adx-14": _case(lambda: DirectionalState(14), lambda h, l, c: ind.directional(h, l, c, 14)),
    "adx-7": _case(lambda: DirectionalState(7), lambda h, l, c: ind.directional(h, l, c, 7)),
    "atr-14": _case(lambda: AtrState(14), lambda h, l, c: (ind.atr(h, l, c, 14),)),
    "atr-10": _case(lambda: AtrState(10), lambda h, l, c: (ind.atr(h, l, c, 10),)),
}
# Only in the unbounded-history checks: too long a memory for an exact 1,000-candle window.
LONG_CASES: dict[str, tuple[Callable[[], Any], Reference]] = {
    "rsi-30": _case(lambda: RsiState(30), lambda h, l, c: (ind.rsi(c, 30),)),
    "ema-50-200": _case(lambda: EmaPairState(50, 200),
                        lambda h, l, c: (ind.ema(c, 50), ind.ema(c, 200))),
}


@pytest.fixture(scope="module")
def btc() -> list[Candle]:
    return load_candles("BTCUSDT-1h.csv")


@pytest.fixture(scope="module")
def eth() -> list[Candle]:
    return load_candles("ETHUSDT-1h.csv")


def _arrays(candles: Sequence[Candle]) -> Arrays:
    return (
        np.array([c.high for c in candles], dtype=np.float64),
        np.array([c.low for c in candles], dtype=np.float64),
        np.array([c.close for c in candles], dtype=np.float64),
    )


def _history(candles: Sequence[Candle]) -> OHLCV:
    series = CandleSeries(capacity=max(1, len(candles)))
    series.extend(list(candles))
    return series.view()


def _outputs(value: Any) -> tuple[float, ...]:
    return tuple(value) if isinstance(value, tuple) else (value,)


def _assert_equal(actual: Any, expected: Sequence[float], where: str) -> None:
    got = _outputs(actual)
    assert len(got) == len(expected), where
    for a, e in zip(got, expected):
        if math.isnan(e):
            assert math.isnan(a), f"{where}: {a} where TA-Lib says NaN"
        else:
            assert math.isclose(a, e, rel_tol=REL, abs_tol=1e-12), f"{where}: {a} != {e}"


def _revisions(bar: Candle, count: int, rng: np.random.Generator) -> list[Candle]:
    """A forming candle revised `count` times, ending as the real closed candle.

    Each revision is a plausible tick: the close wanders between the real low and high (and
    a little beyond, so highs and lows move), the range only ever widens.
    """
    span = max(bar.high - bar.low, 1e-9)
    high = low = bar.open
    out = []
    for _ in range(count - 1):
        close = float(rng.uniform(bar.low - 0.1 * span, bar.high + 0.1 * span))
        high, low = max(high, close), min(low, close)
        out.append(replace(bar, high=high, low=low, close=close, closed=False))
    out.append(replace(bar, high=max(high, bar.high), low=min(low, bar.low), closed=False))
    return out


@pytest.mark.parametrize("case", sorted(CASES | LONG_CASES))
@pytest.mark.parametrize("start", [0, 3, 40, 300])
def test_state_equals_talib_across_warmup_and_thousands_of_closes(
    btc: list[Candle], case: str, start: int
) -> None:
    make, reference = (CASES | LONG_CASES)[case]
    candles = btc[:4000]
    full = reference(*_arrays(candles))  # output i is TA-Lib's value over candles[: i + 1]
    state = make()
    _assert_equal(state.warm(_history(candles[:start])) if start else state.value,
                  [out[start - 1] if start else math.nan for out in full], f"{case} warm")
    for i in range(start, len(candles)):
        _assert_equal(state.update(candles[i]), [out[i] for out in full], f"{case} close {i}")
        _assert_equal(state.value, [out[i] for out in full], f"{case} value {i}")
    assert state.ready


@pytest.mark.parametrize("case", sorted(CASES | LONG_CASES))
def test_peek_on_a_forming_candle_revised_many_times_matches_and_commits_nothing(
    eth: list[Candle], case: str
) -> None:
    make, reference = (CASES | LONG_CASES)[case]
    rng = np.random.default_rng(11)
    candles = eth[:2500]
    state = make()
    state.warm(_history(candles[:1]))
    for i in range(1, len(candles)):
        if i % 61 == 0 or i < 40:  # every bar through warm-up, then every 61st
            before = _outputs(state.value)
            h, l, c = _arrays(candles[:i])
            for n, forming in enumerate(_revisions(candles[i], 25, rng)):
                expected = reference(np.append(h, forming.high), np.append(l, forming.low),
                                     np.append(c, forming.close))
                _assert_equal(state.peek(forming), [out[-1] for out in expected],
                              f"{case} bar {i} revision {n}")
            after = _outputs(state.value)
            assert np.array_equal(before, after, equal_nan=True), f"{case}: peek moved the state"
        state.update(candles[i])
    h, l, c = _arrays(candles)
    _assert_equal(state.value, [out[-1] for out in reference(h, l, c)], f"{case} end")


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("file", ["BTCUSDT-1h.csv", "ETHUSDT-1h.csv"])
def test_state_equals_talib_over_a_sliding_1000_candle_series(file: str, case: str) -> None:
    """What the live path does: warm on the series once, then update per accepted close,
    while the strategies' reference keeps reading only the series' 1,000 candles."""
    make, reference = CASES[case]
    candles = load_candles(file)
    rng = np.random.default_rng(7)
    series = CandleSeries(1000)
    series.extend(candles[:1000])
    state = make()
    assert state.exact_for(1000), f"{case} needs {state.exact_window} bars"
    state.warm(series.view())
    for i in range(1000, len(candles)):
        if i % 97 == 0:
            for n, forming in enumerate(_revisions(candles[i], 12, rng)):
                assert series.set_forming(forming)
                view = series.view(include_forming=True)
                expected = reference(view.high, view.low, view.close)
                _assert_equal(state.peek(forming), [out[-1] for out in expected],
                              f"{case} forming {i}.{n}")
        assert series.append(candles[i])
        state.update(candles[i])
        view = series.view()
        assert len(view) == 1000
        expected = reference(view.high, view.low, view.close)
        _assert_equal(state.value, [out[-1] for out in expected], f"{case} close {i}")


def test_a_memory_too_long_for_the_window_is_reported_and_really_differs(
    btc: list[Candle],
) -> None:
    """EMA 300 on a 1,000-candle window: the Function API re-seeds at the window's first bar,
    the state does not, and the two are genuinely different numbers; `exact_for` says so."""
    state = EmaState(300)
    assert not state.exact_for(1000)
    assert state.exact_for(state.exact_window)
    series = CandleSeries(1000)
    series.extend(btc[:1000])
    state.warm(series.view())
    worst = 0.0
    for candle in btc[1000:3000]:
        series.append(candle)
        state.update(candle)
        window_value = float(ind.ema(series.view().close, 300)[-1])
        worst = max(worst, abs(state.value - window_value) / abs(window_value))
    assert worst > 1e-6


def test_defaults_are_exact_on_the_live_window() -> None:
    for state in (RsiState(), EmaPairState(), MacdState(), BollingerState(), StochasticState(),
                  DirectionalState(), AtrState()):
        assert state.exact_for(1000), (type(state).__name__, state.exact_window)
        assert not state.exact_for(state.exact_window - 1)


def test_values_are_nan_until_enough_bars_then_ready(btc: list[Candle]) -> None:
    state = MacdState()
    assert not state.ready and all(math.isnan(x) for x in state.value)
    for i, candle in enumerate(btc[:40]):
        value = state.update(candle)
        assert state.ready == (i >= 33)  # first MACD output at (26 - 1) + (9 - 1)
        assert all(math.isnan(x) for x in value) != state.ready


def test_the_default_cases_are_the_strategies_defaults() -> None:
    """The first case of each indicator uses exactly the parameters the classic strategies
    default to, so the proof above covers what runs when nobody sets a parameter."""
    from cryptoai_tui.strategies.registry import STRATEGIES

    d = {name: dict(STRATEGIES[name].defaults) for name in
         ("rsi", "ema_cross", "macd", "bollinger", "stochastic", "adx")}
    expected = {
        f"rsi-{d['rsi']['period']}",
        f"ema-{d['ema_cross']['fast']}-{d['ema_cross']['slow']}",
        f"macd-{d['macd']['fast']}-{d['macd']['slow']}-{d['macd']['signal']}",
        f"bollinger-{d['bollinger']['period']}-{d['bollinger']['nbdev']:g}",
        f"stoch-{d['stochastic']['fastk']}-{d['stochastic']['slowk']}-{d['stochastic']['slowd']}",
        f"adx-{d['adx']['period']}",
        f"atr-{d['ema_cross']['atr_period']}",
        f"atr-{d['macd']['atr_period']}",
    }
    assert expected <= set(CASES), sorted(expected - set(CASES))
