"""The indicator layer against TA-Lib and the spot values of strategies.md §1.8, and the
small pieces of signal maths (crosses, confidence) every strategy relies on."""

from __future__ import annotations

import math

import numpy as np
import pytest
import talib

from cryptoai_tui.market import CandleSeries
from cryptoai_tui.strategies import create_strategy
from cryptoai_tui.strategies import indicators as ind
from tests.conftest import load_candles

ROW = 1000  # strategies.md §1.8: BTCUSDT-1h, row 1000, computed over the file from row 0


@pytest.fixture(scope="module")
def btc() -> dict[str, np.ndarray]:
    candles = load_candles("BTCUSDT-1h.csv")
    return {
        "open_time": np.array([c.open_time for c in candles], dtype=np.int64),
        "high": np.array([c.high for c in candles]),
        "low": np.array([c.low for c in candles]),
        "close": np.array([c.close for c in candles]),
    }


def test_the_spot_row_is_the_one_the_reference_names(btc: dict[str, np.ndarray]) -> None:
    assert btc["open_time"][ROW] == 1610395200000


def test_indicators_match_the_reference_spot_values(btc: dict[str, np.ndarray]) -> None:
    h, lo, c = btc["high"], btc["low"], btc["close"]
    assert ind.rsi(c, 14)[ROW] == pytest.approx(42.012954644340425, abs=1e-9)
    assert ind.ema(c, 9)[ROW] == pytest.approx(33048.536020298336, abs=1e-9)
    assert ind.ema(c, 21)[ROW] == pytest.approx(34293.4759715853, abs=1e-9)
    upper, middle, lower = ind.bollinger(c, 20, 2.0)
    assert (upper[ROW], middle[ROW], lower[ROW]) == pytest.approx(
        (37250.49276018294, 34115.536000000066, 30980.57923981719), rel=1e-9
    )
    line, signal, hist = ind.macd(c, 12, 26, 9)
    assert (line[ROW], signal[ROW], hist[ROW]) == pytest.approx(
        (-1437.9482495558113, -1477.2670044882466, 39.31875493243524), abs=1e-9
    )
    k, d = ind.stochastic(h, lo, c, 14, 3, 3)
    assert (k[ROW], d[ROW]) == pytest.approx((39.093827160493994, 35.931924153395634), abs=1e-9)
    adx, plus_di, minus_di = ind.directional(h, lo, c, 14)
    assert (adx[ROW], plus_di[ROW], minus_di[ROW]) == pytest.approx(
        (52.64739858858098, 12.73470121439653, 31.26933128605432), abs=1e-9
    )
    assert ind.atr(h, lo, c, 14)[ROW] == pytest.approx(1649.08482411569, abs=1e-9)


def test_strategies_show_the_reference_values_for_row_1000() -> None:
    series = CandleSeries(capacity=ROW + 1)
    series.extend(load_candles("BTCUSDT-1h.csv", limit=ROW + 1))
    data = series.view()

    def values(name: str) -> dict[str, float]:
        return dict(create_strategy(name).evaluate(data, confirmed=True).values)

    assert values("rsi")["rsi"] == pytest.approx(42.012954644340425, abs=1e-9)
    ema = values("ema_cross")
    assert (ema["fast"], ema["slow"]) == pytest.approx(
        (33048.536020298336, 34293.4759715853), abs=1e-9
    )
    bands = values("bollinger")
    assert (bands["upper"], bands["middle"], bands["lower"]) == pytest.approx(
        (37250.49276018294, 34115.536000000066, 30980.57923981719), rel=1e-9
    )
    macd = values("macd")
    assert (macd["macd"], macd["signal"], macd["hist"]) == pytest.approx(
        (-1437.9482495558113, -1477.2670044882466, 39.31875493243524), abs=1e-9
    )
    stoch = values("stochastic")
    assert (stoch["k"], stoch["d"]) == pytest.approx(
        (39.093827160493994, 35.931924153395634), abs=1e-9
    )
    adx = values("adx")
    assert (adx["adx"], adx["plus_di"], adx["minus_di"]) == pytest.approx(
        (52.64739858858098, 12.73470121439653, 31.26933128605432), abs=1e-9
    )


def test_a_1000_candle_window_gives_full_history_values(btc: dict[str, np.ndarray]) -> None:
    """Live trading sees only the ring buffer; with 1000 candles its recursive indicators
    have forgotten where history started (strategies.md §1.8)."""
    h, lo, c = btc["high"], btc["low"], btc["close"]
    end = 3000
    w = slice(end - 1000, end)
    for full, windowed in [
        (ind.rsi(c, 14), ind.rsi(c[w], 14)),
        (ind.ema(c, 21), ind.ema(c[w], 21)),
        (ind.macd(c, 12, 26, 9)[2], ind.macd(c[w], 12, 26, 9)[2]),
        (ind.directional(h, lo, c, 14)[0], ind.directional(h[w], lo[w], c[w], 14)[0]),
        (ind.atr(h, lo, c, 14), ind.atr(h[w], lo[w], c[w], 14)),
    ]:
        assert windowed[-1] == pytest.approx(full[end - 1], rel=1e-9)


def test_fixed_window_indicators_need_only_their_tail(btc: dict[str, np.ndarray]) -> None:
    h, lo, c = btc["high"][:1500], btc["low"][:1500], btc["close"][:1500]
    tail = ind.bollinger_bars(20)
    assert tail == 21
    full = ind.bollinger(c, 20, 2.0)
    short = ind.bollinger(c[-tail:], 20, 2.0)
    for f, s in zip(full, short):
        assert np.isnan(s[:-2]).all()
        assert s[-2:] == pytest.approx(f[-2:], rel=1e-9)
    tail = ind.stochastic_bars(14, 3, 3)
    assert tail == 19
    full_k, full_d = ind.stochastic(h, lo, c, 14, 3, 3)
    k, d = ind.stochastic(h[-tail:], lo[-tail:], c[-tail:], 14, 3, 3)
    assert k[-2:] == pytest.approx(full_k[-2:], abs=1e-9)
    assert d[-2:] == pytest.approx(full_d[-2:], abs=1e-9)
    assert np.isnan(k[-3])


def test_every_talib_parameter_is_passed_explicitly(btc: dict[str, np.ndarray]) -> None:
    # TA-Lib's own defaults differ (STOCH 5/3/3, BBANDS 20 only since 0.8): a wrapper that
    # forwarded nothing would match them, ours must not.
    h, lo, c = btc["high"], btc["low"], btc["close"]
    k_default, _ = talib.STOCH(h, lo, c)
    assert not np.allclose(ind.stochastic(h, lo, c, 14, 3, 3)[0][100:], k_default[100:])
    assert not np.allclose(ind.ema(c, 9)[100:], talib.EMA(c)[100:])


def test_first_valid_indices_follow_the_reference_table(btc: dict[str, np.ndarray]) -> None:
    h, lo, c = btc["high"], btc["low"], btc["close"]

    def first(values: np.ndarray) -> int:
        return int(np.argmax(~np.isnan(values)))

    assert first(ind.rsi(c, 14)) == 14
    assert first(ind.ema(c, 21)) == 20
    assert first(ind.bollinger(c, 20, 2.0)[0]) == 19
    assert first(ind.macd(c, 12, 26, 9)[2]) == 33
    assert first(ind.stochastic(h, lo, c, 14, 3, 3)[0]) == 17
    assert first(ind.directional(h, lo, c, 14)[0]) == 27
    assert first(ind.atr(h, lo, c, 14)) == 14


def test_crosses_follow_qtpylib_semantics() -> None:
    assert ind.crossed_above(29.0, 31.0, 30.0, 30.0)
    assert ind.crossed_above(30.0, 31.0, 30.0, 30.0)  # touching counts as "at or below"
    assert not ind.crossed_above(31.0, 32.0, 30.0, 30.0)  # already above: no event
    assert not ind.crossed_above(29.0, 30.0, 30.0, 30.0)  # reaching is not crossing
    assert ind.crossed_below(71.0, 69.0, 70.0, 70.0)
    assert not ind.crossed_above(math.nan, 31.0, 30.0, 30.0)


def test_confidence_runs_from_half_to_one() -> None:
    assert ind.confidence(0.0, 10.0) == 0.5
    assert ind.confidence(5.0, 10.0) == 0.75
    assert ind.confidence(50.0, 10.0) == 1.0
    assert ind.confidence(-3.0, 10.0) == 0.5
    assert ind.confidence(1.0, math.nan) == 0.5  # an ATR still warming up
    assert ind.confidence(math.nan, 10.0) == 0.5
    assert ind.confidence(1.0, 0.0) == 0.5
    assert ind.clip01(math.nan) == 0.0
