"""No repainting, no look-ahead: a confirmed signal, once given, is the one every later run
gives for that bar, however the strategy got there (bar by bar, in one catch-up after a
bootstrap, or between provisional looks at forming candles)."""

from __future__ import annotations

import random
from dataclasses import replace
from typing import Callable

import pytest

from cryptoai_tui.market import Candle, CandleSeries
from cryptoai_tui.engine.history import history_signals
from cryptoai_tui.strategies import Action, Signal, parse_strategy_spec
from tests.conftest import RealHistory, load_candles

BARS = 2000


@pytest.fixture(scope="module")
def candles() -> list[Candle]:
    return load_candles("BTCUSDT-1h.csv", limit=BARS)


@pytest.fixture(scope="module")
def sliding(real_history: Callable[[str], RealHistory]) -> list[dict[str, Signal]]:
    """The backtest's view: the live 1000-candle window sliding over the first 2000 bars,
    taken from the session's run over the whole file (tests/conftest.py), so every prefix
    below is compared with a longer history still."""
    return real_history("BTCUSDT-1h.csv")[1][:BARS]


@pytest.fixture(scope="module")
def growing(candles: list[Candle]) -> list[dict[str, Signal]]:
    """Bar by bar with a window that never drops a candle."""
    return history_signals(parse_strategy_spec("all"), candles, window=BARS)


def traded(rows: list[dict[str, Signal]]) -> int:
    return sum(1 for row in rows for s in row.values() if s.action in (Action.BUY, Action.SELL))


def test_a_shorter_history_gives_the_same_signals_for_the_bars_it_has(
    candles: list[Candle], sliding: list[dict[str, Signal]]
) -> None:
    for n in (60, 151, 333, 700, 999, 1000, 1001, 1234, 1500, 1777, 1999):
        prefix = history_signals(parse_strategy_spec("all"), candles[:n], window=1000)
        assert prefix == sliding[:n], n
    assert traded(sliding) > 500  # the comparison covered real signals, not only HOLDs


def test_one_catch_up_over_a_bootstrap_equals_bar_by_bar(
    candles: list[Candle], growing: list[dict[str, Signal]]
) -> None:
    """The engine bootstraps with a window of closed candles and calls evaluate once."""
    for n in range(61, BARS + 1, 67):  # 30 prefixes
        series = CandleSeries(capacity=BARS)
        series.extend(candles[:n])
        data = series.view()
        at_once = {s.name: s.evaluate(data, confirmed=True) for s in parse_strategy_spec("all")}
        assert at_once == growing[n - 1], n


def test_provisional_looks_never_change_confirmed_signals(
    candles: list[Candle], sliding: list[dict[str, Signal]]
) -> None:
    rng = random.Random(7)
    strategies = parse_strategy_spec("all")
    series = CandleSeries(capacity=1000)
    confirmed: list[dict[str, Signal]] = []
    provisional_differs = 0
    for candle in candles[:1500]:
        for _ in range(2):  # forming updates with made-up prices
            mid = candle.open * (1 + rng.uniform(-0.03, 0.03))
            forming = replace(
                candle, high=max(mid, candle.open) * 1.01, low=min(mid, candle.open) * 0.99,
                close=mid, volume=rng.choice([0.0, candle.volume]), closed=False,
            )
            series.set_forming(forming)
            view = series.view(include_forming=True)
            for s in strategies:
                s.evaluate(view, confirmed=False)
        # The last forming update carries the final prices: it must predict the close.
        series.set_forming(replace(candle, closed=False))
        view = series.view(include_forming=True)
        preview = {s.name: s.evaluate(view, confirmed=False) for s in strategies}
        series.append(candle)
        view = series.view()
        row = {s.name: s.evaluate(view, confirmed=True) for s in strategies}
        provisional_differs += preview != row
        confirmed.append(row)
    assert confirmed == sliding[:1500]
    assert provisional_differs == 0


def test_confirming_a_bar_twice_changes_nothing(candles: list[Candle]) -> None:
    strategies = parse_strategy_spec("all")
    series = CandleSeries(capacity=1000)
    once = history_signals(parse_strategy_spec("all"), candles[:600], window=1000)
    for i, candle in enumerate(candles[:600]):
        series.append(candle)
        view = series.view()
        first = {s.name: s.evaluate(view, confirmed=True) for s in strategies}
        again = {s.name: s.evaluate(view, confirmed=True) for s in strategies}
        assert first == again == once[i], i
