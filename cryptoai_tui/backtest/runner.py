"""One backtest from candles to figures: the function the command, the screen and every sweep
worker call, so a sweep's row and a plain `backtest` with the same parameters are the same
computation."""

from __future__ import annotations

from dataclasses import dataclass

from cryptoai_tui.backtest.engine import BacktestRun, TradeModel, simulate
from cryptoai_tui.backtest.report import Summary, summarise
from cryptoai_tui.backtest.vectorised import HistoryEvaluation, evaluate_vectorised
from cryptoai_tui.engine.strategy_choice import StrategyChoice, resolve_strategies
from cryptoai_tui.market.series import OHLCV


@dataclass(frozen=True, slots=True)
class BacktestResult:
    evaluation: HistoryEvaluation
    run: BacktestRun
    summary: Summary


class TooFewCandles(ValueError):
    """The history is shorter than the strategies' warm-up plus one candle to trade on."""


def candles_needed(strategies: StrategyChoice) -> int:
    """Warm-up of the slowest strategy, plus one candle: a signal needs a next open to fill."""
    return max(strategy.lookback for strategy in resolve_strategies(strategies)) + 1


def run_backtest(
    data: OHLCV,
    strategies: StrategyChoice,
    mode: str,
    model: TradeModel,
    interval_ms: int,
    *,
    window: int = 1000,
) -> BacktestResult:
    """Evaluate, trade, summarise. Raises TooFewCandles (a sentence with the count needed)
    and ValueError for bad strategies or modes (the registry's sentences)."""
    need = candles_needed(strategies)
    have = len(data)
    if have < need:
        raise TooFewCandles(
            f"The span has {have} candles but the chosen strategies need at least {need} "
            f"({need - 1} to warm up and one to trade on); start earlier or choose shorter periods."
        )
    evaluation = evaluate_vectorised(strategies, data, mode=mode, window=window)
    run = simulate(data.open_time, data.open, data.close, evaluation.action, evaluation.warmup, model)
    return BacktestResult(evaluation, run, summarise(run, interval_ms))
