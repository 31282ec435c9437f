"""No repainting for stances and confluence either: the stance and trigger every strategy
gave a bar, and the verdict of every confluence rule on it, are the same in every later run
over a longer history (prefix invariance over real candles), and provisional looks at
forming candles never change them."""

from __future__ import annotations

import random
from dataclasses import replace
from typing import Callable

import pytest

from cryptoai_tui.market import Candle, CandleSeries
from cryptoai_tui.strategies import Signal, confluence, parse_strategy_spec
from cryptoai_tui.strategies.rates import default_rules
from cryptoai_tui.strategies.signal import ConfluenceResult

# The one place this test names the history path (it may move to engine/).
from cryptoai_tui.engine.history import history_signals as run_history
from tests.conftest import RealHistory, load_candles

BARS = 1600
RULES = default_rules(11)


@pytest.fixture(scope="module", params=["BTCUSDT-1h.csv", "ETHUSDT-1h.csv"])
def file(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def candles(file: str) -> list[Candle]:
    return load_candles(file, limit=BARS)


@pytest.fixture(scope="module")
def full(file: str, real_history: Callable[[str], RealHistory]) -> list[dict[str, Signal]]:
    """The first BARS rows of the session's run over the whole file (tests/conftest.py,
    window 1000): the "full run" each prefix is compared with is longer still."""
    return real_history(file)[1][:BARS]


def readings(row: dict[str, Signal]) -> dict[str, tuple[str, str]]:
    return {name: (s.action.value, s.stance.value) for name, s in row.items()}


def verdicts(row: dict[str, Signal]) -> list[ConfluenceResult]:
    return [confluence(row, rule) for rule in RULES]


def test_stances_triggers_and_verdicts_of_a_prefix_equal_the_full_run(
    candles: list[Candle], full: list[dict[str, Signal]]
) -> None:
    for n in (80, 377, 999, 1000, 1001, 1333):
        prefix = run_history(parse_strategy_spec("all"), candles[:n], window=1000)
        assert [readings(r) for r in prefix] == [readings(r) for r in full[:n]], n
        assert [verdicts(r) for r in prefix[-300:]] == [verdicts(r) for r in full[max(0, n - 300) : n]], n
    # The comparison covered stances on both sides and verdicts that fired, not only HOLDs.
    stances = {s.stance.value for row in full for s in row.values()}
    assert stances == {"bullish", "bearish", "neutral"}
    assert sum(v.action.value != "HOLD" for row in full for v in verdicts(row)) > 100


def test_provisional_looks_never_change_a_confirmed_stance(
    candles: list[Candle], full: list[dict[str, Signal]]
) -> None:
    rng = random.Random(11)
    strategies = parse_strategy_spec("all")
    series = CandleSeries(capacity=1000)
    confirmed: list[dict[str, Signal]] = []
    moved = 0
    for candle in candles[:1200]:
        mid = candle.open * (1 + rng.uniform(-0.04, 0.04))
        forming = replace(
            candle, high=max(mid, candle.open) * 1.01, low=min(mid, candle.open) * 0.99,
            close=mid, closed=False,
        )
        series.set_forming(forming)
        preview = {s.name: s.evaluate(series.view(include_forming=True), confirmed=False)
                   for s in strategies}
        series.append(candle)
        row = {s.name: s.evaluate(series.view(), confirmed=True) for s in strategies}
        moved += readings(preview) != readings(row)
        confirmed.append(row)
    assert [readings(r) for r in confirmed] == [readings(r) for r in full[:1200]]
    assert [verdicts(r) for r in confirmed[-200:]] == [verdicts(r) for r in full[1000:1200]]
    assert moved > 0  # made-up forming prices did move provisional stances
