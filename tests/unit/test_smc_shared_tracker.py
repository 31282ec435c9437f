"""The SMC patterns of one series share one pivot tracker, and a forming update that changes
nothing structural costs no pass over the window, the zones or the levels.

Shared or not, the signals are the same: on real candles, with forming candles revised
many times, a runner's patterns (one tracker) give exactly what patterns with a tracker
each give.
"""

from __future__ import annotations

import random
from dataclasses import replace
from typing import Callable

from cryptoai_tui.engine.evaluator import StrategyRunner
from cryptoai_tui.market.series import CandleSeries
from cryptoai_tui.strategies import parse_strategy_spec
from cryptoai_tui.strategies.smc.incremental import PivotStrategy
from cryptoai_tui.strategies.smc.structure import PivotTracker
from tests.conftest import load_candles

SMC = "bos,choch,order_block,fvg,liquidity_sweep"


def test_a_runner_gives_its_pivot_patterns_one_tracker() -> None:
    runner = StrategyRunner("all")
    trackers = {id(s.pivots) for s in runner.strategies if isinstance(s, PivotStrategy)}
    assert len(trackers) == 1
    tuned = StrategyRunner(parse_strategy_spec("bos;choch:left=3;order_block"))
    by_name = {s.name: s for s in tuned.strategies}
    assert by_name["bos"].pivots is by_name["order_block"].pivots  # type: ignore[attr-defined]
    assert by_name["choch"].pivots is not by_name["bos"].pivots  # type: ignore[attr-defined]


class Counter:
    """Counts calls of a real method (a spy: the method still runs)."""

    def __init__(self) -> None:
        self.calls = 0

    def wrap(self, method: Callable) -> Callable:
        def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
            self.calls += 1
            return method(*args, **kwargs)
        return counted


def test_forming_revisions_that_change_nothing_scan_nothing(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    candles = load_candles("BTCUSDT-1h.csv", limit=1600)
    runner = StrategyRunner(SMC)
    series = CandleSeries(1000)
    for candle in candles[:1500]:
        series.append(candle)
        runner.evaluate(series.view(), confirmed=True, bar_open_time=candle.open_time)
    scans = Counter()
    monkeypatch.setattr(PivotTracker, "_candidates", scans.wrap(PivotTracker._candidates))
    quiet_revisions = 0
    for candle in candles[1500:1600]:
        before = scans.calls
        # revisions inside the previous close's range: most touch no level, zone or pivot
        last = series.last_closed
        assert last is not None
        rows_before = None
        for k in range(20):
            close = last.close + (candle.close - last.close) * k / 40
            forming = replace(candle, high=max(candle.open, close), low=min(candle.open, close),
                              close=close, closed=False)
            series.set_forming(forming)
            runner.evaluate(series.view(include_forming=True), confirmed=False,
                            bar_open_time=candle.open_time)
            rows = {row.name: row.signal for row in runner.rows}
            if rows_before is not None and rows["bos"] is rows_before["bos"]:
                quiet_revisions += 1  # the very same Signal object: nothing was rebuilt
            rows_before = rows
        # the closed bars a pivot test reads were scanned at most once for all the revisions
        assert scans.calls - before <= 1
        series.append(candle)
        runner.evaluate(series.view(), confirmed=True, bar_open_time=candle.open_time)
    assert quiet_revisions > 1000


def test_shared_and_separate_trackers_give_the_same_signals() -> None:
    candles = load_candles("ETHUSDT-1h.csv", limit=1400)
    shared = StrategyRunner(SMC)
    separate = parse_strategy_spec(SMC)
    assert len({id(s.pivots) for s in separate if isinstance(s, PivotStrategy)}) == 4
    series = CandleSeries(1000)
    rng = random.Random(5)
    compared = 0
    for candle in candles:
        for _ in range(3):
            close = candle.open * (1 + rng.uniform(-0.02, 0.02))
            forming = replace(candle, close=close, high=max(candle.high, close),
                              low=min(candle.low, close), closed=False)
            series.set_forming(forming)
            view = series.view(include_forming=True)
            shared.evaluate(view, confirmed=False, bar_open_time=candle.open_time)
            alone = {s.name: s.evaluate(view, confirmed=False) for s in separate}
            assert {row.name: row.signal for row in shared.rows} == alone
            compared += 1
        series.append(candle)
        view = series.view()
        shared.evaluate(view, confirmed=True, bar_open_time=candle.open_time)
        alone = {s.name: s.evaluate(view, confirmed=True) for s in separate}
        assert {row.name: row.signal for row in shared.rows} == alone
    assert compared == 3 * len(candles)
    assert isinstance(separate[0].pivots, PivotTracker)  # type: ignore[attr-defined]
