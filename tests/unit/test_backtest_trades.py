"""The trade model and every summary figure against examples worked by hand.

Each expected number below is written as the arithmetic a person does on paper from the
model in backtest/engine.py's docstring (enter at the next open, fees on each side's
traded value, slippage against us, close at the last close at the end), not copied from
a run.
"""

from __future__ import annotations

import io
import math
import statistics

import numpy as np
import pytest

from cryptoai_tui.backtest.engine import TradeModel, simulate, trade_return
from cryptoai_tui.backtest.report import (
    summarise,
    summary_json,
    summary_text,
    write_equity_csv,
    write_trades_csv,
)

DAY = 86_400_000


def arrays(opens: list[float], closes: list[float]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    times = np.arange(len(opens), dtype=np.int64) * DAY + 1_700_000_000_000
    return times, np.array(opens, dtype=np.float64), np.array(closes, dtype=np.float64)


def test_long_only_with_fees_example() -> None:
    # BUY at 0 -> long at open[1] = 10; SELL at 2 -> out at open[3] = 12;
    # BUY at 3 -> long at open[4] = 12; still open at the end -> out at close[5] = 15.
    times, opens, closes = arrays([10, 10, 11, 12, 12, 14], [10, 11, 12, 12, 13, 15])
    action = np.array([1, 0, -1, 1, 0, 0], dtype=np.int8)
    run = simulate(times, opens, closes, action, 0, TradeModel("long", fee_bps=10))
    f = 0.001
    units1 = (1 - f) / 10  # 0.0999 units for the whole equity, the fee taken from them
    cash1 = units1 * 12 * (1 - f)  # sold at 12, fee on the sale
    units2 = cash1 * (1 - f) / 12
    cash2 = units2 * 15 * (1 - f)
    expected_equity = [1.0, units1 * 11, units1 * 12, cash1, units2 * 13, cash2]
    np.testing.assert_allclose(run.equity, expected_equity, rtol=1e-12)
    assert run.position.tolist() == [0, 1, 1, 0, 1, 1]
    first, second = run.trades
    assert (first.side, first.entry_price, first.exit_price, first.open_at_end) == ("long", 10, 12, False)
    assert (first.entry_time, first.exit_time) == (int(times[1]), int(times[3]))
    assert first.return_ == pytest.approx((1 - f) ** 2 * 12 / 10 - 1, rel=1e-12)
    assert (second.entry_price, second.exit_price, second.open_at_end) == (12, 15, True)
    assert second.return_ == pytest.approx((1 - f) ** 2 * 15 / 12 - 1, rel=1e-12)

    summary = summarise(run, DAY)
    assert summary.trades == 2
    assert summary.win_rate == 1.0
    assert summary.total_return == pytest.approx(cash2 - 1, rel=1e-12)
    # The only fall from a peak: 1.1988 (units1 * 12) to cash1 = 1.1988 * 0.999.
    assert summary.max_drawdown == pytest.approx(f, rel=1e-9)
    assert summary.exposure == pytest.approx(4 / 6)
    assert summary.buy_and_hold_return == pytest.approx(15 / 10 - 1)
    assert summary.profit_factor is None  # no losing trade
    assert summary.annualised_return == pytest.approx(cash2 ** (365 / 5) - 1, rel=1e-9)
    returns = [b / a - 1 for a, b in zip(expected_equity, expected_equity[1:])]
    assert summary.sharpe == pytest.approx(
        statistics.mean(returns) / statistics.stdev(returns) * math.sqrt(365), rel=1e-9
    )
    assert (summary.first_open_time, summary.last_open_time) == (int(times[0]), int(times[5]))


def test_long_short_with_slippage_and_a_loss_example() -> None:
    # BUY at 0: long at 100 * 1.01 = 101. SELL at 1: sell at 110 * 0.99 = 108.9, and short
    # there. BUY at 3: buy back at 90 * 1.01 = 90.9 and go long; the end sells at 90 * 0.99.
    times, opens, closes = arrays([100, 100, 110, 99, 90], [100, 105, 100, 95, 90])
    action = np.array([1, -1, 0, 1, 0], dtype=np.int8)
    run = simulate(times, opens, closes, action, 0, TradeModel("long-short", fee_bps=0, slippage_bps=100))
    long1, short, long2 = run.trades
    assert [t.side for t in run.trades] == ["long", "short", "long"]
    assert long1.return_ == pytest.approx(108.9 / 101 - 1, rel=1e-12)
    assert short.entry_price == pytest.approx(108.9) and short.exit_price == pytest.approx(90.9)
    assert short.return_ == pytest.approx(1 - 90.9 / 108.9, rel=1e-12)
    assert long2.return_ == pytest.approx(89.1 / 90.9 - 1, rel=1e-12)
    assert long2.open_at_end
    e1 = 108.9 / 101
    e2 = e1 * (2 - 90.9 / 108.9)
    e3 = e2 * 89.1 / 90.9
    units_short = e1 / 108.9
    expected = [1.0, (1 / 101) * 105, e1 + units_short * (108.9 - 100), e1 + units_short * (108.9 - 95), e3]
    np.testing.assert_allclose(run.equity, expected, rtol=1e-12)
    assert run.position.tolist() == [0, 1, -1, -1, 1]
    summary = summarise(run, DAY)
    gains = (e1 - 1) + (e2 - e1)
    loss = e2 - e3
    assert summary.profit_factor == pytest.approx(gains / loss, rel=1e-9)
    assert summary.win_rate == pytest.approx(2 / 3)
    assert summary.exposure == pytest.approx(4 / 5)
    # Marked at the closes the curve only rises (1, 1.0396, 1.166, 1.216, 1.2316): the losing
    # trade lost from its entry (e2) but not below the mark before it, so no drawdown.
    assert expected == sorted(expected)
    assert summary.max_drawdown == 0.0


def test_a_short_pays_the_fee_on_both_sides_traded_value() -> None:
    # Short 1.0 of equity at 100 (1/100 units, fee 0.001 * 1.0), buy back at 80 (fee on 0.8).
    assert trade_return("short", 100.0, 80.0, 0.001) == pytest.approx(1 - 0.001 + 0.2 - 0.0008 - 1)
    assert trade_return("long", 100.0, 80.0, 0.001) == pytest.approx(0.999 * 0.8 * 0.999 - 1)


def test_signals_that_would_not_change_the_position_do_nothing() -> None:
    times, opens, closes = arrays([10] * 6, [10] * 6)
    action = np.array([-1, 1, 1, 0, -1, -1], dtype=np.int8)  # SELL while flat, BUY while long
    run = simulate(times, opens, closes, action, 0, TradeModel("long", fee_bps=0))
    assert len(run.trades) == 1
    assert (run.trades[0].entry_index, run.trades[0].exit_index) == (2, 5)
    summary = summarise(run, DAY)
    assert summary.sharpe is None  # flat equity: no variation to divide by
    assert summary.win_rate == 0.0 and summary.total_return == 0.0


def test_no_trades_and_the_outputs() -> None:
    times, opens, closes = arrays([10, 11, 12], [11, 12, 13])
    run = simulate(times, opens, closes, np.zeros(3, dtype=np.int8), 0)
    summary = summarise(run, DAY)
    assert (summary.trades, summary.win_rate, summary.total_return, summary.exposure) == (0, None, 0.0, 0.0)
    assert '"win_rate": null' in summary_json(summary)
    assert "win rate       n/a" in summary_text(summary)
    out = io.StringIO()
    assert write_equity_csv(out, run) == 3
    lines = out.getvalue().splitlines()
    assert lines[0] == "open_time,close,equity,buy_and_hold,position"
    assert lines[-1].endswith(",13.0,1.0,1.1818181818181819,0")
    trades = io.StringIO()
    assert write_trades_csv(trades, run) == 0
    assert trades.getvalue().strip() == "side,entry_open_time,entry_price,exit_open_time,exit_price,return,open_at_end"
