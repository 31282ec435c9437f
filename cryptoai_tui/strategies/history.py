"""Run strategies over a list of closed candles exactly as the live engine would."""

from __future__ import annotations

from typing import Iterable, Sequence

from cryptoai_tui.market.candle import Candle
from cryptoai_tui.market.series import CandleSeries
from cryptoai_tui.strategies.base import Strategy
from cryptoai_tui.strategies.signal import Signal


def run_history(
    strategies: Sequence[Strategy], candles: Iterable[Candle], window: int = 1000
) -> list[dict[str, Signal]]:
    """The confirmed signal of every strategy at the close of every candle, oldest first.

    Candles go one at a time through a CandleSeries of the same capacity the live engine
    uses, so each signal is computed from the same window live trading would have seen
    (recursive indicators depend on where the window starts). Every strategy is reset
    first. Candles the series refuses (not newer than the last) produce no row.
    """
    for strategy in strategies:
        strategy.reset()
    series = CandleSeries(capacity=window)
    rows: list[dict[str, Signal]] = []
    for candle in candles:
        if not series.append(candle):
            continue
        view = series.view()
        rows.append({s.name: s.evaluate(view, confirmed=True) for s in strategies})
    return rows
