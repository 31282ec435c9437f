"""The vectorised history path gives the live evaluator's signals on every candle.

Reference: `engine.history.evaluate_history` (the live StrategyRunner one candle at a time
through the engine's sliding window) with the same window. "Equal" (vectorised.py's
docstring): triggers, stances and confluence actions identical, confidences to 1e-9
relative, for every candle of every real file in tests/data/candles and of simulator
histories, with default and non-default parameters, windows that slide. The live runner's
time budget is set out of reach: an overrun on a busy machine is a live-loop protection,
not a signal, and the vectorised path has no clock.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pytest

from cryptoai_tui.backtest.vectorised import (
    ACTION_CODE,
    STANCE_CODE,
    HistoryEvaluation,
    evaluate_vectorised,
    ohlcv_of,
)
from cryptoai_tui.engine.evaluator import EngineTiming
from cryptoai_tui.engine.history import evaluate_history
from cryptoai_tui.market.candle import Candle
from cryptoai_tui.sim.market import MarketModel
from cryptoai_tui.snapshot import ConfirmedSignal
from cryptoai_tui.strategies.confluence import confluence
from tests.conftest import CANDLES_DIR, load_candles

NO_BUDGET = EngineTiming(strategy_budget_ms=1e9)
REAL_FILES = sorted(path.name for path in CANDLES_DIR.glob("*.csv"))

# Every strategy with parameters away from its defaults, modes that take other code paths
# (RSI level mode, wick breaks, FVG formation, sweeps confirmed by the next close).
TUNED = (
    "rsi:mode=level,period=7;ema_cross:fast=5,slow=30;bollinger:period=10,nbdev=1;"
    "macd:fast=5,slow=30,signal=4;stochastic:fastk=5,lower=30,upper=70;adx:period=7,threshold=20;"
    "bos:left=2,right=3,break_on=wick;choch:left=3,right=2;order_block:left=3,right=3,expiry=30;"
    "fvg:mode=formation,min_size_atr=0,middle_candle=false;"
    "liquidity_sweep:confirm_bar=true,left=3,right=3,tolerance_atr=0.5,expiry=50,stance_bars=10"
)


def assert_equal(live: Sequence[ConfirmedSignal], fast: HistoryEvaluation) -> None:
    """Every candle: each row's trigger, stance and confidence, and the verdict."""
    assert len(live) == len(fast)
    names = [row.name for row in live[0].rows]
    assert names == [track.name for track in fast.tracks]
    for k, track in enumerate(fast.tracks):
        action = np.array([ACTION_CODE[s.rows[k].signal.action] for s in live], dtype=np.int8)
        stance = np.array([STANCE_CODE[s.rows[k].signal.stance] for s in live], dtype=np.int8)
        confidence = np.array([s.rows[k].signal.confidence for s in live])
        wrong = np.flatnonzero(action != track.action)
        assert not wrong.size, f"{track.name} trigger differs at candles {wrong[:5].tolist()}"
        wrong = np.flatnonzero(stance != track.stance)
        assert not wrong.size, f"{track.name} stance differs at candles {wrong[:5].tolist()}"
        np.testing.assert_allclose(track.confidence, confidence, rtol=1e-9, atol=0, err_msg=track.name)
    verdict = np.array([ACTION_CODE[s.confluence.action] for s in live], dtype=np.int8)
    wrong = np.flatnonzero(verdict != fast.action)
    assert not wrong.size, f"confluence differs at candles {wrong[:5].tolist()}"
    np.testing.assert_allclose(
        fast.confidence, [s.confluence.confidence for s in live], rtol=1e-9, atol=0
    )


def both(spec: str, candles: list[Candle], mode: str, window: int = 1000) -> tuple[
    list[ConfirmedSignal], HistoryEvaluation
]:
    live = evaluate_history(spec, candles, mode=mode, window=window, timing=NO_BUDGET)
    return live, evaluate_vectorised(spec, ohlcv_of(candles), mode=mode, window=window)


@pytest.mark.parametrize("name", REAL_FILES)
def test_all_eleven_equal_the_live_path_on_every_real_candle(name: str) -> None:
    candles = load_candles(name)
    assert len(candles) > 1000  # the window slides
    live, fast = both("all", candles, "majority")
    assert_equal(live, fast)
    # The proof is about a history where things happen, through the vectorised kernels.
    assert sum(track.refined for track in fast.tracks) < len(candles)
    for track in fast.tracks:
        assert np.count_nonzero((track.action == 1) | (track.action == -1)) > 10, track.name
    assert np.count_nonzero(fast.action) > 50


@pytest.mark.parametrize("mode", ["any", "all"])
def test_other_confluence_modes_and_tuned_parameters_equal_the_live_path(mode: str) -> None:
    candles = load_candles("ETHUSDT-1h.csv", limit=2500)
    live, fast = both(TUNED, candles, mode)
    assert_equal(live, fast)


def test_an_at_least_k_rule_equals_confluence_of_the_live_rows() -> None:
    """The runner takes the three named modes; "at least 3" is confluence() on its rows."""
    candles = load_candles("BTCUSDT-1h.csv", limit=2500)
    live, fast = both("all", candles, "any")
    fast3 = evaluate_vectorised("all", ohlcv_of(candles), mode="3")
    verdicts = [confluence({r.name: r.signal for r in s.rows}, "3") for s in live]
    assert np.array_equal(fast3.action, [ACTION_CODE[v.action] for v in verdicts])
    np.testing.assert_allclose(fast3.confidence, [v.confidence for v in verdicts], rtol=1e-9, atol=0)
    assert np.count_nonzero(fast3.action) > 10


def test_simulator_histories_equal_the_live_path() -> None:
    model = MarketModel(seed=11)
    start = 1_700_000_000_000
    for symbol, interval, step in (("SOLUSDT", "15m", 900_000), ("DOGEUSDT", "1h", 3_600_000)):
        candles = model.closed_candles(symbol, interval, start, start + 1600 * step, now_ms=start * 2)
        assert len(candles) > 1500
        live, fast = both("all", candles, "majority")
        assert_equal(live, fast)
        live, fast = both(TUNED, candles, "any")
        assert_equal(live, fast)


def test_long_swings_and_a_short_window_equal_the_live_path() -> None:
    """Pivots 25 bars each side: order blocks searched over ranges longer than the matrix's
    64 bars, and a 500-candle window that the search is clipped to, as live."""
    candles = load_candles("BTCUSDT-1h.csv", limit=3000)
    spec = "order_block:left=25,right=25,expiry=400;bos:left=25,right=25;liquidity_sweep:left=25,right=25"
    live, fast = both(spec, candles, "any", window=500)
    assert_equal(live, fast)
    assert all(track.refined == 0 for track in fast.tracks)


def test_an_indicator_whose_seed_matters_on_the_window_is_decided_by_the_live_code() -> None:
    """EMA 300 on a 600-candle window: the whole-array EMA is a different number from the
    one re-seeded at each window's start, so those bars go through the live strategy."""
    candles = load_candles("BTCUSDT-1h.csv", limit=1400)
    live, fast = both("ema_cross:fast=50,slow=300;rsi", candles, "any", window=600)
    assert_equal(live, fast)
    by_name = {track.name: track for track in fast.tracks}
    assert by_name["ema_cross"].refined == len(candles)
    assert by_name["rsi"].refined == 0


def test_a_knife_edge_bar_is_decided_by_the_live_code() -> None:
    """Flat closes make both EMAs equal to the last digit: the cross rule's boundary.
    Rounding must not decide, so those bars are handed to the live strategy."""
    candles = load_candles("BTCUSDT-1h.csv", limit=900)
    flat = [
        Candle(c.open_time, 100.0, 100.0, 100.0, 100.0, c.volume, c.close_time) if 200 <= i < 700 else c
        for i, c in enumerate(candles)
    ]
    live, fast = both("ema_cross;bollinger;macd", flat, "any")
    assert_equal(live, fast)
    assert all(track.refined > 0 for track in fast.tracks)
