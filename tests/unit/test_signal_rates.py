"""On real markets the default session signals, and not all the time (issue 10 §2): with all
11 strategies over the BTC and ETH 1h files, MAJORITY fires between once per 5 and once per
100 candles and ALL at least once per 1,000. The same counting `benchmarks/signal_rates.py`
prints."""

from __future__ import annotations

from typing import Callable

import pytest

from cryptoai_tui.strategies import Action, Signal
from cryptoai_tui.strategies.rates import default_rules, signal_rates
from cryptoai_tui.strategies.signal import ConfluenceMode, ConfluenceRule

from tests.conftest import RealHistory

FILES = ("BTCUSDT-1h.csv", "ETHUSDT-1h.csv")


@pytest.fixture(scope="module", params=FILES)
def rows(request: pytest.FixtureRequest, real_history: Callable[[str], RealHistory]) -> list[dict[str, Signal]]:
    """The session's one history run of the file (tests/conftest.py): the engine's path
    (engine/history.history_signals, window 1000), shared with the real-candle tests."""
    return real_history(request.param)[1]


def test_majority_and_all_fire_within_the_bands_on_real_candles(rows: list[dict[str, Signal]]) -> None:
    assert len(rows) > 5000
    rates = signal_rates(rows, default_rules(11))
    majority, every = rates["majority"], rates["all"]
    assert 1 / 100 <= majority.per_candle <= 1 / 5, majority
    assert every.per_candle >= 1 / 1000, every
    assert majority.buys and majority.sells and every.buys and every.sells
    # Every rule fires only where ANY does; MAJORITY of 11 is "at least 6"; a larger count
    # never fires more often.
    assert rates["any"].signals >= max(majority.signals, every.signals)
    assert rates["6"] == type(majority)("6", majority.candles, majority.buys, majority.sells)
    counts = [rates[str(k)].signals for k in range(2, 12)]
    assert counts == sorted(counts, reverse=True)


def test_every_confirmed_signal_names_its_trigger_and_enough_confirmations(
    rows: list[dict[str, Signal]],
) -> None:
    from cryptoai_tui.strategies import confluence

    fired = 0
    for row in rows:
        result = confluence(row, ConfluenceMode.MAJORITY)
        if result.action is Action.HOLD:
            assert result.agree == () and result.reason
            continue
        fired += 1
        assert result.triggered_by and all(row[n].action is result.action for n in result.triggered_by)
        assert len(result.triggered_by) + len(result.confirmed_by) >= result.needed == 6
        assert 0.0 < result.confidence <= 1.0
    assert fired > 0


def test_every_strategy_leans_both_ways_on_real_candles(rows: list[dict[str, Signal]]) -> None:
    """A stance that never leaves neutral would be dead weight in MAJORITY and ALL."""
    for name in rows[-1]:
        seen = {row[name].stance.value for row in rows}
        assert {"bullish", "bearish"} <= seen, name


def test_bollinger_reasons_say_where_the_close_is(rows: list[dict[str, Signal]]) -> None:
    outside = 0
    for row in rows:
        signal = row["bollinger"]
        if signal.action is not Action.HOLD or "pct_b" not in signal.values:
            continue
        pct_b = signal.values["pct_b"]
        if pct_b > 1.0 or pct_b < 0.0:
            outside += 1
            assert "no breakout" not in signal.reason and "still" in signal.reason
        else:
            assert signal.reason.startswith("close inside the bands")
    assert outside > 0


def test_a_count_larger_than_the_strategies_chosen_is_refused() -> None:
    with pytest.raises(ValueError, match="choose more strategies or a count of at most 11"):
        ConfluenceRule.parse("12").check(11)
