"""Confirmed signals over a list of closed candles, exactly as the live engine computes them.

What a backtest's reference path calls: the candles go one at a time through a CandleSeries
of the engine's capacity (recursive indicators depend on where the window starts) and are
evaluated by the same `StrategyRunner` the live engine uses, isolation, budget and
confluence included. No event loop is needed.
"""

from __future__ import annotations

from typing import Iterable

from cryptoai_tui.engine.evaluator import EngineTiming, StrategyRunner
from cryptoai_tui.engine.strategy_choice import StrategyChoice
from cryptoai_tui.market.candle import Candle
from cryptoai_tui.market.series import CandleSeries
from cryptoai_tui.snapshot import ConfirmedSignal
from cryptoai_tui.strategies.signal import ConfluenceMode, Signal


def evaluate_history(
    strategies: StrategyChoice,
    candles: Iterable[Candle],
    *,
    mode: ConfluenceMode | str = ConfluenceMode.MAJORITY,
    window: int = 1000,
    timing: EngineTiming = EngineTiming(),
) -> list[ConfirmedSignal]:
    """The confirmed signal at the close of every candle, oldest first, as the engine publishes it.

    Every strategy is reset first. Candles the series refuses (not newer than the last)
    produce no signal, as live.
    """
    runner = StrategyRunner(strategies, mode, timing=timing)
    series = CandleSeries(capacity=window)
    confirmed: list[ConfirmedSignal] = []
    runner.collector.install()
    try:
        for candle in candles:
            if not series.append(candle):
                continue
            verdict = runner.evaluate(series.view(), confirmed=True, bar_open_time=candle.open_time)
            confirmed.append(ConfirmedSignal(candle.open_time, candle.close, verdict, runner.rows))
    finally:
        runner.collector.remove()
    return confirmed


def history_signals(
    strategies: StrategyChoice, candles: Iterable[Candle], window: int = 1000
) -> list[dict[str, Signal]]:
    """`evaluate_history` reduced to each row's signal by row name, for callers that compare
    strategies' outputs (TA-Lib equality, no-repaint proofs) rather than verdicts."""
    return [
        {row.name: row.signal for row in signal.rows}
        for signal in evaluate_history(strategies, candles, window=window)
    ]
